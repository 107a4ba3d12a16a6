package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/proc"
	"github.com/onetimego/onetime/store/memory"
)

// nullWriter is the ResponseWriter of the benchmark: it keeps the status
// and drops the body.
type nullWriter struct {
	h      http.Header
	status int
}

func (w *nullWriter) Header() http.Header { return w.h }
func (w *nullWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *nullWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}

// BenchmarkShareMetrics measures what -metrics-addr costs a share: the
// server's whole handler (the API and the pages' mux, the guess limiter,
// the request deadline: newHandler with the default flags) on the memory
// store, serving POST /api/v1/share of 100 bytes, with the telemetry the
// server gives the library without -metrics-addr (metrics=off: no-op
// providers) and with it (metrics=on: the SDK MeterProvider that the
// Prometheus exporter reads, recording every request, Service call and
// store call). Scrapes are not part of it: one every 15 s or so costs a
// share nothing measurable. cpu-ns/op is the process's CPU time per
// share, steadier than ns/op on a shared machine.
//
// Within one go test run the two cases run one after the other, seconds
// apart; go test -count N would run each N times in a row instead. To
// compare them on a shared machine, repeat -count 1 runs and pair the
// cases of each, as internal/cmd/bench's section "Instrumentation cost"
// does.
func BenchmarkShareMetrics(b *testing.B) {
	log := slog.New(slog.DiscardHandler)
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	c, _, err := parseConfig(fs, []string{"-store", "memory"}, func(string) (string, bool) { return "", false })
	require.NoError(b, err)
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "metrics=off", true: "metrics=on"}[on]
		b.Run(name, func(b *testing.B) {
			c := c
			if on {
				c.metricsAddr = "127.0.0.1:0" // not listened on: the handler is not served here
			}
			tel, err := newTelemetry(c, log)
			require.NoError(b, err)
			b.Cleanup(func() { tel.close(context.Background()) })
			svc, err := newService(c, memory.New(), tel, log)
			require.NoError(b, err)
			b.Cleanup(func() { svc.Close() })
			h, err := newHandler(c, svc, nil, nil, log, nil)
			require.NoError(b, err)

			u := &url.URL{Path: "/api/v1/share"}
			body := "secret=" + strings.Repeat("s", 100)
			w := &nullWriter{h: http.Header{}}
			b.ReportAllocs()
			start := proc.SelfCPU()
			for b.Loop() {
				clear(w.h)
				w.status = 0
				h.ServeHTTP(w, &http.Request{
					Method: "POST", URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
					Header:        http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
					Body:          io.NopCloser(strings.NewReader(body)),
					ContentLength: int64(len(body)),
					Host:          "127.0.0.1:7143",
					RemoteAddr:    "127.0.0.1:54321",
					RequestURI:    u.RequestURI(),
				})
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
			b.ReportMetric(float64(proc.SelfCPU()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
