package onetime_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

var serverSecret = bytes.Repeat([]byte("s"), 32)

// clock is a settable clock for the service; tests move it, never sleep.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newService returns a Service on st (a fresh memory store when nil) with
// a clock of its own; both are closed when the test ends.
func newService(t testing.TB, st onetime.Store, opts *onetime.Options) (*onetime.Service, *clock) {
	t.Helper()
	c := &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	var o onetime.Options
	if opts != nil {
		o = *opts
	}
	o.Now = c.Now
	if st == nil {
		st = memory.New()
	}
	svc, err := onetime.New(st, serverSecret, &o)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, svc.Close())
		assert.NoError(t, st.Close())
	})
	return svc, c
}

// as returns ctx carrying a caller with the given customer id.
func as(ctx context.Context, customer string) context.Context {
	return onetime.WithCaller(ctx, onetime.Caller{Customer: customer})
}

func share(t testing.TB, svc *onetime.Service, req onetime.ShareRequest) *onetime.Metadata {
	t.Helper()
	m, err := svc.Share(context.Background(), req)
	require.NoError(t, err)
	return m
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := onetime.New(nil, serverSecret, nil)
	assert.Error(t, err, "nil store accepted")
	_, err = onetime.New(memory.New(), []byte("short"), nil)
	assert.ErrorContains(t, err, "at least 32 bytes")
	for name, o := range map[string]onetime.Options{
		"MaxTTL below MinTTL":       {MinTTL: time.Hour, MaxTTL: time.Minute},
		"huge MaxTTLAuthenticated":  {MaxTTLAuthenticated: 200 * 365 * 24 * time.Hour},
		"MinTTL in part seconds":    {MinTTL: 1500 * time.Millisecond},
		"negative DefaultTTL":       {DefaultTTL: -time.Hour},
		"negative SweepInterval":    {SweepInterval: -1},
		"negative MaxAttempts":      {MaxAttempts: -1},
		"MaxAttempts above limit":   {MaxAttempts: onetime.MaxAttemptsLimit + 1},
		"MinPassphraseLen too long": {MinPassphraseLen: onetime.MaxPassphraseLen + 1},
	} {
		_, err := onetime.New(memory.New(), serverSecret, &o)
		assert.Error(t, err, name)
	}
}

// TestMaxAttemptsLimit: the largest MaxAttempts is accepted and holds; one
// more is refused, so that no store is given a count it cannot keep.
func TestMaxAttemptsLimit(t *testing.T) {
	_, err := onetime.New(memory.New(), serverSecret, &onetime.Options{MaxAttempts: onetime.MaxAttemptsLimit + 1})
	require.ErrorContains(t, err, fmt.Sprint(onetime.MaxAttemptsLimit))

	svc, _ := newService(t, nil, &onetime.Options{MaxAttempts: onetime.MaxAttemptsLimit})
	assert.Equal(t, onetime.MaxAttemptsLimit, svc.Options().MaxAttempts)
	m := share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})
	_, err = svc.Reveal(context.Background(), m.SecretKey, "wrong")
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	got, err := svc.Reveal(context.Background(), m.SecretKey, "pw")
	require.NoError(t, err)
	assert.Equal(t, "v", string(got.Value))
}

func TestOptionsDefaults(t *testing.T) {
	svc, _ := newService(t, nil, &onetime.Options{MaxSize: 10})
	o := svc.Options()
	assert.Equal(t, 10, o.MaxSize)
	assert.Equal(t, onetime.DefaultTTL, o.DefaultTTL)
	assert.Equal(t, onetime.DefaultMinTTL, o.MinTTL)
	assert.Equal(t, onetime.DefaultMaxTTL, o.MaxTTL)
	assert.Equal(t, onetime.DefaultMaxTTLAuthenticated, o.MaxTTLAuthenticated)
	assert.Equal(t, onetime.DefaultMaxAttempts, o.MaxAttempts)
	assert.Equal(t, onetime.DefaultRecentLimit, o.RecentLimit)
	assert.Equal(t, 1, o.MinPassphraseLen)
	assert.GreaterOrEqual(t, o.KDFConcurrency, 1)
	assert.Zero(t, o.SweepInterval, "the sweeper is off by default")
	assert.NotNil(t, o.Now)
	assert.NotNil(t, o.Logger)
}

