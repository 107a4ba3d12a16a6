package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onetimego/onetime/zk"
)

// The zero-knowledge mode (docs/zero-knowledge.md, format zk1): the value
// is sealed here under a fresh key that travels only in the link's
// fragment, and the server keeps the ciphertext with verifiers of the
// proofs that open it. See "Zero-knowledge links" in the package doc.

// What a Client knows of the server's zero-knowledge shares.
const (
	zkUnknown int32 = iota // no status read yet
	zkYes                  // the status lists zk1
	zkNo                   // it does not: the reference, an older server
)

// maxPassphraseLen is the longest passphrase v1 servers take (in
// characters). In the zero-knowledge mode the server never sees the
// passphrase, so the client enforces it.
const maxPassphraseLen = 128

// zkPrefix starts every zk1 value.
const zkPrefix = zk.Scheme + "."

// ErrUnsealed means that a value revealed with a link's key is a zk1
// value that does not open with that key and passphrase: the sender
// sealed it under another (or something changed it on the way). The
// server has consumed the secret all the same, since the proofs were
// right.
var ErrUnsealed = errors.New("client: the revealed value does not open with the link's key")

// ZeroKnowledge reports whether the server takes zero-knowledge shares:
// whether its status lists zk1 ("zero_knowledge":["zk1"]). The status is
// asked once and what it says is kept; [Client.Status] refreshes it. A
// server that does not list it (the reference service, an older server),
// that has no status route or whose status is not the API's, gets every
// share in the server-side mode. Any other failure to read the status
// (the network, a server error, a rate limit, bad credentials) is
// returned, and a share waits for an answer rather than guess.
func (c *Client) ZeroKnowledge(ctx context.Context) (bool, error) {
	switch c.zk.Load() {
	case zkYes:
		return true, nil
	case zkNo:
		return false, nil
	}
	if _, err := c.Status(ctx); err != nil {
		if ae, ok := errors.AsType[*APIError](err); (ok && ae.IntendedStatus == http.StatusNotFound) || errors.Is(err, ErrMalformedAnswer) {
			// No status route, or an answer that is not the API's: a
			// server that lists nothing. Any other failure is returned:
			// taken for a "no", it would send the value to a server that
			// takes it sealed.
			c.zk.Store(zkNo)
			return false, nil
		}
		return false, err
	}
	return c.zk.Load() == zkYes, nil
}

// sealsHere reports whether a share is sealed here: the client is not
// made Plain, and the server takes zk1.
func (c *Client) sealsHere(ctx context.Context) (bool, error) {
	if c.plain {
		return false, nil
	}
	return c.ZeroKnowledge(ctx)
}

// shareSealed shares value in the zero-knowledge mode: sealed here under
// a fresh link key (and the passphrase, derived here), and registered
// with the verifiers of the proofs. The answer's Link carries the key in
// its fragment.
func (c *Client) shareSealed(ctx context.Context, value, passphrase string, ttl time.Duration, recipients []string, what string) (*Metadata, error) {
	for _, r := range recipients {
		if strings.TrimSpace(r) != "" {
			// The server never sees the link's key: it could only mail
			// a link that does not open.
			return nil, &InputError{"the server cannot e-mail a zero-knowledge link, whose key it never sees: send the link yourself, or share in the plain mode (Options.Plain)"}
		}
	}
	if err := checkPassphrase(passphrase); err != nil {
		return nil, err
	}
	key, err := zk.NewKey()
	if err != nil {
		return nil, fmt.Errorf("client: making a link key: %w", err)
	}
	d, err := zk.Derive(key, passphrase)
	if err != nil {
		return nil, fmt.Errorf("client: deriving the link's keys: %w", err)
	}
	sealed, err := d.Seal([]byte(value))
	if err != nil {
		return nil, fmt.Errorf("client: sealing the value: %w", err)
	}
	v := d.Verifier()
	form := url.Values{"secret": {sealed}, "proof_verifier": {zk.EncodeBytes(v.Key)}}
	if v.Passphrase != nil {
		form.Set("passphrase_verifier", zk.EncodeBytes(v.Passphrase))
	}
	if err := addCommon(form, "", ttl, nil); err != nil {
		return nil, err
	}
	body, err := c.send(ctx, newPost("share", "share", form))
	if err != nil {
		return nil, err
	}
	m, err := decodeCreated(body, what)
	if err != nil {
		return nil, err
	}
	m.ZeroKnowledge = true
	m.Link = SecretKey(c.SecretLink(m.SecretKey) + "#" + key.Fragment())
	return m, nil
}

