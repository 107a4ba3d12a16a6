package httpapi

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/internal/telemetrytest"
	"github.com/onetimego/onetime/ratelimit"
	"github.com/onetimego/onetime/store/memory"
)

func routeStatus(route string, status int) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("route", route), attribute.Int("status", status)}
}

// TestTelemetry serves requests of every kind over a real server and
// checks what the handler records: requests by route pattern and intended
// status, failed guesses, a span per request with the Service's spans
// inside it; and that nothing recorded carries a key, a token, a customer,
// an address, a value or a passphrase. The handler's providers are the
// Service's, as they are when its Options name none.
func TestTelemetry(t *testing.T) {
	kit := telemetrytest.New(t)
	e := newEnv(t, &onetime.Options{MeterProvider: kit.Meters, TracerProvider: kit.Tracers},
		&Options{Auth: access.NewBasicAuth(testUsers)})
	const (
		value      = "telemetry-value-2b7e"
		passphrase = "telemetry-pass-c41d"
		guess      = "wrong-guess-88f0"
	)
	shared := e.do(req{method: "POST", path: "/api/v1/share", ctype: "application/x-www-form-urlencoded",
		body: url.Values{"secret": {value}, "passphrase": {passphrase}}.Encode(), user: "alice", pass: "alicetoken"}).ok(t)
	sk, mk := shared.str(t, "secret_key"), shared.str(t, "metadata_key")
	e.post("/api/v1/secret/"+sk, "passphrase="+guess).fails(t, 404, unknown(sk))
	got := e.post("/api/v1/secret/"+sk, "passphrase="+passphrase).ok(t)
	assert.Equal(t, value, got.str(t, "value"))
	e.get("/api/v1/private/" + mk).ok(t)
	e.post("/api/v1/private/"+mk+"/burn", "").fails(t, 404, unknown(mk))
	e.get("/api/v1/no/such/" + sk)
	e.do(req{method: "GET", path: "/api/v1/authcheck", user: "alice", pass: "not-the-token"})
	e.get("/api/v1/status").ok(t)

	secrets := []string{value, passphrase, guess, sk, mk, "alice", "alicetoken", "not-the-token", "127.0.0.1"}
	_, spans := kit.AssertNoLeak(t, secrets...)

	rm := kit.Collect(t)
	const name = "onetime.http.request.duration"
	for _, c := range []struct {
		route  string
		status int
	}{
		{"POST /api/v1/share", 200},
		{"POST /api/v1/secret/{secret_key}", 404},
		{"POST /api/v1/secret/{secret_key}", 200},
		{"GET /api/v1/private/{metadata_key}", 200},
		{"POST /api/v1/private/{metadata_key}/burn", 404},
		{"unrouted", 404},
		{"GET /api/v1/authcheck", 401},
		{"GET /api/v1/status", 200},
	} {
		assert.Equal(t, uint64(1), telemetrytest.Count(rm, name, routeStatus(c.route, c.status)...), "%s %d", c.route, c.status)
	}
	assert.Equal(t, 8, telemetrytest.Points(rm, name))
	// The failed guesses: the wrong passphrase, the burn of a secret gone
	// and the bad token (an unrouted path is no guess).
	assert.Equal(t, int64(3), telemetrytest.Sum(rm, "onetime.http.failed_guesses"))
	assert.Equal(t, uint64(1), telemetrytest.Count(rm, "onetime.operation.duration",
		attribute.String("operation", "share"), attribute.String("outcome", "ok")))

	// A span per request, named by its route, with the Service's inside.
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
	}
	var requests int
	for _, s := range spans {
		switch s.Name {
		case "POST /api/v1/share", "POST /api/v1/secret/{secret_key}", "GET /api/v1/private/{metadata_key}",
			"POST /api/v1/private/{metadata_key}/burn", "GET /api/v1/authcheck", "GET /api/v1/status", "GET":
			requests++
			assert.Equal(t, trace.SpanKindServer, s.SpanKind, s.Name)
			assert.Equal(t, "github.com/onetimego/onetime/httpapi", s.InstrumentationScope.Name)
			assert.False(t, s.Parent.IsValid(), "%s: a request without a traceparent starts a trace", s.Name)
		case "onetime.share":
			parent := byID[s.Parent.SpanID()]
			assert.Equal(t, "POST /api/v1/share", parent.Name)
		case "onetime.store.create":
			parent := byID[s.Parent.SpanID()]
			assert.Equal(t, "onetime.share", parent.Name)
		}
	}
	assert.Equal(t, 8, requests)
}

