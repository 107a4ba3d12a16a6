package onetime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
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

// withKey returns ctx carrying the idempotency key k.
func withKey(ctx context.Context, k string) context.Context {
	return onetime.WithIdempotencyKey(ctx, k)
}

// sameAnswer checks that two answers to Share or Generate are one: the
// same keys, state, times and value.
func sameAnswer(t *testing.T, want, got *onetime.Metadata) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.MetadataKey, got.MetadataKey, "MetadataKey")
	assert.Equal(t, want.SecretKey, got.SecretKey, "SecretKey")
	assert.Equal(t, *want, *got, "the repeat's answer differs from the first")
}

func TestShareRepeat(t *testing.T) {
	ctx := withKey(context.Background(), "key-1")
	st := memory.New()
	svc, clk := newService(t, st, nil)
	req := onetime.ShareRequest{Value: []byte("the value"), TTL: time.Hour, Passphrase: "pw"}
	first, err := svc.Share(ctx, req)
	require.NoError(t, err)

	// The receipt is read and the secret revealed meanwhile: the repeat
	// still answers as the first answer did.
	clk.Add(10 * time.Second)
	again, err := svc.Share(ctx, req)
	require.NoError(t, err)
	sameAnswer(t, first, again)
	_, err = svc.Receipt(context.Background(), first.MetadataKey)
	require.NoError(t, err)
	v, err := svc.Reveal(context.Background(), first.SecretKey, "pw")
	require.NoError(t, err)
	assert.Equal(t, "the value", string(v.Value))
	clk.Add(49 * time.Second)
	again, err = svc.Share(ctx, req)
	require.NoError(t, err)
	sameAnswer(t, first, again)
	secrets, receipts := st.Len()
	assert.Equal(t, [2]int{0, 1}, [2]int{secrets, receipts}, "a repeat stored a second pair")

	// Another request under the same key is another secret.
	other, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("the value"), TTL: 2 * time.Hour, Passphrase: "pw"})
	require.NoError(t, err)
	assert.NotEqual(t, first.SecretKey, other.SecretKey, "a different request answered as a repeat")

	// Past the window, the same request is a new secret.
	clk.Add(time.Second)
	late, err := svc.Share(ctx, req)
	require.NoError(t, err)
	assert.NotEqual(t, first.SecretKey, late.SecretKey, "a share past the window answered as a repeat")
	assert.NotEqual(t, first.MetadataKey, late.MetadataKey)
	v, err = svc.Reveal(context.Background(), late.SecretKey, "pw")
	require.NoError(t, err)
	assert.Equal(t, "the value", string(v.Value))
}

// TestShareRepeatAcrossWindows: a repeat within the window answers the
// first receipt wherever the window's edges fall, and a repeat made long
// after (the first pair long gone) makes a pair with new keys: a key
// never names two secrets.
func TestShareRepeatAcrossWindows(t *testing.T) {
	st := memory.New()
	svc, clk := newService(t, st, nil)
	seen := map[onetime.SecretKey]bool{}
	for i := range 12 {
		ctx := withKey(context.Background(), fmt.Sprintf("key-%d", i))
		req := onetime.ShareRequest{Value: []byte("v"), TTL: time.Minute}
		first, err := svc.Share(ctx, req)
		require.NoError(t, err)
		require.False(t, seen[first.SecretKey], "a key named two secrets")
		seen[first.SecretKey] = true
		clk.Add(5*time.Second + time.Duration(i)*time.Second)
		again, err := svc.Share(ctx, req)
		require.NoError(t, err)
		sameAnswer(t, first, again)
		clk.Add(time.Hour)
		_, err = svc.Sweep(context.Background())
		require.NoError(t, err)
		later, err := svc.Share(ctx, req)
		require.NoError(t, err)
		require.NotEqual(t, first.SecretKey, later.SecretKey, "the keys of a swept pair came back")
		seen[later.SecretKey] = true
	}
}

func TestGenerateRepeat(t *testing.T) {
	ctx := withKey(as(context.Background(), "cust"), "gen-key")
	st := memory.New()
	svc, clk := newService(t, st, nil)
	req := onetime.GenerateRequest{ShareRequest: onetime.ShareRequest{Owner: "cust"}, Length: 20}
	first, err := svc.Generate(ctx, req)
	require.NoError(t, err)
	require.Len(t, first.Value, 20)
	clk.Add(30 * time.Second)
	again, err := svc.Generate(ctx, req)
	require.NoError(t, err)
	sameAnswer(t, first, again)
	secrets, _ := st.Len()
	assert.Equal(t, 1, secrets, "a repeated Generate stored a second secret")
	v, err := svc.Reveal(context.Background(), first.SecretKey, "")
	require.NoError(t, err)
	assert.Equal(t, first.Value, v.Value, "the generated value")
	list, err := svc.Recent(context.Background(), "cust")
	require.NoError(t, err)
	assert.Len(t, list, 1, "Recent after a repeated Generate")

	// Without a key, two Generates are two passwords.
	a, err := svc.Generate(context.Background(), req)
	require.NoError(t, err)
	b, err := svc.Generate(context.Background(), req)
	require.NoError(t, err)
	assert.NotEqual(t, a.Value, b.Value)
}

