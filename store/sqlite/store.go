package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
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

// key is the stored form of an id: the 20 bytes its hex spells, or, for a
// string that is not a well-formed ID (never produced by the service), the
// string itself, stored as TEXT, which SQLite never confuses with a BLOB.
func key(id onetime.ID) any {
	if !id.Valid() {
		return string(id)
	}
	var b [20]byte
	hex.Decode(b[:], []byte(id))
	return b[:]
}

// id is the inverse of key.
func id(v any) onetime.ID {
	switch v := v.(type) {
	case []byte:
		if len(v) == 20 {
			return onetime.ID(hex.EncodeToString(v))
		}
		return onetime.ID(v)
	case string:
		return onetime.ID(v)
	}
	return ""
}

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

// nullBytes stores an empty check as NULL: an empty check means no
// passphrase.
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
		return ErrClosed
	}
	return nil
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
	wMarkViewed
	wBurn
	wSweep
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
		(id, kind, pair_id, sealed, chk, attempts, max_attempts, share_domain, expires_at)
		VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
	wInsertReceipt: `INSERT INTO onetime_records
		(id, kind, pair_id, owner, state, passphrase, share_domain, created, updated,
		 received, burned, secret_expires_at, expires_at, sealed, owner_sealed, seq)
		VALUES (?1, 2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
		 CASE WHEN ?3 IS NULL THEN 0 ELSE coalesce((SELECT seq + 1 FROM onetime_records
		  WHERE owner = ?3 AND created = ?7 ORDER BY seq DESC LIMIT 1), 0) END)
		ON CONFLICT DO NOTHING`,
	// The one statement that decides who gets a secret.
	wTakeSecret: `DELETE FROM onetime_records
		WHERE id = ?1 AND kind = 1 AND expires_at > ?2 AND (chk IS NULL OR chk = ?3)
		RETURNING pair_id, sealed, chk, attempts, max_attempts, share_domain, expires_at`,
	wReceived: `UPDATE onetime_records SET state = ?1, received = ?2, updated = ?2
		WHERE id = ?3 AND kind = 2 AND expires_at > ?2`,
	wWrongAttempt: `UPDATE onetime_records SET attempts = attempts + 1
		WHERE id = ?1 AND kind = 1 AND expires_at > ?2
		RETURNING attempts, max_attempts, pair_id`,
	wDeleteSecret: `DELETE FROM onetime_records WHERE id = ? AND kind = 1`,
	wBurnedByAttempts: `UPDATE onetime_records SET state = ?1, burned = ?2, updated = ?2
		WHERE id = ?3 AND kind = 2 AND expires_at > ?2`,
	// Matches (changing nothing) a live receipt in a state other than new,
	// so that one statement tells a no-op from a missing receipt.
	wMarkViewed: `UPDATE onetime_records
		SET updated = CASE WHEN state = ?1 THEN ?3 ELSE updated END,
		    state = CASE WHEN state = ?1 THEN ?2 ELSE state END
		WHERE id = ?4 AND kind = 2 AND expires_at > ?3 RETURNING 1`,
	// The one statement that decides whether a burn beats a reveal.
	wBurn: `UPDATE onetime_records AS r
		SET state = ?3, burned = ?2, updated = ?2
		WHERE r.id = ?1 AND r.kind = 2 AND r.expires_at > ?2 AND r.state IN (?4, ?5) AND ` + secretPresent + `
		RETURNING ` + receiptColumns,
	wSweep: `DELETE FROM onetime_records WHERE id IN
		(SELECT id FROM onetime_records WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)`,
}

// The statements of the readers.
const (
	rReceipt = iota
	rRecent
)

