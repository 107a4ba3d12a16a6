package sqlite

import "context"

// BatchStats reports how many write transactions the store has run and
// how many operations they held.
func (s *Store) BatchStats() (batches, ops int64) {
	return s.w.nBatches.Load(), s.w.nOps.Load()
}

// Pragma reads a pragma on the writer's connection and on a reader's.
func (s *Store) Pragma(name string) (writer, reader string, err error) {
	ctx := context.Background()
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA "+name).Scan(&writer); err != nil {
		return "", "", err
	}
	err = s.r.QueryRowContext(ctx, "PRAGMA "+name).Scan(&reader)
	return writer, reader, err
}
