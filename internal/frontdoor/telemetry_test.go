package frontdoor

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"

	"github.com/onetimego/onetime/internal/telemetrytest"
)

func TestMetricRoute(t *testing.T) {
	for route, want := range map[string]string{
		"POST /api/v1/share":        "POST /api/v1/share",
		"GET /secret/{secret_key}":  "GET /secret/{secret_key}",
		"BREW /secret/{secret_key}": "_OTHER /secret/{secret_key}",
		"get /":                     "_OTHER /",
		"unrouted":                  "unrouted",
	} {
		assert.Equal(t, want, metricRoute(route), route)
	}
}

func TestIntendedStatus(t *testing.T) {
	assert.Equal(t, http.StatusOK, (&Request{}).IntendedStatus(), "nothing written is a 200")
	assert.Equal(t, http.StatusSeeOther, (&Request{Writer: Writer{Status: http.StatusSeeOther}}).IntendedStatus())
	assert.Equal(t, http.StatusUnauthorized,
		(&Request{Writer: Writer{Status: http.StatusNotFound}, Intended: http.StatusUnauthorized}).IntendedStatus())
}

// TestEnd checks what a door records of a request: its duration by route
// and intended status, and a server span named by its route, inside the
// caller's trace when the request carries a traceparent and a propagator
// is installed. It sets the global propagator, so it does not run in
// parallel.
func TestEnd(t *testing.T) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) })
	kit := telemetrytest.New(t)
	d := mustNew(t, Options{Name: "httpapi", MeterProvider: kit.Meters, TracerProvider: kit.Tracers})

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	r := httptest.NewRequest("POST", "/api/v1/secret/somekey", nil)
	r.Header.Set("Traceparent", "00-"+traceID+"-"+parentID+"-01")
	q := d.Begin(httptest.NewRecorder(), r)
	q.Intended, q.Message = http.StatusServiceUnavailable, "busy"
	q.WriteHeader(http.StatusNotFound) // as httpapi sends errors by default
	d.End(q.Context(), q, "POST /api/v1/secret/{secret_key}")

	rm := kit.Collect(t)
	assert.Equal(t, uint64(1), telemetrytest.Count(rm, "onetime.http.request.duration",
		attribute.String("route", "POST /api/v1/secret/{secret_key}"), attribute.Int("status", 503)))
	spans := kit.Spans()
	require.Len(t, spans, 1)
	s := spans[0]
	assert.Equal(t, "POST /api/v1/secret/{secret_key}", s.Name)
	assert.Equal(t, "github.com/onetimego/onetime/httpapi", s.InstrumentationScope.Name)
	assert.Equal(t, traceID, s.SpanContext.TraceID().String())
	assert.Equal(t, parentID, s.Parent.SpanID().String())
	assert.True(t, s.Parent.IsRemote())
	assert.ElementsMatch(t, []attribute.KeyValue{
		attribute.String("http.route", "/api/v1/secret/{secret_key}"),
		attribute.String("http.request.method", "POST"),
		attribute.Int("http.response.status_code", 404),
		attribute.Int("onetime.intended_status", 503),
	}, s.Attributes)
	assert.Equal(t, codes.Error, s.Status.Code)
}
