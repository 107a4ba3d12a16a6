package main

import (
	"io"
	"sync"
	"time"
)

// lineBuffer batches the access log's lines: one JSON line per request
// written to stderr as it comes costs a write system call, under a lock,
// on every request, where a batch of lines costs one. Lines are handed
// on whole, in order, when the buffer is full, every interval, and on
// Close; the server's other log lines (errors, warnings) do not go
// through it and are written at once.
type lineBuffer struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// lineBufferSize is what a lineBuffer holds before it writes: some 250
// request lines.
const lineBufferSize = 64 << 10

// newLineBuffer returns a lineBuffer writing to w at least every interval.
func newLineBuffer(w io.Writer, interval time.Duration) *lineBuffer {
	b := &lineBuffer{w: w, buf: make([]byte, 0, lineBufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.Flush()
			case <-b.stop:
				return
			}
		}
	}()
	return b
}

// Write buffers p, one or more whole lines (slog's handlers write a record
// in one call). A buffer that p would overflow is written first, so that
// every write to w holds whole lines; a p larger than the buffer goes to w
// at once.
func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > cap(b.buf) {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > cap(b.buf) {
			return b.w.Write(p)
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes what is buffered.
func (b *lineBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *lineBuffer) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0] // written or not: a log that cannot be written is dropped, not held
	return err
}

// Close stops the periodic writes and writes what is left. Lines written
// after Close are buffered until the next Flush.
func (b *lineBuffer) Close() error {
	b.once.Do(func() { close(b.stop) })
	<-b.done
	return b.Flush()
}
