package redis

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
)

// TestRestartDuringReveals kills redis-server (SIGKILL) and starts it again
// while goroutines reveal secrets concurrently. The server keeps an
// append-only file fsynced on every write, so what it acknowledged
// survives. No secret may be revealed twice; errors during the outage must
// be clean (wrapped, no key or id in their text); and the same Store, on
// the same client, must work afterwards (its scripts reloaded through the
// NOSCRIPT fallback).
func TestRestartDuringReveals(t *testing.T) {
	srv := redistest.Standalone(t, "--appendonly", "yes", "--appendfsync", "always")
	if srv.External() {
		t.Skip("needs a server it can restart")
	}
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{
		Addr:         srv.Addr,
		MaxRetries:   -1, // let the outage show; the readers retry
		DialTimeout:  200 * time.Millisecond,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
	})
	t.Cleanup(func() { c.Close() })
	st := newStore(t, c)

	const n = 400
	secrets := make([]*onetime.SealedSecret, n)
	var forbidden []string // texts no error may contain
	for i := range secrets {
		s, m := pair("", t0, time.Hour)
		if err := st.Create(ctx, s, m); err != nil {
			t.Fatal(err)
		}
		secrets[i] = s
		forbidden = append(forbidden, string(s.ID), string(s.ID[onetime.SlotLen:]), st.key(s.ID, kindSecret))
	}

	var (
		mu       sync.Mutex
		revealed = map[onetime.ID]int{}
		outage   []error
		served   atomic.Int64
	)
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		for served.Load() < n/4 {
			time.Sleep(time.Millisecond)
		}
		srv.Stop()
		time.Sleep(300 * time.Millisecond) // an outage long enough to be seen
		if err := srv.Start(); err != nil {
			t.Errorf("restarting redis-server: %v", err)
		}
	}()

	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			order := rand.Perm(n)
			for _, i := range order {
				s := secrets[i]
				// A reader retries a failing reveal for a while, as a
				// client would; once the server is back, it gets an answer.
				for deadline := time.Now().Add(15 * time.Second); ; {
					sec, err := st.Reveal(ctx, s.ID, nil, t0.Add(time.Second))
					if err == nil {
						served.Add(1)
						mu.Lock()
						revealed[s.ID]++
						mu.Unlock()
						if string(sec.Sealed) != string(s.Sealed) {
							t.Errorf("revealed the wrong value")
						}
						break
					}
					if errors.Is(err, onetime.ErrNotFound) {
						break
					}
					mu.Lock()
					outage = append(outage, err)
					mu.Unlock()
					if time.Now().After(deadline) {
						t.Errorf("Reveal still failing long after the restart: %v", err)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	<-restarted

	for _, k := range revealed {
		if k > 1 {
			t.Errorf("a secret was revealed %d times", k)
		}
	}
	t.Logf("%d of %d secrets revealed, %d errors during the outage", len(revealed), n, len(outage))
	if len(outage) > 0 {
		t.Logf("e.g. %v", outage[0])
	}
	for _, err := range outage {
		text := err.Error()
		if !strings.HasPrefix(text, "redis: reveal: ") {
			t.Errorf("outage error not wrapped by the store: %q", text)
		}
		for _, f := range forbidden {
			if strings.Contains(text, f) {
				t.Fatalf("outage error %q names a key or id", text)
			}
		}
	}
	// Every secret is consumed: revealed once, or consumed by a reveal
	// whose answer was lost with the connection. None is left to reveal.
	for _, s := range secrets {
		if _, err := st.Reveal(ctx, s.ID, nil, t0.Add(time.Second)); !errors.Is(err, onetime.ErrNotFound) {
			t.Fatalf("a secret survived all the reveals: %v", err)
		}
	}
	// And the same Store works afterwards.
	s, m := pair("owner", t0, time.Hour)
	if err := st.Create(ctx, s, m); err != nil {
		t.Fatalf("Create after the restart: %v", err)
	}
	if _, err := st.Reveal(ctx, s.ID, nil, t0); err != nil {
		t.Fatalf("Reveal after the restart: %v", err)
	}
	if got, err := st.Receipt(ctx, m.ID, t0); err != nil || got.State != onetime.StateReceived {
		t.Fatalf("Receipt after the restart: %v", err)
	}
}

// TestCleanErrors: with the server down, every method fails with a
// wrapped client error that names no key or id.
func TestCleanErrors(t *testing.T) {
	srv := redistest.Standalone(t)
	if srv.External() {
		t.Skip("needs a server it can stop")
	}
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	st := newStore(t, c)
	s, m := pair("owner", t0, time.Hour)
	srv.Stop()
	var errs []error
	errs = append(errs, st.Create(ctx, s, m))
	_, err := st.Reveal(ctx, s.ID, []byte("check"), t0)
	errs = append(errs, err)
	_, err = st.Receipt(ctx, m.ID, t0)
	errs = append(errs, err, st.MarkViewed(ctx, m.ID, t0))
	_, err = st.Burn(ctx, m.ID, t0)
	errs = append(errs, err)
	_, err = st.Recent(ctx, "owner", t0, 10)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("no error with the server down")
		}
		text := err.Error()
		if !strings.HasPrefix(text, "redis: ") || errors.Is(err, onetime.ErrNotFound) {
			t.Errorf("error %q: want a wrapped client error", text)
		}
		for _, f := range []string{string(s.ID), string(m.ID), string(s.ID[8:]), string(m.ID[8:]), st.key(s.ID, kindSecret), st.key(m.ID, kindReceipt), "owner"} {
			if strings.Contains(text, f) {
				t.Errorf("error %q names a key, id or owner", text)
			}
		}
	}
	t.Logf("e.g. %v", errs[1])
}

// TestServerErrors: errors that Redis itself answers (READONLY from a
// replica, MOVED and CROSSSLOT from a Cluster node reached with a
// single-server client) come back wrapped, with no key or id in them.
func TestServerErrors(t *testing.T) {
	ctx := context.Background()
	primary := redistest.Standalone(t)
	if primary.External() {
		t.Skip("needs servers of its own")
	}
	host, port, _ := strings.Cut(primary.Addr, ":")
	replica := redistest.Standalone(t, "--replicaof", host, port)
	node := redistest.Cluster(t).Addrs[0]

	for _, tc := range []struct {
		name, addr, want string
	}{
		{"READONLY", replica.Addr, "READONLY"},
		{"Cluster node", node, ""}, // MOVED or CROSSSLOT, depending on the slots
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := goredis.NewClient(&goredis.Options{Addr: tc.addr, MaxRetries: -1})
			t.Cleanup(func() { c.Close() })
			st := newStore(t, c)
			s, m := pair("owner", t0, time.Hour)
			err := st.Create(ctx, s, m)
			if err == nil {
				// The pair's slot may be this node's: the owner's index
				// then differs, or not; try the other operations too.
				_, err = st.Burn(ctx, m.ID, t0)
			}
			if err == nil {
				t.Skip("every key landed on this node")
			}
			text := err.Error()
			t.Logf("%v", text)
			if !strings.HasPrefix(text, "redis: ") || !strings.Contains(text, tc.want) {
				t.Errorf("error %q: want a wrapped %s error", text, tc.want)
			}
			for _, f := range []string{string(s.ID), string(m.ID), string(s.ID[8:]), string(m.ID[8:]), st.key(s.ID, kindSecret), st.key(m.ID, kindReceipt), st.indexKey("owner")} {
				if strings.Contains(text, f) {
					t.Errorf("error %q names a key or id", text)
				}
			}
		})
	}
}
