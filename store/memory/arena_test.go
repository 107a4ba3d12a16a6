package memory

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecordsHoldNoPointers: the types the store keeps one of per record
// hold no pointer, so that the collector skips the maps and slices that
// hold them however many there are. A field added with a pointer (a
// string, a slice, a time.Time with its location) fails this test.
func TestRecordsHoldNoPointers(t *testing.T) {
	var hasPointers func(reflect.Type) bool
	hasPointers = func(ty reflect.Type) bool {
		switch ty.Kind() {
		case reflect.Array:
			return hasPointers(ty.Elem())
		case reflect.Struct:
			for i := range ty.NumField() {
				if hasPointers(ty.Field(i).Type) {
					return true
				}
			}
			return false
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Chan,
			reflect.Func, reflect.Interface, reflect.UnsafePointer:
			return true
		}
		return false
	}
	for _, v := range []any{key{}, secretRec{}, metaRec{}, expiryEntry{}, ownedEntry{}} {
		assert.Falsef(t, hasPointers(reflect.TypeOf(v)), "%T holds a pointer", v)
	}
	assert.True(t, hasPointers(reflect.TypeOf(struct{ s string }{})), "the check itself")
}

// TestSizeClass: every size up to maxSmall gets a block at least as large,
// wasting at most an eighth of it (or 15 bytes below 128), and the classes
// are numbered in order of size without gaps.
func TestSizeClass(t *testing.T) {
	prevClass, prevSize := -1, 0
	for n := 1; n <= maxSmall; n++ {
		c, size := sizeClass(n)
		require.GreaterOrEqual(t, size, n, "size of %d", n)
		require.LessOrEqual(t, size-n, max(15, size/8), "waste of %d", n)
		require.Less(t, c, classCount, "class of %d", n)
		if size != prevSize {
			require.Equal(t, prevClass+1, c, "class of %d after size %d", n, prevSize)
		} else {
			require.Equal(t, prevClass, c, "class of %d", n)
		}
		prevClass, prevSize = c, size
	}
	assert.Equal(t, classCount-1, prevClass, "classCount")
}

// TestArena: blocks of every size keep their bytes while others are
// released and allocated around them, released blocks are used again, and
// large strings get slices of their own.
func TestArena(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var a arena
	type block struct {
		addr uint32
		data []byte
	}
	put := func(n int) block {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		addr := a.alloc(n)
		copy(a.bytes(addr, n), data)
		return block{addr, data}
	}
	var live []block
	for range 20000 {
		if len(live) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(live))
			a.release(live[i].addr, len(live[i].data))
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
			continue
		}
		n := rng.IntN(600)
		if rng.IntN(100) == 0 {
			n = maxSmall - 50 + rng.IntN(100) // either side of maxSmall
		}
		live = append(live, put(n))
	}
	for _, b := range live {
		require.True(t, bytes.Equal(b.data, a.bytes(b.addr, len(b.data))), "block of %d bytes changed", len(b.data))
	}
	// About half of 20000 blocks of 300 bytes on average are in use: the
	// chunks hold them and the free lists, not every block ever made.
	assert.LessOrEqual(t, len(a.chunks)*chunkSize, 3*(a.live+a.idle), "chunks of %d bytes for %d in use and %d free", len(a.chunks)*chunkSize, a.live, a.idle)
	chunks := len(a.chunks)
	for range 1000 { // the same sizes again: the free lists serve them
		b := put(rng.IntN(600))
		a.release(b.addr, len(b.data))
	}
	assert.Equal(t, chunks, len(a.chunks), "chunks after allocating and releasing blocks of sizes freed before")
}

// TestExpiryHeap: entries come out of the heap in order of expiry, with
// pushes and pops interleaved, and popExpired stops at now and at its
// limit.
func TestExpiryHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var h expiryHeap
	var want []int64
	for i := range 5000 {
		at := rng.Int64N(1000)
		h.push(expiryEntry{at: at, id: key{byte(i)}})
		want = append(want, at)
		if i%3 == 0 {
			slices.Sort(want)
			require.Equal(t, want[0], h.pop().at, "pop after %d pushes", i+1)
			want = want[1:]
		}
	}
	slices.Sort(want)
	var into [7]expiryEntry
	n := h.popExpired(want[3], into[:])
	require.GreaterOrEqual(t, n, 4)
	for i := range n {
		require.Equal(t, want[i], into[i].at)
		require.LessOrEqual(t, into[i].at, want[3])
	}
	want = want[n:]
	for len(h) > 0 {
		require.Equal(t, want[0], h.pop().at)
		want = want[1:]
	}
	assert.Empty(t, want)
}

// TestArenaFull: once a shard's chunks address all they can (2 GiB), small
// strings get slices of their own instead of failing (this was a panic),
// and they read back, free and survive compaction like any other.
func TestArenaFull(t *testing.T) {
	var a arena
	// Every chunk address in use; the chunks themselves need not exist
	// for alloc to decide.
	a.chunks = make([][]byte, largeFlag>>chunkShift)
	a.next = uint32(len(a.chunks)-1)<<chunkShift | (chunkSize - 16)

	want := []byte("a small sealed record that no longer fits a chunk")
	addr := a.alloc(len(want))
	require.NotZero(t, addr&largeFlag, "a small string past the last chunk goes to a slice of its own")
	copy(a.bytes(addr, len(want)), want)
	assert.Equal(t, want, a.bytes(addr, len(want)))

	a.release(addr, len(want))
	assert.Equal(t, 0, a.live, "a slice of its own is not counted as chunk space")
	again := a.alloc(len(want))
	assert.Equal(t, addr, again, "the freed slot is reused")
}
