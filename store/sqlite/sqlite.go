package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors of this package, checked with [errors.Is]. They wrap or accompany
// the driver's error, whose text names no id, value or passphrase.
var (
	// ErrClosed is returned by every method of a closed Store.
	ErrClosed = errors.New("sqlite: store closed")

	// ErrBusy means another connection held the database lock for longer
	// than the busy timeout.
	ErrBusy = errors.New("sqlite: database locked past the busy timeout")

	// ErrReadOnly means the database cannot be written: the file or its
	// directory is read-only, or the handle was opened read-only.
	ErrReadOnly = errors.New("sqlite: database is read-only")

	// ErrNotDatabase means the file exists but is not a SQLite database
	// (or is encrypted, or its header is damaged).
	ErrNotDatabase = errors.New("sqlite: file is not a SQLite database")

	// ErrSchemaTooNew means the database was written by a newer version of
	// this package. It is left untouched; upgrade the program.
	ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this code")
)

// Synchronous is SQLite's synchronous setting: how often a commit waits
// for the disk. See [Options.Synchronous] for what each level promises.
type Synchronous uint8

// The synchronous levels. The zero value is [SyncNormal].
const (
	// SyncNormal (the default) writes each commit to the write-ahead log
	// before it returns and syncs at checkpoints. An acknowledged commit
	// survives the process being killed (kill -9, a panic, an OOM kill),
	// because the log is in the operating system's cache; on power loss
	// or a kernel crash, the last commits before it may be rolled back,
	// but the database stays consistent.
	SyncNormal Synchronous = iota
	// SyncFull also syncs the write-ahead log at every commit: an
	// acknowledged commit survives power loss, at the cost of one fsync
	// per commit (shared by the operations that group commit puts in it).
	SyncFull
	// SyncExtra is SyncFull plus a sync of the directory, for file
	// systems that need it.
	SyncExtra
	// SyncOff never syncs. A process crash loses nothing acknowledged,
	// but power loss may corrupt the database. For bulk loads and tests.
	SyncOff
)

func (s Synchronous) pragma() (string, error) {
	switch s {
	case SyncNormal:
		return "NORMAL", nil
	case SyncFull:
		return "FULL", nil
	case SyncExtra:
		return "EXTRA", nil
	case SyncOff:
		return "OFF", nil
	}
	return "", fmt.Errorf("sqlite: unknown Synchronous level %d", s)
}

// Defaults for the zero fields of [Options].
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultSweepBatch  = 500
	DefaultMaxBatch    = 128
)

// Options configure a Store. A nil *Options, and every zero field, means
// the default.
type Options struct {
	// Synchronous is the durability of a commit; the default, SyncNormal,
	// survives a process crash but not necessarily power loss. Only Open
	// applies it: with New, the caller's DSN decides.
	Synchronous Synchronous

	// BusyTimeout is how long a write waits for another connection (or
	// process) to release the database lock before failing with ErrBusy
	// (5 seconds). Only Open applies it.
	BusyTimeout time.Duration

	// MaxReadConns sizes Open's pool of read-only connections, used by
	// Receipt and Recent: max(4, GOMAXPROCS) by default. Writes always go
	// through one connection, as SQLite admits one writer at a time.
	MaxReadConns int

	// SweepBatch is how many expired rows Sweep deletes per transaction
	// (500), so that a large sweep never holds the write lock for long.
	SweepBatch int

	// MaxBatch bounds how many operations group commit puts in one
	// transaction (128). 1 gives every operation a transaction of its
	// own, at several times the cost per operation under load.
	MaxBatch int
}

// Store is an [onetime.Store] in a SQLite database. It is safe for
// concurrent use, and several Stores, in one process or many, may share a
// database file.
type Store struct {
	w          *writer
	wdb, r     *sql.DB     // writer and reader pools; the same handle under New
	reads      []*sql.Stmt // readQueries prepared on r
	own        bool        // Close closes wdb, r and ckdb
	ckdb       *sql.DB     // the checkpointer's connection, under Open
	ckpt       *checkpointer
	sweepBatch int
	closed     atomic.Bool
}

// start prepares the statements and starts the writer, and the
// checkpointer when ckdb is not nil.
func start(ctx context.Context, wdb, r, ckdb *sql.DB, own bool, o Options) (*Store, error) {
	s := &Store{wdb: wdb, r: r, ckdb: ckdb, own: own, sweepBatch: o.SweepBatch}
	for _, q := range readQueries {
		st, err := r.PrepareContext(ctx, q)
		if err != nil {
			s.closeReads()
			return nil, err
		}
		s.reads = append(s.reads, st)
	}
	if ckdb != nil {
		s.ckpt = newCheckpointer(ckdb)
	}
	w, err := newWriter(ctx, wdb, o.MaxBatch, s.ckpt)
	if err != nil {
		s.closeReads()
		if s.ckpt != nil {
			s.ckpt.close()
		}
		return nil, err
	}
	s.w = w
	return s, nil
}

func (s *Store) closeReads() {
	for _, st := range s.reads {
		st.Close()
	}
}

