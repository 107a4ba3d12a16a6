// Command onetime shares secrets from a terminal or a script through any
// server of the Onetime Secret REST API v1 (this module's httpapi,
// cmd/onetime-server, onetimesecret.com), with package client.
//
// Install:
//
//	go install github.com/onetimego/onetime/cmd/onetime@latest
//
// Use:
//
//	echo "$TOKEN" | onetime -url https://ots.example.com share     # prints BASE/secret/KEY#FRAGMENT
//	onetime get 'https://ots.example.com/secret/KEY#FRAGMENT'     # prints the value, once
//
// # Commands
//
//	onetime [-url BASE] [-json] COMMAND [flags] [arguments]
//
//	share [FILE]      share the content of FILE, or of standard input ("-" or
//	                  no FILE); on a terminal, prompts for one line without
//	                  echo. Prints the link (BASE/secret/KEY#FRAGMENT in the
//	                  zero-knowledge mode, else BASE/secret/KEY), and with -v
//	                  the receipt link BASE/private/METADATAKEY on a second
//	                  line.
//	generate          share a random password (-length N), made here in the
//	                  zero-knowledge mode, else by the server. Prints the
//	                  link, then the password, then with -v the receipt link.
//	get LINK|KEY      reveal a secret (it is gone afterwards) and print it
//	receipt LINK|KEY  print what became of a secret, from its receipt link
//	                  (the link it prints lacks the '#' key of a
//	                  zero-knowledge link: only the sender's copy has it)
//	burn LINK|KEY     destroy a secret that has not been read yet
//	recent            list your recent receipts (needs credentials)
//	status            ask whether the server is up
//
// share and generate take -ttl (a lifetime such as 90s, 1h, 7d or 1d12h;
// a bare number is seconds; by default the server's), -recipient ADDR
// (repeatable, needs credentials, and -plain with a server that takes
// zero-knowledge shares), -plain, -v, and the passphrase flags below.
//
// # Zero-knowledge links
//
// When the server says in its status that it takes zero-knowledge shares
// (docs/zero-knowledge.md; this module's server does, the reference
// service does not), share and generate seal the value here, with a fresh
// key that travels only in the link's fragment, after the '#': the server
// stores ciphertext and never sees the value, the passphrase or the key.
// The printed link is the only way to the secret: the receipt's link
// lacks the key. get, given such a link (quote it in a shell), derives
// the proof of the key here, presents it, and decrypts here; without the
// '#' part, or with another one, the server answers "Unknown secret" and
// the secret stays, so that a link scanner that drops the fragment
// consumes nothing. A value that the link's key did not seal (a secret
// shared in the server-side mode, or a value of the server's own) is
// printed with a note on standard error: the server saw it. Links made by
// the pages in a browser open with get, and the links share prints open
// in a browser.
//
// -plain shares in the server-side mode instead, as onetime did before
// and as every v1 client does: the server sees the value and the
// passphrase, and the link has no fragment. The server cannot e-mail a
// zero-knowledge link, whose key it never sees: -recipient needs -plain
// (without it share refuses: send the link yourself). Against a server
// that does not take zero-knowledge shares, share works as with -plain.
//
// # Values and newlines
//
// share sends its input byte for byte: `echo hunter2 | onetime share`
// shares "hunter2\n", newline included, and files round-trip exactly. get
// prints the value byte for byte and then a newline if the value does not
// end with one, so that a shell prompt starts on a line of its own; with
// -n it prints the value exactly, adding nothing. The API carries text:
// share refuses input that is not UTF-8 (encode binary data, e.g. with
// base64).
//
// # Passphrases
//
// -p prompts for the passphrase without echo (on the terminal, even when
// standard input is a pipe; share asks twice). -passphrase VALUE gives it
// on the command line, where other users of the machine can see it; the
// environment variable ONETIME_PASSPHRASE is the way for scripts. In the
// zero-knowledge mode (a link with a '#' part, a share to a server that
// takes such shares) the passphrase never leaves the machine: it is
// derived here (PBKDF2-HMAC-SHA256, 600,000 iterations, a fraction of a
// second) into the proof that the server checks and the key that opens
// the value; a wrong one is still counted by the server.
//
// The v1 API cannot tell whether a secret needs a passphrase before a
// reveal is tried, and a reveal without the right passphrase counts as a
// failed attempt (too many burn the secret). So get never asks after the
// fact: when it is answered "Unknown secret" it exits 1, and says to run
// it again with -p if no passphrase was given. Ask the sender whether there
// is one, and use -p up front.
//
// # Configuration
//
// The server is -url BASE, or the environment variable ONETIME_URL. For
// get, receipt and burn, a full link names its server by itself, and is
// revealed there even when ONETIME_URL names another one; -url overrides
// it (for a link on a custom share domain whose API is elsewhere). A
// customer's credentials come from ONETIME_CUSTID and ONETIME_TOKEN (HTTP
// Basic auth; anonymous without them). They go only to the configured
// server (-url, else ONETIME_URL): same scheme, host and port. A link to
// any other server is opened there without them, and the command says so
// on standard error. -json prints the server's JSON answer instead of the
// text output, for scripts; in the zero-knowledge mode share and generate
// add "link" (with its '#' part) to it, generate "value", and get prints
// the value it opened in place of the ciphertext. Flags go before or after
// the command name.
//
// # Talking to servers
//
// Each request is bounded by two minutes. Redirects are not followed,
// but a GET's within the server's origin: a server that answers a share,
// reveal or burn with a redirect gets an error naming the Location, and
// no second copy of the secret or passphrase. A reveal, burn, share or
// generate is sent again after a failure only when that cannot repeat it:
// when it never reached the server, or when the server says it honours
// the Idempotency-Key header that every such request carries (see package
// client). Text from the server (error messages, states, addresses) is
// printed with control characters escaped, so that a server cannot drive
// the terminal; an answer to share or generate without two distinct keys
// is an error (exit status 3), never a link to nowhere.
//
// # Exit status
//
// 0 success; 1 not found or gone (unknown secret, already read, burned,
// expired, wrong passphrase); 2 usage error; 3 any other error. Messages go
// to standard error and never carry a key, value, passphrase or a link's
// '#' part.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/onetimego/onetime/client"
)

