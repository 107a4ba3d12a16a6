package main

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/redis"
)

// openRedis returns the Redis store on rdb, once Redis answers.
func openRedis(ctx context.Context, rdb goredis.UniversalClient, autoPipeline bool) (onetime.Store, error) {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		return nil, fmt.Errorf("-store redis: Redis does not answer: %w", err)
	}
	return redis.New(rdb, &redis.Options{AutoPipeline: autoPipeline})
}
