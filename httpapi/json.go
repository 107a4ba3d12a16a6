package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/onetimego/onetime"
)

// The v1 answers are written with encoding/json, which writes a struct's
// fields in the order they are declared: the types below declare them in
// the order of the v1 specification, and omitempty leaves out exactly the
// fields the specification leaves out. The wire tests check field names,
// order, presence and types byte for byte.

// A receipt is a v1 receipt object.
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
	Received    *int64   `json:"received,omitempty"`
	Recipient   []string `json:"recipient"` // never null
	ShareDomain string   `json:"share_domain"`
	// Value is the generated password, in the answer to generate only.
	Value *string `json:"value,omitempty"`
	// PassphraseRequired is there while the secret is alive, but not in
	// recent.
	PassphraseRequired *bool `json:"passphrase_required,omitempty"`
}

// jsonNull is a JSON null in a field of type any, which omitempty keeps.
var jsonNull = json.RawMessage("null")

// receiptMode selects the variant of a receipt object.
type receiptMode uint8

const (
	modeReceipt  receiptMode = iota // share, receipt, burn
	modeGenerate                    // with value
	modeRecent                      // no secret_key, no passphrase_required, secret_ttl null
)

// newReceipt returns m as a v1 receipt object.
func newReceipt(m *onetime.Metadata, mode receiptMode) *receipt {
	alive := m.Alive()
	received := m.State == onetime.StateReceived
	r := &receipt{
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
		key := ""
		if alive {
			key = string(m.SecretKey)
		}
		r.SecretKey = &key
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
		at := m.Received.Unix()
		r.Received = &at
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
	Value       string `json:"value"`
	SecretKey   string `json:"secret_key"`
	ShareDomain string `json:"share_domain"`
}

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

// writeOK answers 200 with v in JSON.
func writeOK(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err // not for the types above
	}
	writeJSON(w, http.StatusOK, b)
	return nil
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
