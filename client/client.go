package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultUserAgent is the User-Agent sent unless Options.UserAgent says
// otherwise.
const DefaultUserAgent = "onetimego-client/1"

// maxAnswer bounds the answers read from a server. A value of the largest
// size servers accept by default (1 MiB) fits many times over, even with
// every character escaped.
const maxAnswer = 32 << 20

// statusRetries is how many times Status is tried again after a network
// error or a server error, and statusBackoff the first wait (it doubles).
var (
	statusRetries = 2
	statusBackoff = 200 * time.Millisecond
)

// Options configure a [Client]. A nil *Options, and every zero field, means
// the default.
type Options struct {
	// HTTPClient sends the requests; nil means http.DefaultClient. Its
	// Timeout, Transport and redirect policy apply.
	HTTPClient *http.Client

	// CustomerID and APIToken are a customer's credentials, sent as HTTP
	// Basic auth on every request. Both or neither must be set; with
	// neither, the client is anonymous and sends no Authorization header.
	CustomerID string
	APIToken   string

	// UserAgent is sent as the User-Agent header; empty means
	// [DefaultUserAgent].
	UserAgent string
}

// A Client talks to one v1 server. It is safe for concurrent use.
type Client struct {
	site string // the base URL of links, without a trailing slash
	api  string // the API root, with a trailing slash
	hc   *http.Client
	ua   string

	custid, token string
}

// New returns a client of the v1 server at baseURL, e.g.
// "https://onetimesecret.com" (whose API lives under /api/v1/) or
// "http://127.0.0.1:7143". A baseURL ending in /api/v1 is taken as the API
// itself, and the site is what comes before it. opts may be nil.
func New(baseURL string, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if (o.CustomerID == "") != (o.APIToken == "") {
		return nil, errors.New("client: CustomerID and APIToken must be set together")
	}
	if strings.Contains(o.CustomerID, ":") {
		return nil, errors.New("client: a CustomerID cannot contain ':'")
	}
	site, err := siteURL(baseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{site: site, api: site + "/api/v1/", hc: o.HTTPClient, ua: o.UserAgent, custid: o.CustomerID, token: o.APIToken}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	return c, nil
}

// siteURL checks a base URL and returns it without a trailing slash, query
// or fragment, and without a trailing /api/v1.
func siteURL(baseURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", errors.New("client: the base URL must be an http or https URL with a host and no credentials, e.g. https://onetimesecret.com")
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = "", "", "", false
	p := strings.TrimRight(u.EscapedPath(), "/")
	p = strings.TrimSuffix(p, "/api/v1")
	u.Path, u.RawPath = "", ""
	return u.String() + p, nil
}

// BaseURL returns the site's base URL as links use it, without a trailing
// slash.
func (c *Client) BaseURL() string { return c.site }

// SecretLink returns the link that reveals the secret: BASE/secret/KEY.
// key may also be a link; "" comes back for a key that is not one.
func (c *Client) SecretLink(key SecretKey) string {
	k, err := key.parse()
	if err != nil {
		return ""
	}
	return c.site + "/secret/" + k
}

// ReceiptLink returns the link to the receipt: BASE/private/KEY. key may
// also be a link; "" comes back for a key that is not one.
func (c *Client) ReceiptLink(key MetadataKey) string {
	k, err := key.parse()
	if err != nil {
		return ""
	}
	return c.site + "/private/" + k
}

// Status asks whether the server is up. It is retried on network errors
// and server errors (5xx), with a short backoff, until ctx ends.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	wait := statusBackoff
	for try := 0; ; try++ {
		body, err := c.do(ctx, http.MethodGet, "status", "status", nil)
		if err == nil {
			var s Status
			if err := json.Unmarshal(body, &s); err != nil {
				return nil, malformed("status")
			}
			s.Raw = body
			return &s, nil
		}
		if try >= statusRetries || !retryable(ctx, err) {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		wait *= 2
	}
}

// retryable reports whether a failed status request may be tried again.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if e, ok := errors.AsType[*APIError](err); ok {
		return e.StatusCode >= 500 || e.IntendedStatus >= 500
	}
	var ne *NetworkError
	return errors.As(err, &ne)
}

