package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/redistest"
)

// The server refuses a Redis that persists by RDB snapshots without AOF
// (Redis 7's default and Debian's): a crash would bring back every secret
// revealed since the last snapshot (store/redis TestReplayAfterCrash shows
// it). -redis-accept-replay starts it anyway, with a warning.
func TestServerRedisReplayRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		args    []string
		refused bool
		setup   string // logged
	}{
		{"rdb only", []string{"--save", "900 1"}, true, "rdb snapshots (save 900 1), no aof"},
		{"redis 7 default", []string{"--save", "3600 1 300 100 60 10000"}, true, "rdb snapshots (save 3600 1 300 100 60 10000), no aof"},
		{"no persistence", nil, false, "no persistence"},
		{"aof everysec", []string{"--appendonly", "yes", "--appendfsync", "everysec"}, false, "aof everysec"},
		{"aof always", []string{"--appendonly", "yes", "--appendfsync", "always"}, false, "aof always"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Standalone(t, tc.args...)
			if srv.External() {
				t.Skip("needs a redis-server of its own, with chosen persistence")
			}
			for _, accept := range []bool{false, true} {
				var logs bytes.Buffer
				log := slog.New(slog.NewJSONHandler(&logs, nil))
				st, rdb, err := openStore(ctx, config{store: "redis", redis: srv.Addr, acceptReplay: accept}, log)
				if tc.refused && !accept {
					require.Error(t, err)
					for _, want := range []string{"refusing to start", "appendonly yes", `save ""`,
						"-redis-accept-replay", srv.Addr, tc.setup} {
						assert.Contains(t, err.Error(), want)
					}
					continue
				}
				require.NoError(t, err)
				st.Close()
				rdb.Close()
				assert.Contains(t, logs.String(), tc.setup)
				if tc.refused {
					assert.Contains(t, logs.String(), `"level":"WARN","msg":"Redis may replay revealed secrets`)
				} else {
					assert.NotContains(t, logs.String(), `"level":"WARN"`)
				}
			}
		})
	}
}

// Where CONFIG is refused the save points are unknown: without AOF the
// server refuses to start too.
func TestServerRedisReplayConfigRefused(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Standalone(t)
	if srv.External() {
		t.Skip("needs a redis-server of its own")
	}
	require.NoError(t, srv.Client(t).Do(ctx, "ACL", "SETUSER", "app", "on", ">app-password", "~*", "&*", "+@all", "-config").Err())
	_, _, err := openStore(ctx, config{store: "redis", redis: "redis://app:app-password@" + srv.Addr + "/0"}, slog.New(slog.DiscardHandler))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CONFIG refused")
	assert.Contains(t, err.Error(), "-redis-accept-replay")
	assert.NotContains(t, err.Error(), "app-password")
}
