package httpapi

import "context"

// A RateLimiter decides whether a client may make one more request. client
// is the address the handler attributes the request to (see
// Options.ClientIPHeader). A limited client gets the v1 error "Cripes! You
// have been rate limited.". An error is logged and the request is let
// through: a limiter that is down does not take the service down with it.
//
// Package [github.com/onetimego/onetime/ratelimit] has an in-process
// limiter, for a service that runs as one process, and package
// [github.com/onetimego/onetime/ratelimit/redislimit] one kept in Redis,
// shared by app servers behind one load balancer. Neither is imported
// here, so a program that uses neither does not link them (nor go-redis).
type RateLimiter interface {
	Allow(ctx context.Context, client string) (bool, error)
}
