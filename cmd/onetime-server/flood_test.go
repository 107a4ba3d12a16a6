package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A hostile client must not be able to make the server hold much memory
// or starve the health check: 300 connections each sending up to 3 MiB of
// headers that never end, and 20 concurrent 3 MiB JSON bodies of 400,000
// unknown keys. With the old bound (a request line of three times the
// maximum value, 3 MiB) this test saw a 434 MiB peak and /status timing
// out at 2 s (the report that found it, on another run, measured 1.38 GB
// and 1.65 s).
//
// The server runs as a child process so that its peak resident memory
// (VmHWM) can be read from /proc; the flood is bounded, on loopback, and
// ends by itself.
func TestServerFlood(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the server's peak memory from /proc (Linux)")
	}
	if testing.Short() {
		t.Skip("a flood of some 100 MB over loopback")
	}
	const (
		conns       = 300
		headerBytes = 3 << 20
		chunk       = 16 << 10
		bodies      = 20
		unknownKeys = 400_000
		maxPeak     = 300 << 20 // bytes of peak RSS
		statusLimit = 2 * time.Second
	)
	bin := buildServer(t)
	// The flood comes from one address, and this test measures what the
	// server holds within its global bounds: the cap per address, which
	// would refuse most of it, is off (TestServerConnFloodFromOneAddr
	// tests it).
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("ab", 32)}, "-store", "memory", "-max-conns-per-addr", "0")
	addr := strings.TrimPrefix(s.url, "http://")
	pid := s.cmd.Process.Pid
	before := peakRSS(t, pid)

	// 300 connections, each sending header lines that never end.
	var (
		held    = make([]net.Conn, 0, conns)
		heldMu  sync.Mutex
		got431  atomic.Int64 // connections the server answered 431
		sent    atomic.Int64
		wg      sync.WaitGroup
		started sync.WaitGroup // every sender has begun
	)
	started.Add(conns + bodies)
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	pad := bytes.Repeat([]byte("a"), chunk)
	for range conns {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		heldMu.Lock()
		held = append(held, c)
		heldMu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Bounded, whatever the server does.
			c.SetDeadline(time.Now().Add(30 * time.Second))
			_, err := io.WriteString(c, "POST /api/v1/share HTTP/1.1\r\nHost: x\r\nX-Pad: ")
			started.Done()
			if err != nil {
				return
			}
			for n := 0; n < headerBytes; n += chunk {
				if _, err := c.Write(pad); err != nil {
					break // the server hung up
				}
				sent.Add(chunk)
			}
			// Loopback buffers take the whole 3 MiB even from a server
			// that stopped reading: its answer tells what it did.
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			line := make([]byte, len("HTTP/1.1 431"))
			if _, err := io.ReadFull(c, line); err == nil && string(line) == "HTTP/1.1 431" {
				got431.Add(1)
			}
		}()
	}

	// 20 JSON bodies of ~3 MiB: {"k":0,...} with 400,000 unknown keys,
	// sent at once with the headers above.
	body := unknownKeysJSON(unknownKeys)
	require.Less(t, len(body), 3*(1<<20)+64<<10, "the body must fit the handler's bound to be parsed")
	var (
		codes = make([]int, bodies)
		errs  = make([]error, bodies)
	)
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxConnsPerHost: bodies}}
	defer client.CloseIdleConnections()
	wg.Add(bodies)
	for i := range bodies {
		go func() {
			defer wg.Done()
			r := &signalReader{r: bytes.NewReader(body), first: started.Done}
			res, err := client.Post(s.url+"/api/v1/share", "application/json", r)
			r.signal() // in case the transport never read it
			if err != nil {
				// The server may refuse the body before reading it all
				// and close the connection while it is being sent: an
				// answer too. A timeout is not.
				if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
					errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					codes[i] = -1
					return
				}
				errs[i] = err
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			codes[i] = res.StatusCode
		}()
	}
	started.Wait() // every header and body is on its way

	// /status, asked while they are.
	probe := &http.Client{Timeout: statusLimit, Transport: &http.Transport{DisableKeepAlives: true}}
	var worst time.Duration
	for range 5 {
		t0 := time.Now()
		res, err := probe.Get(s.url + "/api/v1/status")
		require.NoError(t, err, "/status did not answer within %v under the flood", statusLimit)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, "%s", b)
		require.Contains(t, string(b), "nominal")
		worst = max(worst, time.Since(t0))
	}
	flooding := sent.Load()
	wg.Wait()
	for i := range bodies {
		require.NoError(t, errs[i], "body %d got no answer", i)
		assert.NotZero(t, codes[i])
	}

	peak := peakRSS(t, pid)
	t.Logf("header flood: %d connections, %d MiB sent (%d MiB when /status had answered 5 times), %d answered 431; "+
		"%d bodies of %d bytes answered %v (-1: connection closed while sending); /status worst of 5 during the flood %v; server peak RSS %d MiB (%d MiB before)",
		conns, sent.Load()>>20, flooding>>20, got431.Load(), bodies, len(body), codes,
		worst.Round(time.Millisecond), peak>>20, before>>20)
	assert.Less(t, peak, int64(maxPeak), "peak RSS")

	// The server still serves.
	code, rc := call(t, "POST", s.url+"/api/v1/share", "secret=after", "", "")
	require.Equal(t, 200, code, "%v", rc)
	s.stop(t)
}

