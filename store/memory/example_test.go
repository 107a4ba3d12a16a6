package memory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

// The store behind a Service: a secret is revealed once, then gone.
func Example() {
	ctx := context.Background()
	store := memory.New()
	defer store.Close() // the Service does not close the store it was given
	svc, err := onetime.New(store, []byte("a server secret of 32 bytes or more"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer svc.Close()

	m, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("hunter2")})
	if err != nil {
		fmt.Println(err)
		return
	}
	secret, err := svc.Reveal(ctx, m.SecretKey, "")
	fmt.Println(string(secret.Value), err)
	_, err = svc.Reveal(ctx, m.SecretKey, "")
	fmt.Println(errors.Is(err, onetime.ErrNotFound))
	// Output:
	// hunter2 <nil>
	// true
}