// New returns a Store on a database the caller opened with the
// modernc.org/sqlite driver, creating or migrating its schema (tables
// named onetime_*; other tables are left alone). The caller configures the
// handle and keeps it: Close does not close db. Use WAL mode, a busy
// timeout, secure_delete (so that consumed records leave no bytes behind
// in the file) and, for more than one connection, _txlock=immediate, e.g.
//
//	file:/var/lib/app/app.db?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=secure_delete(1)&_txlock=immediate
//
// New fails with a clear error when db is closed, read-only, not a
// database, locked past its busy timeout, or has a newer schema. Of opts,
// only SweepBatch and MaxBatch apply.
func New(ctx context.Context, db *sql.DB, opts *Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlite: nil *sql.DB")
	}
	o, err := options(opts)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		return nil, wrap("new: database unusable", err)
	}
	var queryOnly bool
	if err := db.QueryRowContext(ctx, `PRAGMA query_only`).Scan(&queryOnly); err != nil {
		return nil, wrap("new", err)
	}
	if queryOnly {
		return nil, fmt.Errorf("sqlite: new: %w (PRAGMA query_only is on)", ErrReadOnly)
	}
	if err := migrate(ctx, db); err != nil {
		return nil, wrap("new: migrating the schema", err)
	}
	st, err := start(ctx, db, db, nil, false, o)
	if err != nil {
		return nil, wrap("new: preparing statements", err)
	}
	return st, nil
}

func options(opts *Options) (Options, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.MaxReadConns == 0 {
		o.MaxReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if o.SweepBatch == 0 {
		o.SweepBatch = DefaultSweepBatch
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.BusyTimeout < 0 || o.MaxReadConns < 0 || o.SweepBatch < 0 || o.MaxBatch < 0 {
		return o, errors.New("sqlite: negative value in Options")
	}
	if _, err := o.Synchronous.pragma(); err != nil {
		return o, err
	}
	return o, nil
}

// Open opens (creating it if needed) the database file at path and returns
// a Store on it. The file is put in WAL mode, so readers never block the
// writer; writes go through a single connection that begins its
// transactions IMMEDIATE and waits up to opts.BusyTimeout for other
// processes, reads through a pool of query-only connections. Close closes
// both.
//
// Durability follows opts.Synchronous; by default an acknowledged write
// survives a crash of the process but the last writes may be lost on
// power loss (see [SyncNormal]).
//
// Open fails with a clear error when the directory does not exist, the
// file is not a SQLite database ([ErrNotDatabase]), cannot be written
// ([ErrReadOnly]), stays locked past the busy timeout ([ErrBusy]), or has a
// newer schema ([ErrSchemaTooNew]).
func Open(ctx context.Context, path string, opts *Options) (*Store, error) {
	o, err := options(opts)
	if err != nil {
		return nil, err
	}
	if path == "" || path == ":memory:" || (len(path) > 5 && path[:5] == "file:") {
		return nil, fmt.Errorf("sqlite: open %q: want the path of a file (for an in-memory or custom DSN, open it yourself and use New)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("sqlite: open %s: directory %s does not exist: %w", path, dir, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("sqlite: open %s: %s is not a directory", path, dir)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("sqlite: open %s: is a directory", path)
	}
	sync, _ := o.Synchronous.pragma()
	// A file: URI, so that any character in the path is escaped; the
	// parameters prefixed with _ are the driver's, applied to every new
	// connection of the pool.
	base := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + url.Values{
		"_pragma": {
			"busy_timeout(" + strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10) + ")",
			"foreign_keys(1)",
			"synchronous(" + sync + ")",
			// Overwrite deleted content with zeros: a revealed, burned
			// or expired record must not linger in free space of the
			// file (SECURITY.md).
			"secure_delete(1)",
			"journal_size_limit(67108864)",
			// The checkpointer (checkpoint.go) does the work; this is
			// the writer's safety net, every 4000 pages (16 MiB of log)
			// rather than SQLite's 1000, as a checkpoint in the writer
			// stalls every write on its fsyncs.
			"wal_autocheckpoint(4000)",
		},
	}.Encode()
	w, err := sql.Open("sqlite", base+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer: SQLite admits one at a time anyway, and queueing in Go is
	// cheaper and fairer than spinning on the busy handler.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	fail := func(op string, err error, dbs ...*sql.DB) (*Store, error) {
		for _, db := range dbs {
			db.Close()
		}
		return nil, wrap("open "+path+": "+op, err)
	}
	if err := w.PingContext(ctx); err != nil {
		return fail("opening the database", err, w)
	}
	var mode string
	if err := w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fail("reading the journal mode", err, w)
	}
	if mode != "wal" {
		return fail("setting WAL mode", fmt.Errorf("the journal mode is %q, not wal", mode), w)
	}
	if err := migrate(ctx, w); err != nil {
		return fail("migrating the schema", err, w)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		return fail("", err, w)
	}
	r.SetMaxOpenConns(o.MaxReadConns)
	r.SetMaxIdleConns(o.MaxReadConns)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	if err := r.PingContext(ctx); err != nil {
		return fail("opening a reader", err, w, r)
	}
	ck, err := sql.Open("sqlite", base)
	if err != nil {
		return fail("", err, w, r)
	}
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)
	ck.SetConnMaxLifetime(0)
	ck.SetConnMaxIdleTime(0)
	st, err := start(ctx, w, r, ck, true, o)
	if err != nil {
		return fail("preparing statements", err, w, r, ck)
	}
	return st, nil
}

// Close releases the store. A Store from Open closes its connections; one
// from New leaves the caller's *sql.DB open. Later calls return ErrClosed;
// Close itself is safe to call more than once.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.w.close()
	if s.ckpt != nil {
		s.ckpt.close()
	}
	s.closeReads()
	if !s.own {
		return nil
	}
	return errors.Join(s.r.Close(), s.ckdb.Close(), s.wdb.Close())
}

// wrap turns a driver error into one of this package's, keeping the
// original in the chain. The texts of SQLite's errors name tables and
// columns, never values.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var kind error
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			kind = ErrBusy
		case sqlite3.SQLITE_READONLY:
			kind = ErrReadOnly
		case sqlite3.SQLITE_NOTADB:
			kind = ErrNotDatabase
		}
	}
	if kind != nil && !errors.Is(err, kind) {
		return fmt.Errorf("sqlite: %s: %w: %w", op, kind, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}
