package memory

// IndexSizes reports the length of the expiry heap and the number of
// entries in the owners' lists (reclaimed ones included), so that tests
// can check that the indexes, not only the records, stay bounded.
func (s *Store) IndexSizes() (expiry, owned int) {
	s.hmu.Lock()
	expiry = len(s.expiry)
	s.hmu.Unlock()
	s.omu.Lock()
	defer s.omu.Unlock()
	for _, list := range s.owners {
		owned += len(list)
	}
	return expiry, owned
}

// ArenaBytes reports the bytes the shards' arenas hold, in use or free.
func (s *Store) ArenaBytes() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.arena.chunks) * chunkSize
		for _, b := range sh.arena.large {
			n += len(b)
		}
		sh.mu.Unlock()
	}
	return n
}
