package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/onetimego/onetime/access"
)

// usersAuth is HTTP Basic auth on the customers of the -users file, which
// SIGHUP reads again: tokens are rotated without a restart, and without
// dropping a request. A request is checked against the table in force
// when it arrives.
type usersAuth struct {
	path string
	cur  atomic.Pointer[access.BasicAuth]
}

// newAuthenticator returns Basic auth on the -users file, or nil
// (everyone anonymous) without one.
func newAuthenticator(c config, log *slog.Logger) (*usersAuth, error) {
	if c.users == "" {
		return nil, nil
	}
	a := &usersAuth{path: c.users}
	n, err := a.reload()
	if err != nil {
		return nil, err
	}
	log.Info("basic auth enabled", "customers", n)
	return a, nil
}

// Authenticate implements [access.Authenticator].
func (a *usersAuth) Authenticate(r *http.Request) (string, error) {
	return a.cur.Load().Authenticate(r)
}

// reload reads the users file and, only if all of it is valid, puts its
// customers in force. It reports how many there are.
func (a *usersAuth) reload() (int, error) {
	users, err := readUsers(a.path)
	if err != nil {
		return 0, err
	}
	a.cur.Store(access.NewBasicAuth(users))
	return len(users), nil
}

// reloadOnHangup reads the users file again at each signal on hup, until
// ctx ends. A file that does not read or parse leaves the customers in
// force as they were, and is logged as an error: a half-written file
// must not lock every customer out.
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, a *usersAuth, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if a == nil {
			log.Info("SIGHUP: no -users file to read again")
			continue
		}
		n, err := a.reload()
		if err != nil {
			log.Error("SIGHUP: users file not read again; the customers in force stay", "err", err.Error())
			continue
		}
		log.Info("SIGHUP: users file read again", "customers", n)
	}
}

// readUsers reads lines of custid:apitoken; blank lines and lines starting
// with # are skipped. Errors name the line, never its token.
func readUsers(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	users := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, tok, ok := strings.Cut(line, ":")
		id, tok = strings.TrimSpace(id), strings.TrimSpace(tok)
		switch {
		case !ok || id == "" || tok == "":
			return nil, fmt.Errorf("%s:%d: want custid:apitoken", path, i+1)
		case id == "anon":
			return nil, fmt.Errorf("%s:%d: \"anon\" is how anonymous callers are shown; pick another custid", path, i+1)
		case users[id] != "":
			return nil, fmt.Errorf("%s:%d: customer %q listed twice", path, i+1, id)
		}
		users[id] = tok
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: no customers", path)
	}
	return users, nil
}
