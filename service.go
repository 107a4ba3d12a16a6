package onetime

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/onetimego/onetime/zk"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Defaults for the zero fields of [Options], and the length of a generated
// password whose request names none.
const (
	DefaultTTL                 = 7 * 24 * time.Hour
	DefaultMinTTL              = time.Minute
	DefaultMaxTTL              = 7 * 24 * time.Hour
	DefaultMaxTTLAuthenticated = 30 * 24 * time.Hour
	DefaultMaxSize             = 1 << 20
	DefaultMaxAttempts         = 10
	DefaultRecentLimit         = 100
	DefaultPasswordLength      = 12
	DefaultReplayWindow        = time.Minute
	DefaultPingTimeout         = time.Second
)

// Limits that no option changes.
const (
	// MaxPassphraseLen is the longest passphrase, in characters.
	MaxPassphraseLen = 128
	// MinPasswordLength and MaxPasswordLength bound generated passwords.
	MinPasswordLength = 4
	MaxPasswordLength = 128
	// MaxRecipients bounds the recipients of one secret.
	MaxRecipients = 10
)

// maxTTLBound is the longest TTL the options may allow: ten years.
const maxTTLBound = 10 * 365 * 24 * time.Hour

// Options configure a [Service]. A nil *Options, and every zero field,
// means the default.
type Options struct {
	// Now is the service's clock; nil means time.Now. Stores never read a
	// clock: every time they see comes from here.
	Now func() time.Time

	// DefaultTTL is the lifetime of a secret shared without one: 7 days,
	// or with TTLOptions set, the longest of them up to 7 days and
	// MaxTTL (the shortest if none is). Each kind of caller gets it
	// clamped to its maximum, which must be one of TTLOptions: what the
	// pages preselect is what the API grants by default.
	DefaultTTL time.Duration
	// MinTTL, MaxTTL and MaxTTLAuthenticated clamp requested lifetimes:
	// 1 minute, 7 days for anonymous callers, 30 days for customers.
	// Every way in (Share, Generate, httpapi, webui) clamps the same way;
	// see "Lifetimes" in the package doc.
	MinTTL, MaxTTL, MaxTTLAuthenticated time.Duration
	// TTLOptions are the lifetimes a front end offers to choose from
	// (webui's menu), in whole seconds, shortest first, without repeats,
	// each within [MinTTL, the larger maximum]; a caller is offered those
	// up to its own maximum ([Service.TTLChoices]). They do not restrict
	// the API: a v1 client may ask for any lifetime, clamped. Empty means
	// MinTTL, each kind of caller's maximum and default, and those of 5
	// and 30 minutes, 1, 4 and 12 hours, 1, 3, 7, 14 and 30 days that lie
	// between.
	TTLOptions []time.Duration

	// MaxSize is the largest value in bytes (1 MiB). Larger values are
	// rejected, never truncated.
	MaxSize int
	// MinPassphraseLen is the shortest passphrase in characters (1).
	MinPassphraseLen int
	// MaxAttempts is the number of wrong passphrases that burns a secret (10).
	MaxAttempts int
	// RecentLimit bounds the receipts that Recent returns (100).
	RecentLimit int

	// ReplayWindow is how long a call made with an idempotency key (see
	// [WithIdempotencyKey]) is answered again, rather than done again,
	// when it is repeated with the same key: the same receipt for Share
	// and Generate, the same value for Reveal, the same receipt for Burn
	// (1 minute, or twice MinTTL if less). The store keeps what it needs
	// for that long, sealed. Negative turns idempotency off: keys are then
	// ignored. It may not exceed twice MinTTL, the least lifetime of a
	// receipt, which is what tells a repeated share from a new one.
	ReplayWindow time.Duration

	// RestrictReceipts, when set, serves the receipt of a customer's
	// secret only to that customer. By default the metadata key alone is
	// the capability, as in the reference service.
	RestrictReceipts bool

	// KDFConcurrency bounds how many passphrase derivations (argon2id, 19
	// MiB each) run at once; others wait, in turn per client, and a
	// request whose deadline passes while it waits gets [ErrBusy].
	// Default: half of GOMAXPROCS, at least 1, so that a burst of
	// passphrase guesses leaves CPU for every other request.
	KDFConcurrency int

	// SweepInterval, when positive, makes New start a goroutine that calls
	// [Service.Sweep] at that interval until [Service.Close]; it then calls
	// Now from that goroutine too, so Now must be safe for concurrent use.
	// Zero (the default) starts nothing: call Sweep yourself, or leave it
	// to a store that reclaims expired records by itself (the memory store
	// does so as it takes new ones, Redis by its own expiry).
	SweepInterval time.Duration

	// Notifier, when set, is told of every recipient of a new secret,
	// after the secret is stored and off the request path: Share answers
	// without waiting for it (see [Notifier]).
	Notifier Notifier
	// Notify tunes the queue of notifications: workers, size, retries,
	// and how long Close waits for it. Nil means the defaults of
	// [NotifyOptions].
	Notify *NotifyOptions
	// Logger receives operational errors (sweeps, notifications, receipts
	// that do not open); nil means slog.Default(). Nothing logged carries
	// a key, passphrase, value or recipient address.
	Logger *slog.Logger

	// MeterProvider makes the instruments that the Service records its
	// metrics with (see "Metrics and traces" in the package doc); nil
	// means otel.GetMeterProvider(), the global provider, which records
	// nothing until the application installs one. A test or a program
	// that keeps its providers out of globals passes its own.
	MeterProvider metric.MeterProvider
	// TracerProvider makes the tracer of the Service's spans, one per
	// method call and one per call into the Store; nil means
	// otel.GetTracerProvider(), as for MeterProvider. A no-op provider
	// (go.opentelemetry.io/otel/trace/noop) turns spans off at no cost.
	TracerProvider trace.TracerProvider
}

