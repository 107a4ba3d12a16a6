package redis

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/storetest"
)

// lateHook, while on, delivers every script to Redis only after its
// caller's deadline, as a stalled network or server would: it waits out
// the deadline, then sends the command under a context without it (the
// client would otherwise not send it at all).
type lateHook struct{ on atomic.Bool }

func (h *lateHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *lateHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if d, ok := ctx.Deadline(); ok && h.on.Load() && (cmd.Name() == "evalsha" || cmd.Name() == "eval") {
			time.Sleep(time.Until(d) + 2*time.Millisecond)
			ctx = context.WithoutCancel(ctx)
		}
		return next(ctx, cmd)
	}
}

func (h *lateHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// TestDeadline: Reveal and Burn scripts that reach Redis after the
// caller's deadline change nothing (no reveal, no counted attempt, no
// burn, no recorded outcome) and the call answers an error wrapping
// context.DeadlineExceeded; an outcome already recorded under a replay id
// is still answered, since answering it changes nothing. With the
// deadline ahead, the calls work.
func TestDeadline(t *testing.T) {
	for name, c := range clients(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			hook := &lateHook{}
			c.AddHook(hook)
			st := newStore(t, c)
			now := t0.Add(time.Second)
			late := func() context.Context {
				ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
				t.Cleanup(cancel)
				return ctx
			}
			requireLate := func(err error, call string) {
				t.Helper()
				require.ErrorIs(t, err, context.DeadlineExceeded, call)
				assert.Equal(t, errLate, err, call)
			}

			s, m := storetest.NewPair("", t0, time.Hour)
			s.Check = []byte("right")
			require.NoError(t, st.Create(ctx, s, m))
			rp := replayFor(s.ID, now, time.Minute)
			hook.on.Store(true)
			_, err := st.Reveal(late(), s.ID, onetime.Credentials{Check: s.Check}, now, nil)
			requireLate(err, "Reveal")
			_, err = st.Reveal(late(), s.ID, onetime.Credentials{Check: []byte("wrong")}, now, nil)
			requireLate(err, "Reveal, wrong passphrase")
			_, err = st.Reveal(late(), s.ID, onetime.Credentials{Check: s.Check}, now, rp)
			requireLate(err, "Reveal with a replay")
			_, err = st.Burn(late(), m.ID, now, nil)
			requireLate(err, "Burn")
			hook.on.Store(false)

			info, err := st.Peek(ctx, s.ID, now)
			require.NoError(t, err, "the secret is still there")
			assert.Zero(t, info.Attempts, "a late wrong passphrase was counted")
			r, err := st.Receipt(ctx, m.ID, now)
			require.NoError(t, err)
			assert.Equal(t, onetime.StateNew, r.State)
			n, err := c.Exists(ctx, st.key(rp.ID, kindReplay)).Result()
			require.NoError(t, err)
			assert.Zero(t, n, "a late call recorded an outcome")

			// With the deadline ahead: Redis's TIME is before it.
			ahead, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			got, err := st.Reveal(ahead, s.ID, onetime.Credentials{Check: s.Check}, now, rp)
			require.NoError(t, err)
			assert.Equal(t, s.Sealed, got.Sealed)

			// The recorded outcome comes first, deadline or not.
			hook.on.Store(true)
			again, err := st.Reveal(late(), s.ID, onetime.Credentials{Check: s.Check}, now, rp)
			hook.on.Store(false)
			require.NoError(t, err)
			assert.Equal(t, got, again)

			s, m = storetest.NewPair("", t0, time.Hour)
			require.NoError(t, st.Create(ctx, s, m))
			b, err := st.Burn(ahead, m.ID, now, nil)
			require.NoError(t, err)
			assert.Equal(t, onetime.StateBurned, b.State)
		})
	}
}

