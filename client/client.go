package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/onetimego/onetime/zk"
)

// DefaultUserAgent is the User-Agent sent unless Options.UserAgent says
// otherwise.
const DefaultUserAgent = "onetimego-client/1"

// DefaultTimeout bounds each try of a request unless Options.Timeout says
// otherwise: from sending it to the end of the answer. It is well above
// what a server takes (the reference and httpapi give up after about 25
// s), so that only a server or network that has stopped answering meets
// it.
const DefaultTimeout = time.Minute

// DefaultMaxAttempts is how many times a call is tried, the first
// included, unless Options.MaxAttempts says otherwise.
const DefaultMaxAttempts = 5

// maxAnswer bounds the answers read from a server. A value of the largest
// size servers accept by default (1 MiB) fits many times over, even with
// every character escaped.
const maxAnswer = 32 << 20

// Options configure a [Client]. A nil *Options, and every zero field, means
// the default.
type Options struct {
	// HTTPClient sends the requests; nil means a client on
	// http.DefaultTransport. Its Transport, Jar and Timeout apply; its
	// CheckRedirect does not: the Client follows no redirect of a POST,
	// and a GET's only within the server's origin (see the package
	// doc). The caller's *http.Client is not modified.
	HTTPClient *http.Client

	// Timeout bounds each try of a request, from sending it to the end of
	// the answer. Zero means [DefaultTimeout]; a negative value means no
	// bound but the context's (and HTTPClient's own Timeout).
	Timeout time.Duration

	// MaxAttempts is how many times one call may be tried, the first
	// included; zero means [DefaultMaxAttempts], 1 turns retries off. See
	// the package doc for which failures are retried.
	MaxAttempts int

	// CustomerID and APIToken are a customer's credentials, sent as HTTP
	// Basic auth on every request to the server of the base URL, and
	// nowhere else. Both or neither must be set; with neither, the client
	// is anonymous and sends no Authorization header.
	CustomerID string
	APIToken   string

	// UserAgent is sent as the User-Agent header; empty means
	// [DefaultUserAgent].
	UserAgent string

	// Plain makes Share and Generate use the server-side mode even with a
	// server that takes zero-knowledge shares: the value and the
	// passphrase go to the server, which seals them itself, as from
	// every v1 client, and links need no fragment. Set it to have the
	// server e-mail links (Recipients), or for a program that makes
	// links from secret keys ([Client.SecretLink]) rather than taking
	// [Metadata].Link. Reveal is the same either way.
	Plain bool
}

