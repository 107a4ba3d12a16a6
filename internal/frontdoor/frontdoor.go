// Package frontdoor is the request plumbing that packages httpapi and
// webui share, so that the API and the pages treat a request alike before
// either answers it in its own format:
//
//   - the client's address (ClientAddr), the same client to both, taken
//     from a proxy's header only when the proxy is trusted;
//   - the rate limit and the guess limit, checked before authentication
//     so that guessing credentials counts against the guesser
//     (Door.Allow and Door.RetryAfter, then Door.Authenticate, which also
//     puts the caller in the context for the Service);
//   - what a failed guess is (Missed), counted against the guess limit
//     (Door.Failed) before the answer goes out;
//   - path cleaning (CleanPath) and the check of a base path;
//   - the bound on request bodies (BodyLimit) and the parsing of
//     parameters (ParseParams, Params.TTL, CheckValue): one parser, so
//     that the pages refuse what the API refuses and clamp what it clamps;
//   - the request id and the access log line (Door.Begin, Door.Log);
//   - the request's metrics and span (Door.Begin, Door.End; see
//     telemetry.go).
//
// What each handler answers (v1 JSON errors, or pages) stays in the
// handler.
package frontdoor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/internal/telemetry"
	"github.com/onetimego/onetime/ratelimit"
)

// Options configure a [Door]: what the handlers' own Options say of who
// may call, and where lines go.
type Options struct {
	// Name starts the door's log messages: "httpapi", "webui".
	Name string
	// Auth tells who is calling; nil: everyone is anonymous.
	Auth access.Authenticator
	// RateLimiter, when set, is asked before authentication.
	RateLimiter access.RateLimiter
	// GuessLimiter is asked before authentication too, and told of every
	// failed guess; nil means a ratelimit.GuessLimiter of the door's own
	// with the default budget, access.NoGuessLimit none.
	GuessLimiter access.GuessLimiter
	// ClientIPHeader names the header of a trusted proxy that carries the
	// client's address; "" uses the connection's (see ClientAddr).
	ClientIPHeader string
	// TrustedProxies are the peers whose ClientIPHeader is believed; it
	// must not be empty when ClientIPHeader is set.
	TrustedProxies []netip.Prefix
	// Logger receives a failing rate limiter; nil means slog.Default().
	Logger *slog.Logger
	// AccessLog, when set, receives one INFO line per request (Door.Log).
	AccessLog *slog.Logger
	// MeterProvider and TracerProvider record the requests (see
	// telemetry.go); nil means the global providers.
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
	// Timeout, when positive, bounds the work of each request: Begin puts
	// a deadline that far ahead on the request's context (see
	// [Request.Context]) and End releases it.
	Timeout time.Duration
}

// A Door admits the requests of one handler. It is safe for concurrent
// use.
type Door struct {
	name     string
	auth     access.Authenticator
	limiter  access.RateLimiter
	guess    access.GuessLimiter // nil: no guess limit
	ipHeader string
	trusted  []netip.Prefix
	log      *slog.Logger
	access   *slog.Logger
	tel      *doorTelemetry
	timeout  time.Duration
}