// TestIdempotencyKeyPerCustomer: the same key and request from another
// customer, or from no customer, is another request.
func TestIdempotencyKeyPerCustomer(t *testing.T) {
	svc, _ := newService(t, nil, nil)
	keys := map[onetime.SecretKey]string{}
	for _, owner := range []string{"", "alice", "bob"} {
		ctx := withKey(as(context.Background(), owner), "shared-key")
		m, err := svc.Share(ctx, onetime.ShareRequest{Owner: owner, Value: []byte("same value")})
		require.NoError(t, err)
		require.NotContains(t, keys, m.SecretKey, "%q got the secret of %q", owner, keys[m.SecretKey])
		keys[m.SecretKey] = owner
		g, err := svc.Generate(ctx, onetime.GenerateRequest{ShareRequest: onetime.ShareRequest{Owner: owner}})
		require.NoError(t, err)
		require.NotContains(t, keys, g.SecretKey)
		keys[g.SecretKey] = owner
	}
}

func TestRevealRepeat(t *testing.T) {
	bg := context.Background()
	svc, clk := newService(t, nil, nil)
	for _, pass := range []string{"", "open sesame"} {
		r := share(t, svc, onetime.ShareRequest{Value: []byte("v " + pass), Passphrase: pass})
		ctx := withKey(bg, "reveal-"+pass)
		first, err := svc.Reveal(ctx, r.SecretKey, pass)
		require.NoError(t, err)
		clk.Add(30 * time.Second)
		again, err := svc.Reveal(ctx, r.SecretKey, pass)
		require.NoError(t, err, "a repeat with the same key")
		assert.Equal(t, first, again)
		_, err = svc.Reveal(withKey(bg, "another key"), r.SecretKey, pass)
		assert.ErrorIs(t, err, onetime.ErrNotFound, "another key")
		_, err = svc.Reveal(bg, r.SecretKey, pass)
		assert.ErrorIs(t, err, onetime.ErrNotFound, "no key")
		if pass != "" {
			_, err = svc.Reveal(ctx, r.SecretKey, "not it")
			assert.ErrorIs(t, err, onetime.ErrNotFound, "the same key with another passphrase")
		}
		rc, err := svc.Receipt(bg, r.MetadataKey)
		require.NoError(t, err)
		assert.Equal(t, onetime.StateReceived, rc.State)
		clk.Add(30 * time.Second) // the window is over
		_, err = svc.Reveal(ctx, r.SecretKey, pass)
		assert.ErrorIs(t, err, onetime.ErrNotFound, "a repeat past the window")
	}
}

// TestWrongPassphraseRepeat: a repeated wrong passphrase is answered
// wrong again and counted once; the burning attempt repeats as wrong.
func TestWrongPassphraseRepeat(t *testing.T) {
	bg := context.Background()
	svc, _ := newService(t, nil, &onetime.Options{MaxAttempts: 2})
	r := share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: "right"})
	ctx := withKey(bg, "k")
	for range 3 {
		_, err := svc.Reveal(ctx, r.SecretKey, "wrong")
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	}
	v, err := svc.Reveal(ctx, r.SecretKey, "right") // the same key, another passphrase: another call
	require.NoError(t, err, "repeats of one wrong attempt counted more than one")
	assert.Equal(t, "v", string(v.Value))

	r = share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: "right"})
	_, err = svc.Reveal(bg, r.SecretKey, "wrong")
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	_, err = svc.Reveal(ctx, r.SecretKey, "wrong") // the burning attempt
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	_, err = svc.Reveal(ctx, r.SecretKey, "wrong")
	assert.ErrorIs(t, err, onetime.ErrWrongPassphrase, "a repeat of the burning attempt")
	rc, err := svc.Receipt(bg, r.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateBurned, rc.State)
}

func TestBurnRepeat(t *testing.T) {
	bg := context.Background()
	svc, clk := newService(t, nil, nil)
	r := share(t, svc, onetime.ShareRequest{Value: []byte("v")})
	ctx := withKey(bg, "burn-key")
	first, err := svc.Burn(ctx, r.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateBurned, first.State)
	clk.Add(10 * time.Second)
	again, err := svc.Burn(ctx, r.MetadataKey)
	require.NoError(t, err, "a repeated Burn")
	assert.Equal(t, first.State, again.State)
	assert.Equal(t, first.Burned, again.Burned)
	assert.Equal(t, first.Updated, again.Updated)
	assert.Equal(t, first.MetadataTTL-10*time.Second, again.MetadataTTL)
	_, err = svc.Burn(withKey(bg, "other"), r.MetadataKey)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "another key")
	_, err = svc.Burn(bg, r.MetadataKey)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "no key")
	_, err = svc.Reveal(ctx, r.SecretKey, "")
	assert.ErrorIs(t, err, onetime.ErrNotFound, "a Reveal under the key of a Burn")
}