// Service is the one-time-secret engine. It owns every rule and all
// cryptography and keeps its records in a [Store]. It is safe for
// concurrent use.
type Service struct {
	store Store // measured: every call is a span and a duration (measuredStore)
	seal  *sealer
	opts  Options
	log   *slog.Logger
	tel   *instruments

	stop     context.CancelFunc
	sweeping sync.WaitGroup
	notes    *notifyQueue // nil without a Notifier
}

// New returns a Service that keeps its records in store, sealed with keys
// derived from secret (at least [MinServerSecretLen] bytes of high
// entropy, kept outside the store). The same secret must be given to every
// Service sharing a store, and on every restart: records sealed under
// another secret cannot be found or opened.
//
// New starts no goroutine unless Options.SweepInterval asks for a
// sweeper, or Options.Notifier for the workers that send notifications;
// [Service.Close] stops them.
func New(store Store, secret []byte, opts *Options) (*Service, error) {
	if store == nil {
		return nil, errors.New("onetime: nil Store")
	}
	if len(secret) < MinServerSecretLen {
		return nil, fmt.Errorf("onetime: the server secret must be at least %d bytes, got %d", MinServerSecretLen, len(secret))
	}
	o, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	sl, err := newSealer(secret, o.KDFConcurrency)
	if err != nil {
		return nil, fmt.Errorf("onetime: deriving keys: %w", err)
	}
	tel := newInstruments(o.MeterProvider, o.TracerProvider)
	sl.kdf.tel, sl.tel = tel, tel
	s := &Service{store: measuredStore{store, tel}, seal: sl, opts: o, log: o.Logger, tel: tel}
	if s.notes, err = startNotifier(&s.opts, tel); err != nil {
		return nil, err
	}
	if o.SweepInterval > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		s.stop = cancel
		s.sweeping.Add(1)
		go s.sweepLoop(ctx)
	}
	return s, nil
}

// Check returns the error that [New] would return for o, nil if New
// would take it: a program can check its configuration (the TTL policy,
// say) before it opens a store or creates a key. A nil *Options is
// valid.
func (o *Options) Check() error {
	_, err := o.resolved()
	return err
}

