package postgres

// Table returns the quoted, qualified name of the store's table name
// ("secrets", "receipts", "schema_version").
func (s *Store) Table(name string) string { return s.names.table(name) }

// Index returns the quoted name of the store's index name.
func (s *Store) Index(name string) string { return quote(s.names.tp + name) }

// Queries returns the store's statements.
func (s *Store) Queries() map[string]string {
	return map[string]string{"recent": s.q.recent, "sweepSecrets": s.q.sweepSecrets, "sweepReceipts": s.q.sweepReceipts}
}
