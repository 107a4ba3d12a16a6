package loadgen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The APIs the load generator speaks (Config.API): onetime's v1 API, and
// those of two other one-time secret servers measured beside it on the
// same Redis by the benchmark tool. Each adapter was written from the
// server's own source; the comments say which part.
const (
	APIOnetime = "onetime"
	APIYopass  = "yopass" // github.com/jhaals/yopass, cmd/yopass-server
	APIOts     = "ots"    // github.com/Luzifer/ots
)

// peerTTL is the lifetime every peer secret is given, in seconds: one
// hour, one of the three that yopass accepts.
const peerTTL = 3600

// A peer is the API of another one-time secret server: how to share a
// value and how to reveal it once. Every request and answer is JSON.
type peer interface {
	// root is the path of the API under the server's base URL.
	root() string
	// health is the path (under root) of a GET answered 200 when the
	// server is up.
	health() string
	// share returns the path (under root) and JSON body of the POST that
	// stores value.
	share(value string) (path string, body []byte)
	// shareKey reads the answer of a share: the key to reveal it with.
	shareKey(status int, body []byte) (string, error)
	// reveal returns the path (under root) of the GET that reveals key
	// and consumes it.
	reveal(key string) string
	// revealed reads the answer of a reveal: the value, whether there was
	// one (false: the server answered that it has no such secret), or an
	// error for any other answer.
	revealed(status int, body []byte) (value string, found bool, err error)
}

// newPeer returns the adapter of api, nil for onetime's own.
func newPeer(api string) peer {
	switch api {
	case APIYopass:
		return yopass{}
	case APIOts:
		return ots{}
	}
	return nil
}

// yopass speaks the API of jhaals/yopass's server (pkg/server/server.go):
// POST /create/secret with {"message", "expiration", "one_time"} answers
// 200 {"message": ID}; GET /secret/ID answers 200 with the stored secret
// as JSON ({"expiration", "message", "one_time"}) and, for a one-time
// secret, deletes it first; an unknown ID is 404 {"message": "Secret not
// found"}. Its server refuses a message that is not an ASCII-armored
// OpenPGP message (it checks the armor and that the body is not empty,
// nothing more): the value goes inside such an armor, unencrypted. A
// real yopass client sends the OpenPGP encryption of the value, some 150
// bytes longer for a 100-byte value.
type yopass struct{}

func (yopass) root() string   { return "" }
func (yopass) health() string { return "/health" }

func (yopass) share(value string) (string, []byte) {
	b, _ := json.Marshal(struct {
		Message    string `json:"message"`
		Expiration int    `json:"expiration"`
		OneTime    bool   `json:"one_time"`
	}{pgpArmor(value), peerTTL, true})
	return "/create/secret", b
}

func (yopass) shareKey(status int, body []byte) (string, error) {
	if status != http.StatusOK {
		return "", fail(answer("share", status, body), false)
	}
	var r struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &r); err != nil || !validPeerKey(r.Message) {
		return "", fail("share: answer without a valid secret id", false)
	}
	return r.Message, nil
}

func (yopass) reveal(key string) string { return "/secret/" + key }

