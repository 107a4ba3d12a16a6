package redis_test

import goredis "github.com/redis/go-redis/v9"

type redisClient = goredis.UniversalClient
