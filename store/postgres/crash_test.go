package postgres_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/pgtest"
	"github.com/onetimego/onetime/store/postgres"
	"github.com/onetimego/onetime/store/storetest"
)

// The server crashes (an immediate shutdown: no flush, no checkpoint)
// under a load of shares and reveals, and restarts with crash recovery.
// Every acknowledged share is still there unless its reveal was under way,
// and no acknowledged reveal can be revealed again.
func TestCrashUnderLoad(t *testing.T) {
	srv := pgtest.Start(t, pgtest.Config{Durable: true})
	ctx := context.Background()
	st, err := postgres.New(ctx, srv.Pool(t, "postgres", func(c *pgxpool.Config) { c.MaxConns = 8 }), nil)
	require.NoError(t, err)

	type pair struct {
		s *onetime.SealedSecret
		m *onetime.SealedMetadata
		// reveal: 0 not tried, 1 tried without an answer, 2 acknowledged
		reveal int
	}
	const workers, crashAfter = 8, 400
	var (
		mu       sync.Mutex
		pairs    []*pair
		next     int // pairs[next:] have not been picked for a reveal
		acked    atomic.Int64
		crashing atomic.Bool // no new reveal starts: those under way are cut short
		failures atomic.Int64
		loaded   = make(chan struct{})
		failing  = make(chan struct{})
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	fail := func() {
		if failures.Add(1) == 4*workers {
			close(failing)
		}
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if i%3 != 2 { // two shares, then a reveal of an earlier one
					s, m := storetest.NewPair("", t0, time.Hour)
					err := st.Create(ctx, s, m)
					if err != nil {
						fail()
						continue
					}
					mu.Lock()
					pairs = append(pairs, &pair{s: s, m: m})
					mu.Unlock()
					if acked.Add(1) == crashAfter {
						close(loaded)
					}
					continue
				}
				mu.Lock()
				if next == len(pairs) || crashing.Load() {
					mu.Unlock()
					continue
				}
				p := pairs[next]
				next++
				p.reveal = 1
				mu.Unlock()
				sec, err := st.Reveal(ctx, p.s.ID, onetime.Credentials{}, t0, nil)
				switch {
				case err == nil:
					assert.Equal(t, p.s.Sealed, sec.Sealed, "a reveal returned other bytes")
					mu.Lock()
					p.reveal = 2
					mu.Unlock()
				case errors.Is(err, onetime.ErrNotFound):
					assert.Fail(t, "an acknowledged share, revealed once, was not found")
				default:
					fail()
				}
			}
		}()
	}
	<-loaded
	crashing.Store(true)
	srv.Crash()
	<-failing // the workers have seen the server gone
	close(stop)
	wg.Wait()
	require.NoError(t, srv.Start())

	// A fresh pool and store, as a restarted process would have.
	after, err := postgres.New(ctx, srv.Pool(t, "postgres", nil), nil)
	require.NoError(t, err)
	var kept, gone, inFlight int
	for _, p := range pairs {
		sec, err := after.Reveal(ctx, p.s.ID, onetime.Credentials{}, t0, nil)
		switch p.reveal {
		case 0:
			if assert.NoError(t, err, "an acknowledged share was lost") {
				assert.Equal(t, p.s.Sealed, sec.Sealed)
				kept++
			}
		case 1:
			inFlight++
			if err != nil {
				assert.ErrorIs(t, err, onetime.ErrNotFound)
			}
		case 2:
			assert.ErrorIs(t, err, onetime.ErrNotFound, "an acknowledged reveal revealed again after the crash")
			gone++
		}
	}
	t.Logf("%d acknowledged shares: %d kept and revealed after the crash, %d revealed before it, %d reveals cut short",
		len(pairs), kept, gone, inFlight)
	require.Positive(t, kept)
	require.Positive(t, gone)

	// The first store's pool drops its dead connections and carries on.
	var lastErr error
	for range 2 * workers {
		s, m := storetest.NewPair("", t0, time.Hour)
		if lastErr = st.Create(ctx, s, m); lastErr == nil {
			break
		}
	}
	require.NoError(t, lastErr, "the store never recovered after the restart")
}
