// Package telemetrytest gives the tests of this module OpenTelemetry
// providers of their own, from the SDK: a MeterProvider read on demand
// (a ManualReader) and a TracerProvider that keeps every ended span in
// memory (tracetest's InMemoryExporter). A test passes them in Options,
// so it needs no global provider and runs beside others.
//
// It also reads what was recorded (Kit.Sum, Kit.Count, Kit.Spans) and
// checks what no metric or span may carry (Kit.AssertNoLeak): every
// attribute key and value, span name, event and status, against the keys,
// customers, addresses, values and passphrases a test used.
package telemetrytest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A Kit is a MeterProvider and a TracerProvider of a test's own.
type Kit struct {
	Meters  *sdkmetric.MeterProvider
	Tracers *sdktrace.TracerProvider

	reader *sdkmetric.ManualReader
	spans  *tracetest.InMemoryExporter
}

// New returns a Kit whose providers are shut down when the test ends.
// Spans are exported as they end (a syncer), so Spans sees every span
// ended before it is called.
func New(t testing.TB) *Kit {
	t.Helper()
	k := &Kit{reader: sdkmetric.NewManualReader(), spans: tracetest.NewInMemoryExporter()}
	k.Meters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(k.reader))
	k.Tracers = sdktrace.NewTracerProvider(sdktrace.WithSyncer(k.spans))
	t.Cleanup(func() {
		assert.NoError(t, k.Meters.Shutdown(context.Background()))
		assert.NoError(t, k.Tracers.Shutdown(context.Background()))
	})
	return k
}

// Collect returns every metric recorded so far.
func (k *Kit) Collect(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, k.reader.Collect(context.Background(), &rm))
	return rm
}

// Spans returns every span ended so far.
func (k *Kit) Spans() tracetest.SpanStubs { return k.spans.GetSpans() }

// Metric returns the metric of that name, and whether there is one.
func Metric(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// Sum returns the value of the int64 counter or up-down counter of that
// name whose attributes are exactly attrs: 0 when there is no such point.
func Sum(rm metricdata.ResourceMetrics, name string, attrs ...attribute.KeyValue) int64 {
	m, ok := Metric(rm, name)
	if !ok {
		return 0
	}
	want := attribute.NewSet(attrs...)
	if s, ok := m.Data.(metricdata.Sum[int64]); ok {
		for _, dp := range s.DataPoints {
			if dp.Attributes.Equals(&want) {
				return dp.Value
			}
		}
	}
	return 0
}

// Points returns the number of data points (attribute sets) of the metric
// of that name.
func Points(rm metricdata.ResourceMetrics, name string) int {
	m, ok := Metric(rm, name)
	if !ok {
		return 0
	}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		return len(d.DataPoints)
	case metricdata.Sum[float64]:
		return len(d.DataPoints)
	case metricdata.Histogram[float64]:
		return len(d.DataPoints)
	case metricdata.Gauge[int64]:
		return len(d.DataPoints)
	}
	return 0
}

// Count returns the number of values recorded by the float64 histogram of
// that name whose attributes are exactly attrs: 0 when there is no such
// point.
func Count(rm metricdata.ResourceMetrics, name string, attrs ...attribute.KeyValue) uint64 {
	m, ok := Metric(rm, name)
	if !ok {
		return 0
	}
	want := attribute.NewSet(attrs...)
	if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
		for _, dp := range h.DataPoints {
			if dp.Attributes.Equals(&want) {
				return dp.Count
			}
		}
	}
	return 0
}

// Attributes returns every attribute of every data point of every metric
// in rm, and those of their exemplars.
func Attributes(rm metricdata.ResourceMetrics) []attribute.KeyValue {
	var out []attribute.KeyValue
	add := func(s attribute.Set) { out = append(out, s.ToSlice()...) }
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes)
					for _, e := range dp.Exemplars {
						out = append(out, e.FilteredAttributes...)
					}
				}
			case metricdata.Sum[float64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes)
					for _, e := range dp.Exemplars {
						out = append(out, e.FilteredAttributes...)
					}
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes)
				}
			case metricdata.Gauge[float64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes)
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes)
					for _, e := range dp.Exemplars {
						out = append(out, e.FilteredAttributes...)
					}
				}
			case metricdata.Histogram[int64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes)
				}
			}
		}
	}
	return out
}

// AssertNoLeak checks that no metric collected now and no span ended so
// far carries any of secrets (keys, customer ids, addresses, values,
// passphrases) in an attribute's key or value, a metric's or span's name,
// a span event's name or attributes, or a span status's description. It
// returns the metric attributes and spans it checked, for more checks,
// and fails the test if it checked nothing.
func (k *Kit) AssertNoLeak(t testing.TB, secrets ...string) ([]attribute.KeyValue, tracetest.SpanStubs) {
	t.Helper()
	rm := k.Collect(t)
	attrs := Attributes(rm)
	spans := k.Spans()
	require.NotEmpty(t, attrs, "no metric attribute to check")
	require.NotEmpty(t, spans, "no span to check")

	// Every text a metric or span shows, with where it is shown; a
	// failure names the secret by its place in secrets and the text by
	// where it is, so that the test's output does not repeat the secret.
	type text struct{ where, s string }
	var texts []text
	kv := func(where string, kvs []attribute.KeyValue) {
		for i, a := range kvs {
			texts = append(texts, text{fmt.Sprintf("%s, attribute %d's key", where, i), string(a.Key)},
				text{fmt.Sprintf("%s, attribute %d's value", where, i), a.Value.String()})
		}
	}
	for _, sm := range rm.ScopeMetrics {
		for i, m := range sm.Metrics {
			where := fmt.Sprintf("metric %d of scope %s", i, sm.Scope.Name)
			texts = append(texts, text{where + "'s name", m.Name}, text{where + "'s description", m.Description},
				text{where + "'s unit", m.Unit})
			kv(where, Attributes(metricdata.ResourceMetrics{ScopeMetrics: []metricdata.ScopeMetrics{{Metrics: []metricdata.Metrics{m}}}}))
		}
	}
	for i, s := range spans {
		where := fmt.Sprintf("span %d", i)
		texts = append(texts, text{where + "'s name", s.Name}, text{where + "'s status", s.Status.Description})
		kv(where, s.Attributes)
		for j, e := range s.Events {
			texts = append(texts, text{fmt.Sprintf("%s, event %d's name", where, j), e.Name})
			kv(fmt.Sprintf("%s, event %d", where, j), e.Attributes)
		}
		for j, l := range s.Links {
			kv(fmt.Sprintf("%s, link %d", where, j), l.Attributes)
		}
	}
	for i, secret := range secrets {
		require.NotEmpty(t, secret, "an empty secret matches everything")
		for _, x := range texts {
			if strings.Contains(x.s, secret) {
				t.Errorf("telemetry carries secret %d of the test's list in %s", i, x.where)
			}
		}
	}
	return attrs, spans
}
