package client

import (
	"log/slog"
	"net/url"
	"strings"
)

// A SecretKey is the reader's capability: it reveals a secret, once.
// Where a method takes one, it also takes the link a user would paste,
// BASE/secret/KEY, as a SecretKey(link).
type SecretKey string

// A MetadataKey is the creator's capability: it reads the secret's
// receipt and burns the secret while unread. Where a method takes one, it
// also takes a link to the receipt, BASE/private/KEY (or /receipt/KEY,
// /metadata/KEY), as a MetadataKey(link).
type MetadataKey string

// LogValue keeps the key out of log/slog output.
func (SecretKey) LogValue() slog.Value { return slog.StringValue("[secret key]") }

// LogValue keeps the key out of log/slog output.
func (MetadataKey) LogValue() slog.Value { return slog.StringValue("[metadata key]") }

// Key returns the key itself, taken out of a link if k is one. The error
// is [ErrInvalidKey] when k is neither a key nor a link to a secret.
func (k SecretKey) Key() (SecretKey, error) {
	s, err := k.parse()
	return SecretKey(s), err
}

// Key returns the key itself, taken out of a link if k is one. The error
// is [ErrInvalidKey] when k is neither a key nor a link to a receipt.
func (k MetadataKey) Key() (MetadataKey, error) {
	s, err := k.parse()
	return MetadataKey(s), err
}

func (k SecretKey) parse() (string, error) {
	return parseKey(string(k), secretSegments, receiptSegments, "a receipt link where a secret key or link belongs")
}

func (k MetadataKey) parse() (string, error) {
	return parseKey(string(k), receiptSegments, secretSegments, "a secret link where a receipt key or link belongs")
}

var (
	secretSegments  = []string{"secret"}
	receiptSegments = []string{"private", "receipt", "metadata"}
)

// parseKey returns the key of s: s itself when it is a key, or the path
// element after one of the segments want in a link. A link of the other
// kind (segments not) is refused with the message wrong. No error carries
// s.
func parseKey(s string, want, not []string, wrong string) (string, error) {
	s = strings.TrimSpace(s)
	if validKey(s) {
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Path == "" {
		return "", ErrInvalidKey
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	// The last segment naming a key, so that BASE may itself hold
	// anything, e.g. https://host/ots/secret/KEY.
	for i := len(parts) - 2; i >= 0; i-- {
		seg, key := parts[i], parts[i+1]
		// A receipt link may go on with /burn: the key is still there.
		if i+2 < len(parts) && !(i+3 == len(parts) && parts[i+2] == "burn") {
			continue
		}
		if !validKey(key) {
			continue
		}
		for _, w := range want {
			if seg == w {
				return key, nil
			}
		}
		for _, n := range not {
			if seg == n {
				return "", &keyError{wrong}
			}
		}
	}
	return "", ErrInvalidKey
}

// keyError is an [ErrInvalidKey] with a precise message.
type keyError struct{ msg string }

func (e *keyError) Error() string        { return "client: " + e.msg }
func (e *keyError) Is(target error) bool { return target == ErrInvalidKey }

// validKey reports whether s is a key: lowercase letters and digits. Keys
// are opaque otherwise (any length).
func validKey(s string) bool {
	if s == "" || s == "recent" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
