// Package webui serves the pages people use in a browser to share a
// one-time secret, reveal it, read its receipt and burn it, over a
// [onetime.Service]. It is a mountable net/http handler, a sibling of
// package httpapi: embedding programs use either, both or neither, and
// neither imports the other.
//
// # Pages
//
// The pages follow the reference service's URL layout, so that the links
// every v1 client prints (BASE/secret/KEY) open them:
//
//	/                     the share form: secret, passphrase, lifetime and, for
//	                      customers, a recipient; or "generate a password"
//	/private/{key}        the receipt (state, times, the link while unread, burn)
//	/secret/{key}         the confirmation page; its Reveal button shows the value once
//	/recent               a signed-in customer's latest secrets, their states and burns
//
// A GET of /secret/{key} never consumes the secret: chat unfurlers, mail
// scanners and link previewers may fetch it any number of times. Only the
// POST of its form reveals. Unknown, received, burned and expired secrets
// all get the same "gone or never existed" page, with status 404; only
// the wrong passphrase that spends a secret's last attempt is answered
// that too many wrong passphrases destroyed it (the form counts the
// attempts left down before that).
//
// The pages are rendered on the server with html/template; the templates,
// the stylesheet, two small scripts (copy buttons; the zero-knowledge
// mode, below) and an icon are embedded in the binary, and every script
// and stylesheet is loaded with its Subresource Integrity, computed from
// the embedded file at start. Every flow works with JavaScript off. The
// pages speak English and Japanese, chosen by the browser's
// Accept-Language, and follow the system's dark mode.
//
// # Zero-knowledge mode
//
// Where JavaScript runs with WebCrypto, the pages share and reveal in the
// zero-knowledge mode of docs/zero-knowledge.md (format zk1) by default,
// and say so on the form. The form's script (static/zk.js) seals the
// value under a fresh key, derives the verifiers of the proofs (the
// passphrase stretched with PBKDF2 in the browser) and posts the
// ciphertext and the verifiers; the value and the passphrase are never
// posted. The key travels only in the link's fragment
// (BASE/secret/KEY#FRAGMENT), which no request carries: the post carries
// it on its action, the redirect keeps it, and the page after the share
// shows the whole link and keeps the key for that tab only
// (sessionStorage), out of the receipt's address. Elsewhere the receipt
// of such a secret says that its link opens only with the key in the copy
// the sender made. A password generated in this mode is made in the
// browser, by the server's rules, and shared the same way.
//
// The confirmation page of a zero-knowledge secret reads the key from its
// fragment, derives the proofs and posts them itself (fetch: the only
// connection the policy allows, to the handler's origin), then opens the
// value in the page. A visit without the fragment, as a link scanner
// makes, and any post without the proofs consume nothing and spend no
// attempt; a wrong passphrase is counted as in the server-side mode,
// since its proof is wrong. Without JavaScript, or without WebCrypto (a
// page that is no secure context), the form shares in the server-side
// mode and says so; a zero-knowledge link then says that it needs
// JavaScript. A customer's recipient field is hidden in the mode, with
// the reason: the server could only mail a link that does not open, and
// refuses to.
//
// # Mounting
//
//	ui, err := webui.New(svc, &webui.Options{PublicURL: "https://secrets.example.com"})
//	mux.Handle("/", ui)
//
// Under a prefix, set Options.BasePath to it and mount there, without
// http.StripPrefix:
//
//	ui, err := webui.New(svc, &webui.Options{BasePath: "/ots/"})
//	mux.Handle("/ots/", ui)
//
// Every link inside the pages and every redirect is relative, so the pages
// also work behind a reverse proxy that strips a prefix. The links handed
// out to readers are absolute: set Options.PublicURL, or they are built
// from the request's Host header, which is fine only behind a trusted
// proxy.
//
// # Security
//
// Every response carries a Content-Security-Policy that allows only the
// handler's own stylesheet, scripts, icon and connections and forbids
// framing
// ([ContentSecurityPolicy]), Referrer-Policy: no-referrer, Cache-Control:
// no-store (the static files excepted), X-Robots-Tag: noindex and
// X-Content-Type-Options: nosniff. Form posts from other sites are refused
// (http.CrossOriginProtection). Passphrases and values travel only in POST
// bodies; the only secret in a URL is the key that the URL is for. Nothing
// the pages log carries a key, passphrase, value or address.
//
// Guessing is limited by default, as on the API: Options.GuessLimiter (an
// access.GuessLimiter; nil means one of the handler's own, 20 failures at
// once and then one a second; access.NoGuessLimit none) counts per client
// address the pages that only guessing produces (a 401 for credentials
// that do not verify, the confirmation page or reveal of a key that names
// nothing, a wrong passphrase, the receipt of an unknown metadata key),
// and past the budget answers a 429 page with a Retry-After header before
// any work. Options.RateLimiter (off unless set) limits all requests per
// client as httpapi's limits the API. Both are asked before
// authentication; give both handlers the same limiters, so that the pages
// are no way around the API's limits on guessing keys, passphrases and
// tokens. Wrong passphrases also count against the secret's own attempts
// whichever handler they come through. The client address is the
// connection's, or Options.ClientIPHeader's from Options.TrustedProxies
// only.
//
// # Forms
//
// The pages read their forms with the same parser as package httpapi, and
// refuse what the API refuses: a secret that is not UTF-8 text, a lifetime
// that is not a whole number of seconds, a body larger than
// Options.MaxBodySize (by default three times the service's largest
// value, plus 64 KiB). The service clamps a lifetime into its bounds
// alike for both (a negative one to the shortest).
//
// The lifetime menu offers exactly the service's Options.TTLOptions up to
// the caller's maximum, with the default preselected
// (onetime.Service.TTLChoices): what the pages grant by default is what
// the API grants without a ttl. A form posted with a lifetime the menu did
// not offer is not refused: it is clamped as the API clamps any number of
// seconds, so that neither way in gets past the other's limits.
// Options.MaxTTL lowers a caller's maximum as httpapi's option of that
// name does: give both the same one.
//
// A refused share shows the form again, with the field marked and what
// was typed kept (but a passphrase, and a secret that is not text). When
// the service is too busy to take a request in time (onetime.ErrBusy: a
// passphrase derivation waited out the request's deadline), the page asks
// to try again shortly, with status 503 and a Retry-After header; nothing
// was shared or revealed.
//
// Each form that posts (share and generate, reveal, burn) carries a hidden
// random nonce, made when the page was rendered, that its post hands the
// Service as the idempotency key (onetime.WithIdempotencyKey), as the API
// takes an Idempotency-Key header. A browser that posts the same form
// again (a reload of the page the post answered, or a retry after an
// answer lost on the way), with or without JavaScript, gets the same page
// within the Service's ReplayWindow (60 s by default): the value of a
// secret it has just revealed, once more; the same receipt, never a second
// secret; the same generated password. After the window the secret is
// gone as before. A form rendered anew has a new nonce: a new request.
//
// Every post that succeeds answers with a redirect (303) to a page that a
// reload only reads: the receipt. A generated password is shown once, on
// the first visit of that redirect, kept for it in the handler's memory
// for a minute at most; behind a load balancer, the redirect must reach the
// same process (or the creator sees the receipt without the password, which
// its link still opens). A GET of /share or /generate (a restored tab)
// redirects to the form.
//
// Options.AccessLog receives one line per request, as httpapi's option of
// that name does; it may be the same logger.
//
// # Metrics and traces
//
// The handler records every request as httpapi's does (see its package
// doc), with Options.MeterProvider and TracerProvider (the Service's when
// nil), under its own scope (github.com/onetimego/onetime/webui):
// onetime_http_request_duration_seconds by route (GET
// /secret/{secret_key}, never the path) and status, the requests the
// limiters refused, the failed guesses, and a server span per request
// with the Service's spans inside it. A method that is not one of HTTP's
// is named _OTHER, so that made-up methods make no series of their own.
//
// # Customers
//
// With Options.Auth (an access.Authenticator: give it the API's), a
// request's customer is known: customers may name a recipient, whom the
// service's Notifier (see package notify/smtpnotify) sends the link, and
// may choose lifetimes up to the service's MaxTTLAuthenticated.
// Options.SignInRealm adds a sign-in page that asks the browser for HTTP
// Basic credentials (access.BasicAuth reads them), and a sign-out page.
// HTTP Basic has no real sign-out: /signout refuses the credentials with
// the realm's challenge, which makes browsers drop them, but a browser
// that keeps them anyway stays signed in until it is closed (the page
// says so). Each request runs with
// its [onetime.Caller] (customer and client address) in its context.
package webui
