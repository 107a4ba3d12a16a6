package redis

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/storetest"
)

// dropProxy is a TCP proxy on a loopback port in front of a Redis server.
// It forwards every request and reply, except that for a fraction of the
// replies to EVALSHA and EVAL it closes the connection instead of
// forwarding the reply: the server ran the script, the client never hears
// of it. Which replies it drops is drawn from a seeded generator, so a
// test that sends its commands one at a time sees the same drops every
// run.
type dropProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	rng     *rand.Rand
	rate    float64
	stall   bool // withhold every script reply, keeping the connection
	scripts int  // script replies seen
	drops   int  // script replies dropped
	conns   map[net.Conn]struct{}

	wg sync.WaitGroup
}

// startDropProxy starts a proxy to target that drops the given fraction of
// script replies, and stops it when t ends.
func startDropProxy(t *testing.T, target string, rate float64, seed uint64) *dropProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &dropProxy{ln: ln, target: target, rng: rand.New(rand.NewPCG(seed, seed)), rate: rate, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *dropProxy) addr() string { return p.ln.Addr().String() }

// withhold makes the proxy keep every script reply from now on.
func (p *dropProxy) withhold() {
	p.mu.Lock()
	p.stall = true
	p.mu.Unlock()
}

// counts returns how many script replies the proxy saw and dropped.
func (p *dropProxy) counts() (scripts, drops int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.scripts, p.drops
}

func (p *dropProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// track registers c to be closed by close.
func (p *dropProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns[c] = struct{}{}
	p.mu.Unlock()
}

func (p *dropProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *dropProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.track(client)
		p.track(server)
		p.wg.Add(1)
		go p.serve(client, server)
	}
}

// serve relays one client connection. Requests are forwarded as they come,
// their command names queued; each reply is matched with the oldest
// queued name (Redis answers in order).
func (p *dropProxy) serve(client, server net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	defer p.untrack(server)
	names := make(chan string, 4096)
	go func() {
		defer close(names)
		r := bufio.NewReader(client)
		for {
			req, err := readRESP(r)
			if err != nil {
				server.Close()
				return
			}
			names <- commandName(req)
			if _, err := server.Write(req); err != nil {
				return
			}
		}
	}()
	r := bufio.NewReader(server)
	for {
		reply, err := readRESP(r)
		if err != nil {
			return
		}
		if reply[0] == '>' {
			client.Write(reply) // a RESP3 push: not an answer to a request
			continue
		}
		name, ok := <-names
		if !ok {
			return
		}
		if name == "evalsha" || name == "eval" {
			p.mu.Lock()
			p.scripts++
			drop := p.rng.Float64() < p.rate
			if drop {
				p.drops++
			}
			stall := p.stall
			p.mu.Unlock()
			if drop {
				return // closes both connections: the reply is lost
			}
			if stall {
				continue
			}
		}
		if _, err := client.Write(reply); err != nil {
			return
		}
	}
}

// readRESP reads one whole RESP2 or RESP3 value from r and returns its
// bytes as they were.
func readRESP(r *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	err := readValue(r, &buf)
	return buf.Bytes(), err
}

func readValue(r *bufio.Reader, buf *bytes.Buffer) error {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return err
	}
	buf.Write(line)
	if len(line) < 3 {
		return errors.New("short RESP line")
	}
	n := func() (int, error) { return strconv.Atoi(string(line[1 : len(line)-2])) }
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return nil
	case '$', '!', '=':
		k, err := n()
		if err != nil || k < 0 {
			return err
		}
		_, err = io.CopyN(buf, r, int64(k)+2)
		return err
	case '*', '~', '>', '%', '|':
		k, err := n()
		if err != nil {
			return err
		}
		if line[0] == '%' || line[0] == '|' {
			k *= 2
		}
		for range k {
			if err := readValue(r, buf); err != nil {
				return err
			}
		}
		if line[0] == '|' { // an attribute precedes the value it describes
			return readValue(r, buf)
		}
		return nil
	}
	return fmt.Errorf("unknown RESP type %q", line[0])
}

