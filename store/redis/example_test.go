package redis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/redis"
)

// redisAddr starts a private redis-server for the example, as
// "localhost:6379" would be in a program.
func redisAddr() (addr string, stop func()) {
	if a := os.Getenv(redistest.EnvAddr); a != "" {
		return a, func() {}
	}
	dir, err := os.MkdirTemp("", "example-")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := redistest.StartServer(dir)
	if err != nil {
		log.Fatal(err)
	}
	return srv.Addr, func() { srv.Stop(); os.RemoveAll(dir) }
}

// A secret shared through a Service backed by Redis is revealed once.
func Example() {
	addr, stop := redisAddr()
	defer stop()

	// ContextTimeoutEnabled: a call returns at its context's deadline
	// rather than at the client's ReadTimeout.
	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := redis.New(client, &redis.Options{Prefix: "example:"})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	serverSecret := bytes.Repeat([]byte{42}, 32) // in a program: 32 random bytes kept outside Redis
	svc, err := onetime.New(store, serverSecret, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	ctx := context.Background()
	r, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("the launch code")})
	if err != nil {
		log.Fatal(err)
	}
	got, err := svc.Reveal(ctx, r.SecretKey, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", got.Value)
	_, err = svc.Reveal(ctx, r.SecretKey, "")
	fmt.Println(errors.Is(err, onetime.ErrNotFound))
	// Output:
	// the launch code
	// true
}

// On a Redis Cluster the same store works unchanged: a secret and its
// receipt share a hash slot.
func ExampleNew_cluster() {
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:                 []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"},
		ContextTimeoutEnabled: true,
	})
	store, err := redis.New(client, nil)
	if err != nil {
		log.Fatal(err)
	}
	_ = store // onetime.New(store, serverSecret, nil)
}

// Behind Sentinel, the failover client follows the primary.
func ExampleNew_sentinel() {
	client := goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName:            "onetime",
		SentinelAddrs:         []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
		ContextTimeoutEnabled: true,
	})
	store, err := redis.New(client, &redis.Options{Prefix: "secrets:"})
	if err != nil {
		log.Fatal(err)
	}
	_ = store
}
