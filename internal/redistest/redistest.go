// Package redistest starts real redis-server processes for tests: a
// standalone server, and a three-master Redis Cluster, each on free
// loopback ports in a temporary directory. It never touches a Redis it did
// not start (the machine's own on 6379 included) and never flushes one.
//
// Tests call [Standalone] (a server of their own, which they may Stop and
// Restart, or Pause and Resume to stall it), [Shared] (one server per test binary, for benchmarks),
// [Cluster] (one three-master cluster per test binary) or [Sentinel]; the
// processes are killed when the test (or, for the shared ones, the test
// binary) ends, and by the kernel if the test binary dies. A package whose
// tests use [Cluster] or [Shared] should have a TestMain that calls [Main],
// so that they are started once per test binary rather than once per test:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
//
// Tests share servers, so each one isolates its keys under [Prefix].
//
// When redis-server is not on PATH the tests are skipped with a message,
// except under CI=true where they fail: CI must run them.
//
// [Yardstick] runs redis-benchmark against a server, the raw speed that a
// store's throughput is compared with in the same run.
//
// Programs that are not tests (a benchmark script, a load generator) can
// either start servers with [StartServer] and [StartCluster], which need no
// testing.TB, or start redis-server themselves and point the tests at it
// with the environment variables ONETIME_REDIS_ADDR (a standalone server,
// host:port) and ONETIME_REDIS_CLUSTER (comma-separated host:port of cluster
// masters). Tests then use those servers instead of starting their own and
// skip what they cannot do there (Stop, Restart, Pause).
package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime/internal/proc"
)

// Environment variables naming servers started outside the tests.
const (
	EnvAddr    = "ONETIME_REDIS_ADDR"
	EnvCluster = "ONETIME_REDIS_CLUSTER"
)

// startTimeout bounds how long a server or cluster may take to come up.
const startTimeout = 20 * time.Second

// ServerBinary is the redis-server executable; CLIBinary is redis-cli.
var (
	ServerBinary = "redis-server"
	CLIBinary    = "redis-cli"
)

// ErrNoRedis is returned by StartServer and StartCluster when redis-server
// or redis-cli is not on PATH.
var ErrNoRedis = errors.New("redistest: redis-server or redis-cli not found on PATH (install Debian's redis-server package)")

// Available reports whether redis-server and redis-cli can be run.
func Available() error {
	for _, b := range []string{ServerBinary, CLIBinary} {
		if _, err := exec.LookPath(b); err != nil {
			return ErrNoRedis
		}
	}
	return nil
}

// Require skips t when Redis is not available, or fails it when the
// environment variable CI is "true".
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvAddr) != "" || os.Getenv(EnvCluster) != "" {
		return
	}
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; CI=true, so the Redis tests must run", err)
		}
		t.Skipf("%v; skipping (set CI=true to make this a failure)", err)
	}
}

