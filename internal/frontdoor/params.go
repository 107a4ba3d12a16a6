package frontdoor

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"iter"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The parameters the API and the pages read. Every other name is ignored,
// so that a request cannot make a handler hold more than it needs.
const (
	ParamSecret      = "secret"
	ParamPassphrase  = "passphrase"
	ParamTTL         = "ttl"
	ParamLength      = "length"
	ParamRecipient   = "recipient"
	ParamShareDomain = "share_domain"
	// ParamNonce is the pages' hidden form field whose random value, made
	// when the form was rendered, is the idempotency key of its post (see
	// IdempotencyKey): a resubmit of the same form is the same request.
	ParamNonce = "nonce"
	// The zero-knowledge fields (docs/zero-knowledge.md): the verifiers
	// a share registers, and the proofs a reveal presents.
	ParamProofVerifier      = "proof_verifier"
	ParamPassphraseVerifier = "passphrase_verifier"
	ParamProof              = "proof"
	ParamPassphraseProof    = "passphrase_proof"
)

// Bounds on what one request may carry besides the value itself.
const (
	MaxParts     = 100 // multipart parts, known or not
	maxValues    = 100 // values kept for one parameter (recipient)
	maxNumberLen = 64  // ttl, length: longer is not a usable integer
)

// ErrBadBody means a body that claims a format it does not have (broken
// JSON, a multipart body without its boundary, a broken percent-escape in
// a parameter that is read); ErrBadQuery, such an escape in the query
// string.
var (
	ErrBadBody  = errors.New("frontdoor: malformed request body")
	ErrBadQuery = errors.New("frontdoor: malformed query string")
)

// names are the parameters that are read, each in its slot of Params.
var names = [...]string{ParamSecret, ParamPassphrase, ParamTTL, ParamLength, ParamRecipient, ParamShareDomain, ParamNonce,
	ParamProofVerifier, ParamPassphraseVerifier, ParamProof, ParamPassphraseProof}

const numNames = len(names)

// slot returns the slot of a parameter name as sent, or -1 for a name it
// ignores. recipient[] is how PHP-style clients send a list.
func slot(name string) int {
	switch name {
	case ParamSecret:
		return 0
	case ParamPassphrase:
		return 1
	case ParamTTL:
		return 2
	case ParamLength:
		return 3
	case ParamRecipient, "recipient[]":
		return 4
	case ParamShareDomain:
		return 5
	case ParamNonce:
		return 6
	case ParamProofVerifier:
		return 7
	case ParamPassphraseVerifier:
		return 8
	case ParamProof:
		return 9
	case ParamPassphraseProof:
		return 10
	}
	return -1
}

// canonicalName maps a parameter name as sent to the one that is read,
// or "" for a name it ignores.
func canonicalName(name string) string {
	if i := slot(name); i >= 0 {
		return names[i]
	}
	return ""
}

// Params are a request's parameters, merged: known names only, empty
// values dropped (an empty value is the same as an absent one). The zero
// value holds none.
//
// It is a struct of the known names' slots rather than a map: a request
// makes one, and a map of even one parameter costs an allocation of some
// 350 bytes (its first group), a struct on the stack none.
type Params struct {
	first [numNames]string // each name's first value, "" for none
	count [numNames]uint8  // the values of each name, up to maxValues
	more  []nameValue      // the values after the first, in order
}

// A nameValue is a value of the name in a slot.
type nameValue struct {
	slot  uint8
	value string
}

// Get returns the first value of name, or "".
func (p Params) Get(name string) string {
	if i := slot(name); i >= 0 && names[i] == name {
		return p.first[i]
	}
	return ""
}

// Values returns the values of name, in the order they came, or nil.
func (p Params) Values(name string) []string {
	i := slot(name)
	if i < 0 || names[i] != name || p.count[i] == 0 {
		return nil
	}
	vs := make([]string, 1, p.count[i])
	vs[0] = p.first[i]
	for _, nv := range p.more {
		if int(nv.slot) == i {
			vs = append(vs, nv.value)
		}
	}
	return vs
}

// All yields each name that has values, with its values, in the order of
// the names' slots.
func (p Params) All() iter.Seq2[string, []string] {
	return func(yield func(string, []string) bool) {
		for i, name := range names {
			if p.count[i] > 0 && !yield(name, p.Values(name)) {
				return
			}
		}
	}
}

