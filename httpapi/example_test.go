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
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/store/memory"
)

// postForm posts form to url and returns the JSON object answered, with
// the HTTP status under "http_status".
func postForm(url string, form url.Values) map[string]any {
	res, err := http.PostForm(url, form)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		log.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		log.Fatal(err)
	}
	m["http_status"] = res.StatusCode
	return m
}

func get(url string) (int, string) {
	res, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		log.Fatal(err)
	}
	return res.StatusCode, strings.TrimSpace(string(b))
}

// Mount the API in an application's own mux, next to its other routes,
// and share, track and reveal a secret through it.
func Example() {
	serverSecret := bytes.Repeat([]byte{7}, onetime.MinServerSecretLen) // use 32 random bytes, kept safe
	svc, err := onetime.New(memory.New(), serverSecret, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	api, err := httpapi.New(svc, &httpapi.Options{
		Auth:   access.NewBasicAuth(map[string]string{"alice": "alice-api-token"}),
		Logger: slog.New(slog.DiscardHandler), // errors only; request lines need AccessLog
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", api)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "the application") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	receipt := postForm(srv.URL+"/api/v1/share", url.Values{"secret": {"the launch code"}, "ttl": {"3600"}})
	fmt.Println("shared:", receipt["state"], receipt["ttl"], receipt["custid"])

	receiptURL := srv.URL + "/api/v1/private/" + receipt["metadata_key"].(string)
	fmt.Println("first read of the receipt:", postForm(receiptURL, nil)["state"])
	fmt.Println("later reads:", postForm(receiptURL, nil)["state"])

	key := receipt["secret_key"].(string)
	fmt.Println("revealed:", postForm(srv.URL+"/api/v1/secret/"+key, nil)["value"])
	again := postForm(srv.URL+"/api/v1/secret/"+key, nil)
	fmt.Println("again:", again["http_status"], again["message"], again["secret_key"] == key)
	fmt.Println("receipt now:", postForm(receiptURL, nil)["state"])

	_, body := get(srv.URL + "/")
	fmt.Println("elsewhere:", body)
	// Output:
	// shared: new 3600 anon
	// first read of the receipt: new
	// later reads: viewed
	// revealed: the launch code
	// again: 404 Unknown secret true
	// receipt now: received
	// elsewhere: the application
}

// Mount the API under a prefix of the application's own by setting
// BasePath, without http.StripPrefix, with a readiness check for an
// orchestrator beside it.
func ExampleOptions_basePath() {
	st := memory.New()
	svc, err := onetime.New(st, bytes.Repeat([]byte{7}, onetime.MinServerSecretLen), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	api, err := httpapi.New(svc, &httpapi.Options{BasePath: "/ots/api/v1/"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ots/api/v1/", api)
	mux.Handle("GET /readyz", httpapi.ReadyHandler(svc))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	fmt.Println(get(srv.URL + "/ots/api/v1/status"))
	fmt.Println(get(srv.URL + "/readyz"))
	st.Close() // the store goes away
	fmt.Println(get(srv.URL + "/readyz"))
	// Output:
	// 200 {"status":"nominal","locale":"en","idempotency":true,"zero_knowledge":["zk1"]}
	// 200 {"status":"ready"}
	// 503 {"status":"unavailable"}
}

// Put the handler in front of the application's mux with Wrap, so that a
// path a ServeMux would redirect (here the double slash of a client whose
// base URL ends in a slash) reaches the API.
func ExampleHandler_Wrap() {
	svc, err := onetime.New(memory.New(), bytes.Repeat([]byte{7}, onetime.MinServerSecretLen), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	api, err := httpapi.New(svc, nil)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", api)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "the application") })
	srv := httptest.NewServer(api.Wrap(mux))
	defer srv.Close()

	receipt := postForm(srv.URL+"/api/v1//share", url.Values{"secret": {"hello"}})
	fmt.Println(receipt["http_status"], receipt["state"])
	fmt.Println(get(srv.URL + "/about"))
	// Output:
	// 200 new
	// 200 the application
}
