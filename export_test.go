package onetime

import "context"

// HoldKDF takes every passphrase-derivation slot of svc, as derivations
// under way would, and returns the function that gives them back. While
// they are held, a Reveal that derives a key waits in the queue, so a test
// can tell whether a call derives at all.
func HoldKDF(svc *Service) (release func()) {
	n := svc.opts.KDFConcurrency
	for range n {
		if err := svc.seal.kdf.acquire(context.Background(), "test holder"); err != nil {
			panic(err) // unreachable: Background never ends
		}
	}
	return func() {
		for range n {
			svc.seal.kdf.release()
		}
	}
}

// KDFWaiting reports how many derivations wait for a slot of svc, and how
// many slots are free.
func KDFWaiting(svc *Service) (waiting, free int) {
	s := svc.seal.kdf
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queues {
		waiting += len(q)
	}
	return waiting, s.free
}
