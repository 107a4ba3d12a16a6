package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// metricsURL returns the URL of s's /metrics, from the line the server
// logs when -metrics-addr listens (before "listening", which start waits
// for).
func (s *server) metricsURL(t *testing.T) string {
	t.Helper()
	for line := range strings.Lines(s.logs.String()) {
		var m struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &m) == nil && m.Msg == "metrics listening" {
			return "http://" + m.Addr + "/metrics"
		}
	}
	t.Fatalf("no metrics listener in the logs:\n%s", s.logs)
	return ""
}

// scrape fetches u and parses the Prometheus text format, returning the
// families by name and the body as served.
func scrape(t *testing.T, u string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	res, err := http.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/plain")
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "%s", body)
	return mfs, string(body)
}

// series returns the value of the series of family name whose labels
// include want: a counter's or gauge's value, a histogram's count; 0 when
// there is none.
func series(mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	mf := mfs[name]
	if mf == nil {
		return 0
	}
	var sum float64
	for _, m := range mf.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// runClient makes the requests of a metrics test: from the client address
// it names in X-Forwarded-For (the server trusts it from loopback), with
// HTTP Basic credentials when user is set.
type runClient struct {
	t          *testing.T
	base       string
	from       string
	user, pass string
}

func (c runClient) do(method, path string, form url.Values) (int, map[string]any) {
	c.t.Helper()
	r, err := http.NewRequest(method, c.base+path, strings.NewReader(form.Encode()))
	require.NoError(c.t, err)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Forwarded-For", c.from)
	if c.user != "" {
		r.SetBasicAuth(c.user, c.pass)
	}
	res, err := noRedirects.Do(r)
	require.NoError(c.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	var m map[string]any
	if strings.HasPrefix(path, "/api/") {
		require.NoError(c.t, json.Unmarshal(b, &m), "%s %s: %d %s", method, path, res.StatusCode, b)
	} else {
		m = map[string]any{"location": res.Header.Get("Location")}
	}
	return res.StatusCode, m
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// metricsRun is what a run of requests made, and every string that no
// metric may carry: the keys, values, passphrases, customer, token and
// client addresses it used.
type metricsRun struct {
	shares, pageShares, reveals, wrongPassphrases, burns int
	forbidden                                            []string
}

// runRequests shares and reveals through the API and the pages of the
// server at base, as customer (with token) and anonymously, each request
// from an address of its own, with a passphrase, a wrong one, an unknown
// key, a receipt, a burn, a notification and requests past the rate
// limit.
func runRequests(t *testing.T, base, customer, token string) metricsRun {
	t.Helper()
	var run metricsRun
	run.forbidden = []string{customer, token, "127.0.0.1"}
	addrN := 0
	from := func() runClient {
		addrN++
		a := fmt.Sprintf("203.0.113.%d", 100+addrN)
		if addrN%2 == 0 {
			a = fmt.Sprintf("2001:db8:%x::1", 0xabc0+addrN)
		}
		run.forbidden = append(run.forbidden, a)
		return runClient{t: t, base: base, from: a}
	}
	secret := func() string {
		v := "value-" + rand.Text()
		run.forbidden = append(run.forbidden, v)
		return v
	}
	type shared struct{ sk, mk, passphrase string }
	var secrets []shared
	for i := range 6 {
		c := from()
		form := url.Values{"secret": {secret()}}
		var pass string
		if i%3 == 0 {
			pass = "pass-" + rand.Text()
			run.forbidden = append(run.forbidden, pass)
			form.Set("passphrase", pass)
		}
		if i == 4 { // a customer: anonymous callers send no e-mail
			form.Set("recipient", "rcpt-"+strings.ToLower(rand.Text())+"@example.com")
			run.forbidden = append(run.forbidden, form.Get("recipient"))
		}
		if i >= 4 {
			c.user, c.pass = customer, token
		}
		code, rc := c.do("POST", "/api/v1/share", form)
		require.Equal(t, http.StatusOK, code, "%v", rc)
		sk, mk := rc["secret_key"].(string), rc["metadata_key"].(string)
		run.forbidden = append(run.forbidden, sk, mk)
		secrets = append(secrets, shared{sk, mk, pass})
		run.shares++
	}
	// One through the pages.
	code, m := from().do("POST", "/share", url.Values{"secret": {secret()}})
	require.Equal(t, http.StatusSeeOther, code, "%v", m)
	pageKey, ok := strings.CutPrefix(m["location"].(string), "./private/")
	require.True(t, ok, "%v", m)
	run.forbidden = append(run.forbidden, pageKey)
	run.pageShares++
	code, _ = from().do("GET", "/private/"+pageKey, nil)
	require.Equal(t, http.StatusOK, code)

	// A wrong passphrase, then the right one.
	code, m = from().do("POST", "/api/v1/secret/"+secrets[0].sk, url.Values{"passphrase": {"wrong-" + rand.Text()}})
	require.Equal(t, http.StatusNotFound, code, "%v", m)
	run.wrongPassphrases++
	for _, s := range secrets[:4] {
		code, m = from().do("POST", "/api/v1/secret/"+s.sk, url.Values{"passphrase": {s.passphrase}})
		require.Equal(t, http.StatusOK, code, "%v", m)
		run.reveals++
	}
	// Receipts: received, then new; a burn; an unknown key.
	for _, s := range secrets[3:5] {
		code, m = from().do("GET", "/api/v1/private/"+s.mk, nil)
		require.Equal(t, http.StatusOK, code, "%v", m)
	}
	c := from()
	c.user, c.pass = customer, token
	code, m = c.do("POST", "/api/v1/private/"+secrets[5].mk+"/burn", nil)
	require.Equal(t, http.StatusOK, code, "%v", m)
	run.burns++
	unknown := randomKey()
	run.forbidden = append(run.forbidden, unknown)
	code, _ = from().do("POST", "/api/v1/secret/"+unknown, nil)
	require.Equal(t, http.StatusNotFound, code)

	// One address past the rate limit (-burst) on the pages, then on the
	// API, whose budget is the same.
	c = from()
	limited := 0
	for range 8 {
		if code, _ := c.do("GET", "/", nil); code == http.StatusTooManyRequests {
			limited++
		}
	}
	require.Positive(t, limited, "the rate limit was never met")
	// The API answers it as the v1 API answers every error, 404, and its
	// metric says what it means: 429.
	code, m = c.do("GET", "/api/v1/share", nil)
	require.Equal(t, http.StatusNotFound, code, "%v", m)
	require.Equal(t, "Cripes! You have been rate limited.", m["message"])
	return run
}

// writeCustomer writes a users file with one customer of random name and
// token.
func writeCustomer(t *testing.T) (path, customer, token string) {
	customer, token = "cust-"+strings.ToLower(rand.Text()), "tok-"+rand.Text()
	path = filepath.Join(t.TempDir(), "users")
	require.NoError(t, os.WriteFile(path, []byte(customer+":"+token+"\n"), 0o600))
	return path, customer, token
}

// metricsArgs are the flags of a server for the metrics tests: metrics
// on a loopback port of their own, the client's address from
// X-Forwarded-For (so that a run comes from many), a rate limit, a sweep
// every 100ms.
func metricsArgs(users string) []string {
	return []string{"-store", "memory", "-users", users, "-metrics-addr", "127.0.0.1:0",
		"-trusted-proxies", "127.0.0.1", "-client-ip-header", "X-Forwarded-For",
		"-rate", "1", "-burst", "5", "-sweep-interval", "100ms"}
}

// TestServerMetrics scrapes -metrics-addr after a run of shares and
// reveals: every name starts with onetime_, the counts are the run's, no
// label value (nor anything else served) carries a key, customer, token,
// client address, passphrase or value used in the run, and the public
// listener does not serve the metrics.
func TestServerMetrics(t *testing.T) {
	bin := buildServer(t)
	users, customer, token := writeCustomer(t)
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("cd", 32)}, metricsArgs(users)...)
	run := runRequests(t, s.url, customer, token)
	s.waitLog(t, `"msg":"a notification would go out`, 1)
	mfs, body := scrape(t, s.metricsURL(t))

	require.NotEmpty(t, mfs)
	var values []string
	for name, mf := range mfs {
		assert.True(t, strings.HasPrefix(name, "onetime_"), "metric %s does not start with onetime_", name)
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				values = append(values, l.GetName()+"="+l.GetValue())
			}
		}
	}
	require.NotEmpty(t, values)
	for _, f := range run.forbidden {
		require.NotEmpty(t, f)
		for _, v := range values {
			assert.NotContains(t, v, f, "a label value carries something of the run")
		}
		assert.NotContains(t, body, f, "/metrics carries something of the run")
	}

	op := func(operation, outcome string) float64 {
		return series(mfs, "onetime_operation_duration_seconds", map[string]string{"operation": operation, "outcome": outcome})
	}
	assert.Equal(t, float64(run.shares+run.pageShares), op("share", "ok"))
	assert.Equal(t, float64(run.reveals), op("reveal", "ok"))
	assert.Equal(t, float64(run.wrongPassphrases), op("reveal", "wrong_passphrase"))
	assert.Equal(t, float64(run.burns), op("burn", "ok"))
	assert.Positive(t, op("sweep", "ok"), "-sweep-interval 100ms")
	api := func(route string, status string) float64 {
		return series(mfs, "onetime_http_request_duration_seconds", map[string]string{
			"otel_scope_name": "github.com/onetimego/onetime/httpapi", "route": route, "status": status})
	}
	assert.Equal(t, float64(run.shares), api("POST /api/v1/share", "200"))
	assert.Equal(t, float64(run.reveals), api("POST /api/v1/secret/{secret_key}", "200"))
	assert.Equal(t, float64(run.wrongPassphrases+1), api("POST /api/v1/secret/{secret_key}", "404"))
	// Refused before it is routed: its route is not known.
	assert.Equal(t, 1.0, api("unrouted", "429"))
	assert.Equal(t, 1.0, series(mfs, "onetime_http_request_duration_seconds", map[string]string{
		"otel_scope_name": "github.com/onetimego/onetime/webui", "route": "POST /share", "status": "303"}))
	assert.Equal(t, float64(run.shares+run.pageShares), series(mfs, "onetime_store_duration_seconds", map[string]string{"method": "create", "outcome": "ok"}))
	for _, scope := range []string{"httpapi", "webui"} {
		assert.Positive(t, series(mfs, "onetime_http_rate_limited_total", map[string]string{
			"otel_scope_name": "github.com/onetimego/onetime/" + scope, "limiter": "rate"}), scope)
	}
	assert.Equal(t, float64(run.wrongPassphrases+1), series(mfs, "onetime_http_failed_guesses_total", nil))
	assert.Equal(t, 1.0, series(mfs, "onetime_receipt_reads_total", map[string]string{"state": "received"}))
	assert.Equal(t, 1.0, series(mfs, "onetime_notifications_total", map[string]string{"outcome": "sent"}))
	// Every passphrase derived: the two shared with one, the wrong guess,
	// the two right ones.
	assert.Equal(t, 5.0, series(mfs, "onetime_kdf_wait_duration_seconds", map[string]string{"outcome": "acquired"}))
	assert.Equal(t, 0.0, series(mfs, "onetime_kdf_waiting", nil))
	assert.NotContains(t, body, `=""`, "empty labels are left out")
	assert.NotContains(t, s.logs.String(), `"msg":"telemetry"`, "OpenTelemetry reported an error")
	assert.NotContains(t, s.logs.String(), "gathering metrics", "promhttp reported an error")

	checkMetricsDoc(t, mfs)

	// The public listener serves no metrics.
	res, err := http.Get(s.url + "/metrics")
	require.NoError(t, err)
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.NotContains(t, string(b), "onetime_")
	s.stop(t)
}