func TestShareValidation(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, &onetime.Options{MaxSize: 10, MinPassphraseLen: 4})
	cases := []struct {
		req        onetime.ShareRequest
		kind       error
		field, msg string
	}{
		{onetime.ShareRequest{}, onetime.ErrInvalid, "secret", "You did not provide anything to share"},
		{onetime.ShareRequest{Value: []byte("01234567890")}, onetime.ErrTooLarge, "secret", "Secret value exceeds the maximum size of 10 bytes"},
		{onetime.ShareRequest{Value: []byte("x"), Passphrase: "abc"}, onetime.ErrInvalid, "passphrase", "Passphrase must be at least 4 characters long"},
		{onetime.ShareRequest{Value: []byte("x"), Passphrase: strings.Repeat("p", 129)}, onetime.ErrInvalid, "passphrase", "Passphrase must be at most 128 characters long"},
		{onetime.ShareRequest{Value: []byte("x"), Recipients: []string{"a@example.com"}}, onetime.ErrInvalid, "recipient", "An account is required to send emails."},
		{onetime.ShareRequest{Owner: "c", Value: []byte("x"), Recipients: []string{"not an address"}}, onetime.ErrInvalid, "recipient", "Invalid recipient address"},
		{onetime.ShareRequest{Owner: "c", Value: []byte("x"), Recipients: []string{"Name <a@example.com>"}}, onetime.ErrInvalid, "recipient", "Invalid recipient address"},
	}
	for _, c := range cases {
		_, err := svc.Share(ctx, c.req)
		require.ErrorIs(t, err, c.kind)
		var ie *onetime.InputError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, c.field, ie.Field)
		assert.Equal(t, c.msg, ie.Message)
		assert.Equal(t, "onetime: share: "+c.msg, err.Error())
	}
	// 10 bytes is exactly the maximum; 4 multi-byte characters are 4 characters.
	_, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("0123456789"), Passphrase: "ééé€"})
	assert.NoError(t, err, "value at the maximum size")
	// Empty recipients are absent ones, also for anonymous callers.
	_, err = svc.Share(ctx, onetime.ShareRequest{Value: []byte("x"), Recipients: []string{""}})
	assert.NoError(t, err, "empty recipient")
}

func TestTTLPolicy(t *testing.T) {
	svc, _ := newService(t, nil, nil)
	day := 24 * time.Hour
	cases := []struct {
		owner    string
		ttl, max time.Duration
		want     time.Duration
	}{
		{"", 0, 0, 7 * day},
		{"", time.Hour, 0, time.Hour},
		{"", 30 * time.Second, 0, time.Minute},
		{"", -5 * time.Second, 0, time.Minute},
		{"", 40 * day, 0, 7 * day},
		{"cust", 40 * day, 0, 30 * day},
		{"cust", 10 * day, 0, 10 * day},
		{"cust", 10 * day, 2 * day, 2 * day},
		{"cust", 0, time.Hour, time.Hour},
		{"", 90*time.Second + 500*time.Millisecond, 0, 90 * time.Second},
	}
	for _, c := range cases {
		r := share(t, svc, onetime.ShareRequest{Owner: c.owner, Value: []byte("x"), TTL: c.ttl, MaxTTL: c.max})
		assert.Equal(t, c.want, r.TTL, "%+v", c)
		assert.Equal(t, c.want, r.SecretTTL, "%+v", c)
		assert.Equal(t, 2*c.want, r.MetadataTTL, "%+v", c)
	}
}

