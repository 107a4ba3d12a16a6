package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// rawConn is a minimal HTTP/1.1 client over one keep-alive connection,
// owned by one worker. On a 2-core machine shared with the server, the
// load generator's CPU is capacity the server does not get: net/http's
// client (a reader and a writer goroutine per connection, channels between
// them and the caller) costs about as much CPU per request as the server
// spends answering it. This client writes each request with one write and
// reads the answer in place. It speaks just what the v1 API needs: no TLS
// (https URLs use net/http), no redirects, no 1xx, no compression.
type rawConn struct {
	addr    string // host:port to dial
	host    string // Host header
	authz   string // Authorization header value, or ""
	timeout time.Duration
	dialer  *net.Dialer

	conn net.Conn
	br   *bufio.Reader
	req  []byte // request being written, reused
	body []byte // last answer's body, reused
}

func newRawConn(addr, host, authz string, timeout time.Duration) *rawConn {
	return &rawConn{
		addr:    addr,
		host:    host,
		authz:   authz,
		timeout: timeout,
		dialer:  &net.Dialer{Timeout: 5 * time.Second, Control: dialLoopbackOnly},
	}
}

func (r *rawConn) close() {
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
}

// roundTrip sends one request, with body of the media type ctype (no body
// when ctype is ""), and returns the status and body of the answer. The
// body is valid until the next call.
func (r *rawConn) roundTrip(ctx context.Context, method, path, ctype string, body []byte) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	reused := r.conn != nil
	if !reused {
		if err := r.dial(ctx); err != nil {
			return 0, nil, err
		}
	}
	st, b, err := r.exchange(ctx, method, path, ctype, body)
	if err != nil && reused && errors.Is(err, errClosedIdle) {
		// The server closed the idle connection before reading the
		// request: it was not handled, so sending it again is safe.
		if err := r.dial(ctx); err != nil {
			return 0, nil, err
		}
		st, b, err = r.exchange(ctx, method, path, ctype, body)
	}
	if err != nil {
		r.close()
		return 0, nil, err
	}
	return st, b, nil
}

// errClosedIdle: the connection was found closed before any byte of an
// answer arrived.
var errClosedIdle = errors.New("connection closed by the server before answering")

func (r *rawConn) dial(ctx context.Context) error {
	r.close()
	c, err := r.dialer.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return err
	}
	r.conn = c
	if r.br == nil {
		r.br = bufio.NewReaderSize(c, 16<<10)
	} else {
		r.br.Reset(c)
	}
	return nil
}

func (r *rawConn) exchange(ctx context.Context, method, path, ctype string, body []byte) (int, []byte, error) {
	c := r.conn
	c.SetDeadline(time.Now().Add(r.timeout))
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}

	q := r.req[:0]
	q = append(q, method...)
	q = append(q, ' ')
	q = append(q, path...)
	q = append(q, " HTTP/1.1\r\nHost: "...)
	q = append(q, r.host...)
	q = append(q, "\r\nUser-Agent: onetime-loadgen\r\n"...)
	if r.authz != "" {
		q = append(q, "Authorization: "...)
		q = append(q, r.authz...)
		q = append(q, "\r\n"...)
	}
	if ctype != "" {
		q = append(q, "Content-Type: "...)
		q = append(q, ctype...)
		q = append(q, "\r\nContent-Length: "...)
		q = strconv.AppendInt(q, int64(len(body)), 10)
		q = append(q, "\r\n"...)
	}
	q = append(q, "\r\n"...)
	q = append(q, body...)
	r.req = q
	if _, err := c.Write(q); err != nil {
		if isClosed(err) {
			return 0, nil, fmt.Errorf("%w: %v", errClosedIdle, err)
		}
		return 0, nil, err
	}
	return r.readResponse(method)
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// maxBody bounds the body of an answer that the client reads.
const maxBody = 8 << 20

