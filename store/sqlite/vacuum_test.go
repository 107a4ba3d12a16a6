package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
)

// TestAutoVacuumConversion: a file that an earlier version of this
// package wrote (auto_vacuum NONE, the schema in place, records in it) is
// rebuilt INCREMENTAL once by Open, and keeps its records.
func TestAutoVacuumConversion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	c, err := db.Conn(ctx)
	require.NoError(t, err)
	_, err = c.ExecContext(ctx, `PRAGMA journal_mode = WAL`)
	require.NoError(t, err)
	require.NoError(t, migrate(ctx, c)) // as before this change: no auto_vacuum
	sid := onetime.ID("0123456789abcdef0123456789abcdef01234567")
	mid := onetime.ID("01234567" + "89abcdef0123456789abcdef01234567")
	expires := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = c.ExecContext(ctx, `INSERT INTO onetime_records (id, kind, pair_id, expires_at, sealed, share_domain, attempts, max_attempts)
		VALUES (?, 1, ?, ?, x'00', '', 0, 3)`, key(sid), key(mid), micros(expires))
	require.NoError(t, err)
	var mode int
	require.NoError(t, c.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode))
	require.Equal(t, 0, mode, "the old file is not NONE: the test proves nothing")
	require.NoError(t, c.Close())
	require.NoError(t, db.Close())

	st, err := Open(ctx, path, nil)
	require.NoError(t, err)
	defer st.Close()
	require.True(t, st.incremental)
	w, _, err := st.Pragma("auto_vacuum")
	require.NoError(t, err)
	require.Equal(t, "2", w)
	info, err := st.Peek(ctx, sid, expires.Add(-time.Hour))
	require.NoError(t, err, "the rebuild lost a record")
	require.Equal(t, 3, info.MaxAttempts)
}
