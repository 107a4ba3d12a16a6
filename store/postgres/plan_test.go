package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With enough rows for the planner to choose, Recent is a range scan of
// the owner index, already in order (no sort), and Sweep finds expired
// rows (and replay records) through the expiry indexes: their cost follows
// what they return, not the size of the tables.
func TestQueryPlans(t *testing.T) {
	st, srv := newStore(t, nil)
	ctx := context.Background()
	pool := srv.Pool(t, "postgres", nil)
	const rows = 20000
	// 20 owners, 1 in 1000 rows expired at t0 + 90 minutes.
	_, err := pool.Exec(ctx, `
		INSERT INTO `+st.Table("secrets")+` (id, expires_at, attempts, max_attempts, metadata_id, share_domain, sealed)
		SELECT decode(md5('s' || i) || substr(md5('x' || i), 1, 8), 'hex'),
		       $1::timestamptz + CASE WHEN i % 1000 = 0 THEN interval '1 hour' ELSE interval '1 day' END,
		       0, 10, decode(md5('m' || i) || substr(md5('y' || i), 1, 8), 'hex'), '', '\x00'
		FROM generate_series(1, $2::int) i`, t0, rows)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `
		INSERT INTO `+st.Table("receipts")+` (id, created, updated, secret_expires_at, expires_at, state, passphrase,
		       secret_id, owner, share_domain, sealed)
		SELECT decode(md5('m' || i) || substr(md5('y' || i), 1, 8), 'hex'),
		       $1::timestamptz + i * interval '1 ms', $1::timestamptz,
		       $1::timestamptz + interval '1 day',
		       $1::timestamptz + CASE WHEN i % 1000 = 0 THEN interval '1 hour' ELSE interval '2 days' END,
		       1, false, decode(md5('s' || i) || substr(md5('x' || i), 1, 8), 'hex'), 'owner' || (i % 20), '', '\x00'
		FROM generate_series(1, $2::int) i`, t0, rows)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `
		INSERT INTO `+st.Table("replays")+` (id, expires_at, outcome)
		SELECT decode(md5('r' || i) || substr(md5('z' || i), 1, 8), 'hex'),
		       $1::timestamptz + CASE WHEN i % 1000 = 0 THEN interval '1 hour' ELSE interval '1 day' END, 2
		FROM generate_series(1, $2::int) i`, t0, rows)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `ANALYZE `+st.Table("secrets")+`; ANALYZE `+st.Table("receipts")+`; ANALYZE `+st.Table("replays"),
		pgx.QueryExecModeSimpleProtocol)
	require.NoError(t, err)

	now := t0.Add(90 * time.Minute)
	explain := func(query string, args ...any) string {
		t.Helper()
		r, err := pool.Query(ctx, "EXPLAIN "+query, args...)
		require.NoError(t, err)
		lines, err := pgx.CollectRows(r, pgx.RowTo[string])
		require.NoError(t, err)
		return strings.Join(lines, "\n")
	}
	q := st.Queries()

	plan := explain(q["recent"], "owner7", now, int64(100))
	assert.Contains(t, plan, "Index Scan using "+strings.Trim(st.Index("receipts_owner"), `"`), plan)
	assert.NotContains(t, plan, "Sort", "Recent sorts instead of reading the index in order:\n"+plan)
	assert.NotContains(t, plan, "Seq Scan", plan)
	assert.Contains(t, plan, "Index Scan using "+strings.Trim(st.Index("secrets_pkey"), `"`), "SecretPresent is a primary key lookup:\n"+plan)

	for name, index := range map[string]string{"sweepSecrets": "secrets_expiry", "sweepReceipts": "receipts_expiry",
		"sweepReplays": "replays_expiry"} {
		plan := explain(q[name], now, int64(1000))
		assert.Contains(t, plan, "Index Scan using "+strings.Trim(st.Index(index), `"`), name+":\n"+plan)
		assert.NotContains(t, plan, "Seq Scan", name+":\n"+plan)
	}

	// And they return what the plans promise.
	list, err := st.Recent(ctx, "owner7", now, 100)
	require.NoError(t, err)
	assert.Len(t, list, 100)
	n, err := st.Sweep(ctx, now)
	require.NoError(t, err)
	assert.Equal(t, 2*rows/1000, n, "secrets and receipts swept (replay records are not counted)")
	var left int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM `+st.Table("replays")).Scan(&left))
	assert.Equal(t, rows-rows/1000, left, "replay records left after Sweep")
}
