// Package telemetry holds what the packages of this module share to record
// metrics through the OpenTelemetry API: the bucket bounds of their
// duration histograms, and constructors of instruments that never fail.
//
// A library must not stop working because a meter provider could not make
// an instrument, so these report such an error to otel.Handle (the
// application's error handler, a log line by default) and return a no-op
// instrument in its place, as OpenTelemetry's own instrumentation
// libraries do.
package telemetry

import (
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// DurationBuckets are the bounds, in seconds, of every duration histogram
// of this module: from 100 µs (a memory store's call) to 10 s (a request
// that waited its whole deadline). The SDK's default bounds are meant for
// milliseconds and would put every call of a fast store in one bucket.
// They are advice: a View of the application's MeterProvider may replace
// them.
var DurationBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// epoch is the origin of Clock, a reading that holds the monotonic clock.
var epoch = time.Now()

// Clock returns the time since the process started by the monotonic clock:
// the start of a duration, whose end is another reading. It reads the
// clock once, where time.Now reads the wall clock too, and a request reads
// it for each duration it records, in the Service, around each store call
// and in the handler (the Service reads the wall clock for its own rules).
func Clock() time.Duration { return time.Since(epoch) }

// Seconds returns the seconds since start, a reading of Clock.
func Seconds(start time.Duration) float64 { return (Clock() - start).Seconds() }

// A Measure is one attribute set as the options of a counter's Add and a
// histogram's Record, made once: passed as Add... or Record..., the
// slices are not copied, so a measurement allocates nothing (an option
// made at each call escapes to the heap).
type Measure struct {
	Add    []metric.AddOption
	Record []metric.RecordOption
}

// NewMeasure returns the Measure of the attribute set of kvs.
func NewMeasure(kvs ...attribute.KeyValue) Measure {
	o := metric.WithAttributeSet(attribute.NewSet(kvs...))
	return Measure{Add: []metric.AddOption{o}, Record: []metric.RecordOption{o}}
}

// Tracer returns tp's tracer of that name, or nil when tp is a no-op
// provider (go.opentelemetry.io/otel/trace/noop): a program that turns
// tracing off with one pays for no span at all, where with the global
// provider and no SDK installed every span is still made, unrecorded.
func Tracer(tp trace.TracerProvider, name string) trace.Tracer {
	if _, off := tp.(tracenoop.TracerProvider); off {
		return nil
	}
	return tp.Tracer(name)
}

// Counter returns m's Int64Counter of that name, unit and description.
func Counter(m metric.Meter, name, unit, desc string) metric.Int64Counter {
	c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	if err != nil {
		otel.Handle(err)
	}
	if c == nil {
		return noop.Int64Counter{}
	}
	return c
}

// UpDownCounter returns m's Int64UpDownCounter of that name, unit and
// description: a count that goes up and down, such as a queue's length,
// which the Prometheus exporter shows as a gauge. Every Service or handler
// that shares a provider adds to the same one.
func UpDownCounter(m metric.Meter, name, unit, desc string) metric.Int64UpDownCounter {
	c, err := m.Int64UpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	if err != nil {
		otel.Handle(err)
	}
	if c == nil {
		return noop.Int64UpDownCounter{}
	}
	return c
}

// Duration returns m's Float64Histogram of that name and description, in
// seconds, with the advice of DurationBuckets.
func Duration(m metric.Meter, name, desc string) metric.Float64Histogram {
	h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
		metric.WithExplicitBucketBoundaries(DurationBuckets...))
	if err != nil {
		otel.Handle(err)
	}
	if h == nil {
		return noop.Float64Histogram{}
	}
	return h
}
