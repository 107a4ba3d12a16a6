package redislimit_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/ratelimit/redislimit"
	"github.com/onetimego/onetime/webui"
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

// Every app server makes its own GuessLimiter on the same Redis and gives
// it to both httpapi and webui: together they hold a guesser to the
// default budget (20 failures, then one a second).
func ExampleGuessLimiter() {
	var svc *onetime.Service // the program's Service
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	guess, err := redislimit.NewGuessLimiter(rdb, nil)
	if err != nil {
		log.Fatal(err)
	}
	api, err := httpapi.New(svc, &httpapi.Options{GuessLimiter: guess})
	if err != nil {
		log.Fatal(err)
	}
	ui, err := webui.New(svc, &webui.Options{GuessLimiter: guess})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", api)
	mux.Handle("/", ui)
}
