package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Table returns the quoted, qualified name of the store's table name
// ("secrets", "receipts", "replays", "schema_version"), or of its
// function ("reveal", "burn").
func (s *Store) Table(name string) string { return s.names.table(name) }

// Index returns the quoted name of the store's index name.
func (s *Store) Index(name string) string { return quote(s.names.tp + name) }

// Queries returns the store's statements.
func (s *Store) Queries() map[string]string {
	return map[string]string{"recent": s.q.recent, "sweepSecrets": s.q.sweepSecrets, "sweepReceipts": s.q.sweepReceipts,
		"sweepReplays": s.q.sweepReplays}
}

// NewAtVersion is New with the schema brought to version only: a store as
// an earlier release left it, to write data into before an upgrade.
func NewAtVersion(ctx context.Context, pool *pgxpool.Pool, opts *Options, version int) (*Store, error) {
	return newAt(ctx, pool, opts, version)
}
