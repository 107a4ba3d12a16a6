package webui_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
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

// TestOneTTLPolicy drives the API and the pages with the same lifetimes,
// as an anonymous caller, a customer, and a customer whose maximum the
// embedding program lowers: share and generate store the same lifetime
// through either, the one the policy's clamp gives; and the pages' menu
// lists exactly the options the policy offers each caller, its default
// selected. The reference service had its pages and API disagree (its
// issue 1029), and a v1 path past the anonymous ceiling.
func TestOneTTLPolicy(t *testing.T) {
	const (
		minute = time.Minute
		hour   = time.Hour
		day    = 24 * time.Hour
	)
	svc, _ := onetimetest.NewService(t, &onetime.Options{
		MaxTTL: day, MaxTTLAuthenticated: 14 * day, DefaultTTL: 7 * day,
		TTLOptions: []time.Duration{5 * minute, hour, day, 7 * day, 14 * day},
	})
	auth := access.NewBasicAuth(map[string]string{"ada": "ada-token", "bob": "bob-token"})
	maxTTL := func(customer string) time.Duration {
		if customer == "bob" {
			return 2 * day
		}
		return 0
	}
	api, err := httpapi.New(svc, &httpapi.Options{Auth: auth, MaxTTL: maxTTL})
	require.NoError(t, err)
	ui, err := webui.New(svc, &webui.Options{Auth: auth, MaxTTL: maxTTL})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/", ui)
	srv := httptest.NewServer(api.Wrap(mux))
	t.Cleanup(srv.Close)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	callers := []struct{ name, customer, token string }{{"anonymous", "", ""}, {"ada", "ada", "ada-token"}, {"bob", "bob", "bob-token"}}
	do := func(method, path, customer, token string, form url.Values) (int, http.Header, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		r, err := http.NewRequest(method, srv.URL+path, body)
		require.NoError(t, err)
		if form != nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if customer != "" {
			r.SetBasicAuth(customer, token)
		}
		res, err := noRedirect.Do(r)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, res.Header, string(b)
	}
	// lifetime reads what a share stored, by its metadata key.
	lifetime := func(key string) time.Duration {
		m, err := svc.Receipt(context.Background(), onetime.MetadataKey(key))
		require.NoError(t, err)
		return m.TTL
	}
	ways := map[string]func(customer, token string, form url.Values) time.Duration{
		"API share": func(customer, token string, form url.Values) time.Duration {
			form.Set("secret", "x")
			status, _, body := do(http.MethodPost, "/api/v1/share", customer, token, form)
			require.Equal(t, http.StatusOK, status, body)
			var rc struct {
				MetadataKey string `json:"metadata_key"`
				TTL         int64  `json:"ttl"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &rc))
			got := lifetime(rc.MetadataKey)
			assert.Equal(t, int64(got/time.Second), rc.TTL, "the answer's ttl is the one stored")
			return got
		},
		"API generate": func(customer, token string, form url.Values) time.Duration {
			status, _, body := do(http.MethodPost, "/api/v1/generate", customer, token, form)
			require.Equal(t, http.StatusOK, status, body)
			var rc struct {
				MetadataKey string `json:"metadata_key"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &rc))
			return lifetime(rc.MetadataKey)
		},
		"pages share": func(customer, token string, form url.Values) time.Duration {
			form.Set("secret", "x")
			status, h, body := do(http.MethodPost, "/share", customer, token, form)
			require.Equal(t, http.StatusSeeOther, status, body)
			key, ok := strings.CutPrefix(h.Get("Location"), "./private/")
			require.True(t, ok, h.Get("Location"))
			return lifetime(key)
		},
		"pages generate": func(customer, token string, form url.Values) time.Duration {
			status, h, body := do(http.MethodPost, "/generate", customer, token, form)
			require.Equal(t, http.StatusSeeOther, status, body)
			key, ok := strings.CutPrefix(h.Get("Location"), "./private/")
			require.True(t, ok, h.Get("Location"))
			return lifetime(key)
		},
	}

	t.Run("menus", func(t *testing.T) {
		option := regexp.MustCompile(`<option value="(\d+)"( selected)?>`)
		want := map[string][]string{
			"anonymous": {"300", "3600", "86400 selected"},
			"ada":       {"300", "3600", "86400", "604800 selected", "1209600"},
			"bob":       {"300", "3600", "86400", "172800 selected"}, // his maximum, his default
		}
		for _, c := range callers {
			status, _, body := do(http.MethodGet, "/", c.customer, c.token, nil)
			require.Equal(t, http.StatusOK, status)
			var got []string
			for _, o := range option.FindAllStringSubmatch(body, -1) {
				got = append(got, o[1]+o[2])
			}
			assert.Equal(t, want[c.name], got, c.name)

			// The same list as the policy's, the same default.
			policy := svc.TTLChoices(c.customer, maxTTL(c.customer))
			var offered []string
			for _, d := range policy.Offered {
				s := strconv.FormatInt(int64(d/time.Second), 10)
				if d == policy.Default {
					s += " selected"
				}
				offered = append(offered, s)
			}
			assert.Equal(t, offered, got, c.name)
		}
	})

	for _, c := range []struct {
		ttl            string // "-": none sent
		anon, ada, bob time.Duration
	}{
		{"-", day, 7 * day, 2 * day},
		{"", day, 7 * day, 2 * day},
		{"0", day, 7 * day, 2 * day},
		{"-5", minute, minute, minute},
		{"1", minute, minute, minute},
		{"300", 5 * minute, 5 * minute, 5 * minute},
		{"7200", 2 * hour, 2 * hour, 2 * hour}, // not an option: clamped only
		{"86400", day, day, day},
		{"86401", day, day + time.Second, day + time.Second},
		{"604800", day, 7 * day, 2 * day},
		{"1209600", day, 14 * day, 2 * day},
		{"2592000", day, 14 * day, 2 * day},
		{"99999999999", day, 14 * day, 2 * day},
		{"1e30", day, 14 * day, 2 * day},
	} {
		want := map[string]time.Duration{"anonymous": c.anon, "ada": c.ada, "bob": c.bob}
		for _, caller := range callers {
			t.Run("ttl "+c.ttl+" "+caller.name, func(t *testing.T) {
				var asked time.Duration
				form := url.Values{}
				if c.ttl != "-" {
					form.Set("ttl", c.ttl)
					f, err := strconv.ParseFloat(c.ttl, 64)
					if c.ttl != "" {
						require.NoError(t, err)
						asked = time.Duration(max(min(f, 1e9), -1e9)) * time.Second
					}
				}
				policy := svc.TTLChoices(caller.customer, maxTTL(caller.customer))
				require.Equal(t, want[caller.name], policy.Clamp(asked), "the policy's clamp")
				for name, way := range ways {
					got := way(caller.customer, caller.token, url.Values{"ttl": form["ttl"]})
					assert.Equal(t, want[caller.name], got, name)
				}
			})
		}
	}
}
