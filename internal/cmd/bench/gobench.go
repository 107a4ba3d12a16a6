//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// benchRow is one Go benchmark of one package: every value of every unit
// over the -count runs.
type benchRow struct {
	Pkg    string // import path relative to the module: "" for the root package
	Name   string // without the -GOMAXPROCS suffix
	Units  []string
	Values map[string][]float64 // by unit, as go test printed them (ns/op, B/op, custom units)
}

// Summary returns the median and confidence interval of unit; N is 0 when
// the benchmark did not report it.
func (r *benchRow) Summary(unit string) summary {
	return summarize(slices.Clone(r.Values[unit]))
}

var procsSuffix = regexp.MustCompile(`-[0-9]+$`)

// parseGoBench reads go test -bench output with benchstat's reader
// (golang.org/x/perf/benchfmt) and groups the results by benchmark, in
// order of first appearance. pkg names the package in the rows. Lines that
// are not results (PASS, ok, logs) are skipped; a malformed result line is
// an error.
func parseGoBench(r io.Reader, pkg string) ([]*benchRow, error) {
	br := benchfmt.NewReader(r, pkg)
	var rows []*benchRow
	byName := map[string]*benchRow{}
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return rows, rec
		case *benchfmt.Result:
			name := procsSuffix.ReplaceAllString(rec.Name.String(), "")
			row := byName[name]
			if row == nil {
				row = &benchRow{Pkg: pkg, Name: "Benchmark" + name, Values: map[string][]float64{}}
				byName[name] = row
				rows = append(rows, row)
			}
			for _, v := range rec.Values {
				unit, val := v.OrigUnit, v.OrigValue
				if unit == "" {
					unit, val = v.Unit, v.Value
				}
				if _, ok := row.Values[unit]; !ok {
					row.Units = append(row.Units, unit)
				}
				row.Values[unit] = append(row.Values[unit], val)
			}
		}
	}
	return rows, br.Err()
}

// scaleBenchName matches the benchmarks that fill a store to scale: they
// run only with -scale.
var scaleBenchName = regexp.MustCompile(`Scale|Growth|Stored|Million`)

// selectBenchmarks returns the top-level benchmark names in go test -list
// output, without those matching skip (when not nil).
func selectBenchmarks(list string, skip *regexp.Regexp) []string {
	var names []string
	for line := range strings.Lines(list) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "Benchmark") || strings.ContainsAny(line, " \t") {
			continue
		}
		if skip != nil && skip.MatchString(line) {
			continue
		}
		names = append(names, line)
	}
	return names
}

// benchRegexp returns the -bench pattern that selects exactly names.
func benchRegexp(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	return "^(" + strings.Join(quoted, "|") + ")$"
}

// goTestBench runs the benchmarks names of pkg (an import path) with go
// test, its output saved to outPath, and calls progress with each result
// line as it comes.
func goTestBench(ctx context.Context, env []string, pkg string, names []string, count int, benchtime, outPath string, progress func(line string)) (args []string, err error) {
	args = []string{"test", "-run", "^$", "-bench", benchRegexp(names), "-benchmem",
		"-count", fmt.Sprint(count), "-benchtime", benchtime, "-timeout", "2h", pkg}
	out, err := os.Create(outPath)
	if err != nil {
		return args, err
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = env
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return args, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(out, line)
			if strings.HasPrefix(line, "Benchmark") && strings.Contains(line, "\t") {
				progress(line)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	err = cmd.Wait()
	pw.Close()
	<-done
	return args, err
}
