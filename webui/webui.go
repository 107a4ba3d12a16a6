package webui

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/internal/frontdoor"
	"github.com/onetimego/onetime/zk"
)

// DefaultBasePath is where the pages live unless Options.BasePath says
// otherwise: the root of the site.
const DefaultBasePath = "/"

// ContentSecurityPolicy is sent with every response: nothing but the
// handler's own stylesheet, script and icon loads, forms post only to the
// handler's own origin (and the script of the zero-knowledge mode, which
// posts a reveal's proofs itself, only there), and no site may frame the
// pages.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// PermissionsPolicy is sent with every response: the pages use none of
// the browser's powerful features (copying needs none of these), so no
// script that got in could use them either.
const PermissionsPolicy = "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), " +
	"gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"

// robotsTxt asks every crawler to stay out: links and receipts are
// capabilities, and the form is nothing to index.
const robotsTxt = "User-agent: *\nDisallow: /\n"

// Options configure the pages. A nil *Options, and every zero field, means
// the default.
type Options struct {
	// BasePath is the path the pages answer under, with a leading and a
	// trailing slash: "/" by default. Set it to mount the handler under a
	// prefix without http.StripPrefix, e.g. "/ots/" with
	// mux.Handle("/ots/", h).
	BasePath string

	// PublicURL is the address at which browsers reach BasePath, e.g.
	// "https://secrets.example.com" or "https://example.com/ots": the
	// links handed out are PublicURL + "/secret/" + key. Without it, links
	// are built from the request's Host header and TLS state, which is fine
	// only when a trusted reverse proxy sets Host (a client can send any
	// Host it likes, and would get links to that host). Its origin is also
	// trusted for form posts behind a proxy that rewrites Host.
	PublicURL string

	// Auth tells who is calling (see access.Authenticator; give httpapi
	// the same one): a customer for good credentials, anonymous for none.
	// Credentials that do not verify (access.ErrUnauthorized) get a 401
	// page, never anonymous; any other error of the Authenticator, an
	// error page. nil means every caller is anonymous. Customers may name
	// a recipient, and their secrets may live up to the service's
	// MaxTTLAuthenticated.
	Auth access.Authenticator

	// MaxTTL, when set, returns the longest lifetime the given caller
	// ("" when anonymous) may grant; zero or negative means the service's
	// bound. It can only lower the service's bound. The lifetime menu
	// offers the service's TTLOptions up to it (onetime.Service.TTLChoices).
	// Give httpapi the same one, so that the pages and the API grant the
	// same lifetimes.
	MaxTTL func(customer string) time.Duration

	// SignInRealm, when set, enables {BasePath}signin, which asks the
	// browser for HTTP Basic credentials in this realm (for an Auth that
	// reads them, such as access.BasicAuth), and links to it from every
	// page of an anonymous visitor.
	SignInRealm string

	// ClientIPHeader names a header set by a trusted reverse proxy that
	// carries the client's address ("X-Forwarded-For", "X-Real-IP"). It is
	// believed only from the TrustedProxies, which must be set with it;
	// the right-most address in it that is not a trusted proxy is the
	// client's. Empty (the default) uses the connection's address. The
	// address is used for the rate limit, the guess limit and the
	// service's fair queuing of passphrase checks; give httpapi the same
	// header and proxies, so that one client is one client to both.
	ClientIPHeader string

	// TrustedProxies are the addresses (prefixes: 10.0.0.0/8,
	// 192.0.2.7/32) of the reverse proxies whose ClientIPHeader is
	// believed; from any other peer the header is ignored. New refuses a
	// ClientIPHeader without TrustedProxies.
	TrustedProxies []netip.Prefix

	// RateLimiter, when set, limits every request but those for the static
	// files, per client address (see ClientIPHeader), before
	// authentication. A limited client gets a 429 page. An error of the
	// limiter is logged and the request let through. Give httpapi the same
	// limiter, so that the pages are no way around the API's limits.
	RateLimiter access.RateLimiter

	// GuessLimiter holds back a client address that fails too often (see
	// access.GuessLimiter): every request but those for the static files
	// gets a 429 page, with a Retry-After header in seconds, before any
	// work while the address must wait. What counts as a failure:
	// credentials that do not verify (the 401 page, the sign-in's too),
	// the confirmation page or a reveal of a key that names no secret, a
	// wrong passphrase, and the receipt or burn page of an unknown
	// metadata key. Successes cost nothing.
	//
	// On by default: nil means a ratelimit.GuessLimiter of the handler's
	// own, 20 failures at once and then one a second.
	// access.NoGuessLimit turns it off. Give httpapi the same limiter, so
	// that a guesser has one budget for the API and the pages.
	GuessLimiter access.GuessLimiter

	// ShareDomain is recorded on every secret shared through the pages.
	ShareDomain string

	// MaxBodySize bounds form bodies in bytes, as httpapi's option of that
	// name bounds the API's. Zero means three times the service's maximum
	// value size (a value percent-encoded may triple) plus 64 KiB. A
	// larger body gets a 413 page.
	MaxBodySize int64

	// Logger receives unexpected errors and a failing rate limiter. nil
	// means slog.Default(). No key, passphrase, value, recipient address
	// or path is ever logged.
	Logger *slog.Logger

	// AccessLog, when set, receives one INFO line per request, as
	// httpapi's does: request id (also sent as X-Request-Id), route
	// pattern (GET /secret/{secret_key}, never the path itself), status,
	// customer, duration. nil (the default) logs no request lines. It may
	// be the same logger as Logger, and the same as httpapi's.
	AccessLog *slog.Logger

	// RequestTimeout, when positive, bounds the work of each request: its
	// context gets a deadline that far ahead. Net/http's WriteTimeout only
	// closes the connection and does not stop the handler, so without a
	// deadline a reveal queued behind a burst of passphrase derivations,
	// or waiting on a stalled store, could consume a secret after its
	// answer can no longer be sent. With one, the service gives up while
	// waiting and every store refuses to consume past the deadline (see
	// onetime.Store), so the secret survives. Zero (the default) sets no
	// deadline of the handler's own; set it a few seconds under the
	// server's WriteTimeout, as httpapi's.
	RequestTimeout time.Duration

	// MeterProvider records the requests' metrics and TracerProvider
	// their spans, through the OpenTelemetry API, as httpapi's do (see
	// "Metrics and traces" in the package doc). nil means the Service's
	// (onetime.Options.MeterProvider, TracerProvider), which are the
	// global ones unless it was given its own.
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the templates with a page of their own; layout.html and
// link.html are shared by them.
var pageNames = []string{"share", "receipt", "generated", "burn", "secret", "revealed", "message", "recent"}

type asset struct {
	body      []byte
	ctype     string
	integrity template.HTMLAttr // see Handler.integrity
}

// A Handler serves the pages. Create it with [New].
type Handler struct {
	svc     *onetime.Service
	opts    Options
	door    *frontdoor.Door
	base    string
	public  string // PublicURL without its trailing slash, or ""
	log     *slog.Logger
	pages   map[string]*template.Template
	static  map[string]asset
	version string
	maxSize int // the service's largest value
	cop     *http.CrossOriginProtection
	flash   flashes
}

// New returns a [Handler] serving the pages for svc under
// Options.BasePath ("/" by default). Mount it at that path:
//
//	ui, err := webui.New(svc, nil)
//	mux.Handle("/", ui)
//
// It serves:
//
//	GET  /                    the share form
//	POST /share, /generate    share a secret, or generate a password (a GET goes to the form)
//	GET  /secret/{key}        the confirmation page of a secret (never consumes it)
//	POST /secret/{key}        reveal the secret, once
//	GET  /private/{key}       the receipt (also at /receipt/{key})
//	GET  /private/{key}/burn  the burn confirmation; POST burns
//	GET  /signin              HTTP Basic sign-in, when Options.SignInRealm is set
//	GET  /signout             sign-out (see signOut for its limit), when Options.SignInRealm is set
//	GET  /recent              a signed-in customer's recent receipts (the API's /private/recent)
//	GET  /static/...          the stylesheet, the page scripts, the icon
//	GET  /robots.txt          "Disallow: /" for every crawler
func New(svc *onetime.Service, opts *Options) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("webui: nil Service")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BasePath == "" {
		o.BasePath = DefaultBasePath
	}
	if err := frontdoor.CheckBasePath(o.BasePath); err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	maxSize := svc.Options().MaxSize
	var err error
	if o.MaxBodySize, err = frontdoor.BodyLimit(o.MaxBodySize, maxSize); err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}
	if strings.ContainsAny(o.SignInRealm, "\"\\\r\n") {
		return nil, errors.New("webui: SignInRealm must not contain quotes, backslashes or line breaks")
	}
	if o.MeterProvider == nil {
		o.MeterProvider = svc.Options().MeterProvider
	}
	if o.TracerProvider == nil {
		o.TracerProvider = svc.Options().TracerProvider
	}
	h := &Handler{svc: svc, opts: o, base: o.BasePath, log: o.Logger, maxSize: maxSize}
	h.door, err = frontdoor.New(frontdoor.Options{Name: "webui", Auth: o.Auth, RateLimiter: o.RateLimiter,
		GuessLimiter: o.GuessLimiter, ClientIPHeader: o.ClientIPHeader, TrustedProxies: o.TrustedProxies,
		Logger: o.Logger, AccessLog: o.AccessLog, MeterProvider: o.MeterProvider, TracerProvider: o.TracerProvider,
		Timeout: o.RequestTimeout})
	if err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}

	cop := http.NewCrossOriginProtection()
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, errors.New("webui: PublicURL must be an http or https URL with a host and no query")
		}
		h.public = strings.TrimSuffix(o.PublicURL, "/")
		if err := cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("webui: PublicURL: %w", err)
		}
	}
	h.cop = cop
	if err := h.load(); err != nil {
		return nil, err
	}
	return h, nil
}

