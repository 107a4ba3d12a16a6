package onetime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

func Example() {
	ctx := context.Background()
	secret := bytes.Repeat([]byte{0x42}, 32) // in production: 32 random bytes kept outside the store
	svc, err := onetime.New(memory.New(), secret, nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()

	r, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("the launch codes")})
	if err != nil {
		panic(err)
	}
	v, err := svc.Reveal(ctx, r.SecretKey, "")
	fmt.Printf("%s %v\n", v.Value, err)

	_, err = svc.Reveal(ctx, r.SecretKey, "")
	fmt.Println(errors.Is(err, onetime.ErrNotFound))

	receipt, _ := svc.Receipt(ctx, "", r.MetadataKey)
	fmt.Println(receipt.State)
	// Output:
	// the launch codes <nil>
	// true
	// received
}

func ExampleService_Reveal_passphrase() {
	ctx := context.Background()
	svc, _ := onetime.New(memory.New(), bytes.Repeat([]byte{0x42}, 32), nil)
	defer svc.Close()

	r, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("hunter2"), Passphrase: "open sesame"})
	_, err := svc.Reveal(ctx, r.SecretKey, "guess")
	fmt.Println(errors.Is(err, onetime.ErrWrongPassphrase)) // the secret survives

	v, err := svc.Reveal(ctx, r.SecretKey, "open sesame")
	fmt.Printf("%s %v\n", v.Value, err)
	// Output:
	// true
	// hunter2 <nil>
}

func ExampleService_Burn() {
	ctx := context.Background()
	svc, _ := onetime.New(memory.New(), bytes.Repeat([]byte{0x42}, 32), nil)
	defer svc.Close()

	r, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("sent by mistake")})
	burned, _ := svc.Burn(ctx, "", r.MetadataKey)
	fmt.Println(burned.State)

	_, err := svc.Reveal(ctx, r.SecretKey, "")
	fmt.Println(errors.Is(err, onetime.ErrNotFound))
	// Output:
	// burned
	// true
}

func ExampleService_Generate() {
	ctx := context.Background()
	svc, _ := onetime.New(memory.New(), bytes.Repeat([]byte{0x42}, 32), nil)
	defer svc.Close()

	r, _ := svc.Generate(ctx, onetime.GenerateRequest{Length: 20})
	v, _ := svc.Reveal(ctx, r.SecretKey, "")
	fmt.Println(len(r.Value), bytes.Equal(r.Value, v.Value))
	// Output:
	// 20 true
}
