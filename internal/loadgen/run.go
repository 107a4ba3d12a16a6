package loadgen

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// burstWrongPerSecret is how many wrong passphrases a burst worker tries on
// one secret before it opens it with the right one. It stays well below the
// API's default attempt limit (10), so a correct server never burns it.
const burstWrongPerSecret = 5

const burstPassphrase = "loadgen burst passphrase"

// Latency kinds recorded by every worker.
const (
	kOp     = iota // one operation of the mode (a pair counts once)
	kShare         // the share request of a pair
	kReveal        // the reveal request of a pair
	nKinds
)

// tally is what one worker records; workers never share one, so recording
// takes no lock. They are merged when the run ends.
type tally struct {
	lat   [nKinds][]time.Duration
	errs  map[string]int64
	wrong int64
	n     int64 // operations that succeeded
}

func newTally() *tally { return &tally{errs: map[string]int64{}} }

// fail records a failed operation. A *failure with wrong set (a revealed
// value that differs from the one shared, or is missing) counts as a wrong
// value; anything else is an error.
func (t *tally) fail(err error) {
	var f *failure
	if errors.As(err, &f) && f.wrong {
		t.wrong++
	}
	t.errs[kindOf(err)]++
}

func kindOf(err error) string {
	var f *failure
	if errors.As(err, &f) {
		return f.kind
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "transport: timeout"
	}
	if errors.Is(err, errNotLoopback) {
		return "transport: " + errNotLoopback.Error()
	}
	var oe *net.OpError // leave out addresses and ports: one kind per cause
	if errors.As(err, &oe) && oe.Err != nil {
		return "transport: " + oe.Op + ": " + oe.Err.Error()
	}
	return "transport: " + err.Error()
}

func merge(dst, src *tally) {
	for k := range nKinds {
		dst.lat[k] = append(dst.lat[k], src.lat[k]...)
	}
	for k, v := range src.errs {
		dst.errs[k] += v
	}
	dst.wrong += src.wrong
	dst.n += src.n
}

// failure is a request that reached the server and got a wrong answer.
type failure struct {
	kind  string // short, low-cardinality description, e.g. `reveal: HTTP 404 "Unknown secret"`
	wrong bool   // a wrong or missing value
}

func (f *failure) Error() string { return f.kind }

func fail(kind string, wrong bool) error { return &failure{kind: kind, wrong: wrong} }

// client speaks the v1 API for one worker: over its own connection with
// the raw HTTP/1.1 client (the default), or over a net/http client shared
// by all workers (-client std, and for https URLs).
type client struct {
	std   *http.Client
	raw   *rawConn
	base  string // std: the URL of /api/v1
	path  string // raw: the path of /api/v1
	authz string
}

// newClients returns n clients for cfg.
func newClients(cfg Config, n int) ([]*client, error) {
	u, err := checkURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	var authz string
	if cfg.Auth != "" {
		authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Auth))
	}
	cs := make([]*client, n)
	if cfg.Client == "raw" && u.Scheme == "http" {
		port := u.Port()
		if port == "" {
			port = "80"
		}
		addr := net.JoinHostPort(u.Hostname(), port)
		for i := range cs {
			cs[i] = &client{raw: newRawConn(addr, u.Host, authz, cfg.Timeout), path: u.EscapedPath() + "/api/v1", authz: authz}
		}
		return cs, nil
	}
	tr := &http.Transport{
		Proxy: nil, // loopback only: never through a proxy
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
			Control:   dialLoopbackOnly,
		}).DialContext,
		// Keep one idle connection per client so that every request
		// reuses a connection: the run measures the server, not dialing.
		MaxIdleConns:        n,
		MaxIdleConnsPerHost: n,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	hc := &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("loadgen: the API never redirects")
		},
	}
	for i := range cs {
		cs[i] = &client{std: hc, base: cfg.URL + "/api/v1", authz: authz}
	}
	return cs, nil
}

func (c *client) close() {
	if c.raw != nil {
		c.raw.close()
	} else {
		c.std.CloseIdleConnections()
	}
}