func TestRevealPassphrase(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	r := share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})
	assert.True(t, r.PassphraseRequired)
	for _, wrong := range []string{"", "PW", strings.Repeat("p", 500)} {
		_, err := svc.Reveal(ctx, r.SecretKey, wrong)
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "%d-byte wrong passphrase", len(wrong))
	}
	got, err := svc.Reveal(ctx, r.SecretKey, "pw")
	require.NoError(t, err)
	assert.Equal(t, &onetime.Secret{Key: r.SecretKey, Value: []byte("v")}, got)

	// A passphrase given for a secret without one is ignored.
	r = share(t, svc, onetime.ShareRequest{Value: []byte("plain"), ShareDomain: "example.com"})
	got, err = svc.Reveal(ctx, r.SecretKey, "unneeded")
	require.NoError(t, err)
	assert.Equal(t, &onetime.Secret{Key: r.SecretKey, Value: []byte("plain"), ShareDomain: "example.com"}, got)
}

func TestAttemptLimit(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, &onetime.Options{MaxAttempts: 3})
	r := share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})
	for range 2 {
		_, err := svc.Reveal(ctx, r.SecretKey, "no")
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	}
	_, err := svc.Reveal(ctx, r.SecretKey, "pw")
	require.NoError(t, err, "2 wrong then right (limit 3)")

	r = share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})
	for range 3 {
		_, err := svc.Reveal(ctx, r.SecretKey, "no")
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	}
	_, err = svc.Reveal(ctx, r.SecretKey, "pw")
	require.ErrorIs(t, err, onetime.ErrNotFound, "right passphrase after the limit")
	_, err = svc.Check(ctx, r.SecretKey)
	require.ErrorIs(t, err, onetime.ErrNotFound)
	rc, err := svc.Receipt(ctx, r.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateBurned, rc.State)
	assert.False(t, rc.Burned.IsZero())
}

// TestStatus: Status counts down the attempts left, and a secret whose
// last attempt was spent is gone to it as to Check.
func TestStatus(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, &onetime.Options{MaxAttempts: 3})
	plain := share(t, svc, onetime.ShareRequest{Value: []byte("v")})
	locked := share(t, svc, onetime.ShareRequest{Value: []byte("w"), Passphrase: "pw"})

	st, err := svc.Status(ctx, plain.SecretKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.SecretStatus{}, st)
	for left := 3; left > 0; left-- {
		st, err = svc.Status(ctx, locked.SecretKey)
		require.NoError(t, err)
		assert.Equal(t, onetime.SecretStatus{PassphraseRequired: true, AttemptsLeft: left}, st)
		_, err = svc.Reveal(ctx, locked.SecretKey, "wrong")
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "the attempt that burns it is a wrong passphrase too")
	}
	_, err = svc.Status(ctx, locked.SecretKey)
	assert.ErrorIs(t, err, onetime.ErrNotFound)
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, &onetime.Options{MaxAttempts: 2})
	plain := share(t, svc, onetime.ShareRequest{Value: []byte("v")})
	locked := share(t, svc, onetime.ShareRequest{Value: []byte("w"), Passphrase: "pw"})

	for range 3 { // Check consumes nothing and counts no attempt
		need, err := svc.Check(ctx, plain.SecretKey)
		require.NoError(t, err)
		assert.False(t, need)
		need, err = svc.Check(ctx, locked.SecretKey)
		require.NoError(t, err)
		assert.True(t, need)
	}
	_, err := svc.Reveal(ctx, locked.SecretKey, "wrong")
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	got, err := svc.Reveal(ctx, locked.SecretKey, "pw")
	require.NoError(t, err, "Check counted attempts")
	assert.Equal(t, "w", string(got.Value))

	_, err = svc.Check(ctx, locked.SecretKey)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "a received secret")
	_, err = svc.Check(ctx, onetime.SecretKey(plain.MetadataKey))
	assert.ErrorIs(t, err, onetime.ErrNotFound, "a metadata key as a secret key")
	_, err = svc.Check(ctx, "short")
	assert.ErrorIs(t, err, onetime.ErrNotFound)

	// The receipt does not move either.
	rc, err := svc.Receipt(ctx, plain.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateNew, rc.State)
}

