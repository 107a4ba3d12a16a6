package onetime_test

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/telemetrytest"
	"github.com/onetimego/onetime/store/memory"
)

func op(name, outcome string) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("operation", name), attribute.String("outcome", outcome)}
}

func storeCall(method, outcome string) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("method", method), attribute.String("outcome", outcome)}
}

// noteCollector is a Notifier that keeps what it is given.
type noteCollector struct {
	mu    sync.Mutex
	notes []onetime.Notification
}

func (c *noteCollector) Notify(_ context.Context, n onetime.Notification) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notes = append(c.notes, n)
	return nil
}

// TestTelemetry runs every operation of the Service, with every common
// outcome, on providers of the test's own, and checks what the metrics
// count, how the spans nest, and that nothing recorded carries a key, a
// customer, an address, a value or a passphrase.
func TestTelemetry(t *testing.T) {
	kit := telemetrytest.New(t)
	st := memory.New()
	notes := &noteCollector{}
	svc, clock := newService(t, st, &onetime.Options{
		MeterProvider: kit.Meters, TracerProvider: kit.Tracers, Notifier: notes,
	})
	const (
		customer   = "customer-5e2f"
		address    = "198.51.100.77"
		recipient  = "reader-41d0@example.org"
		value      = "telemetry-value-7c1d"
		passphrase = "telemetry-pass-93ab"
		guess      = "wrong-guess-1f6a"
		idem       = "idem-6b0e"
	)
	secrets := []string{customer, address, recipient, value, passphrase, guess, idem}
	caller := onetime.WithCaller(context.Background(), onetime.Caller{Customer: customer, Address: address})
	ctx := onetime.WithIdempotencyKey(caller, idem)

	req := onetime.ShareRequest{Owner: customer, Value: []byte(value), Passphrase: passphrase,
		Recipients: []string{recipient}, TTL: time.Hour}
	a, err := svc.Share(ctx, req)
	require.NoError(t, err)
	again, err := svc.Share(ctx, req) // a repeat: the store refuses the same pair as existing
	require.NoError(t, err)
	require.Equal(t, a.MetadataKey, again.MetadataKey)
	_, err = svc.Reveal(caller, a.SecretKey, guess)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	got, err := svc.Reveal(caller, a.SecretKey, passphrase)
	require.NoError(t, err)
	require.Equal(t, value, string(got.Value))
	_, err = svc.Reveal(caller, a.SecretKey, "")
	require.ErrorIs(t, err, onetime.ErrNotFound)
	m, err := svc.Receipt(caller, a.MetadataKey)
	require.NoError(t, err)
	require.Equal(t, onetime.StateReceived, m.State)

	b, err := svc.Generate(caller, onetime.GenerateRequest{ShareRequest: onetime.ShareRequest{Owner: customer}, Length: 24})
	require.NoError(t, err)
	_, err = svc.Burn(caller, b.MetadataKey)
	require.NoError(t, err)
	_, err = svc.Burn(caller, b.MetadataKey)
	require.ErrorIs(t, err, onetime.ErrNotFound)

	c := share(t, svc, onetime.ShareRequest{Value: []byte(value), TTL: time.Minute})
	clock.Add(90 * time.Second)
	m, err = svc.Receipt(caller, c.MetadataKey)
	require.NoError(t, err)
	require.Equal(t, onetime.StateExpired, m.State)
	_, err = svc.Check(caller, c.SecretKey)
	require.ErrorIs(t, err, onetime.ErrNotFound)

	_, err = svc.Recent(caller, customer)
	require.NoError(t, err)
	_, err = svc.Sweep(caller)
	require.NoError(t, err)
	require.NoError(t, svc.Ping(caller))
	_, err = svc.Share(caller, onetime.ShareRequest{})
	require.ErrorIs(t, err, onetime.ErrInvalid)

	require.NoError(t, st.Close())
	_, err = svc.Share(caller, onetime.ShareRequest{Value: []byte(value)})
	require.ErrorIs(t, err, onetime.ErrClosed)
	require.NoError(t, svc.Close()) // waits for the notification to be sent
	require.Len(t, notes.notes, 1)

	secrets = append(secrets, string(a.SecretKey), string(a.MetadataKey), string(b.SecretKey),
		string(b.MetadataKey), string(b.Value), string(c.SecretKey), string(c.MetadataKey))
	attrs, spans := kit.AssertNoLeak(t, secrets...)
	// Stronger than the list: every value is a fixed name such as "share"
	// or "not_found", which no key, id, address or value is.
	name := regexp.MustCompile(`^[a-z_]{2,20}$`)
	for _, a := range attrs {
		assert.Regexp(t, name, a.Value.String(), "attribute %s", a.Key)
	}

	rm := kit.Collect(t)
	for _, c := range []struct {
		op, outcome string
		n           int64
	}{
		{"share", "ok", 3}, {"share", "invalid", 1}, {"share", "closed", 1},
		{"generate", "ok", 1},
		{"reveal", "ok", 1}, {"reveal", "wrong_passphrase", 1}, {"reveal", "not_found", 1},
		{"receipt", "ok", 2}, {"burn", "ok", 1}, {"burn", "not_found", 1}, {"check", "not_found", 1},
		{"recent", "ok", 1}, {"sweep", "ok", 1}, {"ping", "ok", 1},
	} {
		assert.Equal(t, uint64(c.n), telemetrytest.Count(rm, "onetime.operation.duration", op(c.op, c.outcome)...), "%s %s", c.op, c.outcome)
	}
	state := func(s string) attribute.KeyValue { return attribute.String("state", s) }
	assert.Equal(t, int64(1), telemetrytest.Sum(rm, "onetime.receipt.reads", state("received")))
	assert.Equal(t, int64(1), telemetrytest.Sum(rm, "onetime.receipt.reads", state("expired")))

	assert.Equal(t, uint64(3), telemetrytest.Count(rm, "onetime.store.duration", storeCall("create", "ok")...))
	assert.Equal(t, uint64(1), telemetrytest.Count(rm, "onetime.store.duration", storeCall("create", "exists")...))
	assert.Equal(t, uint64(1), telemetrytest.Count(rm, "onetime.store.duration", storeCall("create", "closed")...))
	assert.Equal(t, uint64(1), telemetrytest.Count(rm, "onetime.store.duration", storeCall("reveal", "wrong_passphrase")...))
	assert.Equal(t, uint64(1), telemetrytest.Count(rm, "onetime.store.duration", storeCall("burn", "ok")...))
	assert.NotZero(t, telemetrytest.Count(rm, "onetime.store.duration", storeCall("peek", "not_found")...))
	assert.Equal(t, int64(1), telemetrytest.Sum(rm, "onetime.store.errors",
		attribute.String("method", "create"), attribute.String("error.type", "closed")))
	assert.Equal(t, 1, telemetrytest.Points(rm, "onetime.store.errors"), "not found, wrong passphrase and exists are answers, not errors")

	// Four derivations: the share and its repeat, the guess, the reveal.
	assert.Equal(t, uint64(4), telemetrytest.Count(rm, "onetime.kdf.wait.duration", attribute.String("outcome", "acquired")))
	assert.Equal(t, uint64(4), telemetrytest.Count(rm, "onetime.kdf.duration"))
	assert.Zero(t, telemetrytest.Sum(rm, "onetime.kdf.running"))
	assert.Zero(t, telemetrytest.Sum(rm, "onetime.kdf.waiting"))
	assert.Equal(t, int64(1), telemetrytest.Sum(rm, "onetime.notifications", attribute.String("outcome", "sent")))
	assert.Zero(t, telemetrytest.Sum(rm, "onetime.notifications.queued"))

	// Every store call is a client span inside the span of the method
	// that made it; a failure is an error, an answer such as not found is not.
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
	}
	var stores, closed, notFound int
	for _, s := range spans {
		switch {
		case s.Name == "onetime.store.create" || s.Name == "onetime.store.peek" || s.Name == "onetime.store.reveal":
			stores++
			assert.Equal(t, trace.SpanKindClient, s.SpanKind)
			parent, ok := byID[s.Parent.SpanID()]
			if assert.True(t, ok, "%s has no parent", s.Name) {
				assert.Regexp(t, `^onetime\.(share|generate|reveal|check|ping)$`, parent.Name)
			}
		case s.Name == "onetime.share" && s.Status.Code == codes.Error:
			closed++
			assert.Equal(t, "closed", s.Status.Description)
			assert.Contains(t, s.Attributes, attribute.String("error.type", "closed"))
		case s.Name == "onetime.reveal" && hasAttr(s, attribute.String("onetime.outcome", "not_found")):
			notFound++
			assert.Equal(t, codes.Unset, s.Status.Code)
		case s.Name == "onetime.kdf":
			parent := byID[s.Parent.SpanID()]
			assert.Regexp(t, `^onetime\.(share|reveal)$`, parent.Name)
		}
	}
	assert.NotZero(t, stores)
	assert.Equal(t, 1, closed)
	assert.Equal(t, 1, notFound)
}

