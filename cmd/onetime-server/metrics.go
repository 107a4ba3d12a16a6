package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/otlptranslator"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// telemetry is what the server gives the library to record its metrics
// and spans into: the Service, the API and the pages are given these
// providers (httpapi and webui take the Service's), and no global one is
// set.
//
// Without -metrics-addr both are no-op providers: the instrumentation
// costs a few function calls and records nothing. With it, meters is an
// SDK MeterProvider read by the OpenTelemetry Prometheus exporter, and
// handler serves what it reads at /metrics, on the metrics listener only.
//
// The server exports no traces: tracer is always a no-op provider, so no
// span is made at all. The library's spans (a request's, the Service's
// calls inside it, each store call) are for a program that embeds it and
// installs a TracerProvider with the exporter of its choice. An OTLP
// exporter here would weigh on every server for the few operators who
// collect traces: even its HTTP variant (otlptracehttp) requires
// google.golang.org/grpc, grpc-gateway and the OTLP protobuf modules.
type telemetry struct {
	meters  metric.MeterProvider
	tracer  trace.TracerProvider
	handler http.Handler // nil without -metrics-addr
	close   func(context.Context) error
}

// newTelemetry returns the providers of -metrics-addr: no-op ones when it
// is empty.
func newTelemetry(c config, log *slog.Logger) (*telemetry, error) {
	t := &telemetry{
		meters: metricnoop.NewMeterProvider(),
		tracer: tracenoop.NewTracerProvider(),
		close:  func(context.Context) error { return nil },
	}
	if c.metricsAddr == "" {
		return t, nil
	}
	// A registry of our own, not prometheus.DefaultRegisterer: /metrics
	// shows the library's instruments and nothing that some imported
	// package registered globally.
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		// Prometheus's classic names, stated rather than left to the
		// exporter's default (which depends on a global of
		// prometheus/common): dots as underscores, the unit s as
		// _seconds, counters ending in _total.
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		// target_info would repeat the SDK's resource (service.name
		// unknown_service, telemetry.sdk.*): Prometheus's own job and
		// instance labels name the target.
		otelprom.WithoutTargetInfo(),
		// The scope label otel_scope_name stays: the API (scope
		// .../httpapi) and the pages (.../webui) record instruments of
		// the same names with the same labels,
		// onetime_http_rate_limited_total{limiter="rate"} from both, and
		// only the scope tells their series apart. Without it the
		// registry would refuse the scrape as duplicate series. Its
		// empty siblings go (withoutEmptyLabels).
	)
	if err != nil {
		return nil, fmt.Errorf("-metrics-addr: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exp),
		sdkmetric.WithResource(resource.Empty()),
		// Exemplars link a measurement to the trace it was made in; the
		// server records no trace, and the text format shows none.
		sdkmetric.WithExemplarFilter(exemplar.AlwaysOffFilter),
	)
	t.meters, t.close = mp, mp.Shutdown
	t.handler = promhttp.HandlerFor(withoutEmptyLabels(reg), promhttp.HandlerOpts{
		// A metric that fails to gather is left out and logged; the
		// others are still served.
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
	return t, nil
}

// withoutEmptyLabels returns g with the labels whose value is empty
// removed from every series: the exporter gives each series
// otel_scope_version="" and otel_scope_schema_url="" (the library's
// scopes have neither), which Prometheus drops on ingestion anyway, as it
// does any empty label; a person reading /metrics is spared them.
func withoutEmptyLabels(g prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := g.Gather()
		for _, mf := range mfs {
			for _, m := range mf.Metric {
				// A copy: the slice may be shared with the collector's.
				if slices.ContainsFunc(m.Label, emptyLabel) {
					m.Label = slices.DeleteFunc(slices.Clone(m.Label), emptyLabel)
				}
			}
		}
		return mfs, err
	})
}

func emptyLabel(l *dto.LabelPair) bool { return l.GetValue() == "" }

// serveMetrics serves handler at /metrics on addr (-metrics-addr), a
// listener of its own: the metrics are never served on the public
// listener, and the address may be one that only the Prometheus server
// reaches (a private interface, or loopback behind a scraping agent). It
// returns the address it listens on and a function that stops it.
func serveMetrics(addr string, handler http.Handler, log *slog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("-metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", handler)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("metrics server failed", "err", err.Error())
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String(), "path", "/metrics")
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
