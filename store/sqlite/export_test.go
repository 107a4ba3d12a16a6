package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// BatchStats reports how many write transactions the store has run and
// how many operations they held.
func (s *Store) BatchStats() (batches, ops int64) {
	return s.w.nBatches.Load(), s.w.nOps.Load()
}

// Commits reports how many write transactions the store has committed.
func (s *Store) Commits() int64 { return s.w.nCommits.Load() }

// WaitingWriters reports how many callers are waiting to hand an
// operation to the writer.
func (s *Store) WaitingWriters() int64 { return s.w.waiting.Load() }

// HoldWriter runs a write operation that does nothing until release is
// called: the writer takes no other operation meanwhile. It returns once
// the operation runs.
func (s *Store) HoldWriter() (release func()) {
	running, rel := make(chan struct{}), make(chan struct{})
	go s.w.do(context.Background(), func(*wtx) error {
		close(running)
		<-rel
		return nil
	})
	<-running
	return func() { close(rel) }
}

// Pragma reads a pragma on the writer's connection and on a reader's (the
// writer's again when reads go through it).
func (s *Store) Pragma(name string) (writer, reader string, err error) {
	ctx := context.Background()
	err = s.w.exclusive(ctx, func(ctx context.Context, c *sql.Conn) error {
		return c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&writer)
	})
	if err != nil || s.r == nil {
		return writer, writer, err
	}
	err = s.r.QueryRowContext(ctx, "PRAGMA "+name).Scan(&reader)
	return writer, reader, err
}

// ReadsThroughWriter reports whether reads go through the writer's
// connection.
func (s *Store) ReadsThroughWriter() bool { return s.r == nil }

// SlowWrite runs a write operation that takes d, in the transaction it
// shares with the operations batched with it.
func (s *Store) SlowWrite(d time.Duration) error {
	return s.w.do(context.Background(), func(*wtx) error {
		time.Sleep(d)
		return nil
	})
}
