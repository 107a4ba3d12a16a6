package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// What a Client knows of the server's support for Idempotency-Key.
const (
	idemUnknown int32 = iota
	idemYes
	idemNo
)

// The waits between tries: the first is about retryBackoff (with jitter),
// and each next one twice the last. A Retry-After longer than
// maxRetryAfter ends the retries: the caller decides what to do then.
var (
	retryBackoff  = 200 * time.Millisecond
	maxRetryAfter = 10 * time.Second
)

// A call is one logical call of the API: one request, sent once or more,
// always with the same body and the same Idempotency-Key.
type call struct {
	method string
	rel    string     // the path below the API root; may hold a key
	route  string     // rel without the key, for errors
	form   url.Values // the body of a POST; nil for a GET
	// idemKey is the Idempotency-Key header of a POST, in the form the
	// IETF draft gives it (a Structured Field string).
	idemKey string
}

// newPost returns a POST call with a fresh Idempotency-Key. A form
// without fields is sent as "passphrase=", which v1 servers read as no
// passphrase (an empty value is an absent one), so that no POST has an
// empty body: net/http's Transport replays on its own a request with an
// empty body and an Idempotency-Key when a reused connection breaks, even
// after the server acted on it (see do).
func newPost(rel, route string, form url.Values) *call {
	if len(form) == 0 {
		form = url.Values{"passphrase": {""}}
	}
	return &call{method: http.MethodPost, rel: rel, route: route, form: form, idemKey: strconv.Quote(uuid.NewString())}
}

