package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// printable returns s with every character that is not printable escaped
// as Go writes it in a quoted string: \x1b, \t, \u202e, and \xff for a
// byte that is not UTF-8. Text that a server chose (a message, a state, an
// address) goes through it before it reaches a terminal, which would obey
// the escape sequences in it (move the cursor, rewrite the screen, set the
// window title).
func printable(s string) string {
	if isPrintable(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r != ' ' && (r == utf8.RuneError || !unicode.IsPrint(r)) {
			return false
		}
	}
	return true
}

// escapeJSON returns the JSON text b with every character that is not
// printable, but the whitespace between tokens, written as a \u escape.
// In valid JSON such characters can only stand inside strings, where the
// escape means the same character: the JSON is the same, and a terminal
// shows it without obeying it. A byte that is not UTF-8 becomes \ufffd,
// as JSON decoders read it.
func escapeJSON(b []byte) []byte {
	if isPrintable(strings.NewReplacer("\n", "", "\r", "", "\t", "").Replace(string(b))) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			out = append(out, `\ufffd`...)
		case r == ' ' || r == '\n' || r == '\r' || r == '\t' || (r != utf8.RuneError && unicode.IsPrint(r)):
			out = append(out, b[i:i+n]...)
		default:
			units := []uint16{uint16(r)}
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				units = []uint16{uint16(r1), uint16(r2)}
			}
			for _, u := range units {
				out = fmt.Appendf(out, `\u%04x`, u)
			}
		}
		i += n
	}
	return out
}
