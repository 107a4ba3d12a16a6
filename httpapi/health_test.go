package httpapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/store/memory"
)

// TestStatusStoreDown: /status reports the store's health; a closed store
// (every call ErrClosed) is offline, intended status 503.
func TestStatusStoreDown(t *testing.T) {
	st := memory.New()
	svc, err := onetime.New(st, testSecret, nil)
	require.NoError(t, err)
	var logs bytes.Buffer
	for _, intended := range []bool{false, true} {
		h, err := New(svc, &Options{Logger: jsonLogger(&logs), IntendedStatus: intended})
		require.NoError(t, err)
		srv := httptest.NewServer(h)
		e := &env{t: t, srv: srv}
		r := e.get("/api/v1/status")
		assert.Equal(t, 200, r.status)
		assert.Equal(t, nominalBody, string(r.body))
		srv.Close()
	}
	require.NoError(t, st.Close())
	for _, intended := range []bool{false, true} {
		h, err := New(svc, &Options{Logger: jsonLogger(&logs), IntendedStatus: intended})
		require.NoError(t, err)
		srv := httptest.NewServer(h)
		e := &env{t: t, srv: srv}
		r := e.get("/api/v1/status")
		want := 404
		if intended {
			want = 503
		}
		assert.Equal(t, want, r.status)
		assert.Equal(t, offlineBody, string(r.body))
		assert.Equal(t, "503", r.header.Get("X-OTS-Intended-Status"))
		assert.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
		srv.Close()
	}
	assert.Contains(t, logs.String(), "the store does not answer")
	assert.Contains(t, logs.String(), "store closed")
}

// blockingStore never answers Peek until its context ends, as a store
// behind a dead network link.
type blockingStore struct{ *memory.Store }

func (blockingStore) Peek(ctx context.Context, _ onetime.ID, _ time.Time) (*onetime.SecretInfo, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestStatusBounded: the store check of /status ends at HealthTimeout.
func TestStatusBounded(t *testing.T) {
	svc, err := onetime.New(blockingStore{memory.New()}, testSecret, nil)
	require.NoError(t, err)
	h, err := New(svc, &Options{Logger: discardLogger(), HealthTimeout: 10 * time.Millisecond})
	require.NoError(t, err)
	w := serveDirect(h, httptest.NewRequest("GET", "/api/v1/status", nil))
	assert.Equal(t, offlineBody, w.Body.String())
	assert.Equal(t, "503", w.Header().Get("X-OTS-Intended-Status"))
}

func TestReadyHandler(t *testing.T) {
	st := memory.New()
	svc, err := onetime.New(st, testSecret, nil)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /readyz", ReadyHandler(svc))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func() (int, string) {
		res, err := srv.Client().Get(srv.URL + "/readyz")
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(b)
	}
	code, body := get()
	assert.Equal(t, 200, code)
	assert.Equal(t, `{"status":"ready"}`, body)
	require.NoError(t, st.Close())
	code, body = get()
	assert.Equal(t, 503, code)
	assert.Equal(t, `{"status":"unavailable"}`, body)
}

// callerStore records the Caller that each Peek's context carries.
type callerStore struct {
	*memory.Store
	seen chan onetime.Caller
}

func (s callerStore) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	select {
	case s.seen <- onetime.CallerFrom(ctx):
	default:
	}
	return s.Store.Peek(ctx, id, now)
}

// TestCallerInContext: the Service gets the customer and the client
// address (the proxy's header when trusted, IPv6 by /64) of every request.
func TestCallerInContext(t *testing.T) {
	st := callerStore{memory.New(), make(chan onetime.Caller, 1)}
	svc, err := onetime.New(st, testSecret, nil)
	require.NoError(t, err)
	h, err := New(svc, &Options{Logger: discardLogger(), Auth: access.NewBasicAuth(testUsers), ClientIPHeader: "X-Real-IP", TrustedProxies: loopbackProxy})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{t: t, srv: srv}
	rc := e.do(req{method: "POST", path: "/api/v1/share", body: "secret=x&passphrase=pw", user: "alice", pass: "alicetoken"}).ok(t)

	e.do(req{method: "POST", path: "/api/v1/secret/" + rc.str(t, "secret_key"), body: "passphrase=no",
		header: map[string]string{"X-Real-IP": "2001:db8:1:2:3::9"}}).fails(t, 404, unknown(rc.str(t, "secret_key")))
	assert.Equal(t, onetime.Caller{Address: "2001:db8:1:2::/64"}, <-st.seen)

	e.do(req{method: "POST", path: "/api/v1/secret/" + rc.str(t, "secret_key"), body: "passphrase=pw",
		user: "bob", pass: "bobtoken", header: map[string]string{"X-Real-IP": "192.0.2.7"}}).ok(t)
	assert.Equal(t, onetime.Caller{Customer: "bob", Address: "192.0.2.7"}, <-st.seen)
}

// patientStore answers Peek whatever its context's deadline, so that a
// reveal whose deadline has passed still reaches the passphrase
// derivation, which then finds itself too late: the service's busy.
type patientStore struct{ *memory.Store }

func (s patientStore) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	return s.Store.Peek(context.WithoutCancel(ctx), id, now)
}

// TestBusy: a request that runs out of time waiting for or running a
// passphrase derivation (onetime.ErrBusy) is answered "busy", intended
// status 503 with a Retry-After, and consumes nothing: the same reveal
// with time to spare gets the value.
func TestBusy(t *testing.T) {
	svc, err := onetime.New(patientStore{memory.New()}, testSecret, &onetime.Options{KDFConcurrency: 1, Logger: discardLogger()})
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	rc, err := svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("v"), Passphrase: "pass"})
	require.NoError(t, err)

	for _, intended := range []bool{false, true} {
		h, err := New(svc, &Options{Logger: discardLogger(), IntendedStatus: intended})
		require.NoError(t, err)
		late := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithDeadline(r.Context(), time.Now()) // out of time already
			defer cancel()
			h.ServeHTTP(w, r.WithContext(ctx))
		})
		srv := httptest.NewServer(late)
		e := &env{t: t, srv: srv}
		want := http.StatusNotFound
		if intended {
			want = http.StatusServiceUnavailable
		}
		r := e.post("/api/v1/secret/"+string(rc.SecretKey), "passphrase=pass")
		assert.Equal(t, want, r.status)
		assert.Equal(t, `{"message":"The server is busy: please try again shortly","secret_key":"`+string(rc.SecretKey)+`"}`, string(r.body))
		assert.Equal(t, "503", r.header.Get("X-OTS-Intended-Status"))
		assert.Equal(t, "5", r.header.Get("Retry-After"))
		srv.Close()
	}
	v, err := svc.Reveal(context.Background(), rc.SecretKey, "pass")
	require.NoError(t, err, "the busy answers consumed nothing")
	assert.Equal(t, "v", string(v.Value))
}
