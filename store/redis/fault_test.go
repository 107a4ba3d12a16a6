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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/storetest"
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
		s, m := storetest.NewPair("", t0, time.Hour)
		require.NoError(t, st.Create(ctx, s, m))
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
		assert.NoError(t, srv.Start(), "restarting redis-server")
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
					sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0.Add(time.Second), nil)
					if err == nil {
						served.Add(1)
						mu.Lock()
						revealed[s.ID]++
						mu.Unlock()
						assert.Equal(t, s.Sealed, sec.Sealed, "revealed the wrong value")
						break
					}
					if errors.Is(err, onetime.ErrNotFound) {
						break
					}
					mu.Lock()
					outage = append(outage, err)
					mu.Unlock()
					if time.Now().After(deadline) {
						assert.Fail(t, "Reveal still failing long after the restart", "%v", err)
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
		assert.Equal(t, 1, k, "times a secret was revealed")
	}
	t.Logf("%d of %d secrets revealed, %d errors during the outage", len(revealed), n, len(outage))
	if len(outage) > 0 {
		t.Logf("e.g. %v", outage[0])
	}
	for _, err := range outage {
		text := err.Error()
		assert.True(t, strings.HasPrefix(text, "redis: "), "outage error not wrapped by the store: %q", text)
		for _, f := range forbidden {
			require.NotContains(t, text, f, "outage error names a key or id")
		}
	}
	// Every secret is consumed: revealed once, or consumed by a reveal
	// whose answer was lost with the connection. None is left to reveal.
	for _, s := range secrets {
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0.Add(time.Second), nil)
		require.ErrorIs(t, err, onetime.ErrNotFound, "a secret survived all the reveals")
	}
	// And the same Store works afterwards.
	s, m := storetest.NewPair("owner", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m), "Create after the restart")
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	require.NoError(t, err, "Reveal after the restart")
	got, err := st.Receipt(ctx, m.ID, t0)
	require.NoError(t, err, "Receipt after the restart")
	assert.Equal(t, onetime.StateReceived, got.State)
}

// TestCleanErrors: with the server down, every method fails with a
// wrapped client error, "redis: <cause>" with no operation name (the
// Service adds it), that names no key or id and is not ErrNotFound.
func TestCleanErrors(t *testing.T) {
	srv := redistest.Standalone(t)
	if srv.External() {
		t.Skip("needs a server it can stop")
	}
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	st := newStore(t, c)
	s, m := storetest.NewPair("owner", t0, time.Hour)
	srv.Stop()
	errs := map[string]error{"Create": st.Create(ctx, s, m)}
	_, errs["Reveal"] = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("check")}, t0, nil)
	_, errs["Peek"] = st.Peek(ctx, s.ID, t0)
	_, errs["Receipt"] = st.Receipt(ctx, m.ID, t0)
	_, errs["View"] = st.View(ctx, m.ID, t0)
	_, errs["Burn"] = st.Burn(ctx, m.ID, t0, nil)
	_, errs["Recent"] = st.Recent(ctx, "owner", t0, 10)
	for op, err := range errs {
		require.Error(t, err, "%s with the server down", op)
		text := err.Error()
		assert.True(t, strings.HasPrefix(text, "redis: "), "%s: error %q not wrapped by the store", op, text)
		assert.NotContains(t, text, "onetime:", op)
		assert.NotContains(t, strings.ToLower(text), strings.ToLower(op), "%s: the error names the operation", op)
		assert.NotErrorIs(t, err, onetime.ErrNotFound, op)
		for _, f := range []string{string(s.ID), string(m.ID), string(s.ID[8:]), string(m.ID[8:]), st.key(s.ID, kindSecret), st.key(m.ID, kindReceipt), "owner"} {
			assert.NotContains(t, text, f, "%s: error names a key, id or owner", op)
		}
	}
	t.Logf("e.g. %v", errs["Reveal"])
}

// TestTimeoutError: a Reveal whose context runs out while Redis's answer
// is late says only that, "redis: context deadline exceeded", for the
// Service to prefix with "onetime: reveal: ". The store adds no operation
// name.
func TestTimeoutError(t *testing.T) {
	srv := redistest.Shared(t)
	proxy := startDropProxy(t, srv.Addr, 0, 1)
	proxy.withhold() // every script's answer
	// ContextTimeoutEnabled: the client gives up at the context's deadline
	// (by default it waits for its ReadTimeout).
	c := goredis.NewClient(&goredis.Options{Addr: proxy.addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	st := newStore(t, c)
	s, m := storetest.NewPair("", t0, time.Hour)
	require.NoError(t, newStore(t, srv.Client(t)).Create(context.Background(), s, m))

	for name, call := range map[string]func(context.Context) error{
		"Reveal": func(ctx context.Context) error {
			_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
			return err
		},
		"Burn": func(ctx context.Context) error { _, err := st.Burn(ctx, m.ID, t0, nil); return err },
		"View": func(ctx context.Context) error { _, err := st.View(ctx, m.ID, t0); return err },
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := call(ctx)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, name)
		assert.Equal(t, "redis: context deadline exceeded", err.Error(), name)
	}
	// A context already done is answered before any command.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	require.ErrorIs(t, err, context.Canceled)
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
			s, m := storetest.NewPair("owner", t0, time.Hour)
			err := st.Create(ctx, s, m)
			if err == nil {
				// The pair's slot may be this node's: the owner's index
				// then differs, or not; try the other operations too.
				_, err = st.Burn(ctx, m.ID, t0, nil)
			}
			if err == nil {
				t.Skip("every key landed on this node")
			}
			text := err.Error()
			t.Logf("%v", text)
			assert.True(t, strings.HasPrefix(text, "redis: "), "error %q not wrapped", text)
			assert.Contains(t, text, tc.want)
			for _, f := range []string{string(s.ID), string(m.ID), string(s.ID[8:]), string(m.ID[8:]), st.key(s.ID, kindSecret), st.key(m.ID, kindReceipt), st.indexKey("owner")} {
				assert.NotContains(t, text, f, "the error names a key or id")
			}
		})
	}
}
