// Package client is a Go client of the Onetime Secret REST API v1: the API
// that package httpapi of this module serves, and that onetimesecret.com
// and its self-hosted deployments serve. It talks HTTP only and imports
// nothing of the server side.
//
// # Use
//
//	c, err := client.New("https://onetimesecret.com", nil)
//	m, err := c.Share(ctx, "hunter2", &client.ShareOptions{TTL: time.Hour})
//	fmt.Println(c.SecretLink(m.SecretKey)) // give this link to the reader
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
// # Retries
//
// Revealing and burning are not idempotent: [Client.Reveal] and
// [Client.Burn] are never retried (a retried reveal could count a second
// passphrase attempt, or report "Unknown secret" for a secret that the
// first attempt revealed). [Client.Status] is retried on network errors
// and server errors (5xx).
//
// # Requests
//
// Parameters travel as an application/x-www-form-urlencoded body, never in
// the query string, so that values and passphrases stay out of access
// logs. Credentials (Options.CustomerID and Options.APIToken) are sent as
// HTTP Basic auth only when set; anonymous use sends no Authorization
// header.
//
// # Leniency
//
// Servers differ: answers are read leniently. Numbers may come as JSON
// numbers or strings, absent or null fields read as zero values, and a
// burn answer may be the v1 shape {"state":{receipt},"secret_shortkey":...}
// or a bare receipt.
package client
