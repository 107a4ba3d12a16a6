package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/clientaddr"
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

	// Auth tells who is calling. nil means every caller is anonymous, and
	// a request that carries an Authorization header anyway is answered
	// "Not authorized" (bad credentials never fall back to anonymous).
	Auth Authenticator

	// RequireAuthToCreate answers share, create and generate from
	// anonymous callers with "Not authorized".
	RequireAuthToCreate bool

	// MaxTTL, when set, returns the longest lifetime the given caller
	// ("" when anonymous) may grant; zero or negative means the service's
	// bound. It can only lower the service's bound.
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
	// no request lines. It may be the same logger as Logger.
	AccessLog *slog.Logger

	// RateLimiter, when set, limits every request but GET {BasePath}status
	// (the health check) per client address, unrouted ones included. Off
	// by default. Package github.com/onetimego/onetime/ratelimit and its
	// redislimit subpackage provide limiters.
	RateLimiter RateLimiter

	// ClientIPHeader names a header set by a trusted reverse proxy that
	// carries the client's address ("X-Forwarded-For", "X-Real-IP"). Its
	// last comma-separated element is used (the one the proxy added).
	// Empty (the default) uses the connection's address: set it only
	// behind a proxy that overwrites or appends the header, since clients
	// can send anything in it. The address is used for rate limiting and
	// for the service's fair queuing of passphrase checks.
	ClientIPHeader string

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

	// HealthTimeout bounds the store check of GET {BasePath}status; zero
	// means [DefaultHealthTimeout].
	HealthTimeout time.Duration
}

