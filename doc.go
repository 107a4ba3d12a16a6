// Package onetime is an engine for one-time secrets, as onetimesecret.com
// serves them: a secret is stored sealed, can be revealed exactly once,
// expires by itself, can be burned by its creator before anyone reads it,
// and leaves its creator a receipt that tells whether it was received,
// burned or expired.
//
// # Using it
//
// A [Service] holds the rules and the cryptography; a [Store] keeps the
// sealed records. Pick a store (store/memory for tests and one process,
// store/sqlite for one machine, store/redis or store/postgres for many app
// servers), give the service a server secret, and call it:
//
//	svc, err := onetime.New(store, serverSecret, nil)
//	m, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("s3cret")})
//	// hand m.SecretKey to the reader, keep m.MetadataKey
//	s, err := svc.Reveal(ctx, m.SecretKey, "") // s.Value, once
//	_, err = svc.Reveal(ctx, m.SecretKey, "")  // errors.Is(err, onetime.ErrNotFound)
//
// Share (and Generate, which makes a random password) answers the
// secret's receipt, a [Metadata], holding two keys. The [SecretKey] is the
// reader's: [Service.Reveal] returns the [Secret] once and destroys it,
// and [Service.Check] tells, without consuming it, whether it is there and
// needs a passphrase. The [MetadataKey] is the creator's:
// [Service.Receipt] reads the receipt and [Service.Burn] destroys the
// secret while it is unread. The two are distinct types, so one cannot be
// passed where the other belongs; convert a key that arrives as text with
// onetime.SecretKey(s) or onetime.MetadataKey(s). Both are bearer
// capabilities: 56 characters of [0-9a-z], at least 256 bits of them
// random, that no error or log line of this package carries.
//
// A receipt's [State] moves one way: new, then viewed, then received or
// burned. Receipt answers the receipt as it stood before the read, and
// moves a new one to viewed in the same step: the first read of a shared
// secret's receipt says new, every later one viewed, as in the reference
// service. The answer to Generate says new too, but a generated
// password's receipt is stored as viewed, so every read of it says
// viewed: its creator has seen the value. A receipt whose secret vanished
// unread says expired (its TTL ran out) or orphaned (it vanished before,
// e.g. evicted by Redis). The receipt lives twice as long as the secret.
// [Service.Recent] lists a customer's latest receipts without moving any
// of them.
//
// # Serving it over HTTP
//
// The Service speaks Go, not HTTP. Package httpapi serves the Onetime
// Secret REST API v1 on a Service, and package webui the pages people use
// in a browser; both are net/http handlers to mount in a program's own
// mux. Package client is the Go client of any v1 server.
//
// # Lifetimes
//
// One policy sets every secret's lifetime, whatever the way in: the
// Service's Share and Generate, the API of package httpapi, the pages of
// package webui. A lifetime asked for is clamped into [Options.MinTTL,
// the caller's maximum] (Options.MaxTTL for anonymous callers,
// Options.MaxTTLAuthenticated for customers, lowered further by a
// ShareRequest's MaxTTL, never raised) in whole seconds; none asked means
// Options.DefaultTTL, clamped the same way. Options.TTLOptions are the
// lifetimes a front end offers: [Service.TTLChoices] tells which of them
// a caller may choose, and the default among them. The pages offer those
// and nothing else; a v1 client may still ask for any number of seconds,
// which is clamped as above, and so is a form posted with a lifetime the
// pages did not offer. A caller cannot get past its ceiling by another
// way in.
//
// # Testing code that embeds it
//
// Package onetimetest makes a Service on the memory store with a clock the
// test moves, and closes it when the test ends, so that expiry is tested
// without sleeping:
//
//	svc, clock := onetimetest.NewService(t, nil)
//	m, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v"), TTL: time.Minute})
//	clock.Advance(time.Minute)
//	_, err := svc.Reveal(ctx, m.SecretKey, "") // errors.Is(err, onetime.ErrNotFound)
//
// Outside it, Options.Now is the service's clock: every time a Store sees
// comes from it.
//
// # Sweeping
//
// Expiry never waits for a sweep: a secret is gone to every caller the
// instant its TTL runs out. Sweeping only reclaims the space that expired
// records hold. New starts no goroutine by default; the memory store
// reclaims a few expired records as it takes new ones, and Redis expires
// keys by itself. For a store that keeps expired records until swept
// (store/sqlite, store/postgres), call [Service.Sweep] from a job of your
// own, or set Options.SweepInterval for a goroutine that does so until
// [Service.Close]. [Service.Ping] checks that the store answers, for a
// health check, and returns by its deadline (a second without one)
// whatever the store does.
//
// # Callers
//
// Who a request comes from travels in its context: [WithCaller] attaches
// a [Caller], the authenticated customer ("" when anonymous) and the
// client's network address, and [CallerFrom] reads it. Packages httpapi
// and webui do so for every request they serve. The Service reads it for
// two things only:
//
//   - With Options.RestrictReceipts, Receipt and Burn serve a customer's
//     receipt only to that customer; anyone else gets [ErrNotFound] and the
//     receipt does not move. By default the metadata key alone is the
//     capability.
//   - A passphrase costs a deliberately slow derivation (argon2id, 19 MiB),
//     and at most Options.KDFConcurrency run at once. Waiting derivations
//     are served in turn per client address (or customer), so one client
//     guessing passphrases delays another's reveal by about one derivation,
//     not by its whole queue. A guess on a key that names nothing, or on a
//     secret whose attempts are spent, costs a store lookup and no
//     derivation. A request whose deadline passes while it waits gets
//     [ErrBusy]: retry later.
//
// # Metrics and traces
//
// The Service records metrics and spans through the OpenTelemetry API,
// with the providers given in Options.MeterProvider and
// Options.TracerProvider, or the global ones (otel.SetMeterProvider)
// when these are nil. Until a program installs an SDK the API records
// nothing, at the cost of a few function calls: the library takes no side
// on where the numbers go. With go.opentelemetry.io/otel/exporters/prometheus
// the instruments show as below (OpenTelemetry's dots become underscores,
// the unit s becomes _seconds, counters end in _total); their scope is
// [ScopeName].
//
//	onetime_operation_duration_seconds{operation, outcome} calls of the Service's methods
//	onetime_store_duration_seconds{method, outcome}        the Service's calls into its Store
//	onetime_store_errors_total{method, error_type}         those that failed
//	onetime_receipt_reads_total{state}                     receipts read, by the state they reported
//	onetime_sweep_removed_total                            records that sweeps removed
//	onetime_kdf_waiting, onetime_kdf_running               passphrase derivations waiting, running
//	onetime_kdf_wait_duration_seconds{outcome}             a derivation's wait for its slot
//	onetime_kdf_duration_seconds                           a derivation (argon2id)
//	onetime_notifications_total{outcome}                   notifications sent, failed, dropped
//	onetime_notifications_queued                           notifications waiting for a worker
//
// operation is share, generate, reveal, check, receipt, burn, recent, sweep
// or ping; method is the Store's (create, reveal, peek, receipt, view, burn,
// recent, sweep); outcome names the error's sentinel: ok, not_found,
// wrong_passphrase, exists, too_large, invalid, busy, closed, canceled,
// deadline_exceeded, or error for any other. A histogram's _count counts
// the calls: onetime_operation_duration_seconds_count{operation="share",
// outcome="ok"} is the secrets shared. A store error is a call that
// failed: not found, wrong passphrase and exists are answers, not errors.
// What the Service can tell of secrets that expired unread is what their
// receipts say when read: onetime_receipt_reads_total{state="expired"}
// against {state="received"} (a receipt read twice counts twice); the
// secrets received are the reveals whose outcome is ok.
//
// Every method call is a span (onetime.share, onetime.reveal, ...), and
// every call it makes into the Store a client span inside it
// (onetime.store.create, ...), as is every passphrase derivation
// (onetime.kdf, with an event when it gets its slot). Inside a span that
// is not recorded (no SDK, or a request the sampler left out) none is
// made: it would not be recorded either. A no-op TracerProvider
// (go.opentelemetry.io/otel/trace/noop) turns spans off altogether, at no
// cost; the global provider without an SDK still makes unrecorded spans,
// at a small one. A span carries its
// outcome (onetime.outcome) and, when it failed, error.type and an error
// status; an answer such as not found is not an error.
//
// No metric or span carries a key, an id, a customer, an address, a
// passphrase or a value: every attribute is one of the fixed names above.
// Packages httpapi and webui record the requests they serve likewise, each
// a span with the Service's inside it.
//
// # Zero-knowledge secrets
//
// In the server-side mode above, the service sees each value while it
// seals it. In the zero-knowledge mode it never does: the sender's client
// seals the value with package zk under a fresh key that travels only in
// the link's fragment (BASE/secret/SECRETKEY#KEY), and shares the
// ciphertext with the verifier of the proofs that will open it:
//
//	key, _ := zk.NewKey()
//	d, _ := zk.Derive(key, passphrase) // "" for none; PBKDF2 when given
//	sealed, _ := d.Seal(value)
//	v := d.Verifier()
//	m, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte(sealed), Verifier: &v})
//	link := base + "/secret/" + string(m.SecretKey) + "#" + key.Fragment()
//
// The reader derives the same proof from the fragment (and the
// passphrase), and [Service.RevealProof] consumes the secret only for it:
// a reveal without the key (a link scanner, a chat unfurler, a plain v1
// client) answers [ErrNotFound] and changes nothing, and a wrong
// passphrase is counted as in the server-side mode. docs/zero-knowledge.md
// specifies the format (zk1) and its extensions of the v1 API, which
// packages httpapi, webui and client speak.
//
// # Guarantees
//
//   - Exactly once: among any number of concurrent readers of one secret,
//     across processes sharing a store, at most one gets the value. A burn
//     and a reveal race cleanly: one wins and the receipt says which.
//   - Wrong passphrases never consume a secret; they are counted, and the
//     attempt that reaches Options.MaxAttempts burns it. A reveal whose
//     context ends before it reaches the store consumes nothing, and the
//     store consumes nothing after the context's deadline, however late
//     it answers: a secret is consumed only while its answer can still
//     reach the caller.
//   - Delivered once to the caller, not only to the store: a call made
//     with an idempotency key ([WithIdempotencyKey]) and repeated with it
//     within Options.ReplayWindow (a minute) gets the first answer again:
//     the same value for Reveal though the secret is gone, the same
//     receipt for Share, Generate and Burn, never a second secret. A
//     caller whose answer was lost on the way can so ask again. What the
//     store keeps for that window is sealed, and gone after it.
//   - Expiry is exact: a secret is gone when !now.Before(expiresAt), by the
//     service's clock, whether or not the store has removed it yet, and no
//     state change extends a lifetime.
//   - Stores see no plaintext: ids are keyed hashes of the keys, values and
//     receipts are sealed with keys derived from the keys themselves. See
//     SECURITY.md for the threat model.
//   - Errors are sentinels for [errors.Is] ([ErrNotFound],
//     [ErrWrongPassphrase], [ErrTooLarge], [ErrInvalid], [ErrBusy],
//     [ErrClosed]), never to be matched by text; rejected input is an
//     [*InputError], found with [errors.As], whose Message suits the
//     caller. One rule makes every text: a method of the Service puts
//     "onetime: " and its own name before whatever went wrong, once
//     ("onetime: reveal: not found", "onetime: share: Invalid TTL",
//     "onetime: reveal: sqlite: store closed"), and no text carries a
//     key, passphrase or value. Report [ErrWrongPassphrase] to untrusted
//     callers exactly like [ErrNotFound].
//
// # Writing a Store
//
// Only a backend's author needs what follows. A backend implements the
// [Store] interface, whose doc comments are its contract. It sees records
// as [SealedSecret] and [SealedMetadata], named by an [ID] whose
// [ID.Slot] (the first [SlotLen] characters) a secret shares with its
// receipt, so that a partitioned store keeps a pair together; it answers
// Peek with a [SecretInfo]; it returns [ErrExists] when Create meets an
// id already stored; and it holds attempt counts up to
// [MaxAttemptsLimit]. Its Create refuses, writing nothing, a pair that
// [CheckPair] refuses. Reveal and Burn given a [Replay] record their
// answer in the same atomic step as their change and give it again to a
// repeat; they change nothing after their context's deadline, checked
// where the change happens (see the Store's doc). It returns the
// sentinels as they are or wrapped with %w in its own words
// ("mystore: %w"), never with a "onetime:" prefix or a method name: the
// Service adds both, once. The conformance suite in package
// store/storetest is the definition of a correct Store, and a backend
// runs it with one line in its tests:
//
//	storetest.Run(t, func(t *testing.T) onetime.Store { return mystore.New(...) })
package onetime
