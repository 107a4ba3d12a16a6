package redis

import (
	"encoding/binary"

	"github.com/onetimego/onetime"
)

// Format 1, the records that the Store wrote before format 2 (codec.go):
// two keys per pair, each holding one record, which this code still reads
// and changes so that a store upgraded in place keeps serving the secrets
// and receipts stored before (see "Upgrading from format 1" in the
// package documentation). It writes no new ones.
//
//	<prefix>{<slot>}s<id>     the secret
//	<prefix>{<slot>}m<id>     its receipt
//
// where id is the rest of the record's id in base64url. Each key has its
// record's own expiry. All integers are big-endian; times are as in
// format 2.
//
// Secret, 29 bytes of header:
//
//	0  version      u8 (1)
//	1  expiresAt    i7
//	8  metadata id  16 bytes: the id after its slot, raw
//	24 attempts     u16
//	26 maxAttempts  u16
//	28 len(check)   u8
//	29 check, then uvarint len(domain), domain, sealed (rest)
//
// Receipt, 61 bytes of header:
//
//	0  version      u8 (1)
//	1  state        u8
//	2  created      i7
//	9  updated      i7
//	16 received     i7
//	23 burned       i7
//	30 secretExpiresAt i7
//	37 expiresAt    i7
//	44 secret id    16 bytes: the id after its slot, raw
//	60 flags        u8 (bit 0: passphrase required)
//	61 uvarint len(owner), owner, uvarint len(domain), domain,
//	   uvarint len(sealed), sealed, ownerSealed (rest)
//
// The scripts read these records with the functions of luaLegacy
// (scripts.go) when a pair's key of format 2 does not name the id asked
// for: the very scripts of format 1, which patch the receipt's header in
// place with SETRANGE and delete the secret's key.

const (
	// formatLegacy is the version byte of every format-1 record.
	formatLegacy = 1

	legacySecretHeader  = 29
	legacyReceiptHeader = 61
)

func decodeLegacySecret(id onetime.ID, b []byte) (*onetime.SealedSecret, error) {
	if len(b) > 0 && b[0] != formatLegacy {
		return nil, errVersion
	}
	if len(b) < legacySecretHeader || len(b) < legacySecretHeader+int(b[28]) {
		return nil, errFormat
	}
	s := &onetime.SealedSecret{
		ID:          id,
		MetadataID:  idFrom(id.Slot(), b[8:24]),
		Attempts:    int(binary.BigEndian.Uint16(b[24:])),
		MaxAttempts: int(binary.BigEndian.Uint16(b[26:])),
		ExpiresAt:   getTime(b[1:]),
	}
	rest := b[legacySecretHeader:]
	if n := int(b[28]); n > 0 {
		s.Check, rest = append([]byte(nil), rest[:n]...), rest[n:]
	}
	dom, rest, err := field(rest)
	if err != nil {
		return nil, err
	}
	s.ShareDomain = string(dom)
	s.Sealed = append([]byte{}, rest...)
	return s, nil
}

func decodeLegacyReceipt(id onetime.ID, b []byte) (*onetime.SealedMetadata, error) {
	if len(b) > 0 && b[0] != formatLegacy {
		return nil, errVersion
	}
	if len(b) < legacyReceiptHeader {
		return nil, errFormat
	}
	m := &onetime.SealedMetadata{
		ID:                 id,
		SecretID:           idFrom(id.Slot(), b[44:60]),
		State:              onetime.State(b[1]),
		PassphraseRequired: b[60]&1 != 0,
		Created:            getTime(b[2:]),
		Updated:            getTime(b[9:]),
		Received:           getTime(b[16:]),
		Burned:             getTime(b[23:]),
		SecretExpiresAt:    getTime(b[30:]),
		ExpiresAt:          getTime(b[37:]),
	}
	rest := b[legacyReceiptHeader:]
	var owner, dom, sealed []byte
	var err error
	if owner, rest, err = field(rest); err != nil {
		return nil, err
	}
	if dom, rest, err = field(rest); err != nil {
		return nil, err
	}
	if sealed, rest, err = field(rest); err != nil {
		return nil, err
	}
	m.Owner, m.ShareDomain = string(owner), string(dom)
	m.Sealed = append([]byte{}, sealed...)
	if len(rest) > 0 {
		m.OwnerSealed = append([]byte(nil), rest...)
	}
	return m, nil
}

// decodeLegacyPeek reads what Peek tells from a format-1 secret record. It
// returns nil for an empty b, a missing key.
func decodeLegacyPeek(b []byte) (*onetime.SecretInfo, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if b[0] != formatLegacy {
		return nil, errVersion
	}
	if len(b) < legacySecretHeader {
		return nil, errFormat
	}
	return &onetime.SecretInfo{
		PassphraseRequired: b[28] > 0,
		Attempts:           int(binary.BigEndian.Uint16(b[24:])),
		MaxAttempts:        int(binary.BigEndian.Uint16(b[26:])),
		ExpiresAt:          getTime(b[1:]),
	}, nil
}
