package redis

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime"
)

// DefaultPrefix starts every key when Options.Prefix is empty.
const DefaultPrefix = "onetime:"

// MaxIndexed is how many receipts an owner's recent index keeps: Recent
// lists at most this many, newest first; older entries are dropped as new
// ones come in.
const MaxIndexed = 2000

// errReply means Redis answered a script with something it never returns.
var errReply = errors.New("redis: unexpected reply from a script")

// errReplay is the answer of Reveal and Burn to a Replay whose id is
// malformed or not in the slot of the call's id, or whose ExpiresAt
// cannot be stored.
var errReplay = fmt.Errorf("redis: replay id malformed or in another slot, or its expiry out of range: %w", onetime.ErrInvalid)

// errLate is the answer of Reveal and Burn when Redis ran their script
// after the caller's deadline: nothing was changed.
var errLate = fmt.Errorf("redis: Redis ran the call after its deadline and changed nothing: %w", context.DeadlineExceeded)

// The integer replies of the Reveal and Burn scripts (see scripts.go);
// the other replies are records.
const (
	replyNotFound = 0
	replyWrong    = 1
	replyLate     = 2
)

// outcomeTTL is how long Redis keeps the outcome of a Reveal or Burn for a
// retry of the same call (see scripts.go) when the Store does not delete
// it (see outcome.go): its reply was lost for good, its DEL failed, or the
// Store was closed. It outlasts go-redis's own retries at their default
// timeouts (a read timeout of 5 s, 3 retries) and the Store's. (A call
// given a Replay keeps its outcome until the replay's ExpiresAt instead.)
const outcomeTTL = 60 * time.Second

// outcomePX is outcomeTTL in milliseconds, the scripts' argument, boxed
// once.
var outcomePX any = outcomeTTL.Milliseconds()

// retries is how many times Reveal and Burn try again, with the same
// outcome key, after the client gave up on a network error; retryBackoff
// is the first pause, doubled each time.
const (
	retries      = 3
	retryBackoff = 10 * time.Millisecond
)

// commander is what the Store sends commands through: the client, or its
// auto-pipeliner.
type commander interface {
	goredis.Scripter
	Do(ctx context.Context, args ...any) *goredis.Cmd
}

// Options configure a Store. A nil *Options, and every zero field, means
// the default.
type Options struct {
	// Prefix starts every key the Store writes, so that several
	// applications (or tests) can share one Redis. Default "onetime:". It
	// must not contain '{' or '}', which would change how a Cluster places
	// keys.
	Prefix string

	// Pipeline sends a command that two or more others of the Store are
	// already waiting on through go-redis's automatic pipeliner (its
	// AsyncAutoPipeline, on the client's pipeline pool): commands that
	// goroutines issue at the same time travel to Redis in one write and
	// come back in one read, which cuts the system calls per operation. A
	// lone command still goes straight: the pipeliner would only add
	// hand-overs between goroutines. By default (false) every command goes
	// on a round trip of its own from the client's connection pool. Each
	// operation is one command either way.
	//
	// The default is the faster of the two where it was measured: the
	// example server over HTTP on one 2-core machine with Redis on
	// loopback (internal/cmd/bench, pairs of a share and a reveal) made
	// 8-50% more pairs/s without the pipeliner at 1, 8 and 32 clients and
	// 4% more at 128, for about the same server CPU per pair: the
	// pipeliner's hand-overs between goroutines cost about what its saved
	// system calls did, and added latency. The Store alone, without HTTP,
	// spends less client CPU per operation pipelined under concurrency
	// (BenchmarkConcurrency). Measure your own deployment (Redis across a
	// network, more cores) before turning it on. A client that cannot
	// auto-pipeline (one that is neither a *goredis.Client nor a
	// *goredis.ClusterClient) never pipelines.
	//
	// go-redis marks the pipeliner experimental. It runs commands under a
	// context of its own; the Store still returns at the caller's deadline
	// (see pipeline.go), and the Reveal and Burn scripts change nothing
	// past it. go-redis keeps one pipeliner per client, shared by every
	// Store on that client, and closes it with the client.
	Pipeline bool
}