// do sends a request with form as its body (none when nil) and returns
// the answer's status and body.
func (c *client) do(ctx context.Context, method, path string, form url.Values) (int, []byte, error) {
	if c.raw != nil {
		var body []byte
		if form != nil {
			body = []byte(form.Encode())
		}
		return c.raw.roundTrip(ctx, method, c.path+path, form != nil, body)
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	resp, err := c.std.Do(req)
	if err != nil {
		return 0, nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// answer describes a non-200 answer briefly, by status and API message.
func answer(op string, status int, body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	msg := e.Message
	if len(msg) > 80 {
		msg = msg[:80]
	}
	return fmt.Sprintf("%s: HTTP %d %q", op, status, msg)
}

func isUnknown(status int, body []byte) bool {
	if status == http.StatusOK {
		return false
	}
	var e struct {
		Message string `json:"message"`
	}
	return json.Unmarshal(body, &e) == nil && e.Message == "Unknown secret"
}

// validKey reports whether k looks like a key of the v1 API: non-empty,
// lowercase letters and digits only.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

type receiptJSON struct {
	SecretKey          *string `json:"secret_key"`
	MetadataKey        string  `json:"metadata_key"`
	Value              *string `json:"value"`
	PassphraseRequired *bool   `json:"passphrase_required"`
}

func (c *client) status(ctx context.Context) error {
	st, body, err := c.do(ctx, http.MethodGet, "/status", nil)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return errors.New(answer("status", st, body))
	}
	return nil
}

// share stores value and returns its secret key.
func (c *client) share(ctx context.Context, value, passphrase string) (string, error) {
	form := url.Values{"secret": {value}}
	if passphrase != "" {
		form.Set("passphrase", passphrase)
	}
	st, body, err := c.do(ctx, http.MethodPost, "/share", form)
	if err != nil {
		return "", err
	}
	if st != http.StatusOK {
		return "", fail(answer("share", st, body), false)
	}
	var r receiptJSON
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fail("share: answer is not a JSON receipt", false)
	}
	switch {
	case r.SecretKey == nil || !validKey(*r.SecretKey):
		return "", fail("share: receipt without a valid secret_key", false)
	case !validKey(r.MetadataKey):
		return "", fail("share: receipt without a valid metadata_key", false)
	case r.PassphraseRequired == nil || *r.PassphraseRequired != (passphrase != ""):
		return "", fail("share: passphrase_required missing or wrong", false)
	case r.Value != nil:
		return "", fail("share: receipt carries a value", false)
	}
	return *r.SecretKey, nil
}

// reveal opens the secret and checks that it holds exactly want. A missing
// secret (the API's "Unknown secret") or a different value is a wrong
// value: the secret was just shared and nobody else knows its key.
func (c *client) reveal(ctx context.Context, key, passphrase, want string) error {
	var form url.Values
	if passphrase != "" {
		form = url.Values{"passphrase": {passphrase}}
	} else {
		form = url.Values{}
	}
	st, body, err := c.do(ctx, http.MethodPost, "/secret/"+key, form)
	if err != nil {
		return err
	}
	if isUnknown(st, body) {
		return fail("reveal: value missing (Unknown secret)", true)
	}
	if st != http.StatusOK {
		return fail(answer("reveal", st, body), false)
	}
	var r struct {
		Value     *string `json:"value"`
		SecretKey string  `json:"secret_key"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fail("reveal: answer is not JSON", false)
	}
	switch {
	case r.Value == nil:
		return fail("reveal: answer without a value", true)
	case *r.Value != want:
		return fail("reveal: value differs from the one shared", true)
	case r.SecretKey != key:
		return fail("reveal: secret_key differs from the one asked for", false)
	}
	return nil
}

// revealWrong tries a wrong passphrase, which must be answered exactly like
// an unknown secret.
func (c *client) revealWrong(ctx context.Context, key string) error {
	form := url.Values{"passphrase": {"not the " + burstPassphrase}}
	st, body, err := c.do(ctx, http.MethodPost, "/secret/"+key, form)
	if err != nil {
		return err
	}
	if st == http.StatusOK {
		return fail("wrong passphrase: the secret was revealed", true)
	}
	if !isUnknown(st, body) {
		return fail(answer("wrong passphrase", st, body), false)
	}
	return nil
}

// revealGone reveals a secret that was revealed already: it must be gone.
func (c *client) revealGone(ctx context.Context, key, passphrase string) error {
	form := url.Values{}
	if passphrase != "" {
		form.Set("passphrase", passphrase)
	}
	st, body, err := c.do(ctx, http.MethodPost, "/secret/"+key, form)
	if err != nil {
		return err
	}
	if st == http.StatusOK {
		return fail("recheck: a revealed secret was revealed again", true)
	}
	if !isUnknown(st, body) {
		return fail(answer("recheck", st, body), false)
	}
	return nil
}

func (c *client) generate(ctx context.Context) error {
	st, body, err := c.do(ctx, http.MethodPost, "/generate", url.Values{})
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fail(answer("generate", st, body), false)
	}
	var r receiptJSON
	if err := json.Unmarshal(body, &r); err != nil {
		return fail("generate: answer is not a JSON receipt", false)
	}
	switch {
	case r.SecretKey == nil || !validKey(*r.SecretKey):
		return fail("generate: receipt without a valid secret_key", false)
	case r.Value == nil || *r.Value == "":
		return fail("generate: receipt without a value", true)
	}
	return nil
}

// values makes the values a worker shares: each starts with the worker and
// a sequence number, so that a value delivered for another secret never
// compares equal, and is filled with characters that form and JSON
// encoding must carry unchanged.
type values struct {
	id, seq int
	size    int
	rng     *rand.Rand
	buf     []byte
}

const valueAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +&=%/?#;~!\"'<>\\\t\n"

func newValues(id, size int) *values {
	return &values{id: id, size: size, rng: rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano()))), buf: make([]byte, size)}
}

func (v *values) next() string {
	v.seq++
	for i := range v.buf {
		v.buf[i] = valueAlphabet[v.rng.IntN(len(valueAlphabet))]
	}
	prefix := strconv.AppendInt(append(strconv.AppendInt([]byte("w"), int64(v.id), 10), '.'), int64(v.seq), 10)
	copy(v.buf, append(prefix, ':'))
	return string(v.buf)
}

// gate decides whether a worker may start another timed operation.
type gate struct {
	ctx      context.Context
	counted  bool
	left     atomic.Int64
	deadline time.Time
}

func newGate(ctx context.Context, n int64, d time.Duration, start time.Time) *gate {
	g := &gate{ctx: ctx, counted: n > 0}
	g.left.Store(n)
	if d > 0 {
		g.deadline = start.Add(d)
	}
	return g
}

func (g *gate) next() bool {
	if g.ctx.Err() != nil {
		return false
	}
	if !g.deadline.IsZero() && !time.Now().Before(g.deadline) {
		return false
	}
	return !g.counted || g.left.Add(-1) >= 0
}

type item struct{ key, value string }

// Report is the result of a run.
type Report struct {
	Mode        string               `json:"mode"`
	URL         string               `json:"url"`
	Concurrency int                  `json:"concurrency"`
	Size        int                  `json:"size"`
	Passphrase  bool                 `json:"passphrase"`
	Prefilled   int                  `json:"prefilled,omitempty"`
	ElapsedS    float64              `json:"elapsed_s"`
	Ops         int64                `json:"ops"`
	OpsPerSec   float64              `json:"ops_per_sec"`
	Errors      int64                `json:"errors"`
	WrongValues int64                `json:"wrong_values"`
	ErrorKinds  map[string]int64     `json:"error_kinds,omitempty"`
	Latency     LatencyMS            `json:"latency_ms"`
	Requests    map[string]LatencyMS `json:"requests_ms,omitempty"`
	Burst       *BurstReport         `json:"burst,omitempty"`
	Guess       *BurstReport         `json:"guess,omitempty"`

	stats    Stats
	reqStats map[string]Stats
}

// BurstReport describes the wrong-passphrase workers of -burst, or the
// guessing workers of -guess.
type BurstReport struct {
	Workers       int              `json:"workers"`
	WrongAttempts int64            `json:"wrong_attempts"`
	Errors        int64            `json:"errors"`
	WrongValues   int64            `json:"wrong_values"`
	ErrorKinds    map[string]int64 `json:"error_kinds,omitempty"`
	Latency       LatencyMS        `json:"latency_ms"`

	stats Stats
}

// OK reports whether the run did some work and saw no error and no wrong
// value.
func (r *Report) OK() bool {
	if r.Ops == 0 || r.Errors > 0 || r.WrongValues > 0 {
		return false
	}
	for _, b := range []*BurstReport{r.Burst, r.Guess} {
		if b != nil && (b.Errors > 0 || b.WrongValues > 0) {
			return false
		}
	}
	return true
}

// Run warms up, prepares what the mode needs (untimed), runs the timed
// phase and reports. Progress lines go to logw when it is not nil.
func Run(ctx context.Context, cfg Config, logw io.Writer) (*Report, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	clients, err := newClients(cfg, cfg.Conc+cfg.Burst+cfg.Guess)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()

	// Warm-up: every client checks the server is there and opens its
	// connection, so that dialing is not timed.
	if err := parallel(len(clients), func(w int) error { return clients[w].status(ctx) }); err != nil {
		return nil, fmt.Errorf("server at %s not ready: %v", cfg.URL, err)
	}

	setup := newTally()
	var mu sync.Mutex

	// Reveal mode: share the secrets to reveal, untimed.
	var items []item
	if cfg.Mode == "reveal" {
		want := cfg.N
		if want == 0 {
			want = int64(cfg.Pool)
		}
		logf(logw, "sharing up to %d secrets to reveal (untimed)", want)
		t0 := time.Now()
		g := newGate(ctx, want, cfg.Dur, t0)
		parallel(cfg.Conc, func(w int) error {
			c := clients[w]
			vals := newValues(w, cfg.Size)
			t := newTally()
			var mine []item
			for g.next() {
				v := vals.next()
				k, err := c.share(ctx, v, cfg.Passphrase)
				if err != nil {
					t.fail(err)
					continue
				}
				mine = append(mine, item{k, v})
			}
			mu.Lock()
			items = append(items, mine...)
			merge(setup, t)
			mu.Unlock()
			return nil
		})
		if len(items) == 0 {
			return nil, fmt.Errorf("could not share any secret to reveal (%v)", slices.Collect(maps.Keys(setup.errs)))
		}
		logf(logw, "shared %d secrets in %.1fs", len(items), time.Since(t0).Seconds())
	}

	// Burst workers each share a first passphrase secret, untimed.
	type burstState struct {
		item
		tries int
	}
	bursts := make([]burstState, cfg.Burst)
	if cfg.Burst > 0 {
		logf(logw, "burst: sharing %d passphrase secrets (untimed)", cfg.Burst)
		err := parallel(cfg.Burst, func(w int) error {
			v := newValues(-1-w, cfg.Size).next()
			k, err := clients[cfg.Conc+w].share(ctx, v, burstPassphrase)
			bursts[w] = burstState{item: item{k, v}}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("burst setup: %v", err)
		}
	}

	// drive runs operations of the mode while g allows, recording in t.
	drive := func(c *client, g *gate, t *tally, vals *values, nextItem func() *item) {
		for g.next() {
			t0 := time.Now()
			var err error
			var key, pass string // the secret revealed, for -recheck
			switch cfg.Mode {
			case "share":
				_, err = c.share(ctx, vals.next(), cfg.Passphrase)
			case "generate":
				err = c.generate(ctx)
			case "reveal":
				it := nextItem()
				err = c.reveal(ctx, it.key, cfg.Passphrase, it.value)
				key, pass = it.key, cfg.Passphrase
			case "pair":
				v := vals.next()
				var k string
				k, err = c.share(ctx, v, cfg.Passphrase)
				if err == nil {
					t1 := time.Now()
					t.lat[kShare] = append(t.lat[kShare], t1.Sub(t0))
					err = c.reveal(ctx, k, cfg.Passphrase, v)
					if err == nil {
						t.lat[kReveal] = append(t.lat[kReveal], time.Since(t1))
					}
					key, pass = k, cfg.Passphrase
				}
			}
			if err != nil {
				if ctx.Err() == nil { // an interrupted request is not the server's fault
					t.fail(err)
				}
				continue
			}
			t.lat[kOp] = append(t.lat[kOp], time.Since(t0))
			t.n++
			if cfg.Recheck && key != "" {
				if err := c.revealGone(ctx, key, pass); err != nil && ctx.Err() == nil {
					t.fail(err)
				}
			}
		}
	}
	vals := make([]*values, cfg.Conc)
	for w := range vals {
		vals[w] = newValues(w, cfg.Size)
	}

	// Warm-up: the mode at full load, untimed, so that the timed phase
	// finds the server's heap, caches and connections at their working
	// size. Errors count; latencies do not.
	if cfg.Warmup > 0 && cfg.Mode != "reveal" {
		logf(logw, "warming up for %v", cfg.Warmup)
		warm := newGate(ctx, 0, cfg.Warmup, time.Now())
		parallel(cfg.Conc, func(w int) error {
			t := newTally()
			drive(clients[w], warm, t, vals[w], nil)
			mu.Lock()
			for k, v := range t.errs {
				setup.errs[k] += v
			}
			setup.wrong += t.wrong
			mu.Unlock()
			return nil
		})
	}

	// The timed phase.
	if cfg.OnTimed != nil {
		cfg.OnTimed(true)
	}
	start := time.Now()
	n := cfg.N
	if cfg.Mode == "reveal" {
		n = int64(len(items))
	}
	g := newGate(ctx, n, cfg.Dur, start)
	var next atomic.Int64 // reveal mode: index of the next item
	main := newTally()
	// When the timed phase ends, burst requests still queued for the
	// server's KDF are abandoned: they are load, not measurements.
	burstCtx, endBurst := context.WithCancel(ctx)
	defer endBurst()
	var burstWG sync.WaitGroup
	burst := newTally()
	var wrongTries atomic.Int64
	for w := range cfg.Burst {
		burstWG.Add(1)
		go func() {
			defer burstWG.Done()
			c := clients[cfg.Conc+w]
			t := newTally()
			vals := newValues(-1-w, cfg.Size)
			vals.seq = 1
			st := &bursts[w]
			for burstCtx.Err() == nil {
				t0 := time.Now()
				var err error
				switch {
				case st.key == "":
					v := vals.next()
					st.key, err = c.share(burstCtx, v, burstPassphrase)
					st.value, st.tries = v, 0
				case st.tries < burstWrongPerSecret:
					err = c.revealWrong(burstCtx, st.key)
					if err == nil {
						t.lat[kOp] = append(t.lat[kOp], time.Since(t0))
						wrongTries.Add(1)
					}
					st.tries++
				default:
					// The secret survived the wrong attempts: the right
					// passphrase must still open it.
					err = c.reveal(burstCtx, st.key, burstPassphrase, st.value)
					st.key = ""
				}
				if err != nil && burstCtx.Err() == nil {
					t.fail(err)
					st.key = ""
				}
			}
			mu.Lock()
			merge(burst, t)
			mu.Unlock()
		}()
	}

	guess := newTally()
	var guesses atomic.Int64
	for w := range cfg.Guess {
		burstWG.Add(1)
		go func() {
			defer burstWG.Done()
			c := clients[cfg.Conc+cfg.Burst+w]
			t := newTally()
			for burstCtx.Err() == nil {
				t0 := time.Now()
				if err := c.revealWrong(burstCtx, randomKey()); err != nil {
					if burstCtx.Err() == nil {
						t.fail(err)
					}
					continue
				}
				t.lat[kOp] = append(t.lat[kOp], time.Since(t0))
				guesses.Add(1)
			}
			mu.Lock()
			merge(guess, t)
			mu.Unlock()
		}()
	}

	parallel(cfg.Conc, func(w int) error {
		t := newTally()
		drive(clients[w], g, t, vals[w], func() *item { return &items[next.Add(1)-1] })
		mu.Lock()
		merge(main, t)
		mu.Unlock()
		return nil
	})
	elapsed := time.Since(start)
	if cfg.OnTimed != nil {
		cfg.OnTimed(false)
	}
	endBurst()
	burstWG.Wait()

	merge(main, setup) // setup failures count: the run did not do what was asked
	rep := &Report{
		Mode:        cfg.Mode,
		URL:         cfg.URL,
		Concurrency: cfg.Conc,
		Size:        cfg.Size,
		Passphrase:  cfg.Passphrase != "",
		Prefilled:   len(items),
		ElapsedS:    elapsed.Seconds(),
		Ops:         main.n,
		OpsPerSec:   float64(main.n) / elapsed.Seconds(),
		WrongValues: main.wrong,
		stats:       summarize(main.lat[kOp]),
	}
	rep.Errors, rep.ErrorKinds = countErrs(main)
	rep.Latency = rep.stats.ms()
	if cfg.Mode == "pair" {
		rep.reqStats = map[string]Stats{"share": summarize(main.lat[kShare]), "reveal": summarize(main.lat[kReveal])}
		rep.Requests = map[string]LatencyMS{}
		for k, s := range rep.reqStats {
			rep.Requests[k] = s.ms()
		}
	}
	if cfg.Burst > 0 {
		b := &BurstReport{Workers: cfg.Burst, WrongAttempts: wrongTries.Load(), WrongValues: burst.wrong, stats: summarize(burst.lat[kOp])}
		b.Errors, b.ErrorKinds = countErrs(burst)
		b.Latency = b.stats.ms()
		rep.Burst = b
	}
	if cfg.Guess > 0 {
		b := &BurstReport{Workers: cfg.Guess, WrongAttempts: guesses.Load(), WrongValues: guess.wrong, stats: summarize(guess.lat[kOp])}
		b.Errors, b.ErrorKinds = countErrs(guess)
		b.Latency = b.stats.ms()
		rep.Guess = b
	}
	return rep, nil
}

// countErrs returns the number of failed operations and their kinds.
// Wrong values are counted apart, so they are left out of the total.
func countErrs(t *tally) (int64, map[string]int64) {
	var n int64
	for _, v := range t.errs {
		n += v
	}
	n -= t.wrong
	if len(t.errs) == 0 {
		return n, nil
	}
	return n, t.errs
}

// randomKey returns a key of the form the server issues (lowercase letters
// and digits) that names no secret.
func randomKey() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 56)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// logf writes a progress line to w, if there is one.
func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "loadgen: "+format+"\n", args...)
	}
}

// parallel runs f(0..n-1) in n goroutines and returns the first error.
func parallel(n int, f func(w int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = f(w)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
