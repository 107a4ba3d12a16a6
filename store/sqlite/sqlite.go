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
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors of this package, checked with [errors.Is]. They wrap or accompany
// the driver's error, whose text names no id, value or passphrase. A
// closed Store answers [onetime.ErrClosed], like every store.
var (
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
	// applies it: with New, the caller's DSN decides (SQLite's own
	// default, FULL, is at least as durable).
	Synchronous Synchronous

	// BusyTimeout is how long a write waits for another connection (or
	// process) to release the database lock before failing with ErrBusy
	// (5 seconds). Open sets it on every connection, New on the
	// connection the store writes through.
	BusyTimeout time.Duration

	// MaxReadConns sizes Open's pool of read-only connections, used by
	// Receipt, Peek and Recent: max(4, GOMAXPROCS) by default. Writes
	// always go through one connection, as SQLite admits one writer at a
	// time.
	MaxReadConns int

	// SweepBatch is how many expired rows Sweep deletes per transaction
	// (500), so that a large sweep never holds the write lock for long.
	SweepBatch int

	// MaxBatch bounds how many operations group commit puts in one
	// transaction (128). 1 gives every operation a transaction of its
	// own, at several times the cost per operation under load.
	MaxBatch int
}

// Store is a [onetime.Store] in a SQLite database. It is safe for
// concurrent use, and several Stores, in one process or many, may share a
// database file.
type Store struct {
	w     *writer
	wdb   *sql.DB     // Open's writer pool (one connection), nil under New
	r     *sql.DB     // the readers' pool: Open's, or the caller's under New; nil when reads go through the writer
	reads []*sql.Stmt // readQueries, prepared on r, or on the writer's connection when r is nil
	ckdb  *sql.DB     // the checkpointer's connection, under Open
	ckpt  *checkpointer

	sweepBatch  int
	incremental bool // auto_vacuum is INCREMENTAL: Sweep gives freed pages back
	inMemory    bool // the database has no file: no log to checkpoint
	closed      atomic.Bool
}

