package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/internal/frontdoor"
)

// DefaultBasePath is where the v1 API lives unless Options.BasePath says
// otherwise.
const DefaultBasePath = "/api/v1/"

// RecommendedMaxHeaderBytes is the http.Server.MaxHeaderBytes this package
// recommends, and the default bound on a request's query string
// (Options.MaxQueryBytes). A larger header allowance lets a client hold a
// connection's memory with headers alone; values bigger than this (a
// secret of more than some 20 KiB, percent-encoded) must come in the
// request body, where Options.MaxBodySize bounds them.
const RecommendedMaxHeaderBytes = 64 << 10

// DefaultHealthTimeout bounds the store check of GET {BasePath}status and
// of [ReadyHandler] unless Options.HealthTimeout says otherwise.
const DefaultHealthTimeout = time.Second

// Options configure the handler. A nil *Options, and every zero field,
// means the default. The service's own options (onetime.Options) hold the
// rules of secrets themselves: the maximum size, TTL bounds, passphrase
// length, RestrictReceipts (receipts of customers served to their owner
// only) and the Notifier that recipients are handed to.
type Options struct {
	// BasePath is the path the API answers under, with a leading and a
	// trailing slash: "/api/v1/" by default. Set it to mount the handler
	// under a prefix without http.StripPrefix, e.g. "/ots/api/v1/" with
	// mux.Handle("/ots/api/v1/", h).
	BasePath string

	// Auth tells who is calling (see access.Authenticator; give webui
	// the same one). nil means every caller is anonymous, and a request
	// that carries an Authorization header anyway is answered "Not
	// authorized" (bad credentials never fall back to anonymous).
	Auth access.Authenticator

	// RequireAuthToCreate answers share, create and generate from
	// anonymous callers with "Not authorized".
	RequireAuthToCreate bool

	// MaxTTL, when set, returns the longest lifetime the given caller
	// ("" when anonymous) may grant; zero or negative means the service's
	// bound. It can only lower the service's bound. Give webui the same
	// one, so that its lifetime menu offers what the API grants.
	MaxTTL func(customer string) time.Duration

	// ShareDomain is recorded on every new secret and reported as the
	// share_domain of its receipt ("" by default). A share_domain
	// parameter is honoured only when it names ShareDomain or one of
	// ShareDomains (compared without regard to case); otherwise it is
	// ignored.
	ShareDomain  string
	ShareDomains []string

	// IntendedStatus sends the status in X-OTS-Intended-Status (400, 401,
	// 404, 413, 414, 429, 500, 503) as the HTTP status of errors. By
	// default every error is sent with 404, as the reference service does
	// and as some clients expect.
	IntendedStatus bool

	// Logger receives what needs an operator's attention: unexpected
	// errors, a store that fails the health check, a failing rate limiter,
	// requests arriving outside BasePath. nil means slog.Default(). No
	// key, passphrase, value, recipient address, raw path or query string
	// is ever logged.
	Logger *slog.Logger

	// AccessLog, when set, receives one INFO line per request: request id
	// (also sent as X-Request-Id), route pattern, status, intended status
	// and message of an error, customer, duration. nil (the default) logs
	// no request lines. It may be the same logger as Logger, and the same
	// as webui's.
	AccessLog *slog.Logger

	// RateLimiter, when set, limits every request but GET {BasePath}status
	// (the health check; limited too when it carries credentials, which
	// it checks) per client address, unrouted ones included, before
	// authentication; a limited client gets "Cripes! You have been
	// rate limited." (intended status 429). Off by default. Give webui the
	// same limiter, so that the pages are no way around it. Package
	// github.com/onetimego/onetime/ratelimit and its redislimit subpackage
	// provide limiters.
	RateLimiter access.RateLimiter

	// GuessLimiter holds back a client address that fails too often (see
	// access.GuessLimiter): every request but GET {BasePath}status
	// without credentials is refused before any work while the address
	// must wait, with "Cripes!
	// You have been rate limited." (intended status 429) and a
	// Retry-After header in seconds. What counts as a failure: credentials
	// that do not verify ("Not authorized" from the Authenticator), and
	// "Unknown secret" on a reveal (an unknown key or a wrong passphrase),
	// a receipt or a burn (an unknown metadata key, or a secret no longer
	// there). Successes cost nothing.
	//
	// On by default: nil means a ratelimit.GuessLimiter of the handler's
	// own, 20 failures at once and then one a second
	// (access.DefaultGuessBurst, access.DefaultGuessPerSecond).
	// access.NoGuessLimit turns it off. Give webui the same limiter (and,
	// with several app servers, a redislimit.GuessLimiter on a Redis they
	// share), so that a guesser has one budget everywhere rather than one
	// per handler and server.
	GuessLimiter access.GuessLimiter

	// ClientIPHeader names a header set by a trusted reverse proxy that
	// carries the client's address ("X-Forwarded-For", "X-Real-IP"). It is
	// believed only from the TrustedProxies, which must be set with it;
	// the right-most address in it that is not a trusted proxy is the
	// client's (the one the first trusted proxy added). Empty (the
	// default) uses the connection's address. The address is used for the
	// rate limit, the guess limit and the service's fair queuing of
	// passphrase checks; give webui the same header and proxies.
	ClientIPHeader string

	// TrustedProxies are the addresses (prefixes: 10.0.0.0/8,
	// 192.0.2.7/32) of the reverse proxies whose ClientIPHeader is
	// believed. From any other peer the header is ignored and the
	// connection's address used: a client that talks to the server
	// directly cannot pass for another address, and so cannot dodge the
	// limits. New refuses a ClientIPHeader without TrustedProxies.
	TrustedProxies []netip.Prefix

	// MaxBodySize bounds request bodies in bytes. Zero means three times
	// the service's maximum value size (a value percent-encoded in a form
	// body may triple) plus 64 KiB. A larger body is answered as a value
	// too large.
	MaxBodySize int64

	// MaxQueryBytes bounds the query string. Zero means
	// [RecommendedMaxHeaderBytes]; negative, no bound of the handler's own
	// (the server's MaxHeaderBytes still applies). A longer query string
	// is answered "Query string too long: send parameters in the request
	// body" (intended status 414).
	MaxQueryBytes int

	// RequestTimeout, when positive, bounds the work of each request: its
	// context gets a deadline that far ahead. Net/http's WriteTimeout only
	// closes the connection and does not stop the handler, so without a
	// deadline a reveal queued behind a burst of passphrase derivations,
	// or waiting on a stalled store, could consume a secret after its
	// answer can no longer be sent. With one, the service gives up while
	// waiting and every store refuses to consume past the deadline (see
	// onetime.Store), so the secret survives. Zero (the default) sets no
	// deadline of the handler's own; set it a few seconds under the
	// server's WriteTimeout, and give webui the same.
	RequestTimeout time.Duration

	// HealthTimeout bounds the store check of GET {BasePath}status; zero
	// means [DefaultHealthTimeout].
	HealthTimeout time.Duration

	// MeterProvider records the requests' metrics and TracerProvider
	// their spans, through the OpenTelemetry API (see "Metrics and
	// traces" in the package doc). nil means the Service's
	// (onetime.Options.MeterProvider, TracerProvider), which are the
	// global ones unless it was given its own.
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
}

