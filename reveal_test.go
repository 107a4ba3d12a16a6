package onetime_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

// randomKey returns a key of the form the service issues that names
// nothing stored: what a guesser sends.
func randomKey() onetime.SecretKey {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, onetime.KeyLen)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return onetime.SecretKey(b)
}

// wrapping is a real memory store whose errors a backend has wrapped with
// its own words, as a driver does.
type wrapping struct{ *memory.Store }

func wrap(err error) error {
	if err == nil || errors.Is(err, onetime.ErrNotFound) || errors.Is(err, onetime.ErrWrongPassphrase) {
		return err
	}
	return fmt.Errorf("backend: %w", err)
}

func (w wrapping) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	i, err := w.Store.Peek(ctx, id, now)
	return i, wrap(err)
}

func (w wrapping) Reveal(ctx context.Context, id onetime.ID, check onetime.Credentials, now time.Time, replay *onetime.Replay) (*onetime.SealedSecret, error) {
	s, err := w.Store.Reveal(ctx, id, check, now, replay)
	return s, wrap(err)
}

// TestErrorTexts: every error a method of the Service returns reads
// "onetime: OP: " and what went wrong, once: a sentinel, a store's error in
// the store's words, an input error's message. errors.Is still finds the
// sentinel beneath.
func TestErrorTexts(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	svc, err := onetime.New(st, serverSecret, &onetime.Options{RestrictReceipts: true})
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	m := share(t, svc, onetime.ShareRequest{Owner: "alice", Value: []byte("v"), Passphrase: "pw"})
	alice := as(ctx, "alice")

	// A deadline that has passed: the store answers with the context's error.
	past, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	for _, pass := range []string{"", "pw"} {
		_, err = svc.Reveal(past, m.SecretKey, pass)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.EqualError(t, err, "onetime: reveal: context deadline exceeded")
	}

	// A closed store: every operation names itself.
	require.NoError(t, st.Close())
	calls := map[string]func() error{
		"share": func() error { _, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v")}); return err },
		"generate": func() error {
			_, err := svc.Generate(ctx, onetime.GenerateRequest{})
			return err
		},
		"reveal":  func() error { _, err := svc.Reveal(ctx, m.SecretKey, ""); return err },
		"check":   func() error { _, err := svc.Check(ctx, m.SecretKey); return err },
		"receipt": func() error { _, err := svc.Receipt(alice, m.MetadataKey); return err },
		"burn":    func() error { _, err := svc.Burn(alice, m.MetadataKey); return err },
		"recent":  func() error { _, err := svc.Recent(ctx, "alice"); return err },
		"sweep":   func() error { _, err := svc.Sweep(ctx); return err },
		"ping":    func() error { return svc.Ping(ctx) },
	}
	for op, call := range calls {
		err := call()
		require.ErrorIs(t, err, onetime.ErrClosed, op)
		assert.EqualError(t, err, "onetime: "+op+": store closed")
	}
	_, err = svc.Reveal(ctx, m.SecretKey, "pw")
	require.ErrorIs(t, err, onetime.ErrClosed)
	assert.EqualError(t, err, "onetime: reveal: store closed")

	// A backend that wraps the sentinel in words of its own.
	ws := wrapping{memory.New()}
	svc2, _ := newService(t, ws, nil)
	m2 := share(t, svc2, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})
	require.NoError(t, ws.Close())
	for _, pass := range []string{"", "pw"} {
		_, err = svc2.Reveal(ctx, m2.SecretKey, pass)
		require.ErrorIs(t, err, onetime.ErrClosed)
		assert.EqualError(t, err, "onetime: reveal: backend: store closed")
	}

	// The answers the caller acts on read the same way.
	svc3, _ := newService(t, nil, nil)
	m3 := share(t, svc3, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})
	answers := []struct {
		err  func() error
		is   error
		text string
	}{
		{func() error { _, err := svc3.Reveal(ctx, randomKey(), "pw"); return err },
			onetime.ErrNotFound, "onetime: reveal: not found"},
		{func() error { _, err := svc3.Reveal(ctx, "not a key", ""); return err },
			onetime.ErrNotFound, "onetime: reveal: not found"},
		{func() error { _, err := svc3.Reveal(ctx, m3.SecretKey, "wrong"); return err },
			onetime.ErrWrongPassphrase, "onetime: reveal: wrong passphrase"},
		{func() error { _, err := svc3.Check(ctx, randomKey()); return err },
			onetime.ErrNotFound, "onetime: check: not found"},
		{func() error { _, err := svc3.Receipt(ctx, onetime.MetadataKey(randomKey())); return err },
			onetime.ErrNotFound, "onetime: receipt: not found"},
		{func() error { _, err := svc3.Burn(ctx, "not a key"); return err },
			onetime.ErrNotFound, "onetime: burn: not found"},
		{func() error { _, err := svc3.Share(ctx, onetime.ShareRequest{}); return err },
			onetime.ErrInvalid, "onetime: share: You did not provide anything to share"},
		{func() error {
			_, err := svc3.Share(ctx, onetime.ShareRequest{Value: make([]byte, onetime.DefaultMaxSize+1)})
			return err
		}, onetime.ErrTooLarge, "onetime: share: Secret value exceeds the maximum size of 1048576 bytes"},
	}
	for _, a := range answers {
		err := a.err()
		require.ErrorIs(t, err, a.is)
		assert.EqualError(t, err, a.text)
	}
}

