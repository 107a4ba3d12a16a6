package redis

import (
	"context"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// maxPending bounds the outcome keys waiting for their DEL. Beyond it
// (Redis unreachable for a while, say) a key is left to its expiry,
// [outcomeTTL].
const maxPending = 8192

// maxDelKeys is the most keys one DEL names on a single server.
const maxDelKeys = 512

// forgetter deletes the outcome keys of Reveal and Burn calls whose reply
// arrived, off the callers' path: a call hands its key over and returns
// at once. One goroutine, started when a key comes in and none is
// running, sends the waiting keys in one command (a multi-key DEL on one
// server; a pipeline of DELs, one per key, on a Cluster), then whatever
// came in meanwhile, and ends when nothing is left. Under load the keys
// of many calls share a DEL, as commits share a sync in a database;
// a lone call's key goes at once, one round trip after its answer.
type forgetter struct {
	mu      sync.Mutex
	keys    []string
	running bool
	closed  bool
	idle    sync.Cond // signalled when running becomes false; L is &mu
}

// forget hands over the outcome key of a call whose reply arrived. After
// Close, or with maxPending keys waiting, the key is left to its expiry.
func (s *Store) forget(key string) {
	f := &s.forgetter
	f.mu.Lock()
	if f.closed || len(f.keys) >= maxPending {
		f.mu.Unlock()
		return
	}
	f.keys = append(f.keys, key)
	start := !f.running
	f.running = true
	f.mu.Unlock()
	if start {
		go s.drain()
	}
}

// drain sends DELs until no key is waiting.
func (s *Store) drain() {
	f := &s.forgetter
	var batch []string
	for {
		f.mu.Lock()
		if len(f.keys) == 0 {
			f.running = false
			f.idle.Broadcast()
			f.mu.Unlock()
			return
		}
		// Swap the buffers: callers append to the old batch's array while
		// this one is sent.
		batch, f.keys = f.keys, batch[:0]
		f.mu.Unlock()
		s.del(batch)
		clear(batch) // drop the strings for the collector
	}
}

// del deletes keys, best effort: a key whose DEL fails expires after
// [outcomeTTL].
func (s *Store) del(keys []string) {
	ctx := context.Background()
	if s.single {
		for len(keys) > 0 {
			n := min(len(keys), maxDelKeys)
			s.c.Del(ctx, keys[:n]...)
			keys = keys[n:]
		}
		return
	}
	// Outcome keys are in their pairs' slots, spread over the shards: one
	// DEL each, which the client groups by shard.
	s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k)
		}
		return nil
	})
}

// settle waits until the outcome keys handed over so far have been sent
// to Redis (and answered), and stops taking new ones when closing.
func (s *Store) settle(closing bool) {
	f := &s.forgetter
	f.mu.Lock()
	defer f.mu.Unlock()
	if closing {
		f.closed = true
	}
	for f.running {
		f.idle.Wait()
	}
}
