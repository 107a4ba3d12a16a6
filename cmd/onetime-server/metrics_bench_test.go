package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/proc"
	"github.com/onetimego/onetime/internal/yardstick"
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

// BenchmarkBareHandler runs, in this process and without the network, the
// comparison that internal/cmd/bench makes over HTTP (issue 22): the bare
// handler (internal/yardstick) against the server's whole handler on the
// memory store, with the flags the bench gives it (-max-conns-per-addr 0
// -guess-limit=false, no -metrics-addr), serving the same requests: POST
// /api/v1/share of 100 bytes, and POST /api/v1/secret/KEY of a secret
// shared beforehand (outside the timing). What the two cost beyond
// net/http's own work shows here, with a CPU profile that holds nothing
// else: go test -run '^$' -bench BenchmarkBareHandler -cpuprofile cpu.out.
func BenchmarkBareHandler(b *testing.B) {
	log := slog.New(slog.DiscardHandler)
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	c, _, err := parseConfig(fs, []string{"-store", "memory", "-max-conns-per-addr", "0", "-guess-limit=false"},
		func(string) (string, bool) { return "", false })
	require.NoError(b, err)
	body := url.Values{"secret": {strings.Repeat("s", 100)}}.Encode()
	targets := []struct {
		name string
		new  func(b *testing.B) http.Handler
	}{
		{"bare", func(*testing.B) http.Handler { return yardstick.New() }},
		{"server", func(b *testing.B) http.Handler {
			tel, err := newTelemetry(c, log)
			require.NoError(b, err)
			svc, err := newService(c, memory.New(), tel, log)
			require.NoError(b, err)
			b.Cleanup(func() { svc.Close() })
			h, err := newHandler(c, svc, nil, nil, log, nil)
			require.NoError(b, err)
			return h
		}},
	}
	for _, mode := range []string{"share", "reveal"} {
		for _, t := range targets {
			b.Run(mode+"/"+t.name, func(b *testing.B) {
				h := t.new(b)
				var keys []string
				if mode == "reveal" {
					keys = make([]string, b.N)
					for i := range keys {
						keys[i] = secretKey(b, serveForm(h, "/api/v1/share", body, true))
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				start := proc.SelfCPU()
				for i := range b.N {
					path, form := "/api/v1/share", body
					if mode == "reveal" {
						path, form = "/api/v1/secret/"+keys[i], ""
					}
					if w := serveForm(h, path, form, false); w.status != http.StatusOK {
						b.Fatalf("status %d", w.status)
					}
				}
				b.ReportMetric(float64(proc.SelfCPU()-start)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// bodyWriter is a nullWriter that keeps the body when asked to.
type bodyWriter struct {
	nullWriter
	keep bool
	body []byte
}

func (w *bodyWriter) Write(p []byte) (int, error) {
	if w.keep {
		w.body = append(w.body, p...)
	}
	return w.nullWriter.Write(p)
}

// serveForm serves a POST of form to path, as the load generator sends it.
func serveForm(h http.Handler, path, form string, keep bool) *bodyWriter {
	u := &url.URL{Path: path}
	w := &bodyWriter{nullWriter: nullWriter{h: http.Header{}}, keep: keep}
	h.ServeHTTP(w, &http.Request{
		Method: "POST", URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "User-Agent": {"onetime-loadgen"}},
		Body:   io.NopCloser(strings.NewReader(form)), ContentLength: int64(len(form)),
		Host: "127.0.0.1:7143", RemoteAddr: "127.0.0.1:54321", RequestURI: u.RequestURI(),
	})
	return w
}

// secretKey returns the secret_key of a share's answer.
func secretKey(b *testing.B, w *bodyWriter) string {
	var r struct {
		SecretKey string `json:"secret_key"`
	}
	require.Equal(b, http.StatusOK, w.status)
	require.NoError(b, json.Unmarshal(w.body, &r))
	require.NotEmpty(b, r.SecretKey)
	return r.SecretKey
}