// Exit statuses.
const (
	exitOK       = 0
	exitNotFound = 1
	exitUsage    = 2
	exitError    = 3
)

// maxInput bounds what share reads: servers refuse much less (1 MiB by
// default), this only keeps a runaway pipe from filling memory.
const maxInput = 16 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], system{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, openTTY: openDevTTY})
	stop()
	os.Exit(code)
}

// system is what a run of the command reads and writes: the process's
// own in main, a test's in tests.
type system struct {
	getenv func(string) string
	stdin  *os.File // nil for none
	stdout io.Writer
	stderr io.Writer
	// openTTY opens the controlling terminal, where prompts go when
	// standard input is not a terminal (it may carry the secret).
	openTTY func() (*os.File, error)
}

// openDevTTY opens the process's controlling terminal.
func openDevTTY() (*os.File, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }

// cli is one run of the command.
type cli struct {
	system

	baseURL string // -url
	json    bool   // -json
	plain   bool   // -plain of share and generate
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// notFoundError is exit status 1, with its own message.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

const usageText = `usage: onetime [-url BASE] [-json] COMMAND [flags] [arguments]

commands:
  share [FILE]       share FILE or standard input; prints the link
  generate           share a random password
  get LINK|KEY       reveal a secret (once) and print it; quote a link
                     with a '#' part: it holds the key
  receipt LINK|KEY   print what became of a secret
  burn LINK|KEY      destroy a secret not read yet
  recent             list your recent receipts (needs credentials)
  status             ask whether the server is up

flags of share and generate:
  -ttl D             lifetime: 90s, 1h, 7d, 1d12h, or seconds
  -plain             let the server see the value (no '#' key in the link);
                     by default it is encrypted here when the server
                     takes zero-knowledge shares
  -recipient ADDR    e-mail the link (repeatable; needs credentials, and
                     -plain with a server that takes zero-knowledge shares)
  -length N          generate: password length
  -v                 also print the receipt link
flags of share, generate and get:
  -p                 prompt for a passphrase without echo
  -passphrase P      the passphrase (visible to other users: prefer -p
                     or ONETIME_PASSPHRASE)
flags of get:
  -n                 print the value exactly, adding no newline

environment: ONETIME_URL, ONETIME_CUSTID and ONETIME_TOKEN,
ONETIME_PASSPHRASE.
exit status: 0 ok, 1 not found or gone, 2 usage, 3 other errors.
`

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, sys system) int {
	c := &cli{system: sys}
	err := c.dispatch(ctx, args)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(c.stdout, usageText)
		return exitOK
	}
	stderr := c.stderr
	fmt.Fprintln(stderr, "onetime:", printable(message(err)))
	var ue *usageError
	var nf *notFoundError
	var ie *client.InputError
	switch {
	case errors.As(err, &ue), errors.As(err, &ie), errors.Is(err, client.ErrInvalidKey):
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "run 'onetime -h' for help")
		}
		return exitUsage
	case errors.As(err, &nf), errors.Is(err, client.ErrNotFound):
		return exitNotFound
	}
	return exitError
}

