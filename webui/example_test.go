package webui_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/webui"
)

// The pages mounted at the root of a mux; the v1 API (package httpapi)
// would sit beside them at /api/v1/.
func ExampleNew() {
	store := memory.New()
	defer store.Close()
	svc, err := onetime.New(store, []byte("an example server secret, 32 bytes or more"), nil)
	if err != nil {
		log.Fatal(err)
	}
	ui, err := webui.New(svc, &webui.Options{PublicURL: "https://secrets.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", ui)
	// mux.Handle("/api/v1/", api)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	m, err := svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("hello")})
	if err != nil {
		log.Fatal(err)
	}
	page := srv.URL + "/secret/" + string(m.SecretKey)

	// Opening the link shows a confirmation page and consumes nothing.
	res, err := http.Get(page)
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println("GET:", res.StatusCode, res.Header.Get("Cache-Control"))

	// The page's Reveal button posts the form; the secret is then gone.
	for range 2 {
		res, err = http.PostForm(page, url.Values{})
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Println("POST:", res.StatusCode)
	}
	// Output:
	// GET: 200 no-store
	// POST: 200
	// POST: 404
}
