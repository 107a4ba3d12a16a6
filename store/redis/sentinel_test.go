package redis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/storetest"
)

// TestSentinel runs the store, unchanged, on a Sentinel failover client (a
// primary, a replica, one Sentinel): the conformance suite, then a forced
// failover in the middle of use.
func TestSentinel(t *testing.T) {
	primary := redistest.Standalone(t)
	if primary.External() {
		t.Skip("needs servers of its own")
	}
	host, port, _ := strings.Cut(primary.Addr, ":")
	redistest.Standalone(t, "--replicaof", host, port)
	sentinel := redistest.Sentinel(t, "onetime", primary)
	c := goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName:    "onetime",
		SentinelAddrs: []string{sentinel.Addr},
		DialTimeout:   500 * time.Millisecond,
		ReadTimeout:   time.Second,
		MaxRetries:    -1,
	})
	t.Cleanup(func() { c.Close() })

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) onetime.Store { return newStore(t, c) })
	})

	t.Run("Failover", func(t *testing.T) {
		ctx := context.Background()
		st := newStore(t, c)
		var secrets []*onetime.SealedSecret
		for range 50 {
			s, m := storetest.NewPair("owner", t0, time.Hour)
			require.NoError(t, st.Create(ctx, s, m))
			secrets = append(secrets, s)
		}
		// Let the replica have everything, then swap the roles.
		for synced := time.Now().Add(20 * time.Second); ; {
			n, err := c.Do(ctx, "WAIT", 1, 500).Int64()
			if err == nil && n >= 1 {
				break
			}
			require.False(t, time.Now().After(synced), "the replica did not catch up: %v", err)
		}
		sc := goredis.NewSentinelClient(&goredis.Options{Addr: sentinel.Addr})
		defer sc.Close()
		old, err := sc.GetMasterAddrByName(ctx, "onetime").Result()
		require.NoError(t, err)
		require.NoError(t, sc.Failover(ctx, "onetime").Err())
		deadline := time.Now().Add(30 * time.Second)
		var outage int
		// Redis replicates asynchronously: a reveal the old primary made
		// in the moments before it was demoted may never reach the new
		// one, which then still holds the secret (doc.go says so). A
		// reveal is counted as durable once WAIT confirms a replica has
		// it, as a caller needing that guarantee would do.
		durable := make([]bool, len(secrets))
		for i := 0; i < len(secrets); {
			_, err := st.Reveal(ctx, secrets[i].ID, onetime.Credentials{}, t0, nil)
			switch {
			case err == nil:
				n, werr := c.Do(ctx, "WAIT", 1, 1000).Int64()
				durable[i] = werr == nil && n >= 1
				i++
			case errors.Is(err, onetime.ErrNotFound):
				require.FailNow(t, "lost or revealed twice across the failover", "secret %d", i)
			default:
				outage++
				text := err.Error()
				assert.True(t, strings.HasPrefix(text, "redis: "), "failover error %q not wrapped", text)
				assert.NotContains(t, text, string(secrets[i].ID[8:]), "failover error names an id")
				require.False(t, time.Now().After(deadline), "still failing after the failover: %v", err)
				time.Sleep(50 * time.Millisecond)
			}
			if i == 10 {
				// Hold the reveals until Sentinel has switched, so that the
				// rest run against the new primary.
				for {
					now, err := sc.GetMasterAddrByName(ctx, "onetime").Result()
					if err == nil && strings.Join(now, ":") != strings.Join(old, ":") {
						break
					}
					require.False(t, time.Now().After(deadline), "Sentinel did not fail over")
					time.Sleep(50 * time.Millisecond)
				}
			}
		}
		t.Logf("failover: %d errors while the client followed the new primary", outage)
		list, err := st.Recent(ctx, "owner", t0, 100)
		require.NoError(t, err, "Recent after the failover")
		require.Len(t, list, len(secrets), "Recent after the failover")
		state := map[onetime.ID]onetime.State{}
		for _, m := range list {
			state[m.ID] = m.State
		}
		lost := 0
		for i, s := range secrets {
			switch {
			case state[s.MetadataID] == onetime.StateReceived:
			case durable[i]:
				require.FailNow(t, "a reveal a replica had confirmed was lost", "receipt %d is %v", i, state[s.MetadataID])
			default:
				lost++
			}
		}
		t.Logf("failover: %d reveals made before the switch and not replicated were lost", lost)
	})
}
