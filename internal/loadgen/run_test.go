package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeAPI is a minimal in-memory server of the v1 routes loadgen uses. It
// tests loadgen itself; the run against the real httpapi is in
// httpapi_test.go. Its faults make it lie in the ways loadgen must catch.
type fakeAPI struct {
	mu      sync.Mutex
	secrets map[string]fakeSecret
	seq     atomic.Int64

	swapValues  bool // reveal answers another secret's value
	keepSecrets bool // reveal does not consume the secret
	loseSecrets bool // reveal answers Unknown secret
	wrongOpens  bool // a wrong passphrase reveals the secret
}

type fakeSecret struct{ value, pass string }

func newFakeAPI() *fakeAPI { return &fakeAPI{secrets: map[string]fakeSecret{}} }

func (f *fakeAPI) handler() http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	unknown := func(w http.ResponseWriter) {
		reply(w, 404, map[string]string{"message": "Unknown secret"})
	}
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, map[string]string{"status": "nominal", "locale": "en"})
	})
	share := func(w http.ResponseWriter, r *http.Request, value string) {
		pass := r.PostFormValue("passphrase")
		n := f.seq.Add(1)
		key := fmt.Sprintf("s%049d", n)
		f.mu.Lock()
		f.secrets[key] = fakeSecret{value, pass}
		f.mu.Unlock()
		rec := map[string]any{"custid": "anon", "metadata_key": fmt.Sprintf("m%049d", n), "secret_key": key, "passphrase_required": pass != ""}
		if r.URL.Path == "/api/v1/generate" {
			rec["value"] = value
		}
		reply(w, 200, rec)
	}
	mux.HandleFunc("POST /api/v1/share", func(w http.ResponseWriter, r *http.Request) {
		v := r.PostFormValue("secret")
		if v == "" {
			reply(w, 404, map[string]string{"message": "You did not provide anything to share"})
			return
		}
		share(w, r, v)
	})
	mux.HandleFunc("POST /api/v1/generate", func(w http.ResponseWriter, r *http.Request) {
		share(w, r, "Xy3#kP9mQw2z")
	})
	mux.HandleFunc("POST /api/v1/secret/{key}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		pass := r.PostFormValue("passphrase")
		f.mu.Lock()
		s, ok := f.secrets[key]
		if ok && (s.pass == pass || f.wrongOpens) && !f.keepSecrets {
			delete(f.secrets, key)
		}
		f.mu.Unlock()
		switch {
		case !ok || f.loseSecrets:
			unknown(w)
		case s.pass != pass && !f.wrongOpens:
			unknown(w)
		default:
			v := s.value
			if f.swapValues {
				v = strings.ToUpper(v)
			}
			reply(w, 200, map[string]string{"value": v, "secret_key": key, "share_domain": ""})
		}
	})
	return mux
}

func runFake(t *testing.T, f *fakeAPI, args ...string) *Report {
	t.Helper()
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	cfg, err := ParseFlags(append([]string{"-url", srv.URL}, args...), nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestRunModes(t *testing.T) {
	for _, args := range [][]string{
		{"-mode", "share", "-n", "300", "-c", "4"},
		{"-mode", "generate", "-n", "300", "-c", "4"},
		{"-mode", "reveal", "-n", "300", "-c", "4"},
		{"-mode", "pair", "-n", "300", "-c", "4"},
		{"-mode", "pair", "-n", "300", "-c", "4", "-passphrase"},
		{"-mode", "reveal", "-n", "300", "-c", "4", "-passphrase=x y&z", "-size", "1000"},
	} {
		for _, cl := range []string{"raw", "std"} {
			args := append([]string{"-client", cl}, args...)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				rep := runFake(t, newFakeAPI(), args...)
				if !rep.OK() || rep.Ops != 300 {
					t.Errorf("ops %d errors %d (%v) wrong %d, want 300 clean ops", rep.Ops, rep.Errors, rep.ErrorKinds, rep.WrongValues)
				}
				if rep.Latency.Count != 300 || rep.Latency.P50 <= 0 || rep.Latency.P99 < rep.Latency.P50 {
					t.Errorf("latency %+v", rep.Latency)
				}
			})
		}
	}
}

func TestRunDurationStopsByItself(t *testing.T) {
	start := time.Now()
	rep := runFake(t, newFakeAPI(), "-mode", "reveal", "-d", "300ms", "-c", "4")
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("a 300ms reveal run (prefill + timed) took %v", el)
	}
	if !rep.OK() || rep.Ops == 0 || rep.Ops > int64(rep.Prefilled) {
		t.Errorf("ops %d prefilled %d errors %v", rep.Ops, rep.Prefilled, rep.ErrorKinds)
	}
}

func TestRunCatchesWrongValues(t *testing.T) {
	f := newFakeAPI()
	f.swapValues = true
	rep := runFake(t, f, "-mode", "pair", "-n", "50", "-c", "2")
	if rep.OK() || rep.WrongValues != 50 || rep.Errors != 0 {
		t.Errorf("swapped values: ok=%v wrong %d errors %d, want 50 wrong values", rep.OK(), rep.WrongValues, rep.Errors)
	}
}

