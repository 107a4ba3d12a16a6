//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openPTY opens a pseudo-terminal pair with the standard library only.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	var unlock int32
	require.NoError(t, ioctl(m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))))
	var n uint32
	require.NoError(t, ioctl(m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))))
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	return m, s
}

func ioctl(fd, req, arg uintptr) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, req, arg); e != 0 {
		return e
	}
	return nil
}

// echoing reports whether the terminal echoes what is typed.
func echoing(t *testing.T, tty *os.File) bool {
	var st syscall.Termios
	require.NoError(t, ioctl(tty.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&st))))
	return st.Lflag&syscall.ECHO != 0
}

// terminal is a run of the command whose controlling terminal is a
// pseudo-terminal that the test types on.
type terminal struct {
	t             *testing.T
	master, slave *os.File
	cmd           *exec.Cmd
	stdout        bytes.Buffer

	mu     sync.Mutex
	screen bytes.Buffer // what the command wrote on the terminal, echo included
	more   chan struct{}
	read   chan struct{} // closed when the master reads no more
}

// startOnTerminal runs the command with the terminal as its controlling
// terminal and standard error; standard input is the terminal too, or
// stdin when not nil. Standard output is kept apart.
func startOnTerminal(t *testing.T, e *e2e, stdin io.Reader, env []string, args ...string) *terminal {
	t.Helper()
	m, s := openPTY(t)
	term := &terminal{t: t, master: m, slave: s, more: make(chan struct{}, 1), read: make(chan struct{})}
	cmd := exec.Command(e.bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdout, cmd.Stderr = &term.stdout, s
	cmd.Stdin = s
	ctty := 0
	if stdin != nil {
		cmd.Stdin = stdin
		cmd.ExtraFiles = []*os.File{s}
		ctty = 3
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: ctty}
	require.NoError(t, cmd.Start())
	term.cmd = cmd
	go func() {
		defer close(term.read)
		buf := make([]byte, 1024)
		for {
			n, err := m.Read(buf)
			term.mu.Lock()
			term.screen.Write(buf[:n])
			term.mu.Unlock()
			select {
			case term.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		s.Close()
		m.Close()
		<-term.read
	})
	return term
}

// waitFor waits until the screen shows text for the n-th time.
func (term *terminal) waitFor(text string, n int) {
	term.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		term.mu.Lock()
		got := strings.Count(term.screen.String(), text)
		term.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-term.more:
		case <-deadline:
			term.t.Fatalf("no prompt %q on the terminal; it shows %q", text, term.screenText())
		}
	}
}

// typeHidden waits for the n-th prompt, then for echo to be off, and
// types line.
func (term *terminal) typeHidden(prompt string, n int, line string) {
	term.t.Helper()
	term.waitFor(prompt, n)
	// The prompt is written just before echo is turned off: wait for it
	// to be off, or the terminal would echo what is typed.
	deadline := time.Now().Add(30 * time.Second)
	for echoing(term.t, term.slave) {
		require.True(term.t, time.Now().Before(deadline), "echo never turned off")
		time.Sleep(time.Millisecond)
	}
	_, err := term.master.Write([]byte(line + "\n"))
	require.NoError(term.t, err)
}

func (term *terminal) screenText() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.screen.String()
}

// wait waits for the command to exit and for all it wrote on the
// terminal to be read, and returns its exit status.
func (term *terminal) wait() int {
	term.t.Helper()
	err := term.cmd.Wait()
	if _, ok := err.(*exec.ExitError); !ok {
		require.NoError(term.t, err)
	}
	// With the last slave closed, the master reads what is left, then
	// fails.
	term.slave.Close()
	<-term.read
	return term.cmd.ProcessState.ExitCode()
}

// testPrompts types secrets and passphrases at the prompts of a
// terminal, and checks that none of them is echoed.
func testPrompts(t *testing.T, e *e2e) {
	env := []string{"ONETIME_URL=" + e.base}

	// share on a terminal: the secret and the passphrase, twice.
	term := startOnTerminal(t, e, nil, env, "share", "-p")
	term.typeHidden("Secret (one line, not shown): ", 1, "typed secret")
	term.typeHidden("Passphrase: ", 1, "typed pass")
	term.typeHidden("Passphrase again: ", 1, "typed pass")
	require.Equal(t, 0, term.wait(), term.screenText())
	link := strings.TrimSpace(term.stdout.String())
	require.True(t, strings.HasPrefix(link, e.base+"/secret/"), link)
	assert.NotContains(t, term.screenText(), "typed")

	// get -p: a wrong passphrase counts and says so; the right one reveals.
	term = startOnTerminal(t, e, nil, env, "get", "-p", link)
	term.typeHidden("Passphrase: ", 1, "not it")
	assert.Equal(t, 1, term.wait())
	assert.Contains(t, term.screenText(), "passphrase is wrong")
	assert.NotContains(t, term.screenText(), "not it")

	term = startOnTerminal(t, e, nil, env, "get", "-p", link)
	term.typeHidden("Passphrase: ", 1, "typed pass")
	require.Equal(t, 0, term.wait(), term.screenText())
	assert.Equal(t, "typed secret\n", term.stdout.String())
	assert.NotContains(t, term.screenText(), "typed")

	// The secret on a pipe, the passphrase on the controlling terminal
	// (/dev/tty); passphrases that differ are refused.
	term = startOnTerminal(t, e, strings.NewReader("piped secret\n"), env, "share", "-p")
	term.typeHidden("Passphrase: ", 1, "pass one")
	term.typeHidden("Passphrase again: ", 1, "pass two")
	assert.Equal(t, 2, term.wait())
	assert.Contains(t, term.screenText(), "do not match")
	assert.Empty(t, term.stdout.String())

	term = startOnTerminal(t, e, strings.NewReader("piped secret\n"), env, "share", "-p")
	term.typeHidden("Passphrase: ", 1, "pass one")
	term.typeHidden("Passphrase again: ", 1, "pass one")
	require.Equal(t, 0, term.wait(), term.screenText())
	link = strings.TrimSpace(term.stdout.String())
	assert.NotContains(t, term.screenText(), "pass one")

	got := e.ok(t, "", append(env, "ONETIME_PASSPHRASE=pass one"), "get", link)
	assert.Equal(t, "piped secret\n", got)
}
