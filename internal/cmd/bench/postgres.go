//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onetimego/onetime/internal/pgtest"
)

// startPostgres starts a private PostgreSQL server (internal/pgtest:
// initdb, then postgres on a free loopback port; never the machine's own
// on 5432) for the PostgreSQL store and the pgbench yardstick.
func (b *bench) startPostgres(ctx context.Context) error {
	s, err := pgtest.StartServer(pgtest.Config{})
	if err != nil {
		return err
	}
	b.pg = s
	b.note(filepath.Join("$PGBIN", "initdb"), "-D", "$TMP/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
	b.note(filepath.Join("$PGBIN", "postgres"), "-D", "$TMP/data", "-p", "PORT", "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=off", "-c", "full_page_writes=off")
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid(), current_setting('server_version')").Scan(&backend, &b.res.PostgresVersion); err != nil {
		return err
	}
	// The backend's parent is the postmaster: the server's CPU time is
	// that of the postmaster's process tree.
	st, err := readStat(backend)
	if err != nil {
		return fmt.Errorf("reading the postmaster's pid: %v", err)
	}
	b.pgPID = st.PPID
	return nil
}

func (b *bench) stopPostgres() {
	if b.pg != nil {
		b.pg.Close()
	}
}

// freshDatabase creates an empty database for a run of the PostgreSQL
// store and returns its name; the previous one is dropped.
func (b *bench) freshDatabase(ctx context.Context) (string, error) {
	if b.pg == nil {
		return "", errors.New("PostgreSQL did not start")
	}
	conn, err := pgx.Connect(ctx, b.pg.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if b.pgDB != "" {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+b.pgDB+" WITH (FORCE)"); err != nil {
			return "", err
		}
	}
	b.pgSeq++
	b.pgDB = fmt.Sprintf("bench_%d", b.pgSeq)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+b.pgDB)
	return b.pgDB, err
}

// databaseSize returns pg_database_size of the current run's database.
func (b *bench) databaseSize(ctx context.Context) (float64, error) {
	conn, err := pgx.Connect(ctx, b.pg.URL("postgres"))
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, "SELECT pg_database_size($1)", b.pgDB).Scan(&n)
	return float64(n), err
}

// pgCPU returns the CPU time the PostgreSQL server has used so far.
func (b *bench) pgCPU() (float64, error) { return treeCPU(b.pgPID) }

// pgbenchScript is the raw pair of the yardstick: what a one-time secret
// costs PostgreSQL at the least, one INSERT and one DELETE ... RETURNING
// of the same row of a small table, each its own transaction (autocommit),
// as the store's Create and Reveal are.
const pgbenchScript = `\set id random(1, 9000000000000000000)
INSERT INTO pair (id, v) VALUES (:id, :value);
DELETE FROM pair WHERE id = :id RETURNING v;
`

// pgbenchResult is one pgbench run.
type pgbenchResult struct {
	Conc       int
	TPS        float64 // pairs/s: transactions of the script per second
	Pairs      int64   // transactions processed
	Failed     int64
	LatencyMS  float64 // average, as pgbench reports it
	CPUPerPair float64 // PostgreSQL's CPU time per pair, µs
}

var (
	pgbenchTPS     = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
	pgbenchTx      = regexp.MustCompile(`(?m)^number of transactions actually processed: ([0-9]+)`)
	pgbenchFailed  = regexp.MustCompile(`(?m)^number of failed transactions: ([0-9]+)`)
	pgbenchLatency = regexp.MustCompile(`(?m)^latency average = ([0-9.]+) ms`)
)

// parsePgbench reads pgbench's summary: tps (without the initial
// connection time), transactions processed, failed transactions (0 when
// not printed: versions before 15 stop at the first failure), and the
// average latency.
func parsePgbench(out string) (pgbenchResult, error) {
	var r pgbenchResult
	m := pgbenchTPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("pgbench: no tps in its output: %q", tail(out, 300))
	}
	r.TPS, _ = strconv.ParseFloat(m[1], 64)
	if m := pgbenchTx.FindStringSubmatch(out); m != nil {
		r.Pairs, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := pgbenchFailed.FindStringSubmatch(out); m != nil {
		r.Failed, _ = strconv.ParseInt(m[1], 10, 64)
	}
	r.LatencyMS = nan
	if m := pgbenchLatency.FindStringSubmatch(out); m != nil {
		r.LatencyMS, _ = strconv.ParseFloat(m[1], 64)
	}
	if r.Pairs == 0 {
		return r, fmt.Errorf("pgbench: no transaction processed: %q", tail(out, 300))
	}
	return r, nil
}

// pgbenchRun runs pgbench with args (pgbenchArgs) and returns its summary,
// with PostgreSQL's CPU time per pair over the seconds of the run that
// made pairs: pgbench reports progress every second (-P 1), and the
// window runs from the end of its first second that made pairs to its
// report before the last (see pgbenchWindow). The time it took to open
// the connections (a backend forked and started per client) is left out,
// and so is the end of the run.
func (b *bench) pgbenchRun(ctx context.Context, args []string, secs int) (pgbenchResult, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return pgbenchResult{}, err
	}
	if err := cmd.Start(); err != nil {
		return pgbenchResult{}, err
	}
	var w pgbenchWindow
	var cpuErr error
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		tps, ok := parseProgress(line)
		if !ok {
			out.WriteString(line + "\n")
			continue
		}
		cpu, err := b.pgCPU()
		cpuErr = errors.Join(cpuErr, err)
		w.add(tps, cpu)
	}
	if err := cmd.Wait(); err != nil {
		return pgbenchResult{}, fmt.Errorf("%v: %s", err, tail(out.String(), 400))
	}
	if cpuErr != nil {
		return pgbenchResult{}, cpuErr
	}
	res, err := parsePgbench(out.String())
	if err != nil {
		return res, err
	}
	res.CPUPerPair = w.cpuPerPair()
	return res, nil
}