// A Handler serves the Onetime Secret REST API v1. Create it with [New].
type Handler struct {
	svc       *onetime.Service
	opts      Options
	base      string // opts.BasePath
	log       *slog.Logger
	access    *slog.Logger // nil: no request lines
	outside   sync.Once    // the warning about requests outside base
	maxQuery  int          // < 0: none
	healthTTL time.Duration
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
	if o.MaxBodySize < 0 {
		return nil, errors.New("httpapi: negative MaxBodySize")
	}
	if o.HealthTimeout < 0 {
		return nil, errors.New("httpapi: negative HealthTimeout")
	}
	if o.BasePath == "" {
		o.BasePath = DefaultBasePath
	}
	if !strings.HasPrefix(o.BasePath, "/") || !strings.HasSuffix(o.BasePath, "/") || cleanPath(o.BasePath) != o.BasePath {
		return nil, errors.New("httpapi: BasePath must be a clean path that starts and ends with a slash")
	}
	if o.MaxBodySize == 0 {
		o.MaxBodySize = 3*int64(svc.MaxSize()) + bodyHeadroom
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.ClientIPHeader = http.CanonicalHeaderKey(strings.TrimSpace(o.ClientIPHeader))
	o.ShareDomains = append([]string(nil), o.ShareDomains...)
	h := &Handler{svc: svc, opts: o, base: o.BasePath, log: o.Logger, access: o.AccessLog,
		maxQuery: o.MaxQueryBytes, healthTTL: o.HealthTimeout}
	if h.maxQuery == 0 {
		h.maxQuery = RecommendedMaxHeaderBytes
	}
	if h.healthTTL == 0 {
		h.healthTTL = DefaultHealthTimeout
	}
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
	errInvalidTTL    = &apiError{http.StatusBadRequest, "Invalid TTL"}
	errInvalidLength = &apiError{http.StatusBadRequest, "Invalid length"}
	errInvalidBody   = &apiError{http.StatusBadRequest, "Invalid request body"}
	errInvalidQuery  = &apiError{http.StatusBadRequest, "Invalid query string"}
	errNotUTF8       = &apiError{http.StatusBadRequest, "Secret value must be UTF-8 text"}
	errQueryTooLong  = &apiError{http.StatusRequestURITooLong, "Query string too long: send parameters in the request body"}
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

// pattern returns the route's pattern as logged, e.g. "POST
// /api/v1/secret/{secret_key}": never a key. It is built only when a line
// is logged.
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

// cleanPath returns p with empty and "." segments dropped and ".."
// segments applied, as path.Clean does, but keeping a trailing slash. It
// works on the escaped path, so that an escaped slash (%2F) stays inside
// its segment.
func cleanPath(p string) string {
	if strings.HasPrefix(p, "/") && !strings.Contains(p, "//") && !strings.Contains(p, "/./") &&
		!strings.Contains(p, "/../") && !strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..") {
		return p // the usual case, without allocating
	}
	segs := strings.Split(p, "/")
	out := segs[:0]
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	c := "/" + strings.Join(out, "/")
	if len(out) > 0 && strings.HasSuffix(p, "/") {
		c += "/"
	}
	return c
}

// under reports whether the escaped path lies under the base path once
// cleaned, and returns the rest of it after the base path ("" for the base
// path itself, with or without its trailing slash).
func (h *Handler) under(escapedPath string) (string, bool) {
	c := cleanPath(escapedPath)
	if c == strings.TrimSuffix(h.base, "/") {
		return "", true
	}
	return strings.CutPrefix(c, h.base)
}

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

// reqInfo is what the request log line says of a request.
type reqInfo struct {
	customer string
	intended int
	message  string
}

// reqState is what ServeHTTP keeps of a request, in one allocation: the
// writer that remembers the status, what the log line says, and the
// request id with the header value that carries it.
type reqState struct {
	statusWriter
	info reqInfo
	rid  [1]string // X-Request-Id's value
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var start time.Time
	if h.access != nil {
		start = time.Now()
	}
	rest, inside := h.under(r.URL.EscapedPath())
	rt, ok := route{}, false
	if inside {
		rt, ok = h.match(r.Method, rest)
	} else {
		h.outside.Do(func() {
			// The path itself may hold a key: only the base is logged.
			h.log.LogAttrs(r.Context(), slog.LevelWarn,
				"httpapi: a request arrived outside the base path; check how the handler is mounted (Options.BasePath, http.StripPrefix); logged once",
				slog.String("base_path", h.base))
		})
	}
	st := &reqState{statusWriter: statusWriter{ResponseWriter: w}}
	rid := newRequestID()
	st.rid[0] = rid
	w.Header()["X-Request-Id"] = st.rid[:] // canonical already: as Set would
	ctx := r.Context()
	info, sw := &st.info, &st.statusWriter
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			// The panic value may quote anything: log only its type.
			h.log.LogAttrs(ctx, slog.LevelError, "httpapi: panic serving request",
				slog.String("request_id", rid), slog.String("route", h.pattern(rt)),
				slog.String("panic_type", fmt.Sprintf("%T", p)))
			if sw.status == 0 {
				h.writeError(sw, errUnexpected, "", info)
			}
		}
		if h.access == nil {
			return
		}
		attrs := []slog.Attr{
			slog.String("request_id", rid),
			slog.String("route", h.pattern(rt)),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)),
		}
		if info.intended != 0 {
			attrs = append(attrs, slog.Int("intended_status", info.intended), slog.String("message", info.message))
		}
		if info.customer != "" {
			attrs = append(attrs, slog.String("customer", info.customer))
		}
		h.access.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
	}()

	r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodySize)
	addr := clientaddr.Of(r, h.opts.ClientIPHeader)
	if h.opts.RateLimiter != nil && rt.act != actStatus {
		allowed, err := h.opts.RateLimiter.Allow(ctx, addr)
		if err != nil {
			level := slog.LevelWarn
			if ctx.Err() != nil {
				level = slog.LevelDebug // the caller went away: not the limiter's fault
			}
			h.log.LogAttrs(ctx, level, "httpapi: rate limiter failed; request let through",
				slog.String("request_id", rid), slog.String("err", err.Error()))
		} else if !allowed {
			h.writeError(sw, errRateLimited, rt.key, info)
			return
		}
	}
	if !ok {
		h.writeError(sw, errNoRoute, "", info)
		return
	}
	if h.maxQuery >= 0 && len(r.URL.RawQuery) > h.maxQuery {
		h.writeError(sw, errQueryTooLong, rt.key, info)
		return
	}
	if err := h.serve(ctx, sw, r, rt, addr, info); err != nil {
		h.writeError(sw, h.classify(ctx, err, rid), rt.key, info)
	}
}

