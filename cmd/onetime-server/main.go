// Command onetime-server runs a complete one-time-secret service: the Onetime
// Secret REST API v1 (package httpapi) and the pages people use in a
// browser (package webui) over a [onetime.Service] on SQLite (the
// default), Redis, PostgreSQL or memory. The API and the pages are given
// one authenticator, one guess limiter, one rate limiter, one client
// address rule and one access log.
//
//	go run ./cmd/onetime-server
//	curl -s -d 'secret=hello' http://127.0.0.1:7143/api/v1/share
//
// Flags:
//
//	-addr 127.0.0.1:7143   address to listen on
//	-store sqlite          memory, sqlite, redis or postgres
//	-db onetime.db         the SQLite database file; the key file lives beside it
//	-redis URL             redis://host:port/0 for one server; host:port,host:port,...
//	                       for a Redis Cluster
//	-postgres URL          with -store postgres: postgres://user@host:port/db
//	                       (or the DATABASE_URL environment variable)
//	-redis-autopipeline    pipeline Redis commands while others are in flight (false)
//	-redis-accept-replay   start even on a Redis whose persistence can bring
//	                       revealed secrets back after a crash (RDB snapshots
//	                       without AOF); refused by default
//	-users FILE            lines of custid:apitoken enabling HTTP Basic auth
//	                       (the API's, and the pages' sign-in)
//	-guess-limit           hold back a client address that fails too often,
//	                       on the API and the pages together (true; see
//	                       "Guessing" below); -guess-limit=false turns it off
//	-guess-burst N         failures a client may make at once (20)
//	-guess-rate R          failures a second a client's budget regains (1)
//	-rate N                requests per second per client, to the API and the
//	                       pages together (0: no rate limit)
//	-burst N               requests a client may make at once (20)
//	-client-ip-header H    take the client address from header H, set by a
//	                       trusted reverse proxy (off: the connection's address);
//	                       needs -trusted-proxies
//	-trusted-proxies L     comma-separated addresses or CIDR prefixes of the
//	                       proxies whose -client-ip-header is believed (from
//	                       any other peer it is ignored), and whose connections
//	                       -max-conns-per-addr does not cap
//	-restrict-receipts     serve a customer's receipts to that customer only
//	-replay-window D       how long a repeat of a share, generate, reveal or burn
//	                       with the same Idempotency-Key (or the same form of the
//	                       pages) gets the first answer (1m; 0: off)
//	-sweep-interval D      how often expired records are reclaimed (1m; 0: never)
//	-access-log            log one line per request, to the API and the pages
//	                       alike, written in batches at least every second
//	                       (off by default: not on the hot path)
//	-max-header-bytes N    bound on a request's headers and query string
//	                       (64 KiB): larger values must come in the body
//	-read-header-timeout D time a client has to send its headers (5s)
//	-max-conns N           connections open at once (2048); more wait
//	-max-conns-per-addr N  connections open at once from one client address
//	                       (64; 0: no cap); more are closed at once. Behind a
//	                       proxy every connection is the proxy's: list it in
//	                       -trusted-proxies, which are not capped
//	-shutdown-timeout D    on SIGTERM, how long requests in flight may take
//	                       to finish (20s); see "Stopping" below
//	-webui                 serve the web pages at / (true)
//	-public-url URL        the address browsers use; links start with it
//	                       (default: the request's Host, fine only behind a
//	                       trusted proxy)
//	-smtp HOST:PORT        e-mail recipients their link (needs -public-url);
//	-smtp-from, -smtp-user sender, and AUTH PLAIN user ($ONETIME_SMTP_PASSWORD)
//	-smtp-require-tls      send mail only over STARTTLS
//	-pprof ADDR            serve net/http/pprof on this loopback address, a
//	                       listener of its own (off by default)
//	-metrics-addr ADDR     serve the metrics in Prometheus's format at
//	                       /metrics on this ip:port, a listener of its own
//	                       (off by default); see "Metrics" below
//	-ttl-options LIST      the lifetimes the pages offer, comma-separated,
//	                       shortest first: 5m,1h,1d,7d (d is 24h); see
//	                       "Lifetimes" below
//	-min-ttl D             the shortest lifetime (1m)
//	-max-ttl-anonymous D   the longest lifetime an anonymous caller may
//	                       grant (7d)
//	-max-ttl-customer D    the longest lifetime a customer may grant (30d)
//	-default-ttl D         the lifetime of a secret shared without one (7d;
//	                       with -ttl-options, the longest of them up to 7d
//	                       and -max-ttl-anonymous)
//
// Every flag can also be set by an environment variable: ONETIME_ and the
// flag's name upper-cased, '-' as '_' (-addr: ONETIME_ADDR,
// -max-conns-per-addr: ONETIME_MAX_CONNS_PER_ADDR). A flag on the command
// line wins over its variable; a variable set to "" counts as unset; a
// value the flag refuses stops the server at start, naming the variable.
// Three variables set no flag: ONETIME_SECRET (below),
// ONETIME_SMTP_PASSWORD and DATABASE_URL (-postgres when neither it nor
// ONETIME_POSTGRES is set). At start the server logs its configuration
// once ("configuration"), passwords in URLs redacted and secret variables
// reported as set or not, never their values. docs/operating.md has the
// table of every flag and variable.
//
// # Lifetimes
//
// One TTL policy holds for the API and the pages. A secret lives at least
// -min-ttl and at most -max-ttl-anonymous, or -max-ttl-customer for a
// customer of -users; a lifetime asked outside those bounds is brought
// within them, whether an API client sent it (v1 clients send any number
// of seconds) or a form posted it. The pages' menu offers exactly the
// -ttl-options up to the caller's maximum, with the default selected,
// which is what the API grants a share without a ttl. The server refuses
// to start, before it opens the store, on a list that is not sorted
// shortest first, repeats a lifetime, lies outside the bounds, or lacks
// the default (-default-ttl, up to each kind of caller's maximum).
// Lifetimes take d for days: 1d12h, 7d.
//
// # Guessing
//
// Keys, passphrases and API tokens are safe only as long as guessing them
// is slow. The server counts, per client address, what only guessing
// produces: credentials that do not verify, reveals answered "Unknown
// secret" (unknown keys and wrong passphrases), receipts and burns of
// unknown metadata keys, and the pages' confirmation page of an unknown
// key. Past 20 such failures (-guess-burst) an address is refused before
// any work, until its budget refills at one a second (-guess-rate): the
// API answers "Cripes! You have been rate limited." (intended status 429),
// the pages a 429 page, both with a Retry-After header in seconds. The
// API and the pages share one budget, kept in Redis with -store redis so
// that every server on it shares it too, and in the process otherwise.
// Successes cost nothing: a load run of 20,000 shares and reveals from one
// address never meets the limit; without it, one address made some two
// million guesses a minute. -guess-limit=false turns it off, e.g. for a
// load test that reveals secrets already read (internal/cmd/loadgen
// -recheck, -burst, -guess).
//
// Behind a reverse proxy every request comes from the proxy: set
// -client-ip-header to the header in which the proxy passes the client's
// address and -trusted-proxies to the proxy's addresses, or every client
// shares the proxy's budget. The header is believed only from those
// addresses, so that a client connecting directly cannot pass for another.
//
// The server secret, from which every record's keys are derived, comes
// from the environment variable ONETIME_SECRET (hex, or at least 32 raw
// bytes) or else from the key file beside the database (the -db path plus
// ".key"), created with mode 0600 on first start. Keep it: records sealed
// under another secret cannot be found again. With -store memory and no
// ONETIME_SECRET, a random secret is used for the life of the process.
//
// Logs are JSON lines on standard error; they never carry a key, value,
// passphrase or recipient address.
//
// # Metrics
//
// With -metrics-addr the server records the library's OpenTelemetry
// instruments (requests by route and intended status, the Service's
// operations and store calls by outcome, store errors, passphrase
// derivations waiting and their wait, rate-limited requests, receipts by
// state) with the SDK, and serves them at /metrics in Prometheus's text
// format, on that listener only; every name starts with onetime_, and no
// label carries a key, customer, address or value. docs/operating.md
// lists them, with alerting hints. The server exports no traces: embed
// the library and install a TracerProvider for its spans.
//
// # Stopping and reloading
//
// SIGTERM or SIGINT stops the server gracefully: the listener closes (new
// connections are refused), requests in flight finish and are answered
// whole for up to -shutdown-timeout, then those still running are
// cancelled and their connections closed; last the Service (which sends
// the queued notifications) and the store are closed. A second signal
// ends the process at once. SIGHUP reads the -users file again, so that
// API tokens are rotated without a restart; a file that does not parse
// leaves the customers in force and logs an error.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/smtp"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/notify/smtpnotify"
	"github.com/onetimego/onetime/ratelimit"
	"github.com/onetimego/onetime/ratelimit/redislimit"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/store/postgres"
	"github.com/onetimego/onetime/store/sqlite"
	"github.com/onetimego/onetime/webui"
)

