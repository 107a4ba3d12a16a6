package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/httpapi"
)

// config is the server's configuration: what the flags (or their
// ONETIME_ variables) say.
type config struct {
	addr, store, db, redis, postgres, users, clientIPHeader string
	rate                                                    float64
	burst                                                   int
	autoPipeline                                            bool

	guessLimit     bool    // -guess-limit
	guessRate      float64 // -guess-rate
	guessBurst     int     // -guess-burst
	trustedProxies string  // -trusted-proxies, as given

	acceptReplay      bool // -redis-accept-replay
	restrictReceipts  bool
	replayWindow      time.Duration // -replay-window; 0: off
	accessLog         bool
	sweepInterval     time.Duration
	maxHeaderBytes    int
	readHeaderTimeout time.Duration
	maxConns          int
	maxConnsPerAddr   int
	shutdownTimeout   time.Duration // -shutdown-timeout
	requestTimeout    time.Duration // -request-timeout
	pprof             string        // -pprof: loopback address, "" for none
	metricsAddr       string        // -metrics-addr: "" for none

	webui                        bool   // -webui: serve the pages at /
	publicURL                    string // -public-url
	smtpAddr, smtpFrom, smtpUser string
	smtpRequireTLS               bool

	ttl ttlConfig // -ttl-options, -min-ttl, -max-ttl-anonymous, -max-ttl-customer, -default-ttl (ttl.go)
}

// defineFlags defines every flag of the server on fs, each writing into
// c. A flag defined here is also read from its environment variable
// (envName) by parseConfig, and documented in docs/operating.md (a test
// checks), with nothing more to do.
func defineFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:7143", "address to listen on")
	fs.StringVar(&c.store, "store", "sqlite", "where records live: memory, sqlite, redis or postgres")
	fs.StringVar(&c.db, "db", "onetime.db", "SQLite database file (the server key file is kept beside it)")
	fs.StringVar(&c.redis, "redis", "", "with -store redis: Redis URL, or comma-separated host:port addresses of a Redis Cluster")
	fs.StringVar(&c.postgres, "postgres", "", "with -store postgres: PostgreSQL URL (default $DATABASE_URL)")
	fs.BoolVar(&c.autoPipeline, "redis-autopipeline", false, "with -store redis: batch commands into pipelines while others are in flight (a lone caller goes direct); off by default, which made more pairs/s at every concurrency measured (BENCHMARKS.md)")
	fs.StringVar(&c.users, "users", "", "file of custid:apitoken lines enabling HTTP Basic auth; SIGHUP reads it again")
	fs.Float64Var(&c.rate, "rate", 0, "requests per second per client; 0 disables rate limiting")
	fs.IntVar(&c.burst, "burst", 20, "requests a client may make at once when rate limited")
	fs.StringVar(&c.clientIPHeader, "client-ip-header", "", "header carrying the client address, set by a proxy listed in -trusted-proxies")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "comma-separated addresses or CIDR prefixes of the reverse proxies whose -client-ip-header is believed and whose connections -max-conns-per-addr does not cap")
	fs.BoolVar(&c.guessLimit, "guess-limit", true, "hold back a client address that fails too often (bad credentials, unknown keys, wrong passphrases); -guess-limit=false turns it off")
	fs.IntVar(&c.guessBurst, "guess-burst", access.DefaultGuessBurst, "failures a client address may make at once before it is held back")
	fs.Float64Var(&c.guessRate, "guess-rate", access.DefaultGuessPerSecond, "failures a second a held-back client address regains")
	fs.BoolVar(&c.acceptReplay, "redis-accept-replay", false, "with -store redis: start even if Redis persists by RDB snapshots without AOF, where a crash can make revealed secrets readable again")
	fs.BoolVar(&c.restrictReceipts, "restrict-receipts", false, "serve the receipts of a customer's secrets to that customer only")
	fs.DurationVar(&c.replayWindow, "replay-window", time.Minute, "how long a repeat of a share, generate, reveal or burn with the same Idempotency-Key gets the first answer (a client retrying after a lost answer gets the same receipt or value, never a second secret); 0 turns it off")
	fs.DurationVar(&c.sweepInterval, "sweep-interval", time.Minute, "how often to reclaim the space of expired records; 0 never does")
	fs.BoolVar(&c.accessLog, "access-log", false, "log one line per request (written in batches)")
	fs.IntVar(&c.maxHeaderBytes, "max-header-bytes", httpapi.RecommendedMaxHeaderBytes, "bound on a request's headers, query string included; larger values must be sent in the body")
	fs.DurationVar(&c.readHeaderTimeout, "read-header-timeout", 5*time.Second, "time a client has to send its request headers")
	fs.IntVar(&c.maxConns, "max-conns", 2048, "connections served at once; more wait to be accepted")
	fs.IntVar(&c.maxConnsPerAddr, "max-conns-per-addr", 64, "connections served at once from one client address (IPv6: one /64), so that one cannot take them all; more are closed at once; 0: no cap (-trusted-proxies are not capped)")
	fs.DurationVar(&c.requestTimeout, "request-timeout", 25*time.Second, "how long one request may work; a reveal or burn still running then consumes nothing (the store refuses a change past it), and the client may retry with its Idempotency-Key")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 20*time.Second, "on SIGTERM or SIGINT, how long requests in flight may take to finish; those still running then are cancelled and their connections closed")
	fs.BoolVar(&c.webui, "webui", true, "serve the web pages (share, reveal, receipt, burn) at /")
	fs.StringVar(&c.publicURL, "public-url", "", "address at which browsers reach this server, e.g. https://secrets.example.com; links in pages and e-mails start with it (default: the request's Host, fine only behind a trusted proxy)")
	fs.StringVar(&c.smtpAddr, "smtp", "", "SMTP server host:port used to e-mail recipients their link (needs -public-url); empty logs notifications instead")
	fs.StringVar(&c.smtpFrom, "smtp-from", "", "sender address of those e-mails")
	fs.StringVar(&c.smtpUser, "smtp-user", "", "SMTP user for AUTH PLAIN; the password is read from $ONETIME_SMTP_PASSWORD")
	fs.BoolVar(&c.smtpRequireTLS, "smtp-require-tls", false, "refuse to send mail unless the server offers STARTTLS")
	fs.StringVar(&c.pprof, "pprof", "", "serve net/http/pprof on this loopback ip:port, apart from the API (off by default)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve the metrics in Prometheus's format at /metrics on this ip:port, a listener of its own, e.g. 127.0.0.1:9464 (off by default)")
	defineTTLFlags(fs, &c.ttl)
}