// tampering is a real memory store that hands back sealed bytes altered,
// as a corrupted or forged record would be.
type tampering struct{ *memory.Store }

func flip(b []byte) { b[len(b)-1] ^= 1 }

func (s tampering) Reveal(ctx context.Context, id onetime.ID, check onetime.Credentials, now time.Time, replay *onetime.Replay) (*onetime.SealedSecret, error) {
	sec, err := s.Store.Reveal(ctx, id, check, now, replay)
	if sec != nil {
		flip(sec.Sealed)
	}
	return sec, err
}

func (s tampering) View(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	m, err := s.Store.View(ctx, id, now)
	if m != nil {
		flip(m.Sealed)
	}
	return m, err
}

func (s tampering) Burn(ctx context.Context, id onetime.ID, now time.Time, replay *onetime.Replay) (*onetime.SealedMetadata, error) {
	m, err := s.Store.Burn(ctx, id, now, replay)
	if m != nil {
		flip(m.Sealed)
	}
	return m, err
}

// TestTamperedRecords: a record that fails authentication is an error,
// named by its operation, with one "onetime:" prefix.
func TestTamperedRecords(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, tampering{memory.New()}, nil)
	m := share(t, svc, onetime.ShareRequest{Value: []byte("v")})
	_, err := svc.Reveal(ctx, m.SecretKey, "")
	assert.EqualError(t, err, "onetime: reveal: sealed data failed authentication")
	_, err = svc.Receipt(ctx, m.MetadataKey)
	assert.EqualError(t, err, "onetime: receipt: sealed data failed authentication")
	m = share(t, svc, onetime.ShareRequest{Value: []byte("v")})
	_, err = svc.Burn(ctx, m.MetadataKey)
	assert.EqualError(t, err, "onetime: burn: sealed data failed authentication")
}

// counting is a real memory store that counts Peek and Reveal calls.
type counting struct {
	*memory.Store
	peeks, reveals atomic.Int32
}

func (c *counting) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	c.peeks.Add(1)
	return c.Store.Peek(ctx, id, now)
}

func (c *counting) Reveal(ctx context.Context, id onetime.ID, check onetime.Credentials, now time.Time, replay *onetime.Replay) (*onetime.SealedSecret, error) {
	c.reveals.Add(1)
	return c.Store.Reveal(ctx, id, check, now, replay)
}

// TestGuessOnMissingKeyDerivesNothing: Reveal asks the store before it
// derives a passphrase key, so a guess on a key that names nothing costs
// one store lookup and no argon2id run. Every derivation slot is held
// while the guesses run: one derivation would block, and the bubble would
// report the deadlock.
func TestGuessOnMissingKeyDerivesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := &counting{Store: memory.New()}
		svc, err := onetime.New(st, serverSecret, &onetime.Options{KDFConcurrency: 1})
		require.NoError(t, err)
		defer st.Close()
		plain := share(t, svc, onetime.ShareRequest{Value: []byte("plain")})

		release := onetime.HoldKDF(svc)
		defer release()
		const guesses = 1000
		for range guesses {
			_, err := svc.Reveal(ctx, randomKey(), "a guess")
			require.ErrorIs(t, err, onetime.ErrNotFound)
		}
		assert.EqualValues(t, guesses, st.peeks.Load())
		assert.Zero(t, st.reveals.Load(), "the store's Reveal was called for keys that name nothing")

		// A passphrase given for a secret without one costs nothing either.
		got, err := svc.Reveal(ctx, plain.SecretKey, "unneeded")
		require.NoError(t, err)
		assert.Equal(t, "plain", string(got.Value))
		waiting, free := onetime.KDFWaiting(svc)
		assert.Zero(t, waiting)
		assert.Zero(t, free)
	})
}