// Store is a [onetime.Store] in Redis. It is safe for concurrent use by
// many goroutines and processes sharing one Redis deployment.
type Store struct {
	c  goredis.UniversalClient
	sc commander // runs the commands: c, or c and its auto-pipeliner (see pipeline.go)
	// piped is sc when it pipelines, for tests to tune.
	piped  *adaptive
	prefix string
	// single is true for a client of one server (standalone or Sentinel
	// failover), where one script may reach every key: Create and Recent
	// are then one round trip too.
	single bool
	cap    int
	closed atomic.Bool
	// forgetter deletes answered calls' outcome keys (see outcome.go).
	forgetter forgetter
}

// New returns a Store that keeps its records in the Redis deployment that
// client reaches: a *goredis.Client of one server or of a Sentinel
// failover group, a *goredis.ClusterClient, or any other UniversalClient
// (treated like a Cluster: every key may be on another shard). The client
// stays the caller's: Close does not close it.
func New(client goredis.UniversalClient, opts *Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redis: nil client")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return nil, errors.New("redis: Options.Prefix must not contain '{' or '}'")
	}
	_, single := client.(*goredis.Client)
	st := &Store{c: client, sc: client, prefix: o.Prefix, single: single, cap: MaxIndexed}
	st.forgetter.idle.L = &st.forgetter.mu
	st.forgetter.timer = time.AfterFunc(time.Hour, st.drain)
	st.forgetter.timer.Stop()
	if c, ok := client.(interface {
		AsyncAutoPipeline() (*goredis.AutoPipeliner, error)
	}); ok && o.Pipeline {
		ap, err := c.AsyncAutoPipeline()
		if err != nil {
			return nil, fmt.Errorf("redis: auto-pipelining: %w", err)
		}
		st.piped = &adaptive{direct: client, piped: pipelined{ap}, above: pipelineAbove}
		st.sc = st.piped
	}
	return st, nil
}

// pair is the key of the pair with the given id (and of the other pairs
// of its slot): prefix + "{" + slot + "}", the hash tag that keeps every
// key of the pair in one slot, and the start of the pair's other keys.
func (s *Store) pair(id onetime.ID) string {
	return s.prefix + "{" + id.Slot() + "}"
}

// pairOf is the start of a key that [Store.key] or [Store.outcomeKey]
// returned: its pair's key, as [Store.pair] gives it, without a copy.
func (s *Store) pairOf(key string) string {
	return key[:len(s.prefix)+onetime.SlotLen+2]
}

// Kinds of record, the letter after a pair's hash tag.
const (
	kindSecret  = 's' // a secret of format 1 (legacy.go)
	kindReceipt = 'm' // a receipt of format 1
	kindOutcome = 'r' // the outcome of one call, named by a random token
	kindReplay  = 'i' // the outcome of the calls with one replay id
)

// outcomeKey returns a fresh outcome key for one Reveal or Burn of the
// pair of id: a random 128-bit token in the pair's slot.
func (s *Store) outcomeKey(id onetime.ID) string {
	var token [restLen]byte
	rand.Read(token[:])
	return s.keyOf(id, kindOutcome, &token)
}

// An outcome is where one Reveal or Burn records its answer, and the
// scripts' arguments that say for how long (see scripts.go).
type outcome struct {
	key string
	px  any // its life in Redis, in milliseconds
	// till is the replay's ExpiresAt in microseconds, kept in the record
	// and compared with later calls' now; "" for the outcome of one call,
	// which only a repeat of that call reads.
	till any
}