// pgbenchWindow holds pgbench's progress reports, one a second, and the
// CPU time PostgreSQL had used when each was read. The window of the CPU
// time per pair runs from the end of the first second that made pairs to
// the report before the last: the last comes as the run ends, when the
// backends exit, and a backend that has exited but that the postmaster
// has not yet waited for is briefly counted nowhere in /proc.
type pgbenchWindow struct {
	reports []pgbenchReport
}

type pgbenchReport struct{ tps, cpu float64 }

func (w *pgbenchWindow) add(tps, cpu float64) {
	w.reports = append(w.reports, pgbenchReport{tps, cpu})
}

// window returns the pairs made and the CPU time used over the window,
// and how many seconds it spans.
func (w *pgbenchWindow) window() (pairs, cpu float64, seconds int) {
	first := -1
	for i, r := range w.reports {
		if r.tps > 0 {
			first = i
			break
		}
	}
	last := len(w.reports) - 2
	if first < 0 || last <= first {
		return 0, 0, 0
	}
	for _, r := range w.reports[first+1 : last+1] {
		pairs += r.tps // a second's worth
	}
	return pairs, w.reports[last].cpu - w.reports[first].cpu, last - first
}

// cpuPerPair returns the CPU µs per pair over the window, NaN when it
// holds no pair.
func (w *pgbenchWindow) cpuPerPair() float64 {
	pairs, cpu, _ := w.window()
	if pairs <= 0 {
		return nan
	}
	return cpu / pairs * 1e6
}

var pgbenchProgress = regexp.MustCompile(`^progress: [0-9.]+ s, ([0-9.]+) tps`)

// parseProgress reads a progress line of pgbench -P: "progress: 2.0 s,
// 4567.8 tps, lat 1.734 ms stddev 0.420, 0 failed".
func parseProgress(line string) (tps float64, ok bool) {
	m := pgbenchProgress.FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

// pgbenchSeconds is pgbench's -T for runs of d at conc clients: at least
// 5 seconds, and a second more per 25 clients, since the time pgbench
// takes to open its connections counts in it (over a second for 128
// clients on a busy machine, when a backend is forked for each).
func pgbenchSeconds(d time.Duration, conc int) int {
	return max(5, int(d.Round(time.Second)/time.Second)) + conc/25
}

// pgbenchArgs is the command line of a pgbench run of the pair script at
// conc clients for secs seconds against the database "yard" on port.
func pgbenchArgs(bin, port string, conc, secs int, script, value string) []string {
	return []string{bin, "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-n", "-M", "prepared",
		"-c", strconv.Itoa(conc), "-j", strconv.Itoa(min(conc, 2)), "-T", strconv.Itoa(secs), "-P", "1",
		"-D", "value=" + value, "-f", script, "yard"}
}

// pgbenchSetup creates the database "yard" and its table for pgbench.
func (b *bench) pgbenchSetup(ctx context.Context) (script string, err error) {
	conn, err := pgx.Connect(ctx, b.pg.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS yard WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE yard"); err != nil {
		return "", err
	}
	yard, err := pgx.Connect(ctx, b.pg.URL("yard"))
	if err != nil {
		return "", err
	}
	defer yard.Close(ctx)
	if _, err := yard.Exec(ctx, "CREATE TABLE pair (id bigint PRIMARY KEY, v bytea NOT NULL)"); err != nil {
		return "", err
	}
	script = filepath.Join(b.work, "pair.sql")
	return script, os.WriteFile(script, []byte(pgbenchScript), 0o644)
}

// pgbenchBinary returns pgbench: beside the server's binaries, or on PATH.
func (b *bench) pgbenchBinary() (string, error) {
	if p := filepath.Join(b.pg.BinDir(), "pgbench"); executable(p) {
		return p, nil
	}
	return exec.LookPath("pgbench")
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// pgbenchRounds runs the yardstick at each number of clients, o.Runs
// rounds (the client counts in turn within a round).
func (b *bench) pgbenchRounds(ctx context.Context) error {
	if b.pg == nil {
		return errors.New("PostgreSQL did not start")
	}
	bin, err := b.pgbenchBinary()
	if err != nil {
		return fmt.Errorf("pgbench not found (Debian: postgresql-client or postgresql): %v", err)
	}
	script, err := b.pgbenchSetup(ctx)
	if err != nil {
		return err
	}
	// Characters that bytea's escape format reads as themselves: Size bytes.
	value := strings.Repeat("0123456789abcdef", b.o.Size/16+1)[:b.o.Size]
	for r := range b.o.Runs {
		for _, c := range b.o.Concs {
			secs := pgbenchSeconds(b.o.Dur, c)
			args := pgbenchArgs(bin, strconv.Itoa(b.pg.Port), c, secs, script, value)
			b.note(pgbenchArgs("pgbench", "PGPORT", c, secs, script, "VALUE")...)
			res, err := b.pgbenchRun(ctx, args, secs)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				// The other client counts and rounds still say something.
				b.fail("pgbench -c %d, round %d/%d: %v", c, r+1, b.o.Runs, err)
				continue
			}
			res.Conc = c
			if res.Failed > 0 {
				b.fail("pgbench -c %d: %d failed transactions", c, res.Failed)
			}
			b.res.Pgbench[c] = append(b.res.Pgbench[c], res)
			b.logf("  pgbench pair, %s, round %d/%d: %.0f pairs/s, %.1f µs PostgreSQL CPU per pair", clientsLabel(c), r+1, b.o.Runs, res.TPS, res.CPUPerPair)
		}
	}
	return nil
}
