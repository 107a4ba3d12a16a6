package onetime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

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

func newService(t *testing.T, st onetime.Store, opts *onetime.Options) (*onetime.Service, *clock) {
	t.Helper()
	c := &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	var o onetime.Options
	if opts != nil {
		o = *opts
	}
	o.Now = c.Now
	if o.SweepInterval == 0 {
		o.SweepInterval = -1
	}
	if st == nil {
		st = memory.New()
	}
	svc, err := onetime.New(st, serverSecret, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	return svc, c
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := onetime.New(nil, serverSecret, nil); err == nil {
		t.Error("nil store accepted")
	}
	_, err := onetime.New(memory.New(), []byte("short"), nil)
	if err == nil || !strings.Contains(err.Error(), "at least 32 bytes") {
		t.Errorf("short server secret: %v", err)
	}
	if _, err := onetime.New(memory.New(), serverSecret, &onetime.Options{MinTTL: time.Hour, MaxTTL: time.Minute}); err == nil {
		t.Error("MaxTTL below MinTTL accepted")
	}
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
		var ie *onetime.InputError
		if !errors.Is(err, c.kind) || !errors.As(err, &ie) || ie.Field != c.field || ie.Message != c.msg {
			t.Errorf("Share(%+v) = %v; want %v on %s: %q", c.req, err, c.kind, c.field, c.msg)
		}
	}
	// 10 bytes is exactly the maximum; 4 multi-byte characters are 4 characters.
	if _, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("0123456789"), Passphrase: "ééé€"}); err != nil {
		t.Errorf("value at the maximum size: %v", err)
	}
	// Empty recipients are absent ones, also for anonymous callers.
	if _, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("x"), Recipients: []string{""}}); err != nil {
		t.Errorf("empty recipient: %v", err)
	}
}

func TestTTLPolicy(t *testing.T) {
	ctx := context.Background()
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
		r, err := svc.Share(ctx, onetime.ShareRequest{Owner: c.owner, Value: []byte("x"), TTL: c.ttl, MaxTTL: c.max})
		if err != nil {
			t.Fatal(err)
		}
		if r.TTL != c.want || r.SecretTTL != c.want || r.MetadataTTL != 2*c.want {
			t.Errorf("owner %q ttl %v max %v: TTL %v, SecretTTL %v, MetadataTTL %v; want %v, %v, %v",
				c.owner, c.ttl, c.max, r.TTL, r.SecretTTL, r.MetadataTTL, c.want, c.want, 2*c.want)
		}
	}
}

func TestRevealPassphrase(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	r, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.PassphraseRequired {
		t.Error("PassphraseRequired = false")
	}
	for _, wrong := range []string{"", "PW", strings.Repeat("p", 500)} {
		if _, err := svc.Reveal(ctx, r.SecretKey, wrong); !errors.Is(err, onetime.ErrWrongPassphrase) {
			t.Fatalf("Reveal with %d-byte wrong passphrase: %v", len(wrong), err)
		}
	}
	got, err := svc.Reveal(ctx, r.SecretKey, "pw")
	if err != nil || string(got.Value) != "v" || got.SecretKey != r.SecretKey {
		t.Fatalf("Reveal with the passphrase = %+v, %v", got, err)
	}

	// A passphrase given for a secret without one is ignored.
	r, _ = svc.Share(ctx, onetime.ShareRequest{Value: []byte("plain")})
	if got, err := svc.Reveal(ctx, r.SecretKey, "unneeded"); err != nil || string(got.Value) != "plain" {
		t.Fatalf("Reveal = %v", err)
	}
}

func TestAttemptLimit(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, &onetime.Options{MaxAttempts: 3})
	r, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})
	for range 2 {
		svc.Reveal(ctx, r.SecretKey, "no")
	}
	if _, err := svc.Reveal(ctx, r.SecretKey, "pw"); err != nil {
		t.Fatalf("2 wrong then right (limit 3): %v", err)
	}
	r, _ = svc.Share(ctx, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})
	for range 3 {
		svc.Reveal(ctx, r.SecretKey, "no")
	}
	if _, err := svc.Reveal(ctx, r.SecretKey, "pw"); !errors.Is(err, onetime.ErrNotFound) {
		t.Fatalf("right passphrase after the limit: %v", err)
	}
	rc, err := svc.Receipt(ctx, "", r.MetadataKey)
	if err != nil || rc.State != onetime.StateBurned || rc.Burned.IsZero() {
		t.Fatalf("receipt after the limit: %+v, %v", rc, err)
	}
}

