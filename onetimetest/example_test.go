package onetimetest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/onetimetest"
)

// A test of expiry that does not sleep: the secret lives one minute, and
// the test moves the clock one minute on.
func Example() {
	t := newExampleT() // in a test, its *testing.T
	defer t.cleanup()
	ctx := context.Background()
	svc, clock := onetimetest.NewService(t, nil)

	m, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v"), TTL: time.Minute})
	fmt.Println(m.Created, m.SecretTTL)

	clock.Advance(time.Minute)
	_, err := svc.Reveal(ctx, m.SecretKey, "")
	fmt.Println(errors.Is(err, onetime.ErrNotFound))

	r, _ := svc.Receipt(ctx, m.MetadataKey)
	fmt.Println(r.State)
	// Output:
	// 2030-01-01 00:00:00 +0000 UTC 1m0s
	// true
	// expired
}