// TestReplayWindowOff: a negative ReplayWindow ignores keys.
func TestReplayWindowOff(t *testing.T) {
	ctx := withKey(context.Background(), "k")
	st := memory.New()
	svc, _ := newService(t, st, &onetime.Options{ReplayWindow: -1})
	req := onetime.ShareRequest{Value: []byte("v")}
	a, err := svc.Share(ctx, req)
	require.NoError(t, err)
	b, err := svc.Share(ctx, req)
	require.NoError(t, err)
	assert.NotEqual(t, a.SecretKey, b.SecretKey)
	_, err = svc.Reveal(ctx, a.SecretKey, "")
	require.NoError(t, err)
	_, err = svc.Reveal(ctx, a.SecretKey, "")
	assert.ErrorIs(t, err, onetime.ErrNotFound)
}

func TestReplayWindowOptions(t *testing.T) {
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	_, err := onetime.New(st, serverSecret, &onetime.Options{ReplayWindow: 3 * time.Minute})
	require.Error(t, err, "a window longer than twice MinTTL")
	svc, err := onetime.New(st, serverSecret, nil)
	require.NoError(t, err)
	assert.Equal(t, onetime.DefaultReplayWindow, svc.Options().ReplayWindow)
	svc, err = onetime.New(st, serverSecret, &onetime.Options{MinTTL: time.Second})
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, svc.Options().ReplayWindow, "the default under a short MinTTL")
}

// losing is a real memory store whose answer to the first consuming call
// of each kind is lost on the way back, as a dropped connection loses it:
// the call took effect, the caller sees an error.
type losing struct {
	*memory.Store
	created, revealed, burned atomic.Bool
}

var errLost = errors.New("backend: connection reset")

func (l *losing) Create(ctx context.Context, s *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	if err := l.Store.Create(ctx, s, m); err != nil || l.created.Swap(true) {
		return err
	}
	return errLost
}

func (l *losing) Reveal(ctx context.Context, id onetime.ID, check onetime.Credentials, now time.Time, replay *onetime.Replay) (*onetime.SealedSecret, error) {
	s, err := l.Store.Reveal(ctx, id, check, now, replay)
	if err != nil || l.revealed.Swap(true) {
		return s, err
	}
	return nil, errLost
}

func (l *losing) Burn(ctx context.Context, id onetime.ID, now time.Time, replay *onetime.Replay) (*onetime.SealedMetadata, error) {
	m, err := l.Store.Burn(ctx, id, now, replay)
	if err != nil || l.burned.Swap(true) {
		return m, err
	}
	return nil, errLost
}

// TestLostReplies: every call whose answer was lost after it took effect
// is asked again with the same key and answers what it did; no second
// secret, no lost value.
func TestLostReplies(t *testing.T) {
	bg := context.Background()
	for _, pass := range []string{"", "pw"} {
		st := &losing{Store: memory.New()}
		svc, _ := newService(t, st, nil)
		ctx := withKey(bg, "share")
		req := onetime.ShareRequest{Value: []byte("value"), Passphrase: pass}
		_, err := svc.Share(ctx, req)
		require.ErrorIs(t, err, errLost)
		m, err := svc.Share(ctx, req)
		require.NoError(t, err, "a Share asked again")
		secrets, _ := st.Len()
		require.Equal(t, 1, secrets, "a Share asked again stored a second secret")

		ctx = withKey(bg, "reveal")
		_, err = svc.Reveal(ctx, m.SecretKey, pass)
		require.ErrorIs(t, err, errLost)
		v, err := svc.Reveal(ctx, m.SecretKey, pass)
		require.NoError(t, err, "a Reveal asked again")
		assert.Equal(t, "value", string(v.Value))

		b := share(t, svc, onetime.ShareRequest{Value: []byte("to burn")})
		ctx = withKey(bg, "burn")
		_, err = svc.Burn(ctx, b.MetadataKey)
		require.ErrorIs(t, err, errLost)
		burned, err := svc.Burn(ctx, b.MetadataKey)
		require.NoError(t, err, "a Burn asked again")
		assert.Equal(t, onetime.StateBurned, burned.State)
	}
}