// envPrefix starts the name of every variable that sets a flag.
const envPrefix = "ONETIME_"

// envName returns the environment variable that sets the flag name, by
// the one rule for all: ONETIME_ and the name upper-cased, '-' as '_'
// (-max-conns-per-addr: ONETIME_MAX_CONNS_PER_ADDR).
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// specialEnv lists the variables that set no flag of their own: secrets
// kept off the command line (where ps shows them to every user of the
// machine), and DATABASE_URL, the name PostgreSQL tools and platforms use.
var specialEnv = []struct{ name, doc string }{
	{"ONETIME_SECRET", "the server secret (hex, or at least 32 bytes); without it, the key file beside -db (created on first start) or, with -store memory, a random one"},
	{"ONETIME_SMTP_PASSWORD", "the password of -smtp-user"},
	{"DATABASE_URL", "-postgres, when neither -postgres nor ONETIME_POSTGRES is set"},
}

// source tells where a flag's value came from.
type source string

const (
	fromDefault     source = "default"
	fromFlag        source = "flag"
	fromEnv         source = "env"          // the flag's own variable
	fromDatabaseURL source = "DATABASE_URL" // -postgres only
)

// parseConfig parses the command line args, then sets every flag that
// args did not set from its environment variable (lookup is os.LookupEnv
// outside tests): a flag wins over its variable, and a variable over the
// default. A variable set to the empty string counts as unset. A value
// the flag refuses fails with an error naming the variable. It returns
// the flag set, whose values the configuration log reports, and where
// each flag's value came from.
func parseConfig(fs *flag.FlagSet, args []string, lookup func(string) (string, bool)) (config, map[string]source, error) {
	var c config
	defineFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	if fs.NArg() > 0 {
		return c, nil, fmt.Errorf("unexpected argument %q: every setting is a flag", fs.Arg(0))
	}
	from := map[string]source{}
	fs.VisitAll(func(f *flag.Flag) { from[f.Name] = fromDefault })
	fs.Visit(func(f *flag.Flag) { from[f.Name] = fromFlag })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if from[f.Name] == fromFlag {
			return
		}
		v, ok := lookup(envName(f.Name))
		if !ok || v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: invalid value for -%s: %v", envName(f.Name), redact(f.Name, v), f.Name, err))
			return
		}
		from[f.Name] = fromEnv
	})
	if err := errors.Join(errs...); err != nil {
		return c, nil, err
	}
	if from["postgres"] == fromDefault {
		if v, ok := lookup("DATABASE_URL"); ok && v != "" {
			c.postgres = v
			from["postgres"] = fromDatabaseURL
		}
	}
	return c, from, nil
}