// resolved returns a copy of o with the defaults filled in, or an error
// if a field is out of range.
func (o *Options) resolved() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if len(r.TTLOptions) > 0 && r.DefaultTTL == 0 {
		r.DefaultTTL = r.defaultFromOptions()
	}
	setDefault(&r.DefaultTTL, DefaultTTL)
	setDefault(&r.MinTTL, DefaultMinTTL)
	setDefault(&r.MaxTTL, DefaultMaxTTL)
	setDefault(&r.MaxTTLAuthenticated, DefaultMaxTTLAuthenticated)
	setDefault(&r.MaxSize, DefaultMaxSize)
	setDefault(&r.MinPassphraseLen, 1)
	setDefault(&r.MaxAttempts, DefaultMaxAttempts)
	setDefault(&r.RecentLimit, DefaultRecentLimit)
	setDefault(&r.KDFConcurrency, max(1, runtime.GOMAXPROCS(0)/2))
	setDefault(&r.ReplayWindow, min(DefaultReplayWindow, 2*r.MinTTL))
	switch {
	case r.MinTTL < time.Second || r.MinTTL%time.Second != 0 || r.MaxTTL < r.MinTTL || r.MaxTTLAuthenticated < r.MinTTL:
		return r, errors.New("onetime: TTL bounds must satisfy 1s <= MinTTL <= MaxTTL, MaxTTLAuthenticated, in whole seconds")
	case max(r.MaxTTL, r.MaxTTLAuthenticated, r.DefaultTTL) > maxTTLBound || r.DefaultTTL < 0:
		// A receipt lives 2 x TTL; far beyond this, times overflow.
		return r, fmt.Errorf("onetime: TTLs above %v are not supported", maxTTLBound)
	case r.MinPassphraseLen > MaxPassphraseLen:
		return r, fmt.Errorf("onetime: MinPassphraseLen above %d", MaxPassphraseLen)
	case r.MaxSize < 0 || r.MaxAttempts < 0 || r.RecentLimit < 0 || r.KDFConcurrency < 0 || r.SweepInterval < 0:
		return r, errors.New("onetime: negative limit in Options")
	case r.MaxAttempts > MaxAttemptsLimit:
		return r, fmt.Errorf("onetime: MaxAttempts above %d", MaxAttemptsLimit)
	case r.ReplayWindow > 2*r.MinTTL:
		return r, errors.New("onetime: ReplayWindow above twice MinTTL")
	}
	// Clamped lifetimes are whole seconds: so are the bounds in force.
	r.MaxTTL = r.MaxTTL.Truncate(time.Second)
	r.MaxTTLAuthenticated = r.MaxTTLAuthenticated.Truncate(time.Second)
	if err := r.resolveTTLOptions(); err != nil {
		return r, err
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	if r.MeterProvider == nil {
		r.MeterProvider = otel.GetMeterProvider()
	}
	if r.TracerProvider == nil {
		r.TracerProvider = otel.GetTracerProvider()
	}
	return r, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// Close stops the sweeper that Options.SweepInterval started, if any, and
// waits for a sweep under way to end. With a Notifier, it stops taking
// notifications (later shares still succeed; their notifications are
// dropped and logged) and waits for the queued ones to be sent, at most
// NotifyOptions.DrainTimeout. It does not close the Store, which belongs
// to the caller. Close is safe to call more than once.
func (s *Service) Close() error {
	s.notes.close()
	if s.stop != nil {
		s.stop()
		s.sweeping.Wait()
	}
	return nil
}

// Sweep asks the store to reclaim the space of every record expired by the
// service's clock and reports how many records it removed. Expiry never
// depends on it: an expired secret is gone to every caller at once. Call
// it periodically (or set Options.SweepInterval) on a store that keeps
// expired records until swept, such as store/sqlite.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	ctx, run := s.tel.begin(ctx, opSweep)
	n, err := s.store.Sweep(ctx, s.now())
	if n > 0 {
		s.tel.swept.Add(ctx, int64(n))
	}
	return n, run.end(ctx, err)
}

func (s *Service) sweepLoop(ctx context.Context) {
	defer s.sweeping.Done()
	t := time.NewTicker(s.opts.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "onetime: sweep failed", "err", err)
			}
		}
	}
}

// now is the service's clock, in UTC and truncated to the microsecond as
// the Store contract promises.
func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// Options returns the options in force, every default filled in: what a
// front end needs to offer choices within the service's limits (TTLs,
// passphrase lengths, sizes).
func (s *Service) Options() Options {
	o := s.opts
	o.TTLOptions = slices.Clone(o.TTLOptions)
	return o
}

// A ShareRequest describes a secret to store.
type ShareRequest struct {
	// Owner is the customer id of the creator, "" when anonymous.
	Owner string
	// Value is stored byte for byte; required.
	Value []byte
	// TTL is the secret's lifetime; zero means the default. It is
	// clamped into [MinTTL, the caller's maximum]; negative clamps to MinTTL.
	TTL time.Duration
	// MaxTTL, when positive, lowers the caller's maximum lifetime for this
	// request (a per-customer policy of the embedding program).
	MaxTTL time.Duration
	// Passphrase, when not empty, is required to reveal the secret.
	Passphrase string
	// Recipients are e-mail addresses to notify; customers only. Only
	// their obscured form is stored.
	Recipients []string
	// ShareDomain is recorded and reported as given.
	ShareDomain string
	// Verifier, when set, shares the secret in the zero-knowledge mode
	// (package zk): Value is the ciphertext the sender made ("zk1. ..."),
	// and only [Service.RevealProof] with the matching proof consumes it.
	// Passphrase must then be empty: a passphrase is part of the verifier
	// and never reaches the service.
	Verifier *zk.Verifier
}

// A GenerateRequest describes a random password to create and store: a
// [ShareRequest] whose value the service makes, of the length asked.
//
//	svc.Generate(ctx, onetime.GenerateRequest{
//		ShareRequest: onetime.ShareRequest{Owner: customer, TTL: time.Hour},
//		Length:       20,
//	})
type GenerateRequest struct {
	// ShareRequest's fields mean what they mean to Share, except Value,
	// which must be empty (Generate makes it), and Verifier, which must be
	// nil (a password the server makes is no zero-knowledge secret).
	ShareRequest
	// Length of the password: zero means 12; clamped into [4, 128].
	Length int
}

