package ratelimit_test

import (
	"context"
	"fmt"

	"github.com/onetimego/onetime/ratelimit"
)

// A client may make burst requests at once, then perSecond a second.
func Example() {
	l := ratelimit.New(1, 3, 0) // 1 request a second, bursts of 3
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
	l := ratelimit.New(0.01, 1, 2) // one request per 100 s, at most 2 clients
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