// start prepares the statements and starts the writer on conn, and the
// checkpointer when ckdb is not nil. Reads use r, or the writer when r is
// nil. On failure it releases conn.
func start(ctx context.Context, conn *sql.Conn, st setup, r, ckdb *sql.DB, o Options) (*Store, error) {
	s := &Store{r: r, ckdb: ckdb, sweepBatch: o.SweepBatch, incremental: st.incremental, inMemory: st.inMemory}
	for _, q := range readQueries {
		var rs *sql.Stmt
		var err error
		if r != nil {
			rs, err = r.PrepareContext(ctx, q)
		} else {
			rs, err = conn.PrepareContext(ctx, q)
		}
		if err != nil {
			s.closeReads()
			st.release(conn)
			return nil, err
		}
		s.reads = append(s.reads, rs)
	}
	if ckdb != nil {
		s.ckpt = newCheckpointer(ckdb)
	}
	w, err := newWriter(ctx, conn, st, o.MaxBatch, s.ckpt)
	if err != nil {
		s.closeReads()
		if s.ckpt != nil {
			s.ckpt.close()
		}
		st.release(conn)
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

// A setting is a pragma that the store sets on the connection it writes
// through, whatever the DSN said, because a guarantee rests on it.
type setting struct {
	name, value string
}

// settings returns what configure sets, in order: the busy timeout first,
// as changing the journal mode may wait for a lock.
func settings(o Options) []setting {
	return []setting{
		{"busy_timeout", strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10)},
		// Overwrite deleted content with zeros: a revealed, burned or
		// expired record must not linger in free space of the file
		// (SECURITY.md).
		{"secure_delete", "1"},
		{"foreign_keys", "1"},
		// After a checkpoint that resets the log, cut it back to 64 MiB.
		{"journal_size_limit", "67108864"},
	}
}

// setup is what configure found and changed on the writer's connection.
type setup struct {
	restore     []setting // the values the settings had before, for New's Close
	incremental bool
	inMemory    bool
}

// release gives conn back to its pool with the settings it had.
func (st setup) release(conn *sql.Conn) {
	for _, p := range st.restore {
		conn.ExecContext(context.Background(), "PRAGMA "+p.name+" = "+p.value)
	}
	conn.Close()
}

// configure sets and checks, on the connection the store writes through,
// everything the store's guarantees rest on: the busy timeout,
// secure_delete, a writable database, WAL mode (set when the database is
// in another mode; an in-memory database has no file and keeps its own),
// the schema and auto_vacuum (see autoVacuum). It records the settings'
// former values in the returned setup.
func configure(ctx context.Context, c *sql.Conn, o Options) (setup, error) {
	var st setup
	var queryOnly bool
	if err := c.QueryRowContext(ctx, `PRAGMA query_only`).Scan(&queryOnly); err != nil {
		return st, err
	}
	if queryOnly {
		return st, fmt.Errorf("%w (PRAGMA query_only is on)", ErrReadOnly)
	}
	var err error
	if st.restore, err = apply(ctx, c, settings(o)); err != nil {
		return st, err
	}
	if st.inMemory, err = inMemory(ctx, c); err != nil {
		return st, err
	}
	if !st.inMemory {
		if err := walMode(ctx, c); err != nil {
			return st, err
		}
	}
	if st.incremental, err = autoVacuum(ctx, c); err != nil {
		return st, fmt.Errorf("setting auto_vacuum: %w", err)
	}
	if err := migrate(ctx, c); err != nil {
		return st, fmt.Errorf("migrating the schema: %w", err)
	}
	return st, nil
}

// apply sets each pragma of set on c, checks that it took, and returns
// their values from before, so far as it got.
func apply(ctx context.Context, c *sql.Conn, set []setting) (old []setting, err error) {
	for _, p := range set {
		var was, now string
		if err := c.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&was); err != nil {
			return old, err
		}
		old = append(old, setting{p.name, was})
		if _, err := c.ExecContext(ctx, "PRAGMA "+p.name+" = "+p.value); err != nil {
			return old, err
		}
		if err := c.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&now); err != nil {
			return old, err
		}
		if now != p.value {
			return old, fmt.Errorf("PRAGMA %s is %s after setting it to %s", p.name, now, p.value)
		}
	}
	return old, nil
}

// inMemory reports whether c's main database is in memory: it has no
// file.
func inMemory(ctx context.Context, c *sql.Conn) (bool, error) {
	rows, err := c.QueryContext(ctx, `PRAGMA database_list`)
	if err != nil {
		return false, err
	}
	mem := false
	for rows.Next() {
		var seq int
		var name, file string
		if err := rows.Scan(&seq, &name, &file); err != nil {
			rows.Close()
			return false, err
		}
		if name == "main" {
			mem = file == ""
		}
	}
	return mem, errors.Join(rows.Err(), rows.Close())
}

// walMode puts c's database in WAL mode, and fails if it cannot.
func walMode(ctx context.Context, c *sql.Conn) error {
	var mode string
	if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode == "wal" {
		return err
	}
	if err := c.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return fmt.Errorf("setting WAL mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("the journal mode is %q and cannot be set to wal", mode)
	}
	return nil
}

// autoVacuum makes the database INCREMENTAL, so that Sweep can give the
// pages it frees back to the file system, and reports whether it is.
// auto_vacuum can only be chosen before the first table is created, or by
// rebuilding the file with VACUUM; so a database in mode NONE that holds
// only this store's tables (a new file, or one an earlier version of this
// package wrote) is rebuilt once, here.
// A database with other tables (the caller's, under New) is left as it
// is: rebuilding it is its owner's decision, and Sweep then leaves freed
// pages for reuse. FULL is kept too: it shrinks the file at every commit.
func autoVacuum(ctx context.Context, c *sql.Conn) (bool, error) {
	mode := func() (int, error) {
		var m int
		err := c.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&m)
		return m, err
	}
	m, err := mode()
	if err != nil || m != 0 {
		return m == 2, err
	}
	var others int
	if err := c.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table'
		AND name NOT LIKE 'onetime\_%' ESCAPE '\' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&others); err != nil {
		return false, err
	}
	if others > 0 {
		return false, nil
	}
	if _, err := c.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		return false, err
	}
	if m, err = mode(); err != nil || m == 2 {
		return m == 2, err
	}
	// The file has pages already (its header, at least, once the WAL mode
	// is recorded): only a rebuild changes the mode.
	if _, err := c.ExecContext(ctx, `VACUUM`); err != nil {
		return false, err
	}
	m, err = mode()
	return m == 2, err
}