func (h *Handler) serve(ctx context.Context, w http.ResponseWriter, r *http.Request, rt route, addr string, info *reqInfo) error {
	customer, err := h.authenticate(r)
	if err != nil {
		return err
	}
	info.customer = customer
	ctx = onetime.WithCaller(ctx, onetime.Caller{Customer: customer, Address: addr})

	switch rt.act {
	case actStatus:
		return h.status(ctx, w, info)
	case actAuthcheck:
		if customer == "" {
			return errNotAuthorized
		}
		return writeOK(w, []byte(statusNominal))
	case actShare, actGenerate:
		return h.create(ctx, w, r, rt.act, customer)
	case actReveal:
		p, err := h.params(r)
		if err != nil {
			return err
		}
		v, err := h.svc.Reveal(ctx, onetime.SecretKey(rt.key), p.get(pPassphrase))
		if err != nil {
			return err
		}
		b := append(make([]byte, 0, len(v.Value)+200), `{"value":`...)
		b = appendString(b, string(v.Value))
		b = append(b, `,"secret_key":`...)
		b = appendString(b, string(v.Key))
		b = append(b, `,"share_domain":`...)
		b = appendString(b, v.ShareDomain)
		return writeOK(w, append(b, '}'))
	case actReceipt:
		rc, err := h.svc.Receipt(ctx, onetime.MetadataKey(rt.key))
		if err != nil {
			return err
		}
		return writeOK(w, appendReceipt(make([]byte, 0, receiptSize(rc)), rc, modeReceipt))
	case actBurn:
		rc, err := h.svc.Burn(ctx, onetime.MetadataKey(rt.key))
		if err != nil {
			return err
		}
		b := append(make([]byte, 0, receiptSize(rc)+64), `{"state":`...)
		b = appendReceipt(b, rc, modeReceipt)
		b = append(b, `,"secret_shortkey":`...)
		b = appendString(b, rc.ShortKey)
		return writeOK(w, append(b, '}'))
	case actRecent:
		if customer == "" {
			return errNotAuthorized
		}
		rcs, err := h.svc.Recent(ctx, customer)
		if err != nil {
			return err
		}
		b := []byte{'['}
		for i, rc := range rcs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendReceipt(b, rc, modeRecent)
		}
		return writeOK(w, append(b, ']'))
	}
	return errNoRoute
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
	var ttl time.Duration
	if s := p.get(pTTL); s != "" {
		n, ok := parseInt(s)
		if !ok {
			return errInvalidTTL
		}
		ttl = secondsToDuration(n)
	}
	var maxTTL time.Duration
	if h.opts.MaxTTL != nil {
		maxTTL = max(h.opts.MaxTTL(customer), 0)
	}
	domain := h.shareDomain(p.get(pShareDomain))
	var rc *onetime.Metadata
	mode := modeReceipt
	if act == actGenerate {
		length := 0
		if s := p.get(pLength); s != "" {
			n, ok := parseInt(s)
			if !ok {
				return errInvalidLength
			}
			// Below the minimum (0 and negatives included) is the minimum.
			length = int(min(max(n, onetime.MinPasswordLength), onetime.MaxPasswordLength))
		}
		rc, err = h.svc.Generate(ctx, onetime.GenerateRequest{
			Owner: customer, Length: length, TTL: ttl, MaxTTL: maxTTL,
			Passphrase: p.get(pPassphrase), Recipients: p[pRecipient], ShareDomain: domain,
		})
		mode = modeGenerate
	} else {
		value := p.get(pSecret)
		if len(value) <= h.svc.MaxSize() && !utf8.ValidString(value) {
			// JSON cannot carry it back byte for byte: refuse rather
			// than hand back something else later. A JSON body's lone
			// surrogate escape ("\ud800") arrives here as the invalid
			// bytes it stands for, and is refused the same way.
			return errNotUTF8
		}
		rc, err = h.svc.Share(ctx, onetime.ShareRequest{
			Owner: customer, Value: []byte(value), TTL: ttl, MaxTTL: maxTTL,
			Passphrase: p.get(pPassphrase), Recipients: p[pRecipient], ShareDomain: domain,
		})
	}
	if err != nil {
		return err
	}
	return writeOK(w, appendReceipt(make([]byte, 0, receiptSize(rc)), rc, mode))
}

