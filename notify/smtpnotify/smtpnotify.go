// Package smtpnotify e-mails the recipients of new secrets their link, over
// SMTP with the standard library's net/smtp. A [Notifier] is an
// [onetime.Notifier]: set it as onetime.Options.Notifier, and every
// recipient that a customer names when sharing gets one short message
// holding the link BASE/secret/KEY.
//
//	n, err := smtpnotify.New(smtpnotify.Options{
//		Addr:    "mail.example.com:587",
//		From:    "secrets@example.com",
//		BaseURL: "https://secrets.example.com",
//		Auth:    smtp.PlainAuth("", user, password, "mail.example.com"),
//	})
//	svc, err := onetime.New(store, serverSecret, &onetime.Options{Notifier: n})
//
// A message never holds the secret's value (the Service does not hand it to
// a Notifier) nor its passphrase; it does hold the link, which is the
// capability to read the secret once, as a mail to the recipient must. The
// errors it returns do not quote the recipient's address.
//
// # Delivery
//
// The Service sends mail off the request path: Share stores the secret,
// queues one notification per recipient and answers, and the queue's
// workers call Notify (see onetime.NotifyOptions for their number, the
// queue's size, the attempts and the waits between them). A slow or silent
// mail server therefore never delays nor cuts off a share's answer.
//
// A failure is retried when a retry may help: a network failure, a
// timeout, or a reply of the server that asks to try again later (4xx).
// A permanent refusal (a 5xx reply, such as an unknown recipient), a
// certificate that does not verify, a server without STARTTLS under
// Options.RequireTLS, or credentials that Options.Auth refuses to send, is
// not: those errors match onetime.ErrUndeliverable (errors.Is). An attempt
// whose final reply was lost may be retried after the server took the
// message, so a recipient may get the same link twice.
//
// The queue is in memory. Mail still queued, or waiting for a retry, when
// the process crashes or is killed is lost, and a restart does not send
// it; so is what Service.Close could not send within its drain timeout.
// No secret is lost with it: the creator still holds the receipt, which
// shows the secret's link while the secret is unread, and can pass the
// link on by other means.
package smtpnotify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/onetimego/onetime"
)

// DefaultTimeout bounds one delivery (connection, dialogue and message)
// unless Options.Timeout says otherwise. The Service bounds each attempt
// too (onetime.NotifyOptions.AttemptTimeout); the shorter one applies.
const DefaultTimeout = 30 * time.Second

// Options configure a [Notifier].
type Options struct {
	// Addr is the SMTP server, host:port (submission is usually port 587).
	Addr string
	// From is the sender's address, e.g. "secrets@example.com" or
	// "Secrets <secrets@example.com>".
	From string
	// BaseURL is where the pages live (webui's PublicURL): links are
	// BaseURL + "/secret/" + key.
	BaseURL string

	// Auth, when set, authenticates to the server (smtp.PlainAuth, which
	// net/smtp uses only over TLS or to localhost).
	Auth smtp.Auth
	// RequireTLS refuses to deliver unless the server offers STARTTLS.
	// Without it, STARTTLS is used whenever offered.
	RequireTLS bool
	// TLSConfig is used for STARTTLS; nil means the system's roots and the
	// host of Addr as the server name.
	TLSConfig *tls.Config

	// LocalName is the name sent in EHLO; "" means "localhost".
	LocalName string
	// Subject of the messages; "" means "You have been sent a secret".
	Subject string
	// Timeout bounds one delivery; zero means [DefaultTimeout].
	Timeout time.Duration
}

// A Notifier sends each notification as one e-mail. It is safe for
// concurrent use: each Notify opens a connection of its own.
type Notifier struct {
	opts Options
	from *mail.Address
	host string
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

var _ onetime.Notifier = (*Notifier)(nil)

// New checks opts and returns a Notifier. It does not connect.
func New(opts Options) (*Notifier, error) {
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil || host == "" {
		return nil, errors.New("smtpnotify: Addr must be host:port")
	}
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		return nil, errors.New("smtpnotify: From is not an e-mail address")
	}
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("smtpnotify: BaseURL must be an http or https URL with a host and no query")
	}
	if strings.ContainsAny(opts.Subject+opts.LocalName, "\r\n") {
		return nil, errors.New("smtpnotify: Subject and LocalName must be one line")
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	if opts.Subject == "" {
		opts.Subject = "You have been sent a secret"
	}
	if opts.LocalName == "" {
		opts.LocalName = "localhost"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	var d net.Dialer
	return &Notifier{opts: opts, from: from, host: host, dial: d.DialContext}, nil
}

// Link returns the address at which the secret with the given key is read.
func (n *Notifier) Link(key onetime.SecretKey) string {
	return n.opts.BaseURL + "/secret/" + url.PathEscape(string(key))
}

// Notify e-mails the notification's recipient the link to the secret. It
// gives up when ctx ends or the delivery outlasts Options.Timeout. An
// error that no retry can mend matches onetime.ErrUndeliverable.
func (n *Notifier) Notify(ctx context.Context, note onetime.Notification) error {
	to, err := mail.ParseAddress(note.Recipient)
	if err != nil || to.Address != note.Recipient {
		return permanent{errors.New("smtpnotify: invalid recipient address")}
	}
	msg, err := n.message(to, note)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
	defer cancel()
	conn, err := n.dial(ctx, "tcp", n.opts.Addr)
	if err != nil {
		return fmt.Errorf("smtpnotify: connecting: %w", err)
	}
	// The connection obeys ctx: its deadline, and closing it on
	// cancellation, end any step that waits on the server.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := n.send(conn, to.Address, msg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("smtpnotify: %w", ctx.Err())
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection's deadline is ctx's: it can strike a moment
			// before ctx reports it.
			return fmt.Errorf("smtpnotify: %w", context.DeadlineExceeded)
		}
		return err
	}
	return nil
}

