package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/onetimego/onetime/store/memory"
)

// BenchmarkCreateBusyOwner measures Create for a customer who already has
// many live receipts, while that customer's short-lived ones expire and
// are reclaimed by the Creates: the cost per Create should not grow with
// the size of the customer's list.
func BenchmarkCreateBusyOwner(b *testing.B) {
	ctx := context.Background()
	for _, live := range []int{1_000, 30_000} {
		b.Run(fmt.Sprintf("live=%d", live), func(b *testing.B) {
			st := memory.New()
			defer st.Close()
			for range live {
				s, m := pair("busy", t0, 365*24*time.Hour)
				if err := st.Create(ctx, s, m); err != nil {
					b.Fatal(err)
				}
			}
			now := t0
			for b.Loop() {
				now = now.Add(time.Second)
				s, m := pair("busy", now, time.Minute)
				if err := st.Create(ctx, s, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