// secondsToDuration converts a number of seconds, saturating; the service
// clamps the result into its bounds.
func secondsToDuration(n int64) time.Duration {
	const limit = math.MaxInt64 / int64(time.Second)
	switch {
	case n > limit:
		return time.Duration(math.MaxInt64)
	case n < -limit:
		return -time.Duration(math.MaxInt64)
	}
	return time.Duration(n) * time.Second
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

func (h *Handler) params(r *http.Request) (params, error) {
	return parseParams(r.Header.Get("Content-Type"), r.URL.RawQuery, r.Body, r.ContentLength)
}

func (h *Handler) authenticate(r *http.Request) (string, error) {
	if h.opts.Auth == nil {
		if len(r.Header.Values("Authorization")) > 0 {
			return "", errNotAuthorized
		}
		return "", nil
	}
	customer, err := h.opts.Auth.Authenticate(r)
	if errors.Is(err, ErrUnauthorized) {
		return "", errNotAuthorized
	}
	if err != nil {
		return "", fmt.Errorf("httpapi: authenticating: %w", err)
	}
	return customer, nil
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
	case isTooLarge(err):
		return &apiError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Secret value exceeds the maximum size of %d bytes", h.svc.MaxSize())}
	case errors.Is(err, errBadBody):
		return errInvalidBody
	case errors.Is(err, errBadQuery):
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

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// writeError answers e. key, when not empty, is the key from the path,
// echoed as secret_key as the reference service does (the metadata key
// too, on the receipt and burn routes); never on an unexpected error.
func (h *Handler) writeError(w http.ResponseWriter, e *apiError, key string, info *reqInfo) {
	info.intended, info.message = e.status, e.message
	status := http.StatusNotFound
	if h.opts.IntendedStatus {
		status = e.status
	}
	hd := w.Header()
	hd.Set("X-OTS-Intended-Status", strconv.Itoa(e.status))
	if status == http.StatusUnauthorized {
		hd.Set("WWW-Authenticate", `Basic realm="onetime", charset="UTF-8"`)
	}
	b := make([]byte, 0, 64+len(e.message)+len(key))
	b = append(b, `{"message":`...)
	b = appendString(b, e.message)
	if key != "" && e != errUnexpected {
		b = append(b, `,"secret_key":`...)
		b = appendString(b, key)
	}
	b = append(b, '}')
	writeJSON(w, status, b)
}

func writeOK(w http.ResponseWriter, body []byte) error {
	writeJSON(w, http.StatusOK, body)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	setJSONHeaders(w.Header(), len(body))
	w.WriteHeader(status)
	w.Write(body)
}

// setJSONHeaders sets the headers of every answer, their values in one
// allocation rather than one each as Header.Set makes (the keys are
// canonical already, as Set would make them).
func setJSONHeaders(hd http.Header, length int) {
	v := &[4]string{"application/json; charset=utf-8", "no-store", "nosniff", strconv.Itoa(length)}
	hd["Content-Type"] = v[0:1:1]
	hd["Cache-Control"] = v[1:2:2]
	hd["X-Content-Type-Options"] = v[2:3:3]
	hd["Content-Length"] = v[3:4:4]
}

// statusWriter remembers the status sent, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// newRequestID returns a UUIDv7 (RFC 9562) from github.com/google/uuid:
// time-ordered, so that ids sort as the requests came, and strictly
// increasing within the process. Measured at about 0.3 us a request, under
// 1% of a share's cost.
func newRequestID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// Only a failing crypto/rand makes it fail, and crypto/rand does
		// not fail on the systems Go supports: an id is never worth a 500.
		return ""
	}
	return id.String()
}
