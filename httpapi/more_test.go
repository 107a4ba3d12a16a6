package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/internal/frontdoor"
	"github.com/onetimego/onetime/store/memory"
)

// vanishingStore reports every secret as gone, as when a backend evicted it.
type vanishingStore struct{ *memory.Store }

func (s vanishingStore) Receipt(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	m, err := s.Store.Receipt(ctx, id, now)
	if m != nil {
		m.SecretPresent = false
	}
	return m, err
}

func (s vanishingStore) View(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	m, err := s.Store.View(ctx, id, now)
	if m != nil {
		m.SecretPresent = false
	}
	return m, err
}

func TestOrphaned(t *testing.T) {
	svc, err := onetime.New(vanishingStore{memory.New()}, testSecret, nil)
	require.NoError(t, err)
	defer svc.Close()
	h, err := New(svc, &Options{Logger: discardLogger()})
	require.NoError(t, err)
	e := &env{t: t, srv: newTestServer(h)}
	defer e.srv.Close()
	rc := e.share("secret=x&passphrase=p")
	r := e.get("/api/v1/private/" + rc.str(t, "metadata_key")).ok(t)
	r.order(t, "custid", "metadata_key", "secret_key", "ttl", "metadata_ttl", "secret_ttl",
		"state", "updated", "created", "recipient", "share_domain")
	assert.Equal(t, "orphaned", r.str(t, "state"))
	assert.Equal(t, "", r.str(t, "secret_key"))
	assert.Equal(t, "null", string(r.raw["secret_ttl"]))
}

func TestMultipartBounds(t *testing.T) {
	e := newEnv(t, &onetime.Options{MaxSize: 1000}, nil)
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i <= frontdoor.MaxParts; i++ {
		w.WriteField(fmt.Sprint("f", i), "x")
	}
	w.WriteField("secret", "x")
	w.Close()
	e.do(req{method: "POST", path: "/api/v1/share", ctype: w.FormDataContentType(), body: b.String()}).
		fails(t, 400, `{"message":"Invalid request body"}`)

	b.Reset()
	w = multipart.NewWriter(&b)
	w.WriteField("secret", strings.Repeat("x", 5000))
	w.Close()
	e.do(req{method: "POST", path: "/api/v1/share", ctype: w.FormDataContentType(), body: b.String()}).
		fails(t, 413, `{"message":"Secret value exceeds the maximum size of 1000 bytes"}`)
	// Beyond the whole body bound (3 x 1000 + 64 KiB) too.
	b.Reset()
	w = multipart.NewWriter(&b)
	w.WriteField("secret", strings.Repeat("x", 100<<10))
	w.Close()
	e.do(req{method: "POST", path: "/api/v1/share", ctype: w.FormDataContentType(), body: b.String()}).
		fails(t, 413, `{"message":"Secret value exceeds the maximum size of 1000 bytes"}`)
	// JSON beyond the body bound.
	e.do(req{method: "POST", path: "/api/v1/share", ctype: "application/json", body: `{"secret":"` + strings.Repeat("x", 100<<10) + `"}`}).
		fails(t, 413, `{"message":"Secret value exceeds the maximum size of 1000 bytes"}`)
}

// TestConcurrentReveal: of many concurrent reveals and burns of one
// secret over HTTP, exactly one succeeds.
func TestConcurrentReveal(t *testing.T) {
	// Each round's 15 losers read "Unknown secret", which the guess
	// limit counts: not what this test is about.
	e := newEnv(t, nil, &Options{GuessLimiter: access.NoGuessLimit})
	for round := 0; round < 5; round++ {
		rc := e.share("secret=once")
		sk, mk := rc.str(t, "secret_key"), rc.str(t, "metadata_key")
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				path := "/api/v1/secret/" + sk
				if i%4 == 0 {
					path = "/api/v1/private/" + mk + "/burn"
				}
				res, err := http.Post(e.srv.URL+path, "", nil)
				if !assert.NoError(t, err) {
					return
				}
				res.Body.Close()
				if res.StatusCode == 200 {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		require.Equal(t, 1, wins, "round %d", round)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

// TestTruncatedBody: a body cut short (a client gone mid-request, a broken
// chunked encoding) is the client's fault: "Invalid request body" as for
// multipart, not a 500 logged at ERROR level.
func TestTruncatedBody(t *testing.T) {
	e := newEnv(t, nil, nil)
	var logs bytes.Buffer
	h, err := New(e.svc, &Options{Logger: jsonLogger(&logs)})
	require.NoError(t, err)
	for _, ct := range []string{"", "application/x-www-form-urlencoded", "application/json"} {
		body := io.MultiReader(strings.NewReader("secret=cut"), failingReader{io.ErrUnexpectedEOF})
		r := httptest.NewRequest("POST", "/api/v1/share", body)
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, 404, w.Code, ct)
		assert.Equal(t, `{"message":"Invalid request body"}`, w.Body.String(), ct)
		assert.Equal(t, "400", w.Header().Get("X-OTS-Intended-Status"), ct)
	}
	assert.NotContains(t, logs.String(), `"level":"ERROR"`, "logged as an error")
}