// A Handler serves the Onetime Secret REST API v1. Create it with [New].
type Handler struct {
	svc       *onetime.Service
	opts      Options
	door      *frontdoor.Door
	base      string // opts.BasePath
	log       *slog.Logger
	outside   sync.Once // the warning about requests outside base
	maxSize   int       // the service's largest value
	maxQuery  int       // < 0: none
	healthTTL time.Duration

	// The bodies of GET {BasePath}status (see health.go).
	nominalBody, offlineBody []byte
}

// New returns a [Handler] serving the Onetime Secret REST API v1 under
// Options.BasePath (/api/v1/ by default) with svc.
//
// Mount it in a mux at its base path (mux.Handle("/api/v1/", h)), under
// another prefix with http.StripPrefix and the default base path, or with
// BasePath set to the whole prefix (mux.Handle("/ots/api/v1/", h) with
// BasePath "/ots/api/v1/"). It answers every path it does not serve with
// the JSON error "Not Found", and never redirects; see [Handler.Wrap] for
// the redirects of a ServeMux in front of it.
func New(svc *onetime.Service, opts *Options) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("httpapi: nil Service")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.HealthTimeout < 0 {
		return nil, errors.New("httpapi: negative HealthTimeout")
	}
	if o.BasePath == "" {
		o.BasePath = DefaultBasePath
	}
	if err := frontdoor.CheckBasePath(o.BasePath); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	maxSize := svc.Options().MaxSize
	var err error
	if o.MaxBodySize, err = frontdoor.BodyLimit(o.MaxBodySize, maxSize); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MeterProvider == nil {
		o.MeterProvider = svc.Options().MeterProvider
	}
	if o.TracerProvider == nil {
		o.TracerProvider = svc.Options().TracerProvider
	}
	o.ShareDomains = append([]string(nil), o.ShareDomains...)
	h := &Handler{svc: svc, opts: o, base: o.BasePath, log: o.Logger, maxSize: maxSize,
		maxQuery: o.MaxQueryBytes, healthTTL: o.HealthTimeout}
	h.door, err = frontdoor.New(frontdoor.Options{Name: "httpapi", Auth: o.Auth, RateLimiter: o.RateLimiter,
		GuessLimiter: o.GuessLimiter, ClientIPHeader: o.ClientIPHeader, TrustedProxies: o.TrustedProxies,
		Logger: o.Logger, AccessLog: o.AccessLog, MeterProvider: o.MeterProvider, TracerProvider: o.TracerProvider,
		Timeout: o.RequestTimeout})
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	if h.maxQuery == 0 {
		h.maxQuery = RecommendedMaxHeaderBytes
	}
	if h.healthTTL == 0 {
		h.healthTTL = DefaultHealthTimeout
	}
	h.nominalBody, h.offlineBody = statusBodies(svc.Options().ReplayWindow > 0)
	return h, nil
}

