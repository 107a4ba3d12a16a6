package onetime

import (
	"context"
	"crypto/sha256"
	"errors"
	"strconv"
	"time"
)

// Idempotency: a caller that sends an idempotency key ([WithIdempotencyKey])
// may repeat a call whose answer it lost, and gets the first answer again.
//
//   - Reveal and Burn give the store a [Replay] whose id is a keyed hash of
//     the operation, the caller's key and the idempotency key (and, for
//     Reveal, the passphrase); the store records the outcome under it, in
//     the same atomic step as the change, for Options.ReplayWindow.
//   - Share and Generate store nothing more: their keys (and the generated
//     password) are drawn from a source derived from the idempotency key,
//     the owner, the request and the window the call falls in, so that a
//     repeat makes the same pair, which the store refuses as existing; the
//     repeat then answers the receipt already stored.

// idempotencyKey returns the idempotency key that ctx carries, or "" when
// it carries none or Options.ReplayWindow turns idempotency off.
func (s *Service) idempotencyKey(ctx context.Context) string {
	if s.opts.ReplayWindow <= 0 {
		return ""
	}
	return idempotencyKeyFrom(ctx)
}

// replay returns the Replay of a consuming call on the record id made at
// now with the idempotency key idem, or nil without a key. parts name the
// call: the operation, the caller's key, and what else makes it this call.
func (s *Service) replay(id ID, now time.Time, idem string, parts ...string) *Replay {
	if idem == "" {
		return nil
	}
	return &Replay{
		ID:        s.seal.replayID(id, append(parts, idem)...),
		ExpiresAt: now.Add(s.opts.ReplayWindow),
	}
}

// shareSources returns, for a Share (length 0) or Generate made at now
// with an idempotency key, functions that return the source of the pair's
// keys in this window and in the one before: windows are ReplayWindow long,
// so a repeat within ReplayWindow of the first call falls in the first
// call's window or the next. Without a key it returns nils.
//
// A pair made from the same source lives at least 2 x MinTTL, which is at
// least ReplayWindow (see Options), so while a source can recur its pair
// is still stored: a repeat always meets it, and no pair is ever made
// twice under the same keys.
func (s *Service) shareSources(ctx context.Context, req ShareRequest, length int, now time.Time) (cur, prev func() source) {
	idem := s.idempotencyKey(ctx)
	if idem == "" {
		return nil, nil
	}
	op := "share"
	if length > 0 {
		op = "generate"
	}
	fp := fingerprint(req, length)
	window := now.UnixNano() / int64(s.opts.ReplayWindow)
	in := func(w int64) func() source {
		return func() source {
			return s.seal.derivedSource(op, req.Owner, idem, string(fp[:]), strconv.FormatInt(w, 10))
		}
	}
	return in(window), in(window - 1)
}

// fingerprint is a hash of every field of a share request: a repeat with
// the same idempotency key but another request is another request.
func fingerprint(req ShareRequest, length int) [sha256.Size]byte {
	parts := []string{string(req.Value), req.Passphrase, req.ShareDomain,
		strconv.FormatInt(int64(req.TTL), 10), strconv.FormatInt(int64(req.MaxTTL), 10),
		strconv.Itoa(length), strconv.Itoa(len(req.Recipients))}
	parts = append(parts, req.Recipients...)
	return sha256.Sum256([]byte(framed('f', parts)))
}

// drawn is what a new pair is made of: its keys, the owner's seed of an
// owned receipt, and the password of a Generate (nil for a Share).
type drawn struct {
	secretKey, metadataKey string
	ownerSeed              []byte
	value                  []byte
}

// draw takes from src, in this order, a password of length (none when 0)
// and the keys of a pair for owner. The order is fixed: a repeat that
// draws from the same source gets the same.
func (s *Service) draw(owner string, length int, src source) drawn {
	var d drawn
	if length > 0 {
		d.value = generatePassword(length, src)
	}
	if owner == "" {
		d.secretKey, d.metadataKey = newKeyPair(src)
	} else {
		d.secretKey, d.metadataKey, d.ownerSeed = s.seal.newOwnedKeyPair(owner, src)
	}
	return d
}

// earlier returns the answer that a Share or Generate gave when it stored
// the pair that src makes, if that pair's receipt is stored and was created
// within ReplayWindow before now; else nil and no error. It reads the
// receipt without moving it, and answers it as it was first answered: new,
// with both keys and, for a Generate, the password.
func (s *Service) earlier(ctx context.Context, owner string, length int, src source, now time.Time) (*Metadata, error) {
	d := s.draw(owner, length, src)
	sm, err := s.store.Receipt(ctx, s.seal.metadataID(d.metadataKey), now)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !now.Before(sm.Created.Add(s.opts.ReplayWindow)) || sm.Owner != owner {
		return nil, nil
	}
	p, err := s.openPayload(sm, d.metadataKey)
	if err != nil || p.secretKey != d.secretKey {
		return nil, nil // not this service's pair: a new one with random keys
	}
	first := *sm
	first.State, first.SecretPresent = StateNew, true
	first.Updated, first.Received, first.Burned = sm.Created, time.Time{}, time.Time{}
	m := s.metadata(&first, d.metadataKey, p.secretKey, p.recipients, sm.Created)
	m.Value = d.value
	return m, nil
}