// New returns a Door for o, or an error for a ClientIPHeader without
// TrustedProxies ([ErrNoTrustedProxies]) or a prefix that is not valid.
func New(o Options) (*Door, error) {
	d := &Door{name: o.Name, auth: o.Auth, limiter: o.RateLimiter, guess: o.GuessLimiter, log: o.Logger, access: o.AccessLog, timeout: o.Timeout,
		// As a header name: one option means one header to both handlers.
		ipHeader: http.CanonicalHeaderKey(strings.TrimSpace(o.ClientIPHeader))}
	var err error
	if d.trusted, err = checkProxies(d.ipHeader, o.TrustedProxies); err != nil {
		return nil, err
	}
	switch d.guess {
	case nil:
		d.guess = ratelimit.NewGuessLimiter(nil)
	case access.NoGuessLimit:
		d.guess = nil
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.tel = newDoorTelemetry(o.Name, o.MeterProvider, o.TracerProvider)
	return d, nil
}

// A Request is what the door keeps of one request while a handler serves
// it: its writer, which remembers the status for the access log, its id,
// the client's address and what the access log line says.
type Request struct {
	Writer
	// ID is the request's id (a UUIDv7), also sent as X-Request-Id.
	ID string
	// Addr is the client's address (ClientAddr).
	Addr string
	// Customer is the caller once authenticated; "" when anonymous.
	Customer string
	// Intended and Message are the intended status and the message of an
	// error answer, for the log line; zero and "" when there is none.
	Intended int
	Message  string

	timed  bool            // false without an access log or a duration to record
	start  time.Duration   // telemetry.Clock
	rid    [1]string       // X-Request-Id's value
	ctx    context.Context // the request's, with its span
	span   trace.Span      // nil when tracing is off (a no-op provider)
	method string          // the request's method, _OTHER when not a standard one
	bound  *deadlineCtx    // ctx's deadline (Options.Timeout), released by End; nil without one
}

// A Writer is a request's http.ResponseWriter that remembers the status it
// sent.
type Writer struct {
	http.ResponseWriter
	// Status is the status sent, 0 before any.
	Status int
}

// WriteHeader implements http.ResponseWriter.
func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Begin starts serving r: it gives the request an id, sent as X-Request-Id,
// tells its client's address, and puts the deadline of Options.Timeout on
// its context. The handler writes its answer to the returned Request's
// Writer, serves it with the Request's Context, and calls [Door.End].
func (d *Door) Begin(w http.ResponseWriter, r *http.Request) *Request {
	q := &Request{Writer: Writer{ResponseWriter: w}, Addr: ClientAddr(r, d.ipHeader, d.trusted)}
	d.tel.start(r, q, d.access != nil)
	if d.timeout > 0 {
		// Here rather than by a middleware's r.WithContext, which would
		// copy the whole http.Request of every request; and with no timer
		// until something waits (see deadlineCtx).
		q.bound = withDeadline(q.ctx, time.Now().Add(d.timeout))
		q.ctx = q.bound
	}
	q.ID = newRequestID()
	q.rid[0] = q.ID
	w.Header()["X-Request-Id"] = q.rid[:] // canonical already: as Set would, without its allocation
	return q
}

// Allow reports whether the rate limiter lets q's client make one more
// request; always, without a limiter. Call it before [Door.Authenticate].
// A limiter that fails is logged (at debug level when the caller has gone
// away: not the limiter's fault) and lets the request through: a limiter
// that is down does not take the service down with it.
func (d *Door) Allow(ctx context.Context, q *Request) bool {
	if d.limiter == nil {
		return true
	}
	allowed, err := d.limiter.Allow(ctx, q.Addr)
	if err != nil {
		d.limiterFailed(ctx, q, "rate limiter failed; request let through", err)
		return true
	}
	if !allowed {
		d.tel.limited.Add(ctx, 1, d.tel.byRate.Add...)
	}
	return allowed
}

// RetryAfter reports how long q's client must wait before it may try
// again, having failed too often (see access.GuessLimiter): 0 when it may
// go on, always without a guess limit. Call it before [Door.Authenticate],
// and refuse a client that must wait (intended status 429) with a
// Retry-After header ([RetryAfterHeader]). A limiter that fails is logged
// and lets the request through, as [Door.Allow] does.
func (d *Door) RetryAfter(ctx context.Context, q *Request) time.Duration {
	if d.guess == nil {
		return 0
	}
	wait, err := d.guess.RetryAfter(ctx, q.Addr)
	if err != nil {
		d.limiterFailed(ctx, q, "guess limiter failed; request let through", err)
		return 0
	}
	if wait > 0 {
		d.tel.limited.Add(ctx, 1, d.tel.byGuess.Add...)
	}
	return wait
}

// failTimeout bounds the call of [Door.Failed] to the guess limiter.
const failTimeout = time.Second

// Failed counts a failed guess of q's client (an error for which [Missed]
// is true) against the guess limit. Call it before the answer is written,
// so that a guesser cannot read the answer before the failure counts. It
// counts even when the client has gone away meanwhile (within a second).
// A limiter that fails is logged.
func (d *Door) Failed(ctx context.Context, q *Request) {
	if d.guess == nil {
		return
	}
	d.tel.guesses.Add(ctx, 1)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), failTimeout)
	defer cancel()
	if err := d.guess.Failed(ctx, q.Addr); err != nil {
		d.limiterFailed(ctx, q, "guess limiter failed; failure not counted", err)
	}
}

// limiterFailed logs the failure of a limiter: a warning, or a debug line
// when the caller has gone away (not the limiter's fault).
func (d *Door) limiterFailed(ctx context.Context, q *Request, msg string, err error) {
	level := slog.LevelWarn
	if ctx.Err() != nil {
		level = slog.LevelDebug
	}
	d.log.LogAttrs(ctx, level, d.name+": "+msg,
		slog.String("request_id", q.ID), slog.String("err", err.Error()))
}

