//go:build linux

package main

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchmath"
)

// confidence is the level of the confidence intervals reported.
const confidence = 0.95

var nan = math.NaN()

// summary is a sample's median and the confidence interval of the median,
// as benchstat computes them (golang.org/x/perf/benchmath's AssumeNothing:
// order statistics, no assumption about the distribution). With fewer than
// 6 values no interval reaches 95%: Lo and Hi are then infinite.
type summary struct {
	Center, Lo, Hi float64
	N              int
}

// summarize returns the summary of xs. An empty xs gives a NaN center
// and N 0.
func summarize(xs []float64) summary {
	if len(xs) == 0 {
		return summary{Center: nan, Lo: math.Inf(-1), Hi: math.Inf(1)}
	}
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(slices.Clone(xs), &benchmath.DefaultThresholds), confidence)
	return summary{Center: s.Center, Lo: s.Lo, Hi: s.Hi, N: len(xs)}
}

// hasCI reports whether s has a finite confidence interval.
func (s summary) hasCI() bool { return !math.IsInf(s.Lo, 0) && !math.IsInf(s.Hi, 0) }

// pctRange returns the confidence interval as "±P%" of the median (the
// larger side), as benchstat prints it; "" without an interval.
func (s summary) pctRange() string {
	if !s.hasCI() || s.Center == 0 || math.IsNaN(s.Center) {
		return ""
	}
	v := math.Max(s.Hi/s.Center-1, 1-s.Lo/s.Center)
	return "±" + fmtFloat(100*v, 0) + "%"
}

// median returns the median of xs, NaN for none.
func median(xs []float64) float64 { return summarize(xs).Center }

// fmtFloat formats v with at most dec decimals, without trailing zeros;
// "n/a" for NaN or an infinity.
func fmtFloat(v float64, dec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
