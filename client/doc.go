// Package client is a Go client of the Onetime Secret REST API v1: the API
// that package httpapi of this module serves, and that onetimesecret.com
// and its self-hosted deployments serve. It talks HTTP only and imports
// nothing of the server side.
//
// # Use
//
//	c, err := client.New("https://onetimesecret.com", nil)
//	m, err := c.Share(ctx, "hunter2", &client.ShareOptions{TTL: time.Hour})
//	fmt.Println(m.Link) // give this link to the reader
//	s, err := c.Reveal(ctx, "https://onetimesecret.com/secret/KEY", "")
//
// The base URL is the site (links are BASE/secret/KEY); the API is
// expected under BASE/api/v1/. A base URL that already ends in /api/v1 is
// taken as the API itself.
//
// # Keys and links
//
// A [SecretKey] reveals a secret once; a [MetadataKey] reads its receipt
// and burns it. They are distinct types, so that one cannot be passed where
// the other belongs. Where a user would paste one, a method also takes the
// whole link as the value of the key type: BASE/secret/KEY for a secret,
// BASE/private/KEY (or /receipt/KEY, /metadata/KEY) for a receipt, on any
// host (secrets may be shared on a custom domain).
// Keys are bearer capabilities: no error of this package carries a key, a
// value or a passphrase in its text.
//
// An answer to share or generate must carry two distinct keys (and
// generate a value), and every key answered must be a key: anything else
// is [ErrMalformedAnswer], never a link to nowhere.
//
// # Zero-knowledge links
//
// A server that says in its status that it takes zero-knowledge shares
// ("zero_knowledge":["zk1"], as httpapi does; docs/zero-knowledge.md in
// the module) never sees what this client shares with it: Share seals the
// value here with AES-256-GCM under a fresh 256-bit key (package zk), and
// sends the ciphertext with verifiers of two proofs, one of the key and
// one of the passphrase, which is derived here (PBKDF2) and never sent.
// The key travels only in the link's fragment,
// BASE/secret/KEY#FRAGMENT, which browsers never send to a server:
// [Metadata].Link carries it, and is the link to give the reader; the
// secret key alone opens nothing. Generate makes the password here and
// shares it the same way. Reveal, given such a link, derives the proofs
// here, presents them and opens the answer here ([Client.RevealWithKey]
// takes the key apart). The pages' links open with it, and its links in
// the pages.
//
// The server consumes such a secret only for a reader who presents the
// key's proof: a reveal without the fragment (a link scanner, a chat
// preview) is answered [ErrNotFound] and changes nothing; with the key
// and a wrong passphrase, the attempt is counted as in the server-side
// mode.
//
// The client asks the status once, before its first share, and keeps
// what it says ([Client.ZeroKnowledge]). A server that does not list
// zk1 (the reference service, older servers) gets every share as v1
// clients send it, and links without a fragment. Options.Plain keeps the
// server-side mode with any server: set it to have the server e-mail
// links (a server cannot mail a link whose key it never sees, so Share
// refuses recipients in the zero-knowledge mode), or for a program that
// makes its links from secret keys.
//
// # Errors
//
// The v1 API answers every error alike (HTTP 404 with a JSON message,
// the intended status in the X-OTS-Intended-Status header). Errors of this
// package are matched with errors.Is: [ErrNotFound] for "Unknown secret"
// (unknown, already read, burned, expired, or a wrong or missing
// passphrase: the API does not tell them apart), [ErrUnauthorized] and
// [ErrRateLimited]. Every error answered by the server is an [*APIError]
// with the server's message and statuses. Network errors keep their chain
// (errors.Is(err, context.DeadlineExceeded) works) but not the request's
// URL, which holds a key.
//
// # Retries and Idempotency-Key
//
// Every share, generate, reveal and burn carries an Idempotency-Key
// header (the IETF httpapi draft's name), a fresh random UUID per call,
// the same on each try of that call. A server that honours it answers a
// repeat within its window with the first answer: the same value for a
// reveal, the same receipt for a share, never a second secret. Servers
// that do not (the reference) ignore the header.
//
// A call is tried at most Options.MaxAttempts times (5 by default), with
// a backoff from about 200 ms that doubles, with jitter, honouring the
// context and a server's Retry-After of up to 10 s. It is tried again
// only where that cannot change the outcome:
//
//   - never after an answer that is not a server error: 4xx (a wrong
//     passphrase, "Unknown secret", a rate limit), a malformed answer,
//     a redirect;
//   - always after an error that proves the request never reached the
//     server (no connection could be made);
//   - after any other network error (a connection cut, a timeout) or a
//     server error (5xx): a GET (status, receipt, recent) always; a POST
//     only when the server says in its status that it honours
//     Idempotency-Key ("idempotency": true). Elsewhere a repeated share or
//     generate would store a second secret, and a repeated reveal or burn
//     would answer "Unknown secret" after the first try did its work, its
//     answer lost. The client asks the status once, at the first such
//     failure, and keeps what it says; [Client.Status] refreshes it.
//
// For the same reason no POST gives net/http a body it could replay on
// its own (the Transport replays a request that carries an
// Idempotency-Key when a reused connection breaks): a POST without
// parameters sends "passphrase=", which v1 servers read as none.
//
// # Requests
//
// Parameters travel as an application/x-www-form-urlencoded body, never in
// the query string, so that values, passphrases and proofs stay out of
// access logs. A link's fragment is never sent. Each try is bounded by Options.Timeout ([DefaultTimeout], a
// minute, unless set).
//
// # Credentials, origins and redirects
//
// Credentials (Options.CustomerID and Options.APIToken) are sent as HTTP
// Basic auth only when set, and only to the origin (scheme, host and
// port) of the base URL: a key given as a link is sent, alone, to the
// client's server, whatever host the link names; [Client.SameOrigin]
// tells a program whether a link is on that server. The client follows
// no redirect of a POST: following a 307 would send the secret,
// passphrase and credentials wherever the answer points, and a 302 would
// turn a share into a GET. A GET is redirected within the origin only.
// Any other redirect is a [*RedirectError] that names the Location.
//
// # Leniency
//
// Servers differ: answers are read leniently. Numbers may come as JSON
// numbers or strings, absent or null fields read as zero values, and a
// burn answer may be the v1 shape {"state":{receipt},"secret_shortkey":...}
// or a bare receipt.
package client