var readQueries = [...]string{
	rReceipt: `SELECT ` + receiptColumns + `, ` + secretPresent + `
		FROM onetime_records r WHERE r.id = ?1 AND r.kind = 2 AND r.expires_at > ?2`,
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
	sk := key(sec.ID)
	err := s.w.do(ctx, func(t *wtx) error {
		n, err := affected(t.exec(wInsertSecret,
			sk, key(sec.MetadataID), sec.Sealed, nullBytes(sec.Check),
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
	return passOrWrap("create", err)
}

// Reveal implements [onetime.Store]. The secret is taken by one
// conditional DELETE ... RETURNING: of concurrent callers, in this process
// or another, exactly one deletes the row.
func (s *Store) Reveal(ctx context.Context, sid onetime.ID, check []byte, now time.Time) (*onetime.SealedSecret, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var sec *onetime.SealedSecret
	err := s.w.do(ctx, func(t *wtx) error {
		k, at := key(sid), micros(now)
		got := &onetime.SealedSecret{ID: sid}
		var mid any
		var expires int64
		err := t.queryRow(wTakeSecret, k, at, nullBytes(check)).Scan(
			&mid, &got.Sealed, &got.Check, &got.Attempts, &got.MaxAttempts, &got.ShareDomain, &expires)
		if err == nil {
			got.MetadataID, got.ExpiresAt = id(mid), fromMicros(expires)
			if _, err := t.exec(wReceived, stateReceived, at, mid); err != nil {
				return err
			}
			sec = got
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// No live secret with a matching check. The DELETE took the
		// write lock, so what follows sees the same state: a live row
		// here has another check.
		var attempts, maxAttempts int
		err = t.queryRow(wWrongAttempt, k, at).Scan(&attempts, &maxAttempts, &mid)
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
		return onetime.ErrWrongPassphrase
	})
	if err != nil {
		return nil, passOrWrap("reveal", err)
	}
	return sec, nil
}

// passOrWrap returns the contract's errors as they are and wraps others.
func passOrWrap(op string, err error) error {
	if errors.Is(err, onetime.ErrNotFound) || errors.Is(err, onetime.ErrWrongPassphrase) ||
		errors.Is(err, onetime.ErrExists) || errors.Is(err, ErrClosed) {
		return err
	}
	return wrap(op, err)
}

type scanner interface{ Scan(dest ...any) error }

func scanReceipt(row scanner, present bool) (*onetime.SealedMetadata, error) {
	var (
		m                                        onetime.SealedMetadata
		mid, sid                                 any
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
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	m, err := scanReceipt(s.reads[rReceipt].QueryRowContext(ctx, key(mid), micros(now)), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, onetime.ErrNotFound
	}
	if err != nil {
		return nil, wrap("receipt", err)
	}
	return m, nil
}

// MarkViewed implements [onetime.Store]: one conditional UPDATE.
func (s *Store) MarkViewed(ctx context.Context, mid onetime.ID, now time.Time) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	err := s.w.do(ctx, func(t *wtx) error {
		var one int
		err := t.queryRow(wMarkViewed, stateNew, stateViewed, micros(now), key(mid)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return onetime.ErrNotFound
		}
		return err
	})
	return passOrWrap("mark viewed", err)
}

// Burn implements [onetime.Store]. One conditional UPDATE ... RETURNING
// claims the receipt only while its secret is live, and the secret is
// deleted in the same transaction, under the same write lock: of a burn
// and a reveal, exactly one succeeds.
func (s *Store) Burn(ctx context.Context, mid onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var m *onetime.SealedMetadata
	err := s.w.do(ctx, func(t *wtx) error {
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
		return nil
	})
	if err != nil {
		return nil, passOrWrap("burn", err)
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
	rows, err := s.reads[rRecent].QueryContext(ctx, owner, micros(now), limit)
	if err != nil {
		return nil, wrap("recent", err)
	}
	defer rows.Close()
	var out []*onetime.SealedMetadata
	for rows.Next() {
		m, err := scanReceipt(rows, true)
		if err != nil {
			return nil, wrap("recent", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("recent", err)
	}
	return out, nil
}

// Sweep implements [onetime.Store]. It deletes expired records, secrets
// and receipts alike, SweepBatch rows per transaction through the expiry
// index: its cost is proportional to the number of rows expired, and
// other writes get the lock between batches.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	total := 0
	for {
		var n int64
		err := s.w.do(ctx, func(t *wtx) error {
			var err error
			n, err = affected(t.exec(wSweep, micros(now), s.sweepBatch))
			return err
		})
		if err != nil {
			return total, passOrWrap("sweep", err)
		}
		total += int(n)
		if n < int64(s.sweepBatch) {
			return total, nil
		}
	}
}
