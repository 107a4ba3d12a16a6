package loadgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client speaks the v1 API (or a peer's, see peers.go) for one worker:
// over its own connection with the raw HTTP/1.1 client (the default), or
// over a net/http client shared by all workers (-client std, and for
// https URLs).
type client struct {
	std   *http.Client
	raw   *rawConn
	base  string // std: the URL of the API's root (/api/v1)
	path  string // raw: the path of the API's root
	authz string
	peer  peer // nil: onetime's v1 API
}

// newClients returns n clients for cfg.
func newClients(cfg Config, n int) ([]*client, error) {
	u, err := checkURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	var authz string
	if cfg.Auth != "" {
		authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Auth))
	}
	cs := make([]*client, n)
	p := newPeer(cfg.API)
	root := "/api/v1"
	if p != nil {
		root = p.root()
	}
	if cfg.Client == "raw" && u.Scheme == "http" {
		port := u.Port()
		if port == "" {
			port = "80"
		}
		addr := net.JoinHostPort(u.Hostname(), port)
		for i := range cs {
			cs[i] = &client{raw: newRawConn(addr, u.Host, authz, cfg.Timeout), path: strings.TrimRight(u.EscapedPath(), "/") + root, authz: authz, peer: p}
		}
		return cs, nil
	}
	tr := &http.Transport{
		Proxy: nil, // loopback only: never through a proxy
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
			Control:   dialLoopbackOnly,
		}).DialContext,
		// Keep one idle connection per client so that every request
		// reuses a connection: the run measures the server, not dialing.
		MaxIdleConns:        n,
		MaxIdleConnsPerHost: n,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	hc := &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("loadgen: the API never redirects")
		},
	}
	for i := range cs {
		cs[i] = &client{std: hc, base: strings.TrimRight(cfg.URL, "/") + root, authz: authz, peer: p}
	}
	return cs, nil
}

func (c *client) close() {
	if c.raw != nil {
		c.raw.close()
	} else {
		c.std.CloseIdleConnections()
	}
}

