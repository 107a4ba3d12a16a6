// Package pgtest starts real PostgreSQL servers for tests: initdb into a
// temporary directory, then the postgres server on a free loopback port,
// both from Debian's postgresql package (found under
// /usr/lib/postgresql/*/bin, the newest version first, or on PATH). It
// never touches a server it did not start (the machine's own on 5432
// included).
//
// initdb refuses to run as root, so when the test binary runs as root the
// binaries run as the "postgres" OS user, which owns the temporary
// directory; otherwise they run as the current user.
//
// initdb runs once per test binary, into a template directory; each server
// starts from a copy of it, in a second rather than several.
//
// Tests call [Shared] (one server per test binary, torn down by [Main])
// and isolate themselves in a fresh schema ([Server.Schema]) or database
// ([Server.Database]); a test that stops and restarts its server gets one
// of its own with [Start]. Servers are stopped when their test (or, for
// the shared one, the test binary) ends, and killed by the kernel if the
// test binary dies.
//
// When the binaries are missing the tests are skipped with a message,
// except under CI=true where they fail: CI must run them.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onetimego/onetime/internal/proc"
)

// startTimeout bounds how long a server may take to accept connections,
// crash recovery included.
const startTimeout = 60 * time.Second

// ErrNoPostgres is returned when initdb or postgres cannot be found.
var ErrNoPostgres = errors.New("pgtest: initdb and postgres not found under /usr/lib/postgresql/*/bin or on PATH (install Debian's postgresql package)")

// binGlob is where Debian's postgresql package puts its binaries.
var binGlob = "/usr/lib/postgresql/*/bin"

// BinDir returns the directory holding initdb, postgres and pg_dump: the
// newest /usr/lib/postgresql/VERSION/bin that has them, or the directory
// of initdb on PATH.
func BinDir() (string, error) {
	dirs, _ := filepath.Glob(binGlob)
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if executable(filepath.Join(d, "initdb")) && executable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if executable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Require skips t when PostgreSQL's binaries are missing, or fails it
// when the environment variable CI is "true".
func Require(t testing.TB) {
	t.Helper()
	if _, err := BinDir(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; CI=true, so the PostgreSQL tests must run", err)
			return
		}
		t.Skipf("%v; skipping (set CI=true to make this a failure)", err)
	}
}

// Config chooses how a server runs.
type Config struct {
	// Durable keeps fsync and full_page_writes on, for tests that crash
	// the server. Otherwise both are off: faster, and safe as long as the
	// machine itself does not crash.
	Durable bool
}

// A Server is one PostgreSQL server on a loopback port, with the
// superuser "postgres" and trust authentication.
type Server struct {
	// Port is the loopback TCP port the server listens on.
	Port int

	bin   string
	dir   string  // owned by the server's OS user; data/ and server.log inside
	runAs *osUser // nil: this process's user
	flags []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited
	paused []int         // the pids that Pause stopped, postmaster first

	admin     *pgxpool.Pool
	adminOnce sync.Once
	adminErr  error
}

// StartServer runs initdb in a new temporary directory and starts a
// server on a free loopback port. The caller must call Close.
func StartServer(cfg Config) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	runAs, err := serverUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, runAs: runAs}
	if err := s.initdb(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.flags = []string{
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "max_connections=200",
		"-c", "log_min_messages=warning",
		"-c", "log_min_error_statement=panic",
	}
	if !cfg.Durable {
		s.flags = append(s.flags, "-c", "fsync=off", "-c", "full_page_writes=off")
	}
	for range 5 { // a free port can be taken between probing and binding
		var ports []int
		if ports, err = proc.FreePorts(1); err != nil {
			break
		}
		s.Port = ports[0]
		if err = s.Start(); err == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

// An osUser is the user that initdb and postgres run as.
type osUser struct{ uid, gid uint32 }

// serverUser returns the user to run initdb and postgres as: "postgres"
// when this process is root (initdb refuses root), else nil (ourselves).
func serverUser() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs the OS user postgres to run initdb: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: unusable uid/gid of user postgres: %q/%q", u.Uid, u.Gid)
	}
	return &osUser{uid: uint32(uid), gid: uint32(gid)}, nil
}

