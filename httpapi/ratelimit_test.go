package httpapi

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestLocalLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLocalLimiter(1, 2, 3) // 1/s, bursts of 2: idle after 2s
	l.now = func() time.Time { return now }
	ctx := context.Background()
	allow := func(c string) bool {
		ok, err := l.Allow(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i, want := range []bool{true, true, false} {
		if allow("a") != want {
			t.Fatalf("request %d of a burst of 2", i)
		}
	}
	now = now.Add(time.Second)
	for i, want := range []bool{true, false} {
		if allow("a") != want {
			t.Fatalf("request %d after refill of 1/s", i)
		}
	}
	// The map is bounded: a fourth client pushes out the least recent.
	allow("b")
	allow("c")
	allow("d")
	if n := l.clientCount(); n != 3 {
		t.Fatalf("%d clients remembered, want 3", n)
	}
	if _, ok := l.clients["a"]; ok {
		t.Fatal("least recent client kept")
	}
	// Idle clients are forgotten.
	now = now.Add(3 * time.Second)
	allow("e")
	if n := l.clientCount(); n != 1 {
		t.Fatalf("%d clients remembered after idling, want 1", n)
	}
	for i := 0; i < 10000; i++ {
		allow(fmt.Sprint(i))
	}
	if n := l.clientCount(); n != 3 {
		t.Fatalf("%d clients remembered, want 3", n)
	}
	if NewLocalLimiter(1, 0, 0).max != DefaultMaxClients {
		t.Fatal("default max")
	}
}
