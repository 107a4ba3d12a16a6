package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/pgtest"
	"github.com/onetimego/onetime/store/postgres"
	"github.com/onetimego/onetime/store/storetest"
)

// replayFor returns a fresh replay in the slot of id, expiring a minute
// after at.
func replayFor(id onetime.ID, at time.Time) *onetime.Replay {
	return &onetime.Replay{ID: onetime.ID(id.Slot() + randomHex(32)), ExpiresAt: at.Add(time.Minute)}
}

// rawID is the stored form of an id, for statements of the tests' own.
func rawID(t *testing.T, id onetime.ID) []byte {
	b, err := hex.DecodeString(string(id))
	require.NoError(t, err)
	return b
}

// Two pools, as two processes would have, race 64 goroutines on each
// secret: a quarter reveal under one shared replay id, a quarter under
// their own, a quarter burn under one shared replay id, a quarter give a
// wrong passphrase under one shared replay id. Exactly one call takes the
// secret, and every holder of its replay id gets the same answer; the
// wrong attempt is counted once, however many repeat it.
func TestTwoPoolsReplayRace(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := context.Background()
	schema := srv.Schema(t)
	var stores [2]*postgres.Store
	for i := range stores {
		pool := srv.Pool(t, "postgres", func(c *pgxpool.Config) { c.MaxConns = 16 })
		st, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
		require.NoError(t, err)
		stores[i] = st
	}
	const racers = 64
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	for round := range rounds {
		s, m := storetest.NewPair("", t0, time.Hour)
		check := make([]byte, 32)
		rand.Read(check)
		s.Check, m.PassphraseRequired = check, true
		require.NoError(t, stores[round%2].Create(ctx, s, m))
		reveal, burn, wrong := replayFor(s.ID, t0), replayFor(m.ID, t0), replayFor(s.ID, t0)

		var mu sync.Mutex
		var sharedReveals, ownReveals, burns, wrongs, wrongMissed int
		var firstBurn *onetime.SealedMetadata
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				st := stores[i%2]
				var (
					sec *onetime.SealedSecret
					rec *onetime.SealedMetadata
					err error
				)
				switch i % 4 {
				case 0:
					sec, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0, reveal)
				case 1:
					sec, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0, replayFor(s.ID, t0))
				case 2:
					rec, err = st.Burn(ctx, m.ID, t0, burn)
				case 3:
					_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, wrong)
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && sec != nil:
					assert.Equal(t, s.Sealed, sec.Sealed, "revealed bytes")
					if i%4 == 0 {
						sharedReveals++
					} else {
						ownReveals++
					}
				case err == nil && rec != nil:
					assert.Equal(t, onetime.StateBurned, rec.State, "Burn's answer")
					if firstBurn == nil {
						firstBurn = rec
					}
					assert.Equal(t, firstBurn, rec, "the holders of one replay id got different receipts")
					burns++
				case errors.Is(err, onetime.ErrWrongPassphrase) && i%4 == 3:
					wrongs++
				case errors.Is(err, onetime.ErrNotFound):
					if i%4 == 3 {
						wrongMissed++
					}
				default:
					assert.Fail(t, "an unexpected answer", "racer %d: %v", i, err)
				}
			}()
		}
		close(start)
		wg.Wait()

		const quarter = racers / 4
		winners := ownReveals
		if sharedReveals > 0 {
			require.Equalf(t, quarter, sharedReveals, "round %d: holders of the shared reveal id that got the secret", round)
			winners++
		}
		if burns > 0 {
			require.Equalf(t, quarter, burns, "round %d: holders of the shared burn id that got the receipt", round)
			winners++
		}
		require.Equalf(t, 1, winners, "round %d: %d shared reveals, %d own reveals and %d burns won", round, sharedReveals, ownReveals, burns)
		// The wrong attempt was counted and recorded before the secret
		// went, or found it gone (not recorded): the same for all.
		require.Truef(t, wrongs == quarter || wrongMissed == quarter,
			"round %d: repeats of one wrong attempt disagree: %d wrong, %d not found", round, wrongs, wrongMissed)

		got, err := stores[0].Receipt(ctx, m.ID, t0)
		require.NoError(t, err)
		want := onetime.StateReceived
		if burns > 0 {
			want = onetime.StateBurned
		}
		assert.Equal(t, want, got.State)
		assert.False(t, got.SecretPresent)
	}
}

