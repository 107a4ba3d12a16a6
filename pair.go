package onetime

import "fmt"

// errPair is what CheckPair answers for a pair no Store may keep.
var errPair = fmt.Errorf("ids malformed, in two slots, or not naming each other: %w", ErrInvalid)

// CheckPair reports whether a [Store] may keep the pair s and m, for a
// store author's Create: both ids are [ID.Valid], they share one
// [ID.Slot], and each record names the other (s.MetadataID is m.ID,
// m.SecretID is s.ID). Otherwise it returns an error that wraps
// [ErrInvalid] and names no id; the store returns it, wrapped in its own
// words ("mystore: %w"), and writes nothing. A Service never makes such a
// pair: the check guards a store against a caller that is not one.
func CheckPair(s *SealedSecret, m *SealedMetadata) error {
	if s == nil || m == nil || !s.ID.Valid() || !m.ID.Valid() || s.ID.Slot() != m.ID.Slot() ||
		s.MetadataID != m.ID || m.SecretID != s.ID {
		return errPair
	}
	return nil
}