// outcomeFor returns the outcome of a Reveal or Burn of the pair of id at
// now: without a replay a fresh key, kept [outcomeTTL] at most and deleted
// once the call is answered (see [Store.answered]); with one, the key of
// replay.ID, kept until replay.ExpiresAt (at least a millisecond) and
// left to that expiry.
func (s *Store) outcomeFor(id onetime.ID, now time.Time, replay *onetime.Replay) (outcome, error) {
	if replay == nil {
		return outcome{key: s.outcomeKey(id), px: outcomePX, till: ""}, nil
	}
	till := micros(replay.ExpiresAt)
	if !replay.ID.Valid() || replay.ID.Slot() != id.Slot() || replay.ExpiresAt.IsZero() || till < minTime || till > maxTime {
		return outcome{}, errReplay
	}
	px := replay.ExpiresAt.Sub(now)
	ms := px.Milliseconds()
	if px%time.Millisecond > 0 {
		ms++ // never forget an outcome before it expires logically
	}
	return outcome{key: s.key(replay.ID, kindReplay), px: max(ms, 1), till: till}, nil
}

// answered is called once a call's answer has arrived: the outcome of one
// call is deleted (off the caller's path, see outcome.go); a replay's
// stays until its expiry.
func (s *Store) answered(o outcome) {
	if o.till == "" {
		s.forget(o.key)
	}
}

// deadline is the script argument for ctx's deadline: unix microseconds,
// or "" when ctx has none.
func deadline(ctx context.Context) any {
	if d, ok := ctx.Deadline(); ok {
		return d.UnixMicro()
	}
	return ""
}

// key names the record of the given kind with the given id.
func (s *Store) key(id onetime.ID, kind byte) string {
	raw := rawRest(id)
	return s.keyOf(id, kind, &raw)
}

// keyOf is prefix{slot}<kind><rest in base64url>, built with one
// allocation: every method builds one or two keys.
func (s *Store) keyOf(id onetime.ID, kind byte, rest *[restLen]byte) string {
	var enc [24]byte
	base64.RawURLEncoding.Encode(enc[:], rest[:])
	var b strings.Builder
	b.Grow(len(s.prefix) + onetime.SlotLen + 3 + keyRestLen)
	b.WriteString(s.prefix)
	b.WriteByte('{')
	b.WriteString(id.Slot())
	b.WriteByte('}')
	b.WriteByte(kind)
	b.Write(enc[:keyRestLen])
	return b.String()
}

// indexKey names an owner's recent index. The owner is hashed so that the
// key is short and free of hash-tag braces whatever the owner id is; the
// index lives in its own slot.
func (s *Store) indexKey(owner string) string {
	h := sha256.Sum256([]byte(owner))
	return s.prefix + "o:" + base64.RawURLEncoding.EncodeToString(h[:16])
}

// memberTail is an index member without its sequence number: the
// receipt's expiry in whole seconds rounded up, then its id (slot and
// rest) in raw bytes.
func memberTail(m *onetime.SealedMetadata) string {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 24), ceilSeconds(m.ExpiresAt))
	slot, _ := hex.DecodeString(m.ID.Slot())
	b = append(b, slot...)
	raw := rawRest(m.ID)
	return string(append(b, raw[:]...))
}

// memberID returns the receipt id of an index member.
func memberID(member string) (onetime.ID, bool) {
	if len(member) != 28 {
		return "", false
	}
	return onetime.ID(hex.EncodeToString([]byte(member[8:]))), true
}

// ready fails fast on a closed store or a done context.
func (s *Store) ready(ctx context.Context) error {
	if s.closed.Load() {
		return onetime.ErrClosed
	}
	return ctx.Err()
}

// fail wraps an error from Redis or the client as "redis: <cause>" (the
// Service names the operation). Neither puts keys in their texts
// (connection errors, timeouts, READONLY, CROSSSLOT, script errors name at
// most a script's digest), and this adds none. A script's refusal of a
// record of an unknown version is [errVersion].
func fail(err error) error {
	switch {
	case goredis.HasErrorPrefix(err, "BADVERSION"):
		return errVersion
	case strings.HasPrefix(err.Error(), "redis: "):
		return err // go-redis's own, e.g. "redis: client is closed"
	}
	return fmt.Errorf("redis: %w", err)
}

