package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// Report is the result of a run.
type Report struct {
	Mode        string               `json:"mode"`
	API         string               `json:"api,omitempty"` // a peer's API; empty for onetime's
	URL         string               `json:"url"`
	Concurrency int                  `json:"concurrency"`
	Size        int                  `json:"size"`
	Passphrase  bool                 `json:"passphrase"`
	Prefilled   int                  `json:"prefilled,omitempty"`
	ElapsedS    float64              `json:"elapsed_s"`
	Ops         int64                `json:"ops"`
	OpsPerSec   float64              `json:"ops_per_sec"`
	Errors      int64                `json:"errors"`
	WrongValues int64                `json:"wrong_values"`
	ErrorKinds  map[string]int64     `json:"error_kinds,omitempty"`
	Latency     LatencyMS            `json:"latency_ms"`
	Requests    map[string]LatencyMS `json:"requests_ms,omitempty"`
	Burst       *BurstReport         `json:"burst,omitempty"`
	Guess       *BurstReport         `json:"guess,omitempty"`

	stats    Stats
	reqStats map[string]Stats
}

// BurstReport describes the wrong-passphrase workers of -burst, or the
// guessing workers of -guess.
type BurstReport struct {
	Workers       int              `json:"workers"`
	WrongAttempts int64            `json:"wrong_attempts"`
	Errors        int64            `json:"errors"`
	WrongValues   int64            `json:"wrong_values"`
	ErrorKinds    map[string]int64 `json:"error_kinds,omitempty"`
	Latency       LatencyMS        `json:"latency_ms"`

	stats Stats
}

// OK reports whether the run did some work and saw no error and no wrong
// value.
func (r *Report) OK() bool {
	if r.Ops == 0 || r.Errors > 0 || r.WrongValues > 0 {
		return false
	}
	for _, b := range []*BurstReport{r.Burst, r.Guess} {
		if b != nil && (b.Errors > 0 || b.WrongValues > 0) {
			return false
		}
	}
	return true
}

// report builds the report of the main workers, whose record is main,
// over a timed phase of elapsed.
func (r *run) report(main *tally, elapsed time.Duration) *Report {
	cfg := r.cfg
	rep := &Report{
		Mode:        cfg.Mode,
		URL:         cfg.URL,
		Concurrency: cfg.Conc,
		Size:        cfg.Size,
		Passphrase:  cfg.Passphrase != "",
		Prefilled:   len(r.items),
		ElapsedS:    elapsed.Seconds(),
		Ops:         main.n,
		OpsPerSec:   float64(main.n) / elapsed.Seconds(),
		WrongValues: main.wrong,
		stats:       summarize(main.lat[kOp]),
	}
	if cfg.API != APIOnetime {
		rep.API = cfg.API
	}
	rep.Errors, rep.ErrorKinds = countErrs(main)
	rep.Latency = rep.stats.ms()
	if cfg.Mode == "pair" {
		rep.reqStats = map[string]Stats{"share": summarize(main.lat[kShare]), "reveal": summarize(main.lat[kReveal])}
		rep.Requests = map[string]LatencyMS{}
		for k, s := range rep.reqStats {
			rep.Requests[k] = s.ms()
		}
	}
	return rep
}

// newBurstReport reports on the burst (or guess) workers, as many as
// workers, which tried attempts wrong passphrases and recorded t.
func newBurstReport(workers int, attempts int64, t *tally) *BurstReport {
	b := &BurstReport{Workers: workers, WrongAttempts: attempts, WrongValues: t.wrong, stats: summarize(t.lat[kOp])}
	b.Errors, b.ErrorKinds = countErrs(t)
	b.Latency = b.stats.ms()
	return b
}

// countErrs returns the number of failed operations and their kinds.
// Wrong values are counted apart, so they are left out of the total.
func countErrs(t *tally) (int64, map[string]int64) {
	var n int64
	for _, v := range t.errs {
		n += v
	}
	n -= t.wrong
	if len(t.errs) == 0 {
		return n, nil
	}
	return n, t.errs
}

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
	api := ""
	if r.API != "" {
		api = " (" + r.API + " API)"
	}
	p("%s against %s%s: %d clients, %d-byte values, %s\n", r.Mode, r.URL, api, r.Concurrency, r.Size, pass)
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