// message is the text of err for a person: the server's message of an API
// error, without the package prefix. It may carry what a server sent:
// print it through printable.
func message(err error) string {
	var ae *client.APIError
	if errors.As(err, &ae) && !errors.Is(err, client.ErrNotFound) {
		return "the server says: " + ae.Message
	}
	return strings.TrimPrefix(err.Error(), "client: ")
}

// commonFlags adds the flags that every command takes, defaulting to
// what the global flags said.
func (c *cli) commonFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.baseURL, "url", c.baseURL, "the server's base URL (default $ONETIME_URL)")
	fs.BoolVar(&c.json, "json", c.json, "print the server's JSON answer")
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses the flags of a command, which may come before, between
// and after its arguments ("--" ends the flags), and returns the
// arguments.
func (c *cli) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	fs := newFlagSet("onetime")
	c.commonFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	if fs.NArg() == 0 {
		return &usageError{"no command given"}
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "share":
		return c.share(ctx, rest)
	case "generate":
		return c.generate(ctx, rest)
	case "get", "reveal":
		return c.get(ctx, rest)
	case "receipt":
		return c.receipt(ctx, rest)
	case "burn":
		return c.burn(ctx, rest)
	case "recent":
		return c.recent(ctx, rest)
	case "status":
		return c.status(ctx, rest)
	case "help":
		return flag.ErrHelp
	}
	return &usageError{"unknown command " + strconv.Quote(cmd)}
}

// passFlags are the passphrase flags of share, generate and get.
type passFlags struct {
	prompt bool
	value  string
}

func (p *passFlags) add(fs *flag.FlagSet) {
	fs.BoolVar(&p.prompt, "p", false, "prompt for the passphrase without echo")
	fs.StringVar(&p.value, "passphrase", "", "the passphrase (visible to other users)")
}

// get returns the passphrase asked for: from -passphrase, a prompt (-p),
// or ONETIME_PASSPHRASE; "" for none. confirm asks twice.
func (p *passFlags) get(c *cli, confirm bool) (string, error) {
	switch {
	case p.prompt && p.value != "":
		return "", &usageError{"give -p or -passphrase, not both"}
	case p.value != "":
		return p.value, nil
	case !p.prompt:
		return c.getenv("ONETIME_PASSPHRASE"), nil
	}
	pass, err := c.readHidden("Passphrase: ")
	if err != nil {
		return "", err
	}
	if pass == "" {
		return "", &usageError{"empty passphrase"}
	}
	if confirm {
		again, err := c.readHidden("Passphrase again: ")
		if err != nil {
			return "", err
		}
		if again != pass {
			return "", &usageError{"the passphrases do not match"}
		}
	}
	return pass, nil
}

// readHidden prompts on the terminal and reads a line without echo. The
// terminal is standard input when it is one, else /dev/tty (standard
// input may carry the secret).
func (c *cli) readHidden(prompt string) (string, error) {
	tty, promptTo := c.stdin, c.stderr
	if tty == nil || !term.IsTerminal(int(tty.Fd())) {
		f, err := c.openTTY()
		if err != nil {
			return "", &usageError{"cannot prompt: no terminal (set ONETIME_PASSPHRASE, or give the value another way)"}
		}
		defer f.Close()
		tty, promptTo = f, f
	}
	fmt.Fprint(promptTo, prompt)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(promptTo)
	if err != nil {
		return "", fmt.Errorf("reading from the terminal: %w", err)
	}
	return string(b), nil
}

