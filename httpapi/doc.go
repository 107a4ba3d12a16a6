// Package httpapi serves the Onetime Secret REST API v1 on net/http over a
// [onetime.Service], so that existing clients of onetimesecret.com (in Go,
// JavaScript, Ruby, Python, Perl and shell) work against it unchanged.
//
// # Mounting
//
// [New] returns an http.Handler for the paths under /api/v1/. Mount it in
// your own mux, or under a prefix with http.StripPrefix; it never touches
// http.DefaultServeMux:
//
//	h, err := httpapi.New(svc, &httpapi.Options{Auth: httpapi.NewBasicAuth(tokens)})
//	mux.Handle("/api/v1/", h)
//	mux.Handle("/secrets/", http.StripPrefix("/secrets", h)) // or /secrets/api/v1/...
//
// # Routes
//
//	GET        /api/v1/status                      {"status":"nominal","locale":"en"}
//	GET        /api/v1/authcheck                   the same, for good credentials
//	POST       /api/v1/share, /api/v1/create       a receipt
//	POST       /api/v1/generate                    a receipt with the generated value
//	POST       /api/v1/secret/{secret_key}         {"value","secret_key","share_domain"}, once
//	GET, POST  /api/v1/private/{metadata_key}      a receipt
//	POST       /api/v1/private/{metadata_key}/burn {"state":{receipt},"secret_shortkey"}
//	GET, POST  /api/v1/private/recent              the caller's receipts, newest first
//
// /metadata/ and /receipt/ are aliases of /private/. Any other path or
// method is the JSON error "Not Found" (never a 405, never plain text).
//
// # Requests
//
// Parameters (secret, ttl, passphrase, recipient, length, share_domain) are
// merged from the query string (also on POST) and the body, the body
// winning. A body may be application/x-www-form-urlencoded (with or
// without a Content-Type: the handler reads the body itself, as Go's
// ParseForm would ignore it), multipart/form-data (file parts included),
// or a JSON object, where ttl and length may be numbers or numeric
// strings. An empty body is no parameters, whatever its Content-Type.
// Form pairs, in the query string and in a body, are separated by '&'
// only, as in the reference service: a ';' belongs to the value. A broken
// percent-escape in a parameter the API reads is refused ("Invalid request
// body", "Invalid query string") rather than dropped, which would store a
// secret without the passphrase its sender meant to set. An empty value
// is the same as an absent one; recipient may be repeated or sent as
// recipient[]. Bodies are bounded with http.MaxBytesReader
// (Options.MaxBodySize).
//
// # Answers
//
// Success is HTTP 200 with a JSON body whose fields come in the order of
// the v1 specification, integers as JSON integers. Receipts are written
// by hand rather than with encoding/json so that order, presence (a
// received secret's receipt has no secret_key) and nulls (secret_ttl once
// the secret is gone) cannot drift.
//
// Every error is HTTP 404 with {"message": ...} (and the secret_key when
// one was in the path), as the reference service does; the header
// X-OTS-Intended-Status carries the status a modern API would use, and
// Options.IntendedStatus sends that status instead. Unknown, received,
// burned and expired keys, and wrong passphrases, all read "Unknown
// secret". Unexpected errors read "An unexpected error occurred" and are
// logged, never shown.
//
// # Authentication, receipts and limits
//
// An [Authenticator] tells who calls; [BasicAuth] checks HTTP Basic
// custid:apitoken against a static table in constant time. Without an
// Authorization header a caller is anonymous; bad credentials, or another
// scheme, are "Not authorized" on every route, never anonymous. Recent
// and authcheck need a customer; Options.RequireAuthToCreate makes
// share and generate need one too.
//
// By default the metadata key is the capability to read and burn a
// receipt. The service's onetime.Options.RestrictReceipts serves the
// receipts of customers to their owner only; the handler passes the
// caller's customer id as the viewer.
//
// A [RateLimiter] (off unless set) limits requests per client address:
// [LocalLimiter] in one process, [RedisLimiter] across app servers sharing
// a Redis. The address is the connection's, or that of a header set by a
// trusted proxy (Options.ClientIPHeader).
//
// # Recipients
//
// Recipient addresses are for customers only. The service validates them,
// stores only their obscured form ("de*****@e*****.com") and hands each
// address to its onetime.Options.Notifier, if any.
//
// # Logging
//
// Each request is logged through log/slog with a request id (also sent as
// X-Request-Id), the route pattern (POST /api/v1/secret/{secret_key},
// never the path itself), the status, the intended status of an error,
// and the duration. Keys, passphrases, values, recipient addresses and
// query strings are never logged.
package httpapi
