package frontdoor

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/onetimego/onetime/internal/telemetry"
)

// Telemetry of the requests a door admits, through the OpenTelemetry API
// (a no-op until the program installs an SDK):
//
//	onetime.http.request.duration{route, status}  histogram, seconds: its count counts the requests
//	onetime.http.rate_limited{limiter}            counter: "rate" or "guess"
//	onetime.http.failed_guesses                   counter
//
// route is the route's pattern as the access log names it ("POST
// /api/v1/secret/{secret_key}", "unrouted"), never the path, which may
// hold a key, with a method outside the standard ones named _OTHER; status
// is the intended status of the answer (X-OTS-Intended-Status when the
// API sends errors as 404). Every request is a server span named by its
// route, inside the caller's trace when a propagator (otel's global one)
// finds one in the headers, and the Service's spans nest inside it. No
// attribute carries a key, an address, a customer or a value.

// scopePrefix starts the instrumentation scope of a door: the package that
// serves it, e.g. github.com/onetimego/onetime/httpapi.
const scopePrefix = "github.com/onetimego/onetime/"

// maxMeasures bounds the attribute sets a door keeps made: routes and
// statuses are few, but a bound costs nothing.
const maxMeasures = 1024

// doorTelemetry holds a door's instruments.
type doorTelemetry struct {
	tracer   trace.Tracer // nil: no spans (a no-op provider)
	duration metric.Float64Histogram
	limited  metric.Int64Counter
	guesses  metric.Int64Counter

	byRate, byGuess telemetry.Measure

	// measures holds the attribute sets made so far, read without a lock
	// on every request; a new one replaces the map with a copy under mu.
	measures atomic.Pointer[map[routeStatus]telemetry.Measure]
	mu       sync.Mutex
}

type routeStatus struct {
	route  string
	status int
}

func newDoorTelemetry(name string, mp metric.MeterProvider, tp trace.TracerProvider) *doorTelemetry {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m := mp.Meter(scopePrefix + name)
	t := &doorTelemetry{
		tracer: telemetry.Tracer(tp, scopePrefix+name),
		duration: telemetry.Duration(m, "onetime.http.request.duration",
			"Duration of requests, by route and intended status; its count counts the requests."),
		limited: telemetry.Counter(m, "onetime.http.rate_limited", "{request}",
			"Requests refused by the rate limiter or the guess limiter, by limiter."),
		guesses: telemetry.Counter(m, "onetime.http.failed_guesses", "{guess}",
			"Failed guesses counted against the guess limit: bad credentials, unknown keys, wrong passphrases."),
		byRate:  telemetry.NewMeasure(attribute.String("limiter", "rate")),
		byGuess: telemetry.NewMeasure(attribute.String("limiter", "guess")),
	}
	t.measures.Store(&map[routeStatus]telemetry.Measure{})
	return t
}

// measure returns the attribute set of a route and status.
func (t *doorTelemetry) measure(route string, status int) telemetry.Measure {
	k := routeStatus{route, status}
	if m, ok := (*t.measures.Load())[k]; ok {
		return m
	}
	m := telemetry.NewMeasure(attribute.String("route", route), attribute.Int("status", status))
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.measures.Load()
	if _, ok := old[k]; !ok && len(old) < maxMeasures {
		ms := make(map[routeStatus]telemetry.Measure, len(old)+1)
		for k, v := range old {
			ms[k] = v
		}
		ms[k] = m
		t.measures.Store(&ms)
	}
	return m
}

// serverSpan is the option of a request's span, made once.
var serverSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

// start starts q's span, inside the caller's trace if the headers carry
// one, and its clock when a duration is to be recorded or logged. The
// span is named by the method until End names it by the route.
func (t *doorTelemetry) start(r *http.Request, q *Request, logging bool) {
	q.method, q.ctx = standardMethod(r.Method), r.Context()
	if t.tracer != nil {
		ctx := otel.GetTextMapPropagator().Extract(q.ctx, propagation.HeaderCarrier(r.Header))
		q.ctx, q.span = t.tracer.Start(ctx, q.method, serverSpan...)
	}
	if logging || t.duration.Enabled(q.ctx) {
		q.timed, q.start = true, telemetry.Clock()
	}
}

// Context returns the request's context: the http.Request's, with the
// request's span in it and the deadline of Options.Timeout. Serve the
// request with it, so that the Service's spans nest inside the request's
// and its work stops at the deadline.
func (q *Request) Context() context.Context { return q.ctx }

// IntendedStatus is the status that q's answer means: Intended when set
// (an error answer sent as 404, see httpapi's IntendedStatus), else the
// status sent, and 200 when nothing was written (net/http then sends 200).
func (q *Request) IntendedStatus() int {
	switch {
	case q.Intended != 0:
		return q.Intended
	case q.Status != 0:
		return q.Status
	}
	return http.StatusOK
}

// End ends q once its answer is written: it records its duration (and so
// counts it) by route and intended status, ends its span, and writes its
// access log line (Door.Log), and releases the deadline of
// Options.Timeout. route is the route's pattern as the access log names it
// ("POST /api/v1/share", "unrouted"), never the path.
func (d *Door) End(ctx context.Context, q *Request, route string) {
	t, status := d.tel, q.IntendedStatus()
	measured := q.timed && t.duration.Enabled(ctx)
	recording := q.span != nil && q.span.IsRecording()
	var named string
	if measured || recording {
		named = metricRoute(route)
	}
	if measured {
		t.duration.Record(ctx, telemetry.Seconds(q.start), t.measure(named, status).Record...)
	}
	if recording {
		if _, path, routed := strings.Cut(named, " "); routed {
			q.span.SetName(named)
			q.span.SetAttributes(attribute.String("http.route", path))
		}
		q.span.SetAttributes(attribute.String("http.request.method", q.method),
			attribute.Int("http.response.status_code", max(q.Status, http.StatusOK)),
			attribute.Int("onetime.intended_status", status))
		if status >= http.StatusInternalServerError {
			q.span.SetStatus(codes.Error, http.StatusText(status))
		}
	}
	if q.span != nil {
		q.span.End()
	}
	d.Log(ctx, q, route)
	if q.bound != nil {
		q.bound.release()
	}
}

// metricRoute is route with a method outside the standard ones named
// _OTHER, as OpenTelemetry's conventions do: a client chooses the method,
// and each one it made up would be a series of its own.
func metricRoute(route string) string {
	method, path, ok := strings.Cut(route, " ")
	if !ok || standardMethod(method) == method {
		return route
	}
	return "_OTHER " + path
}

// standardMethod returns method if it is one of HTTP's, and _OTHER if not.
func standardMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "_OTHER"
}
