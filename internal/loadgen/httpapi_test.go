package loadgen

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/store/memory"
)

// apiServer serves the real v1 handler over the memory store, as
// cmd/onetime-server does, behind a real HTTP server on loopback.
func apiServer(t *testing.T, auth access.Authenticator) string {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	svc, err := onetime.New(memory.New(), bytes.Repeat([]byte("s"), onetime.MinServerSecretLen), &onetime.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	// -recheck, -burst and -guess fail on purpose, from one address: the
	// guess limit would hold them back.
	h, err := httpapi.New(svc, &httpapi.Options{Logger: quiet, Auth: auth, GuessLimiter: access.NoGuessLimit})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func runAPI(t *testing.T, url string, args ...string) *Report {
	t.Helper()
	cfg, err := ParseFlags(append([]string{"-url", url}, args...), nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestAgainstHTTPAPI runs every mode against the real handler: the API
// answers as loadgen expects, and loadgen finds no error and no wrong value.
func TestAgainstHTTPAPI(t *testing.T) {
	url := apiServer(t, nil)
	for _, args := range [][]string{
		{"-mode", "share", "-n", "200", "-c", "4"},
		{"-mode", "generate", "-n", "200", "-c", "4"},
		{"-mode", "reveal", "-n", "200", "-c", "4"},
		{"-mode", "pair", "-n", "200", "-c", "4"},
		{"-mode", "pair", "-n", "200", "-c", "4", "-recheck"},
		{"-mode", "pair", "-n", "200", "-c", "4", "-size", "5000"},
		{"-mode", "pair", "-n", "6", "-c", "3", "-passphrase"},
		{"-mode", "pair", "-d", "500ms", "-c", "2", "-burst", "4"},
		{"-mode", "pair", "-d", "500ms", "-c", "1", "-passphrase", "-guess", "8"},
	} {
		for _, cl := range []string{"raw", "std"} {
			args := append([]string{"-client", cl}, args...)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				rep := runAPI(t, url, args...)
				if slices.Contains(args, "-guess") {
					require.NotNil(t, rep.Guess, "a -guess run reports its guesses")
					require.Positive(t, rep.Guess.WrongAttempts, "the guessing workers made guesses")
				}
				if !rep.OK() {
					var b strings.Builder
					rep.WriteText(&b)
					t.Errorf("run not clean:\n%s", b.String())
				}
			})
		}
	}
}

func TestAgainstHTTPAPIWithAuth(t *testing.T) {
	url := apiServer(t, access.NewBasicAuth(map[string]string{"bench": "tok3n"}))
	for _, cl := range []string{"raw", "std"} {
		if rep := runAPI(t, url, "-client", cl, "-mode", "pair", "-n", "100", "-c", "4", "-auth", "bench:tok3n"); !rep.OK() {
			t.Errorf("-client %s: authenticated pairs: errors %v wrong %d", cl, rep.ErrorKinds, rep.WrongValues)
		}
	}
	// Bad credentials are refused by the warm-up request, before any load.
	cfg, err := ParseFlags([]string{"-url", url, "-n", "1", "-auth", "bench:wrong"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "Not authorized") {
		t.Errorf("bad credentials: %v, want Not authorized", err)
	}
}
