package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/client"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/store/memory"
)

// startServer starts a v1 server in process, for the examples: the
// httpapi handler over a Service on the memory store. A real program
// talks to a server that runs elsewhere, e.g. https://onetimesecret.com.
func startServer() (baseURL string, stop func()) {
	serverSecret := bytes.Repeat([]byte{7}, onetime.MinServerSecretLen) // use 32 random bytes, kept safe
	svc, err := onetime.New(memory.New(), serverSecret, nil)
	if err != nil {
		log.Fatal(err)
	}
	api, err := httpapi.New(svc, &httpapi.Options{Auth: access.NewBasicAuth(map[string]string{"alice": "alicetoken"})})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(api)
	return srv.URL, func() { srv.Close(); svc.Close() }
}

// Share a secret, give its link to the reader, who reveals it once. This
// server takes zero-knowledge shares: the value is sealed here, and the
// key that opens it travels in the link's fragment, which the server
// never sees.
func Example() {
	base, stop := startServer()
	defer stop()
	ctx := context.Background()

	c, err := client.New(base, nil)
	if err != nil {
		log.Fatal(err)
	}
	m, err := c.Share(ctx, "hunter2", &client.ShareOptions{TTL: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	link := string(m.Link) // BASE/secret/KEY#FRAGMENT: send it to the reader
	fmt.Println("shared for", m.TTL, "link under the base URL:", strings.HasPrefix(link, base+"/secret/"))
	fmt.Println("zero-knowledge:", m.ZeroKnowledge, strings.Contains(link, "#"))

	// The reader's side: a link, as pasted, works where a key does.
	s, err := c.Reveal(ctx, client.SecretKey(link), "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revealed:", s.Value)

	_, err = c.Reveal(ctx, client.SecretKey(link), "")
	fmt.Println("second reveal is not found:", errors.Is(err, client.ErrNotFound))
	// Output:
	// shared for 1h0m0s link under the base URL: true
	// zero-knowledge: true true
	// revealed: hunter2
	// second reveal is not found: true
}

// A passphrase protects a secret; a wrong one answers like an unknown key
// (and counts as an attempt). In the zero-knowledge mode the passphrase
// is derived into the link's keys here, on both sides, and never sent.
func ExampleClient_Reveal() {
	base, stop := startServer()
	defer stop()
	ctx := context.Background()
	c, err := client.New(base, nil)
	if err != nil {
		log.Fatal(err)
	}
	m, err := c.Share(ctx, "the vault code is 0451", &client.ShareOptions{Passphrase: "correct horse"})
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.Reveal(ctx, m.Link, "wrong horse")
	fmt.Println(err)
	fmt.Println("not found:", errors.Is(err, client.ErrNotFound))

	s, err := c.Reveal(ctx, m.Link, "correct horse")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Value)
	// Output:
	// client: server answered "Unknown secret" (status 404)
	// not found: true
	// the vault code is 0451
}

// The creator follows a secret on its receipt, and burns it while unread.
func ExampleClient_Burn() {
	base, stop := startServer()
	defer stop()
	ctx := context.Background()
	c, err := client.New(base, nil)
	if err != nil {
		log.Fatal(err)
	}
	m, err := c.Share(ctx, "sent to the wrong person", nil)
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.Receipt(ctx, m.MetadataKey)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("receipt:", r.State) // the state before this first read

	b, err := c.Burn(ctx, client.MetadataKey(c.ReceiptLink(m.MetadataKey)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("burn:", b.State, b.ShortKey == string(m.SecretKey[:6]))

	_, err = c.Reveal(ctx, m.Link, "")
	fmt.Println("reveal after burn is not found:", errors.Is(err, client.ErrNotFound))
	// Output:
	// receipt: new
	// burn: burned true
	// reveal after burn is not found: true
}

// Customers authenticate with their id and API token; Recent lists their
// receipts.
func ExampleClient_Recent() {
	base, stop := startServer()
	defer stop()
	ctx := context.Background()

	anon, err := client.New(base, nil)
	if err != nil {
		log.Fatal(err)
	}
	_, err = anon.Recent(ctx)
	fmt.Println("anonymous:", errors.Is(err, client.ErrUnauthorized))

	alice, err := client.New(base, &client.Options{CustomerID: "alice", APIToken: "alicetoken"})
	if err != nil {
		log.Fatal(err)
	}
	g, err := alice.Generate(ctx, &client.GenerateOptions{Length: 16})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("generated a password of", len(g.Value), "characters")
	rs, err := alice.Recent(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// The password was made here and shared sealed: to the server it is
	// a share like any other, whose receipt nobody has read yet.
	fmt.Println(len(rs), rs[0].CustomerID, rs[0].State)
	// Output:
	// anonymous: true
	// generated a password of 16 characters
	// 1 alice new
}
