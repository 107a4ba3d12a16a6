package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// cancelGrace bounds how long the server waits, after -shutdown-timeout,
// for the handlers it cancelled to return before it closes the Service
// and the store under them.
const cancelGrace = 5 * time.Second

// serve serves handler on -addr until ctx ends (SIGTERM or SIGINT), then
// shuts down gracefully:
//
//  1. the listener closes at once: new connections are refused, and idle
//     keep-alive connections are closed;
//  2. requests in flight run to the end and their answers are sent whole
//     (http.Server.Shutdown), for up to -shutdown-timeout;
//  3. at that bound, the requests still running are cancelled (a store
//     call not yet made is not made; one under way completes) and their
//     connections closed: their clients get no answer, and retry (with
//     the same Idempotency-Key, the retry gets the first answer).
//
// serve returns once no handler runs (or cancelGrace after the bound), so
// that the caller closes the Service and the store under no request.
func serve(ctx context.Context, c config, handler http.Handler, log *slog.Logger) error {
	// Requests run under a context of their own, not ctx: a signal must
	// not cancel the requests it lets finish. cancelRequests ends them at
	// the bound.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	var running atomic.Int64
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			running.Add(1)
			defer running.Add(-1)
			handler.ServeHTTP(w, r)
		}),
		// What a client can make the server hold before any handler runs
		// is bounded three ways: headers (the query string included) up to
		// MaxHeaderBytes, sent within ReadHeaderTimeout, on at most
		// maxConns connections. A value too large for the query string
		// must come in the body, which the handler bounds and streams.
		ReadHeaderTimeout: c.readHeaderTimeout,
		MaxHeaderBytes:    c.maxHeaderBytes,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      c.requestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	proxies, err := parseProxies(c.trustedProxies)
	if err != nil {
		ln.Close()
		return err
	}
	ln = limitConns(ln, c.maxConns, c.maxConnsPerAddr, proxies)
	log.Info("listening", "addr", ln.Addr().String(), "store", c.store)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: new connections refused, requests in flight drained",
		"requests", running.Load(), "timeout", c.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err == nil {
		log.Info("drained: every request in flight was answered")
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	log.Warn("shutdown timeout: cancelling the requests still running and closing their connections",
		"requests", running.Load(), "timeout", c.shutdownTimeout.String())
	cancelRequests()
	srv.Close()
	for end := time.Now().Add(cancelGrace); running.Load() > 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := running.Load(); n > 0 {
		log.Warn("closing the store under requests that did not end when cancelled", "requests", n)
	}
	return nil
}
