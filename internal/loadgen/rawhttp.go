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

// roundTrip sends one request, with body as a form when hasBody, and
// returns the status and body of the answer. The body is valid until the
// next call.
func (r *rawConn) roundTrip(ctx context.Context, method, path string, hasBody bool, body []byte) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	reused := r.conn != nil
	if !reused {
		if err := r.dial(ctx); err != nil {
			return 0, nil, err
		}
	}
	st, b, err := r.exchange(ctx, method, path, hasBody, body)
	if err != nil && reused && errors.Is(err, errClosedIdle) {
		// The server closed the idle connection before reading the
		// request: it was not handled, so sending it again is safe.
		if err := r.dial(ctx); err != nil {
			return 0, nil, err
		}
		st, b, err = r.exchange(ctx, method, path, hasBody, body)
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

func (r *rawConn) exchange(ctx context.Context, method, path string, hasBody bool, body []byte) (int, []byte, error) {
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
	if hasBody {
		q = append(q, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "...)
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

// readResponse reads one HTTP/1.1 answer: status line, headers, and a body
// delimited by Content-Length, chunked encoding, or the end of the
// connection.
func (r *rawConn) readResponse(method string) (int, []byte, error) {
	line, err := r.line()
	if err != nil {
		if len(line) == 0 && isClosed(err) {
			return 0, nil, fmt.Errorf("%w: %v", errClosedIdle, err)
		}
		return 0, nil, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, nil, fmt.Errorf("malformed status line %q", trunc(line))
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("malformed status line %q", trunc(line))
	}
	http10 := line[7] == '0'

	length, chunked, closing := int64(-1), false, http10
	for {
		h, err := r.line()
		if err != nil {
			return 0, nil, err
		}
		if len(h) == 0 {
			break
		}
		colon := bytes.IndexByte(h, ':')
		if colon < 0 {
			return 0, nil, fmt.Errorf("malformed header line %q", trunc(h))
		}
		name, val := h[:colon], bytes.TrimSpace(h[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.ParseInt(string(val), 10, 64)
			if err != nil || length < 0 {
				return 0, nil, fmt.Errorf("bad Content-Length %q", trunc(val))
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(val, []byte("chunked"))
			if !chunked {
				return 0, nil, fmt.Errorf("unsupported Transfer-Encoding %q", trunc(val))
			}
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(val, []byte("close")) {
				closing = true
			} else if bytes.EqualFold(val, []byte("keep-alive")) {
				closing = false
			}
		}
	}

	const maxBody = 8 << 20
	b := r.body[:0]
	switch {
	case method == "HEAD" || status == 204 || status == 304 || status/100 == 1:
	case chunked:
		for {
			szLine, err := r.line()
			if err != nil {
				return 0, nil, err
			}
			if i := bytes.IndexByte(szLine, ';'); i >= 0 {
				szLine = szLine[:i]
			}
			n, err := strconv.ParseInt(string(bytes.TrimSpace(szLine)), 16, 64)
			if err != nil || n < 0 || int64(len(b))+n > maxBody {
				return 0, nil, fmt.Errorf("bad chunk size %q", trunc(szLine))
			}
			if n == 0 {
				for { // trailers, up to the empty line
					t, err := r.line()
					if err != nil {
						return 0, nil, err
					}
					if len(t) == 0 {
						break
					}
				}
				break
			}
			if b, err = readN(r.br, b, int(n)); err != nil {
				return 0, nil, err
			}
			if crlf, err := r.line(); err != nil || len(crlf) != 0 {
				return 0, nil, errors.New("chunk not followed by CRLF")
			}
		}
	case length >= 0:
		if length > maxBody {
			return 0, nil, fmt.Errorf("answer of %d bytes is too large", length)
		}
		if b, err = readN(r.br, b, int(length)); err != nil {
			return 0, nil, err
		}
	default: // the body runs to the end of the connection
		closing = true
		rest, err := io.ReadAll(io.LimitReader(r.br, maxBody))
		if err != nil {
			return 0, nil, err
		}
		b = append(b, rest...)
	}
	r.body = b
	if closing {
		r.close()
	}
	return status, b, nil
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
