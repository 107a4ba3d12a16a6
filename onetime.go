package onetime

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Errors returned by the [Service] and by every [Store]. Check them with
// [errors.Is], never by their text: the Service wraps them, and a Store may
// wrap them in words of its own. Their texts carry no "onetime:" prefix,
// so that a wrapped one reads once, e.g. "onetime: reveal: not found" or
// "onetime: reveal: sqlite: store closed", and no key, passphrase or value.
var (
	// ErrNotFound means there is no such secret or receipt for the caller:
	// unknown, already received, burned and expired look the same.
	ErrNotFound = errors.New("not found")

	// ErrWrongPassphrase means the secret exists but the passphrase given
	// (or its absence) does not open it. The secret survives; the attempt
	// is counted. Report it to untrusted callers exactly like ErrNotFound.
	ErrWrongPassphrase = errors.New("wrong passphrase")

	// ErrTooLarge means a value exceeds the configured maximum size.
	ErrTooLarge = errors.New("secret too large")

	// ErrInvalid means a request was malformed: a bad TTL, a passphrase
	// that is too short or too long, an unusable recipient. Errors that
	// wrap it hold an [*InputError] with a message fit for the caller.
	ErrInvalid = errors.New("invalid input")

	// ErrBusy means the service could not take the request in time: the
	// request's deadline ran out while a passphrase derivation waited in
	// its queue (see Options.KDFConcurrency) or ran. Nothing was consumed
	// or stored; the caller should retry later. It does not match
	// [context.DeadlineExceeded]: the deadline that ran out is usually the
	// server's own, and the client is still there to be told.
	ErrBusy = errors.New("busy")

	// ErrClosed is returned, possibly wrapped, by every method of a Store
	// after its Close, and so by the Service on a closed Store.
	ErrClosed = errors.New("store closed")

	// ErrExists is returned by [Store.Create] when either id of the pair
	// is already stored. Nothing is written in that case. Only store
	// authors meet it: the Service never returns it.
	ErrExists = errors.New("record already exists")
)

// An InputError describes a rejected request. It wraps [ErrInvalid] (or
// [ErrTooLarge] for an oversized value), and its Message is safe to show to
// the caller: it never contains the value, a key or a passphrase. Find it
// with [errors.As]; the Service returns it wrapped like any other error
// ("onetime: share: Invalid TTL"), and its own text is the Message alone.
type InputError struct {
	// Field names the offending input: "secret", "ttl", "passphrase",
	// "recipient", "length".
	Field string
	// Message is a human-readable sentence, e.g. "Invalid TTL".
	Message string

	kind error
}

// Error returns the Message.
func (e *InputError) Error() string { return e.Message }

// Unwrap returns [ErrInvalid] or [ErrTooLarge].
func (e *InputError) Unwrap() error { return e.kind }

func invalid(field, msg string) error {
	return &InputError{Field: field, Message: msg, kind: ErrInvalid}
}

// A SecretKey is the reader's capability: it reveals one secret, once.
// Give it only to the reader, typically in a link BASE/secret/KEY. It is a
// type of its own so that a [MetadataKey] cannot be passed where a secret
// key belongs; convert with SecretKey(s) where a key arrives as text.
type SecretKey string

// A MetadataKey is the creator's capability: it reads the secret's
// receipt ([Metadata]) and burns the secret while it is unread.
type MetadataKey string

// LogValue keeps the key out of log/slog output: a key is a bearer
// capability and no log line may carry it.
func (SecretKey) LogValue() slog.Value { return slog.StringValue("[secret key]") }

// LogValue keeps the key out of log/slog output, as for [SecretKey].
func (MetadataKey) LogValue() slog.Value { return slog.StringValue("[metadata key]") }

// State is the life-cycle state of a secret as its receipt reports it.
type State uint8

