package loadgen

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	// 1..100 ms: the p-th percentile is exactly p ms.
	var s []time.Duration
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	st := summarize(s)
	want := Stats{
		Count: 100,
		Min:   1 * time.Millisecond,
		Mean:  50500 * time.Microsecond,
		P50:   50 * time.Millisecond,
		P90:   90 * time.Millisecond,
		P99:   99 * time.Millisecond,
		Max:   100 * time.Millisecond,
	}
	if st != want {
		t.Errorf("summarize(1..100ms) = %+v, want %+v", st, want)
	}
}

func TestPercentileSmallSets(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var s []time.Duration
		for _, x := range v {
			s = append(s, time.Duration(x)*time.Millisecond)
		}
		return s
	}
	tests := []struct {
		in            []time.Duration
		p50, p99, max time.Duration
	}{
		{ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{ms(2, 1), 1 * time.Millisecond, 2 * time.Millisecond, 2 * time.Millisecond},
		{ms(3, 1, 2), 2 * time.Millisecond, 3 * time.Millisecond, 3 * time.Millisecond},
		{ms(1, 1, 1, 1000), 1 * time.Millisecond, 1000 * time.Millisecond, 1000 * time.Millisecond},
	}
	for _, tt := range tests {
		st := summarize(tt.in)
		if st.P50 != tt.p50 || st.P99 != tt.p99 || st.Max != tt.max {
			t.Errorf("summarize(%v): p50 %v p99 %v max %v, want %v %v %v", tt.in, st.P50, st.P99, st.Max, tt.p50, tt.p99, tt.max)
		}
	}
}

func TestSummarizeEmpty(t *testing.T) {
	if st := summarize(nil); st != (Stats{}) {
		t.Errorf("summarize(nil) = %+v, want zero", st)
	}
	if p := percentile(nil, 99); p != 0 {
		t.Errorf("percentile(nil) = %v", p)
	}
}

// One slow request in a thousand moves p99 not at all and max all the way:
// the tail must come from the samples, not from an average.
func TestOutlierShowsInMaxNotP99(t *testing.T) {
	s := make([]time.Duration, 1000)
	for i := range s {
		s[i] = time.Duration(1000+rand.IntN(100)) * time.Microsecond
	}
	s[rand.IntN(len(s))] = 2 * time.Second
	st := summarize(s)
	if st.Max != 2*time.Second {
		t.Errorf("max = %v, want 2s", st.Max)
	}
	if st.P99 >= 1100*time.Microsecond {
		t.Errorf("p99 = %v, want under 1.1ms", st.P99)
	}
	if st.P50 > st.P90 || st.P90 > st.P99 || st.P99 > st.Max || st.Min > st.P50 {
		t.Errorf("percentiles out of order: %+v", st)
	}
}

func TestToMS(t *testing.T) {
	if got := toMS(1234567 * time.Nanosecond); got != 1.235 {
		t.Errorf("toMS(1.234567ms) = %v, want 1.235", got)
	}
}