// recipients is a repeatable -recipient flag.
type recipients []string

func (r *recipients) String() string { return strings.Join(*r, ",") }

func (r *recipients) Set(s string) error {
	*r = append(*r, s)
	return nil
}

// ttlFlag is a lifetime: a Go duration, with days ("7d", "1d12h"), or a
// bare number of seconds.
type ttlFlag time.Duration

func (t *ttlFlag) String() string { return time.Duration(*t).String() }

func (t *ttlFlag) Set(s string) error {
	d, err := parseTTL(s)
	if err != nil {
		return err
	}
	*t = ttlFlag(d)
	return nil
}

func parseTTL(s string) (time.Duration, error) {
	bad := errors.New("not a lifetime: use e.g. 90s, 1h, 7d, 1d12h, or seconds")
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > int64(365*24*time.Hour/time.Second) {
			return 0, bad
		}
		return time.Duration(n) * time.Second, nil
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > 365 {
			return 0, bad
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil || rest < 0 {
			return 0, bad
		}
	}
	d := days + rest
	if d < 0 || (days == 0 && rest == 0 && s == "") {
		return 0, bad
	}
	return d, nil
}

// createFlags are the flags of share and generate.
type createFlags struct {
	pass       passFlags
	ttl        ttlFlag
	recipients recipients
	verbose    bool
	plain      bool
}

func (f *createFlags) add(fs *flag.FlagSet) {
	f.pass.add(fs)
	fs.Var(&f.ttl, "ttl", "lifetime: 90s, 1h, 7d, 1d12h, or seconds")
	fs.Var(&f.recipients, "recipient", "e-mail address to send the link to (repeatable)")
	fs.BoolVar(&f.verbose, "v", false, "also print the receipt link")
	fs.BoolVar(&f.plain, "plain", false, "share in the server-side mode: the server sees the value")
}

// creator returns the client of share and generate: Plain with -plain.
// Recipients are refused before anything is read or sent when the share
// would be zero-knowledge: the server could only mail a link that does
// not open.
func (c *cli) creator(ctx context.Context, f *createFlags) (*client.Client, error) {
	c.plain = f.plain
	cl, err := c.client("")
	if err != nil || len(f.recipients) == 0 || f.plain {
		return cl, err
	}
	zk, err := cl.ZeroKnowledge(ctx)
	if err != nil {
		return nil, err
	}
	if zk {
		return nil, &usageError{"-recipient: this server takes zero-knowledge shares, whose key it never sees, so it cannot e-mail the link: leave out -recipient and send the link yourself, or add -plain to let the server see the value and mail the link"}
	}
	return cl, nil
}

// created prints the outcome of share and generate: the link, the
// password of generate (value, "" for share), the receipt link with -v;
// with -json the server's answer, with the link and the password added in
// the zero-knowledge mode, where the server knows neither.
func (c *cli) created(cl *client.Client, m *client.Metadata, value string, verbose bool) error {
	lines := []string{string(m.Link)}
	if value != "" {
		lines = append(lines, printable(value))
	}
	if verbose {
		lines = append(lines, cl.ReceiptLink(m.MetadataKey))
	}
	raw := []byte(m.Raw)
	if m.ZeroKnowledge && c.json {
		add := []string{"link", string(m.Link)}
		if value != "" {
			add = append(add, "value", value)
		}
		var err error
		if raw, err = withMembers(raw, add...); err != nil {
			return err
		}
	}
	return c.output(raw, lines...)
}

// requestTimeout bounds each request.
const requestTimeout = 2 * time.Minute

