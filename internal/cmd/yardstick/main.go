// Command yardstick serves the bare handler of internal/yardstick on a
// loopback address, as a process of its own so that its CPU time can be
// read apart from the load generator's. The benchmark tool
// (internal/cmd/bench) builds and starts it.
//
//	yardstick -addr 127.0.0.1:7144
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/onetimego/onetime/internal/yardstick"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7144", "loopback address to listen on")
	flag.Parse()
	if err := serve(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "yardstick:", err)
		os.Exit(1)
	}
}

func serve(addr string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("-addr %q: want a loopback ip:port", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: yardstick.New(), ReadHeaderTimeout: 5 * time.Second}
	return srv.Serve(ln)
}