// ShareOptions are the optional parameters of [Client.Share]. A nil
// *ShareOptions, and every zero field, means the server's default.
type ShareOptions struct {
	// Passphrase, when set, must be given to reveal the secret.
	Passphrase string
	// TTL is the secret's lifetime, sent in whole seconds (rounded up).
	// Zero means the server's default (7 days on the reference); servers
	// clamp it into their bounds (60 s up to 7 days anonymous, 30 days for
	// customers, by default).
	TTL time.Duration
	// Recipients are e-mail addresses the server sends the link to. The
	// server requires credentials for them.
	Recipients []string
}

// GenerateOptions are the optional parameters of [Client.Generate]. A nil
// *GenerateOptions, and every zero field, means the server's default.
type GenerateOptions struct {
	// Passphrase, TTL and Recipients are as in [ShareOptions].
	Passphrase string
	TTL        time.Duration
	Recipients []string
	// Length is the length of the password made (12 by default; servers
	// clamp it into [4, 128]).
	Length int
}

// Share stores value, the secret, on the server and returns its receipt,
// with both keys: give [Client.SecretLink] of m.SecretKey to the reader,
// keep the MetadataKey to follow or burn it. opts may be nil. value must
// be non-empty UTF-8 text (the v1 API carries text; encode binary data,
// e.g. in base64); it is sent byte for byte, trailing newlines included.
func (c *Client) Share(ctx context.Context, value string, opts *ShareOptions) (*Metadata, error) {
	if value == "" {
		return nil, &InputError{"nothing to share: the value is empty"}
	}
	if !utf8.ValidString(value) {
		return nil, &InputError{"the value is not UTF-8 text (the v1 API carries text: encode binary data, e.g. in base64)"}
	}
	var o ShareOptions
	if opts != nil {
		o = *opts
	}
	form := url.Values{"secret": {value}}
	if err := addCommon(form, o.Passphrase, o.TTL, o.Recipients); err != nil {
		return nil, err
	}
	body, err := c.do(ctx, http.MethodPost, "share", "share", form)
	if err != nil {
		return nil, err
	}
	return decodeReceipt(body, "share")
}

// Generate has the server make a random password, store it as a secret
// and return its receipt, whose Value is the password. opts may be nil.
func (c *Client) Generate(ctx context.Context, opts *GenerateOptions) (*Metadata, error) {
	var o GenerateOptions
	if opts != nil {
		o = *opts
	}
	form := url.Values{}
	if err := addCommon(form, o.Passphrase, o.TTL, o.Recipients); err != nil {
		return nil, err
	}
	if o.Length < 0 {
		return nil, &InputError{"negative length"}
	}
	if o.Length > 0 {
		form.Set("length", strconv.Itoa(o.Length))
	}
	body, err := c.do(ctx, http.MethodPost, "generate", "generate", form)
	if err != nil {
		return nil, err
	}
	return decodeReceipt(body, "generate")
}

// addCommon sets the parameters that share and generate have in common;
// empty ones are left out (the API reads an empty value as absent).
func addCommon(form url.Values, passphrase string, ttl time.Duration, recipients []string) error {
	if passphrase != "" {
		form.Set("passphrase", passphrase)
	}
	if ttl < 0 {
		return &InputError{"negative TTL"}
	}
	if ttl > 0 {
		form.Set("ttl", strconv.FormatInt(int64((ttl+time.Second-1)/time.Second), 10))
	}
	for _, r := range recipients {
		if r = strings.TrimSpace(r); r != "" {
			form.Add("recipient", r)
		}
	}
	return nil
}

