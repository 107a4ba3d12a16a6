// Command embed shows onetime inside an existing Go service: the v1 API is
// mounted in the program's own mux, under its own prefix, beside routes of
// its own, and the program's code uses the same Service directly.
//
//	go run ./examples/embed
//	curl -s -X POST 'http://127.0.0.1:7144/tools/secrets/api/v1/share?secret=hello'
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/store/memory"
)

func main() {
	// A real service keeps this secret outside the store (a secret manager,
	// an environment variable); a random one means secrets die with the process.
	secret := make([]byte, 32)
	rand.Read(secret)
	svc, err := onetime.New(memory.New(), secret, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	api, err := httpapi.New(svc, &httpapi.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	// The API answers /api/v1/...; here it lives under /tools/secrets.
	mux.Handle("/tools/secrets/", http.StripPrefix("/tools/secrets", api))
	// The program's own route, using the Service directly: it hands out a
	// one-time link to a freshly generated password.
	mux.HandleFunc("POST /onboard", func(w http.ResponseWriter, r *http.Request) {
		rc, err := svc.Generate(r.Context(), onetime.GenerateRequest{TTL: 24 * time.Hour})
		if err != nil {
			http.Error(w, "could not create a password", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "your first password: http://%s/tools/secrets/api/v1/secret/%s (reveal with POST)\n", r.Host, rc.SecretKey)
	})

	srv := &http.Server{Addr: "127.0.0.1:7144", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Printf("listening on http://%s", srv.Addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
