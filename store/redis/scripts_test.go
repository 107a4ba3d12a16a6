package redis

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/redistest"
)

// TestLuaB64: the scripts' b64 names keys exactly as Go's base64url does
// (keyOf), for every length and for the bytes at the edges of each
// 6-bit group: a key the two spelled differently would never be found.
func TestLuaB64(t *testing.T) {
	ctx := context.Background()
	c := redistest.Shared(t).Client(t)
	sc := goredis.NewScript(luaB64 + `return b64(ARGV[1])`)
	inputs := [][]byte{{}, {0}, {0xff}, {0, 0}, {0xff, 0xff}, {0, 0, 0}, {0xff, 0xff, 0xff}, {0xfc, 0x0f, 0xc0}, {0x03, 0xf0, 0x3f}}
	for n := 1; n <= 18; n++ {
		b := make([]byte, n)
		rand.Read(b)
		inputs = append(inputs, b)
	}
	for range 20 {
		b := make([]byte, restLen)
		rand.Read(b)
		inputs = append(inputs, b)
	}
	for _, in := range inputs {
		got, err := sc.Run(ctx, c, nil, in).Text()
		require.NoError(t, err)
		assert.Equal(t, base64.RawURLEncoding.EncodeToString(in), got, "b64(%x)", in)
	}
}
