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
	"slices"
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
// receives, and can be told to refuse recipients, to stall, or to say
// nothing at all.
type smtpServer struct {
	t  *testing.T
	ln net.Listener

	mu        sync.Mutex
	messages  []received
	accepted  []time.Time // when each connection came
	rcpts     int         // RCPT commands seen
	refuse    string      // RCPT TO addresses answered 550
	tempFails int         // RCPT commands to answer 451 before any 250
	stall     chan struct{}
	silent    bool   // accept connections and never answer, not even a greeting
	auth      string // "user\x00pass" expected by AUTH PLAIN; "" offers none
	authedAs  string
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

// configure changes how the server behaves, under its lock.
func (s *smtpServer) configure(f func(*smtpServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *smtpServer) conns() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.accepted...)
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	s.mu.Lock()
	s.accepted = append(s.accepted, time.Now())
	silent, done := s.silent, s.stall
	s.mu.Unlock()
	if silent {
		<-done // a server that hangs: it answers nothing until the test ends
		return
	}
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
			s.mu.Lock()
			s.rcpts++
			busy := s.tempFails > 0
			if busy {
				s.tempFails--
			}
			s.mu.Unlock()
			if refuse != "" && to == "<"+refuse+">" {
				reply(550, "no such user "+to)
				continue
			}
			if busy {
				reply(451, "try again later, "+to)
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
	require.NoError(t, svc.Close()) // sends what is queued
	assert.Empty(t, logs.String(), "no notification failed")

	msgs := srv.got()
	require.Len(t, msgs, 2)
	slices.SortFunc(msgs, func(a, b received) int { return strings.Compare(a.to[0], b.to[0]) }) // sent concurrently
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
	srv.configure(func(s *smtpServer) { s.auth = "mailer\x00hunter2" })
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
	assert.ErrorIs(t, err, onetime.ErrUndeliverable, "535: credentials refused for good")
	assert.Len(t, srv.got(), 1, "nothing sent without authentication")

	// PlainAuth refuses to send a password to another host than its own:
	// no retry mends that.
	wrongHost := newNotifier(t, srv, func(o *smtpnotify.Options) {
		o.Auth = smtp.PlainAuth("", "mailer", "hunter2", "mail.example.com")
	})
	err = wrongHost.Notify(context.Background(), onetime.Notification{Recipient: "bob@example.com", SecretKey: "abc"})
	require.Error(t, err)
	assert.ErrorIs(t, err, onetime.ErrUndeliverable)
}

func TestNotifyRequireTLS(t *testing.T) {
	srv := startSMTP(t)
	n := newNotifier(t, srv, func(o *smtpnotify.Options) { o.RequireTLS = true })
	err := n.Notify(context.Background(), onetime.Notification{Recipient: "bob@example.com", SecretKey: "abc"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "STARTTLS")
	assert.ErrorIs(t, err, onetime.ErrUndeliverable)
	assert.Empty(t, srv.got())
}

func TestNotifyRefusedRecipient(t *testing.T) {
	srv := startSMTP(t)
	srv.configure(func(s *smtpServer) { s.refuse = "nobody@example.com" })
	n := newNotifier(t, srv, nil)
	err := n.Notify(context.Background(), onetime.Notification{Recipient: "nobody@example.com", SecretKey: "abc"})
	require.Error(t, err)
	var se *smtpnotify.SMTPError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 550, se.Code)
	assert.False(t, se.Temporary())
	assert.ErrorIs(t, err, onetime.ErrUndeliverable, "5xx: permanent")
	assert.NotContains(t, err.Error(), "nobody", "the server's reply quoted the address; the error does not")

	// Through the service: the share succeeds, the failure is logged
	// without the address, and is not retried.
	var logs bytes.Buffer
	svc, _ := onetimetest.NewService(t, &onetime.Options{Notifier: n, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Notify: &onetime.NotifyOptions{MinBackoff: time.Millisecond}})
	m, err := svc.Share(context.Background(), onetime.ShareRequest{Owner: "ada", Value: []byte("v"), Recipients: []string{"nobody@example.com"}})
	require.NoError(t, err)
	require.NoError(t, svc.Close())
	out := logs.String()
	assert.Contains(t, out, `msg="onetime: notifying a recipient failed" recipient=no*****@e*****.com attempt=1 err_type=*smtpnotify.SMTPError reason=undeliverable`)
	assert.NotContains(t, out, "will retry")
	assert.NotContains(t, out, "nobody@example.com")
	assert.NotContains(t, out, string(m.SecretKey))
	srv.mu.Lock()
	assert.Equal(t, 2, srv.rcpts, "one RCPT for the direct Notify, one for the Service: no retry")
	srv.mu.Unlock()
}

// TestTemporaryRefusalRetried: a server that answers 451 (try again
// later) is tried again, with a wait between attempts, until it takes the
// message; nothing is logged as an error.
func TestTemporaryRefusalRetried(t *testing.T) {
	srv := startSMTP(t)
	srv.configure(func(s *smtpServer) { s.tempFails = 3 })
	n := newNotifier(t, srv, nil)
	err := n.Notify(context.Background(), onetime.Notification{Recipient: "bob@example.com", SecretKey: "abc"})
	var se *smtpnotify.SMTPError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 451, se.Code)
	assert.True(t, se.Temporary())
	assert.NotErrorIs(t, err, onetime.ErrUndeliverable, "4xx: temporary")
	assert.NotContains(t, err.Error(), "bob", "the server's reply quoted the address; the error does not")

	var logs bytes.Buffer
	const minBackoff = 20 * time.Millisecond
	svc, _ := onetimetest.NewService(t, &onetime.Options{Notifier: n, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Notify: &onetime.NotifyOptions{MinBackoff: minBackoff, MaxBackoff: minBackoff}})
	m, err := svc.Share(context.Background(), onetime.ShareRequest{Owner: "ada", Value: []byte("the value"), Recipients: []string{"bob@example.com"}})
	require.NoError(t, err)
	require.NoError(t, svc.Close())
	conns := srv.conns()
	require.Len(t, conns, 4, "the direct Notify, then two refusals, then the retry that worked")
	assert.GreaterOrEqual(t, conns[2].Sub(conns[1]), minBackoff/2, "a wait before each retry")
	assert.GreaterOrEqual(t, conns[3].Sub(conns[2]), minBackoff/2, "a wait before each retry")
	msgs := srv.got()
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0].data, "https://secrets.example.com/secret/"+string(m.SecretKey))
	assert.NotContains(t, msgs[0].data, "the value")
	out := logs.String()
	assert.Equal(t, 2, strings.Count(out, "will retry"), out)
	assert.Contains(t, out, "err_type=*smtpnotify.SMTPError")
	assert.NotContains(t, out, "level=ERROR")
	assert.NotContains(t, out, "bob@example.com")
}

