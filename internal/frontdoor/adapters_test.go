package frontdoor_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/onetimetest"
	"github.com/onetimego/onetime/webui"
)

// outcome is what became of one share, through either handler: refused
// with a status, or stored with a lifetime and a value.
type outcome struct {
	Status int // the intended status of a refusal; 0 when stored
	TTL    time.Duration
	Value  string
}

// TestSameRefusals feeds the API and the pages the same form bodies: both
// refuse the same ones with the same status, and store the others with
// the same lifetime and value. Issue 19 found the pages storing invalid
// UTF-8 as U+FFFD, and taking ttl=abc or ttl=-5 as seven days where the
// API refuses or clamps to a minute.
func TestSameRefusals(t *testing.T) {
	const maxSize = 64
	svc, _ := onetimetest.NewService(t, &onetime.Options{MaxSize: maxSize, MinPassphraseLen: 4})
	auth := access.NewBasicAuth(map[string]string{"ada": "token"})
	api, err := httpapi.New(svc, &httpapi.Options{Auth: auth, IntendedStatus: true})
	require.NoError(t, err)
	ui, err := webui.New(svc, &webui.Options{Auth: auth})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/", ui)
	srv := httptest.NewServer(api.Wrap(mux))
	t.Cleanup(srv.Close)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	post := func(path, body string, customer bool) *http.Response {
		r, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if customer {
			r.SetBasicAuth("ada", "token")
		}
		res, err := noRedirect.Do(r)
		require.NoError(t, err)
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	// stored reads what the share stored, by its metadata key.
	stored := func(key, passphrase string) outcome {
		m, err := svc.Receipt(context.Background(), onetime.MetadataKey(key))
		require.NoError(t, err)
		s, err := svc.Reveal(context.Background(), m.SecretKey, passphrase)
		require.NoError(t, err)
		return outcome{TTL: m.TTL, Value: string(s.Value)}
	}
	viaAPI := func(body, passphrase string, customer bool) outcome {
		res := post("/api/v1/share", body, customer)
		var rc struct {
			MetadataKey string `json:"metadata_key"`
		}
		if res.StatusCode != http.StatusOK {
			return outcome{Status: res.StatusCode}
		}
		require.NoError(t, json.NewDecoder(res.Body).Decode(&rc))
		return stored(rc.MetadataKey, passphrase)
	}
	viaPages := func(body, passphrase string, customer bool) outcome {
		res := post("/share", body, customer)
		io.Copy(io.Discard, res.Body)
		if res.StatusCode != http.StatusSeeOther {
			return outcome{Status: res.StatusCode}
		}
		key, ok := strings.CutPrefix(res.Header.Get("Location"), "./private/")
		require.True(t, ok, res.Header.Get("Location"))
		return stored(key, passphrase)
	}

	const day = 24 * time.Hour
	for _, c := range []struct {
		name, body string
		customer   bool
		passphrase string // to reveal what was stored
		want       outcome
	}{
		{name: "invalid UTF-8", body: "secret=%ff%feabc", want: outcome{Status: 400}},
		{name: "a lone surrogate's bytes", body: "secret=%ED%A0%80", want: outcome{Status: 400}},
		{name: "broken escape", body: "secret=%zz", want: outcome{Status: 400}},
		{name: "empty secret", body: "secret=&ttl=60", want: outcome{Status: 400}},
		{name: "ttl not a number", body: "secret=x&ttl=abc", want: outcome{Status: 400}},
		{name: "ttl a fraction", body: "secret=x&ttl=1.5", want: outcome{Status: 400}},
		{name: "ttl in hex", body: "secret=x&ttl=0x10", want: outcome{Status: 400}},
		{name: "passphrase too short", body: "secret=x&passphrase=abc", want: outcome{Status: 400}},
		{name: "value too large", body: "secret=" + strings.Repeat("x", maxSize+1), want: outcome{Status: 413}},
		{name: "invalid UTF-8, too large", body: "secret=" + strings.Repeat("%ff", maxSize+1), want: outcome{Status: 413}},
		{name: "body too large", body: "secret=x&passphrase=" + strings.Repeat("p", 3*maxSize+64<<10), want: outcome{Status: 413}},
		{name: "negative ttl: the shortest", body: "secret=x&ttl=-5", want: outcome{TTL: time.Minute, Value: "x"}},
		{name: "ttl below the shortest", body: "secret=x&ttl=1", want: outcome{TTL: time.Minute, Value: "x"}},
		{name: "no ttl: the default", body: "secret=x", want: outcome{TTL: 7 * day, Value: "x"}},
		{name: "ttl zero: the default", body: "secret=x&ttl=0", want: outcome{TTL: 7 * day, Value: "x"}},
		{name: "ttl with an exponent", body: "secret=x&ttl=1e3", want: outcome{TTL: 1000 * time.Second, Value: "x"}},
		{name: "ttl with spaces", body: "secret=x&ttl=+600+", want: outcome{TTL: 600 * time.Second, Value: "x"}},
		{name: "ttl huge, anonymous", body: "secret=x&ttl=99999999999", want: outcome{TTL: 7 * day, Value: "x"}},
		{name: "ttl huge, customer", body: "secret=x&ttl=99999999999", customer: true, want: outcome{TTL: 30 * day, Value: "x"}},
		{name: "ttl past int64", body: "secret=x&ttl=1e30", customer: true, want: outcome{TTL: 30 * day, Value: "x"}},
		{name: "semicolon in a value", body: "secret=a;b&passphrase=pass;word", passphrase: "pass;word", want: outcome{TTL: 7 * day, Value: "a;b"}},
		{name: "UTF-8 value", body: "secret=%E2%9C%93+ok", want: outcome{TTL: 7 * day, Value: "✓ ok"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, viaAPI(c.body, c.passphrase, c.customer), "the API")
			assert.Equal(t, c.want, viaPages(c.body, c.passphrase, c.customer), "the pages")
		})
	}
}
