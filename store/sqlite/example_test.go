package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/sqlite"
)

func Example() {
	dir, err := os.MkdirTemp("", "onetime-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "onetime.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// The server secret comes from outside the store (a file, a KMS);
	// a fixed one keeps the example short.
	svc, err := onetime.New(store, []byte("an example server secret, 32+ bytes long"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	r, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("the door code is 4711")})
	if err != nil {
		log.Fatal(err)
	}
	got, err := svc.Reveal(ctx, r.SecretKey, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(got.Value))

	_, err = svc.Reveal(ctx, r.SecretKey, "")
	fmt.Println(errors.Is(err, onetime.ErrNotFound))
	// Output:
	// the door code is 4711
	// true
}

// New keeps the secrets in a database the application already uses.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "onetime-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// A plain path: New sets what the store needs (WAL mode,
	// secure_delete, a busy timeout) on the connection it writes through.
	db, err := sql.Open("sqlite", filepath.Join(dir, "app.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx := context.Background()
	store, err := sqlite.New(ctx, db, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // leaves db open

	var tables int
	db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name LIKE 'onetime_%'`).Scan(&tables)
	fmt.Println(tables, "tables, schema version", sqlite.SchemaVersion)
	// Output:
	// 3 tables, schema version 3
}
