package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/onetimego/onetime"
)

// The v1 answers are the types below, whose fields are declared in the
// order of the v1 specification, with omitempty on exactly the fields the
// specification leaves out: as encoding/json would write them. Each has an
// appendJSON method that writes those very bytes (the tests hold it to
// json.Marshal, byte for byte, and the wire tests check field names,
// order, presence and types): an answer is written on every request, and
// encoding/json's reflection and its copy of the output cost a share
// about a tenth of its time in the handler.

// A receipt is a v1 receipt object. Its pointers point into the
// onetime.Metadata it is made from (see newReceipt), so that one made on
// the stack stays there.
type receipt struct {
	Custid      string `json:"custid"`
	MetadataKey string `json:"metadata_key"`
	// SecretKey is absent once the secret is received, and from recent;
	// "" once the secret is gone otherwise.
	SecretKey   *string `json:"secret_key,omitempty"`
	TTL         int64   `json:"ttl"`
	MetadataTTL int64   `json:"metadata_ttl"`
	// SecretTTL is absent once the secret is received, null once it is
	// gone otherwise and in recent, else the seconds it has left: nil,
	// jsonNull or an int64.
	SecretTTL any    `json:"secret_ttl,omitempty"`
	State     string `json:"state"`
	Updated   int64  `json:"updated"`
	Created   int64  `json:"created"`
	// Received is there once the secret is received.
	Received    *unixTime `json:"received,omitempty"`
	Recipient   []string  `json:"recipient"` // never null
	ShareDomain string    `json:"share_domain"`
	// Value is the generated password, in the answer to generate only.
	Value *string `json:"value,omitempty"`
	// PassphraseRequired is there while the secret is alive, but not in
	// recent.
	PassphraseRequired *bool `json:"passphrase_required,omitempty"`
}

// jsonNull is a JSON null in a field of type any, which omitempty keeps.
var jsonNull = json.RawMessage("null")

// noSecretKey is the secret_key of a receipt whose secret is gone.
var noSecretKey = ""

// A unixTime is a time written as its Unix seconds.
type unixTime time.Time

// MarshalJSON implements json.Marshaler.
func (t *unixTime) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, time.Time(*t).Unix(), 10), nil
}

// receiptMode selects the variant of a receipt object.
type receiptMode uint8

const (
	modeReceipt  receiptMode = iota // share, receipt, burn
	modeGenerate                    // with value
	modeRecent                      // no secret_key, no passphrase_required, secret_ttl null
)

// newReceipt returns m as a v1 receipt object, which points into m.
func newReceipt(m *onetime.Metadata, mode receiptMode) receipt {
	alive := m.Alive()
	received := m.State == onetime.StateReceived
	r := receipt{
		Custid:      m.Owner,
		MetadataKey: string(m.MetadataKey),
		TTL:         seconds(m.TTL),
		MetadataTTL: seconds(m.MetadataTTL),
		State:       m.State.String(),
		Updated:     m.Updated.Unix(),
		Created:     m.Created.Unix(),
		Recipient:   m.Recipients,
		ShareDomain: m.ShareDomain,
	}
	if r.Custid == "" {
		r.Custid = "anon"
	}
	if r.Recipient == nil {
		r.Recipient = []string{}
	}
	if mode != modeRecent && !received {
		r.SecretKey = &noSecretKey
		if alive {
			r.SecretKey = (*string)(&m.SecretKey)
		}
	}
	switch {
	case mode == modeRecent:
		r.SecretTTL = jsonNull
	case received:
	case alive:
		r.SecretTTL = seconds(m.SecretTTL)
	default:
		r.SecretTTL = jsonNull
	}
	if received {
		r.Received = (*unixTime)(&m.Received)
	}
	if mode == modeGenerate {
		v := string(m.Value)
		r.Value = &v
	}
	if mode != modeRecent && alive {
		r.PassphraseRequired = &m.PassphraseRequired
	}
	return r
}

