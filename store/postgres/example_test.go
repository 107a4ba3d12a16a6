package postgres_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/postgres"
)

// A Service on a database of its own. The examples need a server, so
// they are compiled but not run.
func ExampleOpen() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close() // closes the pool Open made

	svc, err := onetime.New(st, []byte(os.Getenv("ONETIME_SERVER_SECRET")), &onetime.Options{
		SweepInterval: time.Hour, // PostgreSQL keeps expired rows until swept
	})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	r, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("s3cr3t"), TTL: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("link for the reader: /secret/%s", r.SecretKey)
}

// The store in an application's own database and pool, behind PgBouncer in
// transaction mode: its tables in a schema of their own.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@pgbouncer:6432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close() // the application's: the store never closes it

	st, err := postgres.New(ctx, pool, &postgres.Options{Schema: "onetime"})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	svc, err := onetime.New(st, []byte(os.Getenv("ONETIME_SERVER_SECRET")), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.Sweep(ctx); err != nil { // e.g. from a cron job
		log.Print(err)
	}
}