// client makes the API client. link, when not empty, is the key or link
// given on the command line. The server is -url, else the server of a
// full link, else ONETIME_URL: a link received from another server is
// revealed there, whatever ONETIME_URL says, and -url overrides it (for a
// link on a custom share domain whose API lives elsewhere).
//
// The credentials go to the configured server only (-url, else
// ONETIME_URL), never to a server that a link names: a link to another
// origin is opened without them, and a note on standard error says so.
func (c *cli) client(link string) (*client.Client, error) {
	custid, token := c.getenv("ONETIME_CUSTID"), c.getenv("ONETIME_TOKEN")
	if (custid == "") != (token == "") {
		return nil, &usageError{"set both ONETIME_CUSTID and ONETIME_TOKEN, or neither"}
	}
	configured := c.baseURL
	if configured == "" {
		configured = c.getenv("ONETIME_URL")
	}
	linkBase := ""
	if c.baseURL == "" {
		linkBase = baseOf(link)
	}
	if configured == "" && linkBase == "" {
		return nil, &usageError{"no server: give -url BASE or set ONETIME_URL"}
	}
	var own *client.Client
	if configured != "" {
		var err error
		if own, err = newClient(configured, custid, token, c.plain); err != nil {
			return nil, err
		}
	}
	if linkBase == "" {
		return own, nil
	}
	if own != nil && own.SameOrigin(linkBase) {
		return newClient(linkBase, custid, token, c.plain)
	}
	if custid != "" {
		where := "no server is configured (-url or ONETIME_URL)"
		if own != nil {
			where = "it is not the configured server " + own.BaseURL()
		}
		fmt.Fprintf(c.stderr, "onetime: note: the link names %s and %s: opening it without your credentials\n", printable(linkBase), printable(where))
	}
	return newClient(linkBase, "", "", c.plain)
}

// newClient makes a client of the server at base; plain keeps shares in
// the server-side mode.
func newClient(base, custid, token string, plain bool) (*client.Client, error) {
	cl, err := client.New(base, &client.Options{
		Timeout:    requestTimeout,
		CustomerID: custid, APIToken: token,
		UserAgent: "onetime-cli/1",
		Plain:     plain,
	})
	if err != nil {
		return nil, &usageError{strings.TrimPrefix(err.Error(), "client: ")}
	}
	return cl, nil
}

// baseOf returns the base URL of a link BASE/secret/KEY (or /private/,
// /receipt/, /metadata/), or "" when s is not such a link.
func baseOf(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	parts := strings.Split(strings.TrimRight(u.EscapedPath(), "/"), "/")
	for i := len(parts) - 2; i >= 0; i-- {
		switch parts[i] {
		case "secret", "private", "receipt", "metadata":
			prefix := strings.Join(parts[:i], "/")
			prefix = strings.TrimSuffix(prefix, "/api/v1")
			return u.Scheme + "://" + u.Host + prefix
		}
	}
	return ""
}

// output prints the server's JSON with -json, else the text lines. The
// JSON is printed with control characters escaped (it stays the same
// JSON); the lines must be printable already.
func (c *cli) output(raw []byte, lines ...string) error {
	if c.json {
		_, err := c.stdout.Write(append(escapeJSON(bytes.TrimSpace(raw)), '\n'))
		return err
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(c.stdout, l); err != nil {
			return err
		}
	}
	return nil
}

func (c *cli) share(ctx context.Context, args []string) error {
	fs := newFlagSet("share")
	c.commonFlags(fs)
	var f createFlags
	f.add(fs)
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return &usageError{"share takes at most one FILE"}
	}
	cl, err := c.creator(ctx, &f)
	if err != nil {
		return err
	}
	var name string
	if len(pos) == 1 {
		name = pos[0]
	}
	value, err := c.readValue(name)
	if err != nil {
		return err
	}
	pass, err := f.pass.get(c, true)
	if err != nil {
		return err
	}
	m, err := cl.Share(ctx, value, &client.ShareOptions{Passphrase: pass, TTL: time.Duration(f.ttl), Recipients: f.recipients})
	if err != nil {
		return err
	}
	return c.created(cl, m, "", f.verbose)
}

