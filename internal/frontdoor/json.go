package frontdoor

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Bounds on a JSON body besides its size. A body that exceeds them is
// "Invalid request body": no client sends more than a handful of fields.
const (
	// MaxJSONMembers bounds the members of the body's object plus the
	// elements of the arrays of known names, all told.
	MaxJSONMembers = 256
	// MaxJSONDepth bounds the nesting of arrays and objects, the body's
	// own object counted.
	MaxJSONDepth = 32
)

// parseJSON reads a JSON object from r as a stream (encoding/json's
// Decoder.Token), keeping only the values of the names that are read, so
// that what a body costs is bounded by its size and MaxJSONMembers rather
// than by what it holds: a value of an unknown name is scanned and
// dropped, never built.
//
// Strings are taken byte for byte with their escapes decoded: unlike
// encoding/json, invalid UTF-8 is kept as it is rather than replaced with
// U+FFFD, and a lone surrogate escape ("\ud800") becomes the three bytes
// it stands for (WTF-8), so that a secret value holding either is refused
// exactly as the same value in a form body is. Numbers are taken as
// written, booleans as "true" or "false"; null is absent; an array is a
// list of such scalars (recipient). Objects and nested arrays are ignored.
// An empty body, or null, is no parameters.
func parseJSON(p *Params, r io.Reader) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return jsonErr(err)
	case tok == nil: // null
	case tok != json.Delim('{'):
		return ErrBadBody
	default:
		budget := MaxJSONMembers
		for dec.More() {
			if budget--; budget < 0 {
				return ErrBadBody
			}
			kt, err := dec.Token()
			if err != nil {
				return jsonErr(err)
			}
			name, _ := kt.(string)
			v := jsonParam{p: p, name: canonicalName(name), budget: &budget}
			if err := dec.Decode(&v); err != nil {
				return jsonErr(err)
			}
		}
		if _, err := dec.Token(); err != nil { // the closing brace
			return jsonErr(err)
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil && IsTooLarge(err) {
			return err
		}
		return ErrBadBody // trailing data
	}
	return nil
}

// parseJSONInto is parseJSON into dst, through Params of its own: the
// decoder keeps what it is given, which would move dst to the heap on
// every path, JSON or not.
func parseJSONInto(dst *Params, r io.Reader) error {
	p := new(Params)
	err := parseJSON(p, r)
	*dst = *p
	return err
}

// jsonErr passes the body bound's error through; anything else (broken
// JSON, a body cut short, a bound of this file) is ErrBadBody.
func jsonErr(err error) error {
	if IsTooLarge(err) {
		return err
	}
	return ErrBadBody
}

// A jsonParam takes the value of one member of the body's object. The
// decoder hands UnmarshalJSON the value's bytes from its own buffer,
// checked to be valid JSON, without building anything from them.
type jsonParam struct {
	p      *Params
	name   string // canonical, "" for a name that is not read
	budget *int
}

var errJSONBounds = errors.New("frontdoor: JSON body beyond bounds")

func (j *jsonParam) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if _, depth := valueEnd(data, 0); depth >= MaxJSONDepth { // the body's object is one level
		return errJSONBounds
	}
	if j.name == "" || len(data) == 0 {
		return nil
	}
	if data[0] != '[' {
		if s, ok := jsonScalar(data); ok {
			j.p.add(j.name, s)
		}
		return nil
	}
	for i := skipSpace(data, 1); i < len(data) && data[i] != ']'; {
		if *j.budget--; *j.budget < 0 {
			return errJSONBounds
		}
		end, _ := valueEnd(data, i)
		if s, ok := jsonScalar(data[i:end]); ok {
			j.p.add(j.name, s)
		}
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return nil
}

// jsonScalar returns the parameter value of a JSON scalar, and false for
// null, an object or an array.
func jsonScalar(v []byte) (string, bool) {
	switch v[0] {
	case '"':
		return unquote(v), true
	case 'n', '{', '[':
		return "", false
	}
	return string(v), true // a number as written, true or false
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
			continue
		}
		break
	}
	return i
}

// valueEnd returns the end of the valid JSON value that starts at
// data[i], and the depth of its deepest array or object (0 for a scalar).
func valueEnd(data []byte, i int) (end, maxDepth int) {
	depth := 0
	for ; i < len(data); i++ {
		switch c := data[i]; c {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1, maxDepth
			}
		case '{', '[':
			depth++
			maxDepth = max(maxDepth, depth)
		case '}', ']':
			if depth == 0 { // the end of the array holding a scalar
				return i, maxDepth
			}
			depth--
			if depth == 0 {
				return i + 1, maxDepth
			}
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return i, maxDepth
			}
		}
	}
	return len(data), maxDepth
}

// unquote decodes a JSON string, quotes included, that encoding/json has
// checked. Bytes that are not UTF-8 stay as they are, and an escaped
// surrogate without its pair becomes its three WTF-8 bytes; both make
// invalid UTF-8, which CheckValue refuses in a secret value.
func unquote(q []byte) string {
	s := q[1 : len(q)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s)
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		i++
		switch e := s[i]; e {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(s[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) && r < 0xdc00 && i+7 <= len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if r2 := hex4(s[i+3 : i+7]); r2 >= 0xdc00 && r2 < 0xe000 {
					r = utf16.DecodeRune(r, r2)
					i += 6
				}
			}
			if utf16.IsSurrogate(r) {
				// utf8.AppendRune would write U+FFFD.
				b = append(b, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
			} else {
				b = utf8.AppendRune(b, r)
			}
		default: // '"', '\\', '/'
			b = append(b, e)
		}
		i++
	}
	return string(b)
}

func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