// transient reports whether err may be a lost connection, after which a
// script may or may not have run: not an answer of Redis, not the end of
// the caller's context, not a closed client.
func transient(err error) bool {
	var rerr goredis.Error
	return err != nil && !errors.As(err, &rerr) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		!errors.Is(err, goredis.ErrClosed)
}

// runAgain runs a script that is safe to repeat with the same arguments
// (Reveal and Burn, by their outcome key). When the client gives up on a
// network error it tries again, up to [retries] times with a growing
// pause, honouring ctx: each try either finds the call's recorded outcome
// or runs it for the first time.
func (s *Store) runAgain(ctx context.Context, sc *goredis.Script, keys []string, args ...any) (any, error) {
	pause := retryBackoff
	for try := 0; ; try++ {
		v, err := sc.Run(ctx, s.sc, keys, args...).Result()
		if err == nil {
			return v, nil
		}
		if try == retries || !transient(err) || s.closed.Load() {
			return nil, fail(err)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fail(ctx.Err())
		case <-t.C:
		}
		pause *= 2
	}
}

// Create implements [onetime.Store]. It is one SET NX of the pair's key
// (see codec.go) when no other pair shares the slot; otherwise, or with
// an owner on one server, one script. On a Cluster the owner's index is
// written first, in its own slot, and the pair second: a reader may meet
// an index entry whose pair is not written yet (or never will be, if the
// second step fails) and skips it; the entry is dropped when the receipt
// it names would have expired. A pair is never stored unlisted. When the
// pair exists, the index entry just added is removed again.
func (s *Store) Create(ctx context.Context, sec *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	// Records keep their partner's id without its slot, which is theirs.
	if err := onetime.CheckPair(sec, m); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	v, err := encodePair(sec, m)
	if err != nil {
		return err
	}
	key := s.pair(sec.ID)
	px := pxat(sec.ExpiresAt)
	if m.ExpiresAt.After(sec.ExpiresAt) {
		px = pxat(m.ExpiresAt)
	}
	srest, mrest := rawRest(sec.ID), rawRest(m.ID)
	args := []any{v, px, string(srest[:]), string(mrest[:])}

	var idx, added string
	if m.Owner != "" {
		idx = s.indexKey(m.Owner)
		score, tail, mpx := micros(m.Created), memberTail(m), pxat(m.ExpiresAt)
		if s.single {
			n, err := createScript.Run(ctx, s.sc, []string{key, idx}, append(args, score, tail, mpx, s.cap)...).Int64()
			return created(n, err)
		}
		if added, err = indexAddScript.Run(ctx, s.sc, []string{idx}, score, tail, mpx, s.cap).Text(); err != nil {
			return fail(err)
		}
	}
	switch err := s.sc.Do(ctx, "set", key, v, "nx", "pxat", px).Err(); err {
	case nil:
		return nil
	case goredis.Nil: // the key exists: a retry, or another pair of the slot
	default:
		return fail(err)
	}
	err = created(createScript.Run(ctx, s.sc, []string{key}, args...).Int64())
	if added != "" && errors.Is(err, onetime.ErrExists) {
		// Best effort: readers skip the entry anyway, as its receipt is
		// someone else's or absent.
		s.c.ZRem(context.WithoutCancel(ctx), idx, added)
	}
	return err
}

// created turns createScript's answer into Create's.
func created(n int64, err error) error {
	switch {
	case err != nil:
		return fail(err)
	case n == 1:
		return nil
	case n == 0:
		return onetime.ErrExists
	}
	return errReply
}

