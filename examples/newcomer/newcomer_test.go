// Package newcomer is the test a Go engineer new to onetime would write for
// a service that embeds it, using only what go doc shows: typed keys,
// onetimetest for expiry without sleeping, httpapi mounted under a prefix
// in a plain ServeMux, and the SQLite store on a *sql.DB the program opened
// itself. It is kept in the repository as the acceptance test of the
// library's API: if it stops compiling or passing, the API stopped being
// obvious.
package newcomer

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/onetimetest"
	"github.com/onetimego/onetime/store/sqlite"
)

// A link shared for an hour is gone an hour later, and its receipt says so.
func TestLinkExpires(t *testing.T) {
	ctx := context.Background()
	svc, clock := onetimetest.NewService(t, nil)

	m, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("deploy key"), TTL: time.Hour})
	require.NoError(t, err)

	clock.Advance(59 * time.Minute)
	ok, err := svc.Check(ctx, m.SecretKey)
	require.NoError(t, err, "still there a minute before it expires")
	assert.False(t, ok, "no passphrase was set")

	clock.Advance(time.Minute)
	_, err = svc.Reveal(ctx, m.SecretKey, "")
	require.ErrorIs(t, err, onetime.ErrNotFound)

	r, err := svc.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateExpired, r.State)
}

// The receipt tells its creator what happened, in the reference's words:
// the first read says new, later ones viewed, and received once read.
func TestReceiptStates(t *testing.T) {
	ctx := context.Background()
	svc, _ := onetimetest.NewService(t, nil)

	m, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v"), Passphrase: "open sesame"})
	require.NoError(t, err)
	for _, want := range []onetime.State{onetime.StateNew, onetime.StateViewed} {
		r, err := svc.Receipt(ctx, m.MetadataKey)
		require.NoError(t, err)
		assert.Equal(t, want, r.State)
	}

	_, err = svc.Reveal(ctx, m.SecretKey, "wrong")
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	s, err := svc.Reveal(ctx, m.SecretKey, "open sesame")
	require.NoError(t, err)
	assert.Equal(t, "v", string(s.Value))

	r, err := svc.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateReceived, r.State)
	assert.Empty(t, r.SecretKey, "a received secret's key is withheld")
}

// The API served under /ots/api/v1/ of a program's own mux, on the SQLite
// store over the program's own database handle.
func TestAPIOnOwnMuxAndDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	store, err := sqlite.New(ctx, db, nil)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	svc, err := onetime.New(store, bytes.Repeat([]byte{7}, onetime.MinServerSecretLen), nil)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })

	api, err := httpapi.New(svc, &httpapi.Options{BasePath: "/ots/api/v1/"})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("the app")) })
	mux.Handle("/ots/api/v1/", api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	post := func(path string, form url.Values) (int, map[string]any) {
		t.Helper()
		res, err := http.PostForm(srv.URL+"/ots/api/v1/"+path, form)
		require.NoError(t, err)
		defer res.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		return res.StatusCode, body
	}

	const value = "line one\nline two ✓\n"
	st, shared := post("share", url.Values{"secret": {value}, "ttl": {"3600"}})
	require.Equal(t, http.StatusOK, st)
	key, _ := shared["secret_key"].(string)
	meta, _ := shared["metadata_key"].(string)
	require.NotEmpty(t, key)
	require.NotEmpty(t, meta)

	_, rc := post("private/"+meta, nil)
	assert.Equal(t, "new", rc["state"])

	st, revealed := post("secret/"+key, nil)
	require.Equal(t, http.StatusOK, st)
	assert.Equal(t, value, revealed["value"])

	_, gone := post("secret/"+key, nil)
	assert.Equal(t, "Unknown secret", gone["message"])

	_, rc = post("private/"+meta, nil)
	assert.Equal(t, "received", rc["state"])

	// The app's own routes are untouched.
	res, err := http.Get(srv.URL + "/")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

// Passing a metadata key where a secret key belongs does not compile; the
// conversion a program needs for a key that arrives as text is explicit.
func TestKeysFromText(t *testing.T) {
	ctx := context.Background()
	svc, _ := onetimetest.NewService(t, nil)
	m, err := svc.Generate(ctx, onetime.GenerateRequest{Length: 20})
	require.NoError(t, err)

	fromURL := string(m.SecretKey) // as it would arrive in a request path
	s, err := svc.Reveal(ctx, onetime.SecretKey(fromURL), "")
	require.NoError(t, err)
	assert.Equal(t, m.Value, s.Value)

	_, err = svc.Burn(ctx, m.MetadataKey)
	assert.True(t, errors.Is(err, onetime.ErrNotFound), "a received secret cannot be burned")
}
