package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/onetimego/onetime/internal/migrations"
)

// migrationFiles holds the schema, one file per version, named
// NNNN_description.sql. A file, once released, never changes: a change to
// the schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// loadMigrations returns the embedded migrations in version order. Embedded
// files cannot change at run time, so a malformed set is a bug, which the
// tests catch: it panics.
func loadMigrations() []migrations.Migration {
	ms, err := migrations.Load(migrationFiles, "migrations/*.sql", SchemaVersion)
	if err != nil {
		panic("sqlite: " + err.Error())
	}
	return ms
}

// SchemaVersion is the schema version this package writes and understands:
// the number of its migrations.
const SchemaVersion = 3

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
	for _, m := range loadMigrations()[current:] {
		if _, err := c.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := c.ExecContext(ctx, `UPDATE onetime_schema_version SET version = ?`, m.Version); err != nil {
			return err
		}
	}
	_, err = c.ExecContext(ctx, `COMMIT`)
	return err
}