// Reveal implements [onetime.Store]: one script finds the secret, checks
// it against now, its proof and its passphrase check, and either counts a
// wrong attempt (burning the secret at its limit) or drops it from its
// pair and marks the receipt received. A repeat of the script for the
// same call (after a lost reply) answers as the first run did; once the
// answer has arrived, the outcome kept for such a repeat is deleted off
// the caller's path (see "Lost replies" in the package documentation).
// With a replay, the outcome is kept under the replay's id until its
// expiry and answered to every call that names it (see "Replays"). Past
// ctx's deadline on Redis's clock the script changes nothing (see
// "Deadlines").
func (s *Store) Reveal(ctx context.Context, id onetime.ID, c onetime.Credentials, now time.Time, replay *onetime.Replay) (*onetime.SealedSecret, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, onetime.ErrNotFound
	}
	out, err := s.outcomeFor(id, now, replay)
	if err != nil {
		return nil, err
	}
	rest := rawRest(id)
	v, err := s.runAgain(ctx, revealScript, []string{s.pairOf(out.key), out.key},
		string(rest[:]), c.Check, c.Proof, micros(now), out.px, out.till, deadline(ctx))
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case int64:
		switch v {
		case replyNotFound:
			return nil, onetime.ErrNotFound
		case replyWrong:
			s.answered(out)
			return nil, onetime.ErrWrongPassphrase
		case replyLate:
			return nil, errLate
		}
	case string:
		s.answered(out)
		return decodeSecret(id, []byte(v))
	}
	return nil, errReply
}

// Peek implements [onetime.Store]: one MGET of the pair's key and of the
// secret's key of format 1 (see legacy.go), read by Go.
func (s *Store) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, onetime.ErrNotFound
	}
	v, err := s.sc.Do(ctx, "mget", s.pair(id), s.key(id, kindSecret)).Slice()
	if err != nil {
		return nil, fail(err)
	}
	if len(v) != 2 {
		return nil, errReply
	}
	if b, ok := v[0].(string); ok {
		rest := rawRest(id)
		r, err := findRecord([]byte(b), 's', rest[:])
		if err != nil {
			return nil, err
		}
		if r != nil {
			if !r.hasSecret(now) {
				return nil, onetime.ErrNotFound
			}
			return &onetime.SecretInfo{
				PassphraseRequired: len(r.check) > 0,
				ProofRequired:      len(r.proof) > 0,
				Attempts:           r.attempts,
				MaxAttempts:        r.maxAttempts,
				ExpiresAt:          r.expires,
			}, nil
		}
	}
	b, _ := v[1].(string)
	info, err := decodeLegacyPeek([]byte(b))
	if err != nil {
		return nil, err
	}
	if info == nil || !now.Before(info.ExpiresAt) {
		return nil, onetime.ErrNotFound
	}
	return info, nil
}

// Receipt implements [onetime.Store]: one MGET of the pair's key and of
// the receipt's key of format 1, read by Go; a receipt of format 1 takes a
// script more, which reads it and its secret's presence in one step.
func (s *Store) Receipt(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, onetime.ErrNotFound
	}
	key := s.pair(id)
	v, err := s.sc.Do(ctx, "mget", key, s.key(id, kindReceipt)).Slice()
	if err != nil {
		return nil, fail(err)
	}
	if len(v) != 2 {
		return nil, errReply
	}
	m, legacy, err := pairReceipt(id, v[0], v[1], now)
	if err != nil || !legacy {
		return found(m, err)
	}
	return s.readReceipt(ctx, legacyReceiptScript, id, now)
}

// pairReceipt reads the receipt with the given id from an MGET of its
// pair's key (v) and of its key of format 1 (legacy): nil if it is missing
// or expired, and whether it is to be read from format 1.
func pairReceipt(id onetime.ID, v, legacy any, now time.Time) (*onetime.SealedMetadata, bool, error) {
	if b, ok := v.(string); ok {
		rest := rawRest(id)
		r, err := findRecord([]byte(b), 'm', rest[:])
		if err != nil {
			return nil, false, err
		}
		if r != nil {
			if !now.Before(r.expiresAt) {
				return nil, false, nil
			}
			return r.receipt(id, now), false, nil
		}
	}
	_, ok := legacy.(string)
	return nil, ok, nil
}

