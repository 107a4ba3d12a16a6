package yardstick_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/loadgen"
	"github.com/onetimego/onetime/internal/yardstick"
)

func post(t *testing.T, u string, form url.Values) (int, []byte) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// A share answers a receipt of exactly ReceiptSize bytes; the secret opens
// once, with its passphrase only.
func TestShareReveal(t *testing.T) {
	h := yardstick.New()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	st, body := post(t, srv.URL+"/api/v1/share", url.Values{"secret": {"a&b=c\n\"ü"}, "ttl": {"3600"}, "passphrase": {"pw"}})
	require.Equal(t, http.StatusOK, st, string(body))
	assert.Len(t, body, yardstick.ReceiptSize)
	var rec struct {
		SecretKey          string `json:"secret_key"`
		MetadataKey        string `json:"metadata_key"`
		TTL                int64  `json:"ttl"`
		PassphraseRequired bool   `json:"passphrase_required"`
	}
	require.NoError(t, json.Unmarshal(body, &rec))
	assert.Len(t, rec.SecretKey, 56)
	assert.Len(t, rec.MetadataKey, 56)
	assert.NotEqual(t, rec.SecretKey, rec.MetadataKey)
	assert.Equal(t, int64(3600), rec.TTL)
	assert.True(t, rec.PassphraseRequired)
	require.Equal(t, 1, h.Len())

	st, body = post(t, srv.URL+"/api/v1/secret/"+rec.SecretKey, url.Values{"passphrase": {"wrong"}})
	assert.Equal(t, http.StatusNotFound, st)
	assert.JSONEq(t, `{"message":"Unknown secret"}`, string(body))
	require.Equal(t, 1, h.Len(), "a wrong passphrase leaves the secret")

	st, body = post(t, srv.URL+"/api/v1/secret/"+rec.SecretKey, url.Values{"passphrase": {"pw"}})
	require.Equal(t, http.StatusOK, st)
	assert.JSONEq(t, `{"value":"a&b=c\n\"ü","secret_key":"`+rec.SecretKey+`","share_domain":""}`, string(body))
	require.Zero(t, h.Len())

	st, _ = post(t, srv.URL+"/api/v1/secret/"+rec.SecretKey, url.Values{"passphrase": {"pw"}})
	assert.Equal(t, http.StatusNotFound, st, "a revealed secret is gone")
}

func TestShareRefusals(t *testing.T) {
	srv := httptest.NewServer(yardstick.New())
	t.Cleanup(srv.Close)
	st, _ := post(t, srv.URL+"/api/v1/share", url.Values{"secret": {""}})
	assert.Equal(t, http.StatusNotFound, st, "nothing to share")
	for _, ttl := range []string{"x", "-1", "0"} {
		st, _ = post(t, srv.URL+"/api/v1/share", url.Values{"secret": {"v"}, "ttl": {ttl}})
		assert.Equal(t, http.StatusBadRequest, st, "ttl %q", ttl)
	}
	resp, err := http.Get(srv.URL + "/api/v1/share")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// The load generator finds no error and no wrong value in any mode it
// measures the yardstick in.
func TestLoadgenAgainstYardstick(t *testing.T) {
	srv := httptest.NewServer(yardstick.New())
	t.Cleanup(srv.Close)
	for _, args := range [][]string{
		{"-mode", "share", "-n", "200", "-c", "4"},
		{"-mode", "reveal", "-n", "200", "-c", "4", "-recheck"},
		{"-mode", "pair", "-n", "200", "-c", "4", "-recheck"},
		{"-mode", "pair", "-n", "50", "-c", "2", "-passphrase", "-size", "3000"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			cfg, err := loadgen.ParseFlags(append([]string{"-url", srv.URL}, args...), nil)
			require.NoError(t, err)
			rep, err := loadgen.Run(context.Background(), cfg, nil)
			require.NoError(t, err)
			require.True(t, rep.OK(), "errors %v, wrong values %d", rep.ErrorKinds, rep.WrongValues)
		})
	}
}

// Every receipt is ReceiptSize bytes, whatever the TTL's digits and the
// passphrase flag (up to a 7-digit TTL).
func TestReceiptSize(t *testing.T) {
	srv := httptest.NewServer(yardstick.New())
	t.Cleanup(srv.Close)
	for _, form := range []url.Values{
		{"secret": {"v"}},
		{"secret": {"v"}, "ttl": {"1"}},
		{"secret": {"v"}, "ttl": {"9999999"}, "passphrase": {"p"}},
	} {
		st, body := post(t, srv.URL+"/api/v1/share", form)
		require.Equal(t, http.StatusOK, st)
		assert.Len(t, body, yardstick.ReceiptSize, "%v", form)
		assert.True(t, json.Valid(body), string(body))
	}
}
