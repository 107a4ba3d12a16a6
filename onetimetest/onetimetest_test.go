package onetimetest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/onetimetest"
)

// exampleT stands in for the *testing.T that an Example does not get: it
// runs cleanups when told, and panics where a test would fail.
type exampleT struct {
	testing.TB // nil: only the methods below are called
	cleanups   []func()
	failed     bool
}

func newExampleT() *exampleT { return &exampleT{} }

func (t *exampleT) Helper()          {}
func (t *exampleT) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Errorf(format string, args ...any) {
	t.failed = true
	fmt.Printf(format+"\n", args...)
}
func (t *exampleT) Fatalf(format string, args ...any) {
	t.failed = true
	panic(fmt.Sprintf(format, args...))
}

func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
}

// sweepers counts the goroutines of package onetime's sweepers.
func sweepers() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "onetime.(*Service).sweepLoop(")
}

func TestClock(t *testing.T) {
	c := onetimetest.NewClock()
	assert.Equal(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), c.Now())
	assert.Equal(t, onetimetest.Start(), c.Now())
	assert.Equal(t, c.Now(), c.Now(), "the clock moved by itself")
	c.Advance(90 * time.Second)
	assert.Equal(t, onetimetest.Start().Add(90*time.Second), c.Now())
	c.Advance(-30 * time.Second)
	assert.Equal(t, onetimetest.Start().Add(time.Minute), c.Now())
	at := time.Date(2040, 6, 7, 8, 9, 10, 0, time.UTC)
	c.Set(at)
	assert.Equal(t, at, c.Now())
}

// TestClockConcurrent moves and reads one clock from many goroutines,
// under -race; every Advance counts.
func TestClockConcurrent(t *testing.T) {
	c := onetimetest.NewClock()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				assert.False(t, c.Now().Before(onetimetest.Start()))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, onetimetest.Start().Add(800*time.Second), c.Now())
}

func TestNewServiceExpiry(t *testing.T) {
	ctx := context.Background()
	svc, clock := onetimetest.NewService(t, nil)
	m, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v"), TTL: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, onetimetest.Start(), m.Created, "the service reads the Clock")

	clock.Advance(time.Minute - time.Microsecond)
	need, err := svc.Check(ctx, m.SecretKey)
	require.NoError(t, err, "expired before its time")
	assert.False(t, need)

	clock.Advance(time.Microsecond)
	_, err = svc.Reveal(ctx, m.SecretKey, "")
	require.ErrorIs(t, err, onetime.ErrNotFound)
	r, err := svc.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateExpired, r.State)

	clock.Set(onetimetest.Start().Add(2 * time.Minute)) // the receipt lives 2 x TTL
	_, err = svc.Receipt(ctx, m.MetadataKey)
	require.ErrorIs(t, err, onetime.ErrNotFound)
}

// TestNewServiceOptions: options are passed on, except Now, which is
// always the Clock.
func TestNewServiceOptions(t *testing.T) {
	ctx := context.Background()
	other := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := &onetime.Options{MaxSize: 4, Now: func() time.Time { return other }}
	svc, clock := onetimetest.NewService(t, opts)
	assert.Equal(t, 4, svc.Options().MaxSize)
	m, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("four")})
	require.NoError(t, err)
	assert.Equal(t, clock.Now(), m.Created, "Options.Now was not overridden")
	_, err = svc.Share(ctx, onetime.ShareRequest{Value: []byte("fives")})
	assert.ErrorIs(t, err, onetime.ErrTooLarge)
	assert.NotNil(t, opts.Now, "the caller's Options were changed")
	assert.Equal(t, other, opts.Now())
}

// TestNewServiceCleanup: the service and its store are closed when the
// test ends, and options New refuses fail the test.
func TestNewServiceCleanup(t *testing.T) {
	ctx := context.Background()
	ft := newExampleT()
	svc, _ := onetimetest.NewService(ft, nil)
	m, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v")})
	require.NoError(t, err)
	ft.cleanup()
	assert.False(t, ft.failed)
	_, err = svc.Reveal(ctx, m.SecretKey, "")
	assert.ErrorIs(t, err, onetime.ErrClosed, "the store is open after the test")

	// A sweeper the options ask for is stopped too.
	synctest.Test(t, func(t *testing.T) {
		ft := newExampleT()
		onetimetest.NewService(ft, &onetime.Options{SweepInterval: time.Hour})
		synctest.Wait()
		assert.Equal(t, 1, sweepers(), "no sweeper started")
		ft.cleanup()
		synctest.Wait()
		assert.Zero(t, sweepers(), "the sweeper outlived the test")
	})

	ft = newExampleT()
	assert.Panics(t, func() { onetimetest.NewService(ft, &onetime.Options{MaxAttempts: -1}) })
	assert.True(t, ft.failed, "bad options did not fail the test")
	assert.Empty(t, ft.cleanups)
}

// TestNewServicesAreIndependent: each NewService has a store of its own.
func TestNewServicesAreIndependent(t *testing.T) {
	ctx := context.Background()
	a, _ := onetimetest.NewService(t, nil)
	b, _ := onetimetest.NewService(t, nil)
	m, err := a.Share(ctx, onetime.ShareRequest{Value: []byte("v")})
	require.NoError(t, err)
	_, err = b.Reveal(ctx, m.SecretKey, "")
	assert.ErrorIs(t, err, onetime.ErrNotFound, "two services share a store")
	got, err := a.Reveal(ctx, m.SecretKey, "")
	require.NoError(t, err)
	assert.Equal(t, "v", string(got.Value))
}