// Concurrent repeats of one wrong attempt, over two pools, count it once.
func TestTwoPoolsWrongRepeats(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := context.Background()
	schema := srv.Schema(t)
	var stores [2]*postgres.Store
	for i := range stores {
		pool := srv.Pool(t, "postgres", func(c *pgxpool.Config) { c.MaxConns = 16 })
		st, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
		require.NoError(t, err)
		stores[i] = st
	}
	s, m := storetest.NewPair("", t0, time.Hour)
	s.Check, m.PassphraseRequired, s.MaxAttempts = []byte("right"), true, 100
	require.NoError(t, stores[0].Create(ctx, s, m))
	a := replayFor(s.ID, t0)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := stores[i%2].Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, a)
			assert.ErrorIs(t, err, onetime.ErrWrongPassphrase)
		}()
	}
	close(start)
	wg.Wait()
	info, err := stores[1].Peek(ctx, s.ID, t0)
	require.NoError(t, err)
	assert.Equal(t, 1, info.Attempts, "64 repeats of one wrong attempt")
}

// replayRows counts the rows of the store's replay table.
func replayRows(t *testing.T, srv *pgtest.Server, st *postgres.Store) int {
	t.Helper()
	var n int
	require.NoError(t, srv.Admin(t).QueryRow(context.Background(), `SELECT count(*) FROM `+st.Table("replays")).Scan(&n))
	return n
}

// A replay record is a row until Sweep, at its expiry, deletes it without
// counting it. A call whose secret was not found leaves no row. A record
// holds the sealed bytes as stored, not more.
func TestSweepReclaimsReplays(t *testing.T) {
	st, srv := newStore(t, nil)
	ctx := context.Background()
	s, m := storetest.NewPair("", t0, 24*time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	a := replayFor(s.ID, t0)
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, a)
	require.NoError(t, err)
	_, m2 := storetest.NewPair("", t0, 24*time.Hour)
	_, err = st.Burn(ctx, m2.ID, t0, replayFor(m2.ID, t0))
	require.ErrorIs(t, err, onetime.ErrNotFound)
	s3, m3 := storetest.NewPair("", t0, 24*time.Hour)
	require.NoError(t, st.Create(ctx, s3, m3))
	_, err = st.Burn(ctx, m3.ID, t0, replayFor(m3.ID, t0))
	require.NoError(t, err)
	require.Equal(t, 2, replayRows(t, srv, st), "rows after a reveal, a burn and a burn of nothing")

	var sealed []byte
	require.NoError(t, srv.Admin(t).QueryRow(ctx, `SELECT (secret).sealed FROM `+st.Table("replays")+` WHERE id = $1`,
		rawID(t, a.ID)).Scan(&sealed))
	assert.Equal(t, s.Sealed, sealed, "the record keeps the secret's sealed bytes as stored")

	n, err := st.Sweep(ctx, a.ExpiresAt.Add(-time.Microsecond))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 2, replayRows(t, srv, st), "Sweep before the replays' expiry")
	n, err = st.Sweep(ctx, a.ExpiresAt)
	require.NoError(t, err)
	assert.Zero(t, n, "Sweep counted replay records")
	assert.Zero(t, replayRows(t, srv, st), "Sweep at the replays' expiry")
}