// do sends a request with form as its body (none when nil) and returns
// the answer's status and body.
func (c *client) do(ctx context.Context, method, path string, form url.Values) (int, []byte, error) {
	if form == nil {
		return c.send(ctx, method, path, "", nil)
	}
	return c.send(ctx, method, path, "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// send sends a request with body of the media type ctype (no body when
// ctype is "") and returns the answer's status and body.
func (c *client) send(ctx context.Context, method, path, ctype string, body []byte) (int, []byte, error) {
	if c.raw != nil {
		return c.raw.roundTrip(ctx, method, c.path+path, ctype, body)
	}
	var rd io.Reader
	if ctype != "" {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	resp, err := c.std.Do(req)
	if err != nil {
		return 0, nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// answer describes a non-200 answer briefly, by status and API message.
func answer(op string, status int, body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	msg := e.Message
	if len(msg) > 80 {
		msg = msg[:80]
	}
	return fmt.Sprintf("%s: HTTP %d %q", op, status, msg)
}

func isUnknown(status int, body []byte) bool {
	if status == http.StatusOK {
		return false
	}
	var e struct {
		Message string `json:"message"`
	}
	return json.Unmarshal(body, &e) == nil && e.Message == "Unknown secret"
}

// validKey reports whether k looks like a key of the v1 API: non-empty,
// lowercase letters and digits only.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

type receiptJSON struct {
	SecretKey          *string `json:"secret_key"`
	MetadataKey        string  `json:"metadata_key"`
	Value              *string `json:"value"`
	PassphraseRequired *bool   `json:"passphrase_required"`
}

func (c *client) status(ctx context.Context) error {
	path := "/status"
	if c.peer != nil {
		path = c.peer.health()
	}
	st, body, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return errors.New(answer("status", st, body))
	}
	return nil
}

// share stores value and returns its secret key.
func (c *client) share(ctx context.Context, value, passphrase string) (string, error) {
	if c.peer != nil {
		path, body := c.peer.share(value)
		st, b, err := c.send(ctx, http.MethodPost, path, "application/json", body)
		if err != nil {
			return "", err
		}
		return c.peer.shareKey(st, b)
	}
	form := url.Values{"secret": {value}}
	if passphrase != "" {
		form.Set("passphrase", passphrase)
	}
	st, body, err := c.do(ctx, http.MethodPost, "/share", form)
	if err != nil {
		return "", err
	}
	if st != http.StatusOK {
		return "", fail(answer("share", st, body), false)
	}
	var r receiptJSON
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fail("share: answer is not a JSON receipt", false)
	}
	switch {
	case r.SecretKey == nil || !validKey(*r.SecretKey):
		return "", fail("share: receipt without a valid secret_key", false)
	case !validKey(r.MetadataKey):
		return "", fail("share: receipt without a valid metadata_key", false)
	case r.PassphraseRequired == nil || *r.PassphraseRequired != (passphrase != ""):
		return "", fail("share: passphrase_required missing or wrong", false)
	case r.Value != nil:
		return "", fail("share: receipt carries a value", false)
	}
	return *r.SecretKey, nil
}

// reveal opens the secret and checks that it holds exactly want. A missing
// secret (the API's "Unknown secret") or a different value is a wrong
// value: the secret was just shared and nobody else knows its key.
func (c *client) reveal(ctx context.Context, key, passphrase, want string) error {
	if c.peer != nil {
		v, found, err := c.revealPeer(ctx, key)
		switch {
		case err != nil:
			return err
		case !found:
			return fail("reveal: value missing (not found)", true)
		case v != want:
			return fail("reveal: value differs from the one shared", true)
		}
		return nil
	}
	var form url.Values
	if passphrase != "" {
		form = url.Values{"passphrase": {passphrase}}
	} else {
		form = url.Values{}
	}
	st, body, err := c.do(ctx, http.MethodPost, "/secret/"+key, form)
	if err != nil {
		return err
	}
	if isUnknown(st, body) {
		return fail("reveal: value missing (Unknown secret)", true)
	}
	if st != http.StatusOK {
		return fail(answer("reveal", st, body), false)
	}
	var r struct {
		Value     *string `json:"value"`
		SecretKey string  `json:"secret_key"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fail("reveal: answer is not JSON", false)
	}
	switch {
	case r.Value == nil:
		return fail("reveal: answer without a value", true)
	case *r.Value != want:
		return fail("reveal: value differs from the one shared", true)
	case r.SecretKey != key:
		return fail("reveal: secret_key differs from the one asked for", false)
	}
	return nil
}

// revealWrong tries a wrong passphrase, which must be answered exactly like
// an unknown secret.
func (c *client) revealWrong(ctx context.Context, key string) error {
	form := url.Values{"passphrase": {"not the " + burstPassphrase}}
	st, body, err := c.do(ctx, http.MethodPost, "/secret/"+key, form)
	if err != nil {
		return err
	}
	if st == http.StatusOK {
		return fail("wrong passphrase: the secret was revealed", true)
	}
	if !isUnknown(st, body) {
		return fail(answer("wrong passphrase", st, body), false)
	}
	return nil
}

// revealPeer reveals key on a peer.
func (c *client) revealPeer(ctx context.Context, key string) (value string, found bool, err error) {
	st, b, err := c.send(ctx, http.MethodGet, c.peer.reveal(key), "", nil)
	if err != nil {
		return "", false, err
	}
	return c.peer.revealed(st, b)
}

// revealGone reveals a secret that was revealed already: it must be gone.
func (c *client) revealGone(ctx context.Context, key, passphrase string) error {
	if c.peer != nil {
		_, found, err := c.revealPeer(ctx, key)
		if err == nil && found {
			return fail("recheck: a revealed secret was revealed again", true)
		}
		return err
	}
	form := url.Values{}
	if passphrase != "" {
		form.Set("passphrase", passphrase)
	}
	st, body, err := c.do(ctx, http.MethodPost, "/secret/"+key, form)
	if err != nil {
		return err
	}
	if st == http.StatusOK {
		return fail("recheck: a revealed secret was revealed again", true)
	}
	if !isUnknown(st, body) {
		return fail(answer("recheck", st, body), false)
	}
	return nil
}

func (c *client) generate(ctx context.Context) error {
	st, body, err := c.do(ctx, http.MethodPost, "/generate", url.Values{})
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fail(answer("generate", st, body), false)
	}
	var r receiptJSON
	if err := json.Unmarshal(body, &r); err != nil {
		return fail("generate: answer is not a JSON receipt", false)
	}
	switch {
	case r.SecretKey == nil || !validKey(*r.SecretKey):
		return fail("generate: receipt without a valid secret_key", false)
	case r.Value == nil || *r.Value == "":
		return fail("generate: receipt without a value", true)
	}
	return nil
}

// randomKey returns a key of the form the server issues (lowercase letters
// and digits) that names no secret.
func randomKey() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 56)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}