func TestRunCatchesLostSecrets(t *testing.T) {
	f := newFakeAPI()
	f.loseSecrets = true
	rep := runFake(t, f, "-mode", "pair", "-n", "50", "-c", "2")
	if rep.OK() || rep.WrongValues != 50 || rep.Ops != 0 {
		t.Errorf("lost secrets: ok=%v wrong %d ops %d, want 50 wrong values", rep.OK(), rep.WrongValues, rep.Ops)
	}
}

func TestRunBurst(t *testing.T) {
	rep := runFake(t, newFakeAPI(), "-mode", "pair", "-d", "300ms", "-c", "2", "-burst", "8")
	if !rep.OK() || rep.Burst == nil || rep.Burst.WrongAttempts == 0 {
		t.Fatalf("burst run: ok=%v %+v", rep.OK(), rep.Burst)
	}

	f := newFakeAPI()
	f.wrongOpens = true
	rep = runFake(t, f, "-mode", "share", "-d", "300ms", "-c", "2", "-burst", "4")
	if rep.OK() || rep.Burst.WrongValues == 0 {
		t.Errorf("a server that opens secrets for a wrong passphrase passed: %+v", rep.Burst)
	}
}

func TestRunRefusesDeadServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cfg, err := ParseFlags([]string{"-url", url, "-n", "1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, nil); err == nil {
		t.Error("run against a closed server: no error")
	}
}

func TestReportJSON(t *testing.T) {
	rep := runFake(t, newFakeAPI(), "-mode", "pair", "-n", "20", "-c", "2")
	var b strings.Builder
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"mode", "ops", "ops_per_sec", "errors", "wrong_values", "latency_ms", "requests_ms"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON summary lacks %q: %s", k, b.String())
		}
	}
	if strings.Count(b.String(), "\n") != 1 {
		t.Errorf("JSON summary is not one line")
	}
	b.Reset()
	rep.WriteText(&b)
	if !strings.Contains(b.String(), "OK\n") {
		t.Errorf("text summary: %s", b.String())
	}
}

func TestRunWarmupIsUntimed(t *testing.T) {
	f := newFakeAPI()
	rep := runFake(t, f, "-mode", "share", "-n", "50", "-c", "2", "-warmup", "200ms")
	if !rep.OK() || rep.Ops != 50 || rep.Latency.Count != 50 {
		t.Errorf("ops %d, samples %d, want 50 of each", rep.Ops, rep.Latency.Count)
	}
	if shared := f.seq.Load(); shared <= 50 {
		t.Errorf("server saw %d shares: no warm-up happened", shared)
	}
}

func TestRunRecheck(t *testing.T) {
	for _, mode := range []string{"pair", "reveal"} {
		if rep := runFake(t, newFakeAPI(), "-mode", mode, "-n", "50", "-c", "2", "-recheck"); !rep.OK() {
			t.Errorf("%s -recheck on a correct server: %v", mode, rep.ErrorKinds)
		}
		f := newFakeAPI()
		f.keepSecrets = true
		rep := runFake(t, f, "-mode", mode, "-n", "50", "-c", "2", "-recheck")
		if rep.OK() || rep.WrongValues != 50 {
			t.Errorf("%s -recheck on a server that reveals twice: ok=%v wrong %d, want 50", mode, rep.OK(), rep.WrongValues)
		}
		rep = runFake(t, f, "-mode", mode, "-n", "50", "-c", "2")
		if !rep.OK() {
			t.Errorf("%s without -recheck: %v", mode, rep.ErrorKinds)
		}
	}
}

// OnTimed brackets the timed phase: called once with true after the
// warm-up, once with false after the last timed operation.
func TestRunOnTimed(t *testing.T) {
	f := newFakeAPI()
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	cfg, err := ParseFlags([]string{"-url", srv.URL, "-mode", "share", "-n", "40", "-c", "2", "-warmup", "100ms"}, nil)
	require.NoError(t, err)
	var calls []bool
	var atStart, atEnd int64
	cfg.OnTimed = func(start bool) {
		calls = append(calls, start)
		if start {
			atStart = f.seq.Load()
		} else {
			atEnd = f.seq.Load()
		}
	}
	rep, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.True(t, rep.OK())
	require.Equal(t, []bool{true, false}, calls)
	require.Positive(t, atStart, "the warm-up ran before the timed phase")
	require.Equal(t, int64(40), atEnd-atStart, "the timed phase is exactly the 40 operations")
}

// Run checks a Config built without ParseFlags.
func TestRunChecksConfig(t *testing.T) {
	base := Config{URL: "http://127.0.0.1:1", Conc: 1, Mode: "pair", N: 1, Size: 1, Pool: 1, Timeout: time.Second, Client: "raw"}
	require.NoError(t, base.Check())
	for name, mut := range map[string]func(*Config){
		"not loopback":  func(c *Config) { c.URL = "http://10.0.0.1" },
		"unbounded":     func(c *Config) { c.N = 0 },
		"bad mode":      func(c *Config) { c.Mode = "burn" },
		"bad client":    func(c *Config) { c.Client = "curl" },
		"no clients":    func(c *Config) { c.Conc = 0 },
		"empty secrets": func(c *Config) { c.Size = 0 },
	} {
		c := base
		mut(&c)
		_, err := Run(context.Background(), c, nil)
		require.Error(t, err, name)
	}
}
