package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/pgtest"
	"github.com/onetimego/onetime/store/postgres"
	"github.com/onetimego/onetime/store/storetest"
	"github.com/onetimego/onetime/zk"
)

var t0 = time.Date(2031, 3, 4, 5, 6, 7, 891011000, time.UTC)

func randomHex(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// The SQL spells states as numbers.
func TestStateNumbers(t *testing.T) {
	assert.Equal(t, []onetime.State{1, 2, 3, 4},
		[]onetime.State{onetime.StateNew, onetime.StateViewed, onetime.StateReceived, onetime.StateBurned})
}

func TestOptionsValidated(t *testing.T) {
	srv := pgtest.Shared(t)
	pool := srv.Pool(t, "postgres", nil)
	ctx := context.Background()
	for _, o := range []postgres.Options{
		{Schema: `a"; DROP TABLE x; --`},
		{TablePrefix: "a-b"},
		{TablePrefix: strings.Repeat("p", 31)},
		{MaxRecent: -1},
		{SweepBatch: -1},
	} {
		_, err := postgres.New(ctx, pool, &o)
		assert.Errorf(t, err, "New(%+v)", o)
	}
	_, err := postgres.New(ctx, nil, nil)
	assert.Error(t, err, "New with a nil pool")
}

// The tables go into Options.Schema (created when missing) under
// Options.TablePrefix; two prefixes in one schema are two stores.
func TestSchemaAndPrefix(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := context.Background()
	schema := pgtest.Name() // not created yet: New creates it
	a, _ := newStore(t, &postgres.Options{Schema: schema, TablePrefix: "a_"})
	b, _ := newStore(t, &postgres.Options{Schema: schema, TablePrefix: "b_"})
	var tables []string
	rows, err := srv.Admin(t).Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, schema)
	require.NoError(t, err)
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	assert.Equal(t, []string{"a_receipts", "a_replays", "a_schema_version", "a_secrets",
		"b_receipts", "b_replays", "b_schema_version", "b_secrets"}, tables)

	s, m := storetest.NewPair("", t0, time.Hour)
	require.NoError(t, a.Create(ctx, s, m))
	_, err = b.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "a secret of store a seen by store b")
	_, err = a.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	assert.NoError(t, err)

	// Without a schema, the tables go where search_path says.
	db := srv.Database(t)
	pool := srv.Pool(t, db, nil)
	st, err := postgres.New(ctx, pool, nil)
	require.NoError(t, err)
	defer st.Close()
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'onetime\_%'`).Scan(&n))
	assert.Equal(t, 4, n)
}

// A database migrated by a newer version of the package is refused,
// untouched.
func TestSchemaTooNew(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := context.Background()
	st, _ := newStore(t, nil)
	schema := strings.Trim(strings.Split(st.Table("schema_version"), ".")[0], `"`)
	require.NoError(t, st.Close())
	_, err := srv.Admin(t).Exec(ctx, `UPDATE `+st.Table("schema_version")+` SET version = 99`)
	require.NoError(t, err)

	_, err = postgres.New(ctx, srv.Pool(t, "postgres", nil), &postgres.Options{Schema: schema})
	require.ErrorIs(t, err, postgres.ErrSchemaTooNew)
	assert.Contains(t, err.Error(), "99")
	var v int
	require.NoError(t, srv.Admin(t).QueryRow(ctx, `SELECT version FROM `+st.Table("schema_version")).Scan(&v))
	assert.Equal(t, 99, v, "a refused database is left as it was")
}

// Processes opening one fresh database at once serialise on the
// advisory lock: every Open succeeds, and the schema is made once.
func TestConcurrentOpen(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := context.Background()
	for round := range 3 {
		schema := pgtest.Name()
		const openers = 8
		errs := make([]error, openers)
		stores := make([]*postgres.Store, openers)
		var start, done sync.WaitGroup
		start.Add(1)
		for i := range openers {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				stores[i], errs[i] = postgres.Open(ctx, srv.URL("postgres"), &postgres.Options{Schema: schema})
			}()
		}
		start.Done()
		done.Wait()
		for i, err := range errs {
			require.NoErrorf(t, err, "round %d: Open %d", round, i)
		}
		var rows int
		require.NoError(t, srv.Admin(t).QueryRow(ctx, `SELECT count(*) FROM `+stores[0].Table("schema_version")).Scan(&rows))
		assert.Equal(t, 1, rows)
		// Each works on the shared tables.
		s, m := storetest.NewPair("", t0, time.Hour)
		require.NoError(t, stores[0].Create(ctx, s, m))
		_, err := stores[openers-1].Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
		require.NoError(t, err)
		for _, st := range stores {
			require.NoError(t, st.Close())
		}
	}
}