func TestStates(t *testing.T) {
	ctx := context.Background()
	svc, clk := newService(t, nil, nil)
	share := func() *onetime.Receipt {
		r, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v"), TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if r.State != onetime.StateNew || r.SecretKey == "" || r.ShortKey != r.SecretKey[:6] {
			t.Fatalf("new receipt %+v", r)
		}
		return r
	}
	receipt := func(r *onetime.Receipt, want onetime.State) *onetime.Receipt {
		t.Helper()
		got, err := svc.Receipt(ctx, "", r.MetadataKey)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != want {
			t.Fatalf("state %v, want %v", got.State, want)
		}
		if got.Alive() != (got.SecretKey != "") || got.Alive() != (got.SecretTTL > 0) {
			t.Fatalf("%v receipt: secret key shown %v, SecretTTL %v", got.State, got.SecretKey != "", got.SecretTTL)
		}
		return got
	}

	r := share()
	created := clk.Now()
	clk.Add(time.Second)
	first := receipt(r, onetime.StateViewed) // the first read already says viewed
	if !first.Updated.Equal(clk.Now()) || !first.Created.Equal(created) {
		t.Errorf("viewed: Updated %v, Created %v", first.Updated, first.Created)
	}
	clk.Add(time.Second)
	receipt(r, onetime.StateViewed)
	svc.Reveal(ctx, r.SecretKey, "")
	got := receipt(r, onetime.StateReceived)
	if !got.Received.Equal(clk.Now()) || got.ShortKey != r.ShortKey {
		t.Errorf("received at %v, want %v", got.Received, clk.Now())
	}

	r = share()
	b, err := svc.Burn(ctx, "", r.MetadataKey)
	if err != nil || b.State != onetime.StateBurned || b.SecretKey != "" || b.ShortKey != r.SecretKey[:6] {
		t.Fatalf("Burn = %+v, %v", b, err)
	}
	if _, err := svc.Burn(ctx, "", r.MetadataKey); !errors.Is(err, onetime.ErrNotFound) {
		t.Fatalf("second Burn: %v", err)
	}
	receipt(r, onetime.StateBurned)

	r = share()
	clk.Add(time.Hour)
	receipt(r, onetime.StateExpired)
	if _, err := svc.Reveal(ctx, r.SecretKey, ""); !errors.Is(err, onetime.ErrNotFound) {
		t.Fatalf("Reveal of an expired secret: %v", err)
	}
	clk.Add(time.Hour) // the receipt lives 2 x TTL
	if _, err := svc.Receipt(ctx, "", r.MetadataKey); !errors.Is(err, onetime.ErrNotFound) {
		t.Fatalf("expired receipt: %v", err)
	}

	// A secret that vanished before its time (e.g. evicted) is orphaned.
	st := &evicting{Store: memory.New()}
	svc2, _ := newService(t, st, nil)
	r, _ = svc2.Share(ctx, onetime.ShareRequest{Value: []byte("v")})
	st.evicted = true
	if got, err := svc2.Receipt(ctx, "", r.MetadataKey); err != nil || got.State != onetime.StateOrphaned {
		t.Fatalf("receipt of an evicted secret: %+v, %v", got, err)
	}
}

// evicting is a real memory store whose receipts report their secret gone,
// as a Redis store does after an eviction.
type evicting struct {
	*memory.Store
	evicted bool
}

func (e *evicting) Receipt(ctx context.Context, id onetime.ID, now time.Time) (*onetime.Metadata, error) {
	m, err := e.Store.Receipt(ctx, id, now)
	if m != nil && e.evicted {
		m.SecretPresent = false
	}
	return m, err
}

func TestUnknownKeys(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	r, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v")})
	for _, k := range []string{"", "short", strings.ToUpper(r.SecretKey), r.SecretKey + "x", "../" + r.SecretKey[3:], r.MetadataKey} {
		if _, err := svc.Reveal(ctx, k, ""); !errors.Is(err, onetime.ErrNotFound) {
			t.Errorf("Reveal(%q) = %v", k, err)
		}
	}
	if _, err := svc.Receipt(ctx, "", r.SecretKey); !errors.Is(err, onetime.ErrNotFound) {
		t.Errorf("Receipt by the secret key: %v", err)
	}
	if _, err := svc.Burn(ctx, "", r.SecretKey); !errors.Is(err, onetime.ErrNotFound) {
		t.Errorf("Burn by the secret key: %v", err)
	}
}