// readResponse reads one HTTP/1.1 answer: status line, headers, and a body
// delimited by Content-Length, chunked encoding, or the end of the
// connection.
func (r *rawConn) readResponse(method string) (int, []byte, error) {
	status, http10, err := r.statusLine()
	if err != nil {
		return 0, nil, err
	}
	f, err := r.headers(http10)
	if err != nil {
		return 0, nil, err
	}
	b := r.body[:0]
	switch {
	case method == "HEAD" || status == 204 || status == 304 || status/100 == 1:
	case f.chunked:
		b, err = r.chunkedBody(b)
	case f.length >= 0:
		if f.length > maxBody {
			return 0, nil, fmt.Errorf("answer of %d bytes is too large", f.length)
		}
		b, err = readN(r.br, b, int(f.length))
	default: // the body runs to the end of the connection
		f.closing = true
		var rest []byte
		rest, err = io.ReadAll(io.LimitReader(r.br, maxBody))
		b = append(b, rest...)
	}
	if err != nil {
		return 0, nil, err
	}
	r.body = b
	if f.closing {
		r.close()
	}
	return status, b, nil
}

// statusLine reads the status line, "HTTP/1.1 200 OK", and returns the
// status and whether the answer is HTTP/1.0. A connection found closed
// before any byte of it came is errClosedIdle.
func (r *rawConn) statusLine() (status int, http10 bool, err error) {
	line, err := r.line()
	if err != nil {
		if len(line) == 0 && isClosed(err) {
			return 0, false, fmt.Errorf("%w: %v", errClosedIdle, err)
		}
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("malformed status line %q", trunc(line))
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("malformed status line %q", trunc(line))
	}
	return status, line[7] == '0', nil
}

// framing is how an answer's body is delimited, as its headers say.
type framing struct {
	length  int64 // Content-Length; -1 when there is none
	chunked bool  // Transfer-Encoding: chunked
	closing bool  // the server closes the connection after this answer
}

// headers reads the header lines up to the empty one and returns what
// they say of the body. An HTTP/1.0 answer closes the connection unless
// it says keep-alive.
func (r *rawConn) headers(http10 bool) (framing, error) {
	f := framing{length: -1, closing: http10}
	for {
		h, err := r.line()
		if err != nil {
			return f, err
		}
		if len(h) == 0 {
			return f, nil
		}
		colon := bytes.IndexByte(h, ':')
		if colon < 0 {
			return f, fmt.Errorf("malformed header line %q", trunc(h))
		}
		name, val := h[:colon], bytes.TrimSpace(h[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			f.length, err = strconv.ParseInt(string(val), 10, 64)
			if err != nil || f.length < 0 {
				return f, fmt.Errorf("bad Content-Length %q", trunc(val))
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			f.chunked = bytes.EqualFold(val, []byte("chunked"))
			if !f.chunked {
				return f, fmt.Errorf("unsupported Transfer-Encoding %q", trunc(val))
			}
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(val, []byte("close")) {
				f.closing = true
			} else if bytes.EqualFold(val, []byte("keep-alive")) {
				f.closing = false
			}
		}
	}
}

// chunkedBody appends a chunked body to b, and reads the trailers after
// it.
func (r *rawConn) chunkedBody(b []byte) ([]byte, error) {
	for {
		szLine, err := r.line()
		if err != nil {
			return b, err
		}
		if i := bytes.IndexByte(szLine, ';'); i >= 0 {
			szLine = szLine[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(szLine)), 16, 64)
		if err != nil || n < 0 || int64(len(b))+n > maxBody {
			return b, fmt.Errorf("bad chunk size %q", trunc(szLine))
		}
		if n == 0 {
			return b, r.trailers()
		}
		if b, err = readN(r.br, b, int(n)); err != nil {
			return b, err
		}
		if crlf, err := r.line(); err != nil || len(crlf) != 0 {
			return b, errors.New("chunk not followed by CRLF")
		}
	}
}

// trailers reads the trailer lines of a chunked body, up to the empty
// line.
func (r *rawConn) trailers() error {
	for {
		t, err := r.line()
		if err != nil {
			return err
		}
		if len(t) == 0 {
			return nil
		}
	}
}

// line reads one header line without its CRLF. It is valid until the next
// read.
func (r *rawConn) line() ([]byte, error) {
	l, err := r.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("header line too long")
		}
		return l, err
	}
	l = l[:len(l)-1]
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	return l, nil
}

// readN appends exactly n bytes from br to b.
func readN(br *bufio.Reader, b []byte, n int) ([]byte, error) {
	start := len(b)
	b = slices.Grow(b, n)[:start+n]
	_, err := io.ReadFull(br, b[start:])
	return b, err
}

func trunc(b []byte) []byte {
	if len(b) > 60 {
		return b[:60]
	}
	return b
}