func (yopass) revealed(status int, body []byte) (string, bool, error) {
	if status == http.StatusNotFound {
		return "", false, nil
	}
	if status != http.StatusOK {
		return "", false, fail(answer("reveal", status, body), false)
	}
	var r struct {
		Message *string `json:"message"`
		OneTime bool    `json:"one_time"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Message == nil {
		return "", true, fail("reveal: answer without a message", true)
	}
	if !r.OneTime {
		return "", true, fail("reveal: the secret is not one-time", false)
	}
	v, err := pgpUnarmor(*r.Message)
	if err != nil {
		return "", true, fail("reveal: message is not the armor shared", true)
	}
	return v, true, nil
}

// ots speaks the API of Luzifer/ots (api.go): POST /api/create?expire=S
// with {"secret"} as JSON answers 201 {"success": true, "secret_id": ID};
// GET /api/get/ID reads and deletes it (Redis GETDEL) and answers 200
// {"success": true, "secret": VALUE}; an unknown ID is 404 {"success":
// false, "error": ERROR-ID}. The server stores what it is given: ots's
// own pages encrypt in the browser, the API does not require it.
type ots struct{}

func (ots) root() string   { return "/api" }
func (ots) health() string { return "/healthz" }

func (ots) share(value string) (string, []byte) {
	b, _ := json.Marshal(struct {
		Secret string `json:"secret"`
	}{value})
	return fmt.Sprintf("/create?expire=%d", peerTTL), b
}

func (ots) shareKey(status int, body []byte) (string, error) {
	if status != http.StatusCreated {
		return "", fail(fmt.Sprintf("share: HTTP %d", status), false)
	}
	var r struct {
		Success  bool   `json:"success"`
		SecretID string `json:"secret_id"`
	}
	if err := json.Unmarshal(body, &r); err != nil || !r.Success || !validPeerKey(r.SecretID) {
		return "", fail("share: answer without a valid secret_id", false)
	}
	return r.SecretID, nil
}

func (ots) reveal(key string) string { return "/get/" + key }

func (ots) revealed(status int, body []byte) (string, bool, error) {
	if status == http.StatusNotFound {
		return "", false, nil
	}
	if status != http.StatusOK {
		return "", false, fail(fmt.Sprintf("reveal: HTTP %d", status), false)
	}
	var r struct {
		Success bool    `json:"success"`
		Secret  *string `json:"secret"`
	}
	if err := json.Unmarshal(body, &r); err != nil || !r.Success || r.Secret == nil {
		return "", true, fail("reveal: answer without a secret", true)
	}
	return *r.Secret, true, nil
}

// validPeerKey reports whether k can be a peer's secret id: 1 to 100
// letters, digits and dashes (yopass: base58; ots: a UUID), so that it
// can go into a path as it is.
func validPeerKey(k string) bool {
	if k == "" || len(k) > 100 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return url.PathEscape(k) == k
}

const (
	armorBegin = "-----BEGIN PGP MESSAGE-----"
	armorEnd   = "-----END PGP MESSAGE-----"
)

// pgpArmor wraps data in the ASCII armor of an OpenPGP message (RFC 4880,
// section 6.2): a header line, an empty line, base64 in lines of 64
// characters, the CRC-24 checksum, and the footer line.
func pgpArmor(data string) string {
	var b strings.Builder
	b.WriteString(armorBegin + "\n\n")
	enc := base64.StdEncoding.EncodeToString([]byte(data))
	for len(enc) > 64 {
		b.WriteString(enc[:64])
		b.WriteByte('\n')
		enc = enc[64:]
	}
	b.WriteString(enc)
	c := crc24([]byte(data))
	b.WriteString("\n=" + base64.StdEncoding.EncodeToString([]byte{byte(c >> 16), byte(c >> 8), byte(c)}))
	b.WriteString("\n" + armorEnd + "\n")
	return b.String()
}

// pgpUnarmor returns what pgpArmor wrapped, checking its checksum.
func pgpUnarmor(armored string) (string, error) {
	rest, ok := strings.CutPrefix(armored, armorBegin+"\n\n")
	if !ok {
		return "", fmt.Errorf("no armor header")
	}
	rest, ok = strings.CutSuffix(strings.TrimRight(rest, "\n"), "\n"+armorEnd)
	if !ok {
		return "", fmt.Errorf("no armor footer")
	}
	body, sum, ok := strings.Cut(rest, "\n=")
	if !ok {
		return "", fmt.Errorf("no armor checksum")
	}
	data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(body, "\n", ""))
	if err != nil {
		return "", err
	}
	want, err := base64.StdEncoding.DecodeString(sum)
	c := crc24(data)
	if err != nil || len(want) != 3 || want[0] != byte(c>>16) || want[1] != byte(c>>8) || want[2] != byte(c) {
		return "", fmt.Errorf("bad armor checksum")
	}
	return string(data), nil
}

// crc24 is the checksum of OpenPGP's armor (RFC 4880, section 6.1).
func crc24(data []byte) uint32 {
	const init, poly = 0xB704CE, 0x1864CFB
	crc := uint32(init)
	for _, b := range data {
		crc ^= uint32(b) << 16
		for range 8 {
			crc <<= 1
			if crc&0x1000000 != 0 {
				crc ^= poly
			}
		}
	}
	return crc & 0xFFFFFF
}
