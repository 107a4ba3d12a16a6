package webui

import (
	"sync"
	"time"

	"github.com/onetimego/onetime"
)

// flashTTL is how long a generated password waits for the page that shows
// it, and flashMax how many may wait at once.
const (
	flashTTL = time.Minute
	flashMax = 4096
)

// flashes hold each generated password from the post that made it until
// the page its redirect leads to shows it, once: post, redirect, get, so
// that reloading the page makes no second password. They live in this
// process only: behind a load balancer, the redirect must reach the same
// process (sticky sessions), or the creator sees the receipt without the
// password (which the link still opens).
type flashes struct {
	mu sync.Mutex
	m  map[onetime.MetadataKey]flash
}

type flash struct {
	meta  *onetime.Metadata
	until time.Time
}

// put keeps m until flashTTL after now; it reports false when too many
// are waiting.
func (f *flashes) put(m *onetime.Metadata, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = make(map[onetime.MetadataKey]flash)
	}
	for k, v := range f.m {
		if now.After(v.until) {
			clear(v.meta.Value)
			delete(f.m, k)
		}
	}
	if len(f.m) >= flashMax {
		return false
	}
	f.m[m.MetadataKey] = flash{meta: m, until: now.Add(flashTTL)}
	return true
}

// take returns the metadata kept for key and forgets it, or nil.
func (f *flashes) take(key onetime.MetadataKey, now time.Time) *onetime.Metadata {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[key]
	if !ok {
		return nil
	}
	delete(f.m, key)
	if now.After(v.until) {
		clear(v.meta.Value)
		return nil
	}
	return v.meta
}