// found is m, or ErrNotFound for nil.
func found(m *onetime.SealedMetadata, err error) (*onetime.SealedMetadata, error) {
	if err == nil && m == nil {
		return nil, onetime.ErrNotFound
	}
	return m, err
}

// View implements [onetime.Store]: one script reads the receipt and the
// secret's presence and moves a new receipt to viewed.
func (s *Store) View(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	return s.readReceipt(ctx, viewScript, id, now)
}

// readReceipt runs viewScript or legacyReceiptScript, which answer alike.
func (s *Store) readReceipt(ctx context.Context, sc *goredis.Script, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, onetime.ErrNotFound
	}
	rest := rawRest(id)
	v, err := sc.Run(ctx, s.sc, []string{s.pair(id)}, string(rest[:]), micros(now)).Result()
	if err != nil {
		return nil, fail(err)
	}
	return found(receiptReply(id, v, now))
}

// receiptReply decodes the answer of viewScript or legacyReceiptScript:
// nil for not found.
func receiptReply(id onetime.ID, v any, now time.Time) (*onetime.SealedMetadata, error) {
	switch v := v.(type) {
	case int64:
		return nil, nil
	case []any:
		if len(v) == 2 {
			rec, ok1 := v[0].(string)
			present, ok2 := v[1].(int64)
			if ok1 && ok2 {
				m, err := decodeReceipt(id, []byte(rec), now)
				if err != nil {
					return nil, err
				}
				m.SecretPresent = present == 1
				return m, nil
			}
		}
	}
	return nil, errReply
}

// Burn implements [onetime.Store]. Like Reveal, it is one script whose
// repeat for the same call (or with the same replay id) answers as its
// first run, and that changes nothing past ctx's deadline.
func (s *Store) Burn(ctx context.Context, id onetime.ID, now time.Time, replay *onetime.Replay) (*onetime.SealedMetadata, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, onetime.ErrNotFound
	}
	out, err := s.outcomeFor(id, now, replay)
	if err != nil {
		return nil, err
	}
	rest := rawRest(id)
	v, err := s.runAgain(ctx, burnScript, []string{s.pairOf(out.key), out.key},
		string(rest[:]), micros(now), out.px, out.till, deadline(ctx))
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case int64:
		switch v {
		case replyNotFound:
			return nil, onetime.ErrNotFound
		case replyLate:
			return nil, errLate
		}
	case string:
		s.answered(out)
		m, err := decodeReceipt(id, []byte(v), now)
		if err == nil {
			m.SecretPresent = false
		}
		return m, err
	}
	return nil, errReply
}

// Recent implements [onetime.Store]. On one server it is one script. On a
// Cluster it takes one round trip to read the owner's index and one
// pipelined batch (a round trip to each master, in parallel) to read the
// receipts, repeated only when some entries turn out dangling. It lists at
// most [MaxIndexed] receipts.
func (s *Store) Recent(ctx context.Context, owner string, now time.Time, limit int) ([]*onetime.SealedMetadata, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	if owner == "" || limit <= 0 {
		return nil, nil
	}
	limit = min(limit, s.cap)
	if s.single {
		return s.recentOne(ctx, owner, now, limit)
	}
	return s.recentPartitioned(ctx, owner, now, limit)
}