// TestShareAnswersWhileTheServerHangs: a mail server that accepts
// connections and never answers does not hold Share up (before the queue,
// it held the request until the handler's deadline cut the answer off).
// The worker gives each attempt AttemptTimeout, retries MaxAttempts times
// and gives up with an error logged without the address.
func TestShareAnswersWhileTheServerHangs(t *testing.T) {
	srv := startSMTP(t)
	srv.configure(func(s *smtpServer) { s.silent, s.stall = true, make(chan struct{}) })
	var logs bytes.Buffer
	const attempt = 300 * time.Millisecond
	svc, _ := onetimetest.NewService(t, &onetime.Options{Notifier: newNotifier(t, srv, nil), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Notify: &onetime.NotifyOptions{Workers: 1, MaxAttempts: 3, AttemptTimeout: attempt, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}})

	req, cancel := context.WithTimeout(context.Background(), 25*time.Second) // the handler's deadline
	defer cancel()
	start := time.Now()
	m, err := svc.Share(req, onetime.ShareRequest{Owner: "ada", Value: []byte("v"), Recipients: []string{"bob@example.com"}})
	took := time.Since(start)
	require.NoError(t, err)
	assert.Less(t, took, attempt, "Share did not wait for the mail server")
	cancel() // the request ends: the notification goes on

	require.NoError(t, svc.Close())
	took = time.Since(start)
	conns := srv.conns()
	require.Len(t, conns, 3, "MaxAttempts connections, each given up after AttemptTimeout")
	for i := 1; i < len(conns); i++ {
		gap := conns[i].Sub(conns[i-1])
		assert.True(t, gap >= attempt && gap < attempt+time.Second, "attempt %d came %v after the one before", i+1, gap)
	}
	assert.Less(t, took, 3*attempt+2*time.Second, "within bounds: 3 attempts and 2 short waits")
	out := logs.String()
	assert.Equal(t, 2, strings.Count(out, "will retry"), out)
	assert.Contains(t, out, `recipient=bo*****@e*****.com attempt=3 err_type=context.deadlineExceededError reason="out of attempts"`)
	assert.NotContains(t, out, "bob@example.com")
	assert.NotContains(t, out, string(m.SecretKey))
}

func TestNotifyGivesUp(t *testing.T) {
	srv := startSMTP(t)
	srv.configure(func(s *smtpServer) { s.stall = make(chan struct{}) })
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
	assert.NotErrorIs(t, err, onetime.ErrUndeliverable, "a timeout is worth a retry")

	// No server at all.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	gone := newNotifier(t, srv, func(o *smtpnotify.Options) { o.Addr = addr })
	err = gone.Notify(context.Background(), onetime.Notification{Recipient: "bob@example.com", SecretKey: "abc"})
	require.Error(t, err)
	assert.NotErrorIs(t, err, onetime.ErrUndeliverable, "a refused connection is worth a retry")
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
	assert.ErrorIs(t, err, onetime.ErrUndeliverable)
	assert.Equal(t, "https://x.example/secret/abc", n.Link("abc"))
}