// readValue reads the secret of share: the file named, standard input,
// or a hidden line typed on the terminal.
func (c *cli) readValue(name string) (string, error) {
	var r io.Reader
	switch {
	case name != "" && name != "-":
		f, err := os.Open(name)
		if err != nil {
			return "", errors.New("cannot read the file: " + strings.TrimPrefix(err.Error(), "open "))
		}
		defer f.Close()
		r = f
	case name == "" && c.stdin != nil && term.IsTerminal(int(c.stdin.Fd())):
		v, err := c.readHidden("Secret (one line, not shown): ")
		if err != nil {
			return "", err
		}
		if v == "" {
			return "", &usageError{"nothing to share"}
		}
		return v, nil
	default:
		if c.stdin == nil {
			return "", &usageError{"no standard input"}
		}
		r = c.stdin
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return "", fmt.Errorf("reading the value: %w", err)
	}
	switch {
	case len(b) > maxInput:
		return "", &usageError{fmt.Sprintf("the value is larger than %d bytes", maxInput)}
	case len(b) == 0:
		return "", &usageError{"nothing to share: the input is empty"}
	case !utf8.Valid(b):
		return "", &usageError{"the input is not UTF-8 text: encode binary data, e.g. with base64"}
	}
	return string(b), nil
}

func (c *cli) generate(ctx context.Context, args []string) error {
	fs := newFlagSet("generate")
	c.commonFlags(fs)
	var f createFlags
	f.add(fs)
	length := fs.Int("length", 0, "length of the password (default 12)")
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{"generate takes no arguments"}
	}
	if *length < 0 {
		return &usageError{"-length must not be negative"}
	}
	cl, err := c.creator(ctx, &f)
	if err != nil {
		return err
	}
	pass, err := f.pass.get(c, true)
	if err != nil {
		return err
	}
	m, err := cl.Generate(ctx, &client.GenerateOptions{Passphrase: pass, TTL: time.Duration(f.ttl), Recipients: f.recipients, Length: *length})
	if err != nil {
		return err
	}
	return c.created(cl, m, m.Value, f.verbose)
}

// oneArg parses the flags of a command that takes one LINK|KEY.
func (c *cli) oneArg(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := c.parse(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", &usageError{fs.Name() + " takes one LINK or KEY"}
	}
	return pos[0], nil
}

func (c *cli) get(ctx context.Context, args []string) error {
	fs := newFlagSet("get")
	c.commonFlags(fs)
	var p passFlags
	p.add(fs)
	exact := fs.Bool("n", false, "print the value exactly, adding no newline")
	arg, err := c.oneArg(fs, args)
	if err != nil {
		return err
	}
	if _, err := client.SecretKey(arg).Key(); err != nil {
		return err
	}
	cl, err := c.client(arg)
	if err != nil {
		return err
	}
	pass, err := p.get(c, false)
	if err != nil {
		return err
	}
	s, err := cl.Reveal(ctx, client.SecretKey(arg), pass)
	if errors.Is(err, client.ErrNotFound) {
		msg := "unknown secret: it was read already, burned or has expired"
		if strings.Contains(arg, "#") {
			msg += ", or the key after '#' is not this secret's"
		}
		if pass == "" {
			msg += ", or it needs a passphrase (run again with -p; each try counts)"
		} else {
			msg += ", or the passphrase is wrong"
		}
		return &notFoundError{msg}
	}
	if err != nil {
		return err
	}
	if !s.ZeroKnowledge && strings.Contains(arg, "#") {
		// A server may answer any value: one that the link's key did
		// not seal was seen by the server (or made by it).
		fmt.Fprintln(c.stderr, "onetime: note: the link holds a key, but the server answered a value that it did not seal: the server saw this value")
	}
	if c.json {
		if s.ZeroKnowledge {
			// The server answered ciphertext: the answer as it would be
			// in the server-side mode, with the value opened here.
			b, err := json.Marshal(struct {
				Value       string `json:"value"`
				SecretKey   string `json:"secret_key"`
				ShareDomain string `json:"share_domain"`
			}{s.Value, string(s.Key), s.ShareDomain})
			if err != nil {
				return err
			}
			return c.output(b)
		}
		return c.output(s.Raw)
	}
	out := s.Value
	if !*exact && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	_, err = io.WriteString(c.stdout, out)
	return err
}

func (c *cli) receipt(ctx context.Context, args []string) error {
	cl, m, err := c.withReceipt(ctx, "receipt", args, (*client.Client).Receipt,
		"unknown receipt: it never existed or has expired")
	if err != nil {
		return err
	}
	return c.output(m.Raw, describe(cl, m)...)
}