// commandName returns the lowercase name of the command in a request (an
// array of bulk strings), "" if it has none.
func commandName(req []byte) string {
	parts := bytes.SplitN(req, []byte("\r\n"), 4)
	if len(parts) < 3 || len(parts[0]) == 0 || parts[0][0] != '*' {
		return ""
	}
	return strings.ToLower(string(parts[2]))
}

// TestLostReplies runs reveals, wrong passphrases and burns through a proxy
// that drops 10% of the script replies after Redis ran the script. A lost
// reply must not turn a reveal or burn that happened into "not found": the
// retry of the same call answers what its first run did. At most 1% of
// the secrets may be consumed without their reveal answering the value
// (every try of one call lost), and those calls answer an error that is
// not ErrNotFound.
//
// It runs with the client's own retries (go-redis's default MaxRetries),
// with none (the Store's retries alone), and with every command through
// the auto-pipeliner.
func TestLostReplies(t *testing.T) {
	srv := redistest.Standalone(t)
	direct := srv.Client(t)
	const (
		n    = 300
		rate = 0.10
	)
	for i, tc := range []struct {
		name       string
		maxRetries int
		pipelined  bool
	}{
		{"client retries", 0, false},
		{"store retries", -1, false},
		{"pipelined", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			proxy := startDropProxy(t, srv.Addr, rate, uint64(i+1))
			c := goredis.NewClient(&goredis.Options{Addr: proxy.addr(), MaxRetries: tc.maxRetries})
			t.Cleanup(func() { c.Close() })
			prefix := redistest.Prefix(t)
			setup, err := New(direct, &Options{Prefix: prefix})
			require.NoError(t, err)
			st, err := New(c, &Options{Prefix: prefix, Pipeline: tc.pipelined})
			require.NoError(t, err)
			if tc.pipelined {
				PipelineAll(st)
			}
			t.Cleanup(func() { st.Close() })
			now := t0.Add(time.Second)

			// classify sorts the answer of one call.
			type tally struct{ ok, falseNotFound, unanswered int }
			classify := func(tl *tally, err error, want error) {
				switch {
				case errors.Is(err, want):
					tl.ok++
				case errors.Is(err, onetime.ErrNotFound):
					tl.falseNotFound++
				default:
					tl.unanswered++
					assert.True(t, strings.HasPrefix(err.Error(), "redis: "), "error %q", err)
				}
			}

			// Reveals.
			var reveals tally
			secrets := make([]*onetime.SealedSecret, n)
			receipts := make([]*onetime.SealedMetadata, n)
			for j := range n {
				secrets[j], receipts[j] = storetest.NewPair("", t0, time.Hour)
				require.NoError(t, setup.Create(ctx, secrets[j], receipts[j]))
			}
			for j, s := range secrets {
				got, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
				classify(&reveals, err, nil)
				if err == nil {
					require.Equal(t, s.Sealed, got.Sealed, "reveal %d answered another value", j)
				}
			}
			consumed := 0
			for _, m := range receipts {
				r, err := setup.Receipt(ctx, m.ID, now)
				require.NoError(t, err)
				if r.State == onetime.StateReceived {
					consumed++
				}
			}
			scripts, drops := proxy.counts()
			t.Logf("reveals: %d script replies, %d dropped; %d answered the value, %d false not found, %d errors; %d consumed",
				scripts, drops, reveals.ok, reveals.falseNotFound, reveals.unanswered, consumed)
			assert.GreaterOrEqual(t, drops, n/20, "the proxy dropped too few replies to test anything")
			assert.Zero(t, reveals.falseNotFound, "reveals answered ErrNotFound for a secret they revealed")
			assert.Equal(t, n, consumed, "every secret was revealed")
			assert.LessOrEqual(t, consumed-reveals.ok, n/100, "secrets consumed without their reveal answering the value")

			// Wrong passphrases: each counts once, however often its
			// script ran.
			var wrong tally
			locked := make([]*onetime.SealedSecret, n/3)
			for j := range locked {
				s, m := storetest.NewPair("", t0, time.Hour)
				s.Check = []byte("right")
				require.NoError(t, setup.Create(ctx, s, m))
				locked[j] = s
			}
			for _, s := range locked {
				_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, now, nil)
				classify(&wrong, err, onetime.ErrWrongPassphrase)
			}
			counted := 0
			for _, s := range locked {
				info, err := setup.Peek(ctx, s.ID, now)
				require.NoError(t, err)
				assert.LessOrEqual(t, info.Attempts, 1, "a wrong passphrase counted twice")
				counted += info.Attempts
			}
			_, drops2 := proxy.counts()
			t.Logf("wrong passphrases: %d dropped; %d answered, %d false not found, %d errors; %d counted",
				drops2-drops, wrong.ok, wrong.falseNotFound, wrong.unanswered, counted)
			assert.Zero(t, wrong.falseNotFound)
			assert.Equal(t, len(locked), counted, "every wrong passphrase counted once")

			// Burns.
			var burns tally
			receipts = receipts[:0]
			for range n {
				s, m := storetest.NewPair("", t0, time.Hour)
				require.NoError(t, setup.Create(ctx, s, m))
				receipts = append(receipts, m)
			}
			for _, m := range receipts {
				got, err := st.Burn(ctx, m.ID, now, nil)
				classify(&burns, err, nil)
				if err == nil {
					require.Equal(t, onetime.StateBurned, got.State)
					require.Equal(t, m.ID, got.ID)
				}
			}
			burned := 0
			for _, m := range receipts {
				r, err := setup.Receipt(ctx, m.ID, now)
				require.NoError(t, err)
				if r.State == onetime.StateBurned {
					burned++
				}
			}
			_, drops3 := proxy.counts()
			t.Logf("burns: %d dropped; %d answered, %d false not found, %d errors; %d burned",
				drops3-drops2, burns.ok, burns.falseNotFound, burns.unanswered, burned)
			assert.Zero(t, burns.falseNotFound, "burns answered ErrNotFound for a secret they burned")
			assert.Equal(t, n, burned)
			assert.LessOrEqual(t, burned-burns.ok, n/100, "secrets burned without their burn answering")

			// The outcomes of answered calls are gone (once the Store has
			// sent their DELs): only those of calls whose every reply was
			// lost wait for their expiry.
			st.settle(false)
			left, err := outcomeKeys(ctx, direct, prefix)
			require.NoError(t, err)
			assert.LessOrEqual(t, len(left), reveals.unanswered+wrong.unanswered+burns.unanswered, "outcome keys left behind")
		})
	}
}