// Share stores a secret and returns its receipt, which holds the secret
// key for the reader and the metadata key for the creator. Its state is
// new until the receipt is first read.
//
// With an idempotency key in ctx ([WithIdempotencyKey]), a repeat of the
// same request by the same owner within Options.ReplayWindow answers the
// first receipt, as it was first answered, and stores no second secret.
func (s *Service) Share(ctx context.Context, req ShareRequest) (*Metadata, error) {
	ctx, run := s.tel.begin(ctx, opShare)
	if len(req.Value) == 0 {
		return nil, run.end(ctx, invalid("secret", "You did not provide anything to share"))
	}
	m, err := s.share(ctx, req, 0)
	return m, run.end(ctx, err)
}

// Generate makes a random password from upper and lower case letters,
// digits and symbols (no look-alikes such as l, 1, O, 0; at least one of
// each set), stores it as Share would, and returns the receipt with Value
// set. The answer says new, as the reference service's does, but the
// stored receipt is viewed from the start: its creator has seen the
// value, so every read of the receipt says viewed (or what came later).
// An idempotency key in ctx works as for Share: a repeat answers the same
// receipt and the same password.
func (s *Service) Generate(ctx context.Context, req GenerateRequest) (*Metadata, error) {
	ctx, run := s.tel.begin(ctx, opGenerate)
	if len(req.Value) != 0 {
		return nil, run.end(ctx, invalid("secret", "Generate makes the value: leave it empty"))
	}
	if req.Verifier != nil {
		return nil, run.end(ctx, invalid("proof", "Generate makes the value on the server: it cannot be zero-knowledge"))
	}
	n := req.Length
	switch {
	case n == 0:
		n = DefaultPasswordLength
	case n < MinPasswordLength:
		n = MinPasswordLength
	case n > MaxPasswordLength:
		n = MaxPasswordLength
	}
	m, err := s.share(ctx, req.ShareRequest, n)
	return m, run.end(ctx, err)
}

// share serves Share (length 0) and Generate (the length of the password
// to make): it validates req, stores the new pair, tells the Notifier, and
// answers the receipt as new: no one has read it yet. A generated
// password's receipt is stored viewed, and the answer carries the value.
//
// With an idempotency key, the keys (and the password) are drawn from a
// source that the key, the owner, the request and the window it falls in
// determine (see shareSources), so that a repeat makes the very same pair;
// the store refuses it as existing, and the repeat answers the first
// receipt instead (see earlier). A repeat made early in the next window
// finds the first receipt under the previous window's keys.
func (s *Service) share(ctx context.Context, req ShareRequest, length int) (*Metadata, error) {
	now := s.now()
	cur, prev := s.shareSources(ctx, req, length, now)
	src := source(randomSource)
	if cur != nil {
		src = cur()
	}
	k := s.draw(req.Owner, length, src)
	if length > 0 {
		req.Value = k.value
	}
	recipients, err := s.validate(req)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		if m, err := s.earlier(ctx, req.Owner, length, prev(), now); m != nil || err != nil {
			return m, err
		}
	}
	m, err := s.create(ctx, req, recipients, k)
	if errors.Is(err, ErrExists) && cur != nil {
		// The same request in this window: its first answer. If there
		// is none to give (gone, or older than the window by another
		// server's clock), a new pair with random keys.
		if m, err = s.earlier(ctx, req.Owner, length, cur(), now); m == nil && err == nil {
			k = s.draw(req.Owner, length, randomSource)
			if length > 0 {
				req.Value = k.value
			}
			m, err = s.create(ctx, req, recipients, k)
		}
	}
	return m, err
}

// create seals and stores a new pair under the keys k and answers its
// receipt as Share does.
func (s *Service) create(ctx context.Context, req ShareRequest, recipients []string, k drawn) (*Metadata, error) {
	stored := StateNew
	if k.value != nil {
		stored = StateViewed // the creator has seen the generated value
	}
	p, err := s.sealPair(ctx, req, recipients, stored, k)
	if err != nil {
		return nil, err
	}
	if err := s.store.Create(ctx, p.secret, p.receipt); err != nil {
		return nil, err
	}
	s.notify(ctx, req, recipients, SecretKey(p.secretKey), p.secret.ExpiresAt)
	p.receipt.SecretPresent = true
	m := s.metadata(p.receipt, p.metadataKey, p.secretKey, p.obscured, p.receipt.Created)
	m.State = StateNew
	m.Value = k.value
	return m, nil
}

