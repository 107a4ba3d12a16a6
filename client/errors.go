package client

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotFound is the server's "Unknown secret": the key is unknown,
	// or the secret was already read, burned or has expired, or the
	// passphrase was wrong or missing. The v1 API does not tell these
	// apart.
	ErrNotFound = errors.New("client: unknown secret")
	// ErrUnauthorized is the server's "Not authorized": credentials are
	// missing where required, or wrong.
	ErrUnauthorized = errors.New("client: not authorized")
	// ErrRateLimited means the server is limiting this client's requests.
	ErrRateLimited = errors.New("client: rate limited")
	// ErrInvalidKey means a key or link given to a method is not one: a
	// key is lowercase letters and digits; a link is BASE/secret/KEY for
	// a secret, BASE/private/KEY (or /receipt/, /metadata/) for a receipt.
	ErrInvalidKey = errors.New("client: not a key or link")
	// ErrMalformedAnswer means the server answered 200 with a body that
	// is not what the v1 API answers.
	ErrMalformedAnswer = errors.New("client: malformed answer")
)

// An APIError is an error answered by the server. It matches
// [ErrNotFound], [ErrUnauthorized] or [ErrRateLimited] with errors.Is when
// it is one of those.
type APIError struct {
	// StatusCode is the HTTP status of the answer: 404 for every error
	// on servers that answer as the reference service does.
	StatusCode int
	// IntendedStatus is the status that the error means (400, 401, 404,
	// 413, 429, 500...): the X-OTS-Intended-Status header when the server
	// sent it, else StatusCode.
	IntendedStatus int
	// Message is the server's message, e.g. "Unknown secret", or the
	// status text when the answer carried none.
	Message string
	// RetryAfter is the wait the server asked for in Retry-After, if any.
	RetryAfter time.Duration
}

// Error returns the server's message and the intended status. It never
// carries a key: the key that the v1 API echoes in error answers is not
// kept.
func (e *APIError) Error() string {
	return "client: server answered " + strconv.Quote(e.Message) + " (status " + strconv.Itoa(e.IntendedStatus) + ")"
}

// Is reports whether e is the sentinel target: [ErrNotFound] for "Unknown
// secret", [ErrUnauthorized] for "Not authorized" or status 401,
// [ErrRateLimited] for status 429 or the reference's rate limit message.
func (e *APIError) Is(target error) bool {
	msg := strings.ToLower(strings.TrimSpace(e.Message))
	switch target {
	case ErrNotFound:
		return msg == "unknown secret"
	case ErrUnauthorized:
		return msg == "not authorized" || e.IntendedStatus == 401 || e.StatusCode == 401
	case ErrRateLimited:
		return strings.Contains(msg, "rate limited") || e.IntendedStatus == 429 || e.StatusCode == 429
	}
	return false
}

// A NetworkError is a failure to exchange with the server: no connection,
// a timeout, a cut answer. Unlike the url.Error of net/http it names the
// route (e.g. "secret/{key}") and not the URL, which holds a key. Its
// cause is kept for errors.Is and errors.As (context.DeadlineExceeded,
// *net.OpError...).
type NetworkError struct {
	Method string // GET or POST
	Route  string // the API route, without a key: "secret/{key}"
	text   string // the cause's text, keys and values cut out
	err    error
}

// Error names the route and the cause.
func (e *NetworkError) Error() string {
	return "client: " + e.Method + " " + e.Route + ": " + e.text
}

// Unwrap returns the cause.
func (e *NetworkError) Unwrap() error { return e.err }

// Timeout reports whether the cause is a timeout.
func (e *NetworkError) Timeout() bool {
	t, ok := e.err.(interface{ Timeout() bool })
	return ok && t.Timeout()
}

// An InputError is an argument the client refuses before sending
// anything: an empty value, a negative TTL...
type InputError struct {
	Message string
}

// Error returns the message.
func (e *InputError) Error() string { return "client: " + e.Message }

// A RedirectError is a redirect that the client did not follow: any
// redirect of a POST (following it would send the secret, passphrase or
// credentials where the answer says, or turn a share into a GET), and a
// GET's redirect to another origin than the server's.
type RedirectError struct {
	Method     string // GET or POST
	Route      string // the API route, without a key: "secret/{key}"
	StatusCode int    // 301, 302, 303, 307, 308...
	// Location is where the server redirects to, resolved against the
	// request, with any key, value or passphrase of the request cut out;
	// "" when the answer named none.
	Location string
}

// Error names the route, the status and the Location.
func (e *RedirectError) Error() string {
	where := "without a Location"
	if e.Location != "" {
		where = "to " + strconv.Quote(e.Location)
	}
	why := "a POST is never redirected"
	if e.Method == http.MethodGet {
		why = "a GET is redirected only within the server's origin"
	}
	return "client: " + e.Method + " " + e.Route + ": the server redirects (" + strconv.Itoa(e.StatusCode) + ") " + where + ", not followed: " + why
}