// outcomeKeys lists the outcome keys under prefix, on one server or on
// every master of a Cluster.
func outcomeKeys(ctx context.Context, c goredis.UniversalClient, prefix string) ([]string, error) {
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c *goredis.Client) error {
		iter := c.Scan(ctx, 0, prefix+"{*}"+string(rune(kindOutcome))+"*", 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	switch c := c.(type) {
	case *goredis.ClusterClient:
		return keys, c.ForEachMaster(ctx, scan)
	case *goredis.Client:
		return keys, scan(ctx, c)
	}
	return nil, fmt.Errorf("outcomeKeys: a %T", c)
}

// TestEveryReplyLost: when every try of a Reveal or Burn loses its reply,
// the call answers an error that is not ErrNotFound (the secret may be
// consumed: the caller must not be told it never existed), and the
// outcome left in Redis expires within outcomeTTL.
func TestEveryReplyLost(t *testing.T) {
	srv := redistest.Standalone(t)
	direct := srv.Client(t)
	ctx := context.Background()
	// Loaded scripts: EVALSHA runs them at once (a NOSCRIPT answer would
	// be dropped too, and the script never run).
	for _, sc := range allScripts {
		require.NoError(t, sc.Load(ctx, direct).Err())
	}
	proxy := startDropProxy(t, srv.Addr, 1, 1)
	c := goredis.NewClient(&goredis.Options{Addr: proxy.addr(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	prefix := redistest.Prefix(t)
	setup, err := New(direct, &Options{Prefix: prefix})
	require.NoError(t, err)
	st, err := New(c, &Options{Prefix: prefix})
	require.NoError(t, err)
	now := t0.Add(time.Second)

	s, m := storetest.NewPair("", t0, time.Hour)
	require.NoError(t, setup.Create(ctx, s, m))
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
	require.Error(t, err)
	assert.NotErrorIs(t, err, onetime.ErrNotFound)
	assert.True(t, strings.HasPrefix(err.Error(), "redis: "), "error %q", err)
	r, err := setup.Receipt(ctx, m.ID, now)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateReceived, r.State, "the first try revealed it")

	s, m = storetest.NewPair("", t0, time.Hour)
	require.NoError(t, setup.Create(ctx, s, m))
	_, err = st.Burn(ctx, m.ID, now, nil)
	require.Error(t, err)
	assert.NotErrorIs(t, err, onetime.ErrNotFound)

	scripts, drops := proxy.counts()
	assert.Equal(t, 2*(retries+1), scripts, "each call tried 1+retries times")
	assert.Equal(t, scripts, drops)
	left, err := outcomeKeys(ctx, direct, prefix)
	require.NoError(t, err)
	require.Len(t, left, 2, "one outcome per call, recorded by its first try")
	for _, k := range left {
		ttl, err := direct.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.True(t, ttl > 0 && ttl <= outcomeTTL, "outcome PTTL %v", ttl)
	}
}

// TestLostRepliesReplay: with a Replay, a caller that gets no answer at
// all (every try of the Store lost its reply, as half of all script
// replies are dropped here) asks again with the same replay id and gets
// what the first call did: every value is delivered, every burn answered,
// each wrong passphrase counted once, and no call answers ErrNotFound.
func TestLostRepliesReplay(t *testing.T) {
	srv := redistest.Standalone(t)
	direct := srv.Client(t)
	ctx := context.Background()
	for _, sc := range allScripts { // a dropped NOSCRIPT would hide a run
		require.NoError(t, sc.Load(ctx, direct).Err())
	}
	const (
		n     = 100
		rate  = 0.5
		tries = 30 // a call is repeated until answered, at most this often
	)
	proxy := startDropProxy(t, srv.Addr, rate, 7)
	c := goredis.NewClient(&goredis.Options{Addr: proxy.addr(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	prefix := redistest.Prefix(t)
	setup, err := New(direct, &Options{Prefix: prefix})
	require.NoError(t, err)
	st, err := New(c, &Options{Prefix: prefix})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	now := t0.Add(time.Second)

	// repeat calls f until it answers something other than a Redis error,
	// and reports how many calls that took.
	repeat := func(f func() error) (int, error) {
		for i := 1; ; i++ {
			err := f()
			if err == nil || errors.Is(err, onetime.ErrNotFound) || errors.Is(err, onetime.ErrWrongPassphrase) || i == tries {
				return i, err
			}
		}
	}
	repeated := 0
	for range n {
		s, m := storetest.NewPair("", t0, time.Hour)
		require.NoError(t, setup.Create(ctx, s, m))
		rp := replayFor(s.ID, now, time.Minute)
		var got *onetime.SealedSecret
		calls, err := repeat(func() (err error) { got, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, now, rp); return err })
		require.NoError(t, err, "a reveal was never answered, or answered an error")
		require.Equal(t, s.Sealed, got.Sealed)
		repeated += calls - 1
	}
	for range n / 3 {
		s, m := storetest.NewPair("", t0, time.Hour)
		s.Check = []byte("right")
		require.NoError(t, setup.Create(ctx, s, m))
		rp := replayFor(s.ID, now, time.Minute)
		calls, err := repeat(func() error {
			_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, now, rp)
			return err
		})
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
		info, err := setup.Peek(ctx, s.ID, now)
		require.NoError(t, err)
		require.Equal(t, 1, info.Attempts, "one wrong passphrase, asked %d times", calls)
		repeated += calls - 1
	}
	for range n {
		s, m := storetest.NewPair("", t0, time.Hour)
		require.NoError(t, setup.Create(ctx, s, m))
		rp := replayFor(m.ID, now, time.Minute)
		var got *onetime.SealedMetadata
		calls, err := repeat(func() (err error) { got, err = st.Burn(ctx, m.ID, now, rp); return err })
		require.NoError(t, err, "a burn was never answered, or answered an error")
		require.Equal(t, onetime.StateBurned, got.State)
		require.Equal(t, now, got.Burned)
		repeated += calls - 1
	}
	scripts, drops := proxy.counts()
	t.Logf("%d script replies, %d dropped; %d calls asked again after no answer", scripts, drops, repeated)
	assert.Positive(t, repeated, "no call went unanswered: nothing was tested")
}