// receiptIn reads the receipt of m and checks the invariants every
// receipt holds: the secret key is shown exactly while the secret lives.
func receiptIn(t *testing.T, ctx context.Context, svc *onetime.Service, key onetime.MetadataKey, want onetime.State) *onetime.Metadata {
	t.Helper()
	got, err := svc.Receipt(ctx, key)
	require.NoError(t, err)
	require.Equal(t, want, got.State, "state")
	assert.Equal(t, got.Alive(), got.SecretKey != "", "%v receipt: secret key shown", got.State)
	assert.Equal(t, got.Alive(), got.SecretTTL > 0, "%v receipt: SecretTTL %v", got.State, got.SecretTTL)
	assert.Equal(t, key, got.MetadataKey)
	assert.Len(t, got.ShortKey, 6)
	return got
}

func TestStates(t *testing.T) {
	ctx := context.Background()
	svc, clk := newService(t, nil, nil)
	newShare := func() *onetime.Metadata {
		t.Helper()
		r := share(t, svc, onetime.ShareRequest{Value: []byte("v"), TTL: time.Hour})
		require.Equal(t, onetime.StateNew, r.State)
		require.NotEmpty(t, r.SecretKey)
		require.Equal(t, string(r.SecretKey[:6]), r.ShortKey)
		return r
	}

	// Share's receipt: the first read answers new, later reads viewed.
	r := newShare()
	created := clk.Now()
	clk.Add(time.Second)
	first := receiptIn(t, ctx, svc, r.MetadataKey, onetime.StateNew)
	assert.Equal(t, created, first.Created)
	assert.Equal(t, created, first.Updated, "the answer is the receipt as it was before the read")
	viewedAt := clk.Now()
	clk.Add(time.Second)
	second := receiptIn(t, ctx, svc, r.MetadataKey, onetime.StateViewed)
	assert.Equal(t, viewedAt, second.Updated, "viewed at the first read")
	receiptIn(t, ctx, svc, r.MetadataKey, onetime.StateViewed)
	_, err := svc.Reveal(ctx, r.SecretKey, "")
	require.NoError(t, err)
	got := receiptIn(t, ctx, svc, r.MetadataKey, onetime.StateReceived)
	assert.Equal(t, clk.Now(), got.Received)
	assert.Equal(t, r.ShortKey, got.ShortKey)

	// Burn.
	r = newShare()
	b, err := svc.Burn(ctx, r.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateBurned, b.State)
	assert.Empty(t, b.SecretKey)
	assert.Equal(t, r.ShortKey, b.ShortKey)
	assert.Equal(t, clk.Now(), b.Burned)
	_, err = svc.Burn(ctx, r.MetadataKey)
	require.ErrorIs(t, err, onetime.ErrNotFound, "second Burn")
	receiptIn(t, ctx, svc, r.MetadataKey, onetime.StateBurned)
	_, err = svc.Reveal(ctx, r.SecretKey, "")
	require.ErrorIs(t, err, onetime.ErrNotFound, "Reveal after Burn")

	// A viewed secret can be burned too.
	r = newShare()
	receiptIn(t, ctx, svc, r.MetadataKey, onetime.StateNew)
	b, err = svc.Burn(ctx, r.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateBurned, b.State)

	// Expiry: the receipt outlives its secret, reporting expired, and
	// reading it does not move it to viewed.
	r = newShare()
	clk.Add(time.Hour)
	receiptIn(t, ctx, svc, r.MetadataKey, onetime.StateExpired)
	receiptIn(t, ctx, svc, r.MetadataKey, onetime.StateExpired)
	_, err = svc.Reveal(ctx, r.SecretKey, "")
	require.ErrorIs(t, err, onetime.ErrNotFound, "Reveal of an expired secret")
	_, err = svc.Burn(ctx, r.MetadataKey)
	require.ErrorIs(t, err, onetime.ErrNotFound, "Burn of an expired secret")
	clk.Add(time.Hour) // the receipt lives 2 x TTL
	_, err = svc.Receipt(ctx, r.MetadataKey)
	require.ErrorIs(t, err, onetime.ErrNotFound, "expired receipt")

	// A secret that vanished before its time (e.g. evicted) is orphaned.
	st := &evicting{Store: memory.New()}
	svc2, _ := newService(t, st, nil)
	r = share(t, svc2, onetime.ShareRequest{Value: []byte("v")})
	st.evicted.Store(true)
	receiptIn(t, ctx, svc2, r.MetadataKey, onetime.StateOrphaned)
}

