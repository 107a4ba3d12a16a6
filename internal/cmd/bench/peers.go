//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/onetimego/onetime/internal/loadgen"
)

// A peerDef is another one-time secret server that the tool measures on
// the same Redis as onetime's Redis store, with the same load (through
// its adapter in internal/loadgen) and the same CPU accounting.
type peerDef struct {
	Name   string // also loadgen's -api
	Repo   string // where its source is
	Module string // what go install builds, at @latest
	// Args returns its command line for the loopback address addr and
	// the Redis at redisURL; Env, what it needs in its environment.
	Args func(addr, redisURL string) []string
	Env  func(redisURL string) []string
	Note string // how it is run, for the report
}

// peerOnetime is the name of onetime (the example server on the Redis
// store) among the peers.
const peerOnetime = "onetime"

var peerDefs = []peerDef{
	{
		Name: loadgen.APIYopass, Repo: "github.com/jhaals/yopass", Module: "github.com/jhaals/yopass/cmd/yopass-server",
		Args: func(addr, redisURL string) []string {
			host, port, _ := net.SplitHostPort(addr)
			return []string{"--address", host, "--port", port, "--database", "redis", "--redis", redisURL, "--log-level", "warn"}
		},
		Env:  func(string) []string { return nil },
		Note: "yopass-server --database redis --log-level warn (its request log is at level info)",
	},
	{
		Name: loadgen.APIOts, Repo: "github.com/Luzifer/ots", Module: "github.com/Luzifer/ots",
		Args: func(addr, _ string) []string {
			return []string{"--listen", addr, "--storage-type", "redis", "--log-requests=false"}
		},
		Env:  func(redisURL string) []string { return []string{"REDIS_URL=" + redisURL} },
		Note: "ots --storage-type redis --log-requests=false, REDIS_URL in its environment",
	},
}

// peerConcs are the client counts of the side-by-side runs.
var peerConcs = []int{8, 32}

// peerStored is how many secrets each server stores for its Redis bytes
// per secret: a tenth, then the rest, measured over the rest.
// ots counts its keys with a SCAN of the whole keyspace after every
// request, so that a fill takes time quadratic in what is stored.
const peerStored = 5000

func peerNames() []string {
	var n []string
	for _, p := range peerDefs {
		n = append(n, p.Name)
	}
	return n
}

func peerByName(name string) *peerDef {
	for i := range peerDefs {
		if peerDefs[i].Name == name {
			return &peerDefs[i]
		}
	}
	return nil
}

// findPeers finds each peer's binary: the one -peers names, or one that
// go install builds from the Go module proxy. A peer that cannot be had
// is reported as not measured, with the reason; it fails nothing.
func (b *bench) findPeers(ctx context.Context) error {
	b.peerBins = map[string]string{}
	for _, p := range peerDefs {
		if bin := b.o.Peers[p.Name]; bin != "" {
			if !executable(bin) {
				b.res.PeerMissing[p.Name] = "-peers names " + bin + ", which is not an executable file"
				continue
			}
			b.peerBins[p.Name] = bin
			b.res.PeerBuilt[p.Name] = "given with -peers" + versionNote(bin)
			continue
		}
		gobin := filepath.Join(b.work, "peers")
		args := []string{"go", "install", p.Module + "@latest"}
		b.note(append([]string{"GOBIN=$TMP/peers"}, args...)...)
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "GOBIN="+gobin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.res.PeerMissing[p.Name] = "`go install " + p.Module + "@latest` failed here: " + firstLine(string(out), err)
			b.logf("  %s: not measured: %s", p.Name, b.res.PeerMissing[p.Name])
			continue
		}
		b.peerBins[p.Name] = filepath.Join(gobin, filepath.Base(p.Module))
		b.res.PeerBuilt[p.Name] = "`go install " + p.Module + "@latest`"
	}
	return nil
}

// versionNote says which source a binary given with -peers was built
// from, when the file VERSIONS beside it (written by
// scripts/build-peers.sh) has a line for it: "NAME MODULE COMMIT".
func versionNote(bin string) string {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(bin), "VERSIONS"))
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == filepath.Base(bin) {
			return fmt.Sprintf(", built by scripts/build-peers.sh from %s at commit %s", f[1], f[2])
		}
	}
	return ""
}

