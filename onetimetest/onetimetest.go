// Package onetimetest helps test programs that embed a [onetime.Service]:
// it makes a Service on the in-memory store with a clock the test moves,
// so that expiry is tested without sleeping.
//
//	func TestLinkExpires(t *testing.T) {
//		ctx := t.Context()
//		svc, clock := onetimetest.NewService(t, nil)
//		m, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v"), TTL: time.Minute})
//		clock.Advance(time.Minute)
//		_, err := svc.Reveal(ctx, m.SecretKey, "") // errors.Is(err, onetime.ErrNotFound)
//	}
package onetimetest

import (
	"sync"
	"testing"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

// Start returns the instant every [Clock] of NewService and NewClock
// starts at: 2030-01-01 00:00:00 UTC. Being fixed, it makes times in a
// test's output the same on every run; a test that needs another start
// calls [Clock.Set].
func Start() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }

// serverSecret is the fixed server secret of the services NewService
// makes: fine for tests, where nothing needs keeping secret.
var serverSecret = []byte("onetimetest fixed server secret, for tests only")

// NewService returns a Service on a fresh in-memory store, with a fixed
// server secret and the returned Clock as its clock. Both the Service and
// the store are closed when the test ends (by t.Cleanup).
//
// opts may be nil, meaning the defaults. Its Now, if set, is overridden:
// the Service always reads the Clock, and the test moves it. Other options
// are passed on to [onetime.New] as given; options New refuses fail the
// test.
func NewService(t testing.TB, opts *onetime.Options) (*onetime.Service, *Clock) {
	t.Helper()
	clock := NewClock()
	var o onetime.Options
	if opts != nil {
		o = *opts
	}
	o.Now = clock.Now
	store := memory.New()
	svc, err := onetime.New(store, serverSecret, &o)
	if err != nil {
		store.Close()
		t.Fatalf("onetimetest: %v", err)
	}
	t.Cleanup(func() {
		if err := svc.Close(); err != nil {
			t.Errorf("onetimetest: closing the service: %v", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("onetimetest: closing the store: %v", err)
		}
	})
	return svc, clock
}

// A Clock is a clock that moves only when told to. It is safe for
// concurrent use: a Service may read it while the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock set to [Start].
func NewClock() *Clock { return &Clock{now: Start()} }

// Now returns the Clock's time. It is the Service's Options.Now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the Clock forward by d (back, if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set sets the Clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
