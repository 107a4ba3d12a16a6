package memory

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
)

// pointers returns how many pointers the collector finds in a value of
// type t, not counting what they point to.
func pointers(t reflect.Type) int {
	switch t.Kind() {
	case reflect.Array:
		return t.Len() * pointers(t.Elem())
	case reflect.Struct:
		n := 0
		for i := range t.NumField() {
			n += pointers(t.Field(i).Type)
		}
		return n
	case reflect.Pointer, reflect.Slice, reflect.String, reflect.Map, reflect.Chan,
		reflect.Func, reflect.Interface, reflect.UnsafePointer:
		return 1 // an interface has two words, but one the collector follows
	}
	return 0
}

// TestRecordsWithoutPointers: the records the store keeps by the hundred
// thousand hold one pointer each, to a slice of bytes, and the map keys
// and the expiry heap none (see the package doc); a map stores values of
// up to 128 bytes in place, without a pointer of its own to each.
func TestRecordsWithoutPointers(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int
	}{{key{}, 0}, {expiry{}, 0}, {secret{}, 1}, {receipt{}, 1}, {replay{}, 2}} {
		typ := reflect.TypeOf(c.v)
		assert.Equal(t, c.want, pointers(typ), "pointers in a %s", typ)
	}
	for _, v := range []any{key{}, secret{}, receipt{}} {
		assert.LessOrEqual(t, reflect.TypeOf(v).Size(), uintptr(128), "size of a %T", v)
	}
}

// TestKeyOf: an id has a key exactly when it is Valid, which ids of every
// byte at every position show, and the key gives the id back.
func TestKeyOf(t *testing.T) {
	const valid = "0123456789abcdef0123456789abcdef01234567"
	k, ok := keyOf(valid)
	require.True(t, ok)
	assert.Equal(t, onetime.ID(valid), k.id())
	for _, id := range []onetime.ID{"", onetime.ID(valid[:39]), valid + "0", onetime.ID(strings.ToUpper(valid))} {
		k, ok := keyOf(id)
		assert.False(t, ok, "key of %q", id)
		assert.Zero(t, k, "key of %q", id)
	}
	for pos := range len(valid) {
		for c := range 256 {
			id := onetime.ID(valid[:pos] + string([]byte{byte(c)}) + valid[pos+1:])
			k, ok := keyOf(id)
			require.Equal(t, id.Valid(), ok, "key of %q", id)
			if ok {
				require.Equal(t, id, k.id())
			}
		}
	}
}