// TestGenerateReceipt: the answer to Generate says new, as the reference
// service's does; the creator of a generated password has seen it, so the
// stored receipt is viewed from the start, and its first read says viewed.
func TestGenerateReceipt(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	g, err := svc.Generate(ctx, onetime.GenerateRequest{
		ShareRequest: onetime.ShareRequest{Passphrase: "pw"},
		Length:       16,
	})
	require.NoError(t, err)
	assert.Equal(t, onetime.StateNew, g.State, "the answer to Generate")
	assert.Equal(t, g.Created, g.Updated)
	assert.Len(t, g.Value, 16)
	assert.True(t, g.PassphraseRequired)
	assert.NotEmpty(t, g.SecretKey)
	receiptIn(t, ctx, svc, g.MetadataKey, onetime.StateViewed)
	receiptIn(t, ctx, svc, g.MetadataKey, onetime.StateViewed)
	v, err := svc.Reveal(ctx, g.SecretKey, "pw")
	require.NoError(t, err)
	assert.Equal(t, g.Value, v.Value)
	receiptIn(t, ctx, svc, g.MetadataKey, onetime.StateReceived)

	for in, want := range map[int]int{0: onetime.DefaultPasswordLength, 1: onetime.MinPasswordLength, 1000: onetime.MaxPasswordLength} {
		g, err := svc.Generate(ctx, onetime.GenerateRequest{Length: in})
		require.NoError(t, err)
		assert.Len(t, g.Value, want, "Length %d", in)
	}

	// Generate makes the value: one given is refused, not ignored.
	_, err = svc.Generate(ctx, onetime.GenerateRequest{ShareRequest: onetime.ShareRequest{Value: []byte("mine")}})
	require.ErrorIs(t, err, onetime.ErrInvalid)
	var ie *onetime.InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "secret", ie.Field)
	// The rest of the request is checked as Share checks it.
	_, err = svc.Generate(ctx, onetime.GenerateRequest{ShareRequest: onetime.ShareRequest{Recipients: []string{"a@example.com"}}})
	require.ErrorIs(t, err, onetime.ErrInvalid)
	assert.EqualError(t, err, "onetime: generate: An account is required to send emails.")
}

// TestFirstReadOnce: among concurrent first reads of a receipt exactly one
// answers new, because reading and moving to viewed are one step.
func TestFirstReadOnce(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	r := share(t, svc, onetime.ShareRequest{Value: []byte("v")})
	var news, viewed atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			m, err := svc.Receipt(ctx, r.MetadataKey)
			if !assert.NoError(t, err) {
				return
			}
			switch m.State {
			case onetime.StateNew:
				news.Add(1)
			case onetime.StateViewed:
				viewed.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, news.Load())
	assert.EqualValues(t, 31, viewed.Load())
}

// evicting is a real memory store whose receipts report their secret gone,
// as a Redis store does after an eviction.
type evicting struct {
	*memory.Store
	evicted atomic.Bool
}

func (e *evicting) Receipt(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	m, err := e.Store.Receipt(ctx, id, now)
	if m != nil && e.evicted.Load() {
		m.SecretPresent = false
	}
	return m, err
}

