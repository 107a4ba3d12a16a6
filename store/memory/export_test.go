package memory

// IndexSizes reports the length of the expiry heap and the number of
// entries in the owners' lists (removed receipts included), so that tests
// can check that the indexes, not only the records, stay bounded.
func (s *Store) IndexSizes() (expiry, owned int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, list := range s.owners {
		owned += len(list)
	}
	return len(s.expiries), owned
}

// Replays reports how many replay records the store holds, expired or not.
func (s *Store) Replays() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.replays)
}

// Hold locks the store until the function it returns is called, as a long
// call of another goroutine would.
func (s *Store) Hold() (release func()) {
	s.mu.Lock()
	return s.mu.Unlock
}