func TestRestrictReceipts(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	svc, _ := newService(t, st, &onetime.Options{RestrictReceipts: true})
	r, _ := svc.Share(ctx, onetime.ShareRequest{Owner: "alice", Value: []byte("v")})
	for _, viewer := range []string{"", "bob"} {
		if _, err := svc.Receipt(ctx, viewer, r.MetadataKey); !errors.Is(err, onetime.ErrNotFound) {
			t.Errorf("Receipt by %q: %v", viewer, err)
		}
		if _, err := svc.Burn(ctx, viewer, r.MetadataKey); !errors.Is(err, onetime.ErrNotFound) {
			t.Errorf("Burn by %q: %v", viewer, err)
		}
	}
	if got, err := svc.Receipt(ctx, "alice", r.MetadataKey); err != nil || got.State != onetime.StateViewed {
		t.Fatalf("owner's first read: %+v, %v (others' reads must not change the state)", got, err)
	}
	// Anonymous receipts stay bearer capabilities.
	a, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v")})
	if _, err := svc.Receipt(ctx, "bob", a.MetadataKey); err != nil {
		t.Errorf("anonymous receipt: %v", err)
	}
}

func TestRecent(t *testing.T) {
	ctx := context.Background()
	svc, clk := newService(t, nil, &onetime.Options{RecentLimit: 3})
	var keys []string
	for i := range 5 {
		r, err := svc.Share(ctx, onetime.ShareRequest{Owner: "alice", Value: []byte{byte(i)}, Recipients: []string{"delano@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, r.MetadataKey)
		svc.Share(ctx, onetime.ShareRequest{Owner: "bob", Value: []byte("b")})
		svc.Share(ctx, onetime.ShareRequest{Value: []byte("anon")})
		clk.Add(time.Second)
	}
	list, err := svc.Recent(ctx, "alice")
	if err != nil || len(list) != 3 {
		t.Fatalf("Recent = %d, %v", len(list), err)
	}
	for i, r := range list {
		if r.MetadataKey != keys[4-i] || r.Owner != "alice" || len(r.Recipients) != 1 || r.Recipients[0] != "de*****@e*****.com" {
			t.Fatalf("Recent[%d] = %+v", i, r)
		}
	}
	if list, _ := svc.Recent(ctx, ""); len(list) != 0 {
		t.Error("anonymous callers have a recent list")
	}
}

// recording keeps a copy of everything a real memory store is given.
type recording struct {
	*memory.Store
	mu   sync.Mutex
	seen []string
}

func (r *recording) Create(ctx context.Context, s *onetime.Secret, m *onetime.Metadata) error {
	r.mu.Lock()
	r.seen = append(r.seen, fmt.Sprintf("%+v %q %q %+v %q %q %q", *s, s.Sealed, s.Check, *m, m.Sealed, m.OwnerSealed, m.Owner))
	r.mu.Unlock()
	return r.Store.Create(ctx, s, m)
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
	r, err := svc.Share(ctx, onetime.ShareRequest{Owner: "cust", Value: []byte(value), Passphrase: "my-passphrase",
		Recipients: []string{"someone@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(notified) != 1 || notified[0].Recipient != "someone@example.org" || notified[0].SecretKey != r.SecretKey {
		t.Fatalf("notifier got %+v", notified)
	}
	dump := strings.Join(st.seen, "\n")
	for _, s := range []string{value, "my-passphrase", "someone@example.org", "someone", r.SecretKey, r.MetadataKey, r.SecretKey[:20], r.MetadataKey[:20]} {
		if strings.Contains(dump, s) {
			t.Errorf("the store was given %q in clear", s)
		}
	}
}

type notifierFunc func(context.Context, onetime.Notification) error

func (f notifierFunc) Notify(ctx context.Context, n onetime.Notification) error { return f(ctx, n) }

func TestErrorsCarryNoKeys(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	r, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v4lue-xyz"), Passphrase: "p4ss-xyz"})
	var errs []error
	_, err := svc.Reveal(ctx, r.SecretKey, "wr0ng-xyz")
	errs = append(errs, err)
	_, err = svc.Burn(ctx, "", r.SecretKey)
	errs = append(errs, err)
	_, err = svc.Receipt(ctx, "", r.SecretKey)
	errs = append(errs, err)
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	_, err = svc.Receipt(ctx2, "", r.MetadataKey)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		for _, s := range []string{r.SecretKey, r.MetadataKey, "wr0ng-xyz", "p4ss-xyz", "v4lue-xyz"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains %q", err, s)
			}
		}
	}
}

func TestConcurrentService(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	r, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("once")})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 64 {
		wg.Go(func() {
			if _, err := svc.Reveal(ctx, r.SecretKey, ""); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d goroutines got the value", wins)
	}
}

// TestSweeper checks that the service's sweeper reclaims expired records.
// It polls the store (a bounded wait), it does not time anything.
func TestSweeper(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	svc, clk := newService(t, st, &onetime.Options{SweepInterval: time.Millisecond})
	for range 10 {
		svc.Share(ctx, onetime.ShareRequest{Value: []byte("v"), TTL: time.Minute})
	}
	clk.Add(2 * time.Minute) // the receipts live 2 x TTL
	deadline := time.Now().Add(10 * time.Second)
	for {
		secrets, receipts := st.Len()
		if secrets == 0 && receipts == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s, %d secrets and %d receipts remain", secrets, receipts)
		}
		time.Sleep(time.Millisecond)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	svc.Close() // twice is fine
}

func TestObscureEmail(t *testing.T) {
	for in, want := range map[string]string{
		"delano@example.com": "de*****@e*****.com",
		"a@b":                "a*****@b*****",
		"nobody":             "*****",
		"élan@ünï.fr":        "él*****@ü*****.fr",
	} {
		if got := onetime.ObscureEmail(in); got != want {
			t.Errorf("ObscureEmail(%q) = %q, want %q", in, got, want)
		}
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
		r, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v"), Passphrase: pass})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reveal(gone, r.SecretKey, pass); !errors.Is(err, context.Canceled) {
			t.Fatalf("Reveal with an ended context: %v", err)
		}
		if v, err := svc.Reveal(ctx, r.SecretKey, pass); err != nil || string(v.Value) != "v" {
			t.Fatalf("the secret did not survive an abandoned reveal: %v", err)
		}
	}
}

func TestNewRejectsUnboundedTTLs(t *testing.T) {
	for _, o := range []onetime.Options{
		{MaxTTLAuthenticated: 200 * 365 * 24 * time.Hour},
		{MinTTL: 1500 * time.Millisecond},
		{DefaultTTL: -time.Hour},
	} {
		if _, err := onetime.New(memory.New(), serverSecret, &o); err == nil {
			t.Errorf("New accepted %+v", o)
		}
	}
}

// racyReveal is a real memory store that, when armed, reveals a receipt's
// secret just before marking the receipt viewed, as a concurrent reader
// could between the service's two calls.
type racyReveal struct {
	*memory.Store
	armed bool
}

func (r *racyReveal) MarkViewed(ctx context.Context, id onetime.ID, now time.Time) error {
	if r.armed {
		r.armed = false
		m, err := r.Store.Receipt(ctx, id, now)
		if err != nil {
			return err
		}
		if _, err := r.Store.Reveal(ctx, m.SecretID, nil, now); err != nil {
			return err
		}
	}
	return r.Store.MarkViewed(ctx, id, now)
}

// TestReceiptRaceWithReveal: a receipt read while its secret is revealed
// reports the reveal, not a viewed secret with a key that opens nothing.
func TestReceiptRaceWithReveal(t *testing.T) {
	ctx := context.Background()
	st := &racyReveal{Store: memory.New()}
	svc, _ := newService(t, st, nil)
	r, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v")})
	st.armed = true
	got, err := svc.Receipt(ctx, "", r.MetadataKey)
	if err != nil || got.State != onetime.StateReceived || got.SecretKey != "" {
		t.Fatalf("receipt read across a reveal: %+v, %v; want received without a secret key", got, err)
	}
	if st.armed {
		t.Fatal("the race was not staged")
	}
}
