package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onetimego/onetime/internal/migrations"
)

// migrationFiles holds the schema, one file per version, named
// NNNN_description.sql. A file, once released, never changes: a change to
// the schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// SchemaVersion is the schema version this package writes and understands:
// the number of its migrations.
const SchemaVersion = 3

// loadMigrations returns the embedded migrations in version order. Embedded
// files cannot change at run time, so a malformed set is a bug, which the
// tests catch: it panics.
func loadMigrations() []migrations.Migration {
	ms, err := migrations.Load(migrationFiles, "migrations/*.sql", SchemaVersion)
	if err != nil {
		panic("postgres: " + err.Error())
	}
	return ms
}

// lockClass is the first key of the advisory lock that serialises
// migrations ("onet"); the second is a hash of the tables' prefix.
const lockClass = 0x6f6e6574

// migrateTo brings the schema to version target: SchemaVersion, but in
// tests, which write data as an earlier release did. A schema already at
// that version is only read, so a role without CREATE privileges can open a
// store that an administrator migrated. Otherwise one transaction takes a
// transaction-scoped advisory lock (which PgBouncer in transaction mode
// keeps, unlike a session lock), reads the version, and applies what is
// missing: concurrent openers, in any process, apply each migration once
// and nobody sees a half-migrated schema.
func migrateTo(ctx context.Context, pool *pgxpool.Pool, n *names, target int) error {
	v, err := currentVersion(ctx, pool, n)
	if err != nil {
		return err
	}
	if v == target {
		return nil
	}
	if v > target {
		return tooNew(v)
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`,
			pgx.QueryExecModeExec, int32(lockClass), n.prefix); err != nil {
			return err
		}
		if n.schema != "" {
			if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+quote(n.schema), pgx.QueryExecModeSimpleProtocol); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+n.table("schema_version")+
			` (version integer NOT NULL)`, pgx.QueryExecModeSimpleProtocol); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+n.table("schema_version"),
			pgx.QueryExecModeSimpleProtocol).Scan(&current); err != nil {
			return err
		}
		if current > target {
			return tooNew(current)
		}
		for _, m := range loadMigrations()[current:target] {
			if _, err := tx.Exec(ctx, n.expand(m.SQL), pgx.QueryExecModeSimpleProtocol); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+n.table("schema_version"), pgx.QueryExecModeSimpleProtocol); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+n.table("schema_version")+` (version) VALUES (`+
			strconv.Itoa(target)+`)`, pgx.QueryExecModeSimpleProtocol)
		return err
	})
}

// currentVersion reads the schema version without taking a lock: 0 when
// there is no version table yet.
func currentVersion(ctx context.Context, pool *pgxpool.Pool, n *names) (int, error) {
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.QueryExecModeExec,
		n.table("schema_version")).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+n.table("schema_version"),
		pgx.QueryExecModeSimpleProtocol).Scan(&v)
	return v, err
}

func tooNew(v int) error {
	return fmt.Errorf("%w: the database has schema version %d, this code knows up to %d; upgrade the program",
		ErrSchemaTooNew, v, SchemaVersion)
}

// ErrSchemaTooNew means the tables were written by a newer version of this
// package. They are left untouched; upgrade the program.
var ErrSchemaTooNew = errors.New("postgres: database schema is newer than this code")
