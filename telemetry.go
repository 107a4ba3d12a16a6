package onetime

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/onetimego/onetime/internal/telemetry"
)

// Telemetry: the Service records metrics and spans through the
// OpenTelemetry API, with the providers of Options.MeterProvider and
// Options.TracerProvider (the global ones by default). The API records
// nothing until the application installs an SDK, so a program that does
// not care pays next to nothing, and the library stays neutral about
// where the numbers go. The package doc lists the instruments.
//
// No attribute of a metric or a span carries a key, an id, a customer, an
// address, a passphrase or a value: every attribute value is one of the
// fixed names below (an operation, a store method, an outcome, a state),
// and every attribute set is made once, in newInstruments, so none can be.

// ScopeName is the name of the instrumentation scope (the meter and the
// tracer) under which the Service records: a View of the application's
// MeterProvider selects the Service's instruments by it, and the
// Prometheus exporter shows it as the otel_scope_name label.
const ScopeName = "github.com/onetimego/onetime"

// An op is a method of the Service, as its metrics and spans name it.
type op uint8

const (
	opShare op = iota
	opGenerate
	opReveal
	opCheck
	opReceipt
	opBurn
	opRecent
	opSweep
	opPing
	numOps
)

// opNames are the operations as the "operation" attribute and the error
// texts ("onetime: share: ...") spell them.
var opNames = [numOps]string{"share", "generate", "reveal", "check", "receipt", "burn", "recent", "sweep", "ping"}

// A storeMethod is a method of the Store, as its metrics and spans name it.
type storeMethod uint8

const (
	storeCreate storeMethod = iota
	storeReveal
	storePeek
	storeReceipt
	storeView
	storeBurn
	storeRecent
	storeSweep
	numStoreMethods
)

var storeMethodNames = [numStoreMethods]string{"create", "reveal", "peek", "receipt", "view", "burn", "recent", "sweep"}

// An outcome is how a call ended, as the "outcome" attribute names it:
// the error's sentinel, never its text.
type outcome uint8

const (
	outcomeOK outcome = iota
	outcomeNotFound
	outcomeWrongPassphrase
	outcomeExists
	outcomeTooLarge
	outcomeInvalid
	outcomeBusy
	outcomeClosed
	outcomeCanceled
	outcomeDeadline
	outcomeError
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "not_found", "wrong_passphrase", "exists", "too_large", "invalid", "busy", "closed", "canceled", "deadline_exceeded", "error"}

// outcomeOf names how a call that returned err ended.
func outcomeOf(err error) outcome {
	switch {
	case err == nil:
		return outcomeOK
	case errors.Is(err, ErrNotFound):
		return outcomeNotFound
	case errors.Is(err, ErrWrongPassphrase):
		return outcomeWrongPassphrase
	case errors.Is(err, ErrExists):
		return outcomeExists
	case errors.Is(err, ErrTooLarge):
		return outcomeTooLarge
	case errors.Is(err, ErrInvalid):
		return outcomeInvalid
	case errors.Is(err, ErrBusy):
		return outcomeBusy
	case errors.Is(err, ErrClosed):
		return outcomeClosed
	case errors.Is(err, context.Canceled):
		return outcomeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return outcomeDeadline
	}
	return outcomeError
}

// answer reports whether an outcome is one of the answers a call may
// rightly give (found or not, right passphrase or not, a valid request or
// not) rather than a failure: only failures mark a span as an error and
// count as store errors.
func (o outcome) answer() bool {
	switch o {
	case outcomeOK, outcomeNotFound, outcomeWrongPassphrase, outcomeExists, outcomeTooLarge, outcomeInvalid:
		return true
	}
	return false
}

// Outcomes of a passphrase derivation's wait, and of a notification.
const (
	kdfAcquired, kdfBusy, kdfCanceled, numKDFOutcomes = 0, 1, 2, 3

	notifySent, notifyFailed, notifyDropped, numNotifyOutcomes = 0, 1, 2, 3
)

var (
	kdfOutcomeNames    = [numKDFOutcomes]string{"acquired", "busy", "canceled"}
	notifyOutcomeNames = [numNotifyOutcomes]string{"sent", "failed", "dropped"}
)

// Attribute keys of the metrics. They are short, for Prometheus labels;
// spans carry their own, namespaced ones.
const (
	keyOperation = attribute.Key("operation")
	keyMethod    = attribute.Key("method")
	keyOutcome   = attribute.Key("outcome")
	keyErrorType = attribute.Key("error.type")
	keyState     = attribute.Key("state")
	spanOutcome  = attribute.Key("onetime.outcome")
)

