package frontdoor

import (
	"errors"
	"net/http"
	"strings"
)

// IdempotencyHeader is the request header that carries a caller's
// idempotency key: the name the IETF httpapi draft
// (draft-ietf-httpapi-idempotency-key-header) gives it.
const IdempotencyHeader = "Idempotency-Key"

// MaxIdempotencyKeyLen bounds an idempotency key, in bytes. A UUID (36) or
// a random token fits many times over; what the Service derives from a key
// is a fixed-size hash, so the bound only keeps requests small.
const MaxIdempotencyKeyLen = 255

// ErrBadIdempotencyKey means an Idempotency-Key header (or a form's nonce)
// that is not a key: empty, too long, given twice, or holding characters
// other than printable ASCII. The handlers refuse such a request rather
// than serve it without a key, which would make a retry of it unsafe.
var ErrBadIdempotencyKey = errors.New("frontdoor: malformed Idempotency-Key")

// IdempotencyKey returns the key of the request's Idempotency-Key header,
// "" when the request has none.
//
// The draft makes the header a Structured Field string (RFC 8941), sent
// quoted: `Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`, which
// is how package client sends it. Many clients send the bare token instead,
// so both are read, and name the same key (the text inside the quotes):
//
//   - quoted: a double quote, 1 to [MaxIdempotencyKeyLen] printable ASCII
//     characters (space included) with '"' and '\' escaped by a backslash
//     as RFC 8941 says, and a closing double quote, nothing after it;
//   - bare: 1 to [MaxIdempotencyKeyLen] visible ASCII characters (no
//     space), not starting with a double quote.
//
// Anything else, and a header given more than once, is
// [ErrBadIdempotencyKey].
func IdempotencyKey(h http.Header) (string, error) {
	vs := h.Values(IdempotencyHeader)
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", ErrBadIdempotencyKey
	}
	v := strings.Trim(vs[0], " \t")
	if strings.HasPrefix(v, `"`) {
		return unquoteKey(v)
	}
	if !ValidIdempotencyKey(v) {
		return "", ErrBadIdempotencyKey
	}
	return v, nil
}

// ValidIdempotencyKey reports whether s can be used as an idempotency key
// as it is: 1 to [MaxIdempotencyKeyLen] visible ASCII characters (the bare
// form of the header; also what the pages accept as a form's nonce).
func ValidIdempotencyKey(s string) bool {
	if len(s) == 0 || len(s) > MaxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// unquoteKey reads an RFC 8941 string that makes up the whole of v (which
// starts with '"') and returns its text.
func unquoteKey(v string) (string, error) {
	if !strings.Contains(v, `\`) {
		// The usual key, without escapes: its text is a part of v.
		in, ok := strings.CutSuffix(v[1:], `"`)
		if !ok || len(in) == 0 || len(in) > MaxIdempotencyKeyLen || strings.Contains(in, `"`) || !printable(in) {
			return "", ErrBadIdempotencyKey
		}
		return in, nil
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\':
			i++
			if i == len(v) || (v[i] != '"' && v[i] != '\\') {
				return "", ErrBadIdempotencyKey
			}
			b.WriteByte(v[i])
		case c == '"':
			if i != len(v)-1 || b.Len() == 0 || b.Len() > MaxIdempotencyKeyLen {
				return "", ErrBadIdempotencyKey
			}
			return b.String(), nil
		case c < 0x20 || c > 0x7e:
			return "", ErrBadIdempotencyKey
		default:
			b.WriteByte(c)
		}
		if b.Len() > MaxIdempotencyKeyLen {
			return "", ErrBadIdempotencyKey
		}
	}
	return "", ErrBadIdempotencyKey // no closing quote
}

// printable reports whether s is printable ASCII, space included.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
