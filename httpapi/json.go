package httpapi

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/onetimego/onetime"
)

// The v1 answers are written by hand rather than through encoding/json, so
// that field order, presence and types are exactly the spec's and cannot
// drift with a struct tag or a map's order.

// receiptMode selects the variant of a receipt object.
type receiptMode uint8

const (
	modeReceipt  receiptMode = iota // share, receipt, burn
	modeGenerate                    // with value
	modeRecent                      // no secret_key, no passphrase_required, secret_ttl null
)

// appendReceipt writes r as a v1 receipt object.
func appendReceipt(b []byte, r *onetime.Metadata, mode receiptMode) []byte {
	alive := r.Alive()
	received := r.State == onetime.StateReceived
	custid := r.Owner
	if custid == "" {
		custid = "anon"
	}
	b = append(b, `{"custid":`...)
	b = appendString(b, custid)
	b = append(b, `,"metadata_key":`...)
	b = appendString(b, string(r.MetadataKey))
	if mode != modeRecent && !received {
		b = append(b, `,"secret_key":`...)
		if alive {
			b = appendString(b, string(r.SecretKey))
		} else {
			b = append(b, `""`...)
		}
	}
	b = append(b, `,"ttl":`...)
	b = strconv.AppendInt(b, seconds(r.TTL), 10)
	b = append(b, `,"metadata_ttl":`...)
	b = strconv.AppendInt(b, seconds(r.MetadataTTL), 10)
	switch {
	case mode == modeRecent:
		b = append(b, `,"secret_ttl":null`...)
	case received:
	case alive:
		b = append(b, `,"secret_ttl":`...)
		b = strconv.AppendInt(b, seconds(r.SecretTTL), 10)
	default:
		b = append(b, `,"secret_ttl":null`...)
	}
	b = append(b, `,"state":`...)
	b = appendString(b, r.State.String())
	b = append(b, `,"updated":`...)
	b = strconv.AppendInt(b, r.Updated.Unix(), 10)
	b = append(b, `,"created":`...)
	b = strconv.AppendInt(b, r.Created.Unix(), 10)
	if received {
		b = append(b, `,"received":`...)
		b = strconv.AppendInt(b, r.Received.Unix(), 10)
	}
	b = append(b, `,"recipient":[`...)
	for i, rc := range r.Recipients {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, rc)
	}
	b = append(b, `],"share_domain":`...)
	b = appendString(b, r.ShareDomain)
	if mode == modeGenerate {
		b = append(b, `,"value":`...)
		b = appendString(b, string(r.Value))
	}
	if mode != modeRecent && alive {
		b = append(b, `,"passphrase_required":`...)
		b = strconv.AppendBool(b, r.PassphraseRequired)
	}
	return append(b, '}')
}

// receiptSize is the room a receipt's JSON takes, escapes aside: what
// its buffer is made with, rather than grown by doubling.
func receiptSize(r *onetime.Metadata) int {
	n := 400 + len(r.Owner) + len(r.MetadataKey) + len(r.SecretKey) + len(r.ShareDomain) + len(r.Value)
	for _, rc := range r.Recipients {
		n += len(rc) + 3
	}
	return n
}

// seconds rounds a duration up to whole seconds, so that a lifetime still
// running never reads 0; negative durations read 0.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD
// (as encoding/json does); the values this package writes are checked to
// be UTF-8 before they are stored. <, > and & are escaped so that a body
// sniffed as HTML is inert.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