// TestStalledRedis is issue 19's repro: Redis stops (SIGSTOP) while
// reveals and a burn are in flight, and resumes after their deadline. The
// calls answer an error, not the value, and the scripts, which Redis runs
// from its socket buffers once resumed, consume nothing: every secret is
// still unread and revealable afterwards, its receipt neither received nor
// burned, no wrong passphrase counted. A client with ContextTimeoutEnabled
// returns at the deadline; one without waits past it, for Redis's answer
// (or its ReadTimeout, 5 s by default), and the answer says that the
// script ran late and changed nothing.
func TestStalledRedis(t *testing.T) {
	const (
		deadline = 1500 * time.Millisecond
		stall    = 3500 * time.Millisecond
		slack    = 100 * time.Millisecond
	)
	srv := redistest.Standalone(t)
	if srv.External() {
		t.Skip("needs a server of its own to stop")
	}
	ctx := context.Background()
	direct := srv.Client(t)
	for _, sc := range allScripts { // EVALSHA runs them at once when resumed
		require.NoError(t, sc.Load(ctx, direct).Err())
	}
	prefix := redistest.Prefix(t)
	setup, err := New(direct, &Options{Prefix: prefix})
	require.NoError(t, err)
	now := t0.Add(time.Second)

	// Each call has a client of its own, connected before the stall.
	store := func(bounded, pipelined bool) *Store {
		c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, ContextTimeoutEnabled: bounded})
		t.Cleanup(func() { c.Close() })
		require.NoError(t, c.Ping(ctx).Err())
		st, err := New(c, &Options{Prefix: prefix, Pipeline: pipelined})
		require.NoError(t, err)
		if pipelined {
			PipelineAll(st)
			t.Cleanup(func() { st.Close() })
			_, err := st.Peek(ctx, onetime.ID(strings.Repeat("0", 40)), now) // connects the pipeliner
			require.ErrorIs(t, err, onetime.ErrNotFound)
		}
		return st
	}
	type call struct {
		name      string
		bounded   bool // the client has ContextTimeoutEnabled
		pipelined bool // every command of the Store goes through the pipeliner
		s         *onetime.SealedSecret
		m         *onetime.SealedMetadata
		check     []byte
		replay    *onetime.Replay
		burn      bool

		st     *Store
		err    error
		took   time.Duration
		leaked bool // the call answered the value
	}
	calls := []*call{
		{name: "Reveal", bounded: true},
		{name: "Reveal, wrong passphrase", bounded: true, check: []byte("wrong")},
		{name: "Reveal with a replay", bounded: true},
		{name: "Burn", bounded: true, burn: true},
		{name: "Reveal, pipelined", bounded: true, pipelined: true},
		{name: "Reveal, client without ContextTimeoutEnabled"},
	}
	for _, c := range calls {
		c.s, c.m = storetest.NewPair("", t0, time.Hour)
		if c.check != nil {
			c.s.Check = []byte("right")
		}
		if c.name == "Reveal with a replay" {
			c.replay = replayFor(c.s.ID, now, time.Minute)
		}
		require.NoError(t, setup.Create(ctx, c.s, c.m))
		c.st = store(c.bounded, c.pipelined)
	}
	scriptsBefore := commandStats(t, []*goredis.Client{direct})["evalsha"]

	srv.Pause(t)
	paused := time.Now()
	var bounded, unbounded sync.WaitGroup
	for _, c := range calls {
		wg := &unbounded
		if c.bounded {
			wg = &bounded
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, deadline)
			defer cancel()
			start := time.Now()
			if c.burn {
				_, c.err = c.st.Burn(ctx, c.m.ID, now, c.replay)
			} else {
				var got *onetime.SealedSecret
				got, c.err = c.st.Reveal(ctx, c.s.ID, onetime.Credentials{Check: c.check}, now, c.replay)
				c.leaked = got != nil
			}
			c.took = time.Since(start)
		})
	}
	bounded.Wait()
	time.Sleep(stall - time.Since(paused))
	srv.Resume(t)
	t.Logf("Redis stopped for %v", time.Since(paused).Round(time.Millisecond))
	unbounded.Wait()

	// Once resumed, Redis runs the scripts it had received.
	require.Eventually(t, func() bool {
		return commandStats(t, []*goredis.Client{direct})["evalsha"] >= scriptsBefore+int64(len(calls))
	}, 5*time.Second, 10*time.Millisecond, "Redis did not run the scripts sent during the stall")

	for _, c := range calls {
		t.Logf("%s: %v after %v", c.name, c.err, c.took.Round(time.Millisecond))
		assert.Error(t, c.err, c.name)
		assert.False(t, c.leaked, "%s answered the value past its deadline", c.name)
		assert.NotErrorIs(t, c.err, onetime.ErrNotFound, c.name)
		assert.ErrorIs(t, c.err, context.DeadlineExceeded, c.name)
		if c.bounded {
			assert.Less(t, c.took, deadline+slack, "%s: the call outlived its deadline", c.name)
		} else {
			assert.Equal(t, errLate, c.err, "%s: Redis's answer after the stall", c.name)
		}
		info, err := setup.Peek(ctx, c.s.ID, now)
		if !assert.NoError(t, err, "%s: the secret is gone", c.name) {
			continue
		}
		assert.Zero(t, info.Attempts, "%s: an attempt was counted", c.name)
		r, err := setup.Receipt(ctx, c.m.ID, now)
		require.NoError(t, err)
		assert.Equal(t, onetime.StateNew, r.State, "%s: the receipt moved", c.name)
		check := c.s.Check
		got, err := setup.Reveal(ctx, c.s.ID, onetime.Credentials{Check: check}, now, c.replay)
		if assert.NoError(t, err, "%s: the secret is not revealable", c.name) {
			assert.Equal(t, c.s.Sealed, got.Sealed, c.name)
		}
	}
}