func hasAttr(s tracetest.SpanStub, a attribute.KeyValue) bool {
	for _, x := range s.Attributes {
		if x == a {
			return true
		}
	}
	return false
}

// TestTelemetryKDFQueue checks the gauge of derivations waiting for a
// slot, and the wait of one whose deadline passes: busy.
func TestTelemetryKDFQueue(t *testing.T) {
	kit := telemetrytest.New(t)
	svc, _ := newService(t, nil, &onetime.Options{MeterProvider: kit.Meters, TracerProvider: kit.Tracers, KDFConcurrency: 1})
	ctx := context.Background()
	m := share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: "p"})

	release := onetime.HoldKDF(svc)
	done := make(chan error, 1)
	go func() {
		_, err := svc.Reveal(ctx, m.SecretKey, "p")
		done <- err
	}()
	require.Eventually(t, func() bool { w, _ := onetime.KDFWaiting(svc); return w == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, int64(1), telemetrytest.Sum(kit.Collect(t), "onetime.kdf.waiting"))
	release()
	require.NoError(t, <-done)
	rm := kit.Collect(t)
	assert.Zero(t, telemetrytest.Sum(rm, "onetime.kdf.waiting"))
	assert.Equal(t, uint64(2), telemetrytest.Count(rm, "onetime.kdf.wait.duration", attribute.String("outcome", "acquired")))

	m = share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: "p"})
	release = onetime.HoldKDF(svc)
	defer release()
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err := svc.Reveal(short, m.SecretKey, "p")
	require.ErrorIs(t, err, onetime.ErrBusy)
	rm = kit.Collect(t)
	assert.Equal(t, uint64(1), telemetrytest.Count(rm, "onetime.kdf.wait.duration", attribute.String("outcome", "busy")))
	assert.Equal(t, uint64(1), telemetrytest.Count(rm, "onetime.operation.duration", op("reveal", "busy")...))
	assert.Zero(t, telemetrytest.Sum(rm, "onetime.kdf.waiting"))
}