// unknownKeysJSON returns {"secret":"x","aaa":0,...}: n keys of three
// characters (not all distinct: 91³ is more than 400,000, but keys repeat
// past it), each unknown to the API.
func unknownKeysJSON(n int) []byte {
	const alphabet = "#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"
	b := make([]byte, 0, 8*n+32)
	b = append(b, `{"secret":"x"`...)
	for i := range n {
		a := len(alphabet)
		b = append(b, ',', '"', alphabet[i%a], alphabet[i/a%a], alphabet[i/a/a%a], '"', ':', '0')
	}
	return append(b, '}')
}

// signalReader calls first when it is first read, or when signal is
// called, whichever comes first.
type signalReader struct {
	r     io.Reader
	once  sync.Once
	first func()
}

func (s *signalReader) signal() { s.once.Do(s.first) }

func (s *signalReader) Read(p []byte) (int, error) {
	s.signal()
	return s.r.Read(p)
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(t, err, line)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// TestServerConnFloodFromOneAddr: one client address holding slow-body
// connections must not lock other addresses out. Issue 19 found 2,100
// such connections from one address filling the 2,048-connection limit,
// /status timing out for everyone for 25 s. Here the server takes 100
// connections at once, and 110 come from 127.0.0.2, each a POST that
// promises a body it never sends; 127.0.0.1 then asks for /status.
//
// The kernel queues connections in the order they were made, so /status
// is behind the whole flood: without a cap per address the server
// accepts 100 of the flood and never reaches it.
func TestServerConnFloodFromOneAddr(t *testing.T) {
	const (
		maxConns = 100
		flood    = 110
		perAddr  = 64 // the default of -max-conns-per-addr
		answer   = time.Second
	)
	bin := buildServer(t)
	env := []string{"ONETIME_SECRET=" + strings.Repeat("ab", 32)}

	t.Run("capped", func(t *testing.T) {
		s := start(t, bin, env, "-store", "memory", "-max-conns", strconv.Itoa(maxConns))
		conns := slowBodies(t, s.url, flood)
		status, err := statusWithin(s.url, answer)
		require.NoError(t, err, "/status from another address under a flood from one")
		assert.Equal(t, http.StatusOK, status)

		// The connections past the cap were closed at once; the others
		// are still held by the server, waiting for their bodies.
		closed := closedWithin(conns, 2*time.Second)
		assert.Equal(t, flood-perAddr, closed, "connections from 127.0.0.2 closed past the cap of %d", perAddr)
	})

	t.Run("off", func(t *testing.T) {
		// The same flood with the cap off (-max-conns-per-addr 0) is the
		// lock-out the cap prevents.
		s := start(t, bin, env, "-store", "memory", "-max-conns", strconv.Itoa(maxConns), "-max-conns-per-addr", "0")
		slowBodies(t, s.url, flood)
		_, err := statusWithin(s.url, answer)
		var ne net.Error
		require.ErrorAs(t, err, &ne, "/status answered while %d connections were taken", maxConns)
		assert.True(t, ne.Timeout(), "%v", err)
	})
}

// slowBodies opens n connections from 127.0.0.2 to the server at u, each
// sending the headers of a POST /api/v1/share whose body never comes. It
// returns once every connection is established (queued in the server's
// kernel, if not accepted yet); the test's end closes them.
func slowBodies(t *testing.T, u string, n int) []net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	req := "POST /api/v1/share HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nsecret="
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := d.Dial("tcp", strings.TrimPrefix(u, "http://"))
		require.NoError(t, err)
		conns = append(conns, c)
		// A connection the server has closed already may refuse the
		// write: that is the cap at work, not an error of the test.
		c.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(c, req)
	}
	return conns
}

// statusWithin asks for /status from 127.0.0.1 on a new connection and
// gives up after d.
func statusWithin(u string, d time.Duration) (int, error) {
	probe := &http.Client{Timeout: d, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}).DialContext,
	}}
	res, err := probe.Get(u + "/api/v1/status")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}

// closedWithin counts the connections the server closes within d (a read
// that ends other than by its deadline), reading them all at once.
func closedWithin(conns []net.Conn, d time.Duration) int {
	var closed atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for _, c := range conns {
		wg.Go(func() {
			c.SetReadDeadline(deadline)
			_, err := io.Copy(io.Discard, c)
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				closed.Add(1)
			}
		})
	}
	wg.Wait()
	return int(closed.Load())
}
