package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writes records each Write made to it, and signals the first.
type writes struct {
	mu    sync.Mutex
	calls []string
	first chan struct{}
	once  sync.Once
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.calls = append(w.calls, string(p))
	w.mu.Unlock()
	w.once.Do(func() { close(w.first) })
	return len(p), nil
}

func (w *writes) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.calls...)
}

// TestLineBuffer: lines are held, then written in order and whole (never
// a line split between two writes), fewer writes than lines, everything
// out on Close; a line longer than the buffer goes out at once.
func TestLineBuffer(t *testing.T) {
	w := &writes{first: make(chan struct{})}
	b := newLineBuffer(w, time.Hour) // no periodic write within the test
	var want strings.Builder
	for i := range 3000 { // some 100 KiB: more than one buffer
		line := fmt.Sprintf(`{"msg":"request","n":%d}`+"\n", i)
		want.WriteString(line)
		n, err := b.Write([]byte(line))
		require.NoError(t, err)
		require.Equal(t, len(line), n)
	}
	held := len(w.all())
	assert.Greater(t, held, 0, "a full buffer is written")
	assert.Less(t, held, 10, "lines are written in batches")

	big := strings.Repeat("x", lineBufferSize+1) + "\n"
	want.WriteString(big)
	_, err := b.Write([]byte(big))
	require.NoError(t, err)
	require.NoError(t, b.Close())

	calls := w.all()
	for _, c := range calls {
		assert.True(t, strings.HasSuffix(c, "\n"), "a write ends with a whole line")
	}
	assert.Equal(t, big, calls[len(calls)-1], "the long line alone, after what was buffered before it")
	assert.Equal(t, want.String(), strings.Join(calls, ""), "everything, in order")
	require.NoError(t, b.Close(), "Close twice")
}

// TestLineBufferInterval: lines buffered are written without a Flush
// within the interval.
func TestLineBufferInterval(t *testing.T) {
	w := &writes{first: make(chan struct{})}
	b := newLineBuffer(w, time.Millisecond)
	defer b.Close()
	_, err := b.Write([]byte("one line\n"))
	require.NoError(t, err)
	select {
	case <-w.first:
	case <-time.After(time.Minute):
		t.Fatal("a buffered line was never written")
	}
	assert.Equal(t, []string{"one line\n"}, w.all())
}

// TestLineBufferDropsOnError: lines that cannot be written are dropped
// rather than held, so that a dead stderr does not grow the buffer.
func TestLineBufferDropsOnError(t *testing.T) {
	b := newLineBuffer(failWriter{}, time.Hour)
	_, err := b.Write([]byte("a\n"))
	require.NoError(t, err)
	require.Error(t, b.Flush())
	b.mu.Lock()
	assert.Empty(t, b.buf, "a line that cannot be written is dropped, not held")
	b.mu.Unlock()
	require.NoError(t, b.Close(), "nothing left to write")
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("stderr closed") }
