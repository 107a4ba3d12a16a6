package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func rawFor(t *testing.T, srvURL string) *rawConn {
	t.Helper()
	u, err := checkURL(srvURL)
	if err != nil {
		t.Fatal(err)
	}
	r := newRawConn(u.Host, u.Host, "", 5*time.Second)
	t.Cleanup(r.close)
	return r
}

// The raw client must read every way net/http frames an answer: with a
// Content-Length (small bodies), chunked (large ones), and closing.
func TestRawFraming(t *testing.T) {
	big := strings.Repeat("0123456789", 10_000) // 100 kB: chunked by net/http
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/small":
			fmt.Fprintf(w, "got %s %s ct=%s", r.Method, body, r.Header.Get("Content-Type"))
		case "/big":
			io.WriteString(w, big)
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		case "/status":
			w.WriteHeader(404)
			io.WriteString(w, `{"message":"Unknown secret"}`)
		case "/empty":
			w.WriteHeader(204)
		}
	}))
	defer srv.Close()
	r := rawFor(t, srv.URL)
	ctx := context.Background()
	const form = "application/x-www-form-urlencoded"
	check := func(method, path, ctype string, body string, wantStatus int, want string) {
		t.Helper()
		st, b, err := r.roundTrip(ctx, method, path, ctype, []byte(body))
		if err != nil || st != wantStatus || string(b) != want {
			t.Errorf("%s %s: %d %.80q %v, want %d %.80q", method, path, st, b, err, wantStatus, want)
		}
	}
	for range 3 { // the same connection, over and over
		check("POST", "/small", form, "a=1&b=2", 200, "got POST a=1&b=2 ct=application/x-www-form-urlencoded")
		check("POST", "/small", form, "", 200, "got POST  ct=application/x-www-form-urlencoded")
		check("POST", "/small", "application/json", `{"a":1}`, 200, `got POST {"a":1} ct=application/json`)
		check("GET", "/small", "", "", 200, "got GET  ct=")
		check("GET", "/big", "", "", 200, big)
		check("GET", "/status", "", "", 404, `{"message":"Unknown secret"}`)
		check("GET", "/empty", "", "", 204, "")
		check("GET", "/close", "", "", 200, "bye")
		if r.conn != nil {
			t.Error("Connection: close left the connection open")
		}
	}
}

// A keep-alive connection that the server closed while idle is redialed,
// and the request is sent once more.
func TestRawRedialsClosedIdleConnection(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	srv.Config.IdleTimeout = 50 * time.Millisecond
	srv.Start()
	defer srv.Close()
	r := rawFor(t, srv.URL)
	for i := range 3 {
		st, b, err := r.roundTrip(context.Background(), "GET", "/", "", nil)
		if err != nil || st != 200 || string(b) != "ok" {
			t.Fatalf("request %d: %d %q %v", i, st, b, err)
		}
		time.Sleep(150 * time.Millisecond) // the server closes the idle connection
	}
}

// A server that answers garbage is an error, not a hang or a success.
func TestRawMalformed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	answers := []string{
		"SMTP ready\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	}
	go func() {
		for _, a := range answers {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			for { // read the request head
				l, err := br.ReadString('\n')
				if err != nil || l == "\r\n" {
					break
				}
			}
			io.WriteString(c, a)
			c.Close()
		}
	}()
	r := rawFor(t, "http://"+ln.Addr().String())
	for _, a := range answers {
		if st, b, err := r.roundTrip(context.Background(), "GET", "/", "", nil); err == nil {
			t.Errorf("answer %q: %d %q, want an error", a, st, b)
		}
	}
}

func TestRawHonoursCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	r := rawFor(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := r.roundTrip(ctx, "GET", "/", "", nil); err == nil {
		t.Error("no error from a cancelled request")
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("cancel took %v", el)
	}
}