// spent is a real memory store that reports its secrets' attempts as
// spent, as a store would that keeps a spent secret until it is swept.
type spent struct{ *memory.Store }

func (s spent) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	i, err := s.Store.Peek(ctx, id, now)
	if i != nil {
		i.Attempts = i.MaxAttempts
	}
	return i, err
}

// TestSpentSecretDerivesNothing: a secret whose attempts are spent gets no
// derivation: the guess is counted by the store without one.
func TestSpentSecretDerivesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := spent{memory.New()}
		svc, err := onetime.New(st, serverSecret, &onetime.Options{KDFConcurrency: 1})
		require.NoError(t, err)
		defer st.Close()
		m := share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})

		release := onetime.HoldKDF(svc)
		defer release()
		_, err = svc.Reveal(ctx, m.SecretKey, "pw")
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "a spent secret opened")
		_, err = svc.Check(ctx, m.SecretKey)
		require.ErrorIs(t, err, onetime.ErrNotFound, "Check offers a spent secret")
		waiting, _ := onetime.KDFWaiting(svc)
		assert.Zero(t, waiting)
	})
}

// TestRevealGivesUpWaitingForKDF: a reveal whose context is cancelled
// while it waits for a derivation slot returns the context's error, named
// like any other, and leaves the secret and the queue as they were.
func TestRevealGivesUpWaitingForKDF(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		svc, err := onetime.New(st, serverSecret, &onetime.Options{KDFConcurrency: 1})
		require.NoError(t, err)
		defer st.Close()
		m := share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})

		release := onetime.HoldKDF(svc)
		ctx, cancel := context.WithCancel(onetime.WithCaller(context.Background(), onetime.Caller{Address: "192.0.2.1"}))
		done := make(chan error, 1)
		go func() {
			_, err := svc.Reveal(ctx, m.SecretKey, "pw")
			done <- err
		}()
		synctest.Wait()
		waiting, _ := onetime.KDFWaiting(svc)
		require.Equal(t, 1, waiting, "the reveal is not waiting for a slot")
		cancel()
		err = <-done
		require.ErrorIs(t, err, context.Canceled)
		assert.EqualError(t, err, "onetime: reveal: context canceled")
		waiting, _ = onetime.KDFWaiting(svc)
		assert.Zero(t, waiting)

		// Share waits for the same slots, and says so when it gives up.
		ctx2, cancel2 := context.WithCancel(context.Background())
		go func() {
			_, err := svc.Share(ctx2, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})
			done <- err
		}()
		synctest.Wait()
		cancel2()
		err = <-done
		require.ErrorIs(t, err, context.Canceled)
		assert.EqualError(t, err, "onetime: share: context canceled")

		release()
		got, err := svc.Reveal(context.Background(), m.SecretKey, "pw")
		require.NoError(t, err, "the abandoned reveal consumed the secret")
		assert.Equal(t, "v", string(got.Value))
	})
}

