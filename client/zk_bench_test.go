package client_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/client"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/zk"
)

// The added cost of the zero-knowledge mode, in three parts:
//
//	go test -run '^$' -bench 'ZK' -benchtime 20x ./client/
//
// BenchmarkZKClient is what the client does that a v1 client does not
// (nothing is its baseline): at share, a key, a derivation, the seal; at
// reveal, a derivation and the opening. BenchmarkZKServer is the
// Service's side, Share and Reveal against Share with a verifier and
// RevealProof. BenchmarkZKRoundTrip is a share and its reveal through
// package client and httpapi, in each mode: what a user waits for.

var benchValue = bytes.Repeat([]byte("0123456789abcdef"), 8) // 128 bytes

func passCase(pass string) string {
	if pass == "" {
		return "no-passphrase"
	}
	return "passphrase"
}

func BenchmarkZKClient(b *testing.B) {
	for _, pass := range []string{"", "correct horse battery staple"} {
		b.Run("share/"+passCase(pass), func(b *testing.B) {
			for b.Loop() {
				k, err := zk.NewKey()
				if err != nil {
					b.Fatal(err)
				}
				d, err := zk.Derive(k, pass)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.Seal(benchValue); err != nil {
					b.Fatal(err)
				}
				v := d.Verifier()
				_ = zk.EncodeBytes(v.Key)
			}
		})
		k, _ := zk.NewKey()
		d, _ := zk.Derive(k, pass)
		sealed, _ := d.Seal(benchValue)
		b.Run("reveal/"+passCase(pass), func(b *testing.B) {
			for b.Loop() {
				d, err := zk.Derive(k, pass)
				if err != nil {
					b.Fatal(err)
				}
				_ = zk.EncodeBytes(d.Proof().Key)
				if _, err := d.Open(sealed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchService is a Service on the memory store, as a server would run
// it (default passphrase derivation parameters).
func benchService(b *testing.B) *onetime.Service {
	b.Helper()
	svc, err := onetime.New(memory.New(), bytes.Repeat([]byte("b"), onetime.MinServerSecretLen),
		&onetime.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	return svc
}

func BenchmarkZKServer(b *testing.B) {
	ctx := context.Background()
	for _, pass := range []string{"", "correct horse battery staple"} {
		var d *zk.Derived
		k, _ := zk.NewKey()
		d, _ = zk.Derive(k, pass)
		sealed, _ := d.Seal(benchValue)
		verifier := d.Verifier()
		plain := onetime.ShareRequest{Value: benchValue, Passphrase: pass}
		zkReq := onetime.ShareRequest{Value: []byte(sealed), Verifier: &verifier}

		for _, mode := range []string{"plain", "zk"} {
			req := plain
			if mode == "zk" {
				req = zkReq
			}
			b.Run(fmt.Sprintf("share/%s/%s", mode, passCase(pass)), func(b *testing.B) {
				svc := benchService(b)
				for b.Loop() {
					if _, err := svc.Share(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("reveal/%s/%s", mode, passCase(pass)), func(b *testing.B) {
				svc := benchService(b)
				// The secrets are shared in batches, off the clock.
				keys := make([]onetime.SecretKey, 0, 256)
				for i := 0; i < b.N; i++ {
					if len(keys) == 0 {
						b.StopTimer()
						for range min(cap(keys), b.N-i) {
							m, err := svc.Share(ctx, req)
							if err != nil {
								b.Fatal(err)
							}
							keys = append(keys, m.SecretKey)
						}
						b.StartTimer()
					}
					key := keys[len(keys)-1]
					keys = keys[:len(keys)-1]
					var err error
					if mode == "zk" {
						_, err = svc.RevealProof(ctx, key, d.Proof())
					} else {
						_, err = svc.Reveal(ctx, key, pass)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkZKRoundTrip(b *testing.B) {
	ctx := context.Background()
	value := string(benchValue)
	for _, mode := range []string{"plain", "zk"} {
		for _, pass := range []string{"", "correct horse battery staple"} {
			b.Run(mode+"/"+passCase(pass), func(b *testing.B) {
				// A server of its own, so that no case runs on a store
				// that the cases before it filled with receipts.
				api, err := httpapi.New(benchService(b), &httpapi.Options{Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					b.Fatal(err)
				}
				srv := httptest.NewServer(api)
				defer srv.Close()
				c, err := client.New(srv.URL, &client.Options{Plain: mode == "plain"})
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					m, err := c.Share(ctx, value, &client.ShareOptions{Passphrase: pass})
					if err != nil {
						b.Fatal(err)
					}
					s, err := c.Reveal(ctx, m.Link, pass)
					if err != nil {
						b.Fatal(err)
					}
					if s.Value != value {
						b.Fatal("another value")
					}
				}
			})
		}
	}
}