// A database that the previous release created (schema version 1), with
// data in it, is upgraded by New: its secrets are revealed afterwards as
// stored, its counted attempts and its receipts' states are kept, and the
// new calls (replays) work on it. The previous release's reveal function
// stays, for its processes still running during a rolling upgrade.
func TestUpgradeFromVersion1(t *testing.T) {
	ctx := context.Background()
	pool, opts, old := atVersion(t, 1)
	var replays bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, old.Table("replays")).Scan(&replays))
	require.False(t, replays, "version 1 has no replay table")

	// What version 1 wrote: pairs, a wrong attempt, a reveal.
	oldReveal := `SELECT outcome FROM ` + old.Table("reveal") + `($1, $2, $3)`
	var plain []*onetime.SealedSecret
	for range 3 {
		s, m := storetest.NewPair("owner", t0, time.Hour)
		createAsBefore(t, pool, old, s, m)
		plain = append(plain, s)
	}
	locked, lockedM := storetest.NewPair("owner", t0, time.Hour)
	locked.Check, lockedM.PassphraseRequired = []byte("right"), true
	createAsBefore(t, pool, old, locked, lockedM)
	var outcome int
	require.NoError(t, pool.QueryRow(ctx, oldReveal, rawID(t, locked.ID), []byte("wrong"), t0).Scan(&outcome))
	require.Equal(t, 2, outcome, "a wrong attempt at version 1")
	gone, goneM := storetest.NewPair("owner", t0, time.Hour)
	createAsBefore(t, pool, old, gone, goneM)
	require.NoError(t, pool.QueryRow(ctx, oldReveal, rawID(t, gone.ID), nil, t0).Scan(&outcome))
	require.Equal(t, 1, outcome, "a reveal at version 1")
	require.NoError(t, old.Close())

	st, err := postgres.New(ctx, pool, opts)
	require.NoError(t, err, "the upgrade")
	require.Equal(t, postgres.SchemaVersion, schemaVersion(t, pool, st))

	sec, err := st.Reveal(ctx, plain[0].ID, onetime.Credentials{}, t0, nil)
	require.NoError(t, err)
	assert.Equal(t, plain[0].Sealed, sec.Sealed)
	a := replayFor(plain[1].ID, t0)
	sec, err = st.Reveal(ctx, plain[1].ID, onetime.Credentials{}, t0, a)
	require.NoError(t, err)
	assert.Equal(t, plain[1].Sealed, sec.Sealed)
	again, err := st.Reveal(ctx, plain[1].ID, onetime.Credentials{}, t0, a)
	require.NoError(t, err, "a repeat on the upgraded database")
	assert.Equal(t, sec, again)

	info, err := st.Peek(ctx, locked.ID, t0)
	require.NoError(t, err)
	assert.Equal(t, 1, info.Attempts, "the attempt counted at version 1")
	sec, err = st.Reveal(ctx, locked.ID, onetime.Credentials{Check: []byte("right")}, t0, replayFor(locked.ID, t0))
	require.NoError(t, err)
	assert.Equal(t, locked.Sealed, sec.Sealed)
	assert.Equal(t, 1, sec.Attempts)

	_, err = st.Reveal(ctx, gone.ID, onetime.Credentials{}, t0, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "revealed at version 1, revealed again after the upgrade")
	got, err := st.Receipt(ctx, goneM.ID, t0)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateReceived, got.State)
	list, err := st.Recent(ctx, "owner", t0, 10)
	require.NoError(t, err)
	assert.Len(t, list, 5)

	// A process of the previous release still reveals through its function.
	require.NoError(t, pool.QueryRow(ctx, oldReveal, rawID(t, plain[2].ID), nil, t0).Scan(&outcome))
	assert.Equal(t, 1, outcome, "the version 1 function after the upgrade")
}

// lockedBy returns the pid of the one connection of pool.
func backendPID(t *testing.T, pool *pgxpool.Pool) uint32 {
	t.Helper()
	c, err := pool.Acquire(context.Background())
	require.NoError(t, err)
	defer c.Release()
	return c.Conn().PgConn().PID()
}

// waitGone waits until the server process pid has ended: the statement it
// was running has finished, one way or the other.
func waitGone(t *testing.T, srv *pgtest.Server, pid uint32) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		err := srv.Admin(t).QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, int32(pid)).Scan(&n)
		return err == nil && n == 0
	}, 10*time.Second, 20*time.Millisecond, "the backend of the cut-off call did not end")
}

// unread checks that s is still there, unread, with no attempt counted,
// and that it then reveals, under the replay id of the call that missed
// its deadline too (nothing was recorded under it).
func unread(t *testing.T, st *postgres.Store, s *onetime.SealedSecret, m *onetime.SealedMetadata, replay *onetime.Replay) {
	t.Helper()
	ctx := context.Background()
	info, err := st.Peek(ctx, s.ID, t0)
	require.NoError(t, err, "the secret is gone")
	assert.Zero(t, info.Attempts)
	got, err := st.Receipt(ctx, m.ID, t0)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateNew, got.State)
	assert.True(t, got.SecretPresent)
	sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, replay)
	require.NoError(t, err, "revealing after the cut-off call")
	assert.Equal(t, s.Sealed, sec.Sealed)
}

// ignoreCancel is a pgx context handler that does nothing when a call's
// context ends: the call waits for the server's answer, as one whose
// cancellation comes late would. It shows what the database itself does
// at the deadline.
type ignoreCancel struct{}

func (ignoreCancel) HandleCancel(context.Context) {}
func (ignoreCancel) HandleUnwatchAfterCancel()    {}

