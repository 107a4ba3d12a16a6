package smtpnotify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/notify/smtpnotify"
	"github.com/onetimego/onetime/onetimetest"
)

// smtpServer is a minimal SMTP server on a loopback port: EHLO, HELO,
// AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. It keeps what it
// receives, and can be told to refuse recipients or to stall.
type smtpServer struct {
	t  *testing.T
	ln net.Listener

	mu       sync.Mutex
	messages []received
	refuse   string // RCPT TO addresses answered 550
	stall    chan struct{}
	auth     string // "user\x00pass" expected by AUTH PLAIN; "" offers none
	authedAs string
}

type received struct {
	from string
	to   []string
	data string
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &smtpServer{t: t, ln: ln}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		if s.stall != nil {
			close(s.stall)
			s.stall = nil
		}
		s.mu.Unlock()
		wg.Wait()
	})
	return s
}

func (s *smtpServer) addr() string { return s.ln.Addr().String() }

func (s *smtpServer) got() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.messages...)
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	reply := func(code int, msg string) { tp.PrintfLine("%d %s", code, msg) }
	reply(220, "test ESMTP ready")
	var cur received
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		s.mu.Lock()
		stall, refuse, auth := s.stall, s.refuse, s.auth
		s.mu.Unlock()
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			if auth != "" {
				tp.PrintfLine("250-test greets %s", arg)
				reply(250, "AUTH PLAIN")
			} else {
				reply(250, "test greets "+arg)
			}
		case "HELO":
			reply(250, "test")
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			dec, err := base64.StdEncoding.DecodeString(resp)
			if mech != "PLAIN" || err != nil || auth == "" || string(dec) != "\x00"+auth {
				reply(535, "authentication failed")
				continue
			}
			s.mu.Lock()
			s.authedAs, _, _ = strings.Cut(auth, "\x00")
			s.mu.Unlock()
			reply(235, "ok")
		case "MAIL":
			cur = received{from: strings.TrimPrefix(arg, "FROM:")}
			reply(250, "ok")
		case "RCPT":
			to := strings.TrimPrefix(arg, "TO:")
			if refuse != "" && to == "<"+refuse+">" {
				reply(550, "no such user "+to)
				continue
			}
			cur.to = append(cur.to, to)
			reply(250, "ok")
		case "DATA":
			if stall != nil {
				<-stall // never answers until the test ends
				return
			}
			reply(354, "go ahead")
			b, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			cur.data = string(b)
			s.mu.Lock()
			s.messages = append(s.messages, cur)
			s.mu.Unlock()
			reply(250, "queued")
		case "RSET", "NOOP":
			reply(250, "ok")
		case "QUIT":
			reply(221, "bye")
			return
		default:
			reply(502, "not implemented")
		}
	}
}

func newNotifier(t *testing.T, srv *smtpServer, mod func(*smtpnotify.Options)) *smtpnotify.Notifier {
	t.Helper()
	o := smtpnotify.Options{Addr: srv.addr(), From: "Secrets <secrets@example.com>", BaseURL: "https://secrets.example.com/"}
	if mod != nil {
		mod(&o)
	}
	n, err := smtpnotify.New(o)
	require.NoError(t, err)
	return n
}

