package redislimit_test

import (
	"context"
	"fmt"
	"log"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime/ratelimit/redislimit"
)

// Every app server makes its own Limiter on the same Redis; together they
// allow each client 5 requests a second and bursts of 10.
func Example() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	l, err := redislimit.New(rdb, redislimit.Options{PerSecond: 5, Burst: 10})
	if err != nil {
		log.Fatal(err)
	}
	ok, err := l.Allow(context.Background(), "192.0.2.1")
	if err != nil {
		log.Print(err) // Redis is down: better let the request through
		ok = true
	}
	fmt.Println("allowed:", ok)
}