// lateStore returns a store in a fresh schema of srv on one connection
// whose calls are not cut at their context's end (see ignoreCancel).
func lateStore(t *testing.T, srv *pgtest.Server) *postgres.Store {
	t.Helper()
	pool := srv.Pool(t, "postgres", func(c *pgxpool.Config) {
		c.MaxConns = 1
		c.ConnConfig.BuildContextWatcherHandler = func(*pgconn.PgConn) ctxwatch.Handler { return ignoreCancel{} }
	})
	st, err := postgres.New(context.Background(), pool, &postgres.Options{Schema: srv.Schema(t)})
	require.NoError(t, err)
	return st
}

// holdSecret locks the row of secret id in a transaction of its own, as a
// concurrent call would, until the returned function releases it.
func holdSecret(t *testing.T, srv *pgtest.Server, st *postgres.Store, id onetime.ID) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := srv.Admin(t).Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { tx.Rollback(ctx) })
	_, err = tx.Exec(ctx, `SELECT 1 FROM `+st.Table("secrets")+` WHERE id = $1 FOR UPDATE`, rawID(t, id))
	require.NoError(t, err)
	return func() { require.NoError(t, tx.Rollback(ctx)) }
}

// A Reveal waits for a lock past its deadline; then the function takes
// the secret, finds the deadline passed by the database's clock, and rolls
// everything back: the call answers DeadlineExceeded and the secret stays
// unread. The check made before the change is not enough: it is made again
// last, after every wait.
func TestDeadlineAfterLockWait(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := context.Background()
	st := lateStore(t, srv)
	s, m := storetest.NewPair("", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	release := holdSecret(t, srv, st, s.ID)

	a := replayFor(s.ID, t0)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := st.Reveal(short, s.ID, onetime.Credentials{}, t0, a)
		done <- err
	}()
	<-short.Done()
	time.Sleep(100 * time.Millisecond)
	release()
	err := <-done
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "nothing changed", "not the database's refusal")
	unread(t, st, s, m, a)
}

// The same for Burn.
func TestBurnDeadlineAfterLockWait(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := context.Background()
	st := lateStore(t, srv)
	s, m := storetest.NewPair("", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	release := holdSecret(t, srv, st, s.ID)

	b := replayFor(m.ID, t0)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := st.Burn(short, m.ID, t0, b)
		done <- err
	}()
	<-short.Done()
	time.Sleep(100 * time.Millisecond)
	release()
	err := <-done
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "nothing changed", "not the database's refusal")

	got, err := st.Receipt(ctx, m.ID, t0)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateNew, got.State, "the cut-off Burn changed the receipt")
	assert.True(t, got.SecretPresent)
	burned, err := st.Burn(ctx, m.ID, t0, b)
	require.NoError(t, err, "Burn under the replay id of the cut-off call")
	assert.Equal(t, onetime.StateBurned, burned.State)
	assert.True(t, bytes.Equal(m.Sealed, burned.Sealed))
}

// The stall of issue 19, on PostgreSQL: the server is stopped (SIGSTOP,
// every process) while a Reveal is in flight, and resumed after the
// call's deadline. The call returns at its deadline: pgx closes the
// connection and sends a cancel request. But the statement already sits in
// the stalled backend's socket buffer, and at the resume the backend runs
// it before the postmaster gets to the cancel request: only the function's
// check against the database's clock refuses it. The secret is still
// unread and revealable.
func TestDeadlineStalledServer(t *testing.T) {
	srv := pgtest.Start(t, pgtest.Config{})
	ctx := context.Background()
	pool := srv.Pool(t, "postgres", func(c *pgxpool.Config) { c.MaxConns = 1 })
	st, err := postgres.New(ctx, pool, nil)
	require.NoError(t, err)
	s, m := storetest.NewPair("", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	// The reveal's description cached, so that the stalled call sends the
	// statement itself in its one round trip.
	_, err = st.Reveal(ctx, onetime.ID(randomHex(40)), onetime.Credentials{}, t0, nil)
	require.ErrorIs(t, err, onetime.ErrNotFound)
	pid := backendPID(t, pool)

	require.NoError(t, srv.Pause())
	t.Cleanup(srv.Resume)
	a := replayFor(s.ID, t0)
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = st.Reveal(short, s.ID, onetime.Credentials{}, t0, a)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second, "the call outlived its deadline")
	time.Sleep(500 * time.Millisecond) // well past the deadline
	srv.Resume()
	waitGone(t, srv, pid)
	log, err := srv.Log()
	require.NoError(t, err)
	assert.Contains(t, log, "deadline passed", "the function did not refuse the statement")
	unread(t, st, s, m, a)
}
