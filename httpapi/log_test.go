package httpapi

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/onetimego/onetime"
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
		Logger: logger, Notifier: failingNotifier{}, SweepInterval: -1, KDFConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	h, _ := New(svc, &Options{Logger: logger, Auth: NewBasicAuth(testUsers), RateLimiter: NewLocalLimiter(1000, 1000, 0)})
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
	if e.post("/api/v1/secret/"+sk, "passphrase=PASSPHRASEpp").ok(t).str(t, "value") != "VALUEvalue" {
		t.Fatal("reveal")
	}
	e.post("/api/v1/secret/"+sk, "passphrase=PASSPHRASEpp").fails(t, 404, unknown(sk))
	e.do(alice(req{method: "POST", path: "/api/v1/receipt/" + gen.str(t, "metadata_key") + "/burn"})).ok(t)
	if r := e.do(alice(req{method: "GET", path: "/api/v1/private/recent"})); len(parseArray(t, r.body)) != 2 {
		t.Fatalf("recent: %s", r.body)
	}
	e.do(req{method: "GET", path: "/api/v1/status", header: map[string]string{"Authorization": "Basic " + b64("alice:wrongtokenXYZ")}}).fails(t, 401, unauth)
	secrets = append(secrets, "wrongtokenXYZ", b64("alice:wrongtokenXYZ"), b64("alice:alicetoken"))
	e.do(req{method: "GET", path: "/api/v1/unrouted/" + sk}).fails(t, 404, nf)

	out := logs.String()
	if !strings.Contains(out, `"route":"POST /api/v1/secret/{secret_key}"`) ||
		!strings.Contains(out, `"route":"GET /api/v1/metadata/{metadata_key}"`) ||
		!strings.Contains(out, `"route":"unrouted"`) || !strings.Contains(out, `"request_id"`) ||
		!strings.Contains(out, `"duration"`) || !strings.Contains(out, `"status":200`) ||
		!strings.Contains(out, `de*****@e*****.com`) {
		t.Fatalf("logs lack what they should say:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("logs contain %q", s)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", out)
	}
}