// The states of a receipt. A state never goes back: new -> viewed ->
// received or burned; expired and orphaned are reported, not stored, when
// the secret vanished without being received or burned.
const (
	StateNew      State = iota + 1 // created, receipt not read yet
	StateViewed                    // the receipt has been read (or the creator saw the value)
	StateReceived                  // the secret was revealed
	StateBurned                    // the secret was destroyed unread
	StateExpired                   // the secret outlived its TTL unread
	StateOrphaned                  // the secret vanished before its TTL (e.g. evicted)
)

var stateNames = [...]string{"", "new", "viewed", "received", "burned", "expired", "orphaned"}

// String returns the state's name as the v1 API spells it ("new", "viewed", ...).
func (s State) String() string {
	if int(s) < len(stateNames) && s != 0 {
		return stateNames[s]
	}
	return "unknown"
}

// A Secret is a revealed secret: the answer to [Service.Reveal].
type Secret struct {
	Key         SecretKey
	Value       []byte // byte for byte as shared
	ShareDomain string
}

// Metadata is what the creator of a secret may know of it: its receipt.
// Share and Generate answer it with both keys; Receipt, Burn and Recent
// answer it as the secret stands.
type Metadata struct {
	Owner       string // the customer who shared it, "" when anonymous
	MetadataKey MetadataKey
	// SecretKey is set only while the secret can still be revealed (state
	// new or viewed).
	SecretKey SecretKey
	// ShortKey is the first 6 characters of the secret key, kept for
	// display (the v1 burn answer's secret_shortkey) after the key itself
	// is withheld.
	ShortKey string
	State    State

	TTL         time.Duration // the secret's lifetime as granted
	SecretTTL   time.Duration // left on the secret; zero once it is gone
	MetadataTTL time.Duration // left on this receipt

	Created, Updated time.Time
	Received, Burned time.Time // zero unless the event happened

	Recipients         []string // obscured, e.g. "de*****@e*****.com"; never nil
	ShareDomain        string
	PassphraseRequired bool
	// ZeroKnowledge tells that the secret was shared in the zero-knowledge
	// mode (see package zk): it opens only with the key that the sender
	// kept in the link's fragment, which the service never saw, so
	// SecretKey alone cannot reveal it.
	ZeroKnowledge bool

	// Value is set only in the answer to Generate: the password made.
	Value []byte
}

// Alive reports whether the secret can still be revealed.
func (m *Metadata) Alive() bool { return m.State == StateNew || m.State == StateViewed }

// A Caller is who a request comes from, as the program serving it knows:
// the authenticated customer ("" when anonymous) and the client's network
// address. Carry it in the request's context with [WithCaller]; package
// httpapi does so for every request it serves.
//
// The Service reads it for two things only: with Options.RestrictReceipts,
// Receipt and Burn serve a customer's receipt to that customer alone; and
// passphrase derivations are queued fairly per Address (then Customer), so
// that one client guessing passphrases cannot hold up every other reader.
type Caller struct {
	Customer string
	Address  string
}

type callerKey struct{}

// WithCaller returns a copy of ctx that carries c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

type idempotencyKey struct{}

// WithIdempotencyKey returns a copy of ctx that carries the caller's
// idempotency key for the one call it is passed to: Share, Generate,
// Reveal and Burn given such a context answer a repeat of the same call
// with the same key, within Options.ReplayWindow, with the first answer
// (the same receipt, never a second secret; the same value, though the
// secret is gone) instead of doing it again. A caller whose answer was lost
// on the way can so ask again safely. Package httpapi takes the key from
// the Idempotency-Key header.
//
// The key is the caller's secret for that window: whoever repeats the call
// with it gets the answer. An empty key is no key.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, key)
}

// idempotencyKeyFrom returns the key that ctx carries, or "".
func idempotencyKeyFrom(ctx context.Context) string {
	k, _ := ctx.Value(idempotencyKey{}).(string)
	return k
}

