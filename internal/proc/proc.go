// Package proc holds what the tests, benchmarks and tools of this module
// need of the processes they run: the CPU time this process has used (on
// a shared machine it varies far less than wall time), servers that die
// with the process that started them, and free loopback ports for those
// servers.
package proc

import (
	"net"
	"time"
)

// SelfCPU returns the CPU time, user and system, that this process has
// used so far; 0 where it is not measured (see [CPU]).
func SelfCPU() time.Duration {
	self, _, _ := CPU()
	return self
}

// FreePorts returns n distinct loopback ports that were free a moment
// ago. A port can be taken between this call and a server binding it:
// callers try again on a bind error.
func FreePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