// Missed reports whether err is what only a wrong guess produces, and so
// counts against the guess limit: credentials that do not verify
// (access.ErrUnauthorized), a key that names nothing (onetime.ErrNotFound:
// unknown, or no longer there, which a caller cannot tell apart), and a
// wrong passphrase.
func Missed(err error) bool {
	return errors.Is(err, access.ErrUnauthorized) || errors.Is(err, onetime.ErrNotFound) ||
		errors.Is(err, onetime.ErrWrongPassphrase)
}

// RetryAfterHeader returns the value of a Retry-After header for a wait of
// d: whole seconds, rounded up, at least 1.
func RetryAfterHeader(d time.Duration) string {
	return strconv.FormatInt(max(int64(math.Ceil(d.Seconds())), 1), 10)
}

// Authenticate tells who is calling, with the Authenticator (anonymous
// without one), records the customer in q, and returns ctx carrying the
// caller (customer and address, onetime.WithCaller) for the Service. Bad
// credentials are an error wrapping [access.ErrUnauthorized]; any other
// error is the Authenticator's failure, which the handler answers as
// unexpected.
func (d *Door) Authenticate(ctx context.Context, r *http.Request, q *Request) (context.Context, error) {
	if d.auth != nil {
		customer, err := d.auth.Authenticate(r)
		if err != nil {
			if errors.Is(err, access.ErrUnauthorized) {
				return ctx, access.ErrUnauthorized
			}
			return ctx, fmt.Errorf("%s: authenticating: %w", d.name, err)
		}
		q.Customer = customer
	}
	return onetime.WithCaller(ctx, onetime.Caller{Customer: q.Customer, Address: q.Addr}), nil
}

// Logging reports whether there is an access log, so that a handler builds
// what [Door.Log] needs only when a line is written.
func (d *Door) Logging() bool { return d.access != nil }

// Log writes q's line to the access log, if any: one INFO line "request"
// with the request id, the route pattern (never the path itself, which may
// hold a key), the status, the duration, the intended status and message
// of an error answer, and the customer.
func (d *Door) Log(ctx context.Context, q *Request, route string) {
	if d.access == nil {
		return
	}
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs,
		slog.String("request_id", q.ID),
		slog.String("route", route),
		slog.Int("status", q.Status),
		slog.Duration("duration", telemetry.Clock()-q.start),
	)
	if q.Intended != 0 {
		attrs = append(attrs, slog.Int("intended_status", q.Intended), slog.String("message", q.Message))
	}
	if q.Customer != "" {
		attrs = append(attrs, slog.String("customer", q.Customer))
	}
	d.access.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}

// newRequestID returns a UUIDv7 (RFC 9562) from github.com/google/uuid:
// time-ordered, so that ids sort as the requests came.
func newRequestID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// Only a failing crypto/rand makes it fail, and crypto/rand does
		// not fail on the systems Go supports: an id is never worth a 500.
		return ""
	}
	return id.String()
}

// RetryAfterBusy is the Retry-After header, in seconds, that both
// handlers send with a busy answer (onetime.ErrBusy: the service could not
// take the request in time, and nothing was stored or consumed).
const RetryAfterBusy = "5"

// bodyHeadroom is what a body may hold besides its value: the other
// parameters, and a multipart body's boundaries and headers.
const bodyHeadroom = 64 << 10

// BodyLimit returns the bound on request bodies in bytes: set when it is
// positive, and by default (zero) three times the service's maximum value
// size maxSize (a value percent-encoded in a form body may triple) plus
// 64 KiB. A negative set is an error.
func BodyLimit(set int64, maxSize int) (int64, error) {
	switch {
	case set < 0:
		return 0, errors.New("negative MaxBodySize")
	case set > 0:
		return set, nil
	}
	return 3*int64(maxSize) + bodyHeadroom, nil
}

// CleanPath returns p as path.Clean does (empty and "." segments dropped,
// ".." applied), keeping a trailing slash. The handlers call it on the
// escaped path, so that an escaped slash (%2F) stays inside its segment.
// A path already clean comes back as it is, without allocating.
func CleanPath(p string) string {
	c := path.Clean(p)
	if c != "/" && strings.HasSuffix(p, "/") {
		if c == p[:len(p)-1] {
			return p
		}
		c += "/"
	}
	return c
}

// CheckBasePath returns an error unless p is a base path a handler can
// serve under: clean, starting and ending with a slash.
func CheckBasePath(p string) error {
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || CleanPath(p) != p {
		return errors.New("BasePath must be a clean path that starts and ends with a slash")
	}
	return nil
}