// documentedMetric is a row of docs/operating.md's metrics table.
type documentedMetric struct {
	typ    string
	labels []string
}

var (
	metricRow  = regexp.MustCompile("^\\| `(onetime_[a-z_]+)` \\| ([a-z]+) \\|([^|]*)\\|")
	labelInRow = regexp.MustCompile("`([a-z_]+)`")
)

// documentedMetrics reads the table of docs/operating.md between its
// metrics markers.
func documentedMetrics(t *testing.T) map[string]documentedMetric {
	t.Helper()
	b, err := os.ReadFile(operatingDoc)
	require.NoError(t, err)
	doc := string(b)
	const begin, end = "<!-- metrics:begin -->\n", "<!-- metrics:end -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	require.True(t, i >= 0 && j > i, "docs/operating.md lacks the markers %q and %q", begin, end)
	rows := map[string]documentedMetric{}
	for line := range strings.Lines(doc[i+len(begin) : j]) {
		m := metricRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var labels []string
		for _, l := range labelInRow.FindAllStringSubmatch(m[3], -1) {
			labels = append(labels, l[1])
		}
		slices.Sort(labels)
		rows[m[1]] = documentedMetric{m[2], labels}
	}
	return rows
}

// checkMetricsDoc checks docs/operating.md's table against a scrape:
// every metric served is in it, with its type and labels. The table may
// list more: the two that appear only at their first count, which a run
// of the server does not easily make (a store that fails; a record
// expired and swept).
func checkMetricsDoc(t *testing.T, mfs map[string]*dto.MetricFamily) {
	t.Helper()
	doc := documentedMetrics(t)
	for name, mf := range mfs {
		d, ok := doc[name]
		if !assert.True(t, ok, "%s is served but not in docs/operating.md's metrics table", name) {
			continue
		}
		assert.Equal(t, strings.ToLower(mf.GetType().String()), d.typ, "the type of %s in docs/operating.md", name)
		labels := map[string]bool{}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() != "otel_scope_name" { // on every series, said once above the table
					labels[l.GetName()] = true
				}
			}
		}
		got := slices.Sorted(maps.Keys(labels))
		if got == nil {
			got = []string{}
		}
		want := d.labels
		if want == nil {
			want = []string{}
		}
		assert.Equal(t, want, got, "the labels of %s in docs/operating.md", name)
	}
	for name := range doc {
		if _, ok := mfs[name]; !ok {
			assert.Contains(t, []string{"onetime_store_errors_total", "onetime_sweep_removed_total"}, name,
				"docs/operating.md lists %s, which the server did not serve", name)
		}
	}
}

