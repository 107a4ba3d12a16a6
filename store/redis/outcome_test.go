package redis

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/storetest"
)

// delGate is a goredis hook that holds every DEL (alone or in a pipeline)
// until release is closed, and records how many keys each DEL batch named.
type delGate struct {
	entered chan struct{} // one send per DEL batch, before it is held
	release chan struct{}

	mu      sync.Mutex
	batches []int // keys per batch, in order
}

func newDelGate() *delGate {
	return &delGate{entered: make(chan struct{}, 64), release: make(chan struct{})}
}

func (g *delGate) hold(keys int) {
	g.mu.Lock()
	g.batches = append(g.batches, keys)
	g.mu.Unlock()
	g.entered <- struct{}{}
	<-g.release
}

func (g *delGate) sizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.batches)
}

func (g *delGate) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (g *delGate) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if cmd.Name() == "del" {
			g.hold(len(cmd.Args()) - 1)
		}
		return next(ctx, cmd)
	}
}

func (g *delGate) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		keys := 0
		for _, c := range cmds {
			if c.Name() == "del" {
				keys += len(c.Args()) - 1
			}
		}
		if keys > 0 {
			g.hold(keys)
		}
		return next(ctx, cmds)
	}
}

// TestOutcomeDeletedOffPath: a Reveal or Burn returns its answer without
// waiting for the DEL of its outcome key; the keys of calls answered while
// a DEL is on its way share the next one; and Close waits for the DELs, so
// that no outcome of an answered call is left behind.
func TestOutcomeDeletedOffPath(t *testing.T) {
	for name, c := range clients(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			gate := newDelGate()
			c.AddHook(gate)
			st := newStore(t, c)
			now := t0.Add(time.Second)

			var secrets []*onetime.SealedSecret
			var receipts []*onetime.SealedMetadata
			for i := range 5 {
				s, m := storetest.NewPair("", t0, time.Hour)
				if i == 4 {
					s.Check = []byte("right")
				}
				require.NoError(t, st.Create(ctx, s, m))
				secrets, receipts = append(secrets, s), append(receipts, m)
			}

			// The first reveal's DEL is held by the gate. Had Reveal waited
			// for it, it would not return until the gate opens, which only
			// happens below: the guard turns that hang into a failure.
			answered := make(chan error, 1)
			go func() {
				_, err := st.Reveal(ctx, secrets[0].ID, onetime.Credentials{}, now, nil)
				answered <- err
			}()
			select {
			case err := <-answered:
				require.NoError(t, err)
			case <-time.After(time.Minute):
				close(gate.release)
				t.Fatal("Reveal waited for the DEL of its outcome key")
			}
			<-gate.entered // the first DEL is on its way, and held

			// Calls answered meanwhile: a wrong passphrase, reveals, a burn.
			for _, s := range secrets[1:3] {
				got, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
				require.NoError(t, err)
				assert.Equal(t, s.Sealed, got.Sealed)
			}
			_, err := st.Burn(ctx, receipts[3].ID, now, nil)
			require.NoError(t, err)
			_, err = st.Reveal(ctx, secrets[4].ID, onetime.Credentials{Check: []byte("wrong")}, now, nil)
			require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
			left, err := outcomeKeys(ctx, c, st.prefix)
			require.NoError(t, err)
			assert.Len(t, left, 5, "the outcomes of the calls whose DEL is pending, and the held one")

			close(gate.release)
			require.NoError(t, st.Close())
			assert.Equal(t, []int{1, 4}, gate.sizes(), "keys per DEL: the first alone, then those answered meanwhile together")
			left, err = outcomeKeys(ctx, c, st.prefix)
			require.NoError(t, err)
			assert.Empty(t, left, "outcome keys left once the Store is closed")
			storetest.CheckClosed(t, st, secrets[4], receipts[4])
		})
	}
}
