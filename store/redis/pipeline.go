package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// pipelined is the commander of a Store with Options.AutoPipeline:
// go-redis's auto-pipeliner, on its deferred face, waited for only until
// the caller's context is done.
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
