package redis

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
)

// The writer of format 1 (legacy.go), as the Store wrote it before format
// 2: its encoders and its Create script, kept here to make the stores
// that the upgrade tests read. The Store itself writes no format 1.

func encodeLegacySecret(s *onetime.SealedSecret) ([]byte, error) {
	if len(s.Check) > maxCheckLen {
		return nil, fmt.Errorf("redis: passphrase check longer than %d bytes: %w", maxCheckLen, onetime.ErrInvalid)
	}
	if s.Attempts < 0 || s.MaxAttempts < 0 || s.Attempts > maxAttempts || s.MaxAttempts > maxAttempts {
		return nil, fmt.Errorf("redis: attempts outside 0..%d: %w", maxAttempts, onetime.ErrInvalid)
	}
	b := make([]byte, legacySecretHeader, legacySecretHeader+len(s.Check)+binary.MaxVarintLen64+len(s.ShareDomain)+len(s.Sealed))
	b[0] = formatLegacy
	if err := putTime(b[1:], s.ExpiresAt); err != nil {
		return nil, err
	}
	mid := rawRest(s.MetadataID)
	copy(b[8:24], mid[:])
	binary.BigEndian.PutUint16(b[24:], uint16(s.Attempts))
	binary.BigEndian.PutUint16(b[26:], uint16(s.MaxAttempts))
	b[28] = byte(len(s.Check))
	b = append(b, s.Check...)
	b = binary.AppendUvarint(b, uint64(len(s.ShareDomain)))
	b = append(b, s.ShareDomain...)
	return append(b, s.Sealed...), nil
}

func encodeLegacyReceipt(m *onetime.SealedMetadata) ([]byte, error) {
	n := legacyReceiptHeader + 3*binary.MaxVarintLen64 + len(m.Owner) + len(m.ShareDomain) + len(m.Sealed) + len(m.OwnerSealed)
	b := make([]byte, legacyReceiptHeader, n)
	b[0] = formatLegacy
	b[1] = byte(m.State)
	for i, t := range []time.Time{m.Created, m.Updated, m.Received, m.Burned, m.SecretExpiresAt, m.ExpiresAt} {
		if err := putTime(b[2+7*i:], t); err != nil {
			return nil, err
		}
	}
	sid := rawRest(m.SecretID)
	copy(b[44:60], sid[:])
	if m.PassphraseRequired {
		b[60] = 1
	}
	b = binary.AppendUvarint(b, uint64(len(m.Owner)))
	b = append(b, m.Owner...)
	b = binary.AppendUvarint(b, uint64(len(m.ShareDomain)))
	b = append(b, m.ShareDomain...)
	b = binary.AppendUvarint(b, uint64(len(m.Sealed)))
	b = append(b, m.Sealed...)
	return append(b, m.OwnerSealed...), nil
}

// legacyCreateScript is the Create script of format 1.
// KEYS: secret, receipt[, index]. ARGV: secret record, its PXAT, receipt
// record, its PXAT[, score, member tail, cap].
var legacyCreateScript = goredis.NewScript(luaIndex + `
if not redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2], 'NX') then
  if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[3] then return 1 end
  return 0
end
if not redis.call('SET', KEYS[2], ARGV[3], 'PXAT', ARGV[4], 'NX') then
  redis.call('DEL', KEYS[1])
  return 0
end
if KEYS[3] then index_add(KEYS[3], ARGV[5], ARGV[6], ARGV[4], tonumber(ARGV[7])) end
return 1
`)

// createLegacy stores the pair s, m in format 1 under st's prefix, as
// the Store's Create did before format 2: one script on one server; on a
// Cluster, the owner's index first.
func createLegacy(t *testing.T, c goredis.UniversalClient, st *Store, s *onetime.SealedSecret, m *onetime.SealedMetadata) {
	t.Helper()
	ctx := context.Background()
	srec, err := encodeLegacySecret(s)
	require.NoError(t, err)
	mrec, err := encodeLegacyReceipt(m)
	require.NoError(t, err)
	keys := []string{st.key(s.ID, kindSecret), st.key(m.ID, kindReceipt)}
	args := []any{srec, pxat(s.ExpiresAt), mrec, pxat(m.ExpiresAt)}
	if m.Owner != "" {
		idx := st.indexKey(m.Owner)
		score, tail := micros(m.Created), memberTail(m)
		if _, single := c.(*goredis.Client); single {
			keys = append(keys, idx)
			args = append(args, score, tail, st.cap)
		} else {
			require.NoError(t, indexAddScript.Run(ctx, c, []string{idx}, score, tail, pxat(m.ExpiresAt), st.cap).Err())
		}
	}
	n, err := legacyCreateScript.Run(ctx, c, keys, args...).Int64()
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "the pair of format 1 exists")
}
