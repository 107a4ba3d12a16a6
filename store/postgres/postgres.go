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
	return newAt(ctx, pool, opts, SchemaVersion)
}

// newAt is New with the schema brought to version, which only the tests
// set below SchemaVersion (to write data as an earlier release did).
func newAt(ctx context.Context, pool *pgxpool.Pool, opts *Options, version int) (*Store, error) {
	if pool == nil {
		return nil, errors.New("postgres: nil pool")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	n := &names{schema: o.Schema, tp: o.TablePrefix}
	n.prefix = n.table("")
	if err := migrateTo(ctx, pool, n, version); err != nil {
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

// nullBytes stores an empty check as NULL (no passphrase), and an empty
// proof (the server-side mode). Presented to Reveal, NULL matches no
// stored value.
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// The SQL of each method: one statement each. States are stored as their
// onetime.State numbers: 1 new, 2 viewed, 3 received, 4 burned.
type queries struct {
	create, reveal, peek, receipt, view, burn, recent string
	sweepSecrets, sweepReceipts, sweepReplays         string
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
			INSERT INTO {{secrets}} (id, expires_at, attempts, max_attempts, metadata_id, share_domain, chk, proof, sealed)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9))
			INSERT INTO {{receipts}} (id, created, updated, secret_expires_at, expires_at, received, burned,
				state, passphrase, secret_id, owner, share_domain, sealed, owner_sealed)
			VALUES ($10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
		// The functions take the secret and record the outcome under a
		// replay id; see migrations/0003_proof.sql. $3 is the proof, $7
		// the deadline.
		reveal: `SELECT o.o_outcome, (o.o_secret).id, (o.o_secret).metadata_id, (o.o_secret).sealed, (o.o_secret).chk,
			(o.o_secret).proof, (o.o_secret).attempts, (o.o_secret).max_attempts, (o.o_secret).share_domain,
			(o.o_secret).expires_at
			FROM {{reveal}}($1, $2, $3, $4, $5, $6, $7) o`,
		peek: `SELECT chk IS NOT NULL, proof IS NOT NULL, attempts, max_attempts, expires_at FROM {{secrets}}
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
		burn: `SELECT ` + receiptColumns + ` FROM {{burn}}($1, $2, $3, $4, $5) r`,
		recent: `SELECT ` + receiptColumns + `, ` + present + `
			FROM {{receipts}} r WHERE r.owner = $1 AND r.expires_at > $2
			ORDER BY r.created DESC, r.seq DESC LIMIT $3`,
		// SKIP LOCKED: concurrent sweepers share the work instead of
		// queueing on each other's rows.
		sweepSecrets: `DELETE FROM {{secrets}} WHERE id IN (
			SELECT id FROM {{secrets}} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		sweepReceipts: `DELETE FROM {{receipts}} WHERE id IN (
			SELECT id FROM {{receipts}} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		// A replay record that a call holds is locked, and so skipped.
		sweepReplays: `DELETE FROM {{replays}} WHERE id IN (
			SELECT id FROM {{replays}} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	}
	for _, p := range []*string{&q.create, &q.reveal, &q.peek, &q.receipt, &q.view, &q.burn, &q.recent,
		&q.sweepSecrets, &q.sweepReceipts, &q.sweepReplays} {
		*p = n.expand(*p)
	}
	return q
}

// Create implements [onetime.Store] in one statement.
func (s *Store) Create(ctx context.Context, sec *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := onetime.CheckPair(sec, m); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	sk, _ := key(sec.ID)
	mk, _ := key(m.ID)
	_, err := s.pool.Exec(ctx, s.q.create, s.mode,
		sk, sec.ExpiresAt, int32(sec.Attempts), int32(sec.MaxAttempts), mk, sec.ShareDomain, nullBytes(sec.Check),
		nullBytes(sec.Proof), sec.Sealed,
		mk, m.Created, m.Updated, m.SecretExpiresAt, m.ExpiresAt, nullTime(m.Received), nullTime(m.Burned),
		int16(m.State), m.PassphraseRequired, sk, nullString(m.Owner), m.ShareDomain, m.Sealed, m.OwnerSealed)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return onetime.ErrExists
	}
	return s.fail(ctx, err)
}

// deadlineCode is the SQLSTATE that the reveal and burn functions raise
// when the database's clock has reached the call's deadline: the statement
// is rolled back, nothing changed.
const deadlineCode = "OTDL0"

// errDeadline is the answer of a consuming call that the database refused
// at its deadline.
var errDeadline = fmt.Errorf("postgres: deadline passed, nothing changed: %w", context.DeadlineExceeded)

// errReplay is the answer to a replay whose id is malformed or in another
// slot than the id of the call.
var errReplay = fmt.Errorf("postgres: replay id malformed or in another slot: %w", onetime.ErrInvalid)

// consuming returns the parameters that Reveal and Burn pass besides the
// id and now: the replay id and expiry (NULL without a replay) and ctx's
// deadline (NULL without one), which the database compares with its own
// clock (see the package documentation on deadlines).
func consuming(ctx context.Context, id onetime.ID, replay *onetime.Replay) ([]any, error) {
	var (
		rid      []byte
		rexp     pgtype.Timestamptz
		deadline pgtype.Timestamptz
	)
	if replay != nil {
		k, ok := key(replay.ID)
		if !ok || replay.ID.Slot() != id.Slot() {
			return nil, errReplay
		}
		rid, rexp = k, pgtype.Timestamptz{Time: replay.ExpiresAt, Valid: true}
	}
	if d, ok := ctx.Deadline(); ok {
		deadline = pgtype.Timestamptz{Time: d, Valid: true}
	}
	return []any{rid, rexp, deadline}, nil
}

// fail returns err as this package returns it: ctx's error when the call
// was cancelled, else wrapped.
func (s *Store) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == deadlineCode {
		return errDeadline
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("postgres: %w (%w)", cerr, err)
	}
	return wrap(err)
}

// Reveal implements [onetime.Store] in one statement: a call of the
// function that the migration created, which answers a recorded outcome,
// or else takes the secret with a DELETE ... RETURNING when its proof and
// check match, or counts the wrong attempt (only with the right proof) and
// burns the secret at its budget, records the outcome under the replay
// id, and checks the deadline last.
//
// The function compares the proof and the check with SQL's =, not in
// constant time. Both compared values are HMACs under the server's secret
// of what the reader presented, which the reader cannot steer; see
// migrations/0003_proof.sql.
func (s *Store) Reveal(ctx context.Context, id onetime.ID, c onetime.Credentials, now time.Time, replay *onetime.Replay) (*onetime.SealedSecret, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	k, ok := key(id)
	if !ok {
		return nil, onetime.ErrNotFound
	}
	more, err := consuming(ctx, id, replay)
	if err != nil {
		return nil, err
	}
	var (
		outcome     int16
		sid, mid    []byte
		sec         = &onetime.SealedSecret{}
		att, maxAtt pgtype.Int4
		domain      pgtype.Text
		expires     pgtype.Timestamptz
	)
	err = s.pool.QueryRow(ctx, s.q.reveal, append([]any{s.mode, k, nullBytes(c.Check), nullBytes(c.Proof), now}, more...)...).Scan(
		&outcome, &sid, &mid, &sec.Sealed, &sec.Check, &sec.Proof, &att, &maxAtt, &domain, &expires)
	switch {
	case err != nil:
		return nil, s.fail(ctx, err)
	case outcome == 0:
		return nil, onetime.ErrNotFound
	case outcome != 1:
		return nil, onetime.ErrWrongPassphrase
	}
	// The ids as recorded: a repeat answers the secret of its first call.
	sec.ID, sec.MetadataID, sec.Attempts, sec.MaxAttempts = toID(sid), toID(mid), int(att.Int32), int(maxAtt.Int32)
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
	err := s.pool.QueryRow(ctx, s.q.peek, s.mode, k, now).Scan(&info.PassphraseRequired, &info.ProofRequired, &att, &maxAtt, &info.ExpiresAt)
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

// receiptBy runs a statement that returns at most one receipt, given the
// id, now and more parameters.
func (s *Store) receiptBy(ctx context.Context, query string, id onetime.ID, now time.Time, present bool, more ...any) (*onetime.SealedMetadata, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	k, ok := key(id)
	if !ok {
		return nil, onetime.ErrNotFound
	}
	m, err := scanReceipt(s.pool.QueryRow(ctx, query, append([]any{s.mode, k, now}, more...)...), present)
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

// Burn implements [onetime.Store] in one statement: a call of the burn
// function, which answers a recorded outcome, or else deletes a live secret
// whose receipt is new or viewed and moves the receipt to burned, records
// it under the replay id, and checks the deadline last.
func (s *Store) Burn(ctx context.Context, id onetime.ID, now time.Time, replay *onetime.Replay) (*onetime.SealedMetadata, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, onetime.ErrNotFound
	}
	more, err := consuming(ctx, id, replay)
	if err != nil {
		return nil, err
	}
	return s.receiptBy(ctx, s.q.burn, id, now, false, more...)
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

// Sweep implements [onetime.Store]. It deletes expired secrets, expired
// receipts, then expired replay records, Options.SweepBatch rows per
// statement through the expiry indexes: its cost is proportional to the
// number of expired rows. It counts secrets and receipts, the records of
// the contract; replay records are reclaimed but not counted.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	total := 0
	for _, q := range []string{s.q.sweepSecrets, s.q.sweepReceipts, s.q.sweepReplays} {
		for {
			tag, err := s.pool.Exec(ctx, q, s.mode, now, int64(s.sweepBatch))
			if err != nil {
				return total, s.fail(ctx, err)
			}
			n := int(tag.RowsAffected())
			if q != s.q.sweepReplays {
				total += n
			}
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
