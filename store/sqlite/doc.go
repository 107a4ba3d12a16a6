// Package sqlite is a [onetime.Store] in a SQLite database, through the
// pure-Go driver modernc.org/sqlite (no cgo). It is the default store for
// one machine: durable, shared safely by any number of goroutines and
// processes, and a single file to back up.
//
// # Opening
//
// [Open] opens or creates a database file with the settings this store
// needs; [New] uses a *sql.DB the caller opened (for instance to keep the
// secrets in the application's own database, next to its other tables).
// Both create or migrate the schema and fail with a clear error, checked
// with [errors.Is], when the directory is missing, the file is not a
// database ([ErrNotDatabase]), it cannot be written ([ErrReadOnly]), it
// stays locked past the busy timeout ([ErrBusy]) or it was written by a
// newer version of this package ([ErrSchemaTooNew]).
//
//	store, err := sqlite.Open(ctx, "/var/lib/onetime/onetime.db", nil)
//	...
//	defer store.Close()
//	svc, err := onetime.New(store, serverSecret, nil)
//
// A file that Open creates has mode 0600, as a key file would, and SQLite
// gives its -wal and -shm files the same mode; an existing file keeps its
// mode.
//
// Both keep the same guarantees whatever the DSN: every write goes
// through one connection that the store holds while it is open, and the
// store sets on it the busy timeout, secure_delete, foreign_keys and a
// journal size limit, and puts the database in WAL mode, failing if it
// cannot. Under New, a plain path is enough (sql.Open("sqlite", path)),
// and Close gives the connection back with its former settings.
//
// # Schema
//
// The schema lives in SQL files embedded in the binary, applied in order
// inside one write transaction and recorded in the table
// onetime_schema_version, so that processes opening one file at the same
// time migrate it once. Tables are named onetime_*. A database with a
// newer version than [SchemaVersion] is refused and left untouched.
//
// Version 3 added the column proof (the zero-knowledge mode) in place:
// existing rows read NULL, the server-side mode. A process of an earlier
// release that already has the file open keeps running its own
// statements, which know no proof and would reveal a zero-knowledge secret
// without it: stop the processes that share a file before starting the
// upgraded program (a new process of an earlier release refuses the file,
// as a newer schema).
//
// Secrets and receipts are rows of one table, onetime_records, keyed by
// id. The two ids of a pair share their first bytes (see [onetime.ID.Slot]),
// so a pair's rows sit side by side in one page of the b-tree: each
// operation on a pair reads and writes one leaf, however large the store.
// Ids are stored as 20-byte blobs and times as integer microseconds; the
// values and receipts are stored sealed, as the service hands them over:
// the file holds no plaintext, key or passphrase.
//
// # Exactly once
//
// A Reveal takes the secret with one conditional statement,
// DELETE ... WHERE id = ? AND expires_at > now AND check matches
// RETURNING ...; a Burn claims the receipt with one conditional
// UPDATE ... WHERE state IN (new, viewed) AND the secret is live
// RETURNING .... Each runs in a write transaction, and SQLite admits one
// writer at a time on a file, so among any number of concurrent callers,
// in one process or several, exactly one succeeds. A wrong passphrase is
// counted by an UPDATE in the same way, and the attempt that reaches the
// limit deletes the secret in the same transaction.
//
// A secret shared in the zero-knowledge mode keeps its proof verifier in
// the column proof (NULL for the server-side mode). Both statements
// compare it first: a reveal without the right proof matches no row, so
// it deletes nothing, counts no attempt and records no replay, and is
// answered [onetime.ErrNotFound].
//
// # Replays and deadlines
//
// A Reveal or Burn given an [onetime.Replay] first looks, in its write
// transaction, for an answer recorded under the replay's id in the table
// onetime_replays and unexpired at now; if there is one it returns it and
// changes nothing. Otherwise it does its work and, in the same
// transaction, records its answer there (the record as it returns it,
// JSON-encoded: sealed bytes and keyed-hash ids; NULL for a counted wrong
// passphrase) until the replay's expiry. Recent never sees these rows,
// and Sweep deletes them once expired without counting them.
//
// A Reveal or Burn whose context has a deadline commits only if the
// deadline, compared with the clock, has not passed just before its
// transaction commits: one held up past it (waiting for another process's
// write lock, behind a long batch) is taken out of its batch, changes
// nothing, and returns an error wrapping [context.DeadlineExceeded]. So a
// secret is consumed only while its answer can still reach the caller.
//
// # Writes and group commit
//
// All writes of a Store go through one connection and one goroutine. The
// operations that arrive while a transaction commits run together in the
// next transaction, one after the other, so that a busy server pays one
// commit (its WAL frames, locks and, with [SyncFull], its fsync) for many
// operations. No operation is acknowledged before its commit, each is
// atomic, and one that fails with a database error is taken out of its
// batch and fails alone. A context cancelled before an operation starts
// stops it; once started it completes, so a revealed value is never lost
// between the database and its caller.
//
// [Store.View] is one operation of the writer too: in one transaction,
// under the write lock, it reads the receipt (the answer, as it was before
// the call) and moves a new receipt whose secret is live to viewed.
//
// Under Open, reads ([Store.Receipt], [Store.Peek], [Store.Recent]) use a
// separate pool of query-only connections: in WAL mode they never wait for
// the writer. Under New, they use the caller's other connections (a read
// deletes nothing, so their settings do not matter to what the file
// keeps), except when the database is in memory or the pool was limited
// to one connection when New was called: then reads go through the
// store's connection, one after the other with the writes.
//
// # Durability
//
// The file is in WAL mode. [Options.Synchronous] sets how a commit
// reaches the disk. The default, [SyncNormal], returns once the commit
// is in the write-ahead log in the operating system's cache: an
// acknowledged write survives the process being killed (kill -9, a
// crash, an OOM kill), but power loss or a kernel crash may lose the last
// commits, never the consistency of the file; a lost commit may be a
// reveal or a burn, whose secret is then readable again. [SyncFull] syncs the log at
// every commit and survives power loss; group commit shares each sync
// among the operations of a batch. A Store from Open checkpoints the log
// into the database file from a connection and goroutine of its own, so
// that the syncs of a checkpoint do not stall the writer.
//
// # Expiry and space
//
// A record is expired at the now passed in when !now.Before(expiresAt);
// every statement compares the stored microseconds against now, so
// expiry never depends on sweeping. [Store.Sweep] deletes expired rows
// through indexes on the expiry times, [Options.SweepBatch] rows per
// transaction so that writers wait at most one small batch; its cost is
// proportional to the number of rows expired. The [onetime.Service]
// calls it when asked to, or every Options.SweepInterval; the store
// starts no goroutine for it.
//
// Sweep then gives the space back. The database is in auto_vacuum mode
// INCREMENTAL, so Sweep returns the free pages to the file system, a few
// thousand per transaction, and ends with a TRUNCATE checkpoint that
// empties the write-ahead log to zero bytes: after the expiry of a burst
// of secrets both files shrink back to their live size (measured: 2,000
// pairs of 4 KiB, half revealed, from 10 MB of file and 4-20 MB of log to
// 24 KB and no log). auto_vacuum can only be chosen before the first
// table is created, or by rebuilding the file: Open and New make a new
// database INCREMENTAL, and rebuild once, with VACUUM, one in mode NONE
// that holds only this store's tables (one an earlier version wrote); the
// rebuild of a large file takes a while and needs about its size in free
// disk space. A database with other tables (the caller's, under New) is
// left in its mode: its freed pages are reused, but the file keeps its
// size until its owner runs PRAGMA auto_vacuum = INCREMENTAL; VACUUM.
//
// # What a consumed secret leaves behind
//
// (A replay's recorded answer is a copy of the consumed secret's sealed
// bytes: it goes the same way once Sweep deletes it after its expiry, a
// minute by default.)
//
// A revealed, burned or expired secret's row is deleted in a transaction
// on the store's connection, which has secure_delete on: SQLite
// overwrites the row's bytes, and any overflow page it frees, with zeros,
// so no free space of the database file holds them. In WAL mode, though,
// that change is first a new image of the page, appended to the -wal
// file, and the old images stay where they were:
//
//   - The database file keeps the page as it was until a checkpoint copies
//     the zeroed image over it. Under Open the store's checkpointer does so
//     about 100 ms after the commit (later only while a reader holds an
//     older snapshot); under New, SQLite checkpoints once the log reaches
//     its wal_autocheckpoint size (1,000 pages by default), or Sweep does.
//   - The -wal file keeps every image written since it was last emptied,
//     the one that held the secret included, until later writes overwrite
//     it (the log restarts from its beginning after a complete checkpoint,
//     and is cut back to 64 MiB) or it is truncated: by Sweep's TRUNCATE
//     checkpoint, or when the last connection to the file closes.
//
// So a consumed secret's sealed bytes are gone from both files after the
// next Sweep (provided no other connection holds an older snapshot during
// its checkpoint; it then stays for the following one), and the interval
// at which the application sweeps bounds how long they remain. The files
// hold only sealed values in any case: without the key, which is in the
// link and never stored, the bytes reveal nothing. Backups and copies of
// the files taken before are out of the store's reach.
//
// # Errors
//
// The methods return the sentinels of package onetime as they are:
// [onetime.ErrNotFound], [onetime.ErrWrongPassphrase],
// [onetime.ErrExists], and [onetime.ErrClosed] once the Store is closed.
// An id that is not well formed ([onetime.ID.Valid]) names no record: it
// is never looked for (ErrNotFound), and Create refuses a pair that
// [onetime.CheckPair] refuses, with an error that wraps
// [onetime.ErrInvalid]; so do Reveal and Burn given a replay whose id is
// not well formed. Other errors read "sqlite: <cause>", wrap
// [ErrBusy] or [ErrReadOnly] where they apply, and keep the driver's error
// in their chain; no text names an id, value or passphrase check.
package sqlite