// load reads the static files and parses the templates.
func (h *Handler) load() error {
	h.static = map[string]asset{}
	sum := sha256.New()
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		if strings.HasPrefix(ctype, "text/") && !strings.Contains(ctype, "charset") {
			ctype += "; charset=utf-8"
		}
		digest := sha256.Sum256(b)
		h.static[path.Base(p)] = asset{body: b, ctype: ctype,
			integrity: template.HTMLAttr(`integrity="sha256-` + base64.StdEncoding.EncodeToString(digest[:]) + `"`)}
		sum.Write(b)
		return nil
	})
	if err != nil {
		return fmt.Errorf("webui: static files: %w", err)
	}
	h.version = hex.EncodeToString(sum.Sum(nil))[:12]

	funcs := template.FuncMap{"value": valueHTML, "raw": rawValue, "sri": h.integrity}
	layout, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/link.html")
	if err != nil {
		return fmt.Errorf("webui: templates: %w", err)
	}
	h.pages = make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("webui: templates: %w", err)
		}
		h.pages[name] = t
	}
	return nil
}

// integrity returns the Subresource Integrity attribute of a static file
// (integrity="sha256-..."), computed from the embedded file at start: a
// stylesheet or script altered on its way (a proxy, a cache, a CDN in
// front of the pages) is not applied. It matters most for zk.js, which
// holds the keys of the zero-knowledge mode. A name that is no static
// file is a template error.
func (h *Handler) integrity(name string) (template.HTMLAttr, error) {
	a, ok := h.static[name]
	if !ok {
		return "", fmt.Errorf("webui: no static file %q", name)
	}
	return a.integrity, nil
}

