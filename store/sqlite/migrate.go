package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFiles holds the schema, one file per version, named
// NNNN_description.sql. A file, once released, never changes: a change to
// the schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. It panics on
// a malformed file name, which is a bug caught by the tests.
func migrations() []migration {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			panic("sqlite: malformed migration file name " + base)
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			panic(err)
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			panic("sqlite: migrations must be numbered 1, 2, 3, ... without gaps")
		}
	}
	if len(out) != SchemaVersion {
		panic("sqlite: SchemaVersion does not match the migrations")
	}
	return out
}

// SchemaVersion is the schema version this package writes and understands:
// the number of its migrations.
const SchemaVersion = 1

// migrate brings the schema to SchemaVersion in one write transaction on
// c, so that concurrent openers (other processes on the same file) apply
// each migration exactly once and nobody sees a half-migrated schema.
func migrate(ctx context.Context, c *sql.Conn) (err error) {
	// IMMEDIATE: take the write lock (waiting out the busy timeout) before
	// reading the version, so that two openers cannot both decide to
	// migrate.
	if _, err := c.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			c.ExecContext(context.Background(), `ROLLBACK`)
		}
	}()
	if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS onetime_schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, `INSERT INTO onetime_schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM onetime_schema_version)`); err != nil {
		return err
	}
	var current int
	if err := c.QueryRowContext(ctx, `SELECT max(version) FROM onetime_schema_version`).Scan(&current); err != nil {
		return err
	}
	if current > SchemaVersion {
		return fmt.Errorf("%w: the database has schema version %d, this code knows up to %d; upgrade the program", ErrSchemaTooNew, current, SchemaVersion)
	}
	for _, m := range migrations()[current:] {
		if _, err := c.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := c.ExecContext(ctx, `UPDATE onetime_schema_version SET version = ?`, m.version); err != nil {
			return err
		}
	}
	_, err = c.ExecContext(ctx, `COMMIT`)
	return err
}