// TestTelemetryGlobalProviders checks that nil providers in Options mean
// the global ones, as OpenTelemetry's instrumentation libraries do. It
// sets the globals, so it does not run in parallel.
func TestTelemetryGlobalProviders(t *testing.T) {
	kit := telemetrytest.New(t)
	otel.SetMeterProvider(kit.Meters)
	otel.SetTracerProvider(kit.Tracers)
	t.Cleanup(func() {
		otel.SetMeterProvider(metricnoop.NewMeterProvider())
		otel.SetTracerProvider(tracenoop.NewTracerProvider())
	})
	svc, _ := newService(t, nil, nil)
	assert.Equal(t, kit.Meters, svc.Options().MeterProvider)
	share(t, svc, onetime.ShareRequest{Value: []byte("v")})
	assert.Equal(t, uint64(1), telemetrytest.Count(kit.Collect(t), "onetime.operation.duration", op("share", "ok")...))
	names := map[string]bool{}
	for _, s := range kit.Spans() {
		names[s.Name] = true
	}
	assert.True(t, names["onetime.share"] && names["onetime.store.create"], "spans: %v", names)
}

// TestTelemetryNoopTracer checks that a no-op TracerProvider turns spans
// off, and only them.
func TestTelemetryNoopTracer(t *testing.T) {
	kit := telemetrytest.New(t)
	svc, _ := newService(t, nil, &onetime.Options{MeterProvider: kit.Meters, TracerProvider: tracenoop.NewTracerProvider()})
	share(t, svc, onetime.ShareRequest{Value: []byte("v")})
	assert.Equal(t, uint64(1), telemetrytest.Count(kit.Collect(t), "onetime.operation.duration", op("share", "ok")...))
	assert.Equal(t, uint64(1), telemetrytest.Count(kit.Collect(t), "onetime.store.duration", storeCall("create", "ok")...))
	assert.Empty(t, kit.Spans())
}
