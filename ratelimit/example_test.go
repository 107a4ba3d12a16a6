package ratelimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/onetimego/onetime/ratelimit"
)

// A client may make Burst requests at once, then PerSecond a second.
func Example() {
	l := ratelimit.New(ratelimit.Options{PerSecond: 1, Burst: 3})
	ctx := context.Background()
	for i := range 4 {
		ok, _ := l.Allow(ctx, "192.0.2.1")
		fmt.Println("request", i+1, "allowed:", ok)
	}
	ok, _ := l.Allow(ctx, "192.0.2.2")
	fmt.Println("another client allowed:", ok)
	// Output:
	// request 1 allowed: true
	// request 2 allowed: true
	// request 3 allowed: true
	// request 4 allowed: false
	// another client allowed: true
}

// With a small bound on the clients remembered, the least recently seen
// one is pushed out and starts over with a full bucket.
func ExampleLimiter_Len() {
	l := ratelimit.New(ratelimit.Options{PerSecond: 0.01, Burst: 1, MaxClients: 2}) // one request per 100 s
	ctx := context.Background()
	for _, client := range []string{"a", "b", "c"} {
		l.Allow(ctx, client)
	}
	fmt.Println("clients remembered:", l.Len())
	ok, _ := l.Allow(ctx, "a")
	fmt.Println("a allowed again:", ok)
	// Output:
	// clients remembered: 2
	// a allowed again: true
}

// A client may fail Burst times at once; then it must wait for its budget
// to refill, one failure per 1/PerSecond. Looking costs nothing: a client
// that never fails is never held back, however many requests it makes.
func ExampleGuessLimiter() {
	l := ratelimit.NewGuessLimiter(&ratelimit.GuessOptions{Burst: 3, PerSecond: 0.1})
	ctx := context.Background()
	for range 3 {
		l.Failed(ctx, "192.0.2.1") // e.g. a reveal answered "Unknown secret"
	}
	wait, _ := l.RetryAfter(ctx, "192.0.2.1")
	fmt.Println("the guesser waits:", wait.Round(time.Second))
	wait, _ = l.RetryAfter(ctx, "192.0.2.2")
	fmt.Println("another client waits:", wait)
	// Output:
	// the guesser waits: 10s
	// another client waits: 0s
}
