package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// WriteJSON writes the report as one line of JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes the report for a person to read, ending with OK or FAIL.
func (r *Report) WriteText(w io.Writer) error {
	pass := "no passphrase"
	if r.Passphrase {
		pass = "with passphrase"
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("%s against %s: %d clients, %d-byte values, %s\n", r.Mode, r.URL, r.Concurrency, r.Size, pass)
	if r.Prefilled > 0 {
		p("  prefilled (untimed): %d secrets\n", r.Prefilled)
	}
	p("  %d ops in %.2fs: %.1f ops/s\n", r.Ops, r.ElapsedS, r.OpsPerSec)
	p("  latency  %s\n", line(r.stats))
	for _, k := range slices.Sorted(maps.Keys(r.reqStats)) {
		p("  %-8s %s\n", k, line(r.reqStats[k]))
	}
	p("  errors: %d, wrong values: %d\n", r.Errors, r.WrongValues)
	writeKinds(w, r.ErrorKinds)
	if b := r.Burst; b != nil {
		p("  burst: %d workers, %d wrong-passphrase reveals, errors: %d, wrong values: %d\n", b.Workers, b.WrongAttempts, b.Errors, b.WrongValues)
		p("  burst    %s\n", line(b.stats))
		writeKinds(w, b.ErrorKinds)
	}
	if b := r.Guess; b != nil {
		p("  guess: %d workers, %d guesses on random keys, errors: %d\n", b.Workers, b.WrongAttempts, b.Errors)
		p("  guess    %s\n", line(b.stats))
		writeKinds(w, b.ErrorKinds)
	}
	if r.OK() {
		p("OK\n")
	} else {
		p("FAIL\n")
	}
	return nil
}

func writeKinds(w io.Writer, kinds map[string]int64) {
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		fmt.Fprintf(w, "    %7d x %s\n", kinds[k], k)
	}
}

func line(s Stats) string {
	if s.Count == 0 {
		return "no samples"
	}
	r := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	return fmt.Sprintf("mean %v  p50 %v  p90 %v  p99 %v  max %v", r(s.Mean), r(s.P50), r(s.P90), r(s.P99), r(s.Max))
}