// command returns a command running one of the binaries as the server's
// user, killed if this process dies.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	if !strings.Contains(name, "/") && name != "cp" {
		name = filepath.Join(s.bin, name)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	proc.DieWithParent(cmd)
	if s.runAs != nil {
		proc.RunAs(cmd, s.runAs.uid, s.runAs.gid)
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	return cmd
}

// template is a data directory that initdb made once per process: each
// server starts from a copy, which takes a fraction of initdb's time.
var template struct {
	once sync.Once
	dir  string
	err  error
}

func (s *Server) chown(dir string) error {
	if s.runAs == nil {
		return nil
	}
	return os.Chown(dir, int(s.runAs.uid), int(s.runAs.gid))
}

// initdb gives the server its data directory: a copy of the template.
func (s *Server) initdb() error {
	template.once.Do(func() {
		var dir string
		if dir, template.err = os.MkdirTemp("", "pgtest-template-"); template.err != nil {
			return
		}
		template.dir = dir
		t := &Server{bin: s.bin, dir: dir, runAs: s.runAs}
		if template.err = t.chown(dir); template.err != nil {
			return
		}
		out, err := t.command("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres",
			"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput()
		if err != nil {
			template.err = fmt.Errorf("pgtest: initdb: %v\n%s", err, tail(out, 2000))
		}
	})
	if template.err != nil {
		return template.err
	}
	if err := s.chown(s.dir); err != nil {
		return err
	}
	out, err := s.command("cp", "-a", filepath.Join(template.dir, "data"), filepath.Join(s.dir, "data")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: copying the template data directory: %v\n%s", err, tail(out, 2000))
	}
	return nil
}

// Start starts the server (again, after [Server.Crash] or
// [Server.Stop]) on its port and data directory, and waits until it
// accepts connections, crash recovery done.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("pgtest: server already running")
	}
	logFile, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	args := append([]string{"-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.Port)}, s.flags...)
	cmd := s.command("postgres", args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	if err := waitReady(s.URL("postgres"), done); err != nil {
		cmd.Process.Kill()
		<-done
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		return fmt.Errorf("%w\n%s", err, tail(log, 2000))
	}
	s.cmd, s.done = cmd, done
	return nil
}

func waitReady(dsn string, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("pgtest: postgres exited at start")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var c *pgx.Conn
		if c, err = pgx.Connect(ctx, dsn); err == nil {
			err = c.Ping(ctx)
			c.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("pgtest: postgres did not accept connections in time: %v", err)
}

// stop signals the server and waits for it to exit.
func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.resume() // a paused server would not act on sig
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd, s.done = nil, nil
}

// Crash stops the server as `pg_ctl stop -m immediate` does (SIGQUIT to
// the postmaster): every backend quits at once, nothing is flushed or
// checkpointed, and the next Start runs crash recovery from the WAL.
func (s *Server) Crash() { s.stop(syscall.SIGQUIT) }

// Stop shuts the server down as `pg_ctl stop -m fast` does (SIGINT).
func (s *Server) Stop() { s.stop(syscall.SIGINT) }

// Pause stops every process of the server with SIGSTOP, as a machine that
// stalls would: the postmaster first, so that it starts no new process,
// then each of its children (backends, checkpointer, WAL writer, ...).
// The kernel still accepts connections and takes what clients send into
// socket buffers, but nothing is read, run or answered until [Server.Resume].
// Stop, Crash and Close resume a paused server first. Linux only: it
// finds the children in /proc.
func (s *Server) Pause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("pgtest: server not running")
	}
	if s.paused != nil {
		return errors.New("pgtest: server already paused")
	}
	pid := s.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pgtest: pausing the postmaster: %w", err)
	}
	s.paused = []int{pid}
	// Once it is stopped, its list of children is final.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if state, _, err := procStat(pid); err != nil || state == 'T' {
			break
		}
		if time.Now().After(deadline) {
			s.resume()
			return errors.New("pgtest: the postmaster did not stop")
		}
	}
	kids, err := children(pid)
	if err != nil {
		s.resume()
		return err
	}
	for _, k := range kids {
		if syscall.Kill(k, syscall.SIGSTOP) == nil {
			s.paused = append(s.paused, k)
		}
	}
	return nil
}

