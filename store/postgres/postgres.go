package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onetimego/onetime"
)

// Defaults for the zero fields of [Options].
const (
	DefaultTablePrefix = "onetime_"
	DefaultMaxRecent   = 1000
	DefaultSweepBatch  = 1000
)

// Options configure a [Store]. A nil *Options, and every zero field, means
// the default.
type Options struct {
	// Schema, when set, holds the store's tables (created if missing);
	// otherwise they go where the connection's search_path puts them.
	// Letters, digits and underscores.
	Schema string

	// TablePrefix starts the name of every table, index and function of
	// the store ("onetime_"), so that it can share a schema with other
	// tables. Letters, digits and underscores, at most 30.
	TablePrefix string

	// MaxRecent bounds the limit of Recent (1000), whatever the caller
	// asks for.
	MaxRecent int

	// SweepBatch is the number of rows that Sweep deletes per statement
	// (1000): a short transaction each, so that Sweep never holds many
	// locks or a long snapshot.
	SweepBatch int

	// StatementCache makes the store use named prepared statements,
	// prepared once per connection (pgx's QueryExecModeCacheStatement):
	// the least work for the server. Leave it off behind PgBouncer in
	// transaction mode (unless PgBouncer 1.21 or later tracks prepared
	// statements with max_prepared_statements). By default the store uses
	// only the unnamed statement, its description cached per connection
	// (QueryExecModeCacheDescribe): one round trip per call, and nothing
	// kept on the server between statements.
	StatementCache bool
}

var ident = regexp.MustCompile(`^[A-Za-z0-9_]*$`)

func (o *Options) withDefaults() (Options, error) {
	var c Options
	if o != nil {
		c = *o
	}
	if c.TablePrefix == "" {
		c.TablePrefix = DefaultTablePrefix
	}
	if c.MaxRecent == 0 {
		c.MaxRecent = DefaultMaxRecent
	}
	if c.SweepBatch == 0 {
		c.SweepBatch = DefaultSweepBatch
	}
	switch {
	case !ident.MatchString(c.Schema) || len(c.Schema) > 63:
		return c, errors.New("postgres: Options.Schema must be at most 63 letters, digits and underscores")
	case !ident.MatchString(c.TablePrefix) || len(c.TablePrefix) > 30:
		return c, errors.New("postgres: Options.TablePrefix must be at most 30 letters, digits and underscores")
	case c.MaxRecent < 0 || c.SweepBatch < 0:
		return c, errors.New("postgres: negative limit in Options")
	}
	return c, nil
}

// names spells the store's SQL names.
type names struct {
	schema string
	prefix string // the qualified prefix as text: the advisory lock's key
	tp     string // the table prefix
}

func quote(s string) string { return pgx.Identifier{s}.Sanitize() }

// table returns the quoted, qualified name of the store's object name.
func (n *names) table(name string) string {
	if n.schema == "" {
		return quote(n.tp + name)
	}
	return pgx.Identifier{n.schema, n.tp + name}.Sanitize()
}

var placeholder = regexp.MustCompile(`\{\{(:?)([a-z_]+)\}\}`)

// expand replaces {{name}} with the qualified name and {{:name}} with the
// unqualified one (for indexes, which live in their table's schema).
func (n *names) expand(sql string) string {
	return placeholder.ReplaceAllStringFunc(sql, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		if sub[1] == ":" {
			return quote(n.tp + sub[2])
		}
		return n.table(sub[2])
	})
}

// Store is a [onetime.Store] in PostgreSQL. It is safe for concurrent use
// by many goroutines and many processes sharing the database.
type Store struct {
	pool       *pgxpool.Pool
	owned      bool
	mode       pgx.QueryExecMode
	maxRecent  int
	sweepBatch int
	names      *names
	q          queries
	closed     atomic.Bool
}

var _ onetime.Store = (*Store)(nil)

