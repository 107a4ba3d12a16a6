package onetime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

// exampleSecret stands for the server secret: in production, 32 random
// bytes kept outside the store.
var exampleSecret = bytes.Repeat([]byte{0x42}, 32)

func Example() {
	ctx := context.Background()
	svc, err := onetime.New(memory.New(), exampleSecret, nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()

	m, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("the launch codes")})
	if err != nil {
		panic(err)
	}
	// m.SecretKey goes to the reader (in a link); m.MetadataKey stays
	// with the creator.
	s, err := svc.Reveal(ctx, m.SecretKey, "")
	fmt.Printf("%s %v\n", s.Value, err)

	_, err = svc.Reveal(ctx, m.SecretKey, "")
	fmt.Println(errors.Is(err, onetime.ErrNotFound))
	// Output:
	// the launch codes <nil>
	// true
}

func ExampleService_Reveal_passphrase() {
	ctx := context.Background()
	svc, _ := onetime.New(memory.New(), exampleSecret, nil)
	defer svc.Close()

	m, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("hunter2"), Passphrase: "open sesame"})
	need, _ := svc.Check(ctx, m.SecretKey) // consumes nothing
	fmt.Println("passphrase required:", need)

	_, err := svc.Reveal(ctx, m.SecretKey, "guess")
	fmt.Println(errors.Is(err, onetime.ErrWrongPassphrase)) // the secret survives

	s, err := svc.Reveal(ctx, m.SecretKey, "open sesame")
	fmt.Printf("%s %v\n", s.Value, err)
	// Output:
	// passphrase required: true
	// true
	// hunter2 <nil>
}

// The receipt tells the creator what became of the secret. Its first read
// answers new (and the secret is then viewed), later reads viewed, and
// after the reveal, received.
func ExampleService_Receipt() {
	ctx := context.Background()
	svc, _ := onetime.New(memory.New(), exampleSecret, nil)
	defer svc.Close()

	m, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("v")})
	for range 2 {
		r, _ := svc.Receipt(ctx, m.MetadataKey)
		fmt.Println(r.State)
	}
	svc.Reveal(ctx, m.SecretKey, "")
	r, _ := svc.Receipt(ctx, m.MetadataKey)
	fmt.Println(r.State, r.SecretKey == "", r.ShortKey == m.ShortKey)
	// Output:
	// new
	// viewed
	// received true true
}

func ExampleService_Burn() {
	ctx := context.Background()
	svc, _ := onetime.New(memory.New(), exampleSecret, nil)
	defer svc.Close()

	m, _ := svc.Share(ctx, onetime.ShareRequest{Value: []byte("sent by mistake")})
	burned, _ := svc.Burn(ctx, m.MetadataKey)
	fmt.Println(burned.State)

	_, err := svc.Reveal(ctx, m.SecretKey, "")
	fmt.Println(errors.Is(err, onetime.ErrNotFound))
	// Output:
	// burned
	// true
}

// Generate makes a password and stores it. The answer says new, as the
// reference service's does; its creator has seen the value, so the
// stored receipt is viewed from the start.
func ExampleService_Generate() {
	ctx := context.Background()
	svc, _ := onetime.New(memory.New(), exampleSecret, nil)
	defer svc.Close()

	m, _ := svc.Generate(ctx, onetime.GenerateRequest{
		ShareRequest: onetime.ShareRequest{TTL: time.Hour},
		Length:       20,
	})
	fmt.Println(len(m.Value), m.State, m.TTL)

	r, _ := svc.Receipt(ctx, m.MetadataKey)
	fmt.Println(r.State)

	s, _ := svc.Reveal(ctx, m.SecretKey, "")
	fmt.Println(bytes.Equal(m.Value, s.Value))
	// Output:
	// 20 new 1h0m0s
	// viewed
	// true
}

// With Options.RestrictReceipts, a customer's receipt is served only to
// that customer, named by the Caller that the request's context carries.
func ExampleWithCaller() {
	ctx := context.Background()
	svc, _ := onetime.New(memory.New(), exampleSecret, &onetime.Options{RestrictReceipts: true})
	defer svc.Close()

	m, _ := svc.Share(ctx, onetime.ShareRequest{Owner: "alice", Value: []byte("v")})

	bob := onetime.WithCaller(ctx, onetime.Caller{Customer: "bob", Address: "192.0.2.7"})
	_, err := svc.Receipt(bob, m.MetadataKey)
	fmt.Println(errors.Is(err, onetime.ErrNotFound))

	alice := onetime.WithCaller(ctx, onetime.Caller{Customer: "alice", Address: "192.0.2.1"})
	r, err := svc.Receipt(alice, m.MetadataKey)
	fmt.Println(r.State, err)
	// Output:
	// true
	// new <nil>
}