// TestRevealBusyInKDFQueue: a reveal whose deadline runs out while it waits
// in the derivation queue is told the service is busy (ErrBusy), not an
// unexpected error: the deadline is usually the server's own, and the
// client, still there, should retry. The secret and the queue are left as
// they were.
func TestRevealBusyInKDFQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		svc, err := onetime.New(st, serverSecret, &onetime.Options{KDFConcurrency: 1})
		require.NoError(t, err)
		defer st.Close()
		m := share(t, svc, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})

		release := onetime.HoldKDF(svc)
		ctx, cancel := context.WithTimeout(onetime.WithCaller(context.Background(), onetime.Caller{Address: "192.0.2.1"}), 25*time.Second)
		defer cancel()
		start := time.Now()
		_, err = svc.Reveal(ctx, m.SecretKey, "pw")
		require.ErrorIs(t, err, onetime.ErrBusy)
		assert.NotErrorIs(t, err, context.DeadlineExceeded, "busy is not the caller gone")
		assert.EqualError(t, err, "onetime: reveal: busy: the deadline passed while waiting for a passphrase derivation")
		assert.Equal(t, 25*time.Second, time.Since(start), "it waited until its deadline")
		waiting, _ := onetime.KDFWaiting(svc)
		assert.Zero(t, waiting, "the busy reveal left the queue")

		// Share with a passphrase waits in the same queue.
		ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
		defer cancel2()
		_, err = svc.Share(ctx2, onetime.ShareRequest{Value: []byte("v"), Passphrase: "pw"})
		require.ErrorIs(t, err, onetime.ErrBusy)
		assert.EqualError(t, err, "onetime: share: busy: the deadline passed while waiting for a passphrase derivation")

		release()
		got, err := svc.Reveal(context.Background(), m.SecretKey, "pw")
		require.NoError(t, err, "the busy reveal consumed the secret")
		assert.Equal(t, "v", string(got.Value))
	})
}

// TestRevealNotStarvedByGuesses: while clients flood the service with
// passphrase guesses, on keys that name nothing and on one real secret,
// another client's reveal of its own secret completes, after about one
// derivation per flooding client, not after every guess in the queue.
//
// The flood keeps eight guesses on the real secret in the queue, from two
// client addresses; one derivation runs at a time. Served in turn per
// client, the new reveal waits for the derivation under way and one of
// each flooding client's: three guesses end while it waits, four if one
// that had just ended is counted late. Served first come, first served,
// it would wait for all eight. The test counts, it
// does not time: the deadline only bounds a test that would otherwise
// hang, and is long because a derivation under -race on a busy machine
// can take seconds.
func TestRevealNotStarvedByGuesses(t *testing.T) {
	svc, _ := newService(t, nil, &onetime.Options{KDFConcurrency: 1, MaxAttempts: onetime.MaxAttemptsLimit})
	target := share(t, svc, onetime.ShareRequest{Value: []byte("target"), Passphrase: "right"})
	mine := share(t, svc, onetime.ShareRequest{Value: []byte("mine"), Passphrase: "my passphrase"})

	flood, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() })
	var targetGuesses, missGuesses atomic.Int64
	guess := func(address string, key func() onetime.SecretKey, count *atomic.Int64) {
		ctx := onetime.WithCaller(flood, onetime.Caller{Address: address})
		wg.Go(func() {
			for flood.Err() == nil {
				_, err := svc.Reveal(ctx, key(), "wrong")
				if flood.Err() != nil {
					return
				}
				assert.True(t, errors.Is(err, onetime.ErrWrongPassphrase) || errors.Is(err, onetime.ErrNotFound), "flood: %v", err)
				count.Add(1)
			}
		})
	}
	const clients, perClient = 2, 4
	for c := range clients {
		for range perClient {
			guess(fmt.Sprint("198.51.100.", c), func() onetime.SecretKey { return target.SecretKey }, &targetGuesses)
		}
	}
	for c := range 2 { // guesses on keys that name nothing cost no derivation
		guess(fmt.Sprint("203.0.113.", c), randomKey, &missGuesses)
	}
	// Wait until the flood fills the queue: all but the guess deriving.
	for {
		if waiting, _ := onetime.KDFWaiting(svc); waiting == clients*perClient-1 {
			break
		}
		runtime.Gosched()
	}

	ctx, cancel := context.WithTimeout(onetime.WithCaller(context.Background(), onetime.Caller{Address: "192.0.2.1"}), time.Minute)
	defer cancel()
	before := targetGuesses.Load()
	got, err := svc.Reveal(ctx, mine.SecretKey, "my passphrase")
	during := targetGuesses.Load() - before
	require.NoError(t, err, "the reveal did not complete during the flood")
	assert.Equal(t, "mine", string(got.Value))
	waiting, _ := onetime.KDFWaiting(svc)
	assert.Positive(t, waiting, "the flood had ended before the reveal")
	assert.LessOrEqual(t, during, int64(clients+2), "guesses that ended while the reveal waited")
	t.Logf("%d guesses on the real secret ended while the reveal waited; %d on missing keys so far", during, missGuesses.Load())

	stop()
	wg.Wait()
	assert.Positive(t, missGuesses.Load())
	// The flood never guessed right.
	_, err = svc.Check(context.Background(), target.SecretKey)
	assert.NoError(t, err)
}

