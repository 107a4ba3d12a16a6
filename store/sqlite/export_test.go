package sqlite

// BatchStats reports how many write transactions the store has run and
// how many operations they held.
func (s *Store) BatchStats() (batches, ops int64) {
	return s.w.nBatches.Load(), s.w.nOps.Load()
}