// Reveal reads the secret once: afterwards it is gone. key is the secret
// key or the link BASE/secret/KEY. passphrase is "" for a secret shared
// without one. A wrong or missing passphrase answers [ErrNotFound], like
// an unknown key, and counts as an attempt: after too many (10 by
// default) the server burns the secret. Reveal is never retried.
func (c *Client) Reveal(ctx context.Context, key SecretKey, passphrase string) (*Secret, error) {
	k, err := key.parse()
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	if passphrase != "" {
		form.Set("passphrase", passphrase)
	}
	body, err := c.do(ctx, http.MethodPost, "secret/"+k, "secret/{key}", form)
	if err != nil {
		return nil, err
	}
	var w struct {
		Value       *string `json:"value"`
		SecretKey   string  `json:"secret_key"`
		ShareDomain string  `json:"share_domain"`
	}
	if err := json.Unmarshal(body, &w); err != nil || w.Value == nil {
		return nil, malformed("secret")
	}
	s := &Secret{Key: SecretKey(w.SecretKey), Value: *w.Value, ShareDomain: w.ShareDomain, Raw: body}
	if s.Key == "" {
		s.Key = SecretKey(k)
	}
	return s, nil
}

// Receipt reads the receipt of a secret: what became of it. key is the
// metadata key or a link to the receipt. The reference service (and
// httpapi) answer the state as it was before this read: the first read of
// a fresh receipt says [StateNew], later ones [StateViewed].
func (c *Client) Receipt(ctx context.Context, key MetadataKey) (*Metadata, error) {
	k, err := key.parse()
	if err != nil {
		return nil, err
	}
	body, err := c.do(ctx, http.MethodGet, "private/"+k, "private/{key}", nil)
	if err != nil {
		return nil, err
	}
	return decodeReceipt(body, "receipt")
}

// Burn destroys a secret that has not been read yet and returns its
// receipt, in state [StateBurned]. key is the metadata key or a link to
// the receipt. A secret already read, burned or expired answers
// [ErrNotFound]. Burn is never retried.
func (c *Client) Burn(ctx context.Context, key MetadataKey) (*Metadata, error) {
	k, err := key.parse()
	if err != nil {
		return nil, err
	}
	body, err := c.do(ctx, http.MethodPost, "private/"+k+"/burn", "private/{key}/burn", url.Values{})
	if err != nil {
		return nil, err
	}
	return decodeBurn(body)
}

// Recent returns the receipts of the customer's recent secrets, newest
// first. It needs credentials (Options.CustomerID and Options.APIToken);
// without them servers answer [ErrUnauthorized]. The receipts carry no
// secret key.
func (c *Client) Recent(ctx context.Context) ([]*Metadata, error) {
	body, err := c.do(ctx, http.MethodGet, "private/recent", "private/recent", nil)
	if err != nil {
		return nil, err
	}
	return decodeRecent(body)
}