// New returns a Store on pool, which the caller owns: Close does not close
// it. It creates or upgrades the store's tables first (see the package
// documentation on migrations); ctx bounds that work.
func New(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Store, error) {
	if pool == nil {
		return nil, errors.New("postgres: nil pool")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	n := &names{schema: o.Schema, tp: o.TablePrefix}
	n.prefix = n.table("")
	if err := migrate(ctx, pool, n); err != nil {
		if errors.Is(err, ErrSchemaTooNew) {
			return nil, err
		}
		return nil, wrap(err)
	}
	s := &Store{pool: pool, names: n, mode: pgx.QueryExecModeCacheDescribe, maxRecent: o.MaxRecent, sweepBatch: o.SweepBatch}
	if o.StatementCache {
		s.mode = pgx.QueryExecModeCacheStatement
	}
	s.q = newQueries(n)
	return s, nil
}

// Open connects to the database at url (a PostgreSQL URL or keyword/value
// string, as pgxpool.ParseConfig takes) and returns a Store that owns its
// pool: Close closes it.
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The text may quote the URL, password and all.
		return nil, errors.New("postgres: malformed connection string")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, wrap(err)
	}
	s, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Close marks the store closed: every later call returns
// [onetime.ErrClosed]. It closes the pool only if [Open] made it.
// Calling it again is a no-op.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.owned {
		s.pool.Close()
	}
	return nil
}

// Pool returns the pool the store sends its statements through: the
// caller's under [New], its own under [Open] (to run statements of one's
// own beside the store's, or to read the pool's statistics).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// wrap returns an error of the driver or the server as this package
// returns it: "postgres: " and the cause. Statements carry ids and values
// only as parameters, which the server's messages do not quote.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %w", err)
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

// key is the stored form of an id: the 20 bytes its hex spells. ok is
// false for a string that is not an ID, which no record has: the methods
// answer ErrNotFound without asking the database.
func key(id onetime.ID) (b []byte, ok bool) {
	if !id.Valid() {
		return nil, false
	}
	b = make([]byte, len(id)/2)
	hex.Decode(b, []byte(id))
	return b, true
}

func toID(b []byte) onetime.ID { return onetime.ID(hex.EncodeToString(b)) }

func nullTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

