package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
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
	r := &run{ctx: ctx, cfg: cfg, logw: logw, clients: clients, setup: newTally()}
	if cfg.Mode == "reveal" {
		if err := r.prefill(); err != nil {
			return nil, err
		}
	}
	if err := r.shareBurstSecrets(); err != nil {
		return nil, err
	}
	r.vals = make([]*values, cfg.Conc)
	for w := range r.vals {
		r.vals[w] = newValues(w, cfg.Size)
	}
	r.warmUp()
	return r.timed(), nil
}

// run is the state of one [Run]: its clients (the main workers' first,
// then the burst workers', then the guess workers'), what the untimed
// phases prepared, and what failed in them.
type run struct {
	ctx     context.Context
	cfg     Config
	logw    io.Writer
	clients []*client

	mu     sync.Mutex   // guards items and setup while workers run
	setup  *tally       // failures of the untimed phases
	items  []item       // reveal mode: the secrets to reveal
	bursts []burstState // one per burst worker
	vals   []*values    // one per main worker
}

// burstState is a burst worker's passphrase secret and how many wrong
// passphrases it has tried on it.
type burstState struct {
	item
	tries int
}

// prefill shares the secrets that reveal mode reveals, untimed.
func (r *run) prefill() error {
	cfg := r.cfg
	want := cfg.N
	if want == 0 {
		want = int64(cfg.Pool)
	}
	logf(r.logw, "sharing up to %d secrets to reveal (untimed)", want)
	t0 := time.Now()
	g := newGate(r.ctx, want, cfg.Dur, t0)
	parallel(cfg.Conc, func(w int) error {
		c := r.clients[w]
		vals := newValues(w, cfg.Size)
		t := newTally()
		var mine []item
		for g.next() {
			v := vals.next()
			k, err := c.share(r.ctx, v, cfg.Passphrase)
			if err != nil {
				t.fail(err)
				continue
			}
			mine = append(mine, item{k, v})
		}
		r.mu.Lock()
		r.items = append(r.items, mine...)
		merge(r.setup, t)
		r.mu.Unlock()
		return nil
	})
	if len(r.items) == 0 {
		return fmt.Errorf("could not share any secret to reveal (%v)", slices.Collect(maps.Keys(r.setup.errs)))
	}
	logf(r.logw, "shared %d secrets in %.1fs", len(r.items), time.Since(t0).Seconds())
	return nil
}

// shareBurstSecrets has each burst worker share a first passphrase secret,
// untimed.
func (r *run) shareBurstSecrets() error {
	cfg := r.cfg
	r.bursts = make([]burstState, cfg.Burst)
	if cfg.Burst == 0 {
		return nil
	}
	logf(r.logw, "burst: sharing %d passphrase secrets (untimed)", cfg.Burst)
	err := parallel(cfg.Burst, func(w int) error {
		v := newValues(-1-w, cfg.Size).next()
		k, err := r.clients[cfg.Conc+w].share(r.ctx, v, burstPassphrase)
		r.bursts[w] = burstState{item: item{k, v}}
		return err
	})
	if err != nil {
		return fmt.Errorf("burst setup: %v", err)
	}
	return nil
}

// warmUp runs the mode at full load, untimed, so that the timed phase
// finds the server's heap, caches and connections at their working size.
// Errors count; latencies do not. Reveal mode's prefill warmed up already.
func (r *run) warmUp() {
	cfg := r.cfg
	if cfg.Warmup <= 0 || cfg.Mode == "reveal" {
		return
	}
	logf(r.logw, "warming up for %v", cfg.Warmup)
	warm := newGate(r.ctx, 0, cfg.Warmup, time.Now())
	parallel(cfg.Conc, func(w int) error {
		t := newTally()
		r.drive(r.clients[w], warm, t, r.vals[w], nil)
		r.mu.Lock()
		for k, v := range t.errs {
			r.setup.errs[k] += v
		}
		r.setup.wrong += t.wrong
		r.mu.Unlock()
		return nil
	})
}

// drive runs operations of the mode while g allows, recording in t.
// nextItem gives reveal mode the secret to reveal next.
func (r *run) drive(c *client, g *gate, t *tally, vals *values, nextItem func() *item) {
	for g.next() {
		t0 := time.Now()
		key, pass, err := r.op(c, t, vals, nextItem)
		if err != nil {
			if r.ctx.Err() == nil { // an interrupted request is not the server's fault
				t.fail(err)
			}
			continue
		}
		t.lat[kOp] = append(t.lat[kOp], time.Since(t0))
		t.n++
		if r.cfg.Recheck && key != "" {
			if err := c.revealGone(r.ctx, key, pass); err != nil && r.ctx.Err() == nil {
				t.fail(err)
			}
		}
	}
}