// onetimeGoroutines counts the goroutines that code of package onetime
// started.
func onetimeGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return len(startedByOnetime.FindAll(buf, -1))
}

var startedByOnetime = regexp.MustCompile(`(?m)^created by github\.com/onetimego/onetime\.`)

// TestNewStartsNoGoroutine: by default a Service runs nothing in the
// background, so a program that embeds it owns every goroutine.
func TestNewStartsNoGoroutine(t *testing.T) {
	before := onetimeGoroutines()
	for range 10 {
		svc, err := onetime.New(memory.New(), serverSecret, nil)
		require.NoError(t, err)
		defer svc.Close()
	}
	assert.Equal(t, before, onetimeGoroutines())
}

// TestSweeper: Options.SweepInterval starts one goroutine that sweeps at
// that interval, and Close stops it.
func TestSweeper(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		defer st.Close()
		before := onetimeGoroutines()
		svc, err := onetime.New(st, serverSecret, &onetime.Options{SweepInterval: time.Minute})
		require.NoError(t, err)
		assert.Equal(t, before+1, onetimeGoroutines(), "one sweeper")
		for range 3 {
			share(t, svc, onetime.ShareRequest{Value: []byte("v"), TTL: time.Minute})
		}
		time.Sleep(2*time.Minute + time.Second) // the bubble's clock: receipts live 2 x TTL
		synctest.Wait()
		secrets, receipts := st.Len()
		assert.Zero(t, secrets, "secrets left unswept")
		assert.Zero(t, receipts, "receipts left unswept")

		require.NoError(t, svc.Close())
		synctest.Wait()
		assert.Equal(t, before, onetimeGoroutines(), "Close left the sweeper running")
		require.NoError(t, svc.Close(), "a second Close")
	})
}

// TestKeyTypesDoNotMix: a metadata key passed where a secret key belongs,
// or the other way round, does not compile. It runs the compiler on a
// small program laid over the module.
func TestKeyTypesDoNotMix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goCmd := filepath.Join(build.Default.GOROOT, "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		goCmd, err = exec.LookPath("go")
		require.NoError(t, err, "no go command to compile with")
	}
	root, err := os.Getwd() // the module's root: this package's directory
	require.NoError(t, err)

	build := func(body string) (string, error) {
		dir := t.TempDir()
		src := filepath.Join(root, "internal", fmt.Sprintf("keytypes%d", os.Getpid()), "main.go")
		program := `package main

import (
	"context"

	"github.com/onetimego/onetime"
)

func main() {
	ctx := context.Background()
	var svc *onetime.Service
	var m onetime.Metadata
	_ = ctx
	_ = svc
	_ = m
` + body + "\n}\n"
		file := filepath.Join(dir, "main.go")
		require.NoError(t, os.WriteFile(file, []byte(program), 0o644))
		overlay := filepath.Join(dir, "overlay.json")
		require.NoError(t, os.WriteFile(overlay, fmt.Appendf(nil, `{"Replace":{%q:%q}}`, src, file), 0o644))
		cmd := exec.Command(goCmd, "build", "-overlay", overlay, "-o", os.DevNull, filepath.Dir(src))
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	// The right keys compile: the program itself is sound.
	out, err := build(`
	svc.Reveal(ctx, m.SecretKey, "")
	svc.Check(ctx, m.SecretKey)
	svc.Receipt(ctx, m.MetadataKey)
	svc.Burn(ctx, m.MetadataKey)`)
	require.NoError(t, err, out)

	// Each wrong call fails to compile, and the compiler's message names
	// both key types; its wording is the compiler's own and not checked.
	for _, wrong := range []string{
		`svc.Reveal(ctx, m.MetadataKey, "")`,
		`svc.Check(ctx, m.MetadataKey)`,
		`svc.Receipt(ctx, m.SecretKey)`,
		`svc.Burn(ctx, m.SecretKey)`,
	} {
		out, err := build("\t" + wrong)
		require.Error(t, err, "a key of the wrong kind compiled: %s", wrong)
		assert.Contains(t, out, "onetime.MetadataKey", wrong)
		assert.Contains(t, out, "onetime.SecretKey", wrong)
	}
}
