package frontdoor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
)

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"/":                     "/",
		"/api/v1/":              "/api/v1/",
		"/api/v1":               "/api/v1",
		"/api/v1//status":       "/api/v1/status",
		"/api/v1/./status":      "/api/v1/status",
		"/api/v1/x/../status/":  "/api/v1/status/",
		"/../api/v1/":           "/api/v1/",
		"//":                    "/",
		"/api/v1/secret/a%2Fb":  "/api/v1/secret/a%2Fb", // escaped: one segment
		"/api/v1/secret/a%2F..": "/api/v1/secret/a%2F..",
	} {
		assert.Equal(t, want, CleanPath(in), in)
	}
	assert.Zero(t, testing.AllocsPerRun(10, func() { CleanPath("/api/v1/") }), "a clean path")
}

func TestCheckBasePath(t *testing.T) {
	for _, ok := range []string{"/", "/api/v1/", "/ots/"} {
		assert.NoError(t, CheckBasePath(ok), ok)
	}
	for _, bad := range []string{"", "ots/", "/ots", "/a/../b/", "/a//b/", "/./"} {
		assert.Error(t, CheckBasePath(bad), bad)
	}
}

func TestBodyLimit(t *testing.T) {
	n, err := BodyLimit(0, 1000)
	require.NoError(t, err)
	assert.Equal(t, int64(3*1000+64<<10), n, "three times the value, plus room for the rest")
	n, err = BodyLimit(5, 1000)
	require.NoError(t, err)
	assert.Equal(t, int64(5), n)
	_, err = BodyLimit(-1, 1000)
	assert.Error(t, err)
}

func TestTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"":            0,
		"60":          time.Minute,
		" 60 ":        time.Minute,
		"+60":         time.Minute,
		"1e3":         1000 * time.Second,
		"3600.0":      time.Hour,
		"-5":          -5 * time.Second, // the service clamps it to its shortest
		"0":           0,
		"9999999":     9999999 * time.Second,
		"99999999999": math.MaxInt64, // past time.Duration: saturated
		"1e300":       math.MaxInt64,
		"-1e300":      -math.MaxInt64,
	} {
		got, err := paramsOf(ParamTTL, in).TTL()
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"abc", "1.5", "0x10", "1_000", "60s", "inf", "NaN", strings.Repeat("1", 65)} {
		_, err := paramsOf(ParamTTL, bad).TTL()
		assert.ErrorIs(t, err, ErrInvalidTTL, bad)
	}
}

func TestLength(t *testing.T) {
	for in, want := range map[string]int{
		"": 0, "12": 12, "0": onetime.MinPasswordLength, "-3": onetime.MinPasswordLength,
		"1e9": onetime.MaxPasswordLength, "20.0": 20,
	} {
		got, err := paramsOf(ParamLength, in).Length()
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := paramsOf(ParamLength, "ten").Length()
	assert.ErrorIs(t, err, ErrInvalidLength)
}

func TestCheckValue(t *testing.T) {
	assert.NoError(t, CheckValue("héllo ✓", 100))
	assert.ErrorIs(t, CheckValue("\xff\xfeabc", 100), ErrNotUTF8)
	assert.ErrorIs(t, CheckValue("\xed\xa0\x80", 100), ErrNotUTF8, "a lone surrogate's bytes")
	assert.NoError(t, CheckValue("\xff\xfeabc", 3), "too large: the service says so")
}

func mustNew(t *testing.T, o Options) *Door {
	t.Helper()
	d, err := New(o)
	require.NoError(t, err)
	return d
}

type countLimiter struct{ left int }

func (l *countLimiter) Allow(context.Context, string) (bool, error) {
	l.left--
	return l.left >= 0, nil
}

type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string) (bool, error) { return false, errors.New("down") }