// Wrap returns a handler that serves with h every request whose path,
// once cleaned, lies under the base path (also /api/v1 without its
// trailing slash, /api/v1//status, /api/v1/./status), and passes every
// other request to next unchanged.
//
// Use it as the server's handler in front of an http.ServeMux: a ServeMux
// answers a path that is not clean (double slashes, . and .. segments),
// and a subtree pattern's path without its trailing slash, with a 307 or
// 301 redirect before any handler sees the request, and many clients
// resend a redirected POST as a GET or not at all. Wrap lets those
// requests reach the API, which answers them itself:
//
//	mux := http.NewServeMux()
//	mux.Handle("/api/v1/", api) // still useful for mux-based routing tools
//	mux.HandleFunc("/", home)
//	srv := &http.Server{Handler: api.Wrap(mux)}
func (h *Handler) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := h.under(r.URL.EscapedPath()); ok {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// An apiError is an answer of the v1 API's error kind.
type apiError struct {
	status  int // the intended status
	message string
}

func (e *apiError) Error() string { return "httpapi: " + e.message }

var (
	errNoRoute       = &apiError{http.StatusNotFound, "Not Found"}
	errUnknownSecret = &apiError{http.StatusNotFound, "Unknown secret"}
	errNotAuthorized = &apiError{http.StatusUnauthorized, "Not authorized"}
	errRateLimited   = &apiError{http.StatusTooManyRequests, "Cripes! You have been rate limited."}
	errUnexpected    = &apiError{http.StatusInternalServerError, "An unexpected error occurred"}
	errBusy          = &apiError{http.StatusServiceUnavailable, "The server is busy: please try again shortly"}
	errInvalidTTL    = &apiError{http.StatusBadRequest, "Invalid TTL"}
	errInvalidLength = &apiError{http.StatusBadRequest, "Invalid length"}
	errInvalidBody   = &apiError{http.StatusBadRequest, "Invalid request body"}
	errInvalidQuery  = &apiError{http.StatusBadRequest, "Invalid query string"}
	errNotUTF8       = &apiError{http.StatusBadRequest, "Secret value must be UTF-8 text"}
	errQueryTooLong  = &apiError{http.StatusRequestURITooLong, "Query string too long: send parameters in the request body"}
	errBadIdemKey    = &apiError{http.StatusBadRequest, "Invalid Idempotency-Key: send 1 to 255 visible ASCII characters, bare or as a quoted string"}
)

// What a route does.
type action uint8

const (
	actStatus action = iota + 1
	actAuthcheck
	actShare
	actGenerate
	actReveal
	actReceipt
	actBurn
	actRecent
)

// A route is a matched request: what to do, the key from the path, and
// what the pattern to log is made of.
type route struct {
	act    action
	method string
	first  string // the first segment after the base path, unescaped
	key    string
}

// pattern returns the route's pattern as logged and measured, e.g. "POST
// /api/v1/secret/{secret_key}": never a key.
func (h *Handler) pattern(r route) string {
	if r.act == 0 {
		return "unrouted"
	}
	tail := r.first
	switch r.act {
	case actReveal:
		tail = "secret/{secret_key}"
	case actRecent:
		tail += "/recent"
	case actReceipt:
		tail += "/{metadata_key}"
	case actBurn:
		tail += "/{metadata_key}/burn"
	}
	return r.method + " " + h.base + tail
}

// under reports whether the escaped path lies under the base path once
// cleaned, and returns the rest of it after the base path ("" for the base
// path itself, with or without its trailing slash). The escaped path is
// cleaned, so that an escaped slash (%2F) stays inside its segment.
func (h *Handler) under(escapedPath string) (string, bool) {
	c := frontdoor.CleanPath(escapedPath)
	if c == strings.TrimSuffix(h.base, "/") {
		return "", true
	}
	return strings.CutPrefix(c, h.base)
}

// route matches a request, and warns (once) of one outside the base path.
func (h *Handler) route(r *http.Request) (route, bool) {
	rest, inside := h.under(r.URL.EscapedPath())
	if !inside {
		h.outside.Do(func() {
			// The path itself may hold a key: only the base is logged.
			h.log.LogAttrs(r.Context(), slog.LevelWarn,
				"httpapi: a request arrived outside the base path; check how the handler is mounted (Options.BasePath, http.StripPrefix); logged once",
				slog.String("base_path", h.base))
		})
		return route{}, false
	}
	return h.match(r.Method, rest)
}

// http.ServeMux so that a wrong method is "Not Found" (never 405), HEAD is
// match routes a request. It is written out rather than left to
// http.ServeMux so that a wrong method is "Not Found" (never 405), HEAD is
// not served as GET, a path that is not clean is routed rather than
// redirected, and the pattern is known for logging. rest is the cleaned
// path after the base path.
func (h *Handler) match(method, rest string) (route, bool) {
	if rest == "" {
		return route{}, false
	}
	// No route has more than three segments: split into an array rather
	// than a slice, and give up on a fourth.
	var segs [3]string
	n := 0
	for rest = strings.TrimSuffix(rest, "/"); ; n++ {
		if n == len(segs) {
			return route{}, false
		}
		s, tail, more := strings.Cut(rest, "/")
		u, err := url.PathUnescape(s)
		if err != nil || u == "" {
			return route{}, false
		}
		segs[n] = u
		if !more {
			n++
			break
		}
		rest = tail
	}
	seg := segs[:n]
	get, post := method == http.MethodGet, method == http.MethodPost
	r := route{method: method, first: seg[0]}
	switch {
	case len(seg) == 1 && seg[0] == "status" && get:
		r.act = actStatus
	case len(seg) == 1 && seg[0] == "authcheck" && get:
		r.act = actAuthcheck
	case len(seg) == 1 && (seg[0] == "share" || seg[0] == "create") && post:
		r.act = actShare
	case len(seg) == 1 && seg[0] == "generate" && post:
		r.act = actGenerate
	case len(seg) == 2 && seg[0] == "secret" && post:
		r.act, r.key = actReveal, seg[1]
	case len(seg) >= 2 && receiptBase(seg[0]):
		switch {
		case len(seg) == 2 && seg[1] == "recent" && (get || post):
			r.act = actRecent
		case len(seg) == 2 && (get || post):
			r.act, r.key = actReceipt, seg[1]
		case len(seg) == 3 && seg[2] == "burn" && post:
			r.act, r.key = actBurn, seg[1]
		}
	}
	if r.act == 0 {
		return route{}, false
	}
	return r, true
}

func receiptBase(s string) bool { return s == "private" || s == "metadata" || s == "receipt" }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := h.door.Begin(w, r)
	rt, routed := h.route(r)
	defer h.finish(q.Context(), q, rt)
	r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodySize)
	ctx, err := h.admit(r, q, rt, routed)
	if err == nil {
		err = h.serve(ctx, q, r, rt)
	}
	if err != nil {
		if frontdoor.Missed(err) {
			// Counted before the answer goes out: a guesser learns
			// nothing before its guess counts.
			h.door.Failed(ctx, q)
		}
		h.writeError(q, h.classify(ctx, err, q.ID), rt.key)
	}
}

