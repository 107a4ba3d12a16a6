package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/storetest"
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

// fileAtVersion creates a database file at path with the schema of the
// given version, as the code of that version made it (its migrations,
// which never change once released), and returns a connection to it.
func fileAtVersion(t *testing.T, path string, version int) (*sql.DB, *sql.Conn) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	c, err := db.Conn(ctx)
	require.NoError(t, err)
	stmts := []string{`PRAGMA journal_mode = WAL`, `CREATE TABLE onetime_schema_version (version INTEGER NOT NULL)`}
	for _, m := range loadMigrations()[:version] {
		stmts = append(stmts, m.SQL)
	}
	for _, q := range append(stmts, fmt.Sprintf(`INSERT INTO onetime_schema_version (version) VALUES (%d)`, version)) {
		_, err := c.ExecContext(ctx, q)
		require.NoError(t, err)
	}
	return db, c
}

// TestUpgradeFromVersion2: a file of schema version 2, the last before
// the proof of the zero-knowledge mode, with live secrets and a recorded
// replay in it, is brought to the current version in place by Open. Its
// secrets need no proof (a proof presented is ignored) and keep their
// passphrase and attempts, the replay is still answered, and secrets
// created after the upgrade are bound to their proof.
func TestUpgradeFromVersion2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v2.db")
	db, c := fileAtVersion(t, path, 2)
	now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	expires := now.Add(time.Hour)
	// Two pairs, as version 2 wrote them: one with a passphrase check and
	// an attempt counted, one without.
	pairs := []struct {
		sid, mid onetime.ID
		chk      []byte
	}{
		{"0123456789abcdef0123456789abcdef01234567", "01234567" + "00000000000000000000000000000001", []byte("right check")},
		{"89abcdef0123456789abcdef0123456789abcdef", "89abcdef" + "00000000000000000000000000000002", nil},
	}
	for _, p := range pairs {
		_, err := c.ExecContext(ctx, `INSERT INTO onetime_records (id, kind, pair_id, expires_at, sealed, share_domain, chk, attempts, max_attempts)
			VALUES (?, 1, ?, ?, x'0102', '', ?, 1, 3)`, key(p.sid), key(p.mid), micros(expires), p.chk)
		require.NoError(t, err)
		_, err = c.ExecContext(ctx, `INSERT INTO onetime_records (id, kind, pair_id, expires_at, sealed, share_domain, state, passphrase,
			created, updated, secret_expires_at) VALUES (?, 2, ?, ?, x'03', '', 1, ?, ?, ?, ?)`,
			key(p.mid), key(p.sid), micros(expires.Add(time.Hour)), p.chk != nil, micros(now), micros(now), micros(expires))
		require.NoError(t, err)
	}
	// An answer that version 2 recorded for a replayed reveal: the JSON of
	// a SealedSecret of then, which had no Proof.
	replayed := &onetime.Replay{ID: onetime.ID("fedcba98" + "ffffffffffffffffffffffffffffffff"), ExpiresAt: now.Add(time.Minute)}
	answer := `{"ID":"fedcba9800000000000000000000000000000003","MetadataID":"fedcba9800000000000000000000000000000004",` +
		`"Sealed":"BAU=","Check":null,"Attempts":0,"MaxAttempts":3,"ShareDomain":"","ExpiresAt":"2031-01-01T01:00:00Z"}`
	_, err := c.ExecContext(ctx, `INSERT INTO onetime_replays (id, expires_at, answer) VALUES (?, ?, ?)`,
		key(replayed.ID), micros(replayed.ExpiresAt), []byte(answer))
	require.NoError(t, err)
	var columns int
	require.NoError(t, c.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('onetime_records') WHERE name = 'proof'`).Scan(&columns))
	require.Zero(t, columns, "the version 2 file has the proof column: the test proves nothing")
	require.NoError(t, c.Close())
	require.NoError(t, db.Close())

	st, err := Open(ctx, path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	var version int
	err = st.w.exclusive(ctx, func(ctx context.Context, c *sql.Conn) error {
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('onetime_records') WHERE name = 'proof'`).Scan(&columns); err != nil {
			return err
		}
		return c.QueryRowContext(ctx, `SELECT version FROM onetime_schema_version`).Scan(&version)
	})
	require.NoError(t, err)
	assert.Equal(t, SchemaVersion, version)
	assert.Equal(t, 1, columns, "the proof column after the upgrade")

	// The secret with a passphrase: as it was, no proof required, and a
	// proof presented is ignored; wrong passphrases still count.
	p := pairs[0]
	info, err := st.Peek(ctx, p.sid, now)
	require.NoError(t, err, "the upgrade lost the secret")
	assert.Equal(t, onetime.SecretInfo{PassphraseRequired: true, Attempts: 1, MaxAttempts: 3, ExpiresAt: expires}, *info)
	stray := []byte("a proof the secret does not have")
	_, err = st.Reveal(ctx, p.sid, onetime.Credentials{Check: []byte("wrong"), Proof: stray}, now, nil)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	sec, err := st.Reveal(ctx, p.sid, onetime.Credentials{Check: p.chk, Proof: stray}, now, nil)
	require.NoError(t, err, "the right check on an upgraded secret")
	assert.Equal(t, []byte{1, 2}, sec.Sealed)
	assert.Equal(t, p.chk, sec.Check)
	assert.Empty(t, sec.Proof, "a secret of version 2 came back with a proof")
	assert.Equal(t, 2, sec.Attempts)
	m, err := st.Receipt(ctx, p.mid, now)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateReceived, m.State)

	// The secret without: revealed with no credentials at all.
	p = pairs[1]
	sec, err = st.Reveal(ctx, p.sid, onetime.Credentials{}, now, nil)
	require.NoError(t, err, "an upgraded secret without a passphrase")
	assert.Equal(t, p.mid, sec.MetadataID)

	// The answer recorded before the upgrade is served as recorded.
	sec, err = st.Reveal(ctx, "fedcba9800000000000000000000000000000003", onetime.Credentials{}, now, replayed)
	require.NoError(t, err, "a replay recorded by version 2")
	assert.Equal(t, []byte{4, 5}, sec.Sealed)
	assert.Empty(t, sec.Proof)

	// A secret created on the upgraded file is bound to its proof.
	s, sm := storetest.NewPair("", now, time.Hour)
	proof := storetest.WithProof(s)
	require.NoError(t, st.Create(ctx, s, sm))
	info, err = st.Peek(ctx, s.ID, now)
	require.NoError(t, err)
	assert.True(t, info.ProofRequired, "ProofRequired of a secret created after the upgrade")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
	require.ErrorIs(t, err, onetime.ErrNotFound, "a reveal without the proof")
	sec, err = st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof}, now, nil)
	require.NoError(t, err, "a reveal with the proof")
	assert.Equal(t, proof, sec.Proof)
}
