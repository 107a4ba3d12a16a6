package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/onetimego/onetime"
)

var _ onetime.Store = (*Store)(nil)

// Receipt states as stored; they are onetime.State values.
const (
	stateNew      = int(onetime.StateNew)
	stateViewed   = int(onetime.StateViewed)
	stateReceived = int(onetime.StateReceived)
	stateBurned   = int(onetime.StateBurned)
)

// key is the stored form of a well-formed id: the 20 bytes its hex
// spells. A malformed id names no record: Create refuses it, and the
// other methods answer ErrNotFound without asking the database.
func key(id onetime.ID) []byte {
	var b [20]byte
	hex.Decode(b[:], []byte(id))
	return b[:]
}

// id is the inverse of key.
func id(b []byte) onetime.ID { return onetime.ID(hex.EncodeToString(b)) }

// errReplayID is the answer to a replay whose id is not an ID.
var errReplayID = fmt.Errorf("sqlite: malformed replay id: %w", onetime.ErrInvalid)

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// nullMicros stores a zero time as NULL.
func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullBytes stores an empty check or proof as NULL: an empty check means
// no passphrase, an empty proof the server-side mode. Given as what a
// reveal presents, NULL matches no stored value.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return onetime.ErrClosed
	}
	return nil
}

// read runs fn with read statement k: on a reader connection, or, when
// the store has none (an in-memory database, a pool of one connection),
// in the writer, as an op of its own. fn may be run more than once, and
// reports a missing row as onetime.ErrNotFound. A malformed id (id is ""
// for Recent, which takes none) is not looked for: ErrNotFound.
func (s *Store) read(ctx context.Context, id onetime.ID, k int, fn func(context.Context, *sql.Stmt) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if k != rRecent && !id.Valid() {
		return onetime.ErrNotFound
	}
	if s.r == nil {
		return s.w.do(ctx, func(t *wtx) error { return fn(t.ctx, s.reads[k]) })
	}
	err := fn(ctx, s.reads[k])
	if err != nil && s.closed.Load() && !errors.Is(err, onetime.ErrNotFound) {
		return onetime.ErrClosed // Close closed the statement under us
	}
	return err
}

// affected returns the number of rows a statement changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// orExists returns err, or onetime.ErrExists for a statement that changed
// nothing because of a conflict.
func orExists(err error) error {
	if err == nil || isExists(err) {
		return onetime.ErrExists
	}
	return err
}

