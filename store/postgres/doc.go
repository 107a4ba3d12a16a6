// Package postgres is a [onetime.Store] in PostgreSQL, on
// github.com/jackc/pgx/v5: for services that already run PostgreSQL, or
// that need several machines to share one store with a database's
// durability.
//
// # Opening
//
// [New] takes a *pgxpool.Pool that the caller owns (and closes: the
// store's Close does not); [Open] makes a pool from a connection string and
// closes it on Close. Both create or upgrade the store's tables first.
// [Options] choose the schema and the name prefix of the tables (so that
// the store can live in an application's database), bound Recent, size
// Sweep's batches and choose the statement mode (see PgBouncer below).
//
// # Schema and migrations
//
// The schema is embedded in the binary as numbered migrations, and a
// version table (PREFIXschema_version) records the version applied. An
// Open on a database at the current version only reads that table, so a
// role without CREATE privileges can open a store that an administrator
// migrated. Otherwise one transaction takes a transaction-scoped advisory
// lock, reads the version, applies the missing migrations and records the
// new version: processes that start at once serialise on the lock and each
// migration runs once. A database written by a newer version of this
// package is refused with [ErrSchemaTooNew] and left untouched.
//
// Two tables hold the records, PREFIXsecrets and PREFIXreceipts, keyed by
// the 20 bytes of each [onetime.ID], and a third, PREFIXreplays, the
// outcomes recorded under replay ids (see Replays below); two plpgsql
// functions, PREFIXreveal and PREFIXburn, hold the Reveal and Burn steps,
// and a third, PREFIXclaim_replay, the claim of a replay id that both
// make.
// Indexes on expires_at make Sweep cost O(expired), and one on (owner,
// created DESC, seq DESC) makes Recent a range scan.
//
// Version 2 added the replay table and the functions' replay and deadline
// parameters to a version 1 database in place, its records kept. The
// version 1 function PREFIXreveal(bytea, bytea, timestamptz) stays beside
// the new one, so that processes of the previous release still running
// during a rolling upgrade keep revealing (without replays or deadlines)
// until they are replaced; they refuse to open the upgraded database, as
// a newer schema.
//
// Version 3 added the column proof to the secrets table (the proof
// verifier of the zero-knowledge mode; NULL for the server-side mode and
// for every secret written before), which changes the catalog only, and a
// reveal function that takes the proof. The functions of versions 1 and 2
// stay, as wrappers of the new one that present no proof: processes of
// those releases keep revealing secrets of the server-side mode during a
// rolling upgrade, and cannot consume a zero-knowledge secret, nor count
// an attempt on it.
//
// # One statement per call
//
// Every method is one SQL statement, one round trip, under READ COMMITTED;
// none reads and then writes in separate statements, and none needs a
// SERIALIZABLE retry: row locks and conditional writes decide every race.
//
//   - Create inserts the secret and its receipt in one statement (a
//     data-modifying CTE). A duplicate id of either fails it with a unique
//     violation: [onetime.ErrExists], and nothing is written.
//   - Reveal calls PREFIXreveal: a DELETE ... RETURNING takes the secret
//     when its proof (if it has one) and its passphrase check match (and
//     stamps the receipt received); otherwise an UPDATE counts the wrong
//     attempt, only for a caller with the right proof, and the attempt that
//     reaches the budget deletes the secret and stamps the receipt burned,
//     all in the one call. Of any number of concurrent callers, in any
//     number of processes, exactly one takes a secret, and every wrong
//     attempt is counted once. A caller without the proof matches no row:
//     nothing is deleted, counted or recorded, and the answer is
//     [onetime.ErrNotFound]. The proof and the check are compared with
//     SQL's =, not in constant time; both compared values are HMACs under
//     the server's secret of what the reader presented, which the reader
//     cannot steer, so the time of a compare tells nothing usable.
//   - Burn calls PREFIXburn: one conditional DELETE ... USING of a live
//     secret whose receipt is new or viewed, and the UPDATE of that
//     receipt. Of a burn and a reveal the secret's row lock lets exactly
//     one win.
//   - View locks the receipt row (SELECT ... FOR NO KEY UPDATE in a CTE),
//     returns it as it was and moves a new receipt whose secret lives to
//     viewed in the same statement: concurrent views queue on the lock,
//     and exactly one of them sees "new".
//   - Peek, Receipt and Recent are single SELECTs that change nothing.
//
// Both functions also record their outcome under a replay id and check
// the call's deadline, in the same call (see below).
//
// Expiry is decided by the now each method is given, never by the
// database's clock: no statement calls now() or CURRENT_TIMESTAMP, so
// several services whose clocks agree share a store exactly, and tests
// need no sleeping. The database's clock is read for one thing only: the
// deadlines of Reveal and Burn.
//
// # Replays
//
// Reveal and Burn given an [onetime.Replay] record their outcome in
// PREFIXreplays under the replay id, in the same function call, and so in
// the same transaction, as the change: the secret row as the reveal deleted
// it (in a column of the secrets table's row type), a wrong passphrase, or
// the receipt row as the burn left it (the receipts table's row type).
// ErrNotFound is never recorded. A later call with the same replay id,
// unexpired at its now, reads the record first and answers it, writing
// nothing.
//
// Two calls with one replay id may arrive at once, on two connections or
// two machines. A call that finds no record claims the id before it
// touches the secret: it inserts a placeholder row (INSERT ... ON CONFLICT,
// which takes over an expired record under the id). A second call's insert
// of the same id waits for the first transaction to end; then it finds the
// record committed and answers it, or, if the first call found nothing (and
// deleted its placeholder) or was rolled back, claims the id itself. So
// the repeats of one call are served one outcome, and a wrong passphrase
// repeated at once is counted once; calls under other replay ids, or none,
// race on the secret's row lock as before. Everything stays under READ
// COMMITTED, in one round trip.
//
// Replay records are not records of the contract: Recent never lists them
// and Sweep deletes expired ones (in batches, through an index on
// expires_at) without counting them.
//
// # Deadlines
//
// A Reveal or Burn whose context has a deadline passes it to the function
// as a parameter. The function compares it with the database's clock
// (clock_timestamp()) first, and again last, after every lock wait and
// write, just before the statement commits; past it, it raises SQLSTATE
// OTDL0, which rolls the whole statement back: nothing is consumed, no
// attempt counted, no outcome recorded. The call then returns an error
// wrapping [context.DeadlineExceeded]. A server that stalls (a SIGSTOP, a
// hung disk, a lock held by another session) and resumes after the
// deadline so consumes nothing, although the statement reached it in time.
//
// That check is the real bound. pgx, when a call's context ends, closes the
// connection and sends a cancel request, but against a stalled server both
// wait: the statement sits in the backend's socket buffer and runs at the
// resume, before the postmaster reads the cancel request (the tests stop
// the server with SIGSTOP past a call's deadline, and see the function
// refuse the statement). A statement_timeout would not do either: it counts
// from when the server starts the statement, which a stall delays too, and
// SET LOCAL needs a transaction of more than one statement.
//
// What remains after the last check is the commit itself: the WAL flush,
// and with synchronous replication the wait for a standby. A stall there
// can still commit a change after the deadline, unanswered.
//
// The deadline is the application server's clock, compared with the
// database server's: run NTP on both. A database clock behind the
// application's by d lets a change through up to d after the deadline; one
// ahead by d refuses calls d before their deadline (every call, if d is
// larger than the request timeout).
//
// # PgBouncer and statement modes
//
// The store works behind PgBouncer in transaction mode: it keeps no
// session state (no SET, no temporary table, no session advisory lock;
// the migration lock is transaction-scoped), and by default it uses no
// named prepared statements. Each statement is sent as pgx's
// QueryExecModeCacheDescribe: the unnamed statement, parsed, bound and
// executed in one round trip, its parameter and result types cached in the
// pgx connection after the first use. The mode is passed with every query,
// whatever the pool's DefaultQueryExecMode says.
//
// Options.StatementCache switches to named prepared statements
// (QueryExecModeCacheStatement), which saves the server a parse and plan
// per call. Use it on direct connections, or behind PgBouncer 1.21 or
// later with max_prepared_statements set.
//
// # What stays behind
//
// The store holds only what the Service gives it: ids that are keyed hashes
// of the keys, and sealed bytes (bytea, stored as given). A dump of the
// tables reveals no value, passphrase, secret key, metadata key or
// recipient address; the tests check a pg_dump of the tables after a
// Service.Share of a known value.
//
// A revealed or burned secret's row is deleted in the same statement, and
// no query returns it again but a repeat under the same replay id, until
// the replay record expires (the Service's replay window, a minute by
// default): the record holds the secret row as it was deleted, still
// sealed, and the replay id, a keyed hash. Its bytes, still sealed, remain on disk for a
// while as PostgreSQL keeps them: the dead tuple stays in its heap page
// until VACUUM (autovacuum by default) reclaims the space, and its insert
// stays in the write-ahead log until the WAL segment is recycled, and in
// any WAL archive, replica or base backup taken meanwhile. Those hold only
// sealed bytes, unreadable without the reader's key, which nothing stores.
//
// Expired records, and expired replay records, are invisible at once and
// deleted by [Store.Sweep] (through the Service's Sweep or
// Options.SweepInterval) in batches of Options.SweepBatch rows, each batch
// its own short statement.
//
// # Durability
//
// A call returns after its transaction commits, so an acknowledged share or
// reveal survives a crash of the server as PostgreSQL's settings promise
// (synchronous_commit on: every acknowledged commit; off: the last few
// hundred milliseconds may be lost). The tests crash the server
// (pg_ctl stop -m immediate) under load and check that no acknowledged
// share is lost and no acknowledged reveal reveals again.
//
// # Errors
//
// The methods return the sentinels of package onetime as they are:
// [onetime.ErrNotFound], [onetime.ErrWrongPassphrase],
// [onetime.ErrExists], and [onetime.ErrClosed] once the Store is closed.
// An id that is not well formed ([onetime.ID.Valid]) names no record: it
// is never looked for (ErrNotFound), and Create refuses a pair with one,
// or whose ids do not name each other in one slot, with an error that
// wraps [onetime.ErrInvalid] ([onetime.CheckPair]); so do Reveal and Burn
// given a replay whose id is malformed or in another slot than the call's
// id, changing nothing. A call refused at its deadline returns an error
// wrapping [context.DeadlineExceeded]. Errors of the driver and the server are
// returned as "postgres: " and the cause, unwrapping to pgx's errors. Ids,
// values and checks travel only as statement parameters, which the
// server's messages do not quote, so no error text carries one.
package postgres