func (e *evicting) View(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	if e.evicted.Load() {
		return e.Receipt(ctx, id, now) // a receipt whose secret is gone does not move
	}
	return e.Store.View(ctx, id, now)
}

func (e *evicting) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	if e.evicted.Load() {
		return nil, onetime.ErrNotFound
	}
	return e.Store.Peek(ctx, id, now)
}

func TestUnknownKeys(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	r := share(t, svc, onetime.ShareRequest{Value: []byte("v")})
	sk := string(r.SecretKey)
	for _, k := range []string{"", "short", strings.ToUpper(sk), sk + "x", "../" + sk[3:], string(r.MetadataKey)} {
		_, err := svc.Reveal(ctx, onetime.SecretKey(k), "")
		assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal(%q)", k)
		_, err = svc.Reveal(ctx, onetime.SecretKey(k), "a passphrase")
		assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal(%q) with a passphrase", k)
	}
	_, err := svc.Receipt(ctx, onetime.MetadataKey(r.SecretKey))
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Receipt by the secret key")
	_, err = svc.Burn(ctx, onetime.MetadataKey(r.SecretKey))
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Burn by the secret key")
	_, err = svc.Receipt(ctx, "short")
	assert.ErrorIs(t, err, onetime.ErrNotFound)
	_, err = svc.Burn(ctx, "short")
	assert.ErrorIs(t, err, onetime.ErrNotFound)
	// None of that touched the secret.
	got, err := svc.Reveal(ctx, r.SecretKey, "")
	require.NoError(t, err)
	assert.Equal(t, "v", string(got.Value))
}

func TestRestrictReceipts(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, &onetime.Options{RestrictReceipts: true})
	r := share(t, svc, onetime.ShareRequest{Owner: "alice", Value: []byte("v")})
	for _, viewer := range []context.Context{ctx, as(ctx, ""), as(ctx, "bob")} {
		_, err := svc.Receipt(viewer, r.MetadataKey)
		assert.ErrorIs(t, err, onetime.ErrNotFound)
		_, err = svc.Burn(viewer, r.MetadataKey)
		assert.ErrorIs(t, err, onetime.ErrNotFound)
	}
	// Others' reads did not move the receipt.
	receiptIn(t, as(ctx, "alice"), svc, r.MetadataKey, onetime.StateNew)
	b, err := svc.Burn(as(ctx, "alice"), r.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateBurned, b.State)

	// Anonymous receipts stay bearer capabilities.
	a := share(t, svc, onetime.ShareRequest{Value: []byte("v")})
	receiptIn(t, as(ctx, "bob"), svc, a.MetadataKey, onetime.StateNew)

	// Without the option, the metadata key alone is the capability.
	open, _ := newService(t, nil, nil)
	r = share(t, open, onetime.ShareRequest{Owner: "alice", Value: []byte("v")})
	receiptIn(t, as(ctx, "bob"), open, r.MetadataKey, onetime.StateNew)
}

func TestCallerFrom(t *testing.T) {
	ctx := context.Background()
	assert.Equal(t, onetime.Caller{}, onetime.CallerFrom(ctx))
	c := onetime.Caller{Customer: "alice", Address: "192.0.2.1"}
	assert.Equal(t, c, onetime.CallerFrom(onetime.WithCaller(ctx, c)))
}