// New returns a Store on a database the caller opened with the
// modernc.org/sqlite driver, creating or migrating its schema (tables
// named onetime_*; other tables are left alone). The caller keeps the
// handle: Close does not close db.
//
// New keeps the guarantees of [Open] whatever the DSN says: it takes one
// connection from db for as long as the store is open, writes only
// through it, and sets on it the busy timeout (opts.BusyTimeout),
// secure_delete, foreign_keys and a journal size limit (Close restores
// their former values); it puts a file database in WAL mode if it is
// not, and fails if it cannot. A plain path is a fine DSN:
//
//	db, err := sql.Open("sqlite", "/var/lib/app/app.db")
//
// Reads run on db's other connections, with the caller's settings (a
// read deletes nothing, and in WAL mode never waits for the writer);
// when db is an in-memory database or is limited to one connection,
// reads go through the store's connection too. A database holding only
// this store's tables is made auto_vacuum=INCREMENTAL (see [Store.Sweep]);
// the caller's own database is left in its mode.
//
// New fails with a clear error when db is closed, read-only, not a
// database, locked past the busy timeout, or has a newer schema. Of opts,
// Synchronous and MaxReadConns do not apply.
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
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, wrap("new: database unusable", err)
	}
	st, err := configure(ctx, conn, o)
	if err != nil {
		st.release(conn)
		return nil, wrap("new", err)
	}
	r := db
	if st.inMemory || db.Stats().MaxOpenConnections == 1 {
		r = nil // its other connections see another database, or there are none
	}
	s, err := start(ctx, conn, st, r, nil, o)
	if err != nil {
		return nil, wrap("new: preparing statements", err)
	}
	return s, nil
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
// a Store on it. A file that Open creates is readable and writable by its
// owner only (mode 0600, like a key file; SQLite gives the -wal and -shm
// files the same mode); an existing file keeps its mode. The file is put
// in WAL mode, so readers never block the writer; writes go through a
// single connection that begins its transactions IMMEDIATE and waits up to
// opts.BusyTimeout for other processes, reads through a pool of
// query-only connections, and checkpoints through a connection of its
// own (see the package documentation). Close closes them all.
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
	abs, err := createFile(path)
	if err != nil {
		return nil, err
	}
	// Three handles on the file: the writer's one connection (one writer:
	// SQLite admits one at a time anyway, and queueing in Go is cheaper
	// and fairer than spinning on the busy handler), the readers' pool,
	// and the checkpointer's connection.
	base := fileDSN(abs, o)
	w, err1 := openPool(base+"&_journal_mode=WAL", 1)
	r, err2 := openPool(base+"&_pragma=query_only(1)", o.MaxReadConns)
	ck, err3 := openPool(base, 1)
	fail := func(op string, err error) (*Store, error) {
		for _, db := range []*sql.DB{w, r, ck} {
			if db != nil {
				db.Close()
			}
		}
		return nil, wrap("open "+path+": "+op, err)
	}
	if err := errors.Join(err1, err2, err3); err != nil {
		return fail("opening the database", err)
	}
	conn, err := w.Conn(ctx)
	if err != nil {
		return fail("opening the database", err)
	}
	st, err := configure(ctx, conn, o)
	st.restore = nil // the connection is the store's own
	if err != nil {
		conn.Close()
		return fail("configuring the database", err)
	}
	if err := r.PingContext(ctx); err != nil {
		conn.Close()
		return fail("opening a reader", err)
	}
	s, err := start(ctx, conn, st, r, ck, o)
	if err != nil {
		return fail("preparing statements", err)
	}
	s.wdb = w
	return s, nil
}