// isExists reports whether err is a violated primary key or unique
// constraint: an id already stored.
func isExists(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code()
	return c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || c == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// The statements of the writer, prepared once; the index of each in
// writeQueries is its constant.
const (
	wInsertSecret = iota
	wInsertReceipt
	wTakeSecret
	wReceived
	wWrongAttempt
	wDeleteSecret
	wBurnedByAttempts
	wViewRead
	wViewed
	wBurn
	wSweep
	wVacuum
	wFreePages
	wReplayed
	wRecord
	wSweepReplays
)

// In the SQL below, kind 1 is a secret and kind 2 a receipt.

// receiptColumns are the columns scanned by scanReceipt.
const receiptColumns = `id, pair_id, owner, state, passphrase, share_domain,
	created, updated, received, burned, secret_expires_at, expires_at,
	sealed, owner_sealed`

// secretPresent is whether the receipt r has a live secret at ?2.
const secretPresent = `EXISTS (SELECT 1 FROM onetime_records s
	WHERE s.id = r.pair_id AND s.kind = 1 AND s.expires_at > ?2)`

var writeQueries = [...]string{
	wInsertSecret: `INSERT INTO onetime_records
		(id, kind, pair_id, sealed, chk, proof, attempts, max_attempts, share_domain, expires_at)
		VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
	wInsertReceipt: `INSERT INTO onetime_records
		(id, kind, pair_id, owner, state, passphrase, share_domain, created, updated,
		 received, burned, secret_expires_at, expires_at, sealed, owner_sealed, seq)
		VALUES (?1, 2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
		 CASE WHEN ?3 IS NULL THEN 0 ELSE coalesce((SELECT seq + 1 FROM onetime_records
		  WHERE owner = ?3 AND created = ?7 ORDER BY seq DESC LIMIT 1), 0) END)
		ON CONFLICT DO NOTHING`,
	// The one statement that decides who gets a secret. The proof and
	// the check are compared here, in SQL, with = (not in constant time):
	// each is a keyed hash of what the reader gave (see Reveal).
	wTakeSecret: `DELETE FROM onetime_records
		WHERE id = ?1 AND kind = 1 AND expires_at > ?2
		  AND (proof IS NULL OR proof = ?4) AND (chk IS NULL OR chk = ?3)
		RETURNING pair_id, sealed, chk, proof, attempts, max_attempts, share_domain, expires_at`,
	wReceived: `UPDATE onetime_records SET state = ?1, received = ?2, updated = ?2
		WHERE id = ?3 AND kind = 2 AND expires_at > ?2`,
	// Counts a wrong passphrase, only for the holder of the proof: a
	// reveal without it finds no row, as if there were no secret.
	wWrongAttempt: `UPDATE onetime_records SET attempts = attempts + 1
		WHERE id = ?1 AND kind = 1 AND expires_at > ?2 AND (proof IS NULL OR proof = ?3)
		RETURNING attempts, max_attempts, pair_id`,
	wDeleteSecret: `DELETE FROM onetime_records WHERE id = ? AND kind = 1`,
	wBurnedByAttempts: `UPDATE onetime_records SET state = ?1, burned = ?2, updated = ?2
		WHERE id = ?3 AND kind = 2 AND expires_at > ?2`,
	// View reads the receipt as Receipt does, under the write lock, then
	// moves it on when it is new and its secret live.
	wViewRead: receiptQuery,
	wViewed: `UPDATE onetime_records SET state = ?1, updated = ?2
		WHERE id = ?3 AND kind = 2 AND state = ?4`,
	// The one statement that decides whether a burn beats a reveal.
	wBurn: `UPDATE onetime_records AS r
		SET state = ?3, burned = ?2, updated = ?2
		WHERE r.id = ?1 AND r.kind = 2 AND r.expires_at > ?2 AND r.state IN (?4, ?5) AND ` + secretPresent + `
		RETURNING ` + receiptColumns,
	wSweep: `DELETE FROM onetime_records WHERE id IN
		(SELECT id FROM onetime_records WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)`,
	// Gives up to vacuumStep free pages back to the file system (a no-op
	// unless auto_vacuum is INCREMENTAL). Pragmas take no parameters.
	wVacuum:    `PRAGMA incremental_vacuum(` + vacuumStepText + `)`,
	wFreePages: `PRAGMA freelist_count`,
	// Replays: the answer recorded under an id, while it lives; recording
	// replaces an expired one under the same id.
	wReplayed: `SELECT answer FROM onetime_replays WHERE id = ?1 AND expires_at > ?2`,
	wRecord: `INSERT INTO onetime_replays (id, expires_at, answer) VALUES (?1, ?2, ?3)
		ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, answer = excluded.answer`,
	wSweepReplays: `DELETE FROM onetime_replays WHERE id IN
		(SELECT id FROM onetime_replays WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)`,
}

// vacuumStep is how many free pages one transaction of Sweep gives back
// (8 MiB of 4 KiB pages), so that writers wait for one small step at a
// time.
const (
	vacuumStep     = 2048
	vacuumStepText = "2048"
)

// receiptQuery reads a live receipt with SecretPresent.
const receiptQuery = `SELECT ` + receiptColumns + `, ` + secretPresent + `
	FROM onetime_records r WHERE r.id = ?1 AND r.kind = 2 AND r.expires_at > ?2`

// The statements of the readers.
const (
	rReceipt = iota
	rRecent
	rPeek
)

var readQueries = [...]string{
	rReceipt: receiptQuery,
	rPeek: `SELECT chk IS NOT NULL, proof IS NOT NULL, attempts, max_attempts, expires_at
		FROM onetime_records WHERE id = ?1 AND kind = 1 AND expires_at > ?2`,
	rRecent: `SELECT ` + receiptColumns + `, ` + secretPresent + `
		FROM onetime_records r WHERE r.owner = ?1 AND r.expires_at > ?2
		ORDER BY r.created DESC, r.seq DESC LIMIT ?3`,
}

// Create implements [onetime.Store]. Both rows go in one transaction; a
// duplicate id of either aborts it with onetime.ErrExists.
func (s *Store) Create(ctx context.Context, sec *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := onetime.CheckPair(sec, m); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	sk := key(sec.ID)
	err := s.w.do(ctx, func(t *wtx) error {
		n, err := affected(t.exec(wInsertSecret,
			sk, key(sec.MetadataID), sec.Sealed, nullBytes(sec.Check), nullBytes(sec.Proof),
			sec.Attempts, sec.MaxAttempts, sec.ShareDomain, micros(sec.ExpiresAt)))
		if err != nil || n == 0 {
			return orExists(err)
		}
		n, err = affected(t.exec(wInsertReceipt,
			key(m.ID), key(m.SecretID), nullString(m.Owner), int(m.State), m.PassphraseRequired,
			m.ShareDomain, micros(m.Created), micros(m.Updated), nullMicros(m.Received),
			nullMicros(m.Burned), micros(m.SecretExpiresAt), micros(m.ExpiresAt), m.Sealed, m.OwnerSealed))
		if err != nil || n == 0 {
			// Take back the secret: the batch this op shares must
			// commit without it.
			if _, err := t.exec(wDeleteSecret, sk); err != nil {
				return err
			}
			return orExists(err)
		}
		return nil
	})
	return passOrWrap(err)
}

// Reveal implements [onetime.Store]. The secret is taken by one
// conditional DELETE ... RETURNING: of concurrent callers, in this process
// or another, exactly one deletes the row. A replay's answer is looked up
// and recorded in the same transaction, and the transaction commits only
// before ctx's deadline (see writer.consume).
//
// The proof and the check are compared by SQLite's =, whose time may
// depend on how many leading bytes match, where the memory store uses a
// constant-time compare. That is acceptable because neither compared
// value is one a caller chooses: each is an HMAC under the server's
// secret of the record id and of what the reader presented, so a reader
// cannot steer its bytes toward the stored ones, and learning how long a
// prefix two such hashes share tells nothing about a key or a passphrase.
func (s *Store) Reveal(ctx context.Context, sid onetime.ID, c onetime.Credentials, now time.Time, rp *onetime.Replay) (*onetime.SealedSecret, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if rp != nil && !rp.ID.Valid() {
		return nil, errReplayID
	}
	if !sid.Valid() {
		return nil, onetime.ErrNotFound
	}
	var sec *onetime.SealedSecret
	err := s.w.consume(ctx, func(t *wtx) error {
		sec = nil
		if found, err := replayed(t, rp, now, &sec); found || err != nil {
			return err
		}
		k, at := key(sid), micros(now)
		got := &onetime.SealedSecret{ID: sid}
		var mid []byte
		var expires int64
		proof := nullBytes(c.Proof)
		err := t.queryRow(wTakeSecret, k, at, nullBytes(c.Check), proof).Scan(
			&mid, &got.Sealed, &got.Check, &got.Proof, &got.Attempts, &got.MaxAttempts, &got.ShareDomain, &expires)
		if err == nil {
			got.MetadataID, got.ExpiresAt = id(mid), fromMicros(expires)
			if _, err := t.exec(wReceived, stateReceived, at, mid); err != nil {
				return err
			}
			sec = got
			return record(t, rp, got)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// No live secret with a matching proof and check. The DELETE
		// took the write lock, so what follows sees the same state: a
		// live row with a matching proof here has another check. Without
		// the proof nothing is counted, nothing recorded: ErrNotFound.
		var attempts, maxAttempts int
		err = t.queryRow(wWrongAttempt, k, at, proof).Scan(&attempts, &maxAttempts, &mid)
		if errors.Is(err, sql.ErrNoRows) {
			return onetime.ErrNotFound
		}
		if err != nil {
			return err
		}
		if attempts >= maxAttempts {
			if _, err := t.exec(wDeleteSecret, k); err != nil {
				return err
			}
			if _, err := t.exec(wBurnedByAttempts, stateBurned, at, mid); err != nil {
				return err
			}
		}
		if err := record(t, rp, nil); err != nil {
			return err
		}
		return onetime.ErrWrongPassphrase
	})
	if err != nil {
		return nil, passOrWrap(err)
	}
	return sec, nil
}

// replayed looks for the answer recorded under rp's id and alive at now,
// in the transaction of t. If there is one, it reports found, and decodes
// the answer into *out, or returns ErrWrongPassphrase for a recorded wrong
// passphrase. A nil rp finds nothing.
func replayed[T any](t *wtx, rp *onetime.Replay, now time.Time, out **T) (found bool, err error) {
	if rp == nil {
		return false, nil
	}
	var answer []byte
	err = t.queryRow(wReplayed, key(rp.ID), micros(now)).Scan(&answer)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	case answer == nil:
		return true, onetime.ErrWrongPassphrase
	}
	*out = new(T)
	if err := json.Unmarshal(answer, *out); err != nil {
		return false, fmt.Errorf("sqlite: a recorded answer does not decode: %w", err)
	}
	return true, nil
}

// record records answer (nil: a wrong passphrase) under rp's id until its
// expiry, in the transaction of t. A nil rp records nothing.
func record(t *wtx, rp *onetime.Replay, answer any) error {
	if rp == nil {
		return nil
	}
	var b []byte
	if answer != nil {
		var err error
		if b, err = json.Marshal(answer); err != nil {
			return err
		}
	}
	_, err := t.exec(wRecord, key(rp.ID), micros(rp.ExpiresAt), b)
	return err
}

// passOrWrap returns the contract's errors and a context's as they are,
// and wraps others as this package's, naming no method: the Service adds
// the operation's name.
func passOrWrap(err error) error {
	if err == nil || errors.Is(err, onetime.ErrNotFound) || errors.Is(err, onetime.ErrWrongPassphrase) ||
		errors.Is(err, onetime.ErrExists) || errors.Is(err, onetime.ErrClosed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return wrapErr(err)
}

type scanner interface{ Scan(dest ...any) error }

func scanReceipt(row scanner, present bool) (*onetime.SealedMetadata, error) {
	var (
		m                                        onetime.SealedMetadata
		mid, sid                                 []byte
		owner                                    sql.NullString
		state                                    int
		created, updated, secretExpires, expires int64
		received, burned                         sql.NullInt64
	)
	dest := []any{&mid, &sid, &owner, &state, &m.PassphraseRequired, &m.ShareDomain,
		&created, &updated, &received, &burned, &secretExpires, &expires, &m.Sealed, &m.OwnerSealed}
	if present {
		dest = append(dest, &m.SecretPresent)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	m.ID, m.SecretID, m.Owner, m.State = id(mid), id(sid), owner.String, onetime.State(state)
	m.Created, m.Updated = fromMicros(created), fromMicros(updated)
	m.Received, m.Burned = fromNullMicros(received), fromNullMicros(burned)
	m.SecretExpiresAt, m.ExpiresAt = fromMicros(secretExpires), fromMicros(expires)
	return &m, nil
}

// Receipt implements [onetime.Store]: one read-only statement.
func (s *Store) Receipt(ctx context.Context, mid onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	var m *onetime.SealedMetadata
	err := s.read(ctx, mid, rReceipt, func(ctx context.Context, st *sql.Stmt) error {
		var err error
		m, err = scanReceipt(st.QueryRowContext(ctx, key(mid), micros(now)), true)
		if errors.Is(err, sql.ErrNoRows) {
			return onetime.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, passOrWrap(err)
	}
	return m, nil
}

// Peek implements [onetime.Store]: one read-only statement.
func (s *Store) Peek(ctx context.Context, sid onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	var info *onetime.SecretInfo
	err := s.read(ctx, sid, rPeek, func(ctx context.Context, st *sql.Stmt) error {
		var got onetime.SecretInfo
		var expires int64
		err := st.QueryRowContext(ctx, key(sid), micros(now)).Scan(
			&got.PassphraseRequired, &got.ProofRequired, &got.Attempts, &got.MaxAttempts, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return onetime.ErrNotFound
		}
		if err != nil {
			return err
		}
		got.ExpiresAt = fromMicros(expires)
		info = &got
		return nil
	})
	if err != nil {
		return nil, passOrWrap(err)
	}
	return info, nil
}

// View implements [onetime.Store]. A receipt that is not new, or whose
// secret is gone, is answered by a read: states only move forward, so
// what the read saw is what View would have returned, and changing
// nothing is what View would have done. Only a new receipt goes to the
// writer, where one transaction under the write lock reads it again and
// moves it to viewed when its secret is live; no other write comes
// between the two statements.
func (s *Store) View(ctx context.Context, mid onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	m, err := s.Receipt(ctx, mid, now) // checks ctx and Close first
	if err != nil || m.State != onetime.StateNew || !m.SecretPresent {
		return m, err
	}
	err = s.w.do(ctx, func(t *wtx) error {
		k, at := key(mid), micros(now)
		got, err := scanReceipt(t.queryRow(wViewRead, k, at), true)
		if errors.Is(err, sql.ErrNoRows) {
			return onetime.ErrNotFound
		}
		if err != nil {
			return err
		}
		if got.State == onetime.StateNew && got.SecretPresent {
			if _, err := t.exec(wViewed, stateViewed, at, k, stateNew); err != nil {
				return err
			}
		}
		m = got
		return nil
	})
	if err != nil {
		return nil, passOrWrap(err)
	}
	return m, nil
}

// Burn implements [onetime.Store]. One conditional UPDATE ... RETURNING
// claims the receipt only while its secret is live, and the secret is
// deleted in the same transaction, under the same write lock: of a burn
// and a reveal, exactly one succeeds. Replays and the deadline work as in
// Reveal.
func (s *Store) Burn(ctx context.Context, mid onetime.ID, now time.Time, rp *onetime.Replay) (*onetime.SealedMetadata, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if rp != nil && !rp.ID.Valid() {
		return nil, errReplayID
	}
	if !mid.Valid() {
		return nil, onetime.ErrNotFound
	}
	var m *onetime.SealedMetadata
	err := s.w.consume(ctx, func(t *wtx) error {
		m = nil
		if found, err := replayed(t, rp, now, &m); found || err != nil {
			return err
		}
		got, err := scanReceipt(t.queryRow(wBurn, key(mid), micros(now), stateBurned, stateNew, stateViewed), false)
		if errors.Is(err, sql.ErrNoRows) {
			return onetime.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := t.exec(wDeleteSecret, key(got.SecretID)); err != nil {
			return err
		}
		m = got
		return record(t, rp, got)
	})
	if err != nil {
		return nil, passOrWrap(err)
	}
	return m, nil
}

// Recent implements [onetime.Store]: one read-only statement walking the
// owner index from the newest entry.
func (s *Store) Recent(ctx context.Context, owner string, now time.Time, limit int) ([]*onetime.SealedMetadata, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if owner == "" || limit <= 0 {
		return nil, nil
	}
	var out []*onetime.SealedMetadata
	err := s.read(ctx, "", rRecent, func(ctx context.Context, st *sql.Stmt) error {
		out = nil
		rows, err := st.QueryContext(ctx, owner, micros(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanReceipt(rows, true)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, passOrWrap(err)
	}
	return out, nil
}

// Sweep implements [onetime.Store]. It deletes expired records, secrets
// and receipts alike, SweepBatch rows per transaction through the expiry
// index: its cost is proportional to the number of rows expired, and
// other writes get the lock between batches. Expired replay answers go
// the same way, uncounted.
//
// It then reclaims the space: with auto_vacuum INCREMENTAL (see [New])
// it gives the free pages back to the file system, a few thousand per
// transaction, and it checkpoints the write-ahead log and truncates it to
// zero bytes, so that the old page images of consumed and expired records
// leave the log (see the package documentation). A checkpoint that other
// connections' readers keep from completing is left to the next Sweep.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	total := 0
	for _, k := range []int{wSweep, wSweepReplays} {
		for {
			var n int64
			err := s.w.do(ctx, func(t *wtx) error {
				var err error
				n, err = affected(t.exec(k, micros(now), s.sweepBatch))
				return err
			})
			if err != nil {
				return total, passOrWrap(err)
			}
			if k == wSweep {
				total += int(n) // replays are no records: not counted
			}
			if n < int64(s.sweepBatch) {
				break
			}
		}
	}
	return total, passOrWrap(s.reclaim(ctx))
}

// reclaim gives free pages back to the file system and empties the log.
func (s *Store) reclaim(ctx context.Context) error {
	for free := int64(-1); s.incremental; {
		var left int64
		err := s.w.do(ctx, func(t *wtx) error {
			if _, err := t.exec(wVacuum); err != nil {
				return err
			}
			return t.queryRow(wFreePages).Scan(&left)
		})
		if err != nil {
			return err
		}
		if left == 0 || left == free { // done, or no progress
			break
		}
		free = left
	}
	if s.inMemory {
		return nil
	}
	if s.ckpt != nil {
		return s.ckpt.truncate(ctx)
	}
	return s.w.exclusive(ctx, func(ctx context.Context, c *sql.Conn) error { return truncateLog(ctx, c) })
}