// admit runs what a request goes through before it is served, in this
// order: the rate limit and the guess limit (every request but the status
// check, unrouted ones included, and a status check that carries
// credentials, since it checks them), the route, the bound on the query
// string, authentication. It returns the request's context with the
// caller in it.
func (h *Handler) admit(r *http.Request, q *frontdoor.Request, rt route, routed bool) (context.Context, error) {
	ctx := q.Context() // r's, with the request's span
	if rt.act != actStatus || len(r.Header.Values("Authorization")) > 0 {
		if !h.door.Allow(ctx, q) {
			return ctx, errRateLimited
		}
		if wait := h.door.RetryAfter(ctx, q); wait > 0 {
			q.Header().Set("Retry-After", frontdoor.RetryAfterHeader(wait))
			return ctx, errRateLimited
		}
	}
	if !routed {
		return ctx, errNoRoute
	}
	if h.maxQuery >= 0 && len(r.URL.RawQuery) > h.maxQuery {
		return ctx, errQueryTooLong
	}
	if h.opts.Auth == nil && len(r.Header.Values("Authorization")) > 0 {
		// Credentials nobody checks: never served as anonymous.
		return ctx, errNotAuthorized
	}
	return h.door.Authenticate(ctx, r, q)
}

// finish ends a request. A panic is logged, by its type only (its value
// may quote anything), and answered as unexpected unless an answer has
// begun; then the request is measured, its span ended and its access log
// line written (Door.End).
func (h *Handler) finish(ctx context.Context, q *frontdoor.Request, rt route) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			panic(p)
		}
		h.log.LogAttrs(ctx, slog.LevelError, "httpapi: panic serving request",
			slog.String("request_id", q.ID), slog.String("route", h.pattern(rt)),
			slog.String("panic_type", fmt.Sprintf("%T", p)))
		if q.Status == 0 {
			h.writeError(q, errUnexpected, "")
		}
	}
	h.door.End(ctx, q, h.pattern(rt))
}