// send runs the SMTP dialogue on conn, which it closes.
func (n *Notifier) send(conn net.Conn, to string, msg []byte) error {
	c, err := smtp.NewClient(conn, n.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtpnotify: greeting: %w", redact(err))
	}
	defer c.Close()
	if err := c.Hello(n.opts.LocalName); err != nil {
		return fmt.Errorf("smtpnotify: EHLO: %w", redact(err))
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := n.opts.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{ServerName: n.host}
		}
		if err := c.StartTLS(cfg); err != nil {
			err = fmt.Errorf("smtpnotify: STARTTLS: %w", redact(err))
			if _, bad := errors.AsType[*tls.CertificateVerificationError](err); bad {
				return permanent{err}
			}
			return err
		}
	} else if n.opts.RequireTLS {
		return permanent{errors.New("smtpnotify: the server does not offer STARTTLS")}
	}
	if n.opts.Auth != nil {
		if err := c.Auth(n.opts.Auth); err != nil {
			err = fmt.Errorf("smtpnotify: AUTH: %w", redact(err))
			if _, refused := errors.AsType[*SMTPError](err); !refused && !isNetwork(err) {
				// The Auth's own refusal, such as PlainAuth's of a
				// connection without TLS: a retry meets it again.
				return permanent{err}
			}
			return err
		}
	}
	// Server replies may quote the recipient's address: report them by
	// step and code only.
	if err := c.Mail(n.from.Address); err != nil {
		return fmt.Errorf("smtpnotify: MAIL FROM refused: %w", redact(err))
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("smtpnotify: RCPT TO refused: %w", redact(err))
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtpnotify: DATA refused: %w", redact(err))
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtpnotify: sending the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtpnotify: message refused: %w", redact(err))
	}
	// The message is accepted: a failing QUIT loses nothing.
	c.Quit()
	return nil
}

// An SMTPError is a reply of the server that refused a step; its text is
// left out, as it may quote the recipient's address.
type SMTPError struct {
	Code int
}

func (e *SMTPError) Error() string { return fmt.Sprintf("server replied %d", e.Code) }

// Temporary reports whether the server asked to try again later (4xx).
func (e *SMTPError) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

// Is makes any reply but a 4xx match onetime.ErrUndeliverable, so that the
// Service retries only what the server asked to retry.
func (e *SMTPError) Is(target error) bool {
	return target == onetime.ErrUndeliverable && !e.Temporary()
}

// permanent marks an error that no retry can mend: it matches
// onetime.ErrUndeliverable, and reads as the error it wraps.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

func (p permanent) Is(target error) bool { return target == onetime.ErrUndeliverable }

// isNetwork reports whether err is a failure of the connection (reset,
// closed by the server, timed out) rather than a refusal.
func isNetwork(err error) bool {
	_, ok := errors.AsType[net.Error](err)
	return ok || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// redact turns a reply of the server into an [SMTPError], without its
// text, and leaves any other error as it is.
func redact(err error) error {
	if tp, ok := errors.AsType[*textproto.Error](err); ok {
		return &SMTPError{Code: tp.Code}
	}
	return err // a network error: it names the server, not the recipient
}

// message builds the mail: plain text, UTF-8, the link on a line of its
// own, and nothing of the secret but the link.
func (n *Notifier) message(to *mail.Address, note onetime.Notification) ([]byte, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("smtpnotify: %w", err)
	}
	domain := n.from.Address[strings.LastIndexByte(n.from.Address, '@')+1:]
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", n.from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", n.opts.Subject))
	header("Date", time.Now().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")

	sender := "Someone"
	if owner := oneLine(note.Owner); owner != "" {
		sender = owner
	}
	fmt.Fprintf(&b, "%s has sent you a secret. It can be viewed once, at this link:\r\n\r\n", sender)
	b.WriteString(n.Link(note.SecretKey) + "\r\n\r\n")
	if !note.ExpiresAt.IsZero() {
		fmt.Fprintf(&b, "The link works until %s, or until the secret is read.\r\n", note.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	b.WriteString("Opening the link does not reveal the secret: the page asks you first.\r\n" +
		"If you did not expect this message, you can ignore it.\r\n")
	return b.Bytes(), nil
}

// oneLine keeps a customer id from breaking the message: no control
// characters, at most 64 runes.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64])
	}
	return s
}
