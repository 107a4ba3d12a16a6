package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/pgtest"
	"github.com/onetimego/onetime/store/postgres"
	"github.com/onetimego/onetime/store/storetest"
)

// createAsBefore writes a pair with the Create statement of the releases
// of schema versions 1 and 2, into a store whose schema is at either: the
// Store's own Create writes the proof column, which they lack.
func createAsBefore(t *testing.T, pool *pgxpool.Pool, st *postgres.Store, s *onetime.SealedSecret, m *onetime.SealedMetadata) {
	t.Helper()
	var check []byte
	if len(s.Check) > 0 {
		check = s.Check
	}
	var owner *string
	if m.Owner != "" {
		owner = &m.Owner
	}
	_, err := pool.Exec(context.Background(), `WITH s AS (
		INSERT INTO `+st.Table("secrets")+` (id, expires_at, attempts, max_attempts, metadata_id, share_domain, chk, sealed)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8))
		INSERT INTO `+st.Table("receipts")+` (id, created, updated, secret_expires_at, expires_at, received, burned,
			state, passphrase, secret_id, owner, share_domain, sealed, owner_sealed)
		VALUES ($9, $10, $11, $12, $13, NULL, NULL, $14, $15, $16, $17, $18, $19, $20)`,
		rawID(t, s.ID), s.ExpiresAt, int32(s.Attempts), int32(s.MaxAttempts), rawID(t, m.ID), s.ShareDomain, check, s.Sealed,
		rawID(t, m.ID), m.Created, m.Updated, m.SecretExpiresAt, m.ExpiresAt,
		int16(m.State), m.PassphraseRequired, rawID(t, s.ID), owner, m.ShareDomain, m.Sealed, m.OwnerSealed)
	require.NoError(t, err, "a Create as before version 3")
}

