package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/store/memory"
)

// Mount the API in an application's own mux, next to its other routes,
// and share and reveal a secret through it.
func Example() {
	serverSecret := bytes.Repeat([]byte{7}, onetime.MinServerSecretLen) // use 32 random bytes, kept safe
	svc, err := onetime.New(memory.New(), serverSecret, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	api, err := httpapi.New(svc, &httpapi.Options{
		Auth:   httpapi.NewBasicAuth(map[string]string{"alice": "alice-api-token"}),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", api)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "the application") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post := func(path string, form url.Values) map[string]any {
		res, err := http.PostForm(srv.URL+path, form)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		m["http_status"] = res.StatusCode
		return m
	}

	receipt := post("/api/v1/share", url.Values{"secret": {"the launch code"}, "ttl": {"3600"}})
	fmt.Println("shared:", receipt["state"], receipt["ttl"], receipt["custid"])

	key := receipt["secret_key"].(string)
	fmt.Println("revealed:", post("/api/v1/secret/"+key, nil)["value"])
	again := post("/api/v1/secret/"+key, nil)
	fmt.Println("again:", again["http_status"], again["message"])

	res, _ := http.Get(srv.URL + "/")
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Print("elsewhere: ", strings.ToUpper(string(b)))
	// Output:
	// shared: new 3600 anon
	// revealed: the launch code
	// again: 404 Unknown secret
	// elsewhere: THE APPLICATION
}
