package redis

import (
	"context"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// maxPending bounds the outcome keys waiting for their DEL. Beyond it
// (Redis unreachable for a while, say) a key is left to its expiry,
// [outcomeTTL].
const maxPending = 8192

// maxDelKeys is the most keys one DEL names on a single server.
const maxDelKeys = 512

// forgetLinger is how long an answered call's outcome key may wait for
// others to share its DEL. Under load the keys of many calls come in
// while a DEL is on its way and share the next one anyway; a lone caller
// would otherwise cost Redis and the client a DEL, a whole command, for
// every Reveal and Burn: at one caller, a sixth of the client's CPU time
// and a third of Redis's commands per pair (BenchmarkConcurrency).
const forgetLinger = 2 * time.Millisecond

// forgetter deletes the outcome keys of Reveal and Burn calls whose reply
// arrived, off the callers' path: a call hands its key over and returns
// at once. The first key to come in when nothing is waiting starts a
// timer of [forgetLinger]; when it fires, the keys waiting then go in one
// command (a multi-key DEL on one server; a pipeline of DELs, one per key,
// on a Cluster), and whatever came in meanwhile waits for the next timer.
// So the keys of many calls share a DEL, as commits share a sync in a
// database, and a lone call's key goes some milliseconds after its answer.
type forgetter struct {
	mu      sync.Mutex
	keys    []string
	running bool        // a timer is set, or a DEL on its way
	timer   *time.Timer // runs drain
	closed  bool
	urgent  bool      // settle waits: no more lingering
	idle    sync.Cond // signalled when running becomes false; L is &mu
}

// forget hands over the outcome key of a call whose reply arrived. After
// Close, or with maxPending keys waiting, the key is left to its expiry.
func (s *Store) forget(key string) {
	f := &s.forgetter
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || len(f.keys) >= maxPending {
		return
	}
	f.keys = append(f.keys, key)
	if !f.running {
		f.running = true
		f.arm(forgetLinger)
	}
}

// arm sets the timer that runs drain after d. f.mu is held.
func (f *forgetter) arm(d time.Duration) {
	f.timer.Reset(d)
}

// drain sends one DEL for the keys waiting, then sets the timer again if
// more came in meanwhile.
func (s *Store) drain() {
	f := &s.forgetter
	f.mu.Lock()
	batch := f.keys
	f.keys = nil
	f.mu.Unlock()
	if len(batch) > 0 {
		s.del(batch)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.keys) == 0 {
		f.running, f.urgent = false, false
		f.idle.Broadcast()
		return
	}
	linger := forgetLinger
	if f.closed || f.urgent {
		linger = 0
	}
	f.arm(linger)
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

// settle sends the outcome keys handed over so far to Redis at once,
// without waiting for the timer, and waits until they have been answered;
// when closing it also stops taking new ones.
func (s *Store) settle(closing bool) {
	f := &s.forgetter
	f.mu.Lock()
	defer f.mu.Unlock()
	if closing {
		f.closed = true
	}
	if !f.running {
		return
	}
	f.urgent = true
	if f.timer.Stop() {
		f.arm(0) // the timer had not fired: fire it now
	}
	for f.running {
		f.idle.Wait()
	}
}