// CallerFrom returns the Caller that ctx carries, or the zero Caller
// (anonymous, address unknown).
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// An ID names a secret or a receipt to a [Store]. It is a keyed hash of the
// key the caller holds, never the key itself, so a copy of a store reveals
// no key. An ID is 40 lowercase hexadecimal characters: the first
// [SlotLen] are the pair's slot, shared by a secret and its receipt, the
// rest are unique to the record.
type ID string

// SlotLen is the length of the slot prefix of every [ID].
const SlotLen = 8

// idLen is the length of a whole ID.
const idLen = 40

// Slot returns the part of the id that a secret and its receipt share.
// Stores that partition their data (a Redis Cluster) place a pair by it, so
// that every operation on one pair touches one partition.
func (id ID) Slot() string {
	if len(id) < SlotLen {
		return string(id)
	}
	return string(id[:SlotLen])
}

// Valid reports whether id has the form of an ID.
func (id ID) Valid() bool {
	if len(id) != idLen {
		return false
	}
	// One table lookup per byte, OR-ed, and one test at the end: a branch
	// per byte cost more than the map lookup of a memory store's Create.
	var bad byte
	for i := 0; i < idLen; i++ {
		bad |= notHex[id[i]]
	}
	return bad == 0
}

// notHex is 1 at every byte that is not a lowercase hexadecimal digit.
var notHex = func() (t [256]byte) {
	for c := range t {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			t[c] = 1
		}
	}
	return t
}()

// MaxAttemptsLimit is the largest Options.MaxAttempts, and so the largest
// Attempts and MaxAttempts a Store is given: every Store MUST hold values
// up to it.
const MaxAttemptsLimit = 1<<16 - 1

// A SealedSecret is a [Secret] as a [Store] keeps it: the value sealed,
// the passphrase reduced to a verifier. Stores keep every field as given
// and return copies.
type SealedSecret struct {
	ID         ID // keyed hash of the secret key
	MetadataID ID // the receipt of this secret, in the same slot

	// Sealed is the value, encrypted and authenticated; opaque to stores.
	Sealed []byte
	// Check is the passphrase verifier, empty when the secret has no
	// passphrase. Stores compare it byte for byte in Reveal.
	Check []byte
	// Proof is the verifier of the proof that the reader holds the key
	// of the link (the zero-knowledge mode, see package zk), empty for a
	// secret shared in the server-side mode. Stores compare it byte for
	// byte in Reveal, before Check.
	Proof []byte
	// Attempts counts wrong passphrases so far; MaxAttempts is the count
	// at which the secret is burned. Both are at most MaxAttemptsLimit.
	Attempts, MaxAttempts int

	ShareDomain string
	ExpiresAt   time.Time // the secret is gone when !now.Before(ExpiresAt)
}

// A Replay makes one consuming call ([Store.Reveal], [Store.Burn])
// repeatable for a while: the call records its outcome under ID, and a
// repeat that names the same ID gets that outcome again instead of finding
// the secret gone. The Service asks for one when its caller sent an
// idempotency key (see [WithIdempotencyKey]), so that a caller whose
// answer was lost on the way can ask again.
//
// A store keeps a recorded outcome until ExpiresAt (and may reclaim it any
// time after), lists it nowhere (Recent) and counts it as no record. What
// it keeps is what the call returned: sealed bytes and keyed hashes, never
// a key, a passphrase or a value in clear.
type Replay struct {
	// ID is a keyed hash of the caller's idempotency key and of the key
	// the call is about; it shares [ID.Slot] with the id of the call.
	ID ID
	// ExpiresAt is when the recorded outcome is forgotten.
	ExpiresAt time.Time
}

// Credentials are what a [Store.Reveal] presents to open a secret: the
// verifiers the Service computed from what the reader gave. A store
// compares each byte for byte with the secret's own.
type Credentials struct {
	// Check is compared with [SealedSecret.Check]: the passphrase.
	Check []byte
	// Proof is compared with [SealedSecret.Proof]: the link's key.
	Proof []byte
}

