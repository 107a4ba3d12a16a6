package httpapi

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

// stallStore is a memory store whose Reveal, given a context with a
// deadline, stalls until the deadline has passed and only then reveals:
// a store that answers too late, as a stalled Redis or a queue of
// passphrase checks would make it.
type stallStore struct{ *memory.Store }

func (s stallStore) Reveal(ctx context.Context, id onetime.ID, c onetime.Credentials, now time.Time, rp *onetime.Replay) (*onetime.SealedSecret, error) {
	if _, ok := ctx.Deadline(); ok {
		<-ctx.Done()
	}
	return s.Store.Reveal(ctx, id, c, now, rp)
}

// TestRequestTimeout: Options.RequestTimeout puts a deadline on each
// request's work; a reveal still running at the deadline consumes nothing
// (the store refuses the change past it) and answers an error, and the
// secret can be revealed afterwards.
func TestRequestTimeout(t *testing.T) {
	svc, err := onetime.New(stallStore{memory.New()}, testSecret, nil)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	plain, err := New(svc, &Options{Logger: discardLogger()})
	require.NoError(t, err)
	const timeout = 100 * time.Millisecond
	bounded, err := New(svc, &Options{Logger: discardLogger(), RequestTimeout: timeout})
	require.NoError(t, err)

	post := func(h *Handler, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return serveDirect(h, r)
	}
	w := post(bounded, "/api/v1/share", "secret=too-late")
	require.Equal(t, 200, w.Code, "a share within the deadline: %s", w.Body)
	var receipt struct {
		SecretKey string `json:"secret_key"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &receipt))

	start := time.Now()
	w = post(bounded, "/api/v1/secret/"+receipt.SecretKey, "")
	assert.GreaterOrEqual(t, time.Since(start), timeout, "the reveal ran until its deadline")
	assert.NotEqual(t, 200, w.Code)
	assert.NotContains(t, w.Body.String(), "too-late", "no value in the answer past the deadline")

	w = post(plain, "/api/v1/secret/"+receipt.SecretKey, "")
	require.Equal(t, 200, w.Code, "the secret survived the late reveal: %s", w.Body)
	assert.Contains(t, w.Body.String(), `"value":"too-late"`)
}