// serve answers an admitted request.
func (h *Handler) serve(ctx context.Context, q *frontdoor.Request, r *http.Request, rt route) error {
	w, customer := http.ResponseWriter(q), q.Customer
	switch rt.act {
	case actStatus:
		return h.status(ctx, w, q)
	case actAuthcheck:
		if customer == "" {
			return errNotAuthorized
		}
		writeJSON(w, http.StatusOK, h.nominalBody)
		return nil
	case actShare, actGenerate:
		ctx, err := withIdempotencyKey(ctx, r)
		if err != nil {
			return err
		}
		return h.create(ctx, w, r, rt.act, customer)
	case actReveal:
		ctx, err := withIdempotencyKey(ctx, r)
		if err != nil {
			return err
		}
		p, err := h.params(r)
		if err != nil {
			return err
		}
		v, err := h.reveal(ctx, onetime.SecretKey(rt.key), p)
		if err != nil {
			return err
		}
		writeRevealed(w, v)
		return nil
	case actReceipt:
		rc, err := h.svc.Receipt(ctx, onetime.MetadataKey(rt.key))
		if err != nil {
			return err
		}
		writeReceipt(w, rc, modeReceipt)
		return nil
	case actBurn:
		ctx, err := withIdempotencyKey(ctx, r)
		if err != nil {
			return err
		}
		rc, err := h.svc.Burn(ctx, onetime.MetadataKey(rt.key))
		if err != nil {
			return err
		}
		writeBurned(w, rc)
		return nil
	case actRecent:
		if customer == "" {
			return errNotAuthorized
		}
		rcs, err := h.svc.Recent(ctx, customer)
		if err != nil {
			return err
		}
		list := make(receiptList, len(rcs))
		for i, rc := range rcs {
			list[i] = newReceipt(rc, modeRecent)
		}
		writeOK(w, list)
		return nil
	}
	return errNoRoute
}