// validate checks what Share is given and returns the recipients to
// notify, trimmed.
func (s *Service) validate(req ShareRequest) (recipients []string, err error) {
	if len(req.Value) > s.opts.MaxSize {
		return nil, &InputError{Field: "secret", kind: ErrTooLarge,
			Message: fmt.Sprintf("Secret value exceeds the maximum size of %d bytes", s.opts.MaxSize)}
	}
	if err := validateZK(req); err != nil {
		return nil, err
	}
	if req.Passphrase != "" {
		n := utf8.RuneCountInString(req.Passphrase)
		if n < s.opts.MinPassphraseLen {
			return nil, invalid("passphrase", fmt.Sprintf("Passphrase must be at least %d characters long", s.opts.MinPassphraseLen))
		}
		if n > MaxPassphraseLen {
			return nil, invalid("passphrase", fmt.Sprintf("Passphrase must be at most %d characters long", MaxPassphraseLen))
		}
	}
	return s.recipients(req.Owner, req.Recipients)
}

// A newPair is a secret and its receipt sealed for the Store, with the
// keys and obscured recipients that the answer to Share carries.
type newPair struct {
	secret                 *SealedSecret
	receipt                *SealedMetadata
	secretKey, metadataKey string
	obscured               []string
}

// sealPair seals req under the keys of a new pair: the value under the
// secret key (and the passphrase, when there is one), the receipt under
// the metadata key.
func (s *Service) sealPair(ctx context.Context, req ShareRequest, recipients []string, state State, k drawn) (newPair, error) {
	p := newPair{obscured: make([]string, len(recipients)), secretKey: k.secretKey, metadataKey: k.metadataKey}
	ownerSeed := k.ownerSeed
	sid, mid := s.seal.pairIDs(p.secretKey, p.metadataKey)

	var pk, check, proof []byte
	switch {
	case req.Verifier != nil:
		proof, check = s.seal.zkVerifiers(sid, *req.Verifier)
	case req.Passphrase != "":
		var err error
		if pk, err = s.seal.passphraseKey(ctx, fairKey(ctx), p.secretKey, req.Passphrase); err != nil {
			return newPair{}, err
		}
		check = s.seal.checkFor(pk)
	}
	for i, r := range recipients {
		p.obscured[i] = ObscureEmail(r)
	}

	ttl := s.ttl(req.TTL, req.MaxTTL, req.Owner)
	now := s.now()
	p.secret = &SealedSecret{
		ID: sid, MetadataID: mid,
		Sealed:      seal(s.seal.valueAEAD(p.secretKey, pk), req.Value, []byte(sid)),
		Check:       check,
		Proof:       proof,
		MaxAttempts: s.opts.MaxAttempts,
		ShareDomain: req.ShareDomain,
		ExpiresAt:   now.Add(ttl),
	}
	payload := receiptPayload{secretKey: p.secretKey, recipients: p.obscured, zk: proof != nil}.marshal()
	p.receipt = &SealedMetadata{
		ID: mid, SecretID: sid,
		Owner:              req.Owner,
		State:              state,
		PassphraseRequired: check != nil,
		ShareDomain:        req.ShareDomain,
		Created:            now,
		Updated:            now,
		SecretExpiresAt:    p.secret.ExpiresAt,
		ExpiresAt:          now.Add(2 * ttl),
		Sealed:             seal(s.seal.metadataAEAD(p.metadataKey), payload, []byte(mid)),
		OwnerSealed:        ownerSeed,
	}
	return p, nil
}

// ttl applies the TTL policy: default when zero, clamped into
// [MinTTL, the caller's maximum], whole seconds.
func (s *Service) ttl(ttl, perCallerMax time.Duration, owner string) time.Duration {
	if ttl == 0 {
		ttl = s.opts.DefaultTTL
	}
	return clampTTL(ttl, s.opts.MinTTL, s.opts.ttlLimit(owner, perCallerMax))
}

func (s *Service) recipients(owner string, in []string) ([]string, error) {
	var out []string
	for _, r := range in {
		r = strings.TrimSpace(r)
		if r == "" {
			continue // an empty value is the same as an absent one
		}
		if owner == "" {
			return nil, invalid("recipient", "An account is required to send emails.")
		}
		a, err := mail.ParseAddress(r)
		if err != nil || a.Address != r || len(r) > 254 || !strings.Contains(r[strings.LastIndexByte(r, '@'):], ".") {
			return nil, invalid("recipient", "Invalid recipient address")
		}
		out = append(out, r)
	}
	if len(out) > MaxRecipients {
		return nil, invalid("recipient", fmt.Sprintf("At most %d recipients are allowed", MaxRecipients))
	}
	return out, nil
}

// Reveal returns the secret with the given key and destroys it: no later
// call gets it. A secret with a passphrase needs it; a wrong or missing
// one returns [ErrWrongPassphrase] and counts an attempt, and the attempt
// that reaches MaxAttempts burns the secret. A passphrase given for a
// secret without one is ignored. An unknown, received, burned or expired
// key returns [ErrNotFound].
//
// A passphrase costs a deliberately slow derivation (argon2id), so Reveal
// first asks the store whether the secret exists and needs one: a guess on
// a missing secret, or on one whose attempts are spent, costs no
// derivation. Derivations wait in a queue served in turn per
// [Caller].Address (see [WithCaller]). If ctx ends while Reveal waits,
// the secret is not consumed; if its deadline passes while Reveal waits
// for a derivation or runs one, the error wraps [ErrBusy].
func (s *Service) Reveal(ctx context.Context, key SecretKey, passphrase string) (*Secret, error) {
	ctx, run := s.tel.begin(ctx, opReveal)
	sec, err := s.reveal(ctx, key, passphrase)
	return sec, run.end(ctx, err)
}

