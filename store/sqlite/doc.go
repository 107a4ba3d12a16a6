// Package sqlite is an [onetime.Store] in a SQLite database, through the
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
// # Schema
//
// The schema lives in SQL files embedded in the binary, applied in order
// inside one write transaction and recorded in the table
// onetime_schema_version, so that processes opening one file at the same
// time migrate it once. Tables are named onetime_*. A database with a
// newer version than [SchemaVersion] is refused and left untouched.
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
// Under Open, reads ([Store.Receipt], [Store.Recent]) use a separate pool
// of query-only connections: in WAL mode they never wait for the writer.
// Under New, reads and writes share the caller's pool; a write holds one
// of its connections for the length of one transaction.
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
// # Expiry
//
// A record is expired at the now passed in when !now.Before(expiresAt);
// every statement compares the stored microseconds against now, so
// expiry never depends on sweeping. [Store.Sweep] reclaims space through
// indexes on the expiry times, deleting [Options.SweepBatch] rows per
// transaction so that writers wait at most one small batch; its cost is
// proportional to the number of rows expired. The [onetime.Service]
// calls it periodically; the store starts no goroutine for it. Freed pages
// are reused by later writes; the file does not shrink on its own.
package sqlite