// A Server is one redis-server process on a loopback port, or an external
// server named by ONETIME_REDIS_ADDR.
type Server struct {
	// Addr is host:port of the server.
	Addr string

	dir      string
	args     []string
	external bool

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartServer starts a standalone redis-server in dir (created if needed)
// on a free loopback port and waits until it answers PING. extra are added
// to its command line ("--appendonly", "yes", ...). The caller must Stop it.
func StartServer(dir string, extra ...string) (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 { // a free port can be taken between probing and binding
		ports, err := proc.FreePorts(1)
		if err != nil {
			return nil, err
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])), dir: dir}
		s.args = append([]string{
			"--port", strconv.Itoa(ports[0]),
			"--bind", "127.0.0.1",
			"--dir", dir,
			"--save", "",
			"--appendonly", "no",
			"--logfile", "redis.log",
			"--daemonize", "no",
		}, extra...)
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// StartSentinel starts a Redis Sentinel in dir on a free loopback port,
// monitoring the primary at primaryAddr under the given name with a quorum
// of 1 and short timeouts (down after 1s), and waits until it answers
// PING. The caller must Stop it.
func StartSentinel(dir, name, primaryAddr string) (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(primaryAddr)
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "sentinel.conf") // Sentinel rewrites it
	text := fmt.Sprintf("sentinel monitor %[1]s %[2]s %[3]s 1\n"+
		"sentinel down-after-milliseconds %[1]s 1000\n"+
		"sentinel failover-timeout %[1]s 10000\n", name, host, port)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 {
		ports, err := proc.FreePorts(1)
		if err != nil {
			return nil, err
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])), dir: dir}
		s.args = []string{conf, "--sentinel",
			"--port", strconv.Itoa(ports[0]),
			"--bind", "127.0.0.1",
			"--dir", dir,
			"--logfile", "sentinel.log",
			"--daemonize", "no",
		}
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// Sentinel returns a Sentinel for t alone, monitoring primary as name,
// killed when t ends.
func Sentinel(t testing.TB, name string, primary *Server) *Server {
	t.Helper()
	Require(t)
	if primary.external {
		t.Skip("redistest: no Sentinel for an external server")
	}
	s, err := StartSentinel(t.TempDir(), name, primary.Addr)
	if err != nil {
		t.Fatalf("redistest: starting redis-sentinel: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Standalone returns a fresh redis-server for t alone, killed when t ends;
// or, when ONETIME_REDIS_ADDR is set, that server (shared: isolate keys
// with [Prefix]). extra are added to the server's command line.
func Standalone(t testing.TB, extra ...string) *Server {
	t.Helper()
	if addr := os.Getenv(EnvAddr); addr != "" {
		return &Server{Addr: addr, external: true}
	}
	Require(t)
	s, err := StartServer(t.TempDir(), extra...)
	if err != nil {
		t.Fatalf("redistest: starting redis-server: %v", err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// External reports whether the server was started outside this process.
func (s *Server) External() bool { return s.external }

func (s *Server) start() error {
	cmd := exec.Command(ServerBinary, s.args...)
	cmd.Dir = s.dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	proc.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	if err := waitPing(s.Addr, done); err != nil {
		s.Stop()
		log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
		return fmt.Errorf("%w\n%s%s", err, stderr.Bytes(), tail(log, 2000))
	}
	return nil
}

// Stop kills the server (SIGKILL: a crash, not a shutdown) and waits for it
// to exit. It is a no-op on a stopped or external server.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}

// Restart kills the server and starts it again on the same port and
// directory; with "--appendonly yes" it comes back with its data. t is
// skipped for an external server.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if s.external {
		t.Skip("redistest: cannot restart an external server")
	}
	s.Stop()
	if err := s.Start(); err != nil {
		t.Fatalf("redistest: restarting redis-server: %v", err)
	}
}

// Start starts a stopped server again on its port and directory.
func (s *Server) Start() error {
	if s.external {
		return errors.New("redistest: cannot start an external server")
	}
	var err error
	for range 50 { // the port may linger briefly after a kill
		if err = s.start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Client returns a new client of the server, closed when t ends.
func (s *Server) Client(t testing.TB) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// A ClusterServer is a Redis Cluster of three masters without replicas.
// (Named so because [Cluster] is the function tests call.)
type ClusterServer struct {
	// Addrs are host:port of the masters.
	Addrs []string

	nodes    []*Server
	dir      string
	external bool
}

// StartCluster starts three cluster-enabled redis-servers under dir on free
// loopback ports (their bus ports chosen free too), joins them with
// `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`,
// and waits until every node reports cluster_state:ok and all 16384 slots.
// The caller must Stop it.
func StartCluster(dir string) (*ClusterServer, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 {
		c, err := startCluster(dir)
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startCluster(dir string) (*ClusterServer, error) {
	c := &ClusterServer{dir: dir}
	for i := range 3 {
		var s *Server
		var err error
		for range 5 {
			var bus []int
			if bus, err = proc.FreePorts(1); err != nil {
				return nil, err
			}
			s, err = StartServer(filepath.Join(dir, fmt.Sprintf("node%d-%d", i, bus[0])),
				"--cluster-enabled", "yes",
				"--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", "5000",
				"--cluster-port", strconv.Itoa(bus[0]))
			if err == nil {
				break
			}
		}
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.nodes = append(c.nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, CLIBinary, args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, tail(out, 2000))
	}
	if err := c.waitOK(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// waitOK polls every node until it sees the whole cluster healthy.
func (c *ClusterServer) waitOK(ctx context.Context) error {
	for _, addr := range c.Addrs {
		cl := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
		for {
			info, err := cl.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_slots_ok:16384") &&
				strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			select {
			case <-ctx.Done():
				cl.Close()
				return fmt.Errorf("redistest: cluster not ok at %s: %v %q", addr, err, info)
			case <-time.After(50 * time.Millisecond):
			}
		}
		cl.Close()
	}
	return nil
}

// Stop kills every node of the cluster. It is a no-op on an external one.
func (c *ClusterServer) Stop() {
	for _, s := range c.nodes {
		s.Stop()
	}
}

// Client returns a new cluster client, closed when t ends.
func (c *ClusterServer) Client(t testing.TB) *goredis.ClusterClient {
	cl := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs})
	t.Cleanup(func() { cl.Close() })
	return cl
}

// Nodes returns the cluster's nodes (empty for an external cluster).
func (c *ClusterServer) Nodes() []*Server { return c.nodes }

var (
	mainCalled atomic.Bool

	shared struct {
		once    sync.Once
		cluster *ClusterServer
		err     error
		dir     string
	}
	sharedServer struct {
		once sync.Once
		srv  *Server
		err  error
		dir  string
	}
)

// Main runs the tests of m, then stops the cluster and the server that
// [Cluster] and [Shared] started for them, removes their directories, and
// exits. Call it from TestMain.
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	if shared.cluster != nil {
		shared.cluster.Stop()
	}
	if sharedServer.srv != nil {
		sharedServer.srv.Stop()
	}
	for _, d := range []string{shared.dir, sharedServer.dir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

// Shared returns a standalone server shared by the whole test binary under
// [Main] (isolate keys with [Prefix]); without Main, like [Standalone], a
// server for t alone. Benchmarks use it so that every benchmark, and the
// redis-benchmark yardstick, run against one server. When
// ONETIME_REDIS_ADDR is set, that server is used. Do not Stop or Restart
// a shared server.
func Shared(t testing.TB) *Server {
	t.Helper()
	if os.Getenv(EnvAddr) != "" || !mainCalled.Load() {
		return Standalone(t)
	}
	Require(t)
	sharedServer.once.Do(func() {
		sharedServer.dir, sharedServer.err = os.MkdirTemp("", "redistest-server-")
		if sharedServer.err == nil {
			sharedServer.srv, sharedServer.err = StartServer(sharedServer.dir)
		}
	})
	if sharedServer.err != nil {
		t.Fatalf("redistest: starting the shared server: %v", sharedServer.err)
	}
	return sharedServer.srv
}

// Cluster returns a three-master Redis Cluster. Under [Main], one cluster
// is started for the whole test binary and shared (isolate keys with
// [Prefix]); without it, each call starts a cluster killed when t ends.
// When ONETIME_REDIS_CLUSTER is set, that cluster is used.
func Cluster(t testing.TB) *ClusterServer {
	t.Helper()
	if env := os.Getenv(EnvCluster); env != "" {
		return &ClusterServer{Addrs: strings.Split(env, ","), external: true}
	}
	Require(t)
	if !mainCalled.Load() {
		c, err := StartCluster(t.TempDir())
		if err != nil {
			t.Fatalf("redistest: starting a cluster: %v", err)
		}
		t.Cleanup(c.Stop)
		return c
	}
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "redistest-cluster-")
		if shared.err == nil {
			shared.cluster, shared.err = StartCluster(shared.dir)
		}
	})
	if shared.err != nil {
		t.Fatalf("redistest: starting the shared cluster: %v", shared.err)
	}
	return shared.cluster
}

var prefixSeq atomic.Uint64

// Prefix returns a key prefix unique to this call in this process and run,
// such as "t1f3a:7:", so that tests sharing a server do not see each
// other's keys. It contains no hash tag braces.
func Prefix(t testing.TB) string {
	return fmt.Sprintf("t%x%x:%d:", os.Getpid(), time.Now().UnixNano()&0xfffff, prefixSeq.Add(1))
}

// waitPing waits until the server at addr answers PING, or exited is
// closed, or the start timeout passes.
func waitPing(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("redistest: redis-server exited at start")
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.SetDeadline(time.Now().Add(time.Second))
			_, err = conn.Write([]byte("PING\r\n"))
			buf := make([]byte, 16)
			var n int
			if err == nil {
				n, err = conn.Read(buf)
			}
			conn.Close()
			if err == nil && bytes.HasPrefix(buf[:n], []byte("+PONG")) {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("redistest: redis-server did not answer PING in time")
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
