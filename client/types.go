package client

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// State is the state of a secret as its receipt tells it. A server may
// send a state that this package does not know; it is kept as sent.
type State string

// The states of the v1 API.
const (
	StateNew      State = "new"      // shared, receipt not read yet
	StateViewed   State = "viewed"   // the receipt was read (or the creator saw a generated value)
	StateReceived State = "received" // the secret was revealed
	StateBurned   State = "burned"   // the secret was destroyed unread
	StateExpired  State = "expired"  // the secret outlived its TTL unread
	StateOrphaned State = "orphaned" // the secret vanished before its TTL
)

// Alive reports whether the secret can still be revealed (new or viewed).
func (s State) Alive() bool { return s == StateNew || s == StateViewed }

// Status is the server's answer to [Client.Status].
type Status struct {
	Status string `json:"status"` // "nominal" when all is well
	Locale string `json:"locale"`
	// Idempotency is true when the server says it honours the
	// Idempotency-Key header ("idempotency": true): a repeated request
	// with the same key gets the first answer. The reference does not
	// say it, and does not honour the header.
	Idempotency bool `json:"-"`
	// ZeroKnowledge lists the zero-knowledge formats the server takes
	// ("zero_knowledge": ["zk1"]); empty for the reference service and
	// older servers. See [Client.ZeroKnowledge].
	ZeroKnowledge []string `json:"-"`
	// Raw is the JSON answered.
	Raw json.RawMessage `json:"-"`
}

// A Secret is a revealed secret.
type Secret struct {
	Key         SecretKey
	Value       string // byte for byte as shared
	ShareDomain string
	// ZeroKnowledge tells that the value came sealed, and was opened
	// here with the link's key (see [Client.RevealWithKey]).
	ZeroKnowledge bool
	// Raw is the JSON answered; it holds the value, sealed when
	// ZeroKnowledge is set.
	Raw json.RawMessage
}

// Metadata is a receipt: what the creator of a secret may know of it.
type Metadata struct {
	CustomerID  string // "anon" for anonymous secrets on the reference
	MetadataKey MetadataKey
	// SecretKey is set while the secret can be revealed, in the answers
	// to Share, Generate and Receipt; Recent never carries it.
	SecretKey SecretKey
	// ShortKey is the first characters of the secret key, as burn answers
	// tell it (secret_shortkey).
	ShortKey string
	State    State

	TTL         time.Duration // the secret's lifetime as granted
	MetadataTTL time.Duration // left on this receipt
	// SecretTTL is what is left on the secret; zero once it is gone, and
	// in Recent.
	SecretTTL time.Duration

	Created, Updated time.Time
	Received         time.Time // zero unless State is StateReceived

	Recipients         []string // obscured addresses; empty when none
	ShareDomain        string
	PassphraseRequired bool
	// Value is the password made, in the answer to Generate only.
	Value string

	// Link is the link to give the reader, in the answers to Share and
	// Generate only: BASE/secret/KEY, and in the zero-knowledge mode
	// BASE/secret/KEY#FRAGMENT, whose fragment holds the key that opens
	// the secret and that the server never saw. Like a secret key it is
	// a bearer capability (log/slog hides it), and it is a SecretKey so
	// that Reveal takes it as it is.
	Link SecretKey
	// ZeroKnowledge tells, in the answers to Share and Generate, that the
	// secret was shared in the zero-knowledge mode: only Link opens it.
	// Receipts read later do not tell (the v1 receipt has no such field).
	ZeroKnowledge bool

	// Raw is the JSON answered for this receipt (for Burn the whole
	// answer, for Recent this element). It holds the keys.
	Raw json.RawMessage
}

// wireReceipt is a receipt as servers send it, read leniently.
type wireReceipt struct {
	CustID             flexString `json:"custid"`
	MetadataKey        flexString `json:"metadata_key"`
	SecretKey          flexString `json:"secret_key"`
	ShortKey           flexString `json:"secret_shortkey"`
	TTL                flexInt    `json:"ttl"`
	MetadataTTL        flexInt    `json:"metadata_ttl"`
	SecretTTL          flexInt    `json:"secret_ttl"`
	State              flexString `json:"state"`
	Updated            flexInt    `json:"updated"`
	Created            flexInt    `json:"created"`
	Received           flexInt    `json:"received"`
	Recipient          flexList   `json:"recipient"`
	ShareDomain        flexString `json:"share_domain"`
	Value              *string    `json:"value"`
	PassphraseRequired flexBool   `json:"passphrase_required"`
}

// valid reports whether w looks like a receipt at all, and whether its
// keys are keys: a key that is not one, or a secret key equal to the
// metadata key, would become a wrong link in the caller's hands.
func (w *wireReceipt) valid() bool {
	switch {
	case w.MetadataKey == "" && w.State == "":
		return false
	case w.MetadataKey != "" && !validKey(string(w.MetadataKey)):
		return false
	case w.SecretKey != "" && (!validKey(string(w.SecretKey)) || w.SecretKey == w.MetadataKey):
		return false
	}
	return true
}

func (w *wireReceipt) metadata() *Metadata {
	m := &Metadata{
		CustomerID:         string(w.CustID),
		MetadataKey:        MetadataKey(w.MetadataKey),
		SecretKey:          SecretKey(w.SecretKey),
		ShortKey:           string(w.ShortKey),
		State:              State(strings.ToLower(string(w.State))),
		TTL:                secondsDur(w.TTL),
		MetadataTTL:        secondsDur(w.MetadataTTL),
		SecretTTL:          secondsDur(w.SecretTTL),
		Created:            unixTime(w.Created),
		Updated:            unixTime(w.Updated),
		Received:           unixTime(w.Received),
		Recipients:         []string(w.Recipient),
		ShareDomain:        string(w.ShareDomain),
		PassphraseRequired: bool(w.PassphraseRequired),
	}
	if m.Recipients == nil {
		m.Recipients = []string{}
	}
	if w.Value != nil {
		m.Value = *w.Value
	}
	return m
}

func secondsDur(n flexInt) time.Duration {
	if n <= 0 {
		return 0
	}
	if int64(n) > math.MaxInt64/int64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(n) * time.Second
}

func unixTime(n flexInt) time.Time {
	if n <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(n), 0).UTC()
}

// flexInt reads a JSON number (integer or not) or a string holding one;
// null, "" and anything unreadable read as 0.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if strings.HasPrefix(s, `"`) {
		var str string
		if json.Unmarshal(b, &str) != nil {
			return nil
		}
		s = strings.TrimSpace(str)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = flexInt(i)
		return nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 1<<62 {
		*n = flexInt(math.Round(f))
	}
	return nil
}

// flexString reads a JSON string, or a number or bool as its text; null
// reads as "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '"':
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		*s = flexString(str)
	case b[0] == '{' || b[0] == '[':
		// Not text: a burn answer's "state" object, read separately.
	default:
		*s = flexString(b)
	}
	return nil
}

// flexBool reads true, false, "true", "false", 1, 0; anything else is
// false.
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	*v = flexBool(s == "true" || s == "1")
	return nil
}

// flexList reads an array of strings, or one string, as a list; null and
// "" read as none.
type flexList []string

func (l *flexList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s != "" {
			*l = flexList{s}
		}
		return nil
	}
	var items []flexString
	if err := json.Unmarshal(b, &items); err != nil {
		return err
	}
	out := make(flexList, 0, len(items))
	for _, it := range items {
		if it != "" {
			out = append(out, string(it))
		}
	}
	*l = out
	return nil
}