func (s *Service) reveal(ctx context.Context, key SecretKey, passphrase string) (*Secret, error) {
	if !validKey(string(key)) {
		return nil, ErrNotFound
	}
	id := s.seal.secretID(string(key))
	idem := s.idempotencyKey(ctx)
	var pk, check []byte
	// A passphrase longer than any accepted at share time cannot be right;
	// it is sent as no passphrase, which still counts as a wrong attempt.
	usable := passphrase != "" && utf8.RuneCountInString(passphrase) <= MaxPassphraseLen
	if usable {
		var err error
		pk, check, err = s.passphraseCheck(ctx, id, key, passphrase)
		// A secret gone may have gone to this very call's first attempt,
		// whose answer the store keeps under the replay id: ask it.
		if err != nil && (idem == "" || !errors.Is(err, ErrNotFound)) {
			return nil, err
		}
	}
	now := s.now()
	sec, err := s.store.Reveal(ctx, id, Credentials{Check: check}, now, s.replay(id, now, idem, "reveal", string(key), passphrase))
	if err != nil {
		return nil, err
	}
	switch {
	case len(sec.Check) == 0:
		pk = nil // the secret has no passphrase: the one given played no part
	case pk == nil && usable:
		// A recorded answer, found without a derivation: it needs one to
		// open, the passphrase's (a legitimate repeat pays it once more).
		if pk, err = s.seal.passphraseKey(ctx, fairKey(ctx), string(key), passphrase); err != nil {
			return nil, err
		}
	}
	if len(sec.Check) > 0 && (pk == nil || !hmac.Equal(s.seal.checkFor(pk), sec.Check)) {
		return nil, ErrWrongPassphrase // only a recorded answer can get here
	}
	value, err := open(s.seal.valueAEAD(string(key), pk), sec.Sealed, []byte(id))
	if err != nil {
		return nil, err
	}
	return &Secret{Key: key, Value: value, ShareDomain: sec.ShareDomain}, nil
}

// passphraseCheck returns the passphrase key and the verifier to reveal
// the secret with the given id, or none when the secret needs no
// passphrase or has no attempt left: asking the store first spares a
// derivation on a guess that cannot succeed.
func (s *Service) passphraseCheck(ctx context.Context, id ID, key SecretKey, passphrase string) (pk, check []byte, err error) {
	info, err := s.store.Peek(ctx, id, s.now())
	if err != nil {
		return nil, nil, err
	}
	if info.ProofRequired {
		// A zero-knowledge secret opens only for its proof (RevealProof):
		// a passphrase in clear cannot be right, and costs no derivation.
		return nil, nil, ErrNotFound
	}
	// A conforming store burns a secret at its last attempt; this also
	// spares a derivation on one that has not yet.
	if info.PassphraseRequired && info.Attempts < info.MaxAttempts {
		if pk, err = s.seal.passphraseKey(ctx, fairKey(ctx), string(key), passphrase); err != nil {
			return nil, nil, err
		}
		check = s.seal.checkFor(pk)
	}
	// The derivation may have waited long; a caller who gave up
	// meanwhile must not consume the secret it will never see.
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return pk, check, nil
}

// fairKey is the client a passphrase derivation is queued under.
func fairKey(ctx context.Context) string {
	c := CallerFrom(ctx)
	if c.Address != "" {
		return c.Address
	}
	return c.Customer
}

// Check tells whether the secret with the given key can be revealed, and
// whether it needs a passphrase, without consuming it or counting an
// attempt: for a page that asks the reader to confirm before Reveal. An
// unknown, received, burned or expired key returns [ErrNotFound], as does
// a secret whose passphrase attempts are spent.
func (s *Service) Check(ctx context.Context, key SecretKey) (passphraseRequired bool, err error) {
	st, err := s.Status(ctx, key)
	return st.PassphraseRequired, err
}

// SecretStatus is what [Service.Status] tells of a secret that can still
// be revealed.
type SecretStatus struct {
	// PassphraseRequired tells whether Reveal needs a passphrase.
	PassphraseRequired bool
	// AttemptsLeft counts the wrong passphrases the secret survives
	// plus one: at 1, the next wrong passphrase burns it. Zero when no
	// passphrase is required.
	AttemptsLeft int
	// ZeroKnowledge tells that the secret was shared in the
	// zero-knowledge mode: only [Service.RevealProof] opens it.
	ZeroKnowledge bool
}

