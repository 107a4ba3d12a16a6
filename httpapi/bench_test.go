package httpapi

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/proc"
	"github.com/onetimego/onetime/store/memory"
)

// The benchmarks of this file measure what the handler costs a request
// on top of the service: run them with -benchmem (they report
// allocations anyway) and compare with `go test -bench . -count 10` and
// benchstat across a change. The *HTTP benchmarks call ServeHTTP directly
// with a reused ResponseWriter, so that their allocations are the
// handler's and the service's alone; BenchmarkShareLoopback goes through
// a real net/http server on loopback, as a client sees it.

// cpuMetric reports the process's CPU time (user and system, all threads:
// the garbage collector's included) per operation as cpu-ns/op, which
// stays meaningful on a loaded machine where ns/op (wall time) does not.
// Call it after b.ReportAllocs and before the loop; it reports when the
// benchmark ends. CPU time added to what it returns (spent with the timer
// stopped) is left out.
func cpuMetric(b *testing.B) *time.Duration {
	start := proc.SelfCPU()
	var untimed time.Duration
	b.Cleanup(func() {
		if b.N > 0 {
			b.ReportMetric(float64(proc.SelfCPU()-start-untimed)/float64(b.N), "cpu-ns/op")
		}
	})
	return &untimed
}

// benchValue is the value the benchmarks share: 100 bytes, as in the
// load tests of issue 14.
var benchValue = strings.Repeat("s", 100)

// benchHandler returns a handler on the memory store with the defaults a
// server runs with (no access log, no limiter, anonymous callers).
func benchHandler(b *testing.B, opts *Options) (*Handler, *onetime.Service) {
	b.Helper()
	svc, err := onetime.New(memory.New(), testSecret, &onetime.Options{Logger: discardLogger()})
	require.NoError(b, err)
	b.Cleanup(func() { svc.Close() })
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = discardLogger()
	}
	h, err := New(svc, &o)
	require.NoError(b, err)
	return h, svc
}

// benchWriter is a ResponseWriter that keeps the status and the body's
// length, and is reset between requests.
type benchWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}
func (w *benchWriter) reset() { clear(w.h); w.status, w.n = 0, 0 }

// formRequest returns a POST of a form body to target, as a server hands
// it to a handler.
func formRequest(u *url.URL, body string) *http.Request {
	return &http.Request{
		Method: "POST", URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Host:          "127.0.0.1:7143",
		RemoteAddr:    "127.0.0.1:54321",
		RequestURI:    u.RequestURI(),
	}
}

func BenchmarkShareHTTP(b *testing.B) {
	for _, c := range []struct {
		name string
		opts *Options
	}{
		{"default", nil},
		{"accesslog", &Options{AccessLog: discardJSONLogger()}},
	} {
		b.Run(c.name, func(b *testing.B) {
			h, _ := benchHandler(b, c.opts)
			u := &url.URL{Path: "/api/v1/share"}
			body := "secret=" + benchValue
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			cpuMetric(b)
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, formRequest(u, body))
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}

// discardJSONLogger formats every record as JSON and throws it away: the
// cost of an access log line without that of the write.
func discardJSONLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// BenchmarkShareService is BenchmarkShareHTTP's service call alone: the
// difference between the two is what the handler adds.
func BenchmarkShareService(b *testing.B) {
	_, svc := benchHandler(b, nil)
	ctx := onetime.WithCaller(context.Background(), onetime.Caller{Address: "127.0.0.1"})
	b.ReportAllocs()
	cpuMetric(b)
	for b.Loop() {
		if _, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte(benchValue)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRevealHTTP(b *testing.B) {
	h, svc := benchHandler(b, nil)
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	untimed := cpuMetric(b)
	// Secrets are shared beforehand, b.N at a time, outside the timer.
	var urls []*url.URL
	for b.Loop() {
		if len(urls) == 0 {
			b.StopTimer()
			t0 := proc.SelfCPU()
			for range 1000 {
				rc, err := svc.Share(context.Background(), onetime.ShareRequest{Value: []byte(benchValue)})
				require.NoError(b, err)
				urls = append(urls, &url.URL{Path: "/api/v1/secret/" + string(rc.SecretKey)})
			}
			*untimed += proc.SelfCPU() - t0
			b.StartTimer()
		}
		u := urls[len(urls)-1]
		urls = urls[:len(urls)-1]
		w.reset()
		h.ServeHTTP(w, formRequest(u, ""))
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

func BenchmarkStatusHTTP(b *testing.B) {
	h, _ := benchHandler(b, nil)
	u := &url.URL{Path: "/api/v1/status"}
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	cpuMetric(b)
	for b.Loop() {
		w.reset()
		r := formRequest(u, "")
		r.Method, r.Body, r.ContentLength = "GET", http.NoBody, 0
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkShareLoopback shares through a real net/http server on
// loopback, one keep-alive connection per parallel client speaking raw
// HTTP/1.1 (a light client, so that the server's part shows). Allocations
// are the process's: server and client.
func BenchmarkShareLoopback(b *testing.B) {
	h, _ := benchHandler(b, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	srv := &http.Server{Handler: h, MaxHeaderBytes: RecommendedMaxHeaderBytes}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	body := "secret=" + benchValue
	reqBytes := []byte("POST /api/v1/share HTTP/1.1\r\nHost: " + ln.Addr().String() +
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	b.ReportAllocs()
	cpuMetric(b)
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for pb.Next() {
			if _, err := c.Write(reqBytes); err != nil {
				b.Error(err)
				return
			}
			if err := readAnswer(br); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// readAnswer reads one HTTP/1.1 answer with a Content-Length and checks
// that it is a 200.
func readAnswer(br *bufio.Reader) error {
	status, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(status), "HTTP/1.1 200 ") {
		return &url.Error{Op: "answer", Err: io.ErrUnexpectedEOF}
	}
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		s := strings.TrimSpace(string(line))
		if s == "" {
			break
		}
		if v, ok := strings.CutPrefix(s, "Content-Length: "); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	if n < 0 {
		return io.ErrUnexpectedEOF
	}
	_, err = br.Discard(n)
	return err
}
