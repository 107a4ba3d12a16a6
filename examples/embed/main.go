// Command embed shows onetime inside an existing Go service: the v1 API is
// mounted in the program's own http.ServeMux under a prefix of its own
// (httpapi.Options.BasePath), beside routes of its own, and the program's
// code uses the same Service directly.
//
//	go run ./examples/embed
//	curl -s -d secret=hello http://127.0.0.1:7144/ots/api/v1/share
//	curl -s -X POST http://127.0.0.1:7144/onboard
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

// apiPath is where the v1 API lives in this program.
const apiPath = "/ots/api/v1/"

func main() {
	// A real service keeps this secret outside the store (a secret manager,
	// an environment variable); a random one means secrets die with the process.
	secret := make([]byte, 32)
	rand.Read(secret)
	svc, err := onetime.New(memory.New(), secret, &onetime.Options{
		// The Service sweeps only when asked: reclaim expired records
		// every minute (the memory store also drops a few on each Create).
		SweepInterval: time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	mux, err := newMux(svc, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Addr:    "127.0.0.1:7144",
		Handler: mux,
		// Bound what a client can make the server hold before a handler
		// runs; values larger than the header bound come in the body.
		ReadHeaderTimeout: 5 * time.Second,
		// WriteTimeout closes a connection whose answer is late, but does
		// not stop its handler: requestTimeout (below) does.
		WriteTimeout:   requestTimeout + 5*time.Second,
		MaxHeaderBytes: httpapi.RecommendedMaxHeaderBytes,
	}
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

// requestTimeout bounds the work of each API request.
const requestTimeout = 25 * time.Second

// newMux returns the program's routes: the v1 API under apiPath, and
// POST /onboard, which uses the Service directly.
func newMux(svc *onetime.Service, logger *slog.Logger) (*http.ServeMux, error) {
	api, err := httpapi.New(svc, &httpapi.Options{
		BasePath: apiPath, // no http.StripPrefix needed
		Logger:   logger,
		// A reveal still running after this consumes nothing, rather than
		// a secret whose answer can no longer reach its reader.
		RequestTimeout: requestTimeout,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(apiPath, api)
	// The program's own route: it hands out a one-time link to a freshly
	// generated password.
	mux.HandleFunc("POST /onboard", func(w http.ResponseWriter, r *http.Request) {
		m, err := svc.Generate(r.Context(), onetime.GenerateRequest{ShareRequest: onetime.ShareRequest{TTL: 24 * time.Hour}})
		if err != nil {
			http.Error(w, "could not create a password", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "your first password: http://%s%ssecret/%s (reveal with POST)\n", r.Host, apiPath, m.SecretKey)
	})
	return mux, nil
}