// instruments holds the Service's instruments and tracer, and every
// attribute set they record with, made once. A nil *instruments records
// nothing (the fair semaphore and the sealer have none in their own tests).
type instruments struct {
	tracer trace.Tracer // nil: no spans (a no-op provider)

	opTime   metric.Float64Histogram
	opAttrs  [numOps][numOutcomes]telemetry.Measure
	opSpans  [numOps]string
	receipts metric.Int64Counter
	states   [StateOrphaned + 1]telemetry.Measure
	swept    metric.Int64Counter

	storeTime     metric.Float64Histogram
	storeErrors   metric.Int64Counter
	storeAttrs    [numStoreMethods][numOutcomes]telemetry.Measure
	storeErrAttrs [numStoreMethods][numOutcomes]telemetry.Measure
	storeSpans    [numStoreMethods]string

	kdfWaiting  metric.Int64UpDownCounter
	kdfRunning  metric.Int64UpDownCounter
	kdfWait     metric.Float64Histogram
	kdfTime     metric.Float64Histogram
	kdfAttrs    [numKDFOutcomes]telemetry.Measure
	notes       metric.Int64Counter
	notesQueued metric.Int64UpDownCounter
	noteAttrs   [numNotifyOutcomes]telemetry.Measure
}

// noopSpan stands for a span that is not made.
var noopSpan trace.Span = tracenoop.Span{}

// clientSpan is the option of a store call's span, made once.
var clientSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}

// newInstruments makes the instruments from mp and the tracer from tp; nil
// means the global provider. An instrument that a provider fails to make
// is reported to otel.Handle and replaced by a no-op one: telemetry never
// stops the Service.
func newInstruments(mp metric.MeterProvider, tp trace.TracerProvider) *instruments {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m := mp.Meter(ScopeName)
	t := &instruments{tracer: telemetry.Tracer(tp, ScopeName)}

	// A call is counted by its duration's histogram alone: its count is
	// the number of calls (onetime_operation_duration_seconds_count), and
	// a counter beside it would cost as much again.
	t.opTime = telemetry.Duration(m, "onetime.operation.duration",
		"Duration of the Service's methods, by operation and outcome; its count counts the calls.")
	t.receipts = telemetry.Counter(m, "onetime.receipt.reads", "{read}",
		"Receipts read (Service.Receipt), by the state they reported: a receipt read twice counts twice.")
	t.swept = telemetry.Counter(m, "onetime.sweep.removed", "{record}",
		"Expired records that sweeps removed from the store.")
	t.storeTime = telemetry.Duration(m, "onetime.store.duration",
		"Duration of the Service's calls into its Store, by method and outcome; its count counts the calls.")
	t.storeErrors = telemetry.Counter(m, "onetime.store.errors", "{error}",
		"Calls into the Store that failed (not the answers not found, wrong passphrase or exists), by method and error type.")
	t.kdfWaiting = telemetry.UpDownCounter(m, "onetime.kdf.waiting", "{derivation}",
		"Passphrase derivations waiting for a slot (Options.KDFConcurrency).")
	t.kdfRunning = telemetry.UpDownCounter(m, "onetime.kdf.running", "{derivation}",
		"Passphrase derivations running.")
	t.kdfWait = telemetry.Duration(m, "onetime.kdf.wait.duration",
		"Time a passphrase derivation waited for a slot, by outcome (acquired, busy, canceled).")
	t.kdfTime = telemetry.Duration(m, "onetime.kdf.duration",
		"Duration of one passphrase derivation (argon2id), once it has its slot.")
	t.notes = telemetry.Counter(m, "onetime.notifications", "{notification}",
		"Notifications of recipients, by outcome (sent, failed, dropped).")
	t.notesQueued = telemetry.UpDownCounter(m, "onetime.notifications.queued", "{notification}",
		"Notifications waiting in the queue for a worker.")

	// The gauges exist from the start, at zero, rather than from their
	// first change: a dashboard or an alert finds them before any load.
	ctx := context.Background()
	t.kdfWaiting.Add(ctx, 0)
	t.kdfRunning.Add(ctx, 0)
	t.notesQueued.Add(ctx, 0)

	for o := range numOps {
		t.opSpans[o] = "onetime." + opNames[o]
		for oc := range numOutcomes {
			t.opAttrs[o][oc] = telemetry.NewMeasure(
				keyOperation.String(opNames[o]), keyOutcome.String(outcomeNames[oc]))
		}
	}
	for st := StateNew; st <= StateOrphaned; st++ {
		t.states[st] = telemetry.NewMeasure(keyState.String(st.String()))
	}
	for sm := range numStoreMethods {
		t.storeSpans[sm] = "onetime.store." + storeMethodNames[sm]
		for oc := range numOutcomes {
			t.storeAttrs[sm][oc] = telemetry.NewMeasure(
				keyMethod.String(storeMethodNames[sm]), keyOutcome.String(outcomeNames[oc]))
			t.storeErrAttrs[sm][oc] = telemetry.NewMeasure(
				keyMethod.String(storeMethodNames[sm]), keyErrorType.String(outcomeNames[oc]))
		}
	}
	for i := range numKDFOutcomes {
		t.kdfAttrs[i] = telemetry.NewMeasure(keyOutcome.String(kdfOutcomeNames[i]))
	}
	for i := range numNotifyOutcomes {
		t.noteAttrs[i] = telemetry.NewMeasure(keyOutcome.String(notifyOutcomeNames[i]))
	}
	return t
}

