package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/redis"
)

// openRedis returns the Redis store on rdb, once Redis answers and its
// persistence cannot bring revealed secrets back after a crash, or the
// operator accepted that risk with -redis-accept-replay.
func openRedis(ctx context.Context, rdb goredis.UniversalClient, c config, log *slog.Logger) (onetime.Store, error) {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		return nil, fmt.Errorf("-store redis: Redis does not answer: %w", err)
	}
	if err := checkPersistence(pctx, rdb, c.acceptReplay, log); err != nil {
		return nil, err
	}
	return redis.New(rdb, &redis.Options{Pipeline: c.autoPipeline})
}

// checkPersistence refuses a Redis that persists by RDB snapshots without
// the append-only file: after a crash it reloads the last snapshot, and
// every secret revealed since then can be revealed again. acceptReplay
// (-redis-accept-replay) turns the refusal into a warning.
func checkPersistence(ctx context.Context, rdb goredis.UniversalClient, acceptReplay bool, log *slog.Logger) error {
	p, err := redis.CheckPersistence(ctx, rdb)
	if err != nil {
		if acceptReplay {
			log.Warn("cannot tell how Redis persists; going on as -redis-accept-replay allows", "err", err.Error())
			return nil
		}
		return fmt.Errorf("-store redis: cannot tell whether Redis persists safely (%w); "+
			"start with -redis-accept-replay to run anyway", err)
	}
	for _, s := range p.Servers {
		log.Info("redis persistence", "server", s.Addr, "setup", s.String())
	}
	risk := p.Risk()
	switch {
	case risk == nil:
		return nil
	case !errors.Is(risk, redis.ErrReplaysReveals):
		return risk
	case acceptReplay:
		log.Warn("Redis may replay revealed secrets after a crash; accepted by -redis-accept-replay", "err", risk.Error())
		return nil
	}
	return fmt.Errorf("-store redis: refusing to start: %w; "+
		"or start with -redis-accept-replay to accept that risk", risk)
}
