// Package yardstick is the bare net/http handler that cmd/onetime-server's
// share and reveal are measured against: it speaks just enough of the
// Onetime Secret REST API v1 for the load generator (GET /api/v1/status,
// POST /api/v1/share, POST /api/v1/secret/{key}), parsing the same forms
// and answering JSON of about the same size, with nothing else: no
// sealing, no store but a map, no logging, no limits. Its requests per
// second and CPU time per request are what net/http alone costs on the
// machine, in the same run; the benchmark tool (internal/cmd/bench)
// reports the server's figures as ratios of these.
//
// It is a benchmark fixture, not a secret store: values sit in memory in
// the clear and never expire.
package yardstick

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// ReceiptSize is the length in bytes of a share's answer.
const ReceiptSize = 200

// keyLen is the length of the keys it issues: that of onetime's keys, so
// that reveal requests have the same length as the server's.
const keyLen = 56

// defaultTTL is the TTL reported when the form gives none (7 days).
const defaultTTL = 7 * 24 * 3600

// Handler is the yardstick. Its zero value is not ready: use [New].
type Handler struct {
	mux *http.ServeMux
	seq atomic.Uint64

	mu      sync.Mutex
	secrets map[string]secret
}

type secret struct{ value, passphrase string }

// New returns a Handler with no secrets.
func New() *Handler {
	h := &Handler{mux: http.NewServeMux(), secrets: map[string]secret{}}
	h.mux.HandleFunc("GET /api/v1/status", h.status)
	h.mux.HandleFunc("POST /api/v1/share", h.share)
	h.mux.HandleFunc("POST /api/v1/secret/{key}", h.reveal)
	return h
}

// ServeHTTP serves the three routes; anything else is 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Len returns the number of secrets shared and not yet revealed.
func (h *Handler) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.secrets)
}

func (h *Handler) status(w http.ResponseWriter, _ *http.Request) {
	reply(w, http.StatusOK, []byte(`{"status":"nominal","locale":"en"}`))
}

func (h *Handler) share(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		message(w, http.StatusBadRequest, "Bad request")
		return
	}
	value := r.PostForm.Get("secret")
	if value == "" {
		message(w, http.StatusNotFound, "You did not provide anything to share")
		return
	}
	ttl := int64(defaultTTL)
	if s := r.PostForm.Get("ttl"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			message(w, http.StatusBadRequest, "Bad ttl")
			return
		}
		ttl = n
	}
	pass := r.PostForm.Get("passphrase")
	n := h.seq.Add(1)
	sk, mk := key('s', n), key('m', n)
	h.mu.Lock()
	h.secrets[sk] = secret{value, pass}
	h.mu.Unlock()
	reply(w, http.StatusOK, receipt(sk, mk, ttl, pass != ""))
}

func (h *Handler) reveal(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		message(w, http.StatusBadRequest, "Bad request")
		return
	}
	k := r.PathValue("key")
	pass := r.PostForm.Get("passphrase")
	h.mu.Lock()
	s, ok := h.secrets[k]
	if ok && s.passphrase == pass {
		delete(h.secrets, k)
	}
	h.mu.Unlock()
	if !ok || s.passphrase != pass {
		message(w, http.StatusNotFound, "Unknown secret")
		return
	}
	b, err := json.Marshal(struct {
		Value       string `json:"value"`
		SecretKey   string `json:"secret_key"`
		ShareDomain string `json:"share_domain"`
	}{s.value, k, ""})
	if err != nil {
		message(w, http.StatusInternalServerError, "Internal error")
		return
	}
	reply(w, http.StatusOK, b)
}

// key returns a key of keyLen lowercase letters and digits, distinct for
// each (kind, n).
func key(kind byte, n uint64) string {
	b := make([]byte, keyLen)
	for i := range b {
		b[i] = '0'
	}
	b[0] = kind
	d := strconv.AppendUint(nil, n, 36)
	copy(b[keyLen-len(d):], d)
	return string(b)
}

// receipt returns the JSON answer of a share: ReceiptSize bytes, padded
// with a "pad" field (more only for a TTL of more than 7 digits).
func receipt(sk, mk string, ttl int64, passphrase bool) []byte {
	b := make([]byte, 0, ReceiptSize)
	b = append(b, `{"metadata_key":"`...)
	b = append(b, mk...)
	b = append(b, `","secret_key":"`...)
	b = append(b, sk...)
	b = append(b, `","ttl":`...)
	b = strconv.AppendInt(b, ttl, 10)
	b = append(b, `,"passphrase_required":`...)
	b = strconv.AppendBool(b, passphrase)
	const pad = `,"pad":""}`
	if len(b)+len(pad) > ReceiptSize {
		return append(b, '}')
	}
	b = append(b, pad[:len(pad)-2]...)
	for len(b) < ReceiptSize-2 {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

func message(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{msg})
	reply(w, status, b)
}

func reply(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json; charset=utf-8"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}