// An opRun is one call of a method of the Service, begun by
// instruments.begin and ended by its end.
type opRun struct {
	t     *instruments
	op    op
	timed bool          // whether the duration is recorded
	start time.Duration // telemetry.Clock
	span  trace.Span    // nil when not made
}

// noSpan is what trace.SpanFromContext returns for a context without a
// span.
var noSpan = trace.SpanFromContext(context.Background())

// begin starts a call of op: its span, a child of ctx's, and its clock.
// Inside a span that is not recorded (a request's, when no SDK is
// installed or the sampler left the request out) it makes none: it would
// not be recorded either, and would cost about as much as the clock and
// the histogram together.
func (t *instruments) begin(ctx context.Context, o op) (context.Context, opRun) {
	r := opRun{t: t, op: o}
	if t.tracer != nil {
		if parent := trace.SpanFromContext(ctx); parent == noSpan || parent.IsRecording() {
			ctx, r.span = t.tracer.Start(ctx, t.opSpans[o])
		}
	}
	if t.opTime.Enabled(ctx) {
		r.timed, r.start = true, telemetry.Clock()
	}
	return ctx, r
}

// end records the call's outcome and duration, ends its span, and returns
// err as the method returns it (opErr).
func (r opRun) end(ctx context.Context, err error) error {
	oc := outcomeOf(err)
	if r.timed {
		r.t.opTime.Record(ctx, telemetry.Seconds(r.start), r.t.opAttrs[r.op][oc].Record...)
	}
	if r.span != nil {
		endSpan(r.span, oc)
	}
	return opErr(opNames[r.op], err)
}

// endSpan marks span with the outcome, as an error when it is a failure,
// and ends it. The error's text is not recorded: the outcome names it.
func endSpan(span trace.Span, oc outcome) {
	if span.IsRecording() {
		span.SetAttributes(spanOutcome.String(outcomeNames[oc]))
		if !oc.answer() {
			span.SetAttributes(keyErrorType.String(outcomeNames[oc]))
			span.SetStatus(codes.Error, outcomeNames[oc])
		}
	}
	span.End()
}

// receiptRead counts a receipt read in the state it reported.
func (t *instruments) receiptRead(ctx context.Context, st State) {
	if st >= StateNew && st <= StateOrphaned {
		t.receipts.Add(ctx, 1, t.states[st].Add...)
	}
}

// kdfQueued moves the count of derivations waiting for a slot by delta.
func (t *instruments) kdfQueued(ctx context.Context, delta int64) {
	if t != nil {
		t.kdfWaiting.Add(ctx, delta)
	}
}

// kdf starts the span of a passphrase derivation and its wait for a slot,
// and returns the function that records the wait's outcome (err is what
// the wait for a slot returned) and the one that ends the derivation.
func (t *instruments) kdf(ctx context.Context) (waited func(error), done func()) {
	if t == nil {
		return func(error) {}, func() {}
	}
	var span trace.Span = noopSpan
	if t.tracer != nil && trace.SpanFromContext(ctx).IsRecording() { // as for a store call's span
		_, span = t.tracer.Start(ctx, "onetime.kdf")
	}
	start := telemetry.Clock()
	var running time.Duration
	waited = func(err error) {
		oc, kdfOC := outcomeOK, kdfAcquired
		switch {
		case errors.Is(err, ErrBusy):
			oc, kdfOC = outcomeBusy, kdfBusy
		case err != nil:
			oc, kdfOC = outcomeCanceled, kdfCanceled
		}
		t.kdfWait.Record(ctx, telemetry.Seconds(start), t.kdfAttrs[kdfOC].Record...)
		if err != nil {
			endSpan(span, oc)
			return
		}
		span.AddEvent("slot acquired")
		t.kdfRunning.Add(ctx, 1)
		running = telemetry.Clock()
	}
	done = func() {
		t.kdfRunning.Add(ctx, -1)
		t.kdfTime.Record(ctx, telemetry.Seconds(running))
		endSpan(span, outcomeOK)
	}
	return waited, done
}