// Len returns the number of names that have values.
func (p Params) Len() int {
	n := 0
	for _, c := range p.count {
		if c > 0 {
			n++
		}
	}
	return n
}

// add records a value under its canonical name, dropping empty values,
// unknown names and values past the per-name bound.
func (p *Params) add(name, value string) {
	i := slot(name)
	if i < 0 || value == "" || p.count[i] >= maxValues {
		return
	}
	if p.count[i] == 0 {
		p.first[i] = value
	} else {
		p.more = append(p.more, nameValue{uint8(i), value})
	}
	p.count[i]++
}

// replace sets every name that has values in b to b's values only.
func (p *Params) replace(b *Params) {
	if b.more != nil {
		p.more = slices.DeleteFunc(p.more, func(nv nameValue) bool { return b.count[nv.slot] > 0 })
	}
	for i, c := range b.count {
		if c > 0 {
			p.first[i], p.count[i] = b.first[i], c
		}
	}
	p.more = append(p.more, b.more...)
}

// ParseParams reads the parameters of a request, the API's and the pages'
// alike: the query string (the pages pass ""), then the body, a name
// present in the body replacing that name from the query.
// body must already be bounded (http.MaxBytesReader); exceeding the bound
// is returned as is, any other read error as ErrBadBody. contentLength is
// the request's (-1 when unknown): a hint for the size of the buffer a
// form body is read into, never trusted as the body's length.
//
// The body is read as multipart/form-data or JSON when its Content-Type
// says so, and otherwise as application/x-www-form-urlencoded (also without
// a Content-Type, which Go's ParseForm would ignore) unless it starts with
// '{', which makes it a JSON object (fetch() sends a string body as
// text/plain). JSON is read as a stream (see parseJSON).
func ParseParams(contentType, rawQuery string, body io.Reader, contentLength int64) (Params, error) {
	var p, b Params
	if err := parseForm(&p, rawQuery); err != nil {
		return Params{}, ErrBadQuery
	}
	if body == nil {
		return p, nil
	}
	mediaType, mtParams := parseMediaType(contentType)
	var err error
	switch {
	case mediaType == "multipart/form-data":
		// An empty body is no parameters whatever it claims to be, as
		// for JSON: a client may send everything in the query string
		// under a multipart Content-Type (even one without a boundary).
		br := bufio.NewReaderSize(body, 16) // multipart buffers on its own
		if _, perr := br.Peek(1); perr == io.EOF {
			break
		}
		err = parseMultipart(&b, br, mtParams["boundary"])
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		err = parseJSONInto(&b, body)
	case contentLength >= 0 && contentLength <= maxBufferedBody:
		err = parseSmallBody(&b, body, contentLength, mediaType)
	default:
		br := bufio.NewReader(body)
		first, perr := firstNonSpace(br)
		if perr != nil && perr != io.EOF {
			err = readErr(perr)
			break
		}
		if first == '{' && mediaType != "application/x-www-form-urlencoded" {
			err = parseJSONInto(&b, br)
			break
		}
		var data []byte
		if data, err = io.ReadAll(br); err != nil {
			err = readErr(err)
			break
		}
		err = parseForm(&b, string(data))
	}
	if err != nil {
		return Params{}, err
	}
	p.replace(&b)
	return p, nil
}

// maxBufferedBody is the largest body of a known length that ParseParams
// reads whole before looking at it; longer ones, and those of an unknown
// length, are read as a stream.
const maxBufferedBody = 64 << 10

// parseMediaType is mime.ParseMediaType without its allocations for the
// Content-Types that clients send most (none, or the form's alone).
func parseMediaType(contentType string) (string, map[string]string) {
	switch {
	case contentType == "":
		return "", nil
	case strings.EqualFold(contentType, "application/x-www-form-urlencoded"):
		return "application/x-www-form-urlencoded", nil
	}
	mediaType, params, _ := mime.ParseMediaType(contentType)
	return mediaType, params
}