// valueHTML escapes a secret value for a <pre> whose template puts a line
// break right after the start tag (which the HTML parser drops): every
// byte shows as shared. Carriage returns are written as references, as
// the parser would otherwise fold CR LF into LF. A control character
// other than tab, line feed and carriage return (NUL, which HTML cannot
// carry at all, ESC, DEL, the C1 controls...) would show as nothing or as
// U+FFFD: it is shown as its name in a box instead (NUL, ESC, DEL; U+0085
// for a C1 control), its code point in the title, and the page says so
// (see rawValue).
func valueHTML(v []byte) template.HTML {
	var b strings.Builder
	for _, r := range string(v) {
		switch {
		case r == '\r':
			b.WriteString("&#13;")
		case isControl(r):
			mark := fmt.Sprintf("U+%04X", r)
			switch {
			case r < 0x20:
				mark = c0Names[r]
			case r == 0x7f:
				mark = "DEL"
			}
			fmt.Fprintf(&b, `<span class="ctl" title="U+%04X">%s</span>`, r, mark)
		default:
			b.WriteString(template.HTMLEscapeString(string(r)))
		}
	}
	return template.HTML(b.String())
}

// c0Names are the abbreviated names of the C0 controls (ISO 6429), the
// marks of valueHTML: text, unlike the symbols of Unicode's Control
// Pictures, which screen readers and contrast checkers cannot read.
var c0Names = [0x20]string{
	"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
	"DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
}

// isControl reports whether r is a control character that a page cannot
// show: C0 but tab, line feed and carriage return, DEL, C1.
func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f)
}

// rawValue returns the value in standard base64 when valueHTML marks
// control characters in it, for the page's data-raw attribute, from which
// Copy copies the real characters; "" when the text shown is the value.
func rawValue(v []byte) string {
	if strings.IndexFunc(string(v), isControl) < 0 {
		return ""
	}
	return base64.StdEncoding.EncodeToString(v)
}

// ServeHTTP sets the headers every response carries, refuses form posts
// from other sites, and serves the page the path names.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Robots-Tag", "noindex, nofollow")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", PermissionsPolicy)
	hd.Set("Cache-Control", "no-store")

	d := h.door.Begin(w, r)
	q := &request{d: d, w: d, r: r, ctx: d.Context(), l: localeFor(r)}
	rest, inside := strings.CutPrefix(r.URL.Path, h.base)
	pg, key := pageNone, ""
	if inside {
		pg, key = h.match(rest)
	}
	defer h.finish(q, pg)
	q.root = "./" + strings.Repeat("../", strings.Count(rest, "/"))
	switch {
	case !inside:
		q.root = h.base // outside the base path: no relative root is right
		h.message(q, http.StatusNotFound, "notfound")
	case h.cop.Check(r) != nil:
		h.message(q, http.StatusForbidden, "forbidden")
	case pg == pageStatic:
		h.asset(q, key)
	case pg == pageRobots:
		if h.method(q, http.MethodGet) {
			q.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			q.w.Header().Set("Content-Length", strconv.Itoa(len(robotsTxt)))
			q.w.WriteHeader(http.StatusOK)
			io.WriteString(q.w, robotsTxt)
		}
	default:
		h.serve(q, pg, key)
	}
}

// request is what a page needs to know of the request it answers.
type request struct {
	d        *frontdoor.Request
	w        http.ResponseWriter // d, which remembers the status for the access log
	r        *http.Request
	ctx      context.Context
	l        *locale
	root     string // relative path from the page to BasePath: "./", "../", ...
	customer string
	missed   bool // a failed guess, counted already
}

// A page is what a path below BasePath names.
type page uint8

const (
	pageNone page = iota
	pageHome
	pageShare
	pageGenerate
	pageSignIn
	pageSignOut
	pageRecent
	pageSecret
	pageReceipt
	pageBurn
	pageStatic
	pageRobots
)

// patterns are the pages' routes below BasePath as the access log names
// them: never a key.
var patterns = [...]string{
	pageHome: "", pageShare: "share", pageGenerate: "generate", pageSignIn: "signin",
	pageSignOut: "signout", pageRecent: "recent",
	pageSecret: "secret/{secret_key}", pageReceipt: "private/{metadata_key}",
	pageBurn: "private/{metadata_key}/burn", pageStatic: "static/{file}", pageRobots: "robots.txt",
}