// checkPassphrase applies the server's rules to a passphrase that the
// server will never see: UTF-8 text (the pages could not type anything
// else) of at most maxPassphraseLen characters.
func checkPassphrase(p string) error {
	switch {
	case !utf8.ValidString(p):
		return &InputError{"the passphrase is not UTF-8 text"}
	case utf8.RuneCountInString(p) > maxPassphraseLen:
		return &InputError{fmt.Sprintf("the passphrase is longer than %d characters", maxPassphraseLen)}
	}
	return nil
}

// RevealWithKey reveals, once, a secret shared in the zero-knowledge
// mode: it derives the proofs from the link's key lk and the passphrase
// ("" for none) here, presents them, and opens the answer here. Neither
// the key nor the passphrase leaves the client. key is the secret key
// or a link to it; [Client.Reveal] calls this for a link whose fragment
// holds the key (BASE/secret/KEY#FRAGMENT).
//
// A proof of another key answers [ErrNotFound] and leaves the secret as
// it was. With the right key, a wrong or missing passphrase answers
// [ErrNotFound] and counts as an attempt, as in the server-side mode. A
// value that is not a zk1 value (a secret shared in the server-side mode
// without a passphrase) is returned as it is; a zk1 value that does not
// open is [ErrUnsealed]. With a passphrase, the derivation takes a good
// part of a second (PBKDF2, see package zk).
func (c *Client) RevealWithKey(ctx context.Context, key SecretKey, lk zk.Key, passphrase string) (*Secret, error) {
	k, err := key.parse()
	if err != nil {
		return nil, err
	}
	d, err := zk.Derive(lk, passphrase)
	if err != nil {
		return nil, fmt.Errorf("client: deriving the link's keys: %w", err)
	}
	p := d.Proof()
	form := url.Values{"proof": {zk.EncodeBytes(p.Key)}}
	if p.Passphrase != nil {
		form.Set("passphrase_proof", zk.EncodeBytes(p.Passphrase))
	}
	body, err := c.send(ctx, newPost("secret/"+k, "secret/{key}", form))
	if err != nil {
		return nil, err
	}
	s, err := decodeSecret(body, k)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(s.Value, zkPrefix) {
		return s, nil
	}
	v, err := d.Open(s.Value)
	if err != nil {
		return nil, ErrUnsealed
	}
	s.Value, s.ZeroKnowledge = string(v), true
	return s, nil
}

// linkKey returns the zk1 key in the fragment of a link given as a
// SecretKey, and false when there is no fragment (a key, a link of the
// server-side mode). A fragment that is not a zk1 key is an
// [ErrInvalidKey] that does not quote it.
func linkKey(s SecretKey) (zk.Key, bool, error) {
	_, frag, ok := strings.Cut(strings.TrimSpace(string(s)), "#")
	if !ok || frag == "" {
		return zk.Key{}, false, nil
	}
	lk, err := zk.ParseKey(frag)
	if err != nil {
		return zk.Key{}, false, &keyError{"the link's key (after #) is not a zero-knowledge key: copy the whole link"}
	}
	return lk, true, nil
}

// Generated passwords avoid look-alikes (i l o 1 I O 0), as the
// server's do.
const (
	genUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	genLower   = "abcdefghjkmnpqrstuvwxyz"
	genDigits  = "23456789"
	genSymbols = "!#$%&*+-=?@^_"
	genAll     = genUpper + genLower + genDigits + genSymbols
)

// The lengths of a generated password, as v1 servers clamp them.
const (
	defaultPasswordLength = 12
	minPasswordLength     = 4
	maxPasswordLength     = 128
)

// generatePassword makes a password as v1 servers do, here: the
// zero-knowledge mode has no generate on the server, which would see it.
// It holds at least one upper case letter, lower case letter, digit and
// symbol, in random positions, drawn with crypto/rand.
func generatePassword(length int) string {
	switch {
	case length == 0:
		length = defaultPasswordLength
	case length < minPasswordLength:
		length = minPasswordLength
	case length > maxPasswordLength:
		length = maxPasswordLength
	}
	p := make([]byte, length)
	sets := [...]string{genUpper, genLower, genDigits, genSymbols}
	for i, set := range sets {
		p[i] = set[randIndex(len(set))]
	}
	for i := len(sets); i < length; i++ {
		p[i] = genAll[randIndex(len(genAll))]
	}
	for i := length - 1; i > 0; i-- { // Fisher-Yates
		j := randIndex(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return string(p)
}

// randIndex returns a uniform random integer in [0, n), n <= 256, by
// rejection from crypto/rand's bytes.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:]) // never fails (crypto/rand, Go 1.24 and later)
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}
