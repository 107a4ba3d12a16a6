package frontdoor

import (
	"errors"
	"math"
	"time"
	"unicode/utf8"

	"github.com/onetimego/onetime"
)

// The refusals of a share's or a password's parameters, the same whether
// they come through the API or the pages. The handlers answer each in
// their own way ("Invalid TTL", or the share form again with the field
// marked).
var (
	// ErrInvalidTTL means a ttl that is not an integer number of seconds.
	ErrInvalidTTL = errors.New("frontdoor: invalid TTL")
	// ErrInvalidLength means a length that is not an integer.
	ErrInvalidLength = errors.New("frontdoor: invalid length")
	// ErrNotUTF8 means a secret value that is not UTF-8 text.
	ErrNotUTF8 = errors.New("frontdoor: secret value is not UTF-8 text")
)

// TTL returns the lifetime asked for in seconds by the ttl parameter: zero
// when there is none (the service's default), and [ErrInvalidTTL] when it
// is not an integer (see parseInt: "3600", "+60", "1e3" and "3600.0" are).
// It is not clamped here: the service clamps it into its bounds for the
// caller (a negative lifetime to the shortest), for the API and the pages
// alike. A number beyond time.Duration saturates.
func (p Params) TTL() (time.Duration, error) {
	s := p.Get(ParamTTL)
	if s == "" {
		return 0, nil
	}
	n, ok := parseInt(s)
	if !ok {
		return 0, ErrInvalidTTL
	}
	return secondsToDuration(n), nil
}

// Length returns the length of a password to generate: zero when there is
// none (the service's default), otherwise clamped into
// [onetime.MinPasswordLength, onetime.MaxPasswordLength] (0 and negatives
// are the minimum), and [ErrInvalidLength] when it is not an integer.
func (p Params) Length() (int, error) {
	s := p.Get(ParamLength)
	if s == "" {
		return 0, nil
	}
	n, ok := parseInt(s)
	if !ok {
		return 0, ErrInvalidLength
	}
	return int(min(max(n, onetime.MinPasswordLength), onetime.MaxPasswordLength)), nil
}

// CheckValue returns [ErrNotUTF8] for a secret value that is not UTF-8
// text: neither the API's JSON nor a page can hand it back byte for byte,
// so it is refused rather than turned into something else when read. A
// value larger than maxSize is left to the service, which refuses it as
// too large whatever its bytes. (A JSON body's lone surrogate escape,
// "\ud800", arrives as the invalid bytes it stands for, and is refused the
// same way.)
func CheckValue(value string, maxSize int) error {
	if len(value) <= maxSize && !utf8.ValidString(value) {
		return ErrNotUTF8
	}
	return nil
}

// secondsToDuration converts a number of seconds, saturating; the service
// clamps the result into its bounds.
func secondsToDuration(n int64) time.Duration {
	const limit = math.MaxInt64 / int64(time.Second)
	switch {
	case n > limit:
		return time.Duration(math.MaxInt64)
	case n < -limit:
		return -time.Duration(math.MaxInt64)
	}
	return time.Duration(n) * time.Second
}