// withReceipt runs a command whose one argument is a receipt link or
// metadata key: it parses the flags and the argument, picks the server the
// link names, and calls do; gone is the message when the server answers
// not found.
func (c *cli) withReceipt(ctx context.Context, name string, args []string,
	do func(*client.Client, context.Context, client.MetadataKey) (*client.Metadata, error), gone string,
) (*client.Client, *client.Metadata, error) {
	fs := newFlagSet(name)
	c.commonFlags(fs)
	arg, err := c.oneArg(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if _, err := client.MetadataKey(arg).Key(); err != nil {
		return nil, nil, err
	}
	cl, err := c.client(arg)
	if err != nil {
		return nil, nil, err
	}
	m, err := do(cl, ctx, client.MetadataKey(arg))
	if errors.Is(err, client.ErrNotFound) {
		return nil, nil, &notFoundError{gone}
	}
	if err != nil {
		return nil, nil, err
	}
	return cl, m, nil
}

// describe returns the lines that tell a receipt.
func describe(cl *client.Client, m *client.Metadata) []string {
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	lines := []string{"state:      " + printable(string(m.State))}
	if !m.Created.IsZero() {
		lines = append(lines, "created:    "+ts(m.Created))
	}
	if !m.Received.IsZero() {
		lines = append(lines, "received:   "+ts(m.Received))
	}
	if m.State.Alive() {
		if m.SecretTTL > 0 {
			lines = append(lines, "expires in: "+m.SecretTTL.String())
		}
		if m.PassphraseRequired {
			lines = append(lines, "passphrase: required")
		}
		if m.SecretKey != "" {
			lines = append(lines, "link:       "+cl.SecretLink(m.SecretKey))
		}
	}
	if len(m.Recipients) > 0 {
		lines = append(lines, "recipients: "+printable(strings.Join(m.Recipients, ", ")))
	}
	return lines
}

func (c *cli) burn(ctx context.Context, args []string) error {
	_, m, err := c.withReceipt(ctx, "burn", args, (*client.Client).Burn,
		"nothing to burn: the secret was read already, burned or has expired")
	if err != nil {
		return err
	}
	return c.output(m.Raw, printable(string(m.State)))
}

func (c *cli) recent(ctx context.Context, args []string) error {
	fs := newFlagSet("recent")
	c.commonFlags(fs)
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{"recent takes no arguments"}
	}
	cl, err := c.client("")
	if err != nil {
		return err
	}
	ms, err := cl.Recent(ctx)
	if err != nil {
		return err
	}
	if c.json {
		raws := make([][]byte, len(ms))
		for i, m := range ms {
			raws[i] = m.Raw
		}
		return c.output(append(append([]byte{'['}, bytes.Join(raws, []byte{','})...), ']'))
	}
	lines := make([]string, len(ms))
	for i, m := range ms {
		lines[i] = cl.ReceiptLink(m.MetadataKey) + "\t" + printable(string(m.State)) + "\t" + m.Created.UTC().Format(time.RFC3339)
	}
	return c.output(nil, lines...)
}

func (c *cli) status(ctx context.Context, args []string) error {
	fs := newFlagSet("status")
	c.commonFlags(fs)
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{"status takes no arguments"}
	}
	cl, err := c.client("")
	if err != nil {
		return err
	}
	s, err := cl.Status(ctx)
	if err != nil {
		return err
	}
	return c.output(s.Raw, printable(s.Status))
}

// withMembers returns the JSON object raw with the members name, value
// (pairs in kv) added at its end, the values as JSON strings.
func withMembers(raw []byte, kv ...string) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return nil, errors.New("the server's answer is not a JSON object")
	}
	out := append([]byte(nil), raw[:len(raw)-1]...)
	empty := len(bytes.TrimSpace(raw[1:len(raw)-1])) == 0
	for i := 0; i+1 < len(kv); i += 2 {
		if !empty {
			out = append(out, ',')
		}
		empty = false
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		out = append(append(append(out, k...), ':'), v...)
	}
	return append(out, '}'), nil
}