// do sends one request to the API path rel (below the API root) and
// returns the body of a 200 answer. route names the request in errors
// (rel may hold a key; route never does). A non-nil form is sent as an
// application/x-www-form-urlencoded body.
func (c *Client) do(ctx context.Context, method, rel, route string, form url.Values) ([]byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.api+rel, body)
	if err != nil {
		// Only a malformed base URL gets here, and New checked it.
		return nil, fmt.Errorf("client: %s %s: cannot make the request", method, route)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if c.custid != "" {
		req.SetBasicAuth(c.custid, c.token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, netError(method, route, err, rel, form)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil {
		return nil, netError(method, route, err, rel, form)
	}
	if len(b) > maxAnswer {
		return nil, fmt.Errorf("client: %s %s: answer larger than %d bytes", method, route, maxAnswer)
	}
	if res.StatusCode != http.StatusOK || errorIn200(b) {
		return nil, apiError(res, b)
	}
	return b, nil
}

// errorIn200 reports whether a 200 answer is an error all the same: a
// JSON object with a "message", which no v1 answer of success has (some
// servers answer errors with 200).
func errorIn200(b []byte) bool {
	if !bytes.Contains(b, []byte(`"message"`)) {
		return false
	}
	var m struct {
		Message *string `json:"message"`
	}
	return json.Unmarshal(b, &m) == nil && m.Message != nil
}

// apiError makes the error of a non-200 answer, or of a 200 answer that
// carries an error message.
func apiError(res *http.Response, body []byte) *APIError {
	e := &APIError{StatusCode: res.StatusCode, IntendedStatus: res.StatusCode}
	if n, err := strconv.Atoi(strings.TrimSpace(res.Header.Get("X-OTS-Intended-Status"))); err == nil && n >= 100 && n <= 999 {
		e.IntendedStatus = n
	}
	var m struct {
		Message any `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil {
		if s, ok := m.Message.(string); ok {
			e.Message = s
		}
	}
	if e.Message == "" {
		// Not an answer of the API (a proxy's page?): its body is not
		// repeated, only its status.
		e.Message = http.StatusText(res.StatusCode)
	}
	if s := res.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(s); err == nil {
			e.RetryAfter = max(time.Until(t), 0)
		}
	}
	return e
}

// netError wraps an error of the transport without the request's URL,
// which holds the key: the url.Error is replaced by a [NetworkError] that
// names the route and keeps the cause. As a last guard, any key, value or
// passphrase sent is cut out of the cause's text.
func netError(method, route string, err error, rel string, form url.Values) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	text := err.Error()
	secrets := []string{rel}
	if i := strings.IndexByte(rel, '/'); i >= 0 {
		// The key in secret/KEY, private/KEY, private/KEY/burn.
		secrets = append(secrets, strings.SplitN(rel[i+1:], "/", 2)[0])
	}
	for _, vs := range form {
		secrets = append(secrets, vs...)
	}
	if form != nil {
		secrets = append(secrets, form.Encode())
	}
	for _, s := range secrets {
		if len(s) >= 4 {
			text = strings.ReplaceAll(text, s, "[redacted]")
			if q := url.QueryEscape(s); q != s {
				text = strings.ReplaceAll(text, q, "[redacted]")
			}
		}
	}
	return &NetworkError{Method: method, Route: route, text: text, err: err}
}

// decodeReceipt reads a receipt answer.
func decodeReceipt(body []byte, what string) (*Metadata, error) {
	var w wireReceipt
	if err := json.Unmarshal(body, &w); err != nil || !w.valid() {
		return nil, malformed(what)
	}
	m := w.metadata()
	m.Raw = body
	return m, nil
}

// decodeBurn reads a burn answer: {"state":{receipt},"secret_shortkey":..}
// or a bare receipt.
func decodeBurn(body []byte) (*Metadata, error) {
	var outer struct {
		State    json.RawMessage `json:"state"`
		ShortKey string          `json:"secret_shortkey"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		return nil, malformed("burn")
	}
	inner := body
	if s := bytes.TrimSpace(outer.State); len(s) > 0 && s[0] == '{' {
		inner = s
	}
	var w wireReceipt
	if err := json.Unmarshal(inner, &w); err != nil || !w.valid() {
		return nil, malformed("burn")
	}
	m := w.metadata()
	if outer.ShortKey != "" {
		m.ShortKey = outer.ShortKey
	}
	if m.ShortKey == "" && len(m.SecretKey) >= 6 {
		m.ShortKey = string(m.SecretKey[:6])
	}
	m.Raw = body
	return m, nil
}

// decodeRecent reads the answer of recent: an array of receipts (or, from
// lenient servers, null for none).
func decodeRecent(body []byte) ([]*Metadata, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, malformed("recent")
	}
	out := make([]*Metadata, 0, len(raws))
	for _, r := range raws {
		var w wireReceipt
		if err := json.Unmarshal(r, &w); err != nil || !w.valid() {
			return nil, malformed("recent")
		}
		m := w.metadata()
		m.Raw = r
		out = append(out, m)
	}
	return out, nil
}

func malformed(what string) error {
	return fmt.Errorf("client: %s: %w", what, ErrMalformedAnswer)
}
