package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
)

// TestUpgradeFromVersion1: a file that the schema of version 1 made, with
// a live pair in it, is brought to the current version by Open, keeps its
// pair, and records replays from then on.
func TestUpgradeFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	c, err := db.Conn(ctx)
	require.NoError(t, err)
	for _, q := range []string{
		`PRAGMA journal_mode = WAL`,
		`CREATE TABLE onetime_schema_version (version INTEGER NOT NULL)`,
		loadMigrations()[0].SQL,
		`INSERT INTO onetime_schema_version (version) VALUES (1)`,
	} {
		_, err := c.ExecContext(ctx, q)
		require.NoError(t, err)
	}
	sid := onetime.ID("0123456789abcdef0123456789abcdef01234567")
	mid := onetime.ID("01234567" + "00000000000000000000000000000001")
	now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	expires := now.Add(time.Hour)
	_, err = c.ExecContext(ctx, `INSERT INTO onetime_records (id, kind, pair_id, expires_at, sealed, share_domain, attempts, max_attempts)
		VALUES (?, 1, ?, ?, x'0102', '', 0, 3)`, key(sid), key(mid), micros(expires))
	require.NoError(t, err)
	_, err = c.ExecContext(ctx, `INSERT INTO onetime_records (id, kind, pair_id, expires_at, sealed, share_domain, state, passphrase,
		created, updated, secret_expires_at) VALUES (?, 2, ?, ?, x'03', '', 1, 0, ?, ?, ?)`,
		key(mid), key(sid), micros(expires.Add(time.Hour)), micros(now), micros(now), micros(expires))
	require.NoError(t, err)
	var tables int
	require.NoError(t, c.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'onetime_replays'`).Scan(&tables))
	require.Zero(t, tables, "the version 1 file has the replays table: the test proves nothing")
	require.NoError(t, c.Close())
	require.NoError(t, db.Close())

	st, err := Open(ctx, path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	var version int
	err = st.w.exclusive(ctx, func(ctx context.Context, c *sql.Conn) error {
		return c.QueryRowContext(ctx, `SELECT version FROM onetime_schema_version`).Scan(&version)
	})
	require.NoError(t, err)
	assert.Equal(t, SchemaVersion, version)

	rp := &onetime.Replay{ID: onetime.ID("01234567" + "ffffffffffffffffffffffffffffffff"), ExpiresAt: now.Add(time.Minute)}
	sec, err := st.Reveal(ctx, sid, onetime.Credentials{}, now, rp)
	require.NoError(t, err, "the upgrade lost the pair")
	assert.Equal(t, []byte{1, 2}, sec.Sealed)
	again, err := st.Reveal(ctx, sid, onetime.Credentials{}, now.Add(time.Second), rp)
	require.NoError(t, err, "a repeat on the upgraded file")
	assert.Equal(t, sec, again)
	m, err := st.Receipt(ctx, mid, now)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateReceived, m.State)
}
