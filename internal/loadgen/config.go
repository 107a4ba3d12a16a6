package loadgen

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Config is one run of the load generator: what the command's flags say
// (see [ParseFlags], which fills in the defaults and checks it).
type Config struct {
	URL        string        // base URL of the server (loopback only)
	Conc       int           // concurrent clients (-c)
	Mode       string        // share, reveal, pair or generate
	N          int64         // operations to run; 0: bounded by Dur only
	Dur        time.Duration // duration of the timed phase; 0: bounded by N only
	Size       int           // value size in bytes
	Passphrase string        // "" when secrets have none
	JSON       bool          // print the summary as JSON (the command)
	Auth       string        // "custid:token" or ""
	Burst      int           // extra workers making wrong-passphrase reveals
	Guess      int           // extra workers guessing passphrases on random keys
	Pool       int           // reveal mode with Dur only: at most this many secrets shared beforehand
	Timeout    time.Duration // timeout of one HTTP request
	CPUProfile string        // the command's own CPU profile file, or ""
	Warmup     time.Duration // untimed load before the timed phase
	Client     string        // raw or std
	Recheck    bool          // reveal each revealed secret again, which must be gone
	API        string        // onetime (the default), yopass or ots: see peers.go

	// OnTimed, when not nil, is called with true just before the timed
	// phase starts (after the warm-up and any untimed prefill) and with
	// false just after its last operation: the points between which a
	// caller measures, e.g., the server's CPU time.
	OnTimed func(start bool)
}

// passFlag is -passphrase: given alone it switches on a passphrase chosen
// by loadgen; -passphrase=VALUE uses VALUE; -passphrase=false, none.
type passFlag struct{ value string }

const defaultPassphrase = "loadgen passphrase"

func (p *passFlag) String() string   { return p.value }
func (p *passFlag) IsBoolFlag() bool { return true }
func (p *passFlag) Set(s string) error {
	switch s {
	case "true":
		p.value = defaultPassphrase
	case "false", "":
		p.value = ""
	default:
		p.value = s
	}
	return nil
}

// ParseFlags parses the command line of the loadgen command (without the
// program name) into a checked Config. Usage and errors of the flag
// package go to stderr (nothing when it is nil); -h gives flag.ErrHelp.
func ParseFlags(args []string, stderr io.Writer) (Config, error) {
	var c Config
	var pass passFlag
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	if stderr == nil {
		stderr = io.Discard
	}
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:7143", "base URL of the server (loopback only)")
	fs.IntVar(&c.Conc, "c", 32, "concurrent clients")
	fs.StringVar(&c.Mode, "mode", "pair", "share, reveal, pair or generate")
	fs.Int64Var(&c.N, "n", 0, "operations to run (0: bounded by -d only)")
	fs.DurationVar(&c.Dur, "d", 0, "duration of the timed phase (default 10s when -n is not given)")
	fs.IntVar(&c.Size, "size", 100, "value size in bytes")
	fs.Var(&pass, "passphrase", "protect secrets with a passphrase (-passphrase, or -passphrase=VALUE)")
	fs.BoolVar(&c.JSON, "json", false, "print the summary as JSON")
	fs.StringVar(&c.Auth, "auth", "", "HTTP Basic credentials custid:apitoken (default anonymous)")
	fs.IntVar(&c.Burst, "burst", 0, "extra workers making wrong-passphrase reveals during the run")
	fs.IntVar(&c.Guess, "guess", 0, "extra workers guessing passphrases on random, nonexistent secret keys during the run")
	fs.IntVar(&c.Pool, "pool", 1_000_000, "reveal mode with -d only: at most this many secrets shared beforehand")
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "timeout of one HTTP request")
	fs.DurationVar(&c.Warmup, "warmup", 0, "run the mode untimed this long before the timed phase (not in reveal mode, whose untimed prefill warms up)")
	fs.StringVar(&c.Client, "client", "raw", "HTTP client: raw (a minimal HTTP/1.1 client, one connection per worker, light on CPU) or std (net/http)")
	fs.BoolVar(&c.Recheck, "recheck", false, "pair and reveal modes: reveal each secret a second time (untimed, but within the run) and require Unknown secret")
	fs.StringVar(&c.API, "api", APIOnetime, "API of the server: onetime (the v1 API), yopass (jhaals/yopass's server) or ots (Luzifer/ots); the last two in share, reveal and pair modes only, without passphrase, auth, burst or guess")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write loadgen's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	c.Passphrase = pass.value
	if c.N == 0 && c.Dur == 0 {
		c.Dur = 10 * time.Second
	}
	if err := c.Check(); err != nil {
		return c, err
	}
	c.URL = strings.TrimRight(c.URL, "/")
	return c, nil
}

// Check reports what is wrong with c, if anything: a URL that is not on
// loopback, an unknown mode or client, a bound out of range.
func (c *Config) Check() error {
	if _, err := checkURL(c.URL); err != nil {
		return err
	}
	if c.Client != "raw" && c.Client != "std" {
		return fmt.Errorf("bad -client %q: want raw or std", c.Client)
	}
	switch c.Mode {
	case "share", "reveal", "pair", "generate":
	default:
		return fmt.Errorf("bad -mode %q: want share, reveal, pair or generate", c.Mode)
	}
	switch c.API {
	case "", APIOnetime:
	case APIYopass, APIOts:
		if c.Mode == "generate" || c.Passphrase != "" || c.Auth != "" || c.Burst > 0 || c.Guess > 0 {
			return fmt.Errorf("-api %s: share, reveal or pair mode only, without -passphrase, -auth, -burst or -guess", c.API)
		}
	default:
		return fmt.Errorf("bad -api %q: want onetime, yopass or ots", c.API)
	}
	switch {
	case c.Conc < 1:
		return errors.New("-c must be at least 1")
	case c.N < 0 || c.Dur < 0 || c.Warmup < 0 || c.Burst < 0 || c.Guess < 0 || c.Pool < 1 || c.Timeout <= 0:
		return errors.New("-n, -d, -warmup, -burst, -guess, -pool and -timeout must not be negative (and -pool, -timeout not zero)")
	case c.N == 0 && c.Dur == 0:
		return errors.New("one of -n and -d is needed: a run must stop by itself")
	case c.Size < 1:
		return errors.New("-size must be at least 1 (an empty secret is rejected by the API)")
	case c.Auth != "" && !strings.Contains(c.Auth, ":"):
		return errors.New("-auth must be custid:apitoken")
	}
	return nil
}
