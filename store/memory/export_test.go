package memory

// IndexSizes reports the length of the expiry heap and how many receipts
// are numbered to be ordered for Recent (those with an owner), so that
// tests can check that the indexes, not only the records, stay bounded.
func (s *Store) IndexSizes() (expiry, ordered int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.receipts {
		if r.order != 0 {
			ordered++
		}
	}
	return len(s.expiries), ordered
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
