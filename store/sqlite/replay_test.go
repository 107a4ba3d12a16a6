package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/sqlite"
	"github.com/onetimego/onetime/store/storetest"
)

// replayFor returns a replay in the slot of id, from now for a minute.
func replayFor(id onetime.ID, now time.Time) *onetime.Replay {
	s, _ := storetest.NewPair("", now, time.Hour)
	return &onetime.Replay{ID: onetime.ID(id.Slot() + string(s.ID[onetime.SlotLen:])), ExpiresAt: now.Add(time.Minute)}
}

func countReplays(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM onetime_replays`).Scan(&n))
	return n
}

// TestReplaysSwept: Sweep deletes replay answers once expired, and only
// then, without counting them; the answer's sealed bytes then leave the
// file and its log as a consumed record's do.
func TestReplaysSwept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "onetime.db")
	st := open2(t, path)
	db := rawDB(t, path)
	marker := bytes.Repeat([]byte("replayed-sealed-bytes-"), 100)
	s, m := storetest.NewPair("", t0, week)
	s.Sealed = marker
	require.NoError(t, st.Create(ctx, s, m))
	rp := replayFor(s.ID, t0)
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, rp)
	require.NoError(t, err)
	_, m2 := mustCreate(t, st, "")
	_, err = st.Burn(ctx, m2.ID, t0, replayFor(m2.ID, t0))
	require.NoError(t, err)
	require.Equal(t, 2, countReplays(t, db))

	n, err := st.Sweep(ctx, rp.ExpiresAt.Add(-time.Microsecond))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 2, countReplays(t, db), "Sweep took replay answers before their expiry")
	encoded := []byte(base64.StdEncoding.EncodeToString(marker)[:200])
	require.NotEmpty(t, fileHolds(t, path, encoded), "the answer is not in the files: the test proves nothing")

	n, err = st.Sweep(ctx, rp.ExpiresAt)
	require.NoError(t, err)
	assert.Zero(t, n, "Sweep counted replay answers as records")
	assert.Zero(t, countReplays(t, db), "replay answers left after Sweep at their expiry")
	assert.Empty(t, fileHolds(t, path, encoded), "a swept answer's bytes are left in the files")
}

// TestDeadlineBeforeCommit: a Reveal or Burn whose deadline passes while
// the writer waits for the database (another process holds its write
// lock) changes nothing once it gets it, though the writer had taken it.
func TestDeadlineBeforeCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "onetime.db")
	st, err := sqlite.Open(ctx, path, &sqlite.Options{BusyTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	s, m := mustCreate(t, st, "")
	other := rawDB(t, path)
	other.SetMaxOpenConns(1)
	for _, op := range []string{"Reveal", "Burn"} {
		_, err := other.Exec("BEGIN IMMEDIATE")
		require.NoError(t, err)
		done := make(chan error)
		go func() {
			dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			var err error
			if op == "Reveal" {
				_, err = st.Reveal(dctx, s.ID, onetime.Credentials{}, t0, replayFor(s.ID, t0))
			} else {
				_, err = st.Burn(dctx, m.ID, t0, replayFor(m.ID, t0))
			}
			done <- err
		}()
		require.Eventually(t, func() bool { return st.WaitingWriters() == 0 }, time.Second, time.Millisecond)
		time.Sleep(300 * time.Millisecond) // the deadline passes while the writer waits
		_, err = other.Exec("ROLLBACK")
		require.NoError(t, err)
		err = <-done
		require.ErrorIs(t, err, context.DeadlineExceeded, op)
		assert.Contains(t, err.Error(), "sqlite: ")
	}
	info, err := st.Peek(ctx, s.ID, t0)
	require.NoError(t, err, "a call whose deadline passed before its commit consumed the secret")
	assert.Zero(t, info.Attempts)
	assert.Zero(t, countReplays(t, other), "a late call recorded its answer")
}

// TestDeadlineSparesTheBatch: in a batch of writes, the one whose
// deadline passes before the commit is taken out and the others commit.
func TestDeadlineSparesTheBatch(t *testing.T) {
	ctx := context.Background()
	st := open(t, nil)
	t.Cleanup(func() { st.Close() })
	late, _ := mustCreate(t, st, "")
	onTime, _ := mustCreate(t, st, "")
	release := st.HoldWriter()
	lateErr, onTimeErr, slowErr := make(chan error), make(chan error), make(chan error)
	// Queued in this order behind the held writer, they run in one batch:
	// the late reveal, a write that outlasts its deadline, another reveal.
	go func() {
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := st.Reveal(dctx, late.ID, onetime.Credentials{}, t0, nil)
		lateErr <- err
	}()
	require.Eventually(t, func() bool { return st.WaitingWriters() == 1 }, time.Second, time.Millisecond)
	go func() { slowErr <- st.SlowWrite(400 * time.Millisecond) }()
	require.Eventually(t, func() bool { return st.WaitingWriters() == 2 }, time.Second, time.Millisecond)
	go func() {
		_, err := st.Reveal(ctx, onTime.ID, onetime.Credentials{}, t0, nil)
		onTimeErr <- err
	}()
	require.Eventually(t, func() bool { return st.WaitingWriters() == 3 }, time.Second, time.Millisecond)
	release()

	require.ErrorIs(t, <-lateErr, context.DeadlineExceeded, "the late reveal")
	require.NoError(t, <-slowErr)
	require.NoError(t, <-onTimeErr, "the reveal on time")
	_, err := st.Peek(ctx, late.ID, t0)
	require.NoError(t, err, "the late reveal consumed its secret")
	_, err = st.Peek(ctx, onTime.ID, t0)
	require.ErrorIs(t, err, onetime.ErrNotFound, "the reveal on time left its secret")
}

// TestReplayFilesHoldNoPlaintext: what the files hold while a replayed
// reveal and burn are remembered is sealed: no value, passphrase, key or
// idempotency key, in the database file or its log.
func TestReplayFilesHoldNoPlaintext(t *testing.T) {
	bg := context.Background()
	path := filepath.Join(t.TempDir(), "onetime.db")
	st := open2(t, path)
	now := t0
	svc, err := onetime.New(st, bytes.Repeat([]byte("k"), 32), &onetime.Options{Now: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	value, pass, idem := "plaintext-value-42", "plaintext-passphrase", "idempotency-key-in-clear"
	ctx := onetime.WithIdempotencyKey(bg, idem)
	r, err := svc.Share(ctx, onetime.ShareRequest{Owner: "cust", Value: []byte(value), Passphrase: pass})
	require.NoError(t, err)
	for range 2 {
		v, err := svc.Reveal(ctx, r.SecretKey, pass)
		require.NoError(t, err)
		require.Equal(t, value, string(v.Value))
	}
	g, err := svc.Generate(ctx, onetime.GenerateRequest{})
	require.NoError(t, err)
	for range 2 {
		_, err := svc.Burn(ctx, g.MetadataKey)
		require.NoError(t, err)
	}
	require.Equal(t, 2, countReplays(t, rawDB(t, path)))
	for _, s := range []string{value, pass, idem, string(g.Value),
		string(r.SecretKey), string(r.MetadataKey), string(g.SecretKey), string(g.MetadataKey)} {
		assert.Empty(t, fileHolds(t, path, []byte(s)), "the files hold a secret in clear")
	}
}
