package main

import (
	"context"
	"errors"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime"
)

// openRedis returns the Redis store on rdb.
func openRedis(ctx context.Context, rdb goredis.UniversalClient) (onetime.Store, error) {
	return nil, errors.New("-store redis: the Redis store (store/redis) is not available in this build yet")
}