// hasProofColumn reports whether the store's secrets table has the proof
// column.
func hasProofColumn(t *testing.T, pool *pgxpool.Pool, st *postgres.Store) bool {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_attribute
		WHERE attrelid = $1::regclass AND attname = 'proof' AND NOT attisdropped`, st.Table("secrets")).Scan(&n))
	return n == 1
}

// The reveal functions of the earlier releases, as their processes call
// them: version 1's with 3 arguments, version 2's with 6.
const (
	revealV1 = `SELECT outcome FROM %s($1, $2, $3)`
	revealV2 = `SELECT o_outcome FROM %s($1, $2, $3, $4, $5, NULL)`
)

// A database at schema version 2, the last before the proof, with data
// that release wrote (pairs, a counted wrong attempt, a recorded reveal and
// a recorded burn), is upgraded in place by New: its secrets need no proof
// (one presented is ignored) and keep their attempts, the records made
// before the upgrade are still answered, and secrets shared after it are
// bound to their proof, which the functions of the earlier releases,
// still called by their processes during a rolling upgrade, cannot open.
func TestUpgradeFromVersion2(t *testing.T) {
	ctx := context.Background()
	pool, opts, old := atVersion(t, 2)
	require.False(t, hasProofColumn(t, pool, old), "version 2 has no proof column: the test proves nothing")
	v1, v2 := fmt.Sprintf(revealV1, old.Table("reveal")), fmt.Sprintf(revealV2, old.Table("reveal"))

	// What version 2 wrote.
	var plain []*onetime.SealedSecret
	for range 3 {
		s, m := storetest.NewPair("owner", t0, time.Hour)
		createAsBefore(t, pool, old, s, m)
		plain = append(plain, s)
	}
	locked, lockedM := storetest.NewPair("owner", t0, time.Hour)
	locked.Check, lockedM.PassphraseRequired = []byte("right"), true
	createAsBefore(t, pool, old, locked, lockedM)
	var outcome int
	require.NoError(t, pool.QueryRow(ctx, v2, rawID(t, locked.ID), []byte("wrong"), t0, nil, nil).Scan(&outcome))
	require.Equal(t, 2, outcome, "a wrong attempt at version 2")
	a := replayFor(plain[1].ID, t0)
	require.NoError(t, pool.QueryRow(ctx, v2, rawID(t, plain[1].ID), nil, t0, rawID(t, a.ID), a.ExpiresAt).Scan(&outcome))
	require.Equal(t, 1, outcome, "a recorded reveal at version 2")
	burnS, burnM := storetest.NewPair("owner", t0, time.Hour)
	createAsBefore(t, pool, old, burnS, burnM)
	b := replayFor(burnM.ID, t0)
	var burned []byte
	require.NoError(t, pool.QueryRow(ctx, `SELECT id FROM `+old.Table("burn")+`($1, $2, $3, $4, NULL)`,
		rawID(t, burnM.ID), t0, rawID(t, b.ID), b.ExpiresAt).Scan(&burned))
	require.Equal(t, rawID(t, burnM.ID), burned, "a recorded burn at version 2")
	require.NoError(t, old.Close())

	st, err := postgres.New(ctx, pool, opts)
	require.NoError(t, err, "the upgrade")
	require.Equal(t, postgres.SchemaVersion, schemaVersion(t, pool, st))
	require.True(t, hasProofColumn(t, pool, st), "the proof column after the upgrade")

	stray := []byte("a proof the secret does not have")
	sec, err := st.Reveal(ctx, plain[0].ID, onetime.Credentials{Proof: stray}, t0, nil)
	require.NoError(t, err, "a secret of version 2, a proof presented")
	assert.Equal(t, plain[0].Sealed, sec.Sealed)
	assert.Empty(t, sec.Proof, "a secret of version 2 came back with a proof")

	// The records made before the upgrade, the reveal's secret row
	// recorded without the proof column, are answered as recorded.
	sec, err = st.Reveal(ctx, plain[1].ID, onetime.Credentials{}, t0.Add(time.Second), a)
	require.NoError(t, err, "the repeat of a reveal recorded at version 2")
	assert.Equal(t, plain[1].Sealed, sec.Sealed)
	assert.Equal(t, plain[1].ID, sec.ID)
	assert.Empty(t, sec.Proof)
	_, err = st.Reveal(ctx, plain[1].ID, onetime.Credentials{}, t0, replayFor(plain[1].ID, t0))
	assert.ErrorIs(t, err, onetime.ErrNotFound, "revealed at version 2, revealed again after the upgrade")
	got, err := st.Burn(ctx, burnM.ID, t0.Add(time.Second), b)
	require.NoError(t, err, "the repeat of a burn recorded at version 2")
	assert.Equal(t, onetime.StateBurned, got.State)
	assert.True(t, got.Burned.Equal(t0))

	info, err := st.Peek(ctx, locked.ID, t0)
	require.NoError(t, err)
	assert.Equal(t, 1, info.Attempts, "the attempt counted at version 2")
	assert.True(t, info.PassphraseRequired)
	assert.False(t, info.ProofRequired, "a secret of version 2 requires a proof")
	_, err = st.Reveal(ctx, locked.ID, onetime.Credentials{Check: []byte("wrong"), Proof: stray}, t0, nil)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "a wrong passphrase on a secret of version 2")
	sec, err = st.Reveal(ctx, locked.ID, onetime.Credentials{Check: []byte("right"), Proof: stray}, t0, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, sec.Attempts)

	// A process of version 2 still reveals a secret of the server-side
	// mode through its function.
	require.NoError(t, pool.QueryRow(ctx, v2, rawID(t, plain[2].ID), nil, t0, nil, nil).Scan(&outcome))
	assert.Equal(t, 1, outcome, "the version 2 function after the upgrade")

	// A zero-knowledge secret shared after the upgrade: the functions of
	// the earlier releases find nothing, with or without the right check
	// and a replay id, and count nothing.
	zs, zm := storetest.NewPair("owner", t0, time.Hour)
	zs.Check, zm.PassphraseRequired = []byte("zk check"), true
	proof := storetest.WithProof(zs)
	require.NoError(t, st.Create(ctx, zs, zm))
	var replays []*onetime.Replay
	for _, c := range [][]byte{nil, []byte("wrong"), []byte("zk check")} {
		require.NoError(t, pool.QueryRow(ctx, v1, rawID(t, zs.ID), c, t0).Scan(&outcome))
		assert.Zero(t, outcome, "the version 1 function opened a secret bound to a proof")
		rp := replayFor(zs.ID, t0)
		require.NoError(t, pool.QueryRow(ctx, v2, rawID(t, zs.ID), c, t0, rawID(t, rp.ID), rp.ExpiresAt).Scan(&outcome))
		assert.Zero(t, outcome, "the version 2 function opened a secret bound to a proof")
		replays = append(replays, rp)
	}
	info, err = st.Peek(ctx, zs.ID, t0)
	require.NoError(t, err, "an old function consumed a secret bound to a proof")
	assert.Zero(t, info.Attempts, "an old function counted an attempt on a secret bound to a proof")
	assert.True(t, info.ProofRequired)
	_, err = st.Reveal(ctx, zs.ID, onetime.Credentials{Check: zs.Check}, t0, nil)
	require.ErrorIs(t, err, onetime.ErrNotFound, "the check without the proof")
	sec, err = st.Reveal(ctx, zs.ID, onetime.Credentials{Check: []byte("zk check"), Proof: proof}, t0, nil)
	require.NoError(t, err, "the proof and the check")
	assert.Equal(t, proof, sec.Proof)
	// Nothing was recorded under the old functions' replay ids: a repeat
	// under one finds the secret gone, as a new call would.
	for _, rp := range replays {
		_, err := st.Reveal(ctx, zs.ID, onetime.Credentials{}, t0, rp)
		assert.ErrorIs(t, err, onetime.ErrNotFound, "an old function's call recorded an outcome")
	}
}

// atVersion returns a store whose schema (of its own, on the shared
// server) is at version, as the release that wrote that version left it,
// with its pool and options, for New to upgrade.
func atVersion(t *testing.T, version int) (*pgxpool.Pool, *postgres.Options, *postgres.Store) {
	t.Helper()
	srv := pgtest.Shared(t)
	ctx := context.Background()
	pool := srv.Pool(t, "postgres", nil)
	opts := &postgres.Options{Schema: srv.Schema(t)}
	old, err := postgres.NewAtVersion(ctx, pool, opts, version)
	require.NoError(t, err)
	require.Equal(t, version, schemaVersion(t, pool, old))
	return pool, opts, old
}

// schemaVersion returns the version of st's schema, as stored.
func schemaVersion(t *testing.T, pool *pgxpool.Pool, st *postgres.Store) int {
	t.Helper()
	var v int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT version FROM `+st.Table("schema_version")).Scan(&v))
	return v
}