// notified counts a notification's outcome.
func (t *instruments) notified(ctx context.Context, outcome int) {
	t.notes.Add(ctx, 1, t.noteAttrs[outcome].Add...)
}

// measuredStore is the Service's Store as the Service calls it: every
// call is a span, a duration by method and outcome, and, when it fails,
// a store error. One wrapper measures every backend alike.
type measuredStore struct {
	Store
	t *instruments
}

// call starts a call of the store's method m: its clock and, when the
// method's span is recorded, a span of its own inside it. A span inside
// one that is not recorded would not be either (a sampler decides for the
// whole trace), and making it would cost what the call without telemetry
// costs, on a fast store.
func (s measuredStore) call(ctx context.Context, m storeMethod) (context.Context, storeRun) {
	var span trace.Span
	if s.t.tracer != nil && trace.SpanFromContext(ctx).IsRecording() {
		ctx, span = s.t.tracer.Start(ctx, s.t.storeSpans[m], clientSpan...)
	}
	r := storeRun{t: s.t, m: m, span: span}
	if s.t.storeTime.Enabled(ctx) {
		r.timed, r.start = true, telemetry.Clock()
	}
	return ctx, r
}

type storeRun struct {
	t     *instruments
	m     storeMethod
	timed bool          // whether the duration is recorded
	start time.Duration // telemetry.Clock
	span  trace.Span    // nil when not recorded
}

func (r storeRun) end(ctx context.Context, err error) {
	oc := outcomeOf(err)
	if r.timed {
		r.t.storeTime.Record(ctx, telemetry.Seconds(r.start), r.t.storeAttrs[r.m][oc].Record...)
	}
	if !oc.answer() {
		r.t.storeErrors.Add(ctx, 1, r.t.storeErrAttrs[r.m][oc].Add...)
	}
	if r.span != nil {
		endSpan(r.span, oc)
	}
}

func (s measuredStore) Create(ctx context.Context, sec *SealedSecret, m *SealedMetadata) error {
	ctx, r := s.call(ctx, storeCreate)
	err := s.Store.Create(ctx, sec, m)
	r.end(ctx, err)
	return err
}

func (s measuredStore) Reveal(ctx context.Context, id ID, check Credentials, now time.Time, replay *Replay) (*SealedSecret, error) {
	ctx, r := s.call(ctx, storeReveal)
	sec, err := s.Store.Reveal(ctx, id, check, now, replay)
	r.end(ctx, err)
	return sec, err
}

func (s measuredStore) Peek(ctx context.Context, id ID, now time.Time) (*SecretInfo, error) {
	ctx, r := s.call(ctx, storePeek)
	info, err := s.Store.Peek(ctx, id, now)
	r.end(ctx, err)
	return info, err
}

func (s measuredStore) Receipt(ctx context.Context, id ID, now time.Time) (*SealedMetadata, error) {
	ctx, r := s.call(ctx, storeReceipt)
	m, err := s.Store.Receipt(ctx, id, now)
	r.end(ctx, err)
	return m, err
}

func (s measuredStore) View(ctx context.Context, id ID, now time.Time) (*SealedMetadata, error) {
	ctx, r := s.call(ctx, storeView)
	m, err := s.Store.View(ctx, id, now)
	r.end(ctx, err)
	return m, err
}

func (s measuredStore) Burn(ctx context.Context, id ID, now time.Time, replay *Replay) (*SealedMetadata, error) {
	ctx, r := s.call(ctx, storeBurn)
	m, err := s.Store.Burn(ctx, id, now, replay)
	r.end(ctx, err)
	return m, err
}

func (s measuredStore) Recent(ctx context.Context, owner string, now time.Time, limit int) ([]*SealedMetadata, error) {
	ctx, r := s.call(ctx, storeRecent)
	ms, err := s.Store.Recent(ctx, owner, now, limit)
	r.end(ctx, err)
	return ms, err
}

func (s measuredStore) Sweep(ctx context.Context, now time.Time) (int, error) {
	ctx, r := s.call(ctx, storeSweep)
	n, err := s.Store.Sweep(ctx, now)
	r.end(ctx, err)
	return n, err
}