// SecretInfo is what [Store.Peek] tells of a secret without consuming it.
type SecretInfo struct {
	PassphraseRequired    bool // its Check is not empty
	ProofRequired         bool // its Proof is not empty
	Attempts, MaxAttempts int
	ExpiresAt             time.Time
}

// SealedMetadata is a receipt ([Metadata]) as a [Store] keeps it. Stores
// keep every field as given, change only State, Updated, Received and
// Burned, and return copies.
type SealedMetadata struct {
	ID       ID // keyed hash of the metadata key
	SecretID ID // the secret this receipt describes, in the same slot

	// Owner is the customer id of the creator, "" when anonymous. Only
	// receipts with an owner are listed by [Store.Recent].
	Owner string
	State State // one of new, viewed, received, burned as stored

	PassphraseRequired bool
	ShareDomain        string

	Created, Updated time.Time
	Received, Burned time.Time // zero until the event
	SecretExpiresAt  time.Time // the secret's own expiry
	ExpiresAt        time.Time // the receipt's expiry, after the secret's

	// Sealed holds the secret key and the obscured recipients, encrypted
	// under a key derived from the metadata key; opaque to stores.
	Sealed []byte
	// OwnerSealed lets the service recover the metadata key for the
	// owner's recent list (a seed that only the server secret expands);
	// nil for anonymous receipts. Opaque to stores.
	OwnerSealed []byte

	// SecretPresent is not stored: reads report whether the secret record
	// still exists and is unexpired at the time given.
	SecretPresent bool
}