// firstLine returns the first line of a command's output that says why
// it failed, or err; an address in it reads "the Go module proxy" (the
// report names no registry's host).
func firstLine(out string, err error) string {
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "go: downloading") {
			return urlInText.ReplaceAllStringFunc(line, func(u string) string {
				if strings.HasSuffix(u, ":") {
					return "the Go module proxy:"
				}
				return "the Go module proxy"
			})
		}
	}
	return err.Error()
}

var urlInText = regexp.MustCompile(`https?://\S+`)

// startPeer starts a peer (or, for peerOnetime, the example server on the
// Redis store) on an emptied Redis.
func (b *bench) startPeer(ctx context.Context, name string) (*child, error) {
	if name == peerOnetime {
		return b.startTarget(ctx, "redis")
	}
	if err := b.rdb.FlushAll(ctx).Err(); err != nil {
		return nil, err
	}
	p := peerByName(name)
	url := "redis://" + b.redis.Addr + "/0"
	b.note(append([]string{name}, p.Args("127.0.0.1:PORT", "redis://127.0.0.1:REDIS_PORT/0")...)...)
	env := append(slices.Clone(b.env), p.Env(url)...)
	return startChild(b.peerBins[name], func(addr string) []string { return p.Args(addr, url) }, env, filepath.Join(b.work, name+".log"))
}

// measuredPeers returns onetime and the peers that can be run, in order.
func (b *bench) measuredPeers() []string {
	names := []string{peerOnetime}
	for _, p := range peerDefs {
		if b.peerBins[p.Name] != "" {
			names = append(names, p.Name)
		}
	}
	return names
}

// peerArgs are loadgen's arguments for a pair run of a peer.
func (b *bench) peerArgs(name string, conc int) []string {
	args := b.loadArgs("pair", conc)
	if name != peerOnetime {
		args = append(args, "-api", name)
	}
	return args
}

// peerRound runs one round of the side-by-side: each server in turn,
// fresh on an emptied Redis, pairs at each of peerConcs.
func (b *bench) peerRound(ctx context.Context) error {
	var errs []error
	for _, name := range b.measuredPeers() {
		c, err := b.startPeer(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", name, err))
			continue
		}
		for _, n := range peerConcs {
			run, err := b.load(ctx, c, redisBackend, b.peerArgs(name, n)...)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %v", name, err))
				break
			}
			k := runKey{name, "pair", n}
			b.res.Peers[k] = append(b.res.Peers[k], run)
			srv, rd := run.CPUPerOp()
			b.logf("  %s, %d clients: %.0f pairs/s, CPU per pair %.1f µs server, %.1f µs Redis, %.1f Redis commands per pair", name, n, run.Rep.OpsPerSec, srv, rd, float64(run.RedisCalls)/float64(max(run.Rep.Ops, 1)))
		}
		c.Stop()
	}
	return errors.Join(errs...)
}

// peerBytes measures each server's Redis bytes per stored secret: fresh
// on an emptied Redis, peerStored/10 shares, then the rest; the growth of
// used_memory over the rest, per secret.
func (b *bench) peerBytes(ctx context.Context) error {
	var errs []error
	for _, name := range b.measuredPeers() {
		v, err := b.peerBytesOf(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", name, err))
			continue
		}
		b.res.PeerBytes[name] = v
		b.logf("  %s: %.0f Redis bytes per stored secret", name, v)
	}
	return errors.Join(errs...)
}

func (b *bench) peerBytesOf(ctx context.Context, name string) (float64, error) {
	c, err := b.startPeer(ctx, name)
	if err != nil {
		return 0, err
	}
	defer c.Stop()
	fill := func(n int) error {
		args := []string{"-mode", "share", "-c", strconv.Itoa(b.o.Clients), "-size", strconv.Itoa(b.o.Size), "-n", strconv.Itoa(n), "-timeout", "60s"}
		if name != peerOnetime {
			args = append(args, "-api", name)
		}
		_, err := b.load(ctx, c, noBackend, args...)
		return err
	}
	first := peerStored / 10
	if err := fill(first); err != nil {
		return 0, err
	}
	before, err := b.redisUsedMemory(ctx)
	if err != nil {
		return 0, err
	}
	if err := fill(peerStored - first); err != nil {
		return 0, err
	}
	after, err := b.redisUsedMemory(ctx)
	if err != nil {
		return 0, err
	}
	return (after - before) / float64(peerStored-first), nil
}
