package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	svc, err := onetime.New(memory.New(), []byte("0123456789abcdef0123456789abcdef"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	mux, err := newMux(svc, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, u string, form url.Values) (int, []byte) {
	t.Helper()
	res, err := http.PostForm(u, form)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, b
}

// The API answers under the program's prefix, mounted without
// http.StripPrefix, and nowhere else.
func TestAPIUnderBasePath(t *testing.T) {
	srv := newServer(t)
	res, err := http.Get(srv.URL + "/ots/api/v1/status")
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.JSONEq(t, `{"status":"nominal","locale":"en","idempotency":true,"zero_knowledge":["zk1"]}`, string(b))

	code, b := post(t, srv.URL+"/ots/api/v1/share", url.Values{"secret": {"hello"}})
	require.Equal(t, http.StatusOK, code, "%s", b)
	var m struct {
		SecretKey string `json:"secret_key"`
	}
	require.NoError(t, json.Unmarshal(b, &m))
	require.NotEmpty(t, m.SecretKey)

	code, _ = post(t, srv.URL+"/api/v1/secret/"+m.SecretKey, nil)
	assert.Equal(t, http.StatusNotFound, code, "the default base path is not served")
	code, b = post(t, srv.URL+"/ots/api/v1/secret/"+m.SecretKey, nil)
	require.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"value":"hello","secret_key":"`+m.SecretKey+`","share_domain":""}`, string(b))
}

// The program's own route uses the Service directly and links into the API.
func TestOnboard(t *testing.T) {
	srv := newServer(t)
	code, b := post(t, srv.URL+"/onboard", nil)
	require.Equal(t, http.StatusOK, code)
	host := strings.TrimPrefix(srv.URL, "http://")
	_, link, ok := strings.Cut(strings.TrimSpace(string(b)), "http://"+host)
	require.True(t, ok, "%s", b)
	link, _, _ = strings.Cut(link, " ")
	require.True(t, strings.HasPrefix(link, "/ots/api/v1/secret/"), link)

	code, b = post(t, srv.URL+link, nil)
	require.Equal(t, http.StatusOK, code)
	var s struct{ Value string }
	require.NoError(t, json.Unmarshal(b, &s))
	assert.Len(t, s.Value, onetime.DefaultPasswordLength)
	code, _ = post(t, srv.URL+link, nil)
	assert.Equal(t, http.StatusNotFound, code, "revealed twice")
}