// match tells the page that the path below BasePath names, and the key
// (or static file name) it holds.
func (h *Handler) match(rest string) (page, string) {
	parts := strings.Split(rest, "/")
	receipt := parts[0] == "private" || parts[0] == "receipt"
	switch {
	case rest == "":
		return pageHome, ""
	case rest == "share":
		return pageShare, ""
	case rest == "generate":
		return pageGenerate, ""
	case rest == "robots.txt":
		return pageRobots, ""
	case rest == "signin" && h.opts.SignInRealm != "":
		return pageSignIn, ""
	case rest == "signout" && h.opts.SignInRealm != "":
		return pageSignOut, ""
	case rest == "recent":
		return pageRecent, ""
	case len(parts) == 2 && parts[0] == "static":
		return pageStatic, parts[1]
	case len(parts) == 2 && parts[0] == "secret" && parts[1] != "":
		return pageSecret, parts[1]
	case len(parts) == 2 && receipt && parts[1] != "":
		return pageReceipt, parts[1]
	case len(parts) == 3 && receipt && parts[1] != "" && parts[2] == "burn":
		return pageBurn, parts[1]
	}
	return pageNone, ""
}

// serve serves a page, once the client is within its rate limit and its
// guess limit (before authenticating, as httpapi does: otherwise the
// pages would let anyone guess API tokens without limit) and its
// credentials, if any, verify.
func (h *Handler) serve(q *request, pg page, key string) {
	if !h.door.Allow(q.ctx, q.d) {
		h.message(q, http.StatusTooManyRequests, "ratelimited")
		return
	}
	if wait := h.door.RetryAfter(q.ctx, q.d); wait > 0 {
		q.w.Header().Set("Retry-After", frontdoor.RetryAfterHeader(wait))
		h.message(q, http.StatusTooManyRequests, "guessing")
		return
	}
	ctx, err := h.door.Authenticate(q.ctx, q.r, q.d)
	switch {
	case errors.Is(err, access.ErrUnauthorized):
		h.missed(q)
		h.unauthorized(q)
		return
	case err != nil:
		h.fail(q, "authenticate", err)
		return
	}
	q.ctx, q.customer = ctx, q.d.Customer

	post := q.r.Method == http.MethodPost
	switch pg {
	case pageHome:
		if h.method(q, http.MethodGet) {
			h.shareForm(q, http.StatusOK, shareForm{}, nil)
		}
	case pageShare, pageGenerate:
		if q.r.Method == http.MethodGet || q.r.Method == http.MethodHead {
			// A restored tab or a bookmark of where a post answered:
			// the form is where people meant to go.
			h.redirect(q, q.root)
		} else if h.method(q, http.MethodPost) {
			h.create(q, pg == pageGenerate)
		}
	case pageSignIn:
		if h.method(q, http.MethodGet) {
			h.signIn(q)
		}
	case pageSignOut:
		if h.method(q, http.MethodGet) {
			h.signOut(q)
		}
	case pageRecent:
		if h.method(q, http.MethodGet) {
			h.recent(q)
		}
	case pageSecret:
		if post {
			h.reveal(q, onetime.SecretKey(key))
		} else if h.method(q, http.MethodGet, http.MethodPost) {
			h.confirm(q, onetime.SecretKey(key), http.StatusOK, false)
		}
	case pageReceipt:
		if h.method(q, http.MethodGet) {
			h.receipt(q, onetime.MetadataKey(key))
		}
	case pageBurn:
		if post {
			h.burn(q, onetime.MetadataKey(key))
		} else if h.method(q, http.MethodGet, http.MethodPost) {
			h.burnForm(q, onetime.MetadataKey(key))
		}
	default:
		h.message(q, http.StatusNotFound, "notfound")
	}
}

// finish measures the request by its route, ends its span and writes its
// access log line, if there is an access log (Door.End).
func (h *Handler) finish(q *request, pg page) {
	route := "unrouted"
	if pg != pageNone {
		route = q.r.Method + " " + h.base + patterns[pg]
	}
	h.door.End(q.ctx, q.d, route)
}

// method reports whether the request's method is one of allowed (GET
// allowing HEAD), and answers 405 when it is not.
func (h *Handler) method(q *request, allowed ...string) bool {
	m := q.r.Method
	if m == http.MethodHead {
		m = http.MethodGet
	}
	if slices.Contains(allowed, m) {
		return true
	}
	if slices.Contains(allowed, http.MethodGet) {
		allowed = append(allowed, http.MethodHead)
	}
	q.w.Header().Set("Allow", strings.Join(allowed, ", "))
	h.message(q, http.StatusMethodNotAllowed, "method")
	return false
}

// pageData is the data of every template.
type pageData struct {
	L        *locale
	Root     string
	Version  string
	Title    string
	Text     string
	Customer string
	SignIn   bool
	SignOut  bool // Options.SignInRealm is set: the header offers a sign-out
	Script   bool
	Times    bool // the page shows times: time.js shows them in local time
	// TryAgain, on the pages that say one is not signed in, is the page
	// to retry signing in at.
	TryAgain string
	// Mailer tells whether the Service has a Notifier: only then do the
	// pages speak of e-mail.
	Mailer bool

	// The share form.
	Form          shareForm
	Errors        []string
	Fields        []string
	TTLs          []ttlChoice
	MaxPassphrase int

	// The receipt, the generated password, the revealed secret.
	Receipt *onetime.Metadata
	Expires time.Time
	// Ready marks the receipt's first view, right after sharing: the
	// page leads with the link.
	Ready  bool
	Link   string
	Notice string
	Value  []byte

	// The recent list.
	Recent []*onetime.Metadata

	// ZK loads zk.js: on the share form, where the zero-knowledge mode
	// is the default wherever the browser can run it, and on the pages
	// of a secret shared in that mode.
	ZK bool
	// The bounds that zk.js checks on the form, since the server sees
	// neither the value nor the passphrase: the passphrase's length in
	// characters, the largest value that fits the service's MaxSize once
	// sealed, the length of a password generated in the browser.
	MinPassphrase  int
	ZKMaxValue     int
	PasswordLength int
	// KeylessLink is the link of a zero-knowledge secret without its key
	// (the fragment, which only the sender's copy has): zk.js completes
	// it where this tab still holds the key.
	KeylessLink string
	// Sealed is a revealed zero-knowledge value as the sender sealed it
	// (zk1), for zk.js to open.
	Sealed string

	// The confirmation page of a secret.
	Key            onetime.SecretKey
	NeedPassphrase bool
	Wrong          bool
	AttemptsLeft   int // wrong passphrases the secret survives, plus one

	// Nonce is the hidden field of a form that posts (share, reveal,
	// burn): see newNonce.
	Nonce string
}

