package webui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/telemetrytest"
)

// TestTelemetry serves the pages over a real server and checks what the
// handler records: requests by route pattern and status, failed guesses,
// a span per request with the Service's spans inside it; and that nothing
// recorded carries a key, an address, a value or a passphrase. The
// handler's providers are the Service's, as they are when its Options
// name none.
func TestTelemetry(t *testing.T) {
	t.Parallel()
	kit := telemetrytest.New(t)
	s := newSite(t, &onetime.Options{MeterProvider: kit.Meters, TracerProvider: kit.Tracers}, nil)
	const (
		secret     = "telemetry-value-9d3a"
		passphrase = "telemetry-pass-51c7"
		guess      = "wrong-guess-e02b"
	)
	receipt := s.share(url.Values{"secret": {secret}, "passphrase": {passphrase}})
	_, link := s.receipt(receipt)
	path := secretPath(t, s, link)
	require.Equal(t, http.StatusOK, s.get(path).status)
	require.Equal(t, http.StatusForbidden, s.post(path, url.Values{"passphrase": {guess}}).status)
	res := s.post(path, url.Values{"passphrase": {passphrase}})
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, secret, value(t, res.body))
	require.Equal(t, http.StatusOK, s.get("/static/style.css").status)
	require.Equal(t, http.StatusNotFound, s.get(path+"/and/more").status)
	require.Equal(t, http.StatusForbidden,
		s.do(http.MethodPost, "/share", url.Values{"secret": {secret}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}).status)
	require.Equal(t, http.StatusMethodNotAllowed, s.do("BREW", path, nil, nil).status)

	sk, mk := strings.TrimPrefix(path, "/secret/"), strings.TrimPrefix(receipt, "/private/")
	_, spans := kit.AssertNoLeak(t, secret, passphrase, guess, sk, mk, "127.0.0.1")

	rm := kit.Collect(t)
	const name = "onetime.http.request.duration"
	for _, c := range []struct {
		route  string
		status int
		n      uint64
	}{
		{"POST /share", http.StatusSeeOther, 1},
		{"POST /share", http.StatusForbidden, 1},
		{"GET /private/{metadata_key}", http.StatusOK, 1},
		{"GET /secret/{secret_key}", http.StatusOK, 1},
		{"POST /secret/{secret_key}", http.StatusForbidden, 1},
		{"POST /secret/{secret_key}", http.StatusOK, 1},
		{"GET /static/{file}", http.StatusOK, 1},
		{"unrouted", http.StatusNotFound, 1},
		// A method a client made up is not a series of its own.
		{"_OTHER /secret/{secret_key}", http.StatusMethodNotAllowed, 1},
	} {
		assert.Equal(t, c.n, telemetrytest.Count(rm, name, attribute.String("route", c.route), attribute.Int("status", c.status)),
			"%s %d", c.route, c.status)
	}
	assert.Equal(t, 9, telemetrytest.Points(rm, name))
	assert.Equal(t, int64(1), telemetrytest.Sum(rm, "onetime.http.failed_guesses"))

	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, sp := range spans {
		byID[sp.SpanContext.SpanID()] = sp
	}
	var reveals int
	for _, sp := range spans {
		if sp.Name == "onetime.reveal" {
			reveals++
			parent := byID[sp.Parent.SpanID()]
			assert.Equal(t, "POST /secret/{secret_key}", parent.Name)
			assert.Equal(t, trace.SpanKindServer, parent.SpanKind)
			assert.Equal(t, "github.com/onetimego/onetime/webui", parent.InstrumentationScope.Name)
		}
	}
	assert.Equal(t, 2, reveals)
}
