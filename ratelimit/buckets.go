package ratelimit

import (
	"container/list"
	"time"

	"golang.org/x/time/rate"
)

// buckets holds a token bucket per client, for a bounded number of
// clients: the least recently used is pushed out first when it is full,
// and a client is forgotten once its bucket is full again (until), which
// loses nothing. Its users hold their own lock around every call.
type buckets struct {
	limit rate.Limit
	burst int
	max   int

	lru *list.List // of *bucket, most recently used at the front
	m   map[string]*list.Element
}

// A bucket is one client's.
type bucket struct {
	key   string
	lim   *rate.Limiter
	until time.Time // when the bucket is full again: then it is forgotten
}

func newBuckets(limit rate.Limit, burst, maxClients int) buckets {
	return buckets{limit: limit, burst: burst, max: maxClients, lru: list.New(), m: make(map[string]*list.Element)}
}

// forget drops the buckets full again at now, least recently used first,
// up to the first that is not.
func (b *buckets) forget(now time.Time) {
	for e := b.lru.Back(); e != nil; e = b.lru.Back() {
		k := e.Value.(*bucket)
		if now.Before(k.until) {
			return
		}
		b.lru.Remove(e)
		delete(b.m, k.key)
	}
}

// peek returns the bucket of key, or nil; it changes nothing.
func (b *buckets) peek(key string) *bucket {
	if e, ok := b.m[key]; ok {
		return e.Value.(*bucket)
	}
	return nil
}

// get returns the bucket of key, moved to the front, making a full one
// (and pushing out the least recently used if there are max) if there is
// none.
func (b *buckets) get(key string) *bucket {
	if e, ok := b.m[key]; ok {
		b.lru.MoveToFront(e)
		return e.Value.(*bucket)
	}
	if b.lru.Len() >= b.max {
		e := b.lru.Back()
		b.lru.Remove(e)
		delete(b.m, e.Value.(*bucket).key)
	}
	k := &bucket{key: key, lim: rate.NewLimiter(b.limit, b.burst)}
	b.m[key] = b.lru.PushFront(k)
	return k
}

func (b *buckets) len() int { return b.lru.Len() }
