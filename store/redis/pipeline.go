package redis

import (
	"context"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// pipelined is go-redis's auto-pipeliner, on its deferred face, waited
// for only until the caller's context is done: what a Store that
// pipelines (see adaptive) sends a command through when others are in
// flight.
//
// The pipeliner runs every command it batches under a context of its own,
// not the caller's (see goredis.AutoPipeliner): a caller that waited for
// a command's result the usual way would wait, however near its deadline,
// until the batch came back or the pipeliner's own timeouts ran out, some
// 30 seconds with Redis stalled (TestStalledRedis). Here each command is
// submitted, and its caller waits on the future with its context: at the
// deadline the call returns the context's error and leaves the command to
// the pipeliner. Redis may still run it; the Reveal and Burn scripts then
// find their deadline passed and change nothing.
type pipelined struct {
	ap *goredis.AutoPipeliner
}

// wait submits cmd and waits until it has run, or until ctx is done: then
// it returns ctx's error, and cmd, which the pipeliner may still fill in,
// must not be read.
func (p pipelined) wait(ctx context.Context, cmd goredis.Cmder) error {
	if err := p.ap.Submit(ctx, cmd).WaitContext(ctx); err != nil && err == ctx.Err() {
		return err
	}
	return nil
}

// Do runs a command, waited for only until ctx is done.
func (p pipelined) Do(ctx context.Context, args ...any) *goredis.Cmd {
	cmd := goredis.NewCmd(ctx, args...)
	if err := p.wait(ctx, cmd); err != nil {
		cmd = goredis.NewCmd(ctx)
		cmd.SetErr(err)
	}
	return cmd
}

// eval runs a script command: EVAL, EVALSHA or their read-only forms,
// with go-redis's layout of arguments.
func (p pipelined) eval(ctx context.Context, name, payload string, keys []string, args []any) *goredis.Cmd {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, name, payload, len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	return p.Do(ctx, append(a, args...)...)
}

func (p pipelined) Eval(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return p.eval(ctx, "eval", script, keys, args)
}

func (p pipelined) EvalSha(ctx context.Context, sha string, keys []string, args ...any) *goredis.Cmd {
	return p.eval(ctx, "evalsha", sha, keys, args)
}

func (p pipelined) EvalRO(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return p.eval(ctx, "eval_ro", script, keys, args)
}

func (p pipelined) EvalShaRO(ctx context.Context, sha string, keys []string, args ...any) *goredis.Cmd {
	return p.eval(ctx, "evalsha_ro", sha, keys, args)
}

func (p pipelined) ScriptExists(ctx context.Context, hashes ...string) *goredis.BoolSliceCmd {
	return p.ap.ScriptExists(ctx, hashes...)
}

func (p pipelined) ScriptLoad(ctx context.Context, script string) *goredis.StringCmd {
	return p.ap.ScriptLoad(ctx, script)
}

var _ commander = pipelined{}

// pipelineAbove is how many commands of a Store may be in flight, the
// new one included, for it to go straight to Redis on the client's pool;
// beyond, it goes through the auto-pipeliner.
//
// The pipeliner pays off when commands can share a round trip: one write
// and one read for a batch instead of each. A lone command has nothing to
// share them with, and the pipeliner then only adds two hand-overs
// between goroutines: at one caller it cost 15-45% more client CPU per
// pair and up to 50 us more latency at the median (BenchmarkConcurrency,
// c=1). At two
// callers, sending the second command alone through it cost more latency
// (p50 235 us a pair, against 205) for the same CPU in all.
const pipelineAbove = 2

// adaptive is the commander of a Store that pipelines (see
// Options.Pipeline): the pipeliner while more than above commands of the
// Store are in flight, the client itself otherwise.
type adaptive struct {
	direct goredis.UniversalClient
	piped  pipelined
	above  int32
	busy   atomic.Int32 // commands in flight
}

// pick returns the commander for one command, and done, to be called
// once the command has run.
func (a *adaptive) pick() (commander, func()) {
	if a.busy.Add(1) > a.above {
		return a.piped, a.done
	}
	return a.direct, a.done
}

func (a *adaptive) done() { a.busy.Add(-1) }

func (a *adaptive) Do(ctx context.Context, args ...any) *goredis.Cmd {
	c, done := a.pick()
	defer done()
	return c.Do(ctx, args...)
}

func (a *adaptive) Eval(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	c, done := a.pick()
	defer done()
	return c.Eval(ctx, script, keys, args...)
}

func (a *adaptive) EvalSha(ctx context.Context, sha string, keys []string, args ...any) *goredis.Cmd {
	c, done := a.pick()
	defer done()
	return c.EvalSha(ctx, sha, keys, args...)
}

func (a *adaptive) EvalRO(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	c, done := a.pick()
	defer done()
	return c.EvalRO(ctx, script, keys, args...)
}

func (a *adaptive) EvalShaRO(ctx context.Context, sha string, keys []string, args ...any) *goredis.Cmd {
	c, done := a.pick()
	defer done()
	return c.EvalShaRO(ctx, sha, keys, args...)
}

func (a *adaptive) ScriptExists(ctx context.Context, hashes ...string) *goredis.BoolSliceCmd {
	return a.direct.ScriptExists(ctx, hashes...)
}

func (a *adaptive) ScriptLoad(ctx context.Context, script string) *goredis.StringCmd {
	return a.direct.ScriptLoad(ctx, script)
}

var _ commander = (*adaptive)(nil)
