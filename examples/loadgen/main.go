// Command loadgen drives a server speaking the Onetime Secret REST API v1
// (such as examples/server) over real HTTP and reports throughput, latency
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
// Examples:
//
//	go run ./examples/loadgen -mode pair -c 32 -d 10s
//	go run ./examples/loadgen -mode share -n 100000 -json
//	go run ./examples/loadgen -mode pair -passphrase -d 3s
//	go run ./examples/loadgen -mode pair -c 32 -burst 200 -d 10s
//	go run ./examples/loadgen -mode pair -passphrase -c 1 -guess 1500 -d 30s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"
)

type config struct {
	URL        string
	Conc       int
	Mode       string
	N          int64
	Dur        time.Duration
	Size       int
	Passphrase string // "" when secrets have none
	JSON       bool
	Auth       string // "custid:token" or ""
	Burst      int
	Guess      int
	Pool       int
	Timeout    time.Duration
	CPUProfile string
	Warmup     time.Duration
	Client     string
	Recheck    bool
}

// passFlag is -passphrase: given alone it switches on a passphrase chosen
// by loadgen; -passphrase=VALUE uses VALUE; -passphrase=false, none.
type passFlag struct{ value string }

const defaultPassphrase = "loadgen passphrase"

func (p *passFlag) String() string   { return p.value }
func (p *passFlag) IsBoolFlag() bool { return true }
func (p *passFlag) Set(s string) error {
	switch s {
	case "true":
		p.value = defaultPassphrase
	case "false", "":
		p.value = ""
	default:
		p.value = s
	}
	return nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var pass passFlag
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:7143", "base URL of the server (loopback only)")
	fs.IntVar(&c.Conc, "c", 32, "concurrent clients")
	fs.StringVar(&c.Mode, "mode", "pair", "share, reveal, pair or generate")
	fs.Int64Var(&c.N, "n", 0, "operations to run (0: bounded by -d only)")
	fs.DurationVar(&c.Dur, "d", 0, "duration of the timed phase (default 10s when -n is not given)")
	fs.IntVar(&c.Size, "size", 100, "value size in bytes")
	fs.Var(&pass, "passphrase", "protect secrets with a passphrase (-passphrase, or -passphrase=VALUE)")
	fs.BoolVar(&c.JSON, "json", false, "print the summary as JSON")
	fs.StringVar(&c.Auth, "auth", "", "HTTP Basic credentials custid:apitoken (default anonymous)")
	fs.IntVar(&c.Burst, "burst", 0, "extra workers making wrong-passphrase reveals during the run")
	fs.IntVar(&c.Guess, "guess", 0, "extra workers guessing passphrases on random, nonexistent secret keys during the run")
	fs.IntVar(&c.Pool, "pool", 1_000_000, "reveal mode with -d only: at most this many secrets shared beforehand")
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "timeout of one HTTP request")
	fs.DurationVar(&c.Warmup, "warmup", 0, "run the mode untimed this long before the timed phase (not in reveal mode, whose untimed prefill warms up)")
	fs.StringVar(&c.Client, "client", "raw", "HTTP client: raw (a minimal HTTP/1.1 client, one connection per worker, light on CPU) or std (net/http)")
	fs.BoolVar(&c.Recheck, "recheck", false, "pair and reveal modes: reveal each secret a second time (untimed, but within the run) and require Unknown secret")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write loadgen's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	c.Passphrase = pass.value
	if _, err := checkURL(c.URL); err != nil {
		return c, err
	}
	c.URL = strings.TrimRight(c.URL, "/")
	if c.Client != "raw" && c.Client != "std" {
		return c, fmt.Errorf("bad -client %q: want raw or std", c.Client)
	}
	switch c.Mode {
	case "share", "reveal", "pair", "generate":
	default:
		return c, fmt.Errorf("bad -mode %q: want share, reveal, pair or generate", c.Mode)
	}
	switch {
	case c.Conc < 1:
		return c, errors.New("-c must be at least 1")
	case c.N < 0 || c.Dur < 0 || c.Warmup < 0 || c.Burst < 0 || c.Guess < 0 || c.Pool < 1 || c.Timeout <= 0:
		return c, errors.New("-n, -d, -warmup, -burst, -guess, -pool and -timeout must not be negative (and -pool, -timeout not zero)")
	case c.Size < 1:
		return c, errors.New("-size must be at least 1 (an empty secret is rejected by the API)")
	case c.Auth != "" && !strings.Contains(c.Auth, ":"):
		return c, errors.New("-auth must be custid:apitoken")
	}
	if c.N == 0 && c.Dur == 0 {
		c.Dur = 10 * time.Second
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
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
	rep, err := run(ctx, cfg, os.Stderr)
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if cfg.JSON {
		err = rep.writeJSON(os.Stdout)
	} else {
		err = rep.writeText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if !rep.OK() {
		os.Exit(1)
	}
}
