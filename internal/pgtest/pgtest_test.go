package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A schema and a database of one's own on the shared server.
func TestSharedIsolation(t *testing.T) {
	srv := pgtest.Shared(t)
	require.Same(t, srv, pgtest.Shared(t), "one server per test binary")
	require.NotEqual(t, 5432, srv.Port)
	ctx := context.Background()

	a, b := srv.Schema(t), srv.Schema(t)
	require.NotEqual(t, a, b)
	admin := srv.Admin(t)
	_, err := admin.Exec(ctx, "CREATE TABLE "+a+".x (v int)")
	require.NoError(t, err)
	var n int
	require.NoError(t, admin.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = $1", b).Scan(&n))
	require.Zero(t, n, "a fresh schema is empty")

	db := srv.Database(t)
	pool := srv.Pool(t, db, nil)
	var name string
	require.NoError(t, pool.QueryRow(ctx, "SELECT current_database()").Scan(&name))
	require.Equal(t, db, name)
}

// A committed row survives an immediate shutdown (a crash) and restart.
func TestCrashRestart(t *testing.T) {
	srv := pgtest.Start(t, pgtest.Config{Durable: true})
	ctx := context.Background()
	pool := srv.Pool(t, "postgres", nil)
	_, err := pool.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
	require.NoError(t, err)

	start := time.Now()
	srv.Crash()
	t.Logf("crash took %v", time.Since(start))
	require.Error(t, pool.Ping(ctx), "the server is down")
	start = time.Now()
	require.NoError(t, srv.Start())
	t.Logf("restart took %v", time.Since(start))
	t.Cleanup(func() { start := time.Now(); srv.Stop(); t.Logf("stop took %v", time.Since(start)) })

	fresh := srv.Pool(t, "postgres", nil)
	var v int
	require.NoError(t, fresh.QueryRow(ctx, "SELECT v FROM kept").Scan(&v))
	require.Equal(t, 42, v)
}

// fakeTB records what Require does with a test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Skipf(string, ...any)  { f.skipped = true }
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }

// Without the binaries, tests skip; under CI=true they fail.
func TestRequireWithoutBinaries(t *testing.T) {
	defer pgtest.SetBinGlob("/nonexistent/*/bin")()
	t.Setenv("PATH", t.TempDir())
	_, err := pgtest.BinDir()
	require.ErrorIs(t, err, pgtest.ErrNoPostgres)

	t.Setenv("CI", "")
	var f fakeTB
	pgtest.Require(&f)
	require.True(t, f.skipped && !f.failed, "without CI: skipped")

	t.Setenv("CI", "true")
	f = fakeTB{}
	pgtest.Require(&f)
	require.True(t, f.failed && !f.skipped, "under CI=true: failed")
}

// A paused server accepts what is sent but answers nothing until it is
// resumed; then the statement sent meanwhile runs. Stop works on a paused
// server.
func TestPauseResume(t *testing.T) {
	srv := pgtest.Start(t, pgtest.Config{})
	ctx := context.Background()
	pool := srv.Pool(t, "postgres", nil)
	_, err := pool.Exec(ctx, "CREATE TABLE ran (v int)")
	require.NoError(t, err)

	require.NoError(t, srv.Pause())
	require.Error(t, srv.Pause(), "pausing a paused server")
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	require.Error(t, pool.Ping(short), "a paused server answered")

	// A statement sent while paused waits for the resume.
	done := make(chan error, 1)
	sent := time.Now()
	go func() {
		_, err := pool.Exec(ctx, "INSERT INTO ran VALUES (1)")
		done <- err
	}()
	time.Sleep(500 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("a paused server answered a statement: %v", err)
	default:
	}
	srv.Resume()
	require.NoError(t, <-done)
	require.GreaterOrEqual(t, time.Since(sent), 500*time.Millisecond)
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM ran").Scan(&n))
	require.Equal(t, 1, n)

	require.NoError(t, srv.Pause())
	start := time.Now()
	srv.Stop()
	require.Less(t, time.Since(start), 20*time.Second, "Stop of a paused server")
	require.Error(t, srv.Pause(), "pausing a stopped server")
}

// The server's log holds the errors of statements.
func TestLog(t *testing.T) {
	srv := pgtest.Shared(t)
	_, err := srv.Admin(t).Exec(context.Background(), "SELECT * FROM pgtest_no_such_table")
	require.Error(t, err)
	log, err := srv.Log()
	require.NoError(t, err)
	require.Contains(t, log, "pgtest_no_such_table")
}