// withIdempotencyKey returns ctx carrying the key of r's Idempotency-Key
// header for the Service, ctx itself when r has none, and errBadIdemKey
// when the header holds no key: served without it, the request could not
// be retried safely, which is what its sender asked for.
func withIdempotencyKey(ctx context.Context, r *http.Request) (context.Context, error) {
	key, err := frontdoor.IdempotencyKey(r.Header)
	switch {
	case err != nil:
		return ctx, errBadIdemKey
	case key == "":
		return ctx, nil
	}
	return onetime.WithIdempotencyKey(ctx, key), nil
}

// create serves share, create and generate.
func (h *Handler) create(ctx context.Context, w http.ResponseWriter, r *http.Request, act action, customer string) error {
	if customer == "" && h.opts.RequireAuthToCreate {
		return errNotAuthorized
	}
	p, err := h.params(r)
	if err != nil {
		return err
	}
	ttl, err := p.TTL()
	if err != nil {
		return err
	}
	var maxTTL time.Duration
	if h.opts.MaxTTL != nil {
		maxTTL = max(h.opts.MaxTTL(customer), 0)
	}
	req := onetime.ShareRequest{
		Owner: customer, TTL: ttl, MaxTTL: maxTTL, Passphrase: p.Get(frontdoor.ParamPassphrase),
		Recipients: p.Values(frontdoor.ParamRecipient), ShareDomain: h.shareDomain(p.Get(frontdoor.ParamShareDomain)),
	}
	if req.Verifier, err = zkVerifier(p); err != nil {
		return err
	}
	var rc *onetime.Metadata
	mode := modeReceipt
	if act == actGenerate {
		var length int
		if length, err = p.Length(); err != nil {
			return err
		}
		rc, err = h.svc.Generate(ctx, onetime.GenerateRequest{ShareRequest: req, Length: length})
		mode = modeGenerate
	} else {
		value := p.Get(frontdoor.ParamSecret)
		if err = frontdoor.CheckValue(value, h.maxSize); err != nil {
			return err
		}
		req.Value = []byte(value)
		rc, err = h.svc.Share(ctx, req)
	}
	if err != nil {
		return err
	}
	writeReceipt(w, rc, mode)
	return nil
}

func (h *Handler) shareDomain(asked string) string {
	if asked != "" {
		if strings.EqualFold(asked, h.opts.ShareDomain) {
			return h.opts.ShareDomain
		}
		for _, d := range h.opts.ShareDomains {
			if strings.EqualFold(asked, d) {
				return d
			}
		}
	}
	return h.opts.ShareDomain
}

