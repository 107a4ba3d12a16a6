package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/sqlite"
	"github.com/onetimego/onetime/store/storetest"
)

var t0 = time.Date(2031, 3, 4, 5, 6, 7, 891011000, time.UTC)

// week is how long the tests' secrets live (their receipts, two).
const week = 7 * 24 * time.Hour

// rawDB opens a plain database/sql handle on path, as another program
// would.
func rawDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustCreate(t testing.TB, st onetime.Store, owner string) (*onetime.SealedSecret, *onetime.SealedMetadata) {
	t.Helper()
	s, m := storetest.NewPair(owner, t0, week)
	require.NoError(t, st.Create(context.Background(), s, m))
	return s, m
}

func TestOpenMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "onetime.db")
	_, err := sqlite.Open(context.Background(), path, nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Open in a missing directory: %v; want a not-exist error naming the directory", err)
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte(strings.Repeat("these are not the pages you are looking for\n", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(context.Background(), path, nil)
	if !errors.Is(err, sqlite.ErrNotDatabase) {
		t.Fatalf("Open of a text file: %v; want ErrNotDatabase", err)
	}
	t.Log(err)
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "these are not") {
		t.Fatal("Open changed a file that is not a database")
	}
}

func TestOpenDirectory(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), t.TempDir(), nil); err == nil {
		t.Fatal("Open of a directory succeeded")
	}
	if _, err := sqlite.Open(context.Background(), ":memory:", nil); err == nil {
		t.Fatal("Open of :memory: succeeded")
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onetime.db")
	open2(t, path).Close() // a current schema: nothing to migrate

	for _, dsn := range []string{
		"file:" + path + "?mode=ro",
		"file:" + path + "?_pragma=query_only(1)",
	} {
		_, err := sqlite.New(context.Background(), rawDB(t, dsn), nil)
		if !errors.Is(err, sqlite.ErrReadOnly) {
			t.Errorf("New on %s: %v; want ErrReadOnly", dsn, err)
		}
	}
	if os.Geteuid() != 0 { // root writes read-only files
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		_, err := sqlite.Open(context.Background(), path, nil)
		if !errors.Is(err, sqlite.ErrReadOnly) {
			t.Errorf("Open of a read-only file: %v; want ErrReadOnly", err)
		}
	}
}

func TestNewClosedDB(t *testing.T) {
	db := rawDB(t, filepath.Join(t.TempDir(), "onetime.db"))
	db.Close()
	_, err := sqlite.New(context.Background(), db, nil)
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("New on a closed *sql.DB: %v", err)
	}
	if _, err := sqlite.New(context.Background(), nil, nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}

// open2 opens a Store on path, which may already hold a database.
func open2(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, &sqlite.Options{BusyTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// lock holds the write lock of the database at path until the test ends.
func lock(t *testing.T, path string) {
	t.Helper()
	db := rawDB(t, path)
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("ROLLBACK") })
}

func TestBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onetime.db")
	st, err := sqlite.Open(context.Background(), path, &sqlite.Options{BusyTimeout: 200 * time.Millisecond})
	require.NoError(t, err)
	defer st.Close()
	lock(t, path)

	start := time.Now()
	_, err = sqlite.Open(context.Background(), path, &sqlite.Options{BusyTimeout: 100 * time.Millisecond})
	require.ErrorIs(t, err, sqlite.ErrBusy, "Open of a locked database")
	d := time.Since(start)
	assert.True(t, d >= 100*time.Millisecond && d <= 30*time.Second, "Open gave up after %v; want the busy timeout", d)
	t.Log(err)

	short, err := sqlite.Open(context.Background(), path+"2", &sqlite.Options{BusyTimeout: 50 * time.Millisecond})
	require.NoError(t, err)
	short.Close()

	// A write on a store whose file another process keeps locked.
	s, m := storetest.NewPair("", t0, week)
	err = st.Create(context.Background(), s, m)
	require.ErrorIs(t, err, sqlite.ErrBusy, "Create on a locked database")
	// The Service adds "onetime: create: ": the store says neither.
	require.NotContains(t, err.Error(), "onetime")
	require.NotContains(t, strings.ToLower(err.Error()), "create")
	require.True(t, strings.HasPrefix(err.Error(), "sqlite: "), err.Error())
	// Reads go on: WAL readers do not wait for the writer.
	_, err = st.Receipt(context.Background(), m.ID, t0)
	require.ErrorIs(t, err, onetime.ErrNotFound, "Receipt while another connection writes")
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onetime.db")
	open2(t, path).Close()
	db := rawDB(t, path)
	if _, err := db.Exec(`UPDATE onetime_schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(context.Background(), path, nil)
	if !errors.Is(err, sqlite.ErrSchemaTooNew) || !strings.Contains(err.Error(), "99") {
		t.Fatalf("Open of a newer schema: %v; want ErrSchemaTooNew naming the version", err)
	}
	t.Log(err)
	_, err = sqlite.New(context.Background(), db, nil)
	if !errors.Is(err, sqlite.ErrSchemaTooNew) {
		t.Fatalf("New on a newer schema: %v", err)
	}
	var v int
	if err := db.QueryRow(`SELECT version FROM onetime_schema_version`).Scan(&v); err != nil || v != 99 {
		t.Fatalf("the version became %d (%v): a newer schema must be left alone", v, err)
	}
}

func TestMigrations(t *testing.T) {
	if sqlite.SchemaVersion < 1 {
		t.Fatalf("SchemaVersion = %d", sqlite.SchemaVersion)
	}
	path := filepath.Join(t.TempDir(), "onetime.db")
	// Openers racing on a new file migrate it once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			st, err := sqlite.Open(context.Background(), path, nil)
			if err != nil {
				t.Error(err)
				return
			}
			st.Close()
		})
	}
	wg.Wait()
	db := rawDB(t, path)
	var n, v int
	if err := db.QueryRow(`SELECT count(*), max(version) FROM onetime_schema_version`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != 1 || v != sqlite.SchemaVersion {
		t.Fatalf("schema_version has %d rows, version %d; want 1 row, %d", n, v, sqlite.SchemaVersion)
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestNewOnCallersDB(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	db := plainDB(t, path)
	_, err := db.Exec(`CREATE TABLE app_users (name TEXT)`)
	require.NoError(t, err)
	st, err := sqlite.New(ctx, db, nil)
	require.NoError(t, err)
	require.False(t, st.ReadsThroughWriter(), "reads use the caller's pool")
	w, _, err := st.Pragma("auto_vacuum")
	require.NoError(t, err)
	require.Equal(t, "0", w, "New rebuilt the caller's own database")
	s, m := mustCreate(t, st, "owner")
	_, err = st.Receipt(ctx, m.ID, t0)
	require.NoError(t, err)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	require.NoError(t, err)
	_, err = st.Sweep(ctx, t0.Add(30*24*time.Hour)) // reclaiming stops although the file cannot shrink
	require.NoError(t, err)
	require.NoError(t, st.Close())
	require.NoError(t, db.Ping(), "Close closed the caller's db")
	_, err = db.Exec(`INSERT INTO app_users VALUES ('x')`)
	require.NoError(t, err)

	// The caller's in-memory database on one connection works too.
	mem := plainDB(t, ":memory:")
	mem.SetMaxOpenConns(1)
	st, err = sqlite.New(ctx, mem, nil)
	require.NoError(t, err)
	defer st.Close()
	s, m = mustCreate(t, st, "owner")
	_, err = st.Receipt(ctx, m.ID, t0)
	require.NoError(t, err)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	require.NoError(t, err)
	list, err := st.Recent(ctx, "owner", t0, 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	_, err = st.Sweep(ctx, t0.Add(30*24*time.Hour))
	require.NoError(t, err)
}

// TestTwoHandles races reveals, burns and wrong passphrases through two
// Stores, each with its own *sql.DB handles, on one file: two processes,
// as far as SQLite can tell.
func TestTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onetime.db")
	a, b := open2(t, path), open2(t, path)
	stores := []*sqlite.Store{a, b}
	ctx := context.Background()
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	at := t0.Add(time.Second)
	for round := range rounds {
		s, m := mustCreate(t, a, "")
		var mu sync.Mutex
		winners, burns := 0, 0
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 64 {
			wg.Go(func() {
				<-start
				st := stores[i%2]
				var err error
				burn := round%2 == 1 && i%4 == 1
				if burn {
					_, err = st.Burn(ctx, m.ID, at, nil)
				} else {
					_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, at, nil)
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && burn:
					burns++
				case err == nil:
					winners++
				default:
					assert.ErrorIs(t, err, onetime.ErrNotFound, "racer %d", i)
				}
			})
		}
		close(start)
		wg.Wait()
		require.Equal(t, 1, winners+burns, "round %d: %d reveals and %d burns won; want exactly one", round, winners, burns)
		got, err := b.Receipt(ctx, m.ID, at)
		require.NoError(t, err)
		want := map[bool]onetime.State{true: onetime.StateBurned, false: onetime.StateReceived}[burns == 1]
		require.Equal(t, want, got.State, "round %d: the receipt's state", round)
	}

	// Wrong passphrases through both handles are all counted.
	s, m := storetest.NewPair("", t0, week)
	s.Check, s.MaxAttempts = []byte("right"), 1000
	m.PassphraseRequired = true
	require.NoError(t, a.Create(ctx, s, m))
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			_, err := stores[i%2].Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, at, nil)
			assert.ErrorIs(t, err, onetime.ErrWrongPassphrase, "wrong attempt")
		})
	}
	wg.Wait()
	got, err := b.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("right")}, at, nil)
	require.NoError(t, err, "after 64 wrong attempts through two handles")
	assert.Equal(t, 64, got.Attempts, "wrong attempts through two handles")
}

// TestGroupCommit checks that concurrent writes share transactions (fewer
// commits than operations), that MaxBatch 1 gives each its own, and that
// one failing write fails alone.
func TestGroupCommit(t *testing.T) {
	const n = 100
	// commits runs n Creates that queue up while the writer is held, and
	// returns how many commits they took (the held operation's own
	// included).
	commits := func(t *testing.T, st *sqlite.Store) int64 {
		before := st.Commits()
		release := st.HoldWriter()
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				s, m := storetest.NewPair("", t0, week)
				assert.NoError(t, st.Create(context.Background(), s, m))
			})
		}
		for st.WaitingWriters() < n { // every Create is queued: a sync point, no clock
			runtime.Gosched()
		}
		release()
		wg.Wait()
		return st.Commits() - before
	}
	t.Run("batched", func(t *testing.T) {
		st := open(t, nil)
		defer st.Close()
		got := commits(t, st)
		t.Logf("%d concurrent Creates (and the held operation) in %d commits", n, got)
		require.Less(t, got, int64(n), "group commit must put concurrent operations in shared transactions")
	})
	t.Run("MaxBatch=1", func(t *testing.T) {
		st := open(t, &sqlite.Options{MaxBatch: 1})
		defer st.Close()
		require.Equal(t, int64(n+1), commits(t, st), "MaxBatch 1: one commit per operation")
	})
	t.Run("one failure fails alone", func(t *testing.T) {
		st := open(t, nil)
		defer st.Close()
		ctx := context.Background()
		dup, dupM := mustCreate(t, st, "")
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				s, m := storetest.NewPair("g", t0, week)
				if i%10 == 0 { // a duplicate secret id in the middle of a batch
					m.ID = onetime.ID(dup.ID.Slot()) + m.ID[onetime.SlotLen:]
					s.ID, s.MetadataID, m.SecretID = dup.ID, m.ID, dup.ID
					assert.ErrorIs(t, st.Create(ctx, s, m), onetime.ErrExists, "duplicate Create")
					_, err := st.Receipt(ctx, m.ID, t0)
					assert.ErrorIs(t, err, onetime.ErrNotFound, "a rejected Create left its receipt")
					return
				}
				if assert.NoError(t, st.Create(ctx, s, m)) {
					_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
					assert.NoError(t, err)
				}
			})
		}
		wg.Wait()
		_, err := st.Reveal(ctx, dup.ID, onetime.Credentials{}, t0, nil)
		require.NoError(t, err, "the original of the duplicates")
		got, err := st.Receipt(ctx, dupM.ID, t0)
		require.NoError(t, err)
		require.Equal(t, onetime.StateReceived, got.State)
		list, err := st.Recent(ctx, "g", t0, 1000)
		require.NoError(t, err)
		require.Len(t, list, 180)
		batches, ops := st.BatchStats()
		t.Logf("%d write operations in %d transactions", ops, batches)
	})
}

// TestSweepBatches sweeps more rows than one batch holds, and leaves the
// live ones.
func TestSweepBatches(t *testing.T) {
	st := open(t, &sqlite.Options{SweepBatch: 7})
	defer st.Close()
	ctx := context.Background()
	for range 50 {
		mustCreate(t, st, "o")
	}
	ls, live := storetest.NewPair("o", t0.Add(30*24*time.Hour), week)
	require.NoError(t, st.Create(ctx, ls, live))
	n, err := st.Sweep(ctx, t0.Add(15*24*time.Hour)) // past the 50 pairs' expiry, before the live pair's
	require.NoError(t, err)
	require.Equal(t, 100, n, "rows swept")
	n, err = st.Sweep(ctx, t0.Add(15*24*time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "rows swept by a second Sweep")
	got, err := st.Receipt(ctx, live.ID, t0.Add(15*24*time.Hour))
	require.NoError(t, err, "Sweep took a live pair")
	require.True(t, got.SecretPresent, "Sweep took a live pair's secret")
}

const crashEnv = "ONETIME_SQLITE_CRASH_CHILD"

// TestCrash kills a process that is writing secrets, then checks that the
// file is intact and that every secret the process reported as stored is
// there, once.
func TestCrash(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "onetime.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var ids []onetime.ID
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		id, ok := strings.CutPrefix(sc.Text(), "stored ")
		if !ok {
			continue
		}
		ids = append(ids, onetime.ID(id))
		if len(ids) == 1000 && !killed {
			// Kill in the middle of the writing, then read what the
			// child printed before it died: those are acknowledged too.
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the child stopped after %d secrets: %v", len(ids), err)
	}
	t.Logf("the child reported %d secrets stored before SIGKILL", len(ids))

	db := rawDB(t, path)
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	st := open2(t, path)
	ctx := context.Background()
	for _, id := range ids {
		if _, err := st.Reveal(ctx, id, onetime.Credentials{}, t0, nil); err != nil {
			t.Fatalf("a secret acknowledged before the crash: %v", err)
		}
		if _, err := st.Reveal(ctx, id, onetime.Credentials{}, t0, nil); !errors.Is(err, onetime.ErrNotFound) {
			t.Fatalf("second reveal: %v", err)
		}
	}
}

// crashChild writes secrets from a few goroutines, printing the id of
// each after Create returns, until it is killed.
func crashChild(path string) {
	st, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				s, m := storetest.NewPair("crash", t0, week)
				if err := st.Create(context.Background(), s, m); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				fmt.Fprintf(os.Stdout, "stored %s\n", s.ID) // one write(2): lines do not interleave
			}
		})
	}
	wg.Wait()
}

func TestOpenSettings(t *testing.T) {
	for _, tc := range []struct {
		opts *sqlite.Options
		sync string
		busy string
	}{
		{nil, "1", "5000"}, // NORMAL
		{&sqlite.Options{Synchronous: sqlite.SyncFull, BusyTimeout: 1500 * time.Millisecond}, "2", "1500"},
		{&sqlite.Options{Synchronous: sqlite.SyncExtra}, "3", "5000"},
		{&sqlite.Options{Synchronous: sqlite.SyncOff}, "0", "5000"},
	} {
		st := open(t, tc.opts)
		for _, p := range []struct{ name, want string }{
			{"synchronous", tc.sync}, {"busy_timeout", tc.busy}, {"foreign_keys", "1"}, {"journal_mode", "wal"},
			{"secure_delete", "1"}, {"auto_vacuum", "2"},
		} {
			w, r, err := st.Pragma(p.name)
			require.NoError(t, err)
			assert.Equal(t, p.want, w, "%+v: PRAGMA %s on the writer", tc.opts, p.name)
			assert.Equal(t, p.want, r, "%+v: PRAGMA %s on a reader", tc.opts, p.name)
		}
		w, r, err := st.Pragma("query_only")
		require.NoError(t, err)
		assert.Equal(t, []string{"0", "1"}, []string{w, r}, "query_only on the writer, a reader")
		require.NoError(t, st.Close())
	}
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), &sqlite.Options{Synchronous: 9})
	require.Error(t, err, "Open accepted an unknown Synchronous level")
}

// TestNewSettings: New on a handle opened with a plain path sets, on the
// connection it writes through, what Open's DSN sets, and gives the
// connection back with its former settings on Close.
func TestNewSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	db := plainDB(t, path)
	db.SetMaxOpenConns(1) // so that the test sees the store's connection after Close
	pragma := func(name string) string {
		var v string
		require.NoError(t, db.QueryRow("PRAGMA "+name).Scan(&v))
		return v
	}
	require.Equal(t, "0", pragma("secure_delete"), "the driver's default: the test proves nothing")
	require.Equal(t, "delete", pragma("journal_mode"))

	st, err := sqlite.New(context.Background(), db, &sqlite.Options{BusyTimeout: 1234 * time.Millisecond})
	require.NoError(t, err)
	require.True(t, st.ReadsThroughWriter(), "a pool of one connection: reads must share the store's")
	for _, p := range []struct{ name, want string }{
		{"busy_timeout", "1234"}, {"foreign_keys", "1"}, {"journal_mode", "wal"},
		{"secure_delete", "1"}, {"auto_vacuum", "2"}, {"journal_size_limit", "67108864"},
	} {
		w, _, err := st.Pragma(p.name)
		require.NoError(t, err)
		assert.Equal(t, p.want, w, "PRAGMA %s on the writer", p.name)
	}
	mustCreate(t, st, "")
	require.NoError(t, st.Close())
	for name, want := range map[string]string{"secure_delete": "0", "busy_timeout": "0", "foreign_keys": "0", "journal_mode": "wal"} {
		assert.Equal(t, want, pragma(name), "PRAGMA %s of the caller's connection after Close", name)
	}
}

// makeAt makes a Store on the file at path the way maker name does, and
// returns it with a function that closes it and every handle on the file.
func makeAt(t *testing.T, name, path string) (*sqlite.Store, func()) {
	t.Helper()
	ctx := context.Background()
	switch name {
	case "Open":
		st, err := sqlite.Open(ctx, path, nil)
		require.NoError(t, err)
		return st, func() { require.NoError(t, st.Close()) }
	case "NewPlainDSN":
		db, err := sql.Open("sqlite", path)
		require.NoError(t, err)
		st, err := sqlite.New(ctx, db, nil)
		require.NoError(t, err)
		return st, func() { require.NoError(t, errors.Join(st.Close(), db.Close())) }
	}
	t.Fatalf("no maker %q", name)
	return nil, nil
}

// fileHolds reports which of the database file and its log hold b.
func fileHolds(t *testing.T, path string, b []byte) []string {
	t.Helper()
	var in []string
	for _, f := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			require.NoError(t, err)
		}
		if bytes.Contains(data, b) {
			in = append(in, filepath.Base(f))
		}
	}
	return in
}

// TestConsumedLeavesNoBytes: a revealed, burned or expired record's sealed
// bytes (8 KB, so on overflow pages too) are overwritten in the file, not
// left in free space (secure_delete), and Sweep's checkpoint takes their
// old images out of the log, so that a copy of the files taken after a
// Sweep, while the store is still open, holds nothing of them. For Open,
// and for New on a handle opened with a plain path.
func TestConsumedLeavesNoBytes(t *testing.T) {
	for name := range makers() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "onetime.db")
			st, closeAll := makeAt(t, name, path)
			marker := []byte("sealed-bytes-that-must-not-survive-")
			sealed := func(c byte) []byte {
				return append(bytes.Repeat(marker, 8192/len(marker)), c)
			}
			revealed, rm := storetest.NewPair("", t0, week)
			revealed.Sealed = sealed('R')
			burned, bm := storetest.NewPair("", t0, week)
			burned.Sealed = sealed('B')
			expired, em := storetest.NewPair("", t0, week)
			expired.Sealed = sealed('E')
			for _, p := range []struct {
				s *onetime.SealedSecret
				m *onetime.SealedMetadata
			}{{revealed, rm}, {burned, bm}, {expired, em}} {
				require.NoError(t, st.Create(ctx, p.s, p.m))
			}
			closeAll() // the records are in the database file now
			require.Equal(t, []string{"onetime.db"}, fileHolds(t, path, marker),
				"the marker is not in the file after Create: the test proves nothing")

			st, closeAll = makeAt(t, name, path)
			_, err := st.Reveal(ctx, revealed.ID, onetime.Credentials{}, t0, nil)
			require.NoError(t, err)
			_, err = st.Burn(ctx, bm.ID, t0, nil)
			require.NoError(t, err)
			_, err = st.Sweep(ctx, expired.ExpiresAt)
			require.NoError(t, err)
			assert.Empty(t, fileHolds(t, path, marker), "after Sweep, with the store open")
			closeAll()
			assert.Empty(t, fileHolds(t, path, marker), "after Close")
		})
	}
}

// TestOpenCreatesPrivateFile: the file Open creates, and its log, are
// readable by the owner only, like a key file.
func TestOpenCreatesPrivateFile(t *testing.T) {
	old := syscall.Umask(0o022) // the usual umask, whatever the test runner's
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "onetime.db")
	st, err := sqlite.Open(context.Background(), path, nil)
	require.NoError(t, err)
	defer st.Close()
	mustCreate(t, st, "")
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), filepath.Base(f))
	}
	// An existing file keeps the mode its owner gave it.
	other := filepath.Join(t.TempDir(), "shared.db")
	require.NoError(t, os.WriteFile(other, nil, 0o640))
	st2, err := sqlite.Open(context.Background(), other, nil)
	require.NoError(t, err)
	defer st2.Close()
	fi, err := os.Stat(other)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o640), fi.Mode().Perm())
}

// fileSizes returns the sizes of the database file and of its log.
func fileSizes(t *testing.T, path string) (db, wal int64) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	if wi, err := os.Stat(path + "-wal"); err == nil {
		wal = wi.Size()
	}
	return fi.Size(), wal
}

// TestSweepShrinksFile: after many secrets are revealed or expire, Sweep
// gives the space back: the file and its log shrink to a small fraction.
func TestSweepShrinksFile(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 500
	}
	for name := range makers() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "onetime.db")
			st, closeAll := makeAt(t, name, path)
			defer closeAll()
			secrets := make([]*onetime.SealedSecret, n)
			var wg sync.WaitGroup
			var next atomic.Int64
			for range 16 {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(n); i = next.Add(1) {
						s, m := storetest.NewPair("", t0, week)
						s.Sealed = bytes.Repeat([]byte{byte(i)}, 4096)
						secrets[i-1] = s
						assert.NoError(t, st.Create(ctx, s, m))
					}
				})
			}
			wg.Wait()
			for i, s := range secrets {
				if i%2 == 0 { // half are revealed, the rest expire
					_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
					require.NoError(t, err)
				}
			}
			db0, wal0 := fileSizes(t, path)
			removed, err := st.Sweep(ctx, t0.Add(15*24*time.Hour))
			require.NoError(t, err)
			require.Equal(t, 2*n-n/2, removed, "the expired secrets and every receipt")
			db1, wal1 := fileSizes(t, path)
			t.Logf("%d pairs of 4 KiB, half revealed: before Sweep db %d B + wal %d B, after db %d B + wal %d B", n, db0, wal0, db1, wal1)
			require.Zero(t, wal1, "Sweep truncates the log")
			require.Less(t, db1*10, db0, "the file must shrink to a tenth at most")
		})
	}
}

// TestViewPeek: View answers the receipt as it was before and moves a new
// one to viewed in the same step; Peek tells of a secret and changes
// nothing. Attempts up to onetime.MaxAttemptsLimit are kept exactly.
func TestViewPeek(t *testing.T) {
	for name, mk := range makers() {
		t.Run(name, func(t *testing.T) {
			st := mk(t, nil)
			defer st.Close()
			ctx := context.Background()
			s, m := mustCreate(t, st, "")
			t1, t2 := t0.Add(time.Second), t0.Add(2*time.Second)

			got, err := st.View(ctx, m.ID, t1)
			require.NoError(t, err)
			require.Equal(t, onetime.StateNew, got.State, "View answers the state before it")
			require.True(t, got.SecretPresent)
			require.True(t, got.Updated.Equal(t0))
			got, err = st.View(ctx, m.ID, t2)
			require.NoError(t, err)
			require.Equal(t, onetime.StateViewed, got.State)
			require.True(t, got.Updated.Equal(t1), "the first View stamps Updated, the second does not")
			rc, err := st.Receipt(ctx, m.ID, t2)
			require.NoError(t, err)
			require.True(t, rc.Updated.Equal(t1))

			// A new receipt whose secret has expired stays new.
			_, late := mustCreate(t, st, "")
			after := s.ExpiresAt
			got, err = st.View(ctx, late.ID, after)
			require.NoError(t, err)
			require.False(t, got.SecretPresent)
			rc, err = st.Receipt(ctx, late.ID, after)
			require.NoError(t, err)
			require.Equal(t, onetime.StateNew, rc.State)
			_, err = st.View(ctx, late.ID, late.ExpiresAt)
			require.ErrorIs(t, err, onetime.ErrNotFound)

			// Peek, with attempts at the limit.
			ps, pm := storetest.NewPair("", t0, week)
			ps.Check = []byte("verifier")
			ps.Attempts, ps.MaxAttempts = onetime.MaxAttemptsLimit-1, onetime.MaxAttemptsLimit
			require.NoError(t, st.Create(ctx, ps, pm))
			info, err := st.Peek(ctx, ps.ID, t1)
			require.NoError(t, err)
			require.Equal(t, onetime.SecretInfo{PassphraseRequired: true, Attempts: onetime.MaxAttemptsLimit - 1,
				MaxAttempts: onetime.MaxAttemptsLimit, ExpiresAt: ps.ExpiresAt}, *info)
			info, err = st.Peek(ctx, s.ID, t1)
			require.NoError(t, err)
			require.False(t, info.PassphraseRequired)
			_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t1, nil)
			require.NoError(t, err, "Peek consumed the secret")
			_, err = st.Peek(ctx, s.ID, t1)
			require.ErrorIs(t, err, onetime.ErrNotFound)
			_, err = st.Peek(ctx, ps.ID, ps.ExpiresAt)
			require.ErrorIs(t, err, onetime.ErrNotFound, "expired")
			_, err = st.Reveal(ctx, ps.ID, onetime.Credentials{Check: []byte("wrong")}, t1, nil)
			require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
			_, err = st.Peek(ctx, ps.ID, t1)
			require.ErrorIs(t, err, onetime.ErrNotFound, "the attempt that reaches MaxAttemptsLimit burns the secret")
			rc, err = st.Receipt(ctx, pm.ID, t1)
			require.NoError(t, err)
			require.Equal(t, onetime.StateBurned, rc.State)
		})
	}
}