// Status is [Service.Check] with the passphrase attempts left, so that a
// page can warn the reader before the attempt that burns the secret. It
// neither consumes the secret nor counts an attempt, and returns
// [ErrNotFound] exactly when Check does.
func (s *Service) Status(ctx context.Context, key SecretKey) (SecretStatus, error) {
	ctx, run := s.tel.begin(ctx, opCheck)
	st, err := s.check(ctx, key)
	return st, run.end(ctx, err)
}

func (s *Service) check(ctx context.Context, key SecretKey) (SecretStatus, error) {
	if !validKey(string(key)) {
		return SecretStatus{}, ErrNotFound
	}
	info, err := s.store.Peek(ctx, s.seal.secretID(string(key)), s.now())
	if err != nil {
		return SecretStatus{}, err
	}
	if !info.PassphraseRequired {
		return SecretStatus{ZeroKnowledge: info.ProofRequired}, nil
	}
	if info.Attempts >= info.MaxAttempts {
		return SecretStatus{}, ErrNotFound // spent: a store that has not burned it yet
	}
	return SecretStatus{PassphraseRequired: true, AttemptsLeft: info.MaxAttempts - info.Attempts, ZeroKnowledge: info.ProofRequired}, nil
}

// Receipt returns the receipt of the secret with the given metadata key,
// as it stood before this read: the first read of a new receipt reports
// new, and moves it to viewed in the same atomic step, so every later read
// reports viewed (as the reference service does). With
// Options.RestrictReceipts, a customer's receipt is served only to the
// [Caller] in ctx whose Customer owns it; to anyone else it is
// [ErrNotFound] and is left unchanged.
func (s *Service) Receipt(ctx context.Context, key MetadataKey) (*Metadata, error) {
	ctx, run := s.tel.begin(ctx, opReceipt)
	m, err := s.receipt(ctx, key, s.store.View)
	if err == nil {
		s.tel.receiptRead(ctx, m.State)
	}
	return m, run.end(ctx, err)
}

// Burn destroys the unread secret of the receipt with the given metadata
// key and returns the receipt, now burned. A secret already received,
// burned or expired returns [ErrNotFound]. Options.RestrictReceipts
// applies as in Receipt. With an idempotency key in ctx, a repeat within
// Options.ReplayWindow answers the receipt as the first Burn did.
func (s *Service) Burn(ctx context.Context, key MetadataKey) (*Metadata, error) {
	ctx, run := s.tel.begin(ctx, opBurn)
	idem := s.idempotencyKey(ctx)
	m, err := s.receipt(ctx, key, func(ctx context.Context, id ID, now time.Time) (*SealedMetadata, error) {
		return s.store.Burn(ctx, id, now, s.replay(id, now, idem, "burn", string(key)))
	})
	return m, run.end(ctx, err)
}

// receipt serves Receipt and Burn: it applies the store's step (View or
// Burn) to the receipt of key, once the caller may, and opens the answer.
func (s *Service) receipt(ctx context.Context, key MetadataKey, step func(context.Context, ID, time.Time) (*SealedMetadata, error)) (*Metadata, error) {
	if !validKey(string(key)) {
		return nil, ErrNotFound
	}
	id := s.seal.metadataID(string(key))
	if err := s.authorize(ctx, id); err != nil {
		return nil, err
	}
	now := s.now()
	m, err := step(ctx, id, now)
	if err != nil {
		return nil, err
	}
	return s.open(m, string(key), now)
}

// authorize enforces Options.RestrictReceipts on the receipt with the
// given id. Owners never change, so checking before the change races with
// nothing.
func (s *Service) authorize(ctx context.Context, id ID) error {
	if !s.opts.RestrictReceipts {
		return nil
	}
	m, err := s.store.Receipt(ctx, id, s.now())
	if err != nil {
		return err
	}
	if m.Owner != "" && m.Owner != CallerFrom(ctx).Customer {
		return ErrNotFound
	}
	return nil
}

// Recent returns the customer's latest receipts, newest first, at most
// Options.RecentLimit. Anonymous callers ("") have no list. Listing does
// not count as reading: no receipt moves to viewed.
func (s *Service) Recent(ctx context.Context, customer string) ([]*Metadata, error) {
	ctx, run := s.tel.begin(ctx, opRecent)
	ms, err := s.recent(ctx, customer)
	return ms, run.end(ctx, err)
}