// Resume continues the processes that [Server.Pause] stopped. It is a
// no-op on a server that is not paused.
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resume()
}

func (s *Server) resume() {
	for i := len(s.paused) - 1; i >= 0; i-- { // the postmaster last
		syscall.Kill(s.paused[i], syscall.SIGCONT)
	}
	s.paused = nil
}

// procStat returns the state letter and the parent's pid of process pid,
// from /proc/PID/stat.
func procStat(pid int) (state byte, ppid int, err error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, err
	}
	// "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
	var f []string
	if i := strings.LastIndexByte(string(b), ')'); i >= 0 {
		f = strings.Fields(string(b[i+1:]))
	}
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("pgtest: unreadable /proc/%d/stat", pid)
	}
	ppid, err = strconv.Atoi(f[1])
	return f[0][0], ppid, err
}

// children returns the pids of the processes whose parent is pid.
func children(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("pgtest: listing processes: %w", err)
	}
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid, err := procStat(p); err == nil && ppid == pid {
			out = append(out, p)
		}
	}
	return out, nil
}

// Log returns what the server wrote to its log so far: warnings and
// errors (log_min_messages=warning), among them the errors of statements.
func (s *Server) Log() (string, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, "server.log"))
	return string(b), err
}

// Close stops the server and removes its directory.
func (s *Server) Close() {
	if s.admin != nil {
		s.admin.Close()
	}
	s.Stop()
	os.RemoveAll(s.dir)
}

// BinDir returns the directory of the server's binaries (pg_dump, psql).
func (s *Server) BinDir() string { return s.bin }

// URL returns a connection string for the database db as the superuser.
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), Path: "/" + db,
		RawQuery: "sslmode=disable&connect_timeout=10"}
	return u.String()
}

// Admin returns a pool on the database "postgres", shared by the callers
// and closed by Close.
func (s *Server) Admin(t testing.TB) *pgxpool.Pool {
	t.Helper()
	s.adminOnce.Do(func() {
		s.admin, s.adminErr = pgxpool.New(context.Background(), s.URL("postgres"))
	})
	if s.adminErr != nil {
		t.Fatalf("pgtest: %v", s.adminErr)
	}
	return s.admin
}

var seq atomic.Uint64

// Name returns an identifier unique in this process, such as "t_4f2_17",
// for a schema or database.
func Name() string {
	return fmt.Sprintf("t_%x_%d", os.Getpid(), seq.Add(1))
}

// Schema creates a fresh schema in the database "postgres" and returns
// its name. It is left for the server's teardown to remove.
func (s *Server) Schema(t testing.TB) string {
	t.Helper()
	name := Name()
	if _, err := s.Admin(t).Exec(context.Background(), "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("pgtest: creating a schema: %v", err)
	}
	return name
}

// Database creates a fresh database and returns its name.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	name := Name()
	if _, err := s.Admin(t).Exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: creating a database: %v", err)
	}
	return name
}

// Pool returns a new pool on the database db, closed when t ends.
// configure, when not nil, may change the pool's configuration first.
func (s *Server) Pool(t testing.TB, db string, configure func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(s.URL(db))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if configure != nil {
		configure(cfg)
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// Start returns a server for t alone, closed when t ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	Require(t)
	s, err := StartServer(cfg)
	if err != nil {
		t.Fatalf("pgtest: starting postgres: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

var (
	mainCalled atomic.Bool
	shared     struct {
		once sync.Once
		srv  *Server
		err  error
	}
)

// Main runs the tests of m, then closes the server that [Shared] started
// for them, removes the template data directory, and exits. Call it from
// TestMain.
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Close()
	}
	if template.dir != "" {
		os.RemoveAll(template.dir)
	}
	os.Exit(code)
}

// Shared returns the server shared by the whole test binary under [Main]
// (isolate tests with [Server.Schema] or [Server.Database]); without
// Main, like [Start], a server for t alone. Do not stop it.
func Shared(t testing.TB) *Server {
	t.Helper()
	if !mainCalled.Load() {
		return Start(t, Config{})
	}
	Require(t)
	shared.once.Do(func() { shared.srv, shared.err = StartServer(Config{}) })
	if shared.err != nil {
		t.Fatalf("pgtest: starting the shared server: %v", shared.err)
	}
	return shared.srv
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