// TestRevealRepeatRace: concurrent repeats of one reveal all get the
// value, and a racer without the key gets it only if none of them did.
func TestRevealRepeatRace(t *testing.T) {
	bg := context.Background()
	svc, _ := newService(t, nil, nil)
	for range 20 {
		r := share(t, svc, onetime.ShareRequest{Value: []byte("v")})
		ctx := withKey(bg, "same")
		var mu sync.Mutex
		var withKey, without int
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := ctx
				if i == 0 {
					c = bg
				}
				v, err := svc.Reveal(c, r.SecretKey, "")
				if err != nil {
					assert.ErrorIs(t, err, onetime.ErrNotFound)
					return
				}
				assert.Equal(t, "v", string(v.Value))
				mu.Lock()
				defer mu.Unlock()
				if i == 0 {
					without++
				} else {
					withKey++
				}
			}()
		}
		wg.Wait()
		require.True(t, (withKey == 15 && without == 0) || (withKey == 0 && without == 1),
			"%d holders of the key and %d callers without got the value", withKey, without)
	}
}

// TestStoreSeesNoPlaintextWithReplays: what a store is given and keeps for
// repeats (replay ids, the recorded answers) holds no value, passphrase,
// key or idempotency key.
func TestStoreSeesNoPlaintextWithReplays(t *testing.T) {
	bg := context.Background()
	st := &recording{Store: memory.New()}
	svc, _ := newService(t, st, nil)
	value, pass, idem := "hunter2-the-value", "my-passphrase", "idempotency-key-123"
	ctx := withKey(bg, idem)
	r, err := svc.Share(ctx, onetime.ShareRequest{Owner: "cust", Value: []byte(value), Passphrase: pass})
	require.NoError(t, err)
	_, err = svc.Share(ctx, onetime.ShareRequest{Owner: "cust", Value: []byte(value), Passphrase: pass})
	require.NoError(t, err)
	for range 2 {
		v, err := svc.Reveal(ctx, r.SecretKey, pass)
		require.NoError(t, err)
		require.Equal(t, value, string(v.Value))
	}
	g, err := svc.Generate(ctx, onetime.GenerateRequest{})
	require.NoError(t, err)
	for range 2 {
		_, err = svc.Burn(ctx, g.MetadataKey)
		require.NoError(t, err)
	}

	st.mu.Lock()
	dump := strings.Join(st.seen, "\n")
	st.mu.Unlock()
	require.Contains(t, dump, "replay", "the recording missed the replays")
	for _, s := range []string{value, pass, idem, string(g.Value),
		string(r.SecretKey), string(r.MetadataKey), string(r.SecretKey[:20]), string(r.MetadataKey[:20]),
		string(g.SecretKey), string(g.MetadataKey)} {
		assert.NotContains(t, dump, s, "the store was given a secret in clear")
	}
}

// stalling is a real memory store whose Peek hangs, ignoring its
// context, until released: a backend that stopped answering.
type stalling struct {
	*memory.Store
	release chan struct{}
}

func (s *stalling) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	<-s.release
	return s.Store.Peek(ctx, id, now)
}

// TestPingStalledStore: Ping answers by its deadline, or by
// DefaultPingTimeout without one, whatever the store does, and leaves
// nothing running once the store's call returns.
func TestPingStalledStore(t *testing.T) {
	st := &stalling{Store: memory.New(), release: make(chan struct{})}
	svc, _ := newService(t, st, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := svc.Ping(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 500*time.Millisecond, "Ping outlived its deadline")

	start = time.Now()
	err = svc.Ping(context.Background())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, onetime.DefaultPingTimeout)
	assert.Less(t, took, onetime.DefaultPingTimeout+500*time.Millisecond, "Ping without a deadline")

	assert.Equal(t, 2, pingCalls(t), "Ping's calls of the stalled store")
	close(st.release)
	assert.Eventually(t, func() bool { return pingCalls(t) == 0 }, 5*time.Second, 10*time.Millisecond,
		"Ping's goroutines outlived the store's calls")
	require.NoError(t, svc.Ping(context.Background()))
}

// pingCalls counts the goroutines that run a call of Ping's.
func pingCalls(t *testing.T) int {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&b, 2))
	return strings.Count(b.String(), "onetime.(*Service).Ping.func")
}

// TestConsumingCallsCarryTheDeadline: a Reveal or Burn whose deadline has
// passed consumes nothing: the store is given the request's deadline.
func TestConsumingCallsCarryTheDeadline(t *testing.T) {
	svc, _ := newService(t, nil, nil)
	past, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	r := share(t, svc, onetime.ShareRequest{Value: []byte("v")})
	_, err := svc.Reveal(withKey(past, "k"), r.SecretKey, "")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = svc.Burn(past, r.MetadataKey)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	v, err := svc.Reveal(withKey(context.Background(), "k"), r.SecretKey, "")
	require.NoError(t, err, "a call after its deadline consumed the secret")
	assert.Equal(t, "v", string(v.Value))
}