func TestShareEmailsTheLink(t *testing.T) {
	srv := startSMTP(t)
	n := newNotifier(t, srv, nil)
	var logs bytes.Buffer
	svc, _ := onetimetest.NewService(t, &onetime.Options{Notifier: n, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()

	const value = "the secret value\n.\nwith a lone dot line"
	m, err := svc.Share(ctx, onetime.ShareRequest{
		Owner: "ada", Value: []byte(value), Passphrase: "a passphrase",
		Recipients: []string{"bob@example.com", "carol@example.org"},
	})
	require.NoError(t, err)
	assert.Empty(t, logs.String(), "no notification failed")

	msgs := srv.got()
	require.Len(t, msgs, 2)
	link := "https://secrets.example.com/secret/" + string(m.SecretKey)
	for i, to := range []string{"bob@example.com", "carol@example.org"} {
		got := msgs[i]
		assert.Equal(t, "<secrets@example.com>", got.from)
		assert.Equal(t, []string{"<" + to + ">"}, got.to)
		parsed, err := mail.ReadMessage(strings.NewReader(got.data))
		require.NoError(t, err)
		assert.Equal(t, "<"+to+">", parsed.Header.Get("To"))
		assert.Equal(t, `"Secrets" <secrets@example.com>`, parsed.Header.Get("From"))
		assert.Equal(t, "You have been sent a secret", parsed.Header.Get("Subject"))
		assert.Equal(t, "text/plain; charset=utf-8", parsed.Header.Get("Content-Type"))
		body, err := io.ReadAll(parsed.Body)
		require.NoError(t, err)
		assert.Contains(t, string(body), "\n"+link+"\n", "the link on a line of its own (the DotReader gives LF)")
		assert.Contains(t, string(body), "ada has sent you a secret")
		assert.NotContains(t, got.data, "the secret value")
		assert.NotContains(t, got.data, "lone dot")
		assert.NotContains(t, got.data, "a passphrase")
		assert.NotContains(t, got.data, string(m.MetadataKey))
	}

	// The link works: the key in it reveals the secret.
	key := strings.TrimPrefix(link, "https://secrets.example.com/secret/")
	s, err := svc.Reveal(ctx, onetime.SecretKey(key), "a passphrase")
	require.NoError(t, err)
	assert.Equal(t, value, string(s.Value))
}

func TestNotifyAuthenticates(t *testing.T) {
	srv := startSMTP(t)
	srv.auth = "mailer\x00hunter2"
	// net/smtp sends PLAIN credentials only over TLS or to a loopback
	// server, and only to the host it was made for.
	n := newNotifier(t, srv, func(o *smtpnotify.Options) {
		o.Auth = smtp.PlainAuth("", "mailer", "hunter2", "127.0.0.1")
	})
	require.NoError(t, n.Notify(context.Background(), onetime.Notification{Recipient: "bob@example.com", SecretKey: "abc", Owner: "ada"}))
	srv.mu.Lock()
	assert.Equal(t, "mailer", srv.authedAs)
	srv.mu.Unlock()
	require.Len(t, srv.got(), 1)

	bad := newNotifier(t, srv, func(o *smtpnotify.Options) {
		o.Auth = smtp.PlainAuth("", "mailer", "wrong", "127.0.0.1")
	})
	err := bad.Notify(context.Background(), onetime.Notification{Recipient: "bob@example.com", SecretKey: "abc"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AUTH")
	assert.Len(t, srv.got(), 1, "nothing sent without authentication")
}

func TestNotifyRequireTLS(t *testing.T) {
	srv := startSMTP(t)
	n := newNotifier(t, srv, func(o *smtpnotify.Options) { o.RequireTLS = true })
	err := n.Notify(context.Background(), onetime.Notification{Recipient: "bob@example.com", SecretKey: "abc"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "STARTTLS")
	assert.Empty(t, srv.got())
}

func TestNotifyRefusedRecipient(t *testing.T) {
	srv := startSMTP(t)
	srv.refuse = "nobody@example.com"
	n := newNotifier(t, srv, nil)
	err := n.Notify(context.Background(), onetime.Notification{Recipient: "nobody@example.com", SecretKey: "abc"})
	require.Error(t, err)
	var se *smtpnotify.SMTPError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 550, se.Code)
	assert.False(t, se.Temporary())
	assert.NotContains(t, err.Error(), "nobody", "the server's reply quoted the address; the error does not")

	// Through the service: the share succeeds, the failure is logged
	// without the address.
	var logs bytes.Buffer
	svc, _ := onetimetest.NewService(t, &onetime.Options{Notifier: n, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	_, err = svc.Share(context.Background(), onetime.ShareRequest{Owner: "ada", Value: []byte("v"), Recipients: []string{"nobody@example.com"}})
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "notifying a recipient failed")
	assert.NotContains(t, logs.String(), "nobody@example.com")
}

func TestNotifyGivesUp(t *testing.T) {
	srv := startSMTP(t)
	srv.stall = make(chan struct{})
	n := newNotifier(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Notify(ctx, onetime.Notification{Recipient: "bob@example.com", SecretKey: "abc"}) }()
	cancel()
	err := <-done
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), err.Error())

	short := newNotifier(t, srv, func(o *smtpnotify.Options) { o.Timeout = 50 * time.Millisecond })
	err = short.Notify(context.Background(), onetime.Notification{Recipient: "bob@example.com", SecretKey: "abc"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), err.Error())

	// No server at all.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	gone := newNotifier(t, srv, func(o *smtpnotify.Options) { o.Addr = addr })
	assert.Error(t, gone.Notify(context.Background(), onetime.Notification{Recipient: "bob@example.com", SecretKey: "abc"}))
}

func TestNewRefusesBadOptions(t *testing.T) {
	good := smtpnotify.Options{Addr: "mail.example.com:25", From: "a@example.com", BaseURL: "https://x.example"}
	_, err := smtpnotify.New(good)
	require.NoError(t, err)
	for _, mod := range []func(*smtpnotify.Options){
		func(o *smtpnotify.Options) { o.Addr = "mail.example.com" },
		func(o *smtpnotify.Options) { o.From = "not an address" },
		func(o *smtpnotify.Options) { o.BaseURL = "x.example" },
		func(o *smtpnotify.Options) { o.BaseURL = "https://x.example/?a=b" },
		func(o *smtpnotify.Options) { o.Subject = "two\r\nBcc: evil@example.com" },
	} {
		o := good
		mod(&o)
		_, err := smtpnotify.New(o)
		assert.Error(t, err, "%+v", o)
	}
	n, err := smtpnotify.New(good)
	require.NoError(t, err)
	err = n.Notify(context.Background(), onetime.Notification{Recipient: "bob@example.com\r\nBcc: x@example.com", SecretKey: "abc"})
	assert.Error(t, err)
	assert.Equal(t, "https://x.example/secret/abc", n.Link("abc"))
}
