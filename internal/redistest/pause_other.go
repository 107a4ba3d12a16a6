//go:build !unix

package redistest

import "testing"

// Pause would stop the server with SIGSTOP, which this system does not
// have: t is skipped.
func (s *Server) Pause(t testing.TB) {
	t.Helper()
	t.Skip("redistest: pausing a server needs SIGSTOP")
}

// Resume would continue a paused server: t is skipped.
func (s *Server) Resume(t testing.TB) {
	t.Helper()
	t.Skip("redistest: resuming a server needs SIGCONT")
}