// TestTelemetryProviders: without -metrics-addr the library is given no-op
// providers and nothing is served; with it, /metrics alone is served on
// its listener, and an address that does not listen fails the start.
func TestTelemetryProviders(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	tel, err := newTelemetry(config{}, log)
	require.NoError(t, err)
	assert.Nil(t, tel.handler)
	assert.IsType(t, metricnoop.MeterProvider{}, tel.meters)
	assert.IsType(t, tracenoop.TracerProvider{}, tel.tracer)
	require.NoError(t, tel.close(context.Background()))

	tel, err = newTelemetry(config{metricsAddr: "127.0.0.1:0"}, log)
	require.NoError(t, err)
	defer tel.close(context.Background())
	require.NotNil(t, tel.handler)
	assert.IsType(t, tracenoop.TracerProvider{}, tel.tracer, "the server exports no traces")
	_, _, err = serveMetrics("nonsense", tel.handler, log)
	assert.Error(t, err)
	addr, stop, err := serveMetrics("127.0.0.1:0", tel.handler, log)
	require.NoError(t, err)
	defer stop()
	for path, want := range map[string]int{"/metrics": 200, "/": 404, "/api/v1/status": 404, "/debug/pprof/": 404} {
		res, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, want, res.StatusCode, path)
	}
}