func (s *Store) recentOne(ctx context.Context, owner string, now time.Time, limit int) ([]*onetime.SealedMetadata, error) {
	v, err := recentScript.Run(ctx, s.sc, []string{s.indexKey(owner)}, s.prefix, micros(now), limit).Slice()
	if err != nil {
		return nil, fail(err)
	}
	if len(v)%3 != 0 {
		return nil, errReply
	}
	out := make([]*onetime.SealedMetadata, 0, len(v)/3)
	seen := make(map[onetime.ID]bool, len(v)/3)
	for i := 0; i < len(v); i += 3 {
		member, ok1 := v[i].(string)
		id, ok2 := memberID(member)
		if !ok1 || !ok2 {
			return nil, errReply
		}
		m, err := receiptReply(id, []any{v[i+1], v[i+2]}, now)
		if err != nil {
			return nil, err
		}
		if m == nil || m.Owner != owner || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, m)
	}
	return out, nil
}

func (s *Store) recentPartitioned(ctx context.Context, owner string, now time.Time, limit int) ([]*onetime.SealedMetadata, error) {
	idx := s.indexKey(owner)
	var out []*onetime.SealedMetadata
	seen := make(map[onetime.ID]bool)
	for offset := 0; len(out) < limit; {
		count := limit - len(out) + 8 // a little slack for dangling entries
		v, err := recentIndexScript.Run(ctx, s.sc, []string{idx}, offset, count).Slice()
		if err != nil {
			return nil, fail(err)
		}
		if len(v) == 0 {
			return nil, errReply
		}
		dropped, ok := v[0].(int64)
		if !ok {
			return nil, errReply
		}
		ids := make([]onetime.ID, 0, len(v)-1)
		for _, x := range v[1:] {
			member, _ := x.(string)
			id, ok := memberID(member)
			if !ok {
				return nil, errReply
			}
			ids = append(ids, id)
		}
		ms, err := s.receipts(ctx, ids, now)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m == nil || m.Owner != owner || seen[m.ID] || len(out) == limit {
				continue // dangling, not the owner's (a rejected Create), or listed
			}
			seen[m.ID] = true
			out = append(out, m)
		}
		if len(ids)+int(dropped) < count {
			break // the index is exhausted
		}
		offset += len(ids)
	}
	return out, nil
}

// receipts reads many receipts, on any shards, in one pipeline of MGETs
// (goredis sends each shard its part at once); a receipt of format 1
// takes a script more. Missing or expired ones are nil.
func (s *Store) receipts(ctx context.Context, ids []onetime.ID, now time.Time) ([]*onetime.SealedMetadata, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*goredis.SliceCmd, len(ids))
	s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.MGet(ctx, s.pair(id), s.key(id, kindReceipt))
		}
		return nil
	})
	out := make([]*onetime.SealedMetadata, len(ids))
	for i, cmd := range cmds {
		v, err := cmd.Result()
		if err != nil {
			return nil, fail(err)
		}
		if len(v) != 2 {
			return nil, errReply
		}
		m, legacy, err := pairReceipt(ids[i], v[0], v[1], now)
		if err != nil {
			return nil, err
		}
		if legacy {
			m, err = s.readReceipt(ctx, legacyReceiptScript, ids[i], now)
			if errors.Is(err, onetime.ErrNotFound) {
				m, err = nil, nil
			}
			if err != nil {
				return nil, err
			}
		}
		out[i] = m
	}
	return out, nil
}

// Sweep implements [onetime.Store]. It removes nothing and returns 0:
// Redis expires every record by itself at its ExpiresAt (PEXPIREAT), and
// owner-index entries are dropped by Create and Recent once Redis has
// expired their receipts, and by the index's cap.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	if err := s.ready(ctx); err != nil {
		return 0, err
	}
	return 0, nil
}

// Close marks the store closed; later calls return [onetime.ErrClosed].
// It waits for the deletion of the outcome keys that Reveal and Burn
// calls left (one DEL, bounded by the client's timeouts), and does not
// close the client, which is the caller's, nor the client's pipeliner,
// which other Stores on the client may share. Calling it again is a
// no-op.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.settle(true)
	return nil
}

var _ onetime.Store = (*Store)(nil)