func TestRecent(t *testing.T) {
	ctx := context.Background()
	svc, clk := newService(t, nil, &onetime.Options{RecentLimit: 3})
	var keys []onetime.MetadataKey
	for i := range 5 {
		r := share(t, svc, onetime.ShareRequest{Owner: "alice", Value: []byte{byte(i)}, Recipients: []string{"delano@example.com"}})
		keys = append(keys, r.MetadataKey)
		share(t, svc, onetime.ShareRequest{Owner: "bob", Value: []byte("b")})
		share(t, svc, onetime.ShareRequest{Value: []byte("anon")})
		clk.Add(time.Second)
	}
	list, err := svc.Recent(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 3)
	for i, r := range list {
		assert.Equal(t, keys[4-i], r.MetadataKey)
		assert.Equal(t, "alice", r.Owner)
		assert.Equal(t, []string{"de*****@e*****.com"}, r.Recipients)
		assert.Equal(t, onetime.StateNew, r.State, "listing is not reading")
	}
	// Listing did not move the receipts.
	receiptIn(t, ctx, svc, keys[4], onetime.StateNew)
	list, err = svc.Recent(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, list, "anonymous callers have a recent list")
}

// recording keeps a copy of everything a real memory store is given.
type recording struct {
	*memory.Store
	mu   sync.Mutex
	seen []string
}

func (r *recording) Create(ctx context.Context, s *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	r.mu.Lock()
	r.seen = append(r.seen, fmt.Sprintf("%+v %q %q %+v %q %q %q", *s, s.Sealed, s.Check, *m, m.Sealed, m.OwnerSealed, m.Owner))
	r.mu.Unlock()
	return r.Store.Create(ctx, s, m)
}

func (r *recording) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	r.record("peek", id)
	return r.Store.Peek(ctx, id, now)
}

func (r *recording) View(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	r.record("view", id)
	return r.Store.View(ctx, id, now)
}

// Reveal and Burn record what a store keeps for a replay, too: its id
// and the answer.
func (r *recording) Reveal(ctx context.Context, id onetime.ID, check onetime.Credentials, now time.Time, replay *onetime.Replay) (*onetime.SealedSecret, error) {
	r.record("reveal", id, check)
	s, err := r.Store.Reveal(ctx, id, check, now, replay)
	if replay != nil && s != nil {
		r.record("replay", *replay, fmt.Sprintf("%+v %q %q", *s, s.Sealed, s.Check))
	}
	return s, err
}

func (r *recording) Burn(ctx context.Context, id onetime.ID, now time.Time, replay *onetime.Replay) (*onetime.SealedMetadata, error) {
	r.record("burn", id)
	m, err := r.Store.Burn(ctx, id, now, replay)
	if replay != nil && m != nil {
		r.record("replay", *replay, fmt.Sprintf("%+v %q %q", *m, m.Sealed, m.OwnerSealed))
	}
	return m, err
}

func (r *recording) record(op string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, fmt.Sprint(op, args))
}

func TestStoreSeesNoPlaintext(t *testing.T) {
	ctx := context.Background()
	st := &recording{Store: memory.New()}
	var notified []onetime.Notification
	svc, _ := newService(t, st, &onetime.Options{Notifier: notifierFunc(func(_ context.Context, n onetime.Notification) error {
		notified = append(notified, n)
		return nil
	})})
	value := "hunter2-the-value"
	r := share(t, svc, onetime.ShareRequest{Owner: "cust", Value: []byte(value), Passphrase: "my-passphrase",
		Recipients: []string{"someone@example.org"}})
	require.NoError(t, svc.Close()) // sends the queued notification; the rest needs no Notifier
	require.Len(t, notified, 1)
	assert.Equal(t, "someone@example.org", notified[0].Recipient)
	assert.Equal(t, r.SecretKey, notified[0].SecretKey)
	_, err := svc.Receipt(ctx, r.MetadataKey)
	require.NoError(t, err)
	_, err = svc.Check(ctx, r.SecretKey)
	require.NoError(t, err)
	_, err = svc.Reveal(ctx, r.SecretKey, "my-passphrase")
	require.NoError(t, err)

	st.mu.Lock()
	dump := strings.Join(st.seen, "\n")
	st.mu.Unlock()
	require.Contains(t, dump, "reveal", "the recording missed calls")
	for _, s := range []string{value, "my-passphrase", "someone@example.org", "someone",
		string(r.SecretKey), string(r.MetadataKey), string(r.SecretKey[:20]), string(r.MetadataKey[:20])} {
		assert.NotContains(t, dump, s, "the store was given a secret in clear")
	}
}