func fromNull(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func nullString(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

// nullBytes stores an empty check as NULL: no passphrase.
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// The SQL of each method: one statement each. States are stored as their
// onetime.State numbers: 1 new, 2 viewed, 3 received, 4 burned.
type queries struct {
	create, reveal, peek, receipt, view, burn, recent, sweepSecrets, sweepReceipts string
}

// receiptColumns are the columns scanned by scanReceipt, from a receipts
// row named r.
const receiptColumns = `r.id, r.secret_id, r.owner, r.state, r.passphrase, r.share_domain,
	r.created, r.updated, r.received, r.burned, r.secret_expires_at, r.expires_at,
	r.sealed, r.owner_sealed`

func newQueries(n *names) queries {
	// present is whether receipt r's secret is live at $2. A receipt no
	// longer new or viewed has none, whatever a concurrent change left
	// in this statement's snapshot.
	// A scalar subquery, not EXISTS, which the planner may turn into a
	// hashed subplan reading every secret: this is one primary key
	// lookup per receipt.
	present := `(r.state IN (1, 2) AND coalesce((SELECT s.expires_at > $2 FROM {{secrets}} s
		WHERE s.id = r.secret_id), false))`
	q := queries{
		// Both rows or neither: a duplicate id of either fails the
		// one statement with a unique violation.
		create: `WITH s AS (
			INSERT INTO {{secrets}} (id, expires_at, attempts, max_attempts, metadata_id, share_domain, chk, sealed)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8))
			INSERT INTO {{receipts}} (id, created, updated, secret_expires_at, expires_at, received, burned,
				state, passphrase, secret_id, owner, share_domain, sealed, owner_sealed)
			VALUES ($9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		reveal: `SELECT outcome, metadata_id, sealed, chk, attempts, max_attempts, share_domain, expires_at
			FROM {{reveal}}($1, $2, $3)`,
		peek: `SELECT chk IS NOT NULL, attempts, max_attempts, expires_at FROM {{secrets}}
			WHERE id = $1 AND expires_at > $2`,
		receipt: `SELECT ` + receiptColumns + `, ` + present + `
			FROM {{receipts}} r WHERE r.id = $1 AND r.expires_at > $2`,
		// The row lock makes concurrent views queue: each sees the state
		// the one before it left, so exactly one sees new. The lock
		// returns the latest version of the row, and the update (only of
		// a new receipt whose secret is live) goes to that version.
		view: `WITH old AS (
			SELECT ` + receiptColumns + `, ` + present + ` AS present
			FROM {{receipts}} r WHERE r.id = $1 AND r.expires_at > $2
			FOR NO KEY UPDATE OF r),
		upd AS (
			UPDATE {{receipts}} u SET state = 2, updated = $2 FROM old
			WHERE u.id = old.id AND old.state = 1 AND old.present)
		SELECT * FROM old`,
		// The secret goes only while it is live and the receipt new or
		// viewed; its row lock decides between a burn and a reveal.
		burn: `WITH s AS (
			DELETE FROM {{secrets}} s USING {{receipts}} r
			WHERE r.id = $1 AND r.expires_at > $2 AND r.state IN (1, 2)
			  AND s.id = r.secret_id AND s.expires_at > $2
			RETURNING s.metadata_id)
		UPDATE {{receipts}} r SET state = 4, burned = $2, updated = $2
		FROM s WHERE r.id = s.metadata_id
		RETURNING ` + receiptColumns,
		recent: `SELECT ` + receiptColumns + `, ` + present + `
			FROM {{receipts}} r WHERE r.owner = $1 AND r.expires_at > $2
			ORDER BY r.created DESC, r.seq DESC LIMIT $3`,
		// SKIP LOCKED: concurrent sweepers share the work instead of
		// queueing on each other's rows.
		sweepSecrets: `DELETE FROM {{secrets}} WHERE id IN (
			SELECT id FROM {{secrets}} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		sweepReceipts: `DELETE FROM {{receipts}} WHERE id IN (
			SELECT id FROM {{receipts}} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	}
	for _, p := range []*string{&q.create, &q.reveal, &q.peek, &q.receipt, &q.view, &q.burn, &q.recent, &q.sweepSecrets, &q.sweepReceipts} {
		*p = n.expand(*p)
	}
	return q
}

// Create implements [onetime.Store] in one statement.
func (s *Store) Create(ctx context.Context, sec *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	sk, ok1 := key(sec.ID)
	mk, ok2 := key(m.ID)
	if !ok1 || !ok2 || sec.ID.Slot() != m.ID.Slot() || sec.MetadataID != m.ID || m.SecretID != sec.ID {
		return errMalformed
	}
	_, err := s.pool.Exec(ctx, s.q.create, s.mode,
		sk, sec.ExpiresAt, int32(sec.Attempts), int32(sec.MaxAttempts), mk, sec.ShareDomain, nullBytes(sec.Check), sec.Sealed,
		mk, m.Created, m.Updated, m.SecretExpiresAt, m.ExpiresAt, nullTime(m.Received), nullTime(m.Burned),
		int16(m.State), m.PassphraseRequired, sk, nullString(m.Owner), m.ShareDomain, m.Sealed, m.OwnerSealed)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return onetime.ErrExists
	}
	return s.fail(ctx, err)
}

// errMalformed is Create's answer to a pair that cannot be stored.
var errMalformed = fmt.Errorf("postgres: ids malformed, in two slots, or not naming each other: %w", onetime.ErrInvalid)

// fail returns err as this package returns it: ctx's error when the call
// was cancelled, else wrapped.
func (s *Store) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("postgres: %w (%w)", cerr, err)
	}
	return wrap(err)
}

// Reveal implements [onetime.Store] in one statement: a call of the
// function that the migration created, whose DELETE ... RETURNING takes
// the secret, and which otherwise counts the wrong attempt and burns the
// secret at its budget.
func (s *Store) Reveal(ctx context.Context, id onetime.ID, check []byte, now time.Time) (*onetime.SealedSecret, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	k, ok := key(id)
	if !ok {
		return nil, onetime.ErrNotFound
	}
	var (
		outcome     int32
		mid         []byte
		sec         = &onetime.SealedSecret{ID: id}
		att, maxAtt pgtype.Int4
		domain      pgtype.Text
		expires     pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, s.q.reveal, s.mode, k, check, now).Scan(
		&outcome, &mid, &sec.Sealed, &sec.Check, &att, &maxAtt, &domain, &expires)
	switch {
	case err != nil:
		return nil, s.fail(ctx, err)
	case outcome == 0:
		return nil, onetime.ErrNotFound
	case outcome != 1:
		return nil, onetime.ErrWrongPassphrase
	}
	sec.MetadataID, sec.Attempts, sec.MaxAttempts = toID(mid), int(att.Int32), int(maxAtt.Int32)
	sec.ShareDomain, sec.ExpiresAt = domain.String, expires.Time.UTC()
	return sec, nil
}

// Peek implements [onetime.Store] in one read-only statement.
func (s *Store) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	k, ok := key(id)
	if !ok {
		return nil, onetime.ErrNotFound
	}
	var info onetime.SecretInfo
	var att, maxAtt int32
	err := s.pool.QueryRow(ctx, s.q.peek, s.mode, k, now).Scan(&info.PassphraseRequired, &att, &maxAtt, &info.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, onetime.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	info.Attempts, info.MaxAttempts, info.ExpiresAt = int(att), int(maxAtt), info.ExpiresAt.UTC()
	return &info, nil
}

func scanReceipt(row pgx.Row, present bool) (*onetime.SealedMetadata, error) {
	var (
		m                 onetime.SealedMetadata
		mid, sid          []byte
		owner             pgtype.Text
		state             int16
		received, burned  pgtype.Timestamptz
		created, updated  time.Time
		secretExp, expire time.Time
	)
	dest := []any{&mid, &sid, &owner, &state, &m.PassphraseRequired, &m.ShareDomain,
		&created, &updated, &received, &burned, &secretExp, &expire, &m.Sealed, &m.OwnerSealed}
	if present {
		dest = append(dest, &m.SecretPresent)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	m.ID, m.SecretID, m.Owner, m.State = toID(mid), toID(sid), owner.String, onetime.State(state)
	m.Created, m.Updated = created.UTC(), updated.UTC()
	m.Received, m.Burned = fromNull(received), fromNull(burned)
	m.SecretExpiresAt, m.ExpiresAt = secretExp.UTC(), expire.UTC()
	return &m, nil
}

// receiptBy runs a statement that returns at most one receipt.
func (s *Store) receiptBy(ctx context.Context, query string, id onetime.ID, now time.Time, present bool) (*onetime.SealedMetadata, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	k, ok := key(id)
	if !ok {
		return nil, onetime.ErrNotFound
	}
	m, err := scanReceipt(s.pool.QueryRow(ctx, query, s.mode, k, now), present)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, onetime.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return m, nil
}

// Receipt implements [onetime.Store] in one read-only statement.
func (s *Store) Receipt(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	return s.receiptBy(ctx, s.q.receipt, id, now, true)
}

// View implements [onetime.Store] in one statement: the receipt as it was,
// locked, and the move of a new one to viewed.
func (s *Store) View(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	return s.receiptBy(ctx, s.q.view, id, now, true)
}

// Burn implements [onetime.Store] in one statement.
func (s *Store) Burn(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	return s.receiptBy(ctx, s.q.burn, id, now, false)
}

// Recent implements [onetime.Store] in one read-only statement, a range
// scan of the owner index from its newest entry. The limit is bounded by
// Options.MaxRecent.
func (s *Store) Recent(ctx context.Context, owner string, now time.Time, limit int) ([]*onetime.SealedMetadata, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	limit = min(limit, s.maxRecent)
	if owner == "" || limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, s.q.recent, s.mode, owner, now, int64(limit))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	defer rows.Close()
	var out []*onetime.SealedMetadata
	for rows.Next() {
		m, err := scanReceipt(rows, true)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, err)
	}
	return out, nil
}

// Sweep implements [onetime.Store]. It deletes expired secrets, then
// expired receipts, Options.SweepBatch rows per statement through the
// expiry indexes: its cost is proportional to the number of expired rows.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	total := 0
	for _, q := range []string{s.q.sweepSecrets, s.q.sweepReceipts} {
		for {
			tag, err := s.pool.Exec(ctx, q, s.mode, now, int64(s.sweepBatch))
			if err != nil {
				return total, s.fail(ctx, err)
			}
			n := int(tag.RowsAffected())
			total += n
			if n < s.sweepBatch {
				break
			}
			if err := s.check(ctx); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}