// revealed is the answer to a reveal.
type revealed struct {
	Value       text   `json:"value"`
	SecretKey   string `json:"secret_key"`
	ShareDomain string `json:"share_domain"`
}

// text is a value written as a JSON string (not as base64, as
// encoding/json writes a []byte): revealed holds the value as the
// Service returned it, without a copy.
type text []byte

// MarshalJSON implements json.Marshaler.
func (t text) MarshalJSON() ([]byte, error) { return json.Marshal(string(t)) }

// burned is the answer to a burn.
type burned struct {
	State    *receipt `json:"state"`
	ShortKey string   `json:"secret_shortkey"`
}

// errorBody is the answer of every error. SecretKey is the key from the
// path, when there is one.
type errorBody struct {
	Message   string `json:"message"`
	SecretKey string `json:"secret_key,omitempty"`
}

// seconds rounds a duration up to whole seconds, so that a lifetime still
// running never reads 0; negative durations read 0.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// A jsonAppender appends its JSON encoding to a buffer.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// writeReceipt answers 200 with m as a receipt object.
func writeReceipt(w http.ResponseWriter, m *onetime.Metadata, mode receiptMode) {
	r := newReceipt(m, mode)
	buf := buffers.Get().(*[]byte)
	writeBuffer(w, buf, http.StatusOK, r.appendJSON((*buf)[:0]))
}

// writeRevealed answers 200 with the value of a reveal.
func writeRevealed(w http.ResponseWriter, s *onetime.Secret) {
	v := revealed{Value: s.Value, SecretKey: string(s.Key), ShareDomain: s.ShareDomain}
	buf := buffers.Get().(*[]byte)
	writeBuffer(w, buf, http.StatusOK, v.appendJSON((*buf)[:0]))
}

// writeBurned answers 200 with the answer to a burn of m.
func writeBurned(w http.ResponseWriter, m *onetime.Metadata) {
	r := newReceipt(m, modeReceipt)
	v := burned{State: &r, ShortKey: m.ShortKey}
	buf := buffers.Get().(*[]byte)
	writeBuffer(w, buf, http.StatusOK, v.appendJSON((*buf)[:0]))
}

// writeOK answers 200 with v in JSON.
func writeOK(w http.ResponseWriter, v jsonAppender) {
	buf := buffers.Get().(*[]byte)
	writeBuffer(w, buf, http.StatusOK, v.appendJSON((*buf)[:0]))
}

// writeBuffer answers status with body, encoded into buf's array, and
// puts buf back into the pool.
func writeBuffer(w http.ResponseWriter, buf *[]byte, status int, body []byte) {
	writeJSON(w, status, body)
	if cap(body) <= maxPooledBuffer {
		clear(body) // a revealed value does not linger in the pool
		*buf = body[:0]
		buffers.Put(buf)
	}
}

// writeJSON answers status with body, JSON already.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	setJSONHeaders(w.Header(), len(body))
	w.WriteHeader(status)
	w.Write(body)
}

// setJSONHeaders sets the headers of every answer, their values in one
// allocation rather than one each as Header.Set makes (the keys are
// canonical already, as Set would make them).
func setJSONHeaders(hd http.Header, length int) {
	v := &[4]string{"application/json; charset=utf-8", "no-store", "nosniff", strconv.Itoa(length)}
	hd["Content-Type"] = v[0:1:1]
	hd["Cache-Control"] = v[1:2:2]
	hd["X-Content-Type-Options"] = v[2:3:3]
	hd["Content-Length"] = v[3:4:4]
}

// Answers are encoded into pooled buffers: a ResponseWriter copies what it
// is given (an io.Writer must not keep it), so the buffer is free again
// once written. One that a large value grew is left to the collector.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledBuffer = 16 << 10

