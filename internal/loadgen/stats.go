package loadgen

import (
	"math"
	"slices"
	"time"
)

// Stats summarises a set of latency samples. Percentiles are exact: they
// are taken from every recorded sample by the nearest-rank method, not
// estimated from a histogram, so p99 of 100 samples is the 99th smallest.
type Stats struct {
	Count                         int
	Min, Mean, P50, P90, P99, Max time.Duration
}

// summarize sorts samples in place and returns their statistics. An empty
// slice gives a zero Stats.
func summarize(samples []time.Duration) Stats {
	if len(samples) == 0 {
		return Stats{}
	}
	slices.Sort(samples)
	var sum float64
	for _, d := range samples {
		sum += float64(d)
	}
	return Stats{
		Count: len(samples),
		Min:   samples[0],
		Mean:  time.Duration(sum / float64(len(samples))),
		P50:   percentile(samples, 50),
		P90:   percentile(samples, 90),
		P99:   percentile(samples, 99),
		Max:   samples[len(samples)-1],
	}
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted: the smallest sample that at least p percent of the samples do not
// exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// LatencyMS is Stats as the JSON summary prints it: milliseconds with
// microsecond precision.
type LatencyMS struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func (s Stats) ms() LatencyMS {
	return LatencyMS{
		Count: s.Count,
		Mean:  toMS(s.Mean),
		P50:   toMS(s.P50),
		P90:   toMS(s.P90),
		P99:   toMS(s.P99),
		Max:   toMS(s.Max),
	}
}

func toMS(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}