// parseSmallBody reads the usual form body, of a known and small length,
// whole into a buffer of at least its size (not bufio's 4 KiB, nor one
// grown by doubling), then sniffs it for JSON. The buffer is pooled: the
// parameters are copied out of it (as strings), so it is free again once
// the body is parsed, and cleared first, so that a value does not linger
// in it.
func parseSmallBody(p *Params, body io.Reader, contentLength int64, mediaType string) error {
	buf := bodyBuffers.Get().(*[]byte)
	data, err := readAll((*buf)[:0], body, contentLength)
	if cap(data) <= maxPooledBody {
		defer func(read []byte) {
			clear(read)
			*buf = read[:0]
			bodyBuffers.Put(buf)
		}(data)
	}
	if err != nil {
		return readErr(err)
	}
	// Leading white space is skipped, as the stream below skips it.
	data = data[skipSpace(data, 0):]
	if len(data) > 0 && data[0] == '{' && mediaType != "application/x-www-form-urlencoded" {
		return parseJSONInto(p, bytes.NewReader(data))
	}
	return parseForm(p, string(data))
}

// bodyBuffers are the buffers of parseSmallBody, up to maxPooledBody
// bytes: a larger one, rare, is left to the collector.
var bodyBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledBody = 16 << 10

// readAll is io.ReadAll into buf, grown first to hold a body of the given
// length (a hint: a longer or shorter body is read all the same).
func readAll(buf []byte, r io.Reader, hint int64) ([]byte, error) {
	b := buf[:0]
	if int64(cap(b)) < hint+1 { // + 1: the read that sees EOF needs no growth
		b = make([]byte, 0, hint+1)
	}
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow as append does
		}
	}
}

// readErr passes the body bound's error through and makes any other read
// error ErrBadBody: a body cut short or badly chunked is the client's
// fault, as in parseMultipart, not a 500 logged as an error.
func readErr(err error) error {
	if IsTooLarge(err) {
		return err
	}
	return ErrBadBody
}

// firstNonSpace skips the white space at the start of br and returns the
// byte after it, left unread; io.EOF for a body of white space only.
func firstNonSpace(br *bufio.Reader) (byte, error) {
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c, br.UnreadByte()
	}
}

// parseForm reads application/x-www-form-urlencoded pairs into p as the
// reference service (Rack) reads them: separated by '&' only, so that a
// ';' is part of a value. url.ParseQuery instead drops a pair holding a
// ';' or a broken escape, and so a shell client's unencoded
// "passphrase=a;b" or "passphrase=100%pure" stored the secret without its
// passphrase, silently. A broken escape in a name that is read is
// ErrBadBody (Rack refuses such a request too); pairs of other names are
// skipped unread.
func parseForm(p *Params, s string) error {
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		name, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(name)
		if err != nil || slot(name) < 0 {
			continue
		}
		if value, err = url.QueryUnescape(value); err != nil {
			return ErrBadBody
		}
		p.add(name, value)
	}
	return nil
}

func parseMultipart(p *Params, body io.Reader, boundary string) error {
	if boundary == "" {
		return ErrBadBody
	}
	mr := multipart.NewReader(body, boundary)
	for i := 0; ; i++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if IsTooLarge(err) {
				return err
			}
			return ErrBadBody
		}
		if i >= MaxParts {
			return ErrBadBody
		}
		// File parts count too: curl -F secret=@file.txt sends one.
		name := canonicalName(part.FormName())
		if name == "" {
			continue // NextPart skips what is left of it
		}
		v, err := io.ReadAll(part)
		if err != nil {
			if IsTooLarge(err) {
				return err
			}
			return ErrBadBody
		}
		p.add(name, string(v))
	}
}

// parseInt reads an integer parameter: decimal digits with an optional
// sign, or a number whose value is a whole number (3600.0, 1e3, as JSON
// may carry it). Surrounding spaces are ignored. Values beyond the range of
// int64 saturate; they are clamped by the service in any case. Anything
// else is not an integer.
func parseInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	// Checked first: ParseInt reports an overflow before a bad character
	// further on ("99999999999999999999x").
	if len(s) > maxNumberLen || !isDecimalNumber(s) {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	} else if errors.Is(err, strconv.ErrRange) {
		if s[0] == '-' {
			return math.MinInt64, true
		}
		return math.MaxInt64, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	switch {
	case math.IsInf(f, 1) || f >= math.MaxInt64:
		return math.MaxInt64, true
	case math.IsInf(f, -1) || f <= math.MinInt64:
		return math.MinInt64, true
	case f != math.Trunc(f):
		return 0, false
	}
	return int64(f), true
}

// isDecimalNumber reports whether s is a number in JSON's syntax, with an
// optional leading '+' (so no hexadecimal, no "inf", no underscores).
func isDecimalNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// IsTooLarge reports whether err is the body bound's (http.MaxBytesReader):
// the handlers answer it as a value too large.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
