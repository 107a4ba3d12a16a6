// Command loadgen drives a server speaking the Onetime Secret REST API v1
// (such as cmd/onetime-server) over real HTTP and reports throughput, latency
// percentiles, errors and wrong values.
//
// It targets loopback addresses only, and it always stops by itself: after
// -n operations, after -d, or both (whichever comes first; -d 10s when
// neither is given).
//
// Modes (-mode):
//
//	share     POST /api/v1/share of a fresh value per operation
//	generate  POST /api/v1/generate
//	reveal    POST /api/v1/secret/{key} of secrets shared beforehand (untimed);
//	          with -d and no -n it first shares for up to -d (or -pool secrets)
//	pair      share then reveal the same secret: one operation, two requests
//
// Every revealed value is compared byte for byte with what was shared; a
// different or missing value counts as a wrong value. With -recheck, each
// revealed secret is revealed again and must be gone (a second answer with
// a value is a wrong value too). Any error or wrong
// value makes the exit status 1, so a short run works as a smoke test.
//
// By default each worker has its own keep-alive connection and a minimal
// HTTP/1.1 client (-client raw): on a small machine shared with the server,
// net/http's client (-client std) spent about three times the CPU per
// request, capacity the server under test did not get.
//
// -burst N adds N workers that, during the timed phase, reveal passphrase
// secrets with a wrong passphrase (a few times each, then with the right one,
// which must still return the value). Their load is the server's slow
// passphrase KDF; the main workers' latency shows how other requests fare.
//
// -guess N adds N workers that, during the timed phase, guess passphrases
// on random secret keys that exist nowhere, as an attacker would; every
// answer must be "Unknown secret". With -mode pair -passphrase the main
// workers' latency shows whether real readers are starved meanwhile.
//
// Every worker's connection comes from one address, the loopback one.
// cmd/onetime-server serves at most 64 connections at once from one address
// (-max-conns-per-addr) and closes more: start it with
// -max-conns-per-addr 0 for runs of more workers (-c, -burst and -guess
// together), as the last two examples need.
//
// Examples:
//
//	go run ./internal/cmd/loadgen -mode pair -c 32 -d 10s
//	go run ./internal/cmd/loadgen -mode share -n 100000 -json
//	go run ./internal/cmd/loadgen -mode pair -passphrase -d 3s
//	go run ./internal/cmd/loadgen -mode pair -c 32 -burst 200 -d 10s
//	go run ./internal/cmd/loadgen -mode pair -passphrase -c 1 -guess 1500 -d 30s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"

	"github.com/onetimego/onetime/internal/loadgen"
)

func main() {
	cfg, err := loadgen.ParseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(2)
		}
		defer f.Close()
	}
	rep, err := loadgen.Run(ctx, cfg, os.Stderr)
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if cfg.JSON {
		err = rep.WriteJSON(os.Stdout)
	} else {
		err = rep.WriteText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if !rep.OK() {
		os.Exit(1)
	}
}