// usage prints the flags and the variable of each.
func usage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "Usage: onetime-server [flags]\n\n"+
		"Serves the Onetime Secret REST API v1 and the web pages. Every flag can\n"+
		"also be set by its environment variable (shown after it); a flag given\n"+
		"on the command line wins over its variable.\n\n")
	fs.VisitAll(func(f *flag.Flag) {
		name, u := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		fmt.Fprintf(w, "  -%s%s  ($%s)\n    \t%s", f.Name, name, envName(f.Name), u)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	fmt.Fprintln(w, "\nVariables that set no flag:")
	for _, e := range specialEnv {
		fmt.Fprintf(w, "  $%s\n    \t%s\n", e.name, e.doc)
	}
}

// logConfig logs the effective configuration once, at start: every flag's
// value, redacted where it may carry a password or token, where it came
// from (the command line, its ONETIME_ variable or the default), and
// which of the variables that set no flag are set (never their values).
func logConfig(log *slog.Logger, fs *flag.FlagSet, from map[string]source, lookup func(string) (string, bool)) {
	var flags []any
	var envs, fromFlags []string
	fs.VisitAll(func(f *flag.Flag) {
		flags = append(flags, slog.String(f.Name, redact(f.Name, f.Value.String())))
		switch from[f.Name] {
		case fromFlag:
			fromFlags = append(fromFlags, f.Name)
		case fromEnv:
			envs = append(envs, envName(f.Name))
		case fromDatabaseURL:
			envs = append(envs, string(fromDatabaseURL))
		}
	})
	var special []any
	for _, e := range specialEnv {
		v, ok := lookup(e.name)
		special = append(special, slog.Bool(e.name, ok && v != ""))
	}
	slices.Sort(envs)
	log.Info("configuration",
		slog.Group("flags", flags...),
		"from_command_line", fromFlags,
		"from_env", envs,
		slog.Group("env_set", special...))
}

// secretName matches the names of flags (and of URL query parameters)
// whose whole value is a secret.
var secretName = regexp.MustCompile(`(?i)pass|secret|token|apikey|api_key|api-key|credential`)

// dsnPassword matches the password of a PostgreSQL keyword/value
// connection string (host=db user=app password='s e c r e t').
var dsnPassword = regexp.MustCompile(`(?i)\b((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)`)

// redacted stands for a value that is not shown.
const redacted = "xxxxx"

// redact returns the value of flag name as it may be logged: all of it
// hidden if the name says it is a secret; else with the passwords of the
// URLs in it (redis://:pass@host, postgres://user:pass@host?password=),
// of a keyword/value DSN (password=...) and of URL query parameters named
// like secrets hidden. A URL that does not parse but holds an '@' is
// hidden whole: better unreadable than leaked.
func redact(name, value string) string {
	if value == "" {
		return ""
	}
	if secretName.MatchString(name) {
		return redacted
	}
	if !strings.Contains(value, "://") {
		return dsnPassword.ReplaceAllString(value, "${1}"+redacted)
	}
	parts := strings.Split(value, ",")
	for i, p := range parts {
		if !strings.Contains(p, "://") {
			continue
		}
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			if strings.Contains(p, "@") {
				parts[i] = redacted
			}
			continue
		}
		if q := u.Query(); len(q) > 0 {
			hid := false
			for k := range q {
				if secretName.MatchString(k) {
					q.Set(k, redacted)
					hid = true
				}
			}
			if hid {
				u.RawQuery = q.Encode()
			}
		}
		parts[i] = u.Redacted()
	}
	return strings.Join(parts, ",")
}