// send makes the call: it sends the request and tries it again, at most
// c.attempts times in all, while the failure is one that retry allows,
// waiting a little longer each time.
func (c *Client) send(ctx context.Context, cl *call) ([]byte, error) {
	wait := retryBackoff
	for try := 1; ; try++ {
		body, err := c.do(ctx, cl)
		if err == nil {
			return body, nil
		}
		if try >= c.attempts {
			return nil, err
		}
		d, ok := c.retry(ctx, cl, err, wait)
		if !ok {
			return nil, err
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		wait *= 2
	}
}

// retry decides whether the call may be tried again after err, and after
// how long (about wait, or the server's Retry-After if longer):
//
//   - never once ctx has ended, nor after an answer that is not a server
//     error (4xx, a malformed answer, a redirect): trying again would get
//     the same answer;
//   - always after an error that proves the request never reached the
//     server (no connection could be made);
//   - after any other network error or a server error (5xx), always for
//     a GET (reading twice changes nothing), and for a POST only when
//     the server honours Idempotency-Key: on another server a repeated
//     share or generate would store a second secret, and a repeated
//     reveal or burn would answer "Unknown secret" after the first one
//     did its work, its answer lost.
func (c *Client) retry(ctx context.Context, cl *call, err error, wait time.Duration) (time.Duration, bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	// Full jitter around wait, so that clients that failed together do
	// not come back together.
	d := wait/2 + rand.N(wait)
	var ae *APIError
	switch {
	case errors.As(err, &ae):
		if ae.StatusCode < 500 && ae.IntendedStatus < 500 {
			return 0, false
		}
		if ae.RetryAfter > maxRetryAfter {
			return 0, false
		}
		d = max(d, ae.RetryAfter)
	case neverSent(err):
		return d, fits(ctx, d)
	case !errors.As(err, new(*NetworkError)):
		return 0, false
	}
	if !fits(ctx, d) {
		return 0, false
	}
	if cl.method == http.MethodGet {
		return d, true
	}
	return d, c.honoursIdempotency(ctx)
}

// fits reports whether a wait of d ends before ctx's deadline: a wait
// that would outlive it only delays the error.
func fits(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d
}

// neverSent reports whether err proves that the request never reached
// the server: no connection to it (or to the proxy) could be made.
func neverSent(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && (oe.Op == "dial" || oe.Op == "proxyconnect")
}

// honoursIdempotency reports whether the server says, in its status, that
// it honours Idempotency-Key. The status is asked once, when the first
// retry of a POST needs to know, and what it says is kept; it is asked
// with the retries of any GET, since the path that just lost an answer
// may lose this one too. A status that cannot be read means no.
func (c *Client) honoursIdempotency(ctx context.Context) bool {
	switch c.idempotency.Load() {
	case idemYes:
		return true
	case idemNo:
		return false
	}
	body, err := c.send(ctx, &call{method: http.MethodGet, rel: "status", route: "status"})
	if err != nil {
		return false
	}
	s, err := c.decodeStatus(body)
	return err == nil && s.Idempotency
}

// do sends one request of cl and returns the body of a 200 answer.
func (c *Client) do(ctx context.Context, cl *call) ([]byte, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.api+cl.rel, nil)
	if err != nil {
		// Only a malformed base URL gets here, and New checked it.
		return nil, fmt.Errorf("client: %s %s: cannot make the request", cl.method, cl.route)
	}
	if cl.form != nil {
		b := cl.form.Encode()
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// No GetBody: net/http's Transport replays on its own a request
		// whose body it can rewind (or that has none) and that carries
		// an Idempotency-Key, when a reused connection breaks, even after
		// the server acted on it. Whether to send it again is decided by
		// retry, which knows whether the server honours the key.
		req.Body = io.NopCloser(strings.NewReader(b))
		req.ContentLength = int64(len(b))
	}
	if cl.idemKey != "" {
		req.Header.Set("Idempotency-Key", cl.idemKey)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if c.custid != "" {
		req.SetBasicAuth(c.custid, c.token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, netError(cl, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		// checkRedirect refused to follow it.
		return nil, redirectError(cl, res)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil {
		return nil, netError(cl, err)
	}
	if len(b) > maxAnswer {
		return nil, fmt.Errorf("client: %s %s: answer larger than %d bytes", cl.method, cl.route, maxAnswer)
	}
	if res.StatusCode != http.StatusOK || errorIn200(b) {
		return nil, apiError(res, b)
	}
	return b, nil
}

// checkRedirect is the redirect policy of every Client. A POST is never
// redirected: following a 307 or 308 would send the secret, passphrase
// and credentials wherever the answer says, and a 301, 302 or 303 would
// turn a share into a GET whose answer looks like success. A GET is
// redirected only within the server's origin, so that credentials and
// keys stay there.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if via[0].Method != http.MethodGet || originOf(req.URL) != c.origin {
		return http.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// originOf returns scheme://host:port of u, with the default port of the
// scheme made explicit, so that https://h and https://h:443 compare
// equal.
func originOf(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
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

// redirectError makes the error of a redirect that was not followed. The
// Location is resolved against the request and named, with any key,
// value or passphrase of the call cut out.
func redirectError(cl *call, res *http.Response) *RedirectError {
	e := &RedirectError{Method: cl.method, Route: cl.route, StatusCode: res.StatusCode}
	if loc, err := res.Location(); err == nil {
		e.Location = redact(loc.String(), cl)
	}
	return e
}

// netError wraps an error of the transport without the request's URL,
// which holds the key: the url.Error is replaced by a [NetworkError] that
// names the route and keeps the cause. As a last guard, any key, value or
// passphrase sent is cut out of the cause's text.
func netError(cl *call, err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return &NetworkError{Method: cl.method, Route: cl.route, text: redact(err.Error(), cl), err: err}
}

// redact cuts out of text what the call carries that must not appear in
// an error: the path below the API root, the key in it, the values of
// the form, raw and escaped.
func redact(text string, cl *call) string {
	secrets := []string{cl.rel}
	if i := strings.IndexByte(cl.rel, '/'); i >= 0 {
		// The key in secret/KEY, private/KEY, private/KEY/burn.
		secrets = append(secrets, strings.SplitN(cl.rel[i+1:], "/", 2)[0])
	}
	for _, vs := range cl.form {
		secrets = append(secrets, vs...)
	}
	if cl.form != nil {
		secrets = append(secrets, cl.form.Encode())
	}
	for _, s := range secrets {
		if len(s) >= 4 {
			text = strings.ReplaceAll(text, s, "[redacted]")
			if q := url.QueryEscape(s); q != s {
				text = strings.ReplaceAll(text, q, "[redacted]")
			}
			if p := url.PathEscape(s); p != s {
				text = strings.ReplaceAll(text, p, "[redacted]")
			}
		}
	}
	return text
}