func TestAllow(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	ctx := context.Background()
	d := mustNew(t, Options{Name: "test"})
	assert.True(t, d.Allow(ctx, d.Begin(httptest.NewRecorder(), r)), "no limiter")

	d = mustNew(t, Options{Name: "test", RateLimiter: &countLimiter{left: 1}})
	assert.True(t, d.Allow(ctx, d.Begin(httptest.NewRecorder(), r)))
	assert.False(t, d.Allow(ctx, d.Begin(httptest.NewRecorder(), r)))

	var logs bytes.Buffer
	d = mustNew(t, Options{Name: "test", RateLimiter: failingLimiter{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	assert.True(t, d.Allow(ctx, d.Begin(httptest.NewRecorder(), r)), "a failing limiter lets requests through")
	assert.Contains(t, logs.String(), "level=WARN msg=\"test: rate limiter failed; request let through\"")
}

// TestTimeout: Options.Timeout puts a deadline on the request's context,
// inside the http.Request's (whose values it keeps), and End releases it;
// without it the context is the http.Request's own.
func TestTimeout(t *testing.T) {
	type key struct{}
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(context.WithValue(r.Context(), key{}, "kept"))

	q := mustNew(t, Options{Name: "test"}).Begin(httptest.NewRecorder(), r)
	_, ok := q.Context().Deadline()
	assert.False(t, ok, "no Timeout: no deadline of the door's own")

	d := mustNew(t, Options{Name: "test", Timeout: time.Hour})
	before := time.Now()
	q = d.Begin(httptest.NewRecorder(), r)
	deadline, ok := q.Context().Deadline()
	require.True(t, ok)
	assert.WithinRange(t, deadline, before.Add(time.Hour), time.Now().Add(time.Hour))
	assert.Equal(t, "kept", q.Context().Value(key{}))
	require.NoError(t, q.Context().Err())
	d.End(q.Context(), q, "GET /")
	assert.ErrorIs(t, q.Context().Err(), context.Canceled, "End releases the deadline's timer")
	assert.NoError(t, r.Context().Err(), "and leaves the http.Request's context alone")

	q = mustNew(t, Options{Name: "test", Timeout: time.Millisecond}).Begin(httptest.NewRecorder(), r)
	<-q.Context().Done()
	assert.ErrorIs(t, q.Context().Err(), context.DeadlineExceeded)
}

func TestAuthenticate(t *testing.T) {
	down := errors.New("directory down")
	auth := access.AuthenticatorFunc(func(r *http.Request) (string, error) {
		switch r.Header.Get("X-User") {
		case "":
			return "", nil
		case "bad":
			return "", access.ErrUnauthorized
		case "broken":
			return "", down
		}
		return r.Header.Get("X-User"), nil
	})
	d := mustNew(t, Options{Name: "test", Auth: auth, ClientIPHeader: " x-real-ip ", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	as := func(user string) (*Request, context.Context, error) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-User", user)
		r.Header.Set("X-Real-IP", "203.0.113.9")
		q := d.Begin(httptest.NewRecorder(), r)
		ctx, err := d.Authenticate(context.Background(), r, q)
		return q, ctx, err
	}
	q, ctx, err := as("ada")
	require.NoError(t, err)
	assert.Equal(t, "ada", q.Customer)
	caller := onetime.CallerFrom(ctx)
	assert.Equal(t, onetime.Caller{Customer: "ada", Address: "203.0.113.9"}, caller, "the header is canonicalized")

	q, ctx, err = as("")
	require.NoError(t, err)
	assert.Empty(t, q.Customer)
	caller = onetime.CallerFrom(ctx)
	assert.Equal(t, onetime.Caller{Address: "203.0.113.9"}, caller)

	_, _, err = as("bad")
	assert.ErrorIs(t, err, access.ErrUnauthorized)
	_, _, err = as("broken")
	assert.ErrorIs(t, err, down)
	assert.NotErrorIs(t, err, access.ErrUnauthorized)
}

func TestLog(t *testing.T) {
	var lines bytes.Buffer
	d := mustNew(t, Options{Name: "test", AccessLog: slog.New(slog.NewJSONHandler(&lines, nil))})
	require.True(t, d.Logging())
	w := httptest.NewRecorder()
	q := d.Begin(w, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, q.ID, w.Header().Get("X-Request-Id"))
	q.Customer, q.Intended, q.Message = "ada", 404, "Unknown secret"
	q.WriteHeader(http.StatusNotFound)
	q.Write([]byte("x"))
	d.Log(context.Background(), q, "POST /api/v1/secret/{secret_key}")

	var line map[string]any
	require.NoError(t, json.Unmarshal(lines.Bytes(), &line))
	assert.Equal(t, "request", line["msg"])
	assert.Equal(t, q.ID, line["request_id"])
	assert.Equal(t, "POST /api/v1/secret/{secret_key}", line["route"])
	assert.EqualValues(t, 404, line["status"])
	assert.EqualValues(t, 404, line["intended_status"])
	assert.Equal(t, "Unknown secret", line["message"])
	assert.Equal(t, "ada", line["customer"])
	assert.Contains(t, line, "duration")

	lines.Reset()
	q = d.Begin(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	q.Write([]byte("ok"))
	d.Log(context.Background(), q, "GET /")
	line = nil
	require.NoError(t, json.Unmarshal(lines.Bytes(), &line))
	assert.EqualValues(t, 200, line["status"], "a write without WriteHeader is a 200")
	assert.NotContains(t, line, "intended_status")
	assert.NotContains(t, line, "customer")

	quiet := mustNew(t, Options{})
	assert.False(t, quiet.Logging())
	quiet.Log(context.Background(), q, "GET /") // no access log: nothing to do
}

func BenchmarkParseParams(b *testing.B) {
	value := strings.Repeat("s", 100)
	body := "secret=" + value + "&ttl=3600&passphrase=pass%20word"
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParseParams("application/x-www-form-urlencoded", "", strings.NewReader(body), int64(len(body)))
		if err != nil || p.Get(ParamSecret) != value {
			b.Fatal(err)
		}
	}
}

func BenchmarkRequestID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = newRequestID()
	}
}

// paramsOf returns the Params of one name and value.
func paramsOf(name, value string) Params {
	var p Params
	p.add(name, value)
	return p
}