func (s *Service) recent(ctx context.Context, customer string) ([]*Metadata, error) {
	if customer == "" {
		return nil, nil
	}
	now := s.now()
	ms, err := s.store.Recent(ctx, customer, now, s.opts.RecentLimit)
	if err != nil {
		return nil, err
	}
	out := make([]*Metadata, 0, len(ms))
	for _, m := range ms {
		r, err := s.recentReceipt(customer, m, now)
		if err != nil {
			// Not written by this service under this server secret, or
			// altered: left out, rather than failing the whole list.
			s.log.WarnContext(ctx, "onetime: recent: a receipt does not open; left out", "err", err)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// recentReceipt opens a receipt of the customer's recent list with the
// metadata key its seed derives, after checking that the key names it.
func (s *Service) recentReceipt(customer string, m *SealedMetadata, now time.Time) (*Metadata, error) {
	if len(m.OwnerSealed) != ownerSeedLen {
		return nil, errUnseal
	}
	key := s.seal.ownedMetadataKey(customer, m.OwnerSealed)
	if s.seal.metadataID(key) != m.ID {
		return nil, errUnseal
	}
	return s.open(m, key, now)
}

// open unseals a stored receipt with its metadata key.
func (s *Service) open(m *SealedMetadata, metadataKey string, now time.Time) (*Metadata, error) {
	p, err := s.openPayload(m, metadataKey)
	if err != nil {
		return nil, err
	}
	r := s.metadata(m, metadataKey, p.secretKey, p.recipients, now)
	r.ZeroKnowledge = p.zk
	return r, nil
}

// openPayload unseals what a stored receipt keeps sealed.
func (s *Service) openPayload(m *SealedMetadata, metadataKey string) (receiptPayload, error) {
	var p receiptPayload
	b, err := open(s.seal.metadataAEAD(metadataKey), m.Sealed, []byte(m.ID))
	if err != nil {
		return p, err
	}
	return p, p.unmarshal(b)
}

// metadata applies the state rules to a stored receipt as of now.
func (s *Service) metadata(m *SealedMetadata, metadataKey, secretKey string, recipients []string, now time.Time) *Metadata {
	r := &Metadata{
		Owner:              m.Owner,
		MetadataKey:        MetadataKey(metadataKey),
		ShortKey:           secretKey[:min(6, len(secretKey))],
		State:              m.State,
		TTL:                m.SecretExpiresAt.Sub(m.Created),
		MetadataTTL:        max(m.ExpiresAt.Sub(now), 0),
		Created:            m.Created,
		Updated:            m.Updated,
		Received:           m.Received,
		Burned:             m.Burned,
		Recipients:         recipients,
		ShareDomain:        m.ShareDomain,
		PassphraseRequired: m.PassphraseRequired,
	}
	if r.Recipients == nil {
		r.Recipients = []string{}
	}
	if r.Alive() && !m.SecretPresent {
		// The secret vanished without being received or burned.
		if now.Before(m.SecretExpiresAt) {
			r.State = StateOrphaned
		} else {
			r.State = StateExpired
		}
	}
	if r.Alive() {
		r.SecretKey = SecretKey(secretKey)
		r.SecretTTL = m.SecretExpiresAt.Sub(now)
	}
	return r
}

// opErr is the one place where an error becomes what a method of the
// Service returns: "onetime: OP: " before the error's own text, whatever
// it is (a sentinel, a store's error, an [*InputError], a context's
// error), and nil for nil. Code below the methods returns errors as they
// come, so that no text is prefixed twice.
func opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return &opError{op: op, err: err}
}

// An opError is an error as a method of the Service returns it. It
// unwraps to the error it names, for errors.Is and errors.As.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return "onetime: " + e.op + ": " + e.err.Error() }

func (e *opError) Unwrap() error { return e.err }

// ObscureEmail hides most of an address as the reference service does:
// "delano@example.com" becomes "de*****@e*****.com". Receipts store and
// show only this form; use it too wherever an address would be logged.
func ObscureEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "*****"
	}
	local, domain := addr[:at], addr[at+1:]
	tld := ""
	if dot := strings.LastIndexByte(domain, '.'); dot >= 0 {
		tld = domain[dot:]
	}
	return firstRunes(local, 2) + "*****@" + firstRunes(domain, 1) + "*****" + tld
}

func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// pingID names no secret: ids are keyed hashes, and this one is not the
// hash of any key with any but a vanishing probability.
const pingID = ID("0000000000000000000000000000000000000000")

// Ping checks that the store answers: it asks for a secret that cannot
// exist, and reports nil when the store says it is not found. Use it for
// a health or readiness check: it returns by ctx's deadline, or within
// DefaultPingTimeout when ctx has none, whatever the store does, with an
// error wrapping context.DeadlineExceeded. A store that ignores ctx and
// stalls keeps only its own call running, until it returns.
func (s *Service) Ping(ctx context.Context) error {
	ctx, run := s.tel.begin(ctx, opPing)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultPingTimeout)
		defer cancel()
	}
	answer := make(chan error, 1) // the call never blocks on it, so it never outlives the store's
	now := s.now()
	go func() {
		_, err := s.store.Peek(ctx, pingID, now)
		answer <- err
	}()
	var err error
	select {
	case err = <-answer:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	return run.end(ctx, err)
}
