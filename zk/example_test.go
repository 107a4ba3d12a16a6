package zk_test

import (
	"fmt"

	"github.com/onetimego/onetime/zk"
)

// A sender seals a value under a fresh key and registers the verifier;
// the reader, given the key in the link's fragment, derives the proof to
// present and opens the value the server returns.
func Example() {
	// The sender.
	key, err := zk.NewKey()
	if err != nil {
		panic(err)
	}
	sender, err := zk.Derive(key, "")
	if err != nil {
		panic(err)
	}
	sealed, err := sender.Seal([]byte("the launch code"))
	if err != nil {
		panic(err)
	}
	verifier := sender.Verifier() // sent with sealed as the share's verifier
	link := "https://example.com/secret/SECRETKEY#" + key.Fragment()

	// The reader, holding the link.
	fragment := link[len(link)-43:]
	k, err := zk.ParseKey(fragment)
	if err != nil {
		panic(err)
	}
	reader, err := zk.Derive(k, "")
	if err != nil {
		panic(err)
	}
	proof := reader.Proof() // presented at reveal; the server checks it against verifier
	value, err := reader.Open(sealed)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(value))
	fmt.Println(proof.Verifier().Valid(), string(proof.Verifier().Key) == string(verifier.Key))
	// Output:
	// the launch code
	// true true
}
