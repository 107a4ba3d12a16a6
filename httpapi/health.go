package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/frontdoor"
)

// The bodies of GET {BasePath}status. The first is the v1 answer, byte
// for byte; the second tells monitors that the store does not answer.
const (
	statusNominal = `{"status":"nominal","locale":"en"}`
	statusOffline = `{"status":"offline","locale":"en"}`
)

// idempotencyField is added to both bodies, after "status" and "locale",
// when the Service honours idempotency keys (onetime.Options.ReplayWindow
// above zero): clients that retry with the same Idempotency-Key (package
// client, the onetime tool) read it to know that a retried share or
// reveal gets the first answer, never a second secret nor "Unknown
// secret". An extension field: v1 clients read "status" and ignore the
// rest.
const idempotencyField = `,"idempotency":true`

// statusBodies returns the nominal and offline bodies of the status check:
// v1's fields, then the extensions (see zeroKnowledgeField in zk.go).
func statusBodies(idempotency bool) (nominal, offline []byte) {
	fields := zeroKnowledgeField
	if idempotency {
		fields = idempotencyField + fields
	}
	ext := func(body string) []byte {
		return []byte(body[:len(body)-1] + fields + "}")
	}
	return ext(statusNominal), ext(statusOffline)
}

// status answers GET {BasePath}status: nominal when the store answers a
// ping within the health timeout, else offline with the intended status
// 503 (sent as 404 unless Options.IntendedStatus, as for errors). The
// Service's Ping returns at its context's deadline whatever the store
// does, so that the answer comes within the health timeout even from a
// store that has stopped answering.
func (h *Handler) status(ctx context.Context, w http.ResponseWriter, q *frontdoor.Request) error {
	pctx, cancel := context.WithTimeout(ctx, h.healthTTL)
	defer cancel()
	err := h.svc.Ping(pctx)
	if err == nil {
		writeJSON(w, http.StatusOK, h.nominalBody)
		return nil
	}
	if ctx.Err() == nil {
		// A store error carries no key or value.
		h.log.LogAttrs(ctx, slog.LevelWarn, "httpapi: status: the store does not answer",
			slog.String("err", err.Error()))
	}
	q.Intended, q.Message = http.StatusServiceUnavailable, "offline"
	status := http.StatusNotFound
	if h.opts.IntendedStatus {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("X-OTS-Intended-Status", "503")
	writeJSON(w, status, h.offlineBody)
	return nil
}

// ReadyHandler returns a readiness check for orchestrators (a Kubernetes
// readinessProbe, a load balancer's health check): it answers 200
// {"status":"ready"} when svc's store answers a ping within
// [DefaultHealthTimeout] (or the request's own deadline, if sooner), and
// 503 {"status":"unavailable"} otherwise, to every method. It is separate
// from the v1 API, whose GET {BasePath}status answers 404 on failure for
// the sake of old clients; mount it on a path of its own:
//
//	mux.Handle("GET /readyz", httpapi.ReadyHandler(svc))
//
// It is not rate limited and logs nothing.
func ReadyHandler(svc *onetime.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), DefaultHealthTimeout)
		defer cancel()
		if err := svc.Ping(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"unavailable"}`))
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"status":"ready"}`))
	})
}