func main() {
	// SIGHUP reads the users file again; registered first, so that one
	// arriving during start does not end the process (its default).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)

	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(log)
	// What OpenTelemetry reports (an instrument it could not make, a
	// collection that failed) goes to the log as JSON too, not as
	// otel's own plain text on stderr.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("telemetry", "err", err.Error()) }))
	fs := flag.NewFlagSet("onetime-server", flag.ExitOnError)
	fs.Usage = func() { usage(fs, fs.Output()) }
	c, from, err := parseConfig(fs, os.Args[1:], os.LookupEnv)
	if err != nil {
		log.Error("server failed", "err", err.Error())
		os.Exit(2)
	}
	logConfig(log, fs, from, os.LookupEnv)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// Once shutting down, a second SIGINT or SIGTERM ends the process
		// at once (the signals' default) instead of waiting for the drain.
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx, c, log, hup); err != nil {
		log.Error("server failed", "err", err.Error())
		os.Exit(1)
	}
	log.Info("stopped")
}

func run(ctx context.Context, c config, log *slog.Logger, hup <-chan os.Signal) error {
	if err := c.check(); err != nil {
		return err
	}
	st, rdb, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	// Deferred calls run last first: once serve has drained the requests,
	// the Service (its notification queue and sweeper), then the Redis
	// client and the store are closed.
	defer closeLogged(log, "store", st.Close)
	if rdb != nil {
		defer closeLogged(log, "redis client", rdb.Close)
	}
	tel, err := newTelemetry(c, log)
	if err != nil {
		return err
	}
	defer closeLogged(log, "meter provider", func() error { return tel.close(context.Background()) })
	svc, err := newService(c, st, tel, log)
	if err != nil {
		return err
	}
	defer closeLogged(log, "service", svc.Close)

	var accessLog *slog.Logger
	if c.accessLog {
		// Request lines go out in batches rather than one write a request.
		lines := newLineBuffer(os.Stderr, time.Second)
		defer lines.Close()
		accessLog = slog.New(slog.NewJSONHandler(lines, nil))
	}
	auth, err := newAuthenticator(c, log)
	if err != nil {
		return err
	}
	go reloadOnHangup(ctx, hup, auth, log)
	handler, err := newHandler(c, svc, rdb, auth, log, accessLog)
	if err != nil {
		return err
	}
	if c.pprof != "" {
		_, stopPprof, err := servePprof(c.pprof, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	if tel.handler != nil {
		// Served until the requests are drained and the store closed: a
		// scrape during the drain still sees the server.
		_, stopMetrics, err := serveMetrics(c.metricsAddr, tel.handler, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	return serve(ctx, c, handler, log)
}

// closeLogged calls close and logs its error, if any.
func closeLogged(log *slog.Logger, what string, close func() error) {
	if err := close(); err != nil {
		log.Error("closing the "+what, "err", err.Error())
	}
}

// check refuses flags out of their range.
func (c config) check() error {
	if c.rate < 0 || math.IsNaN(c.rate) || math.IsInf(c.rate, 0) || c.burst < 1 {
		return errors.New("-rate must be >= 0 and -burst >= 1")
	}
	if !(c.guessRate > 0) || math.IsInf(c.guessRate, 0) || c.guessBurst < 1 {
		return errors.New("-guess-rate must be > 0 and -guess-burst >= 1 (-guess-limit=false turns the limit off)")
	}
	proxies, err := parseProxies(c.trustedProxies)
	if err != nil {
		return err
	}
	if c.clientIPHeader != "" && len(proxies) == 0 {
		return errors.New("-client-ip-header needs -trusted-proxies: the addresses of the proxies that set it (from anyone else, anyone could)")
	}
	if c.maxHeaderBytes < 1<<10 || c.readHeaderTimeout <= 0 || c.maxConns < 1 || c.maxConnsPerAddr < 0 || c.sweepInterval < 0 {
		return errors.New("-max-header-bytes must be >= 1024, -read-header-timeout > 0, -max-conns >= 1, -max-conns-per-addr >= 0 and -sweep-interval >= 0")
	}
	if c.replayWindow < 0 {
		return errors.New("-replay-window must be >= 0 (0 turns replays off)")
	}
	if c.requestTimeout <= 0 {
		return errors.New("-request-timeout must be > 0")
	}
	if c.shutdownTimeout < 0 {
		return errors.New("-shutdown-timeout must be >= 0 (0 cancels the requests in flight at once)")
	}
	return c.ttl.check(replayWindow(c.replayWindow))
}

// newService returns the Service on st, with the notifier of the -smtp
// flags, the server secret, and the providers of tel, which the API and
// the pages take from it.
func newService(c config, st onetime.Store, tel *telemetry, log *slog.Logger) (*onetime.Service, error) {
	secret, err := serverSecret(c, log)
	if err != nil {
		return nil, err
	}
	notifier, err := newNotifier(c, log)
	if err != nil {
		return nil, err
	}
	return onetime.New(st, secret, c.ttl.apply(&onetime.Options{
		Notifier:         notifier,
		Logger:           log,
		RestrictReceipts: c.restrictReceipts,
		// The memory and SQLite stores keep expired records until swept;
		// Redis expires them itself.
		SweepInterval:  c.sweepInterval,
		ReplayWindow:   replayWindow(c.replayWindow),
		MeterProvider:  tel.meters,
		TracerProvider: tel.tracer,
	}))
}

// replayWindow turns -replay-window into onetime.Options.ReplayWindow,
// where zero means the default and a negative window none.
func replayWindow(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// newHandler returns what the server serves: the API under /api/v1/, the
// readiness check, and the pages at / (with -webui). The API and the
// pages are given one authenticator, one guess limiter, one rate limiter,
// one client address rule and one access log, each made once here: a
// client limited on one is limited on the other, and every request gets
// its line.
func newHandler(c config, svc *onetime.Service, rdb goredis.UniversalClient, users *usersAuth, log, accessLog *slog.Logger) (http.Handler, error) {
	var auth access.Authenticator // nil, not a nil *usersAuth: everyone anonymous
	if users != nil {
		auth = users
	}
	limiter, err := newRateLimiter(c, rdb, log)
	if err != nil {
		return nil, err
	}
	guess, err := newGuessLimiter(c, rdb, log)
	if err != nil {
		return nil, err
	}
	proxies, err := parseProxies(c.trustedProxies)
	if err != nil {
		return nil, err
	}
	api, err := httpapi.New(svc, &httpapi.Options{
		Auth: auth, RateLimiter: limiter, GuessLimiter: guess,
		ClientIPHeader: c.clientIPHeader, TrustedProxies: proxies,
		Logger: log, AccessLog: accessLog, MaxQueryBytes: c.maxHeaderBytes,
		RequestTimeout: c.requestTimeout,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", api)
	// For orchestrators: 200 while the store answers, 503 otherwise.
	mux.Handle("GET /readyz", httpapi.ReadyHandler(svc))
	if c.webui {
		uo := &webui.Options{
			Auth: auth, RateLimiter: limiter, GuessLimiter: guess,
			ClientIPHeader: c.clientIPHeader, TrustedProxies: proxies,
			Logger: log, AccessLog: accessLog, PublicURL: c.publicURL,
			RequestTimeout: c.requestTimeout,
		}
		if auth != nil {
			uo.SignInRealm = "onetime"
		}
		ui, err := webui.New(svc, uo)
		if err != nil {
			return nil, err
		}
		mux.Handle("/", ui) // api.Wrap(mux) still sends /api/v1/... to the API
	}
	// Wrap: paths the mux would redirect (/api/v1, //) reach the API.
	return api.Wrap(mux), nil
}

// newRateLimiter returns the limiter of -rate and -burst, or nil (no
// limit) with -rate 0: kept in Redis when the store is there, so that
// every server on it shares one bucket per client, else in the process.
func newRateLimiter(c config, rdb goredis.UniversalClient, log *slog.Logger) (access.RateLimiter, error) {
	if c.rate <= 0 {
		return nil, nil
	}
	log.Info("rate limiting enabled", "per_second", c.rate, "burst", c.burst, "shared", rdb != nil)
	if rdb != nil {
		return redislimit.New(rdb, redislimit.Options{PerSecond: c.rate, Burst: c.burst})
	}
	return ratelimit.New(ratelimit.Options{PerSecond: c.rate, Burst: c.burst}), nil
}

// newGuessLimiter returns the guess limiter of -guess-burst and
// -guess-rate, or access.NoGuessLimit with -guess-limit=false: kept in
// Redis when the store is there, so that every server on it holds a
// guesser to one budget, else in the process. It is never nil, which the
// handlers would take for a limiter of their own each.
func newGuessLimiter(c config, rdb goredis.UniversalClient, log *slog.Logger) (access.GuessLimiter, error) {
	if !c.guessLimit {
		log.Warn("guess limiting off (-guess-limit=false): keys, passphrases and tokens may be guessed as fast as the server answers")
		return access.NoGuessLimit, nil
	}
	log.Info("guess limiting enabled", "burst", c.guessBurst, "per_second", c.guessRate, "shared", rdb != nil)
	if rdb != nil {
		return redislimit.NewGuessLimiter(rdb, &redislimit.GuessOptions{Burst: c.guessBurst, PerSecond: c.guessRate})
	}
	return ratelimit.NewGuessLimiter(&ratelimit.GuessOptions{Burst: c.guessBurst, PerSecond: c.guessRate}), nil
}

// parseProxies parses -trusted-proxies: comma-separated CIDR prefixes,
// or single addresses (one address's prefix).
func parseProxies(s string) ([]netip.Prefix, error) {
	var ps []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			ps = append(ps, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("-trusted-proxies: %q is neither an address nor a CIDR prefix", f)
		}
		ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
	}
	return ps, nil
}

// newNotifier hands recipients their link by e-mail with -smtp, and
// otherwise only logs that it would (their address obscured).
func newNotifier(c config, log *slog.Logger) (onetime.Notifier, error) {
	if c.smtpAddr == "" {
		return logNotifier{log}, nil
	}
	if c.publicURL == "" {
		return nil, errors.New("-smtp needs -public-url: e-mailed links must name this server")
	}
	so := smtpnotify.Options{Addr: c.smtpAddr, From: c.smtpFrom, BaseURL: c.publicURL, RequireTLS: c.smtpRequireTLS}
	if c.smtpUser != "" {
		host, _, _ := net.SplitHostPort(c.smtpAddr)
		so.Auth = smtp.PlainAuth("", c.smtpUser, os.Getenv("ONETIME_SMTP_PASSWORD"), host)
	}
	return smtpnotify.New(so)
}

// openStore opens the store named by -store. rdb is the Redis client when
// the store is on Redis (for the shared rate limiter), else nil.
func openStore(ctx context.Context, c config, log *slog.Logger) (st onetime.Store, rdb goredis.UniversalClient, err error) {
	switch c.store {
	case "memory":
		log.Info("store: memory (records are lost when the process ends)")
		return memory.New(), nil, nil
	case "sqlite":
		s, err := sqlite.Open(ctx, c.db, nil)
		if err != nil {
			return nil, nil, err
		}
		log.Info("store: sqlite", "db", c.db)
		return s, nil, nil
	case "redis":
		if c.redis == "" {
			return nil, nil, errors.New("-store redis needs -redis (a redis:// URL or cluster addresses)")
		}
		rdb, err := redisClient(c.redis)
		if err != nil {
			return nil, nil, err
		}
		s, err := openRedis(ctx, rdb, c, log)
		if err != nil {
			rdb.Close()
			return nil, nil, err
		}
		log.Info("store: redis", "cluster", strings.Contains(c.redis, ","))
		return s, rdb, nil
	case "postgres":
		if c.postgres == "" {
			return nil, nil, errors.New("-store postgres needs -postgres (a postgres:// URL) or DATABASE_URL")
		}
		s, err := postgres.Open(ctx, c.postgres, nil)
		if err != nil {
			return nil, nil, err
		}
		log.Info("store: postgres")
		return s, nil, nil
	}
	return nil, nil, fmt.Errorf("-store %q: want memory, sqlite, redis or postgres", c.store)
}

// redisClient makes a client from -redis: a redis:// (or rediss://) URL
// for one server, or comma-separated host:port addresses for a Cluster.
// Its commands stop waiting at their context's deadline
// (ContextTimeoutEnabled; go-redis otherwise waits out its ReadTimeout), so
// that -request-timeout bounds a request that Redis does not answer.
func redisClient(spec string) (goredis.UniversalClient, error) {
	spec = strings.TrimSpace(spec)
	if strings.Contains(spec, ",") {
		var addrs []string
		for _, a := range strings.Split(spec, ",") {
			a = strings.TrimSpace(a)
			if u, ok := strings.CutPrefix(a, "redis://"); ok {
				a = strings.TrimSuffix(u, "/")
			}
			if _, _, err := net.SplitHostPort(a); err != nil {
				return nil, fmt.Errorf("-redis: cluster address %q: want host:port", a)
			}
			addrs = append(addrs, a)
		}
		return goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true}), nil
	}
	if !strings.Contains(spec, "://") {
		if _, _, err := net.SplitHostPort(spec); err != nil {
			return nil, fmt.Errorf("-redis %q: want a redis:// URL or host:port", spec)
		}
		return goredis.NewClient(&goredis.Options{Addr: spec, ContextTimeoutEnabled: true}), nil
	}
	o, err := goredis.ParseURL(spec)
	if err != nil {
		// The URL may hold a password: do not repeat it.
		return nil, errors.New("-redis: not a valid redis:// URL")
	}
	o.ContextTimeoutEnabled = true
	return goredis.NewClient(o), nil
}

// serverSecret returns the server secret from ONETIME_SECRET, or from the
// key file beside the database, creating it on first start.
func serverSecret(c config, log *slog.Logger) ([]byte, error) {
	if env := os.Getenv("ONETIME_SECRET"); env != "" {
		s, err := decodeSecret([]byte(env))
		if err != nil {
			return nil, fmt.Errorf("ONETIME_SECRET: %w", err)
		}
		log.Info("server secret from ONETIME_SECRET")
		return s, nil
	}
	if c.store == "memory" {
		s := make([]byte, 32)
		rand.Read(s)
		log.Info("server secret: random, for this process only (memory store)")
		return s, nil
	}
	path := c.db + ".key"
	if b, err := os.ReadFile(path); err == nil {
		s, err := decodeSecret(b)
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("key file is readable by others; chmod 600 it", "path", path)
		}
		log.Info("server secret from key file", "path", path)
		return s, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return serverSecret(c, log) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("creating key file: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(raw) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("writing key file: %w", err)
	}
	abs, _ := filepath.Abs(path)
	log.Info("created a new server secret in a key file (mode 0600): back it up with the database", "path", abs)
	return raw, nil
}

// decodeSecret reads a secret given as hex, or else as raw bytes; either
// way it must come to at least onetime.MinServerSecretLen bytes.
func decodeSecret(b []byte) ([]byte, error) {
	t := strings.TrimSpace(string(b))
	if h, err := hex.DecodeString(t); err == nil && len(h) >= onetime.MinServerSecretLen {
		return h, nil
	}
	if len(t) >= onetime.MinServerSecretLen {
		return []byte(t), nil
	}
	return nil, fmt.Errorf("a server secret must be at least %d bytes (or %d hex digits)", onetime.MinServerSecretLen, 2*onetime.MinServerSecretLen)
}

// logNotifier stands in for a mailer: it logs that a notification would
// go out, with the address obscured and without the secret's key.
type logNotifier struct{ log *slog.Logger }

func (n logNotifier) Notify(ctx context.Context, note onetime.Notification) error {
	n.log.InfoContext(ctx, "a notification would go out (no mailer configured)",
		"recipient", onetime.ObscureEmail(note.Recipient), "owner", note.Owner, "expires", note.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}