// createFile checks that path can be a database file, in a directory that
// exists, and creates it if it does not exist, with mode 0600: SQLite
// would make it 0644, and its log files take the database file's mode.
// (An empty file is an empty database to SQLite.) It returns the absolute
// path.
func createFile(path string) (string, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return "", fmt.Errorf("sqlite: open %q: want the path of a file (for an in-memory or custom DSN, open it yourself and use New)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("sqlite: open %s: directory %s does not exist: %w", path, dir, fs.ErrNotExist)
		}
		return "", fmt.Errorf("sqlite: open %s: %w", path, err)
	} else if !fi.IsDir() {
		return "", fmt.Errorf("sqlite: open %s: %s is not a directory", path, dir)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return "", fmt.Errorf("sqlite: open %s: is a directory", path)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		f.Close()
	case errors.Is(err, fs.ErrPermission):
		return "", fmt.Errorf("sqlite: open %s: creating the file: %w: %w", path, ErrReadOnly, err)
	case !errors.Is(err, fs.ErrExist):
		return "", fmt.Errorf("sqlite: open %s: creating the file: %w", path, err)
	}
	return abs, nil
}

// fileDSN returns the DSN that Open's handles share: a file: URI, so that
// any character in the path is escaped, whose parameters prefixed with _
// are the driver's, applied to every new connection.
func fileDSN(abs string, o Options) string {
	sync, _ := o.Synchronous.pragma() // options checked it
	return "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + url.Values{
		"_pragma": {
			"busy_timeout(" + strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10) + ")",
			"foreign_keys(1)",
			"synchronous(" + sync + ")",
			// See settings: the writer's connection gets them again
			// from configure.
			"secure_delete(1)",
			"journal_size_limit(67108864)",
			// The checkpointer (checkpoint.go) does the work; this is
			// the writer's safety net, every 4000 pages (16 MiB of log)
			// rather than SQLite's 1000, as a checkpoint in the writer
			// stalls every write on its fsyncs.
			"wal_autocheckpoint(4000)",
		},
	}.Encode()
}

// openPool returns a handle on dsn that holds up to n connections and
// keeps them open: each carries its settings and SQLite's page cache.
func openPool(dsn string, n int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// Close releases the store. A Store from Open closes its connections; one
// from New gives its connection back to the caller's *sql.DB, with the
// settings it had, and leaves the handle open. Later calls return
// [onetime.ErrClosed]; Close itself is safe to call more than once.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.w.close()
	if s.ckpt != nil {
		s.ckpt.close()
	}
	s.closeReads()
	if s.wdb == nil {
		return nil
	}
	return errors.Join(s.r.Close(), s.ckdb.Close(), s.wdb.Close())
}

// kind returns the sentinel of this package that a driver error is an
// instance of, or nil.
func kind(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return ErrBusy
		case sqlite3.SQLITE_READONLY:
			return ErrReadOnly
		case sqlite3.SQLITE_NOTADB:
			return ErrNotDatabase
		}
	}
	return nil
}

// wrap turns an error of opening a store into one of this package's,
// saying what failed (op) and keeping the original in the chain. The
// texts of SQLite's errors name tables and columns, never values.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if k := kind(err); k != nil && !errors.Is(err, k) {
		return fmt.Errorf("sqlite: %s: %w: %w", op, k, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// wrapErr is wrap for the errors of a Store's methods: it names no
// method, since the Service adds the operation's name.
func wrapErr(err error) error {
	if k := kind(err); k != nil && !errors.Is(err, k) {
		return fmt.Errorf("%w: %w", k, err)
	}
	return fmt.Errorf("sqlite: %w", err)
}
