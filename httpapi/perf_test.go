package httpapi

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRequestID: request ids are RFC 9562 UUIDv7s of the current time,
// distinct, and increasing in the order they are made, also when made at
// once by many goroutines.
func TestRequestID(t *testing.T) {
	const goroutines, each = 4, 5000
	before := time.Now().UnixMilli()
	ids := make([][]string, goroutines)
	var wg sync.WaitGroup
	for g := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				ids[g] = append(ids[g], newRequestID())
			}
		}()
	}
	wg.Wait()
	after := time.Now().UnixMilli()

	seen := map[string]bool{}
	for _, list := range ids {
		assert.True(t, sort.StringsAreSorted(list), "ids of one goroutine in the order made")
		for i, id := range list {
			u, err := uuid.Parse(id)
			require.NoError(t, err)
			require.Equal(t, u.String(), id, "canonical form")
			require.Equal(t, uuid.Version(7), u.Version())
			require.Equal(t, uuid.RFC4122, u.Variant())
			ms := u.Time() // 100-ns units since 1582, from the 48-bit ms field
			sec, nsec := ms.UnixTime()
			at := sec*1000 + nsec/1e6
			require.GreaterOrEqual(t, at, before, "id %d", i)
			// Ids made faster than one per 1/4096 ms run ahead of the
			// clock, by that much an id at most.
			require.LessOrEqual(t, at, after+1+goroutines*each/4096, "id %d", i)
			require.False(t, seen[id], "id %s made twice", id)
			seen[id] = true
		}
	}
	// Made one after another, ids keep increasing even when the clock
	// does not move between them.
	prev := newRequestID()
	for range 10000 {
		next := newRequestID()
		require.Less(t, prev, next)
		prev = next
	}
}
