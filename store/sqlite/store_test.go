package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/sqlite"
)

var t0 = time.Date(2031, 3, 4, 5, 6, 7, 891011000, time.UTC)

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
	s, m := synthetic(t0, owner)
	if err := st.Create(context.Background(), s, m); err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lock(t, path)

	start := time.Now()
	_, err = sqlite.Open(context.Background(), path, &sqlite.Options{BusyTimeout: 100 * time.Millisecond})
	if !errors.Is(err, sqlite.ErrBusy) {
		t.Fatalf("Open of a locked database: %v; want ErrBusy", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 30*time.Second {
		t.Errorf("Open gave up after %v; want the busy timeout", d)
	}
	t.Log(err)

	short, err := sqlite.Open(context.Background(), path+"2", &sqlite.Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	short.Close()

	// A write on a store whose file another process keeps locked.
	s, m := synthetic(t0, "")
	err = st.Create(context.Background(), s, m)
	if !errors.Is(err, sqlite.ErrBusy) {
		t.Fatalf("Create on a locked database: %v; want ErrBusy", err)
	}
	// Reads go on: WAL readers do not wait for the writer.
	if _, err := st.Receipt(context.Background(), m.ID, t0); !errors.Is(err, onetime.ErrNotFound) {
		t.Fatalf("Receipt while another connection writes: %v", err)
	}
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
	path := filepath.Join(t.TempDir(), "app.db")
	db := rawDB(t, "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_txlock=immediate")
	if _, err := db.Exec(`CREATE TABLE app_users (name TEXT)`); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.New(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, m := mustCreate(t, st, "owner")
	if _, err := st.Receipt(context.Background(), m.ID, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Reveal(context.Background(), s.ID, nil, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatalf("Close closed the caller's db: %v", err)
	}
	if _, err := db.Exec(`INSERT INTO app_users VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	// The caller's in-memory database on one connection works too.
	mem := rawDB(t, ":memory:")
	mem.SetMaxOpenConns(1)
	st, err = sqlite.New(context.Background(), mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, m = mustCreate(t, st, "owner")
	if _, err := st.Receipt(context.Background(), m.ID, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Reveal(context.Background(), s.ID, nil, t0); err != nil {
		t.Fatal(err)
	}
	if list, err := st.Recent(context.Background(), "owner", t0, 10); err != nil || len(list) != 1 {
		t.Fatal(len(list), err)
	}
}

func TestClosed(t *testing.T) {
	st := open(t, nil)
	_, m := mustCreate(t, st, "")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	s2, m2 := synthetic(t0, "")
	errs := map[string]error{"Create": st.Create(ctx, s2, m2), "MarkViewed": st.MarkViewed(ctx, m.ID, t0)}
	_, errs["Reveal"] = st.Reveal(ctx, m.SecretID, nil, t0)
	_, errs["Receipt"] = st.Receipt(ctx, m.ID, t0)
	_, errs["Burn"] = st.Burn(ctx, m.ID, t0)
	_, errs["Recent"] = st.Recent(ctx, "x", t0, 1)
	_, errs["Sweep"] = st.Sweep(ctx, t0)
	for name, err := range errs {
		if !errors.Is(err, sqlite.ErrClosed) {
			t.Errorf("%s after Close: %v; want ErrClosed", name, err)
		}
	}
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
					_, err = st.Burn(ctx, m.ID, at)
				} else {
					_, err = st.Reveal(ctx, s.ID, nil, at)
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && burn:
					burns++
				case err == nil:
					winners++
				case !errors.Is(err, onetime.ErrNotFound):
					t.Errorf("racer %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if winners+burns != 1 {
			t.Fatalf("round %d: %d reveals and %d burns won; want exactly one", round, winners, burns)
		}
		got, err := b.Receipt(ctx, m.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]onetime.State{true: onetime.StateBurned, false: onetime.StateReceived}[burns == 1]; got.State != want {
			t.Fatalf("round %d: receipt says %v", round, got.State)
		}
	}

	// Wrong passphrases through both handles are all counted.
	s, m := synthetic(t0, "")
	s.Check, s.MaxAttempts = []byte("right"), 1000
	m.PassphraseRequired = true
	if err := a.Create(ctx, s, m); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			if _, err := stores[i%2].Reveal(ctx, s.ID, []byte("wrong"), at); !errors.Is(err, onetime.ErrWrongPassphrase) {
				t.Errorf("wrong attempt: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := b.Reveal(ctx, s.ID, []byte("right"), at)
	if err != nil || got.Attempts != 64 {
		t.Fatalf("after 64 wrong attempts through two handles: %v, attempts %d", err, got.Attempts)
	}
}

// TestGroupCommit checks that concurrent writes share transactions and
// that one failing write fails alone.
func TestGroupCommit(t *testing.T) {
	st := open(t, nil)
	defer st.Close()
	ctx := context.Background()
	dup, dupM := mustCreate(t, st, "")
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			s, m := synthetic(t0, "g")
			if i%10 == 0 { // a duplicate secret id in the middle of a batch
				s.ID, m.SecretID = dup.ID, dup.ID
				if err := st.Create(ctx, s, m); !errors.Is(err, onetime.ErrExists) {
					t.Errorf("duplicate Create: %v", err)
				}
				if _, err := st.Receipt(ctx, m.ID, t0); !errors.Is(err, onetime.ErrNotFound) {
					t.Errorf("a rejected Create left its receipt: %v", err)
				}
				return
			}
			if err := st.Create(ctx, s, m); err != nil {
				t.Error(err)
				return
			}
			if _, err := st.Reveal(ctx, s.ID, nil, t0); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := st.Reveal(ctx, dup.ID, nil, t0); err != nil {
		t.Fatalf("the original of the duplicates: %v", err)
	}
	if got, err := st.Receipt(ctx, dupM.ID, t0); err != nil || got.State != onetime.StateReceived {
		t.Fatalf("the original's receipt: %v", err)
	}
	if list, err := st.Recent(ctx, "g", t0, 1000); err != nil || len(list) != 180 {
		t.Fatalf("Recent = %d receipts, %v; want 180", len(list), err)
	}
	batches, ops := st.BatchStats()
	t.Logf("%d write operations in %d transactions", ops, batches)
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
	_, live := synthetic(t0.Add(30*24*time.Hour), "o")
	ls, _ := synthetic(t0.Add(30*24*time.Hour), "o")
	ls.MetadataID, live.SecretID = live.ID, ls.ID
	if err := st.Create(ctx, ls, live); err != nil {
		t.Fatal(err)
	}
	n, err := st.Sweep(ctx, t0.Add(15*24*time.Hour)) // past the 50 pairs' expiry, before the live pair's
	if err != nil || n != 100 {
		t.Fatalf("Sweep = %d, %v; want 100 rows", n, err)
	}
	if n, err := st.Sweep(ctx, t0.Add(15*24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("second Sweep = %d, %v; want 0", n, err)
	}
	if got, err := st.Receipt(ctx, live.ID, t0.Add(15*24*time.Hour)); err != nil || !got.SecretPresent {
		t.Fatalf("Sweep took a live pair: %v", err)
	}
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
		if _, err := st.Reveal(ctx, id, nil, t0); err != nil {
			t.Fatalf("a secret acknowledged before the crash: %v", err)
		}
		if _, err := st.Reveal(ctx, id, nil, t0); !errors.Is(err, onetime.ErrNotFound) {
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
				s, m := synthetic(t0, "crash")
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
			{"secure_delete", "1"},
		} {
			w, r, err := st.Pragma(p.name)
			if err != nil || w != p.want || r != p.want {
				t.Errorf("%+v: PRAGMA %s = %q on the writer, %q on a reader (%v); want %q", tc.opts, p.name, w, r, err, p.want)
			}
		}
		if w, r, err := st.Pragma("query_only"); err != nil || w != "0" || r != "1" {
			t.Errorf("query_only = %q on the writer, %q on a reader (%v); want 0, 1", w, r, err)
		}
		st.Close()
	}
	if _, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), &sqlite.Options{Synchronous: 9}); err == nil {
		t.Error("Open accepted an unknown Synchronous level")
	}
}

// TestConsumedLeavesNoBytes: a revealed or burned record's sealed bytes
// are overwritten in the file, not left in free space (secure_delete), so
// a copy of the file taken afterwards holds nothing of them.
func TestConsumedLeavesNoBytes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "onetime.db")
	st, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	marker := []byte("sealed-bytes-that-must-not-survive-")
	revealed, _ := synthetic(t0, "")
	revealed.Sealed = append(append([]byte{}, marker...), 'R')
	burned, bm := synthetic(t0, "")
	burned.Sealed = append(append([]byte{}, marker...), 'B')
	for _, p := range []struct {
		s *onetime.SealedSecret
		m *onetime.SealedMetadata
	}{{revealed, nil}, {burned, bm}} {
		m := p.m
		if m == nil {
			_, m = synthetic(t0, "")
			m.ID, m.SecretID = p.s.MetadataID, p.s.ID
		}
		if err := st.Create(ctx, p.s, m); err != nil {
			t.Fatal(err)
		}
	}
	st.Close() // the records are in the database file now
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), string(marker)) {
		t.Fatal("the marker is not in the file after Create: the test proves nothing")
	}
	if st, err = sqlite.Open(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Reveal(ctx, revealed.ID, nil, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Burn(ctx, bm.ID, t0); err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if strings.Contains(string(b), string(marker)) {
			t.Errorf("%s still holds the bytes of a consumed secret", filepath.Base(f))
		}
	}
}
