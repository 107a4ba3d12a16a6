package access_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/ratelimit"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/webui"
)

// One authenticator and one rate limiter, made once and given to both the
// API and the pages: a client's requests to either count against one
// budget, and a customer is the same customer on both.
func Example() {
	store := memory.New()
	defer store.Close()
	svc, err := onetime.New(store, []byte("an example server secret, 32 bytes or more"), nil)
	if err != nil {
		log.Fatal(err)
	}
	auth := access.NewBasicAuth(map[string]string{"alice": "alice-api-token"})
	limiter := ratelimit.New(ratelimit.Options{PerSecond: 1, Burst: 3})

	api, err := httpapi.New(svc, &httpapi.Options{Auth: auth, RateLimiter: limiter})
	if err != nil {
		log.Fatal(err)
	}
	ui, err := webui.New(svc, &webui.Options{Auth: auth, RateLimiter: limiter, SignInRealm: "secrets"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", api)
	mux.Handle("/", ui)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Two requests to the API and one to the pages spend the burst of 3.
	for _, path := range []string{"/api/v1/authcheck", "/api/v1/authcheck", "/", "/"} {
		r, _ := http.NewRequest("GET", srv.URL+path, nil)
		r.SetBasicAuth("alice", "alice-api-token")
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Println(path, res.StatusCode)
	}
	// Output:
	// /api/v1/authcheck 200
	// /api/v1/authcheck 200
	// / 200
	// / 429
}
