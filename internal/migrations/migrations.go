// Package migrations reads a store's embedded schema migrations: one file
// per version, named NNNN_description.sql, numbered 1, 2, 3, ... without
// gaps. store/sqlite and store/postgres apply them each in their own way
// (a write transaction, an advisory lock); what a valid set of files is
// lives here once.
package migrations

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// A Migration is one version of a schema.
type Migration struct {
	Version int
	Name    string // the file's base name
	SQL     string
}

// Load returns the migrations matching pattern in fsys (e.g. an embed.FS
// and "migrations/*.sql"), in version order, after checking that their
// names are well formed, that they are numbered without gaps, and that
// there are exactly want of them (the package's schema version). Embedded
// files cannot change at run time, so callers treat an error as a bug.
func Load(fsys fs.FS, pattern string, want int) ([]Migration, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("malformed migration file name %s", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: base, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations must be numbered 1, 2, 3, ... without gaps (%s)", m.Name)
		}
	}
	if len(out) != want {
		return nil, fmt.Errorf("%d migrations for schema version %d", len(out), want)
	}
	return out, nil
}