// TestTelemetryRateLimited checks that requests refused by the rate
// limiter and the guess limiter are counted by limiter, and by route with
// the intended status 429.
func TestTelemetryRateLimited(t *testing.T) {
	kit := telemetrytest.New(t)
	e := newEnv(t, &onetime.Options{MeterProvider: kit.Meters, TracerProvider: kit.Tracers},
		&Options{RateLimiter: ratelimit.New(ratelimit.Options{Burst: 1, PerSecond: 1e-6})})
	e.share("secret=v")
	e.post("/api/v1/share", "secret=v").fails(t, 429, `{"message":"Cripes! You have been rate limited."}`)
	rm := kit.Collect(t)
	assert.Equal(t, int64(1), telemetrytest.Sum(rm, "onetime.http.rate_limited", attribute.String("limiter", "rate")))
	assert.Equal(t, uint64(1), telemetrytest.Count(rm, "onetime.http.request.duration", routeStatus("POST /api/v1/share", 429)...))

	kit = telemetrytest.New(t)
	e = newEnv(t, &onetime.Options{MeterProvider: kit.Meters, TracerProvider: kit.Tracers},
		&Options{GuessLimiter: ratelimit.NewGuessLimiter(&ratelimit.GuessOptions{Burst: 1, PerSecond: 1e-6})})
	key := "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij"
	e.post("/api/v1/secret/"+key, "").fails(t, 404, unknown(key))
	e.post("/api/v1/secret/"+key, "").fails(t, 429, `{"message":"Cripes! You have been rate limited.","secret_key":"`+key+`"}`)
	rm = kit.Collect(t)
	assert.Equal(t, int64(1), telemetrytest.Sum(rm, "onetime.http.failed_guesses"))
	assert.Equal(t, int64(1), telemetrytest.Sum(rm, "onetime.http.rate_limited", attribute.String("limiter", "guess")))
	require.Equal(t, uint64(1), telemetrytest.Count(rm, "onetime.http.request.duration",
		routeStatus("POST /api/v1/secret/{secret_key}", 429)...))
}

// BenchmarkShareHTTPTelemetry is BenchmarkShareHTTP's default case with
// the telemetry of the Service and the handler: with the OpenTelemetry
// API alone (the global no-op providers: what a program that installs no
// SDK pays), with an SDK MeterProvider recording every metric (a
// ManualReader, as a Prometheus exporter would be, never read here), the
// same with tracing turned off by a no-op TracerProvider (what a server
// that exports metrics only would give), and with an SDK TracerProvider
// recording every span besides. Compare
// otel=metrics with otel=off, or with BenchmarkShareHTTP/default built
// without the instrumentation, for the cost of metrics on a share.
func BenchmarkShareHTTPTelemetry(b *testing.B) {
	for _, c := range []struct {
		name   string
		meters metric.MeterProvider
		traces trace.TracerProvider
	}{
		{"otel=off", nil, nil},
		{"otel=metrics", sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())), nil},
		{"otel=metrics-notrace", sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
			tracenoop.NewTracerProvider()},
		{"otel=metrics+traces", sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
			sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))},
	} {
		b.Run(c.name, func(b *testing.B) {
			svc, err := onetime.New(memory.New(), testSecret,
				&onetime.Options{Logger: discardLogger(), MeterProvider: c.meters, TracerProvider: c.traces})
			require.NoError(b, err)
			b.Cleanup(func() { svc.Close() })
			h, err := New(svc, &Options{Logger: discardLogger()})
			require.NoError(b, err)
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
