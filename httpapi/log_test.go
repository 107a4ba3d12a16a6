package httpapi

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/store/memory"
)

type failingNotifier struct{}

func (failingNotifier) Notify(_ context.Context, n onetime.Notification) error {
	return errors.New("smtp refused " + n.Recipient) // an error that quotes the address
}

// TestLogsCarryNoSecrets runs a whole session with debug logging of both
// the handler and the service into one buffer, and looks for every key,
// passphrase, value, recipient address and query string in it.
func TestLogsCarryNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	logger := jsonLogger(&logs)
	svc, err := onetime.New(memory.New(), testSecret, &onetime.Options{
		Logger: logger, Notifier: failingNotifier{}, KDFConcurrency: 1})
	require.NoError(t, err)
	defer svc.Close()
	h, err := New(svc, &Options{Logger: logger, AccessLog: logger, Auth: access.NewBasicAuth(testUsers), RateLimiter: newCountLimiter(1000)})
	require.NoError(t, err)
	e := &env{t: t, srv: newTestServer(h)}
	defer e.srv.Close()
	alice := func(r req) req { r.user, r.pass = "alice", "alicetoken"; return r }

	secrets := []string{"alicetoken", "VALUEvalue", "PASSPHRASEpp", "delano@example.com", "QUERYSTRINGqs", "GEN-PASS"}
	rc := e.do(alice(req{method: "POST", path: "/api/v1/share?note=QUERYSTRINGqs",
		body: "secret=VALUEvalue&passphrase=PASSPHRASEpp&recipient=delano%40example.com"})).ok(t)
	sk, mk := rc.str(t, "secret_key"), rc.str(t, "metadata_key")
	gen := e.do(alice(req{method: "POST", path: "/api/v1/generate", ctype: "application/json", body: `{"passphrase":"PASSPHRASEpp"}`})).ok(t)
	secrets = append(secrets, sk, mk, gen.str(t, "value"), gen.str(t, "secret_key"), gen.str(t, "metadata_key"))

	e.get("/api/v1/private/" + mk).ok(t)
	e.get("/api/v1/metadata/" + mk).ok(t)
	e.post("/api/v1/secret/"+sk, "passphrase=wrongPASSPHRASE").fails(t, 404, unknown(sk))
	secrets = append(secrets, "wrongPASSPHRASE")
	require.Equal(t, "VALUEvalue", e.post("/api/v1/secret/"+sk, "passphrase=PASSPHRASEpp").ok(t).str(t, "value"))
	e.post("/api/v1/secret/"+sk, "passphrase=PASSPHRASEpp").fails(t, 404, unknown(sk))
	e.do(alice(req{method: "POST", path: "/api/v1/receipt/" + gen.str(t, "metadata_key") + "/burn"})).ok(t)
	require.Len(t, parseArray(t, e.do(alice(req{method: "GET", path: "/api/v1/private/recent"})).body), 2)
	e.do(req{method: "GET", path: "/api/v1/status", header: map[string]string{"Authorization": "Basic " + b64("alice:wrongtokenXYZ")}}).fails(t, 401, unauth)
	secrets = append(secrets, "wrongtokenXYZ", b64("alice:wrongtokenXYZ"), b64("alice:alicetoken"))
	e.do(req{method: "GET", path: "/api/v1/unrouted/" + sk}).fails(t, 404, nf)

	require.NoError(t, svc.Close()) // the queued notification fails, and logs
	out := logs.String()
	for _, want := range []string{`"route":"POST /api/v1/secret/{secret_key}"`, `"route":"GET /api/v1/metadata/{metadata_key}"`,
		`"route":"unrouted"`, `"request_id"`, `"duration"`, `"status":200`, `de*****@e*****.com`} {
		assert.Contains(t, out, want)
	}
	for _, s := range secrets {
		assert.NotContains(t, out, s)
	}
}
