// Package httpapi serves the Onetime Secret REST API v1 on net/http over a
// [onetime.Service], so that existing clients of onetimesecret.com (in Go,
// JavaScript, Ruby, Python, Perl and shell) work against it unchanged.
//
// # Mounting
//
// [New] returns a [Handler] for the paths under Options.BasePath
// (/api/v1/ by default). It never touches http.DefaultServeMux. Mount it
// in your own mux in one of three ways:
//
//	h, err := httpapi.New(svc, &httpapi.Options{Auth: access.NewBasicAuth(tokens)})
//	mux.Handle("/api/v1/", h)                                // at the default base path
//	mux.Handle("/secrets/", http.StripPrefix("/secrets", h)) // /secrets/api/v1/...
//
//	h, err := httpapi.New(svc, &httpapi.Options{BasePath: "/ots/api/v1/"})
//	mux.Handle("/ots/api/v1/", h)                            // under a prefix, no StripPrefix
//
// Register the mount pattern without a method, as above: the handler
// answers every method itself, with v1's JSON errors. ServeMux refuses (it
// panics) a pattern such as "/ots/api/v1/" beside an application's own
// "GET /", as neither is more specific than the other; register the
// application's catch-all as "/" (or both with methods).
//
// A request that reaches the handler outside its base path is answered
// with the JSON error "Not Found", and the first one logs a warning
// (once), as it usually means the handler is mounted wrong.
//
// The handler never redirects. Paths that are not clean are routed as
// their cleaned form: /api/v1//status and /api/v1/./status are the
// status, /api/v1 alone is "Not Found". An http.ServeMux in front of it,
// however, answers such paths itself with a 301 or 307 redirect before
// the handler runs, and many clients resend a redirected POST as a GET or
// not at all. When that matters (clients configured with a base URL
// ending in a slash send //status), put [Handler.Wrap] in front of the
// mux: it hands every request whose cleaned path is under the base path
// to the API and everything else to the mux:
//
//	srv := &http.Server{Handler: h.Wrap(mux), MaxHeaderBytes: httpapi.RecommendedMaxHeaderBytes}
//
// # Routes
//
//	GET        /api/v1/status                      {"status":"nominal","locale":"en","idempotency":true,"zero_knowledge":["zk1"]}
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
// # Health and readiness
//
// GET /api/v1/status checks that the store answers (the Service's Ping,
// bounded by Options.HealthTimeout, 1 s by default, whatever the store
// does: a stalled Redis or database makes it offline, not slow): while it
// does, the answer is the v1 body above; when it does not, the body is
// {"status":"offline","locale":"en",...} with the intended status 503
// (sent as 404 unless Options.IntendedStatus, like every error).
// Orchestrators probe [ReadyHandler] instead, mounted on a path of its own
// (mux.Handle("GET /readyz", httpapi.ReadyHandler(svc))): 200 while the
// store answers, 503 otherwise, within the same second.
//
// Both status bodies start with v1's "status" and "locale", byte for byte;
// "idempotency":true follows when the Service honours Idempotency-Key
// (onetime.Options.ReplayWindow above zero, as by default), then
// "zero_knowledge":["zk1"] (see Zero-knowledge links). v1 clients read
// "status" and ignore the rest.
//
// # Zero-knowledge links
//
// The handler serves the wire extensions of docs/zero-knowledge.md
// (format zk1), which reference clients never send. A share (or create)
// with proof_verifier, and passphrase_verifier when the sender set a
// passphrase, stores a value that the sender sealed with a key the
// server never sees (onetime.ShareRequest.Verifier); it is refused with a
// message (intended status 400) when a verifier is malformed, when
// passphrase is also given (it would reach the server in clear), when
// recipients are given (the server could only mail a link that does not
// open) and when secret is not a zk1 value. A reveal with proof, and
// passphrase_proof for a secret with a passphrase, is served by
// onetime.Service.RevealProof; passphrase beside a proof is refused (400).
// A zero-knowledge secret revealed without its proof, or with a proof of
// another key (or a malformed one), is answered exactly as an unknown
// secret, byte for byte, and is left as it was: a link scanner that has
// the link without its fragment consumes nothing, nor spends an attempt.
// A right proof with a wrong or missing passphrase proof is a wrong
// passphrase: counted, and answered "Unknown secret". Idempotency-Key
// works on both as on their v1 forms. The verifiers and proofs are
// request parameters like the others: never logged.
//
// # Idempotency-Key
//
// POST share (create), generate, secret/{secret_key} and
// private/{metadata_key}/burn take an Idempotency-Key header (the IETF
// httpapi draft's name), passed to the Service (onetime.WithIdempotencyKey).
// A repeat of the request with the same key within the Service's
// ReplayWindow (60 s by default) gets the first answer: the same receipt
// for a share or generate (never a second secret; the same password for
// generate), the same value for a reveal although the secret is gone, the
// same burned receipt for a burn. A client whose answer was lost on the
// way (a connection cut after the server acted) can so send the request
// again without losing the secret or storing it twice. The key is sent as
// the draft's quoted string (`"8e03978e-..."`, as package client does) or
// bare: 1 to 255 visible ASCII characters either way (inside the quotes
// also spaces, and \" and \\ escapes). A header that holds no such key,
// or that is sent twice, is refused: "Invalid Idempotency-Key: send 1 to
// 255 visible ASCII characters, bare or as a quoted string" (intended
// status 400). Requests without the header, as every v1 client sends
// them, are served as always.
//
// # Requests
//
// Parameters (secret, ttl, passphrase, recipient, length, share_domain,
// and the zero-knowledge fields) are
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
// recipient[].
//
// A secret value must be UTF-8 text ("Secret value must be UTF-8 text"
// otherwise), whichever way it comes: JSON strings are read byte for byte
// rather than repaired, so invalid UTF-8 or a lone surrogate escape
// ("\ud800") in a JSON body is refused as the same bytes in a form are.
//
// # Limits on what a request may hold
//
// Bodies are bounded with http.MaxBytesReader (Options.MaxBodySize,
// answered as a value too large). JSON bodies are read as a stream that
// keeps only the parameters above: at most 256 members (the elements of
// an array under one of those names counted too) and 32 levels of nesting
// ("Invalid request body" beyond), the values of other names scanned and
// dropped unbuilt, so a request costs memory in proportion
// to its body at most, however it is shaped. Multipart bodies are bounded
// to 100 parts.
//
// The query string is bounded by Options.MaxQueryBytes, by default
// [RecommendedMaxHeaderBytes] (64 KiB): a longer one is answered "Query
// string too long: send parameters in the request body" (intended status
// 414). Set http.Server.MaxHeaderBytes to RecommendedMaxHeaderBytes too,
// so that headers cannot hold more; a request beyond the server's bound
// gets net/http's own plain-text 431 before the handler runs. Values
// larger than some 20 KiB (percent-encoded, a byte may take three) must
// therefore come in the body.
//
// # Answers
//
// Success is HTTP 200 with a JSON body whose fields come in the order of
// the v1 specification, integers as JSON integers, with a field present or
// null exactly where the specification says (a received secret's receipt
// has no secret_key; secret_ttl is null once the secret is gone). The
// first read of a receipt answers its state before that read ("new" for a
// shared secret) and later reads "viewed". The answer to generate says
// "new" as the reference's does, but its creator has seen the value, so
// every read of its receipt says "viewed".
//
// Every error is HTTP 404 with {"message": ...} as the reference service
// does, plus the key from the path as "secret_key" on the routes that
// have one (the metadata key, on the receipt and burn routes, as the
// reference does too); the header X-OTS-Intended-Status carries the
// status a modern API would use, and Options.IntendedStatus sends that
// status instead. Unknown, received, burned and expired keys, and wrong
// passphrases, all read "Unknown secret". Unexpected errors read "An
// unexpected error occurred", carry no key, and are logged, never shown.
// A request that runs out of time waiting for or running a passphrase
// derivation (onetime.ErrBusy) reads "The server is busy: please try
// again shortly", intended status 503, with a Retry-After header: nothing
// was stored or consumed, and the same request may be sent again.
//
// # Authentication, receipts and limits
//
// Options.Auth, an [access.Authenticator], tells who calls;
// [access.BasicAuth] checks HTTP Basic custid:apitoken against a static
// table in constant time. Without an Authorization header a caller is
// anonymous; bad credentials, or another scheme, are "Not authorized" on
// every route, never anonymous. Recent and authcheck need a customer;
// Options.RequireAuthToCreate makes share and generate need one too.
//
// Every request's context carries the caller (onetime.WithCaller): the
// customer, and the client address (the connection's, or that of a
// header, Options.ClientIPHeader, believed only from the proxies of
// Options.TrustedProxies; IPv6 grouped by /64). The Service reads the customer for onetime.Options.RestrictReceipts
// (receipts of customers served to their owner only), and queues
// passphrase checks fairly per address.
//
// Guessing is limited by default. Options.GuessLimiter, an
// [access.GuessLimiter], counts per client address what only guessing
// produces: "Not authorized" for credentials that do not verify, and
// "Unknown secret" on a reveal (an unknown key or a wrong passphrase), a
// receipt or a burn. Past a budget (by default 20 failures at once, then
// one a second) the address is refused before any work, "Cripes! You have
// been rate limited." (intended status 429) with a Retry-After header,
// until the budget refills. Successes cost nothing: a client that shares
// and reveals thousands of secrets a second never meets the limit.
// access.NoGuessLimit turns it off.
//
// Options.RateLimiter, an [access.RateLimiter] (off unless set), limits
// all requests per client address, before authentication. Package
// github.com/onetimego/onetime/ratelimit has both limiters for a single
// process, and its redislimit subpackage both shared by every app server
// on a Redis.
//
// Package webui, the pages people use in a browser, takes the same
// Authenticator, limiters, client address rule and access log, and reads
// its forms with the same parser: give it the same ones, so that a client
// is one client to both and the pages are no way around the API's limits.
//
// # Recipients
//
// Recipient addresses are for customers only. The service validates them,
// stores only their obscured form ("de*****@e*****.com") and hands each
// address to its onetime.Options.Notifier, if any.
//
// # Logging
//
// Options.Logger (slog.Default when nil) receives what needs attention:
// unexpected errors, a store failing the status check, a failing rate
// or guess limiter, the warning about requests outside the base path. A request
// ended by its caller (the client went away, or the deadline the caller's
// context set passed) is not a server error: it is answered as before and
// logged at debug level only.
//
// Request lines are opt-in: set Options.AccessLog to receive one INFO line
// per request with a request id (a UUIDv7, also sent as X-Request-Id), the
// route pattern (POST /api/v1/secret/{secret_key}, never the path itself),
// the status, the intended status of an error, the customer and the
// duration. Keys, passphrases, values, recipient addresses and query
// strings are never logged. Each line is one call of the logger's handler:
// under load, give the access log a handler whose writer batches lines
// (cmd/onetime-server does) rather than one that makes a write system call
// per request.
//
// # Metrics and traces
//
// The handler records every request through the OpenTelemetry API, with
// Options.MeterProvider and TracerProvider (the Service's when nil: the
// global ones, unless the Service was given its own). The API records
// nothing until the program installs an SDK. With the Prometheus exporter
// the instruments show as
//
//	onetime_http_request_duration_seconds{route, status}  requests, by route and intended status
//	onetime_http_rate_limited_total{limiter}              refused by the rate limiter ("rate") or the guess limiter ("guess")
//	onetime_http_failed_guesses_total                     failed guesses counted against the guess limit
//
// route is the route pattern as the access log names it (POST
// /api/v1/secret/{secret_key}, or unrouted), never the path; status is the
// intended status (the X-OTS-Intended-Status of an error sent as 404); the
// histogram's _count counts the requests. Every request is a server span
// named by its route, inside the caller's trace when the program's
// propagator (otel.SetTextMapPropagator) finds one in the headers, with
// the Service's spans inside it (see package onetime). No metric or span
// carries a key, a token, a customer, an address or a value.
package httpapi