// A Client talks to one v1 server. It is safe for concurrent use.
type Client struct {
	site   string // the base URL of links, without a trailing slash
	api    string // the API root, with a trailing slash
	origin string // scheme://host:port of the server, see originOf
	hc     *http.Client
	ua     string

	timeout  time.Duration // per try; <= 0 for none
	attempts int

	custid, token string

	// idempotency is what the server said of Idempotency-Key in its
	// status: idemUnknown until a status answer was read.
	idempotency atomic.Int32
	// zk is what the server said of zero-knowledge shares in its status:
	// zkUnknown until a status answer was read.
	zk    atomic.Int32
	plain bool // Options.Plain
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
	if o.MaxAttempts < 0 {
		return nil, errors.New("client: MaxAttempts cannot be negative")
	}
	site, err := siteURL(baseURL)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(site) // siteURL parsed it already
	c := &Client{
		site: site, api: site + "/api/v1/", origin: originOf(u),
		ua: o.UserAgent, timeout: o.Timeout, attempts: o.MaxAttempts,
		custid: o.CustomerID, token: o.APIToken, plain: o.Plain,
	}
	// A copy, so that the redirect policy set here does not change the
	// caller's client.
	c.hc = &http.Client{}
	if o.HTTPClient != nil {
		*c.hc = *o.HTTPClient
	}
	c.hc.CheckRedirect = c.checkRedirect
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.attempts == 0 {
		c.attempts = DefaultMaxAttempts
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

// SameOrigin reports whether link, a URL, names the client's server: the
// same scheme, host and port (https://host and https://host:443 are the
// same). Credentials go to that origin only, so a program that is handed
// a link, as the onetime command is, uses it to decide whether the link
// may be opened with them; anything that is not an http or https URL is
// not on the origin.
func (c *Client) SameOrigin(link string) bool {
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	return originOf(u) == c.origin
}

// SecretLink returns the link that reveals the secret: BASE/secret/KEY.
// key may also be a link; "" comes back for a key that is not one. A
// link whose fragment holds a zero-knowledge key keeps it
// (BASE/secret/KEY#FRAGMENT): without it, the link opens nothing. A
// secret key alone makes a link without it: give the reader
// [Metadata].Link, which has it.
func (c *Client) SecretLink(key SecretKey) string {
	k, err := key.parse()
	if err != nil {
		return ""
	}
	link := c.site + "/secret/" + k
	if lk, ok, err := linkKey(key); err == nil && ok {
		link += "#" + lk.Fragment()
	}
	return link
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

// Status asks whether the server is up. Like every GET it is tried
// again after a network error or a server error (5xx). The answer also
// tells the client whether the server honours Idempotency-Key, which
// decides the retries of later calls (see the package doc), and whether
// it takes zero-knowledge shares, which decides how Share and Generate
// send a secret (see [Client.ZeroKnowledge]).
func (c *Client) Status(ctx context.Context) (*Status, error) {
	body, err := c.send(ctx, &call{method: http.MethodGet, rel: "status", route: "status"})
	if err != nil {
		return nil, err
	}
	return c.decodeStatus(body)
}

// decodeStatus reads a status answer and notes what it says of
// Idempotency-Key and of zero-knowledge shares.
func (c *Client) decodeStatus(body []byte) (*Status, error) {
	var w struct {
		Status        flexString `json:"status"`
		Locale        flexString `json:"locale"`
		Idempotency   flexBool   `json:"idempotency"`
		ZeroKnowledge flexList   `json:"zero_knowledge"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, malformed("status")
	}
	s := Status{Status: string(w.Status), Locale: string(w.Locale), Idempotency: bool(w.Idempotency),
		ZeroKnowledge: []string(w.ZeroKnowledge), Raw: body}
	if s.Idempotency {
		c.idempotency.Store(idemYes)
	} else {
		c.idempotency.Store(idemNo)
	}
	if slices.Contains(s.ZeroKnowledge, zk.Scheme) {
		c.zk.Store(zkYes)
	} else {
		c.zk.Store(zkNo)
	}
	return &s, nil
}

// ShareOptions are the optional parameters of [Client.Share]. A nil
// *ShareOptions, and every zero field, means the server's default.
type ShareOptions struct {
	// Passphrase, when set, must be given to reveal the secret. In the
	// zero-knowledge mode it is derived into the link's keys here and
	// never sent; it may then have at most 128 characters.
	Passphrase string
	// TTL is the secret's lifetime, sent in whole seconds (rounded up).
	// Zero means the server's default (7 days on the reference); servers
	// clamp it into their bounds (60 s up to 7 days anonymous, 30 days for
	// customers, by default).
	TTL time.Duration
	// Recipients are e-mail addresses the server sends the link to. The
	// server requires credentials for them. The server cannot mail a
	// zero-knowledge link, whose key it never sees: with recipients, a
	// share to a server that takes zero-knowledge shares is an
	// [*InputError] unless the client is made with Options.Plain.
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
	// clamp it into [4, 128], and so does the client when it makes it).
	Length int
}

// Share stores value, the secret, on the server and returns its receipt,
// with both keys and the link: give m.Link to the reader, keep the
// MetadataKey to follow or burn it. opts may be nil. value must be
// non-empty UTF-8 text (the v1 API carries text; encode binary data, e.g.
// in base64); it is shared byte for byte, trailing newlines included. An
// answer without two distinct keys is [ErrMalformedAnswer].
//
// When the server takes zero-knowledge shares (its status lists zk1, see
// [Client.ZeroKnowledge]) and the client is not made with
// Options.Plain, value is sealed
// here under a fresh key and the server never sees it, nor the
// passphrase: m.Link (BASE/secret/KEY#FRAGMENT) is then the only way to
// the secret, and m.SecretKey alone opens nothing. Otherwise value is
// sent as every v1 client sends it, and m.Link is BASE/secret/KEY.
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
	if o.TTL < 0 {
		return nil, &InputError{"negative TTL"}
	}
	if sealed, err := c.sealsHere(ctx); err != nil {
		return nil, err
	} else if sealed {
		return c.shareSealed(ctx, value, o.Passphrase, o.TTL, o.Recipients, "share")
	}
	form := url.Values{"secret": {value}}
	if err := addCommon(form, o.Passphrase, o.TTL, o.Recipients); err != nil {
		return nil, err
	}
	body, err := c.send(ctx, newPost("share", "share", form))
	if err != nil {
		return nil, err
	}
	m, err := decodeCreated(body, "share")
	if err != nil {
		return nil, err
	}
	m.Link = SecretKey(c.SecretLink(m.SecretKey))
	return m, nil
}

// Generate makes a random password, stores it as a secret and returns
// its receipt, whose Value is the password and Link the link to give the
// reader. opts may be nil. An answer without two distinct keys, or
// without a value, is [ErrMalformedAnswer].
//
// The server makes the password, as v1's generate does, unless the
// server takes zero-knowledge shares and the client is not made with
// Options.Plain: then the
// client makes it (by the same rules: letters, digits and symbols
// without look-alikes, at least one of each, crypto/rand) and shares it
// sealed, as [Client.Share] does, so that the server never sees it.
func (c *Client) Generate(ctx context.Context, opts *GenerateOptions) (*Metadata, error) {
	var o GenerateOptions
	if opts != nil {
		o = *opts
	}
	if o.TTL < 0 {
		return nil, &InputError{"negative TTL"}
	}
	if o.Length < 0 {
		return nil, &InputError{"negative length"}
	}
	if sealed, err := c.sealsHere(ctx); err != nil {
		return nil, err
	} else if sealed {
		password := generatePassword(o.Length)
		m, err := c.shareSealed(ctx, password, o.Passphrase, o.TTL, o.Recipients, "generate")
		if err != nil {
			return nil, err
		}
		m.Value = password
		return m, nil
	}
	form := url.Values{}
	if err := addCommon(form, o.Passphrase, o.TTL, o.Recipients); err != nil {
		return nil, err
	}
	if o.Length > 0 {
		form.Set("length", strconv.Itoa(o.Length))
	}
	body, err := c.send(ctx, newPost("generate", "generate", form))
	if err != nil {
		return nil, err
	}
	m, err := decodeCreated(body, "generate")
	if err != nil {
		return nil, err
	}
	if m.Value == "" {
		return nil, malformed("generate")
	}
	m.Link = SecretKey(c.SecretLink(m.SecretKey))
	return m, nil
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
// key or the link BASE/secret/KEY: the key alone goes to the client's
// server, whatever host the link names. passphrase is "" for a secret
// shared without one. A wrong or missing passphrase answers
// [ErrNotFound], like an unknown key, and counts as an attempt: after too
// many (10 by default) the server burns the secret. Reveal is retried
// only where a retry cannot cost the secret (see the package doc).
//
// A link whose fragment holds a zero-knowledge key
// (BASE/secret/KEY#FRAGMENT, as [Metadata].Link and the pages make them)
// is revealed with [Client.RevealWithKey]: the key and the passphrase stay
// here, and the value is opened here. A fragment that is not such a key
// is an [ErrInvalidKey], before anything is sent.
func (c *Client) Reveal(ctx context.Context, key SecretKey, passphrase string) (*Secret, error) {
	k, err := key.parse()
	if err != nil {
		return nil, err
	}
	if lk, ok, err := linkKey(key); err != nil {
		return nil, err
	} else if ok {
		return c.RevealWithKey(ctx, key, lk, passphrase)
	}
	form := url.Values{}
	if passphrase != "" {
		form.Set("passphrase", passphrase)
	}
	body, err := c.send(ctx, newPost("secret/"+k, "secret/{key}", form))
	if err != nil {
		return nil, err
	}
	return decodeSecret(body, k)
}

// decodeSecret reads the answer to a reveal of the key k.
func decodeSecret(body []byte, k string) (*Secret, error) {
	var w struct {
		Value       *string `json:"value"`
		SecretKey   string  `json:"secret_key"`
		ShareDomain string  `json:"share_domain"`
	}
	if err := json.Unmarshal(body, &w); err != nil || w.Value == nil {
		return nil, malformed("secret")
	}
	s := &Secret{Key: SecretKey(w.SecretKey), Value: *w.Value, ShareDomain: w.ShareDomain, Raw: body}
	if !validKey(w.SecretKey) {
		s.Key = SecretKey(k)
	}
	return s, nil
}

// Receipt reads the receipt of a secret: what became of it. key is the
// metadata key or a link to the receipt (the key alone goes to the
// client's server). The reference service (and httpapi) answer the state
// as it was before this read: the first read of a fresh receipt says
// [StateNew], later ones [StateViewed].
func (c *Client) Receipt(ctx context.Context, key MetadataKey) (*Metadata, error) {
	k, err := key.parse()
	if err != nil {
		return nil, err
	}
	body, err := c.send(ctx, &call{method: http.MethodGet, rel: "private/" + k, route: "private/{key}"})
	if err != nil {
		return nil, err
	}
	return decodeReceipt(body, "receipt")
}

// Burn destroys a secret that has not been read yet and returns its
// receipt, in state [StateBurned]. key is the metadata key or a link to
// the receipt (the key alone goes to the client's server). A secret
// already read, burned or expired answers [ErrNotFound]. Burn is retried
// as Reveal is (see the package doc).
func (c *Client) Burn(ctx context.Context, key MetadataKey) (*Metadata, error) {
	k, err := key.parse()
	if err != nil {
		return nil, err
	}
	body, err := c.send(ctx, newPost("private/"+k+"/burn", "private/{key}/burn", url.Values{}))
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
	body, err := c.send(ctx, &call{method: http.MethodGet, rel: "private/recent", route: "private/recent"})
	if err != nil {
		return nil, err
	}
	return decodeRecent(body)
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

// decodeCreated reads the answer to share or generate: a receipt that
// must carry both keys, distinct, since the caller is about to hand one
// out as a link and keep the other.
func decodeCreated(body []byte, what string) (*Metadata, error) {
	m, err := decodeReceipt(body, what)
	if err != nil {
		return nil, err
	}
	if m.SecretKey == "" || m.MetadataKey == "" {
		return nil, malformed(what)
	}
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

// malformed returns ErrMalformedAnswer naming the answer: "client:
// malformed answer to share".
func malformed(what string) error {
	return fmt.Errorf("%w to %s", ErrMalformedAnswer, what)
}