// Open owns its pool and closes it; New leaves the caller's pool open.
func TestPoolOwnership(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := context.Background()
	schema := srv.Schema(t)
	owned, err := postgres.Open(ctx, srv.URL("postgres"), &postgres.Options{Schema: schema})
	require.NoError(t, err)
	require.NoError(t, owned.Close())
	assert.Error(t, owned.Pool().Ping(ctx), "Open's pool is closed by Close")

	pool := srv.Pool(t, "postgres", nil)
	st, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	assert.NoError(t, pool.Ping(ctx), "the caller's pool stays open")
	_, err = st.Peek(ctx, onetime.ID(randomHex(40)), t0)
	assert.ErrorIs(t, err, onetime.ErrClosed)

	_, err = postgres.Open(ctx, "postgres://user:hunter2@127.0.0.1:bad/port", nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2", "a malformed URL's password in the error")
}

// Two pools, as two processes would have, race 64 goroutines on the same
// secrets: exactly one reveal (or burn) wins each.
func TestTwoPoolsRace(t *testing.T) {
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
		if round%2 == 1 {
			s.Check, m.PassphraseRequired = check, true
		}
		require.NoError(t, stores[round%2].Create(ctx, s, m))
		var mu sync.Mutex
		reveals, burns, wrong := 0, 0, 0
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				st := stores[i%2]
				var err error
				switch i % 4 {
				case 0, 1:
					var sec *onetime.SealedSecret
					sec, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0, nil)
					if err == nil && !bytes.Equal(sec.Sealed, s.Sealed) {
						err = errors.New("revealed other bytes")
					}
				case 2:
					_, err = st.Burn(ctx, m.ID, t0, nil)
				case 3:
					_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, nil)
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && i%4 == 2:
					burns++
				case err == nil: // a secret without a check ignores the one given
					reveals++
				case errors.Is(err, onetime.ErrNotFound):
				case errors.Is(err, onetime.ErrWrongPassphrase) && (i%4 == 3) && round%2 == 1:
					wrong++
				default:
					assert.Fail(t, "an error other than not found and wrong passphrase", "racer %d: %v", i, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		require.Equalf(t, 1, reveals+burns, "round %d: %d reveals and %d burns won", round, reveals, burns)
		got, err := stores[0].Receipt(ctx, m.ID, t0)
		require.NoError(t, err)
		want := onetime.StateReceived
		if burns == 1 {
			want = onetime.StateBurned
		}
		assert.Equal(t, want, got.State)
		assert.False(t, got.SecretPresent)
	}
}