// params reads the request's parameters, from the query string and the
// body, as the pages read theirs.
func (h *Handler) params(r *http.Request) (frontdoor.Params, error) {
	return frontdoor.ParseParams(r.Header.Get("Content-Type"), r.URL.RawQuery, r.Body, r.ContentLength)
}

// classify turns an error into the answer the caller gets. Only the
// messages of the v1 API and of onetime.InputError reach the caller;
// anything else is logged and answered as unexpected.
func (h *Handler) classify(ctx context.Context, err error, rid string) *apiError {
	var ae *apiError
	var ie *onetime.InputError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, onetime.ErrNotFound), errors.Is(err, onetime.ErrWrongPassphrase):
		return errUnknownSecret
	case errors.As(err, &ie):
		if errors.Is(err, onetime.ErrTooLarge) {
			return &apiError{http.StatusRequestEntityTooLarge, ie.Message}
		}
		return &apiError{http.StatusBadRequest, ie.Message}
	case errors.Is(err, access.ErrUnauthorized):
		return errNotAuthorized
	case errors.Is(err, onetime.ErrBusy):
		// Nothing was stored or consumed: the client may try again.
		h.log.LogAttrs(ctx, slog.LevelDebug, "httpapi: busy",
			slog.String("request_id", rid), slog.String("err", err.Error()))
		return errBusy
	case frontdoor.IsTooLarge(err):
		return &apiError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Secret value exceeds the maximum size of %d bytes", h.maxSize)}
	case errors.Is(err, frontdoor.ErrInvalidTTL):
		return errInvalidTTL
	case errors.Is(err, frontdoor.ErrInvalidLength):
		return errInvalidLength
	case errors.Is(err, frontdoor.ErrNotUTF8):
		return errNotUTF8
	case errors.Is(err, frontdoor.ErrBadBody):
		return errInvalidBody
	case errors.Is(err, frontdoor.ErrBadQuery):
		return errInvalidQuery
	case callerGone(ctx, err):
		// The client hung up or its deadline passed: nothing is wrong
		// with the server. Answered as before, for whoever still listens.
		h.log.LogAttrs(ctx, slog.LevelDebug, "httpapi: request ended by its caller",
			slog.String("request_id", rid), slog.String("err", err.Error()))
		return errUnexpected
	}
	// The core and stores keep keys and values out of error texts.
	h.log.LogAttrs(ctx, slog.LevelError, "httpapi: unexpected error",
		slog.String("request_id", rid), slog.String("err", err.Error()))
	return errUnexpected
}

// callerGone reports whether err is the end of the request's own context
// (the client went away, or the deadline the caller set passed) rather
// than a failure of the server: a store's own timeout, with the request
// still live, is a failure.
func callerGone(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// writeError answers e. key, when not empty, is the key from the path,
// echoed as secret_key as the reference service does (the metadata key
// too, on the receipt and burn routes); never on an unexpected error.
// The intended status and message go to the access log line.
func (h *Handler) writeError(q *frontdoor.Request, e *apiError, key string) {
	q.Intended, q.Message = e.status, e.message
	status := http.StatusNotFound
	if h.opts.IntendedStatus {
		status = e.status
	}
	hd := q.Header()
	hd.Set("X-OTS-Intended-Status", strconv.Itoa(e.status))
	switch {
	case status == http.StatusUnauthorized:
		hd.Set("WWW-Authenticate", `Basic realm="onetime", charset="UTF-8"`)
	case e == errBusy:
		hd.Set("Retry-After", frontdoor.RetryAfterBusy)
	}
	body := errorBody{Message: e.message}
	if e != errUnexpected {
		body.SecretKey = key
	}
	buf := buffers.Get().(*[]byte)
	writeBuffer(q, buf, status, body.appendJSON((*buf)[:0]))
}