// op runs one operation of the mode and returns the secret it revealed,
// if any, for -recheck. A pair records the latency of each of its two
// requests in t.
func (r *run) op(c *client, t *tally, vals *values, nextItem func() *item) (key, pass string, err error) {
	ctx, cfg := r.ctx, r.cfg
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
		t0 := time.Now()
		v := vals.next()
		var k string
		if k, err = c.share(ctx, v, cfg.Passphrase); err != nil {
			return "", "", err
		}
		t1 := time.Now()
		t.lat[kShare] = append(t.lat[kShare], t1.Sub(t0))
		if err = c.reveal(ctx, k, cfg.Passphrase, v); err != nil {
			return "", "", err
		}
		t.lat[kReveal] = append(t.lat[kReveal], time.Since(t1))
		key, pass = k, cfg.Passphrase
	}
	return key, pass, err
}

// timed runs the timed phase: the main workers until the run's bound,
// with the burst and guess workers beside them until the main workers
// are done; then it reports.
func (r *run) timed() *Report {
	cfg := r.cfg
	if cfg.OnTimed != nil {
		cfg.OnTimed(true)
	}
	start := time.Now()
	n := cfg.N
	if cfg.Mode == "reveal" {
		n = int64(len(r.items))
	}
	g := newGate(r.ctx, n, cfg.Dur, start)
	var next atomic.Int64 // reveal mode: index of the next item
	main := newTally()
	// When the timed phase ends, burst requests still queued for the
	// server's KDF are abandoned: they are load, not measurements.
	burstCtx, endBurst := context.WithCancel(r.ctx)
	defer endBurst()
	var burstWG sync.WaitGroup
	burst, guess := newTally(), newTally()
	var wrongTries, guesses atomic.Int64
	for w := range cfg.Burst {
		burstWG.Go(func() { r.burstWorker(burstCtx, w, burst, &wrongTries) })
	}
	for w := range cfg.Guess {
		burstWG.Go(func() { r.guessWorker(burstCtx, w, guess, &guesses) })
	}

	parallel(cfg.Conc, func(w int) error {
		t := newTally()
		r.drive(r.clients[w], g, t, r.vals[w], func() *item { return &r.items[next.Add(1)-1] })
		r.mu.Lock()
		merge(main, t)
		r.mu.Unlock()
		return nil
	})
	elapsed := time.Since(start)
	if cfg.OnTimed != nil {
		cfg.OnTimed(false)
	}
	endBurst()
	burstWG.Wait()

	merge(main, r.setup) // setup failures count: the run did not do what was asked
	rep := r.report(main, elapsed)
	if cfg.Burst > 0 {
		rep.Burst = newBurstReport(cfg.Burst, wrongTries.Load(), burst)
	}
	if cfg.Guess > 0 {
		rep.Guess = newBurstReport(cfg.Guess, guesses.Load(), guess)
	}
	return rep
}

// burstWorker w reveals its passphrase secret with a wrong passphrase
// burstWrongPerSecret times, then with the right one, which must still
// open it, and starts over with a new secret, until ctx ends. It adds
// what it recorded to sum, and counts its wrong passphrases in tries.
func (r *run) burstWorker(ctx context.Context, w int, sum *tally, tries *atomic.Int64) {
	c := r.clients[r.cfg.Conc+w]
	t := newTally()
	vals := newValues(-1-w, r.cfg.Size)
	vals.seq = 1 // the first value was shared before the timed phase
	st := &r.bursts[w]
	for ctx.Err() == nil {
		t0 := time.Now()
		var err error
		switch {
		case st.key == "":
			v := vals.next()
			st.key, err = c.share(ctx, v, burstPassphrase)
			st.value, st.tries = v, 0
		case st.tries < burstWrongPerSecret:
			err = c.revealWrong(ctx, st.key)
			if err == nil {
				t.lat[kOp] = append(t.lat[kOp], time.Since(t0))
				tries.Add(1)
			}
			st.tries++
		default:
			// The secret survived the wrong attempts: the right
			// passphrase must still open it.
			err = c.reveal(ctx, st.key, burstPassphrase, st.value)
			st.key = ""
		}
		if err != nil && ctx.Err() == nil {
			t.fail(err)
			st.key = ""
		}
	}
	r.mu.Lock()
	merge(sum, t)
	r.mu.Unlock()
}

// guessWorker w guesses a passphrase on random keys, each of which must
// be answered "Unknown secret", until ctx ends. It adds what it recorded
// to sum, and counts its guesses in guesses.
func (r *run) guessWorker(ctx context.Context, w int, sum *tally, guesses *atomic.Int64) {
	c := r.clients[r.cfg.Conc+r.cfg.Burst+w]
	t := newTally()
	for ctx.Err() == nil {
		t0 := time.Now()
		if err := c.revealWrong(ctx, randomKey()); err != nil {
			if ctx.Err() == nil {
				t.fail(err)
			}
			continue
		}
		t.lat[kOp] = append(t.lat[kOp], time.Since(t0))
		guesses.Add(1)
	}
	r.mu.Lock()
	merge(sum, t)
	r.mu.Unlock()
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