// Field reports whether the form's field name was rejected.
func (p *pageData) Field(name string) bool { return slices.Contains(p.Fields, name) }

func (h *Handler) page(q *request, title string) *pageData {
	return &pageData{
		L: q.l, Root: q.root, Version: h.version, Title: title,
		Customer: q.customer, SignIn: h.opts.SignInRealm != "" && q.customer == "",
		SignOut: h.opts.SignInRealm != "" && q.customer != "",
		Mailer:  h.svc.Options().Notifier != nil,
	}
}

// render writes a page. Rendering goes to a buffer first, so that a
// template error becomes a clean 500 rather than half a page.
func (h *Handler) render(q *request, status int, name string, p *pageData) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.ErrorContext(q.ctx, "webui: rendering a page failed", "page", name, "err", err)
		http.Error(q.w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := q.w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Add("Vary", "Accept-Language")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	q.w.WriteHeader(status)
	q.w.Write(buf.Bytes())
}

// message renders a page that only says something: kind names its title
// and text in the catalogue ("gone" is gone.title and gone.text).
func (h *Handler) message(q *request, status int, kind string) {
	p := h.page(q, q.l.T(kind+".title"))
	if kind != "toolarge" {
		p.Text = q.l.T(kind + ".text")
	}
	h.render(q, status, "message", p)
}

// missed counts a failed guess of the client against the guess limit,
// once per request, before the answer is written (see Options.GuessLimiter).
func (h *Handler) missed(q *request) {
	if !q.missed {
		q.missed = true
		h.door.Failed(q.ctx, q.d)
	}
}

// fail answers an unexpected error: logged (service errors carry no key,
// passphrase or value), and shown as a generic page. A busy service
// (onetime.ErrBusy: nothing was stored or consumed) gets a page that asks
// to try again shortly, with a Retry-After header.
func (h *Handler) fail(q *request, op string, err error) {
	if errors.Is(err, onetime.ErrBusy) {
		h.log.DebugContext(q.ctx, "webui: "+op+": busy", "err", err)
		q.w.Header().Set("Retry-After", frontdoor.RetryAfterBusy)
		h.message(q, http.StatusServiceUnavailable, "busy")
		return
	}
	if q.ctx.Err() != nil {
		return // the client went away
	}
	h.log.ErrorContext(q.ctx, "webui: "+op+" failed", "err", err)
	h.message(q, http.StatusInternalServerError, "error")
}

// unauthorized answers credentials that do not verify: 401, with the
// sign-in's challenge when there is one, so that the browser asks again.
func (h *Handler) unauthorized(q *request) {
	h.signInPage(q, "unauthorized", "signin")
}

// signInPage answers 401 with the message kind (see message), and, when
// Options.SignInRealm is set, the challenge of that realm and a link to
// try again at the page again (below BasePath). A browser shows the page
// when its prompt is cancelled.
func (h *Handler) signInPage(q *request, kind, again string) {
	p := h.page(q, q.l.T(kind+".title"))
	p.Text = q.l.T(kind + ".text")
	if h.opts.SignInRealm != "" {
		q.w.Header().Set("WWW-Authenticate", `Basic realm="`+h.opts.SignInRealm+`", charset="UTF-8"`)
		p.TryAgain = q.root + again
		p.SignIn = false // the page offers it already
	}
	p.Customer, p.SignOut = "", false // a 401 page: nobody is signed in to it
	h.render(q, http.StatusUnauthorized, "message", p)
}

// signIn asks the browser for credentials, and sends a customer whose
// credentials verify to the form. A cancelled prompt shows that one is
// not signed in, with a way to try again and a way back to sharing
// anonymously.
func (h *Handler) signIn(q *request) {
	if q.customer == "" {
		h.signInPage(q, "notsignedin", "signin")
		return
	}
	h.redirect(q, q.root)
}

// signOut answers 401 with the sign-in's challenge, whoever calls: HTTP
// Basic has no sign-out, but a browser drops the credentials it keeps for
// a realm when a request that carried them is refused with that realm's
// challenge. The browser may then ask for credentials again; cancelled,
// the prompt shows the page saying one is signed out. The limit: a
// browser that keeps the credentials regardless (or a prompt answered
// with them again) stays signed in until it is closed, as the page says.
func (h *Handler) signOut(q *request) {
	h.signInPage(q, "signedout", "signin")
}

// recent lists a signed-in customer's latest receipts, newest first, with
// each one's state and, while it is alive, its burn (the burn
// confirmation of its receipt). Listing reads no receipt: none moves to
// viewed. An anonymous caller is asked to sign in, as at /signin, and the
// browser retries this page with the credentials.
func (h *Handler) recent(q *request) {
	if q.customer == "" {
		h.signInPage(q, "notsignedin", "recent")
		return
	}
	ms, err := h.svc.Recent(q.ctx, q.customer)
	if err != nil {
		h.fail(q, "recent", err)
		return
	}
	p := h.page(q, q.l.T("recent.title"))
	p.Recent = ms
	p.Times = len(ms) > 0
	h.render(q, http.StatusOK, "recent", p)
}