// appendJSON appends r as encoding/json writes it.
func (r *receipt) appendJSON(b []byte) []byte {
	b = append(b, `{"custid":`...)
	b = appendString(b, r.Custid)
	b = append(b, `,"metadata_key":`...)
	b = appendString(b, r.MetadataKey)
	if r.SecretKey != nil {
		b = append(b, `,"secret_key":`...)
		b = appendString(b, *r.SecretKey)
	}
	b = append(b, `,"ttl":`...)
	b = strconv.AppendInt(b, r.TTL, 10)
	b = append(b, `,"metadata_ttl":`...)
	b = strconv.AppendInt(b, r.MetadataTTL, 10)
	switch t := r.SecretTTL.(type) {
	case nil:
	case int64:
		b = append(b, `,"secret_ttl":`...)
		b = strconv.AppendInt(b, t, 10)
	case json.RawMessage:
		b = append(b, `,"secret_ttl":`...)
		b = append(b, t...)
	default:
		panic("httpapi: secret_ttl of an unexpected type") // unreachable: newReceipt sets it
	}
	b = append(b, `,"state":`...)
	b = appendString(b, r.State)
	b = append(b, `,"updated":`...)
	b = strconv.AppendInt(b, r.Updated, 10)
	b = append(b, `,"created":`...)
	b = strconv.AppendInt(b, r.Created, 10)
	if r.Received != nil {
		b = append(b, `,"received":`...)
		b = strconv.AppendInt(b, time.Time(*r.Received).Unix(), 10)
	}
	b = append(b, `,"recipient":`...)
	if r.Recipient == nil {
		b = append(b, "null"...) // as encoding/json; newReceipt never leaves it nil
	} else {
		b = append(b, '[')
		for i, rc := range r.Recipient {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, rc)
		}
		b = append(b, ']')
	}
	b = append(b, `,"share_domain":`...)
	b = appendString(b, r.ShareDomain)
	if r.Value != nil {
		b = append(b, `,"value":`...)
		b = appendString(b, *r.Value)
	}
	if r.PassphraseRequired != nil {
		b = append(b, `,"passphrase_required":`...)
		b = strconv.AppendBool(b, *r.PassphraseRequired)
	}
	return append(b, '}')
}

// receiptList is the answer to recent.
type receiptList []receipt

func (l receiptList) appendJSON(b []byte) []byte {
	if l == nil {
		return append(b, "null"...) // as encoding/json; recent makes an empty list
	}
	b = append(b, '[')
	for i := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = l[i].appendJSON(b)
	}
	return append(b, ']')
}

func (v *revealed) appendJSON(b []byte) []byte {
	b = append(b, `{"value":`...)
	b = appendString(b, v.Value)
	b = append(b, `,"secret_key":`...)
	b = appendString(b, v.SecretKey)
	b = append(b, `,"share_domain":`...)
	b = appendString(b, v.ShareDomain)
	return append(b, '}')
}

func (v *burned) appendJSON(b []byte) []byte {
	b = append(b, `{"state":`...)
	if v.State == nil {
		b = append(b, "null"...)
	} else {
		b = v.State.appendJSON(b)
	}
	b = append(b, `,"secret_shortkey":`...)
	b = appendString(b, v.ShortKey)
	return append(b, '}')
}

func (e *errorBody) appendJSON(b []byte) []byte {
	b = append(b, `{"message":`...)
	b = appendString(b, e.Message)
	if e.SecretKey != "" {
		b = append(b, `,"secret_key":`...)
		b = appendString(b, e.SecretKey)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string as encoding/json's Marshal
// writes it: a double quote and a backslash escaped, control characters as
// \b, \f, \n, \r, \t or \u00XX, '<', '>' and '&' as \u003c, \u003e and
// \u0026 (its HTML escaping), U+2028 and U+2029 as \u2028 and \u2029, and
// each byte of invalid UTF-8 as \ufffd.
func appendString[S ~string | ~[]byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
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
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		// A few bytes as a string, which stays on the stack, serve
		// both kinds of s.
		r, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
