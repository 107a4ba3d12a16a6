//go:build unix

package redistest

import (
	"errors"
	"syscall"
	"testing"
)

// Pause stops the server's process with SIGSTOP: a stalled Redis (a long
// fork, a swapped-out or frozen host) that keeps its port and its
// connections, takes commands into its socket buffers and answers nothing
// until [Server.Resume]; it then runs what it had received. The server is
// resumed when t ends, if the test did not. t is skipped for an external
// server and on systems without SIGSTOP.
func (s *Server) Pause(t testing.TB) {
	t.Helper()
	if s.external {
		t.Skip("redistest: cannot pause an external server")
	}
	if err := s.signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("redistest: pausing redis-server: %v", err)
	}
	t.Cleanup(func() { s.signal(syscall.SIGCONT) })
}

// Resume continues a server that [Server.Pause] stopped (SIGCONT).
func (s *Server) Resume(t testing.TB) {
	t.Helper()
	if err := s.signal(syscall.SIGCONT); err != nil {
		t.Fatalf("redistest: resuming redis-server: %v", err)
	}
}

// signal sends sig to the server's process.
func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		return errors.New("server not running")
	}
	return cmd.Process.Signal(sig)
}