// By default no named prepared statement is left on the server (so that
// PgBouncer in transaction mode may hand the next statement to another
// server connection); Options.StatementCache makes them.
func TestNoPreparedStatementsByDefault(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := context.Background()
	for _, cache := range []bool{false, true} {
		pool := srv.Pool(t, "postgres", func(c *pgxpool.Config) { c.MaxConns = 1 })
		st, err := postgres.New(ctx, pool, &postgres.Options{Schema: srv.Schema(t), StatementCache: cache})
		require.NoError(t, err)
		s, m := storetest.NewPair("owner", t0, time.Hour)
		require.NoError(t, st.Create(ctx, s, m))
		_, err = st.Peek(ctx, s.ID, t0)
		require.NoError(t, err)
		_, err = st.View(ctx, m.ID, t0)
		require.NoError(t, err)
		_, err = st.Receipt(ctx, m.ID, t0)
		require.NoError(t, err)
		_, err = st.Recent(ctx, "owner", t0, 10)
		require.NoError(t, err)
		_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
		require.NoError(t, err)
		_, err = st.Burn(ctx, m.ID, t0, nil)
		require.ErrorIs(t, err, onetime.ErrNotFound)
		_, err = st.Sweep(ctx, t0)
		require.NoError(t, err)
		var n int
		// The one connection of the pool is the one the store used.
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements`, pgx.QueryExecModeSimpleProtocol).Scan(&n))
		if cache {
			assert.Positive(t, n, "StatementCache prepares statements")
		} else {
			assert.Zero(t, n, "named prepared statements left on the connection")
		}
	}
}

// After Service.Share of a known value, a dump of the tables holds
// neither the value nor the passphrase nor either key, in any spelling;
// nor, after a reveal and a burn made with idempotency keys, do the
// outcomes recorded for their repeats, nor do they spell the keys. A
// zero-knowledge share, revealed with an idempotency key, leaves neither
// its link's key nor its proofs nor their verifiers (the store keeps
// keyed hashes of the verifiers).
func TestDumpRevealsNothing(t *testing.T) {
	st, srv := newStore(t, nil)
	ctx := context.Background()
	svc, err := onetime.New(st, bytes.Repeat([]byte("s"), 32), nil)
	require.NoError(t, err)
	defer svc.Close()
	value := []byte("the launch code is 0000-TOPSECRET-4242")
	passphrase := "correct horse battery staple"
	var receipts []*onetime.Metadata
	for _, req := range []onetime.ShareRequest{
		{Value: value, Passphrase: passphrase},
		{Owner: "customer@example.com", Value: value, Passphrase: passphrase, Recipients: []string{"reader@example.net"}},
	} {
		r, err := svc.Share(ctx, req)
		require.NoError(t, err)
		receipts = append(receipts, r)
	}
	g, err := svc.Generate(ctx, onetime.GenerateRequest{})
	require.NoError(t, err)
	revealKey, burnKey, shareKey := "idempotency-key-of-the-reveal", "idempotency-key-of-the-burn", "idempotency-key-of-the-share"
	keyed, err := svc.Share(onetime.WithIdempotencyKey(ctx, shareKey), onetime.ShareRequest{Value: value, Passphrase: passphrase})
	require.NoError(t, err)
	revealed, err := svc.Reveal(onetime.WithIdempotencyKey(ctx, revealKey), keyed.SecretKey, passphrase)
	require.NoError(t, err)
	require.Equal(t, value, revealed.Value)
	_, err = svc.Burn(onetime.WithIdempotencyKey(ctx, burnKey), receipts[1].MetadataKey)
	require.NoError(t, err)
	zkKey, err := zk.NewKey()
	require.NoError(t, err)
	derived, err := zk.Derive(zkKey, "")
	require.NoError(t, err)
	zkSealed, err := derived.Seal(value)
	require.NoError(t, err)
	verifier := derived.Verifier()
	zkShared, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte(zkSealed), Verifier: &verifier})
	require.NoError(t, err)
	zkKept, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte(zkSealed), Verifier: &verifier})
	require.NoError(t, err)
	zkRevealKey := "idempotency-key-of-the-zk-reveal"
	_, err = svc.RevealProof(onetime.WithIdempotencyKey(ctx, zkRevealKey), zkShared.SecretKey, derived.Proof())
	require.NoError(t, err)

	schema := strings.Trim(strings.Split(st.Table("secrets"), ".")[0], `"`)
	out, err := exec.Command(srv.BinDir()+"/pg_dump", "--data-only", "-n", schema, srv.URL("postgres")).CombinedOutput()
	require.NoError(t, err, string(out))
	dump := string(out)
	require.Contains(t, dump, "COPY "+schema+".onetime_secrets", "the dump holds the secrets")
	require.Contains(t, dump, "COPY "+schema+".onetime_receipts", "the dump holds the receipts")
	require.Contains(t, dump, "COPY "+schema+".onetime_replays", "the dump holds the replay records")
	var replays int
	require.NoError(t, srv.Admin(t).QueryRow(ctx, `SELECT count(*) FROM `+st.Table("replays")+` WHERE outcome IN (1, 3)`).Scan(&replays))
	require.Equal(t, 3, replays, "two reveals and a burn recorded")
	var proofs int
	require.NoError(t, srv.Admin(t).QueryRow(ctx, `SELECT count(*) FROM `+st.Table("secrets")+` WHERE proof IS NOT NULL`).Scan(&proofs))
	require.Equal(t, 1, proofs, "the zero-knowledge secret keeps its proof")

	forbidden := []string{string(value), passphrase, string(g.Value), "reader@example.net", revealKey, burnKey, shareKey,
		zkRevealKey, zkKey.Fragment(), string(zkKey[:]), string(derived.Proof().Key), string(verifier.Key), zkSealed}
	for _, r := range append(receipts, keyed, zkShared, zkKept) {
		forbidden = append(forbidden, string(r.SecretKey), string(r.MetadataKey))
	}
	forbidden = append(forbidden, string(g.SecretKey), string(g.MetadataKey))
	for _, f := range forbidden {
		for _, spelling := range []string{f, hex.EncodeToString([]byte(f)), strings.ToUpper(hex.EncodeToString([]byte(f)))} {
			assert.NotContains(t, dump, spelling, "the dump spells a value, key or passphrase")
		}
	}
	// The value is still there to reveal: the dump was taken of live data.
	got, err := svc.Reveal(ctx, receipts[0].SecretKey, passphrase)
	require.NoError(t, err)
	assert.Equal(t, value, got.Value)
	got, err = svc.Reveal(onetime.WithIdempotencyKey(ctx, revealKey), keyed.SecretKey, passphrase)
	require.NoError(t, err, "the repeat of the recorded reveal")
	assert.Equal(t, value, got.Value)
}

// No error text carries an id, a value or a check, whatever failed: the
// contract's errors, a duplicate, a server that went away.
func TestErrorTextsFromTheServer(t *testing.T) {
	srv := pgtest.Start(t, pgtest.Config{})
	ctx := context.Background()
	pool := srv.Pool(t, "postgres", nil)
	st, err := postgres.New(ctx, pool, nil)
	require.NoError(t, err)
	s, m := storetest.NewPair("owner", t0, time.Hour)
	s.Check = []byte("a check that must not leak")
	require.NoError(t, st.Create(ctx, s, m))
	var errs []error
	errs = append(errs, st.Create(ctx, s, m))
	require.ErrorIs(t, errs[0], onetime.ErrExists)

	srv.Stop()
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: s.Check}, t0, nil)
	errs = append(errs, err)
	_, err = st.Peek(ctx, s.ID, t0)
	errs = append(errs, err)
	_, err = st.Receipt(ctx, m.ID, t0)
	errs = append(errs, err)
	_, err = st.View(ctx, m.ID, t0)
	errs = append(errs, err)
	_, err = st.Burn(ctx, m.ID, t0, nil)
	errs = append(errs, err)
	_, err = st.Recent(ctx, "owner", t0, 10)
	errs = append(errs, err)
	_, err = st.Sweep(ctx, t0)
	errs = append(errs, err)
	errs = append(errs, st.Create(ctx, s, m))
	for i, err := range errs {
		require.Errorf(t, err, "call %d on a stopped server", i)
		text := err.Error()
		if i > 0 { // the first is onetime.ErrExists, as it is
			assert.Truef(t, strings.HasPrefix(text, "postgres: "), "error %q lacks the package prefix", text)
		}
		assert.NotContains(t, text, "onetime:")
		for _, f := range []string{string(s.ID), string(m.ID), string(s.ID[onetime.SlotLen:]), string(s.Check),
			hex.EncodeToString(s.Check), hex.EncodeToString(s.Sealed), "owner"} {
			assert.NotContainsf(t, text, f, "error %d names an id, value or check", i)
		}
		for _, method := range []string{"Create", "Reveal", "Peek", "Receipt", "View", "Burn", "Recent", "Sweep",
			"create", "reveal", "peek", "burn", "recent", "sweep"} {
			assert.NotContainsf(t, text, method+":", "error %q names a method", text)
		}
	}
}