// redirect answers a form post with 303 See Other to target, a path
// relative to the request's, so that the pages work behind a proxy that
// strips a prefix.
func (h *Handler) redirect(q *request, target string) {
	q.w.Header().Set("Location", target)
	q.w.WriteHeader(http.StatusSeeOther)
}

func (h *Handler) asset(q *request, name string) {
	a, ok := h.static[name]
	if !ok {
		h.message(q, http.StatusNotFound, "notfound")
		return
	}
	if !h.method(q, http.MethodGet) {
		return
	}
	hd := q.w.Header()
	// The pages ask for ?v=<digest of the files>, so a new release is a
	// new URL: the files may be cached.
	hd.Set("Cache-Control", "public, max-age=86400")
	hd.Set("Content-Type", a.ctype)
	hd.Set("Content-Length", strconv.Itoa(len(a.body)))
	q.w.WriteHeader(http.StatusOK)
	q.w.Write(a.body)
}

// link returns the absolute address of the page at rel below BasePath.
func (h *Handler) link(r *http.Request, rel string) string {
	if h.public != "" {
		return h.public + "/" + rel
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + h.base + rel
}

// A shareForm is what the share form was filled with, shown again when it
// is refused. The passphrase is never shown again, nor a value sealed in
// the browser.
type shareForm struct {
	Secret    string
	Recipient string
	TTL       time.Duration
	ZK        bool // posted in the zero-knowledge mode
}

// A ttlChoice is one option of the lifetime menu.
type ttlChoice struct {
	Seconds  int64
	Label    string
	Selected bool
}

// maxTTL is Options.MaxTTL of the customer, as ShareRequest.MaxTTL.
func (h *Handler) maxTTL(customer string) time.Duration {
	if h.opts.MaxTTL == nil {
		return 0
	}
	return max(h.opts.MaxTTL(customer), 0)
}

// ttlChoices offers exactly the lifetimes that the service's policy
// offers the caller (onetime.Service.TTLChoices, with Options.MaxTTL),
// the one the form chose selected, as the service would clamp it, or
// else the caller's default.
func (h *Handler) ttlChoices(l *locale, customer string, chosen time.Duration) []ttlChoice {
	c := h.svc.TTLChoices(customer, h.maxTTL(customer))
	set := c.Offered
	if chosen = c.Clamp(chosen); !slices.Contains(set, chosen) {
		chosen = c.Default
	}
	out := make([]ttlChoice, len(set))
	for i, d := range set {
		out[i] = ttlChoice{Seconds: int64(d / time.Second), Label: l.Duration(d), Selected: d == chosen}
	}
	return out
}

func (h *Handler) shareForm(q *request, status int, f shareForm, inputErr error) {
	p := h.page(q, q.l.T("share.title"))
	p.Script = true
	p.ZK = true
	p.Form = f
	p.Nonce = newNonce()
	p.TTLs = h.ttlChoices(q.l, q.customer, f.TTL)
	p.MinPassphrase = h.svc.Options().MinPassphraseLen
	p.MaxPassphrase = onetime.MaxPassphraseLen
	p.ZKMaxValue = zkMaxValue(h.maxSize)
	p.PasswordLength = onetime.DefaultPasswordLength
	if inputErr != nil {
		msg, field := h.inputMessage(q.l, inputErr, f.ZK)
		p.Errors = []string{msg}
		p.Fields = []string{field}
	}
	h.render(q, status, "share", p)
}

// inputMessage translates a refused share into the caller's language;
// zk tells a share made in the zero-knowledge mode.
func (h *Handler) inputMessage(l *locale, err error, zk bool) (msg, field string) {
	switch {
	case errors.Is(err, frontdoor.ErrInvalidTTL):
		return l.T("error.ttl"), "ttl"
	case errors.Is(err, frontdoor.ErrNotUTF8):
		return l.T("error.secret.utf8"), "secret"
	}
	var ie *onetime.InputError
	if !errors.As(err, &ie) {
		return l.T("error.invalid"), ""
	}
	o := h.svc.Options()
	switch {
	case ie.Field == "secret" && errors.Is(err, onetime.ErrTooLarge) && zk:
		return l.T("error.secret.toolarge", zkMaxValue(o.MaxSize)), "secret"
	case ie.Field == "secret" && errors.Is(err, onetime.ErrTooLarge):
		return l.T("error.secret.toolarge", o.MaxSize), "secret"
	case ie.Field == "secret":
		return l.T("error.secret.empty"), "secret"
	case ie.Field == "passphrase":
		return l.T("error.passphrase", o.MinPassphraseLen, onetime.MaxPassphraseLen), "passphrase"
	case ie.Field == "recipient" && zk:
		return l.T("zk.recipient.note"), "recipient"
	case ie.Field == "recipient":
		return l.T("error.recipient"), "recipient"
	}
	return l.T("error.invalid"), ie.Field
}

// form reads the parameters of a form body with the API's parser (the
// query string is not read: values and passphrases travel in bodies
// only), bounded as the API bounds bodies. It reports false after
// answering the request itself.
func (h *Handler) form(q *request) (frontdoor.Params, bool) {
	q.r.Body = http.MaxBytesReader(q.w, q.r.Body, h.opts.MaxBodySize)
	p, err := frontdoor.ParseParams(q.r.Header.Get("Content-Type"), "", q.r.Body, q.r.ContentLength)
	switch {
	case frontdoor.IsTooLarge(err):
		h.message(q, http.StatusRequestEntityTooLarge, "toolarge")
		return p, false
	case err != nil:
		h.message(q, http.StatusBadRequest, "error")
		return p, false
	}
	return p, true
}

// newNonce returns a fresh nonce for a form: 26 random base32 characters
// (130 bits). Each rendered form gets its own, and its post carries it as
// the idempotency key for the Service (see nonce), so that the browser
// resubmitting that post (a reload of the page it answered, or a retry
// after an answer lost on the way) gets the same answer within the
// Service's ReplayWindow: the same value of a secret already revealed to
// it, the same receipt of a share, never a second secret. Another
// rendering of the form, another nonce: a new request.
func newNonce() string { return rand.Text() }

// nonce puts the form's nonce, if any, in the request's context as its
// idempotency key. A form without one (a post made by hand) is served as
// before, without a replay. A nonce that is no key is refused with a 400
// page, as the API refuses such an Idempotency-Key: the sender asked for a
// request that can be repeated, and would not get one. It reports false
// after answering the request itself.
func (h *Handler) nonce(q *request, form frontdoor.Params) bool {
	n := form.Get(frontdoor.ParamNonce)
	switch {
	case n == "":
		return true
	case !frontdoor.ValidIdempotencyKey(n):
		h.message(q, http.StatusBadRequest, "error")
		return false
	}
	q.ctx = onetime.WithIdempotencyKey(q.ctx, n)
	return true
}

// create shares the form's secret (or generates a password) and sends the
// creator to the receipt. The form is read and checked as the API reads
// and checks a share: a ttl that is not a number, or a value that is not
// UTF-8 text, is refused; the service clamps the lifetime.
func (h *Handler) create(q *request, generate bool) {
	form, ok := h.form(q)
	if !ok || !h.nonce(q, form) {
		return
	}
	// Browsers send a textarea's line breaks as CR LF; the reader gets
	// them as typed, LF.
	f := shareForm{
		Secret:    strings.ReplaceAll(form.Get(frontdoor.ParamSecret), "\r\n", "\n"),
		Recipient: strings.TrimSpace(form.Get(frontdoor.ParamRecipient)),
	}
	value := f.Secret
	v, verr := verifier(form)
	if v != nil || verr != nil {
		// A value sealed in the browser (zk.js), stored as sealed, and
		// never shown again: the sender would see ciphertext.
		value = form.Get(frontdoor.ParamSecret)
		f.Secret, f.ZK = "", true
	}
	if generate {
		f.Secret = "" // not shared: nothing to show again
	}
	ttl, err := form.TTL()
	if err == nil && !generate {
		err = frontdoor.CheckValue(value, h.maxSize)
	}
	if err == nil {
		err = verr
	}
	if errors.Is(err, frontdoor.ErrNotUTF8) {
		// Shown again, it would read as other characters (U+FFFD) that a
		// second post would share: the sender enters it again.
		f.Secret = ""
	}
	if err != nil {
		h.shareForm(q, http.StatusBadRequest, f, err)
		return
	}
	f.TTL = ttl
	if strings.Contains(f.Recipient, ",") {
		// The field takes one address, as its error says, even when
		// its check in the browser is bypassed.
		h.shareForm(q, http.StatusBadRequest, f, &onetime.InputError{Field: "recipient"})
		return
	}
	var recipients []string
	if f.Recipient != "" {
		recipients = []string{f.Recipient}
	}
	req := onetime.ShareRequest{
		Owner: q.customer, TTL: ttl, MaxTTL: h.maxTTL(q.customer), Passphrase: form.Get(frontdoor.ParamPassphrase),
		Recipients: recipients, ShareDomain: h.opts.ShareDomain, Verifier: v,
	}
	var m *onetime.Metadata
	if generate {
		m, err = h.svc.Generate(q.ctx, onetime.GenerateRequest{ShareRequest: req})
	} else {
		req.Value = []byte(value)
		m, err = h.svc.Share(q.ctx, req)
	}
	switch {
	case errors.Is(err, onetime.ErrInvalid) || errors.Is(err, onetime.ErrTooLarge):
		status := http.StatusBadRequest
		if errors.Is(err, onetime.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		h.shareForm(q, status, f, err)
		return
	case err != nil:
		h.fail(q, "share", err)
		return
	}
	if !generate {
		h.redirect(q, q.root+"private/"+string(m.MetadataKey))
		return
	}
	// A generated password is shown once, on the page the post
	// redirects to (so that a reload makes no second password): it is
	// not in the receipt. When too many wait to be shown, it is shown
	// right here instead.
	if h.flash.put(m, h.svc.Options().Now()) {
		h.redirect(q, q.root+"private/"+string(m.MetadataKey))
		return
	}
	h.generated(q, m)
}

// generated shows a generated password, with its link.
func (h *Handler) generated(q *request, m *onetime.Metadata) {
	p := h.page(q, q.l.T("generated.title"))
	p.Script = true
	p.Receipt = m
	p.Value = m.Value
	p.Link = h.link(q.r, "secret/"+string(m.SecretKey))
	h.render(q, http.StatusOK, "generated", p)
}

// receipt shows the creator what became of the secret, or, on the first
// visit after generating a password, the password.
func (h *Handler) receipt(q *request, key onetime.MetadataKey) {
	if m := h.flash.take(key, h.svc.Options().Now()); m != nil {
		h.generated(q, m)
		clear(m.Value)
		return
	}
	m, err := h.svc.Receipt(q.ctx, key)
	h.showReceipt(q, m, err, http.StatusOK, "")
}

func (h *Handler) showReceipt(q *request, m *onetime.Metadata, err error, status int, notice string) {
	if errors.Is(err, onetime.ErrNotFound) {
		h.missed(q)
		h.message(q, http.StatusNotFound, "gone.receipt")
		return
	}
	if err != nil {
		h.fail(q, "receipt", err)
		return
	}
	p := h.page(q, q.l.T("receipt.title"))
	p.Receipt = m
	p.Expires = m.Created.Add(m.TTL)
	p.Notice = notice
	p.Times = true
	// zk.js completes a zero-knowledge link where this tab still holds
	// its key, and forgets the key once the secret is gone.
	p.ZK = m.ZeroKnowledge
	if m.SecretKey != "" {
		link := h.link(q.r, "secret/"+string(m.SecretKey))
		if m.ZeroKnowledge {
			p.KeylessLink = link // it opens only with the sender's key
		} else {
			p.Link = link
		}
		p.Script = true
	}
	if p.Ready = (p.Link != "" || p.KeylessLink != "") && m.State == onetime.StateNew && notice == ""; p.Ready {
		p.Title = q.l.T("receipt.ready.title")
	}
	h.render(q, status, "receipt", p)
}

// burnForm asks the creator to confirm a burn.
func (h *Handler) burnForm(q *request, key onetime.MetadataKey) {
	m, err := h.svc.Receipt(q.ctx, key)
	if err != nil || !m.Alive() {
		h.showReceipt(q, m, err, http.StatusOK, "")
		return
	}
	p := h.page(q, q.l.T("burn.title"))
	p.Receipt = m
	p.Nonce = newNonce()
	h.render(q, http.StatusOK, "burn", p)
}

// burn destroys the secret and sends the creator back to the receipt.
func (h *Handler) burn(q *request, key onetime.MetadataKey) {
	if form, ok := h.form(q); !ok || !h.nonce(q, form) {
		return
	}
	_, err := h.svc.Burn(q.ctx, key)
	if errors.Is(err, onetime.ErrNotFound) {
		// Already received, burned or expired, or no such receipt: the
		// receipt tells which (or that it is gone).
		m, err := h.svc.Receipt(q.ctx, key)
		h.showReceipt(q, m, err, http.StatusConflict, q.l.T("receipt.burn.failed"))
		return
	}
	if err != nil {
		h.fail(q, "burn", err)
		return
	}
	h.redirect(q, q.root+"private/"+string(key))
}

// confirm shows the page of a secret without consuming it: link previews
// and mail scanners may fetch it any number of times.
//
// After a wrong passphrase (wrong), a secret that is gone now was burned
// by that attempt, its last (or, rarely, expired or was spent by another
// tab at the same moment): the page says that too many wrong passphrases
// destroyed it, rather than that it never existed. The reader had been
// warned on the form of the attempts left.
func (h *Handler) confirm(q *request, key onetime.SecretKey, status int, wrong bool) {
	st, err := h.svc.Status(q.ctx, key)
	if errors.Is(err, onetime.ErrNotFound) {
		h.missed(q)
		kind := "gone"
		if wrong {
			kind = "gone.attempts"
		}
		h.message(q, http.StatusNotFound, kind)
		return
	}
	if err != nil {
		h.fail(q, "check", err)
		return
	}
	p := h.page(q, q.l.T("secret.title"))
	p.Script = st.PassphraseRequired || st.ZeroKnowledge
	p.ZK = st.ZeroKnowledge
	p.Key = key
	p.Nonce = newNonce()
	p.NeedPassphrase = st.PassphraseRequired
	p.AttemptsLeft = st.AttemptsLeft
	p.Wrong = wrong
	h.render(q, status, "secret", p)
}

// reveal shows the secret's value, once. A post with the proofs of the
// zero-knowledge mode (made by zk.js, which posts them with fetch and
// opens the answer in the page) reveals with them; without, in the
// server-side mode, which consumes no zero-knowledge secret.
func (h *Handler) reveal(q *request, key onetime.SecretKey) {
	form, ok := h.form(q)
	if !ok || !h.nonce(q, form) {
		return
	}
	var s *onetime.Secret
	var err error
	if pr, ok := proof(form); ok {
		s, err = h.svc.RevealProof(q.ctx, key, pr)
	} else {
		s, err = h.svc.Reveal(q.ctx, key, form.Get(frontdoor.ParamPassphrase))
	}
	switch {
	case errors.Is(err, onetime.ErrWrongPassphrase):
		// The attempt counted; the last allowed one burned the secret,
		// which confirm then reports as destroyed.
		h.missed(q)
		h.confirm(q, key, http.StatusForbidden, true)
		return
	case errors.Is(err, onetime.ErrNotFound):
		h.missed(q)
		h.message(q, http.StatusNotFound, "gone")
		return
	case err != nil:
		h.fail(q, "reveal", err)
		return
	}
	p := h.page(q, q.l.T("revealed.title"))
	p.Script = true
	if zk.IsSealed(string(s.Value)) {
		p.Sealed = string(s.Value)
	} else {
		p.Value = s.Value
	}
	h.render(q, http.StatusOK, "revealed", p)
}