// A Store persists sealed secrets and their receipts. The [Service] owns
// every rule (validation, keys, sealing, TTLs, the clock); a Store owns
// only persistence and the atomicity of each method. The conformance suite
// in package storetest is the definition of a correct Store.
//
// Time: a Store never reads the clock. Each method gets now, and a record
// is expired when !now.Before(its ExpiresAt), whether or not the backend
// has removed it yet. Nothing expired is ever returned or changed, and no
// method extends an expiry. Every time the service passes is in UTC and
// truncated to the microsecond, so a store may keep microseconds.
//
// Ids: a secret and its receipt share [ID.Slot]. A partitioned store MUST
// place both by it, so that each method below touches one partition
// (Recent and Sweep excepted) and can be one atomic step.
//
// Errors: a Store MUST return [ErrNotFound], [ErrWrongPassphrase],
// [ErrExists] and [ErrClosed] where documented, as they are or wrapped
// with %w in words of its own (fmt.Errorf("mystore: %w", onetime.ErrClosed)),
// honour a cancelled context, and never put an id, value or check in an
// error's text. Callers find the sentinels with [errors.Is], never by
// text. A store's own errors start with its own name ("mystore: ...") and
// never with "onetime:" or the method's name: the Service puts
// "onetime: OP: " before every error it returns, once.
//
// Ids that are not [ID.Valid] name no record: Reveal, Peek, Receipt,
// View and Burn answer ErrNotFound, and Create refuses a pair with such an
// id, or whose ids do not name each other in one slot, with an error
// wrapping ErrInvalid, writing nothing.
//
// Deadlines: a consuming method (Reveal, Burn) MUST NOT change anything
// after ctx's deadline, if it has one. The check is made where the change
// happens, in the same atomic step (under the lock, inside the transaction
// or the script), against the deadline itself rather than a timer of the
// client's, so that a backend that stalls and resumes late consumes
// nothing; the call then returns an error wrapping
// [context.DeadlineExceeded]. The Service gives every consuming call the
// deadline of the request it serves, so that a secret is consumed only
// while its answer can still reach the caller.
//
// A Store is safe for concurrent use by many goroutines and, for backends
// shared between processes, by many processes.
type Store interface {
	// Create stores a secret and its receipt atomically, and lists the
	// receipt under its owner when it has one. If either id is already
	// stored it MUST return ErrExists and write nothing, except that a
	// store whose client retries calls may take a repeat of the very same
	// records (byte for byte) as the success of the first attempt.
	Create(ctx context.Context, s *SealedSecret, m *SealedMetadata) error

	// Reveal consumes the secret with the given id and returns it. It
	// MUST be atomic: among concurrent callers at most one gets the
	// secret. When s.Proof is non-empty and differs from c.Proof, Reveal
	// changes nothing, records nothing and returns ErrNotFound: a reader
	// without the link's key neither consumes the secret nor spends its
	// attempts. Then, when s.Check is non-empty and differs from c.Check,
	// Reveal instead adds one to Attempts and returns ErrWrongPassphrase;
	// the attempt that reaches MaxAttempts burns the secret as Burn would.
	// On success it deletes the secret and moves the receipt to received,
	// stamping Received and Updated with now. Missing or expired:
	// ErrNotFound.
	//
	// With a non-nil replay, Reveal first looks for an outcome recorded
	// under replay.ID and unexpired at now: it returns that outcome as
	// recorded (the same secret, or ErrWrongPassphrase) and changes
	// nothing, whether or not the secret still exists and whatever
	// credentials are given. Otherwise it works as above and, in the same
	// atomic step as its change, records its outcome (the secret it
	// returns, or ErrWrongPassphrase for a counted attempt, the burning one
	// included) under replay.ID until replay.ExpiresAt. ErrNotFound is
	// never recorded.
	Reveal(ctx context.Context, id ID, c Credentials, now time.Time, replay *Replay) (*SealedSecret, error)

	// Peek tells whether the secret with the given id exists, whether it
	// needs a passphrase and how many attempts it has had. It changes
	// nothing. Missing or expired: ErrNotFound.
	Peek(ctx context.Context, id ID, now time.Time) (*SecretInfo, error)

	// Receipt returns the receipt with the given id, with SecretPresent
	// set. It changes nothing. Missing or expired: ErrNotFound.
	Receipt(ctx context.Context, id ID, now time.Time) (*SealedMetadata, error)

	// View returns the receipt with the given id as it was before this
	// call, with SecretPresent set, and in the same atomic step moves a
	// new receipt whose secret is present to viewed, stamping Updated
	// with now. A receipt in any other state is returned unchanged.
	// Missing or expired: ErrNotFound.
	View(ctx context.Context, id ID, now time.Time) (*SealedMetadata, error)

	// Burn destroys the unread secret of the receipt with the given id
	// and moves the receipt to burned, stamping Burned and Updated with
	// now; it returns the receipt as changed. It MUST be atomic with
	// Reveal: of a burn and a reveal of one secret exactly one succeeds.
	// When the receipt is missing or expired, or its secret is gone (or
	// the receipt is not new or viewed): ErrNotFound.
	//
	// With a non-nil replay, Burn records the receipt it returns under
	// replay.ID until replay.ExpiresAt, in the same atomic step, and a
	// later Burn with the same replay.ID (unexpired at its now) returns
	// that receipt as recorded and changes nothing, as Reveal does.
	Burn(ctx context.Context, id ID, now time.Time, replay *Replay) (*SealedMetadata, error)

	// Recent returns up to limit unexpired receipts of owner, newest
	// Created first, those created at the same instant in reverse order
	// of Create, with SecretPresent set.
	Recent(ctx context.Context, owner string, now time.Time, limit int) ([]*SealedMetadata, error)

	// Sweep reclaims the space of records expired at now and reports how
	// many records it removed. Expiry as seen by the other methods never
	// depends on it. Backends that expire records by themselves may do
	// little or nothing.
	Sweep(ctx context.Context, now time.Time) (int, error)

	// Close releases the store's resources; every later call returns
	// ErrClosed. It does not close a client or database handle that the
	// caller passed in. Calling it again is a no-op.
	Close() error
}