type notifierFunc func(context.Context, onetime.Notification) error

func (f notifierFunc) Notify(ctx context.Context, n onetime.Notification) error { return f(ctx, n) }

func TestErrorsCarryNoKeys(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	r := share(t, svc, onetime.ShareRequest{Value: []byte("v4lue-xyz"), Passphrase: "p4ss-xyz"})
	var errs []error
	_, err := svc.Reveal(ctx, r.SecretKey, "wr0ng-xyz")
	errs = append(errs, err)
	_, err = svc.Burn(ctx, onetime.MetadataKey(r.SecretKey))
	errs = append(errs, err)
	_, err = svc.Receipt(ctx, onetime.MetadataKey(r.SecretKey))
	errs = append(errs, err)
	gone, cancel := context.WithCancel(ctx)
	cancel()
	_, err = svc.Receipt(gone, r.MetadataKey)
	errs = append(errs, err)
	_, err = svc.Reveal(gone, r.SecretKey, "wr0ng-xyz")
	errs = append(errs, err)
	for _, err := range errs {
		require.Error(t, err)
		for _, s := range []string{string(r.SecretKey), string(r.MetadataKey), "wr0ng-xyz", "p4ss-xyz", "v4lue-xyz"} {
			assert.NotContains(t, err.Error(), s)
		}
	}
}

func TestConcurrentService(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	r := share(t, svc, onetime.ShareRequest{Value: []byte("once")})
	var wins, missed atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			_, err := svc.Reveal(ctx, r.SecretKey, "")
			if err == nil {
				wins.Add(1)
			} else if assert.ErrorIs(t, err, onetime.ErrNotFound) {
				missed.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, wins.Load(), "goroutines that got the value")
	assert.EqualValues(t, 63, missed.Load())
}

func TestObscureEmail(t *testing.T) {
	for in, want := range map[string]string{
		"delano@example.com": "de*****@e*****.com",
		"a@b":                "a*****@b*****",
		"nobody":             "*****",
		"élan@ünï.fr":        "él*****@ü*****.fr",
	} {
		assert.Equal(t, want, onetime.ObscureEmail(in), "ObscureEmail(%q)", in)
	}
}

// TestRevealGivenUpKeepsSecret: a caller whose context ended (a client that
// hung up, a request deadline) does not consume the secret it will never see.
func TestRevealGivenUpKeepsSecret(t *testing.T) {
	svc, _ := newService(t, nil, nil)
	ctx := context.Background()
	gone, cancel := context.WithCancel(ctx)
	cancel()
	for _, pass := range []string{"", "pw"} {
		r := share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: pass})
		_, err := svc.Reveal(gone, r.SecretKey, pass)
		require.ErrorIs(t, err, context.Canceled)
		v, err := svc.Reveal(ctx, r.SecretKey, pass)
		require.NoError(t, err, "the secret did not survive an abandoned reveal")
		assert.Equal(t, "v", string(v.Value))
	}
}

func TestPing(t *testing.T) {
	st := memory.New()
	svc, err := onetime.New(st, serverSecret, nil)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, svc.Ping(ctx))
	require.NoError(t, st.Close())
	err = svc.Ping(ctx)
	require.ErrorIs(t, err, onetime.ErrClosed)
	assert.Equal(t, "onetime: ping: store closed", err.Error())
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	svc, clk := newService(t, st, nil)
	for range 3 {
		share(t, svc, onetime.ShareRequest{Value: []byte("v"), TTL: time.Minute})
	}
	n, err := svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing has expired yet")
	clk.Add(time.Minute)
	n, err = svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "the secrets expire first")
	clk.Add(time.Minute)
	n, err = svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "then their receipts")
	secrets, receipts := st.Len()
	assert.Zero(t, secrets+receipts)
}