// Every method is one statement (Sweep: one per table and batch), and so
// one round trip once its description is cached on the connection: Reveal
// and Burn too, with a replay, a deadline, or a repeat answered from the
// record. A round trip is a write to the server's socket, which pgx makes
// once per exchange (the statement's messages and a Sync) before it reads.
func TestOneStatementPerCall(t *testing.T) {
	srv := pgtest.Shared(t)
	ctx := context.Background()
	var counter statements
	var writes atomic.Int64
	pool := srv.Pool(t, "postgres", func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = &counter
		c.MaxConns = 1
		c.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			return &countingConn{Conn: conn, writes: &writes}, err
		}
	})
	st, err := postgres.New(ctx, pool, &postgres.Options{Schema: srv.Schema(t)})
	require.NoError(t, err)
	defer st.Close()
	// Each statement once, for pgx to cache its description.
	missing := onetime.ID(randomHex(40))
	w, wm := storetest.NewPair("owner", t0, time.Hour)
	require.NoError(t, st.Create(ctx, w, wm))
	for _, f := range []func() error{
		func() error { _, err := st.Reveal(ctx, missing, onetime.Credentials{}, t0, nil); return err },
		func() error { _, err := st.Burn(ctx, missing, t0, nil); return err },
		func() error { _, err := st.Peek(ctx, missing, t0); return err },
		func() error { _, err := st.Receipt(ctx, missing, t0); return err },
		func() error { _, err := st.View(ctx, missing, t0); return err },
	} {
		require.ErrorIs(t, f(), onetime.ErrNotFound)
	}
	_, err = st.Recent(ctx, "owner", t0, 10)
	require.NoError(t, err)
	_, err = st.Sweep(ctx, t0)
	require.NoError(t, err)

	calls := func(want int64, what string, f func() error) {
		t.Helper()
		counter.n.Store(0)
		writes.Store(0)
		require.NoError(t, f(), what)
		assert.Equalf(t, want, counter.n.Load(), "statements sent by %s", what)
		assert.Equalf(t, want, writes.Load(), "round trips of %s", what)
	}
	s, m := storetest.NewPair("owner", t0, time.Hour)
	s.Check = []byte("check")
	calls(1, "Create", func() error { return st.Create(ctx, s, m) })
	calls(1, "Peek", func() error { _, err := st.Peek(ctx, s.ID, t0); return err })
	calls(1, "Receipt", func() error { _, err := st.Receipt(ctx, m.ID, t0); return err })
	calls(1, "View", func() error { _, err := st.View(ctx, m.ID, t0); return err })
	calls(1, "Recent", func() error { _, err := st.Recent(ctx, "owner", t0, 10); return err })
	calls(1, "a wrong Reveal", func() error {
		if _, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, nil); !errors.Is(err, onetime.ErrWrongPassphrase) {
			return fmt.Errorf("wrong passphrase: %w", err)
		}
		return nil
	})
	calls(1, "Reveal", func() error { _, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: s.Check}, t0, nil); return err })
	s, m = storetest.NewPair("owner", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	calls(1, "Burn", func() error { _, err := st.Burn(ctx, m.ID, t0, nil); return err })

	deadline, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s, m = storetest.NewPair("owner", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	a := &onetime.Replay{ID: onetime.ID(s.ID.Slot() + randomHex(32)), ExpiresAt: t0.Add(time.Minute)}
	calls(1, "Reveal with a replay and a deadline", func() error { _, err := st.Reveal(deadline, s.ID, onetime.Credentials{}, t0, a); return err })
	calls(1, "a repeated Reveal", func() error { _, err := st.Reveal(deadline, s.ID, onetime.Credentials{}, t0, a); return err })
	s, m = storetest.NewPair("owner", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	b := &onetime.Replay{ID: onetime.ID(m.ID.Slot() + randomHex(32)), ExpiresAt: t0.Add(time.Minute)}
	calls(1, "Burn with a replay and a deadline", func() error { _, err := st.Burn(deadline, m.ID, t0, b); return err })
	calls(1, "a repeated Burn", func() error { _, err := st.Burn(deadline, m.ID, t0, b); return err })
	calls(3, "Sweep", func() error { _, err := st.Sweep(ctx, t0); return err })
}

// countingConn counts the writes to a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}
