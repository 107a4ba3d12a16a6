//go:build linux

package main

import (
	"bytes"
	"context"
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

// openPTY opens a pseudo-terminal pair with the standard library only, and
// returns the name of its slave too.
func openPTY(t *testing.T) (master, slave *os.File, name string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	var unlock int32
	require.NoError(t, ioctl(m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))))
	var n uint32
	require.NoError(t, ioctl(m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))))
	name = fmt.Sprintf("/dev/pts/%d", n)
	s, err := os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	return m, s, name
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

// terminal is a pseudo-terminal that a test types on, and a run of the
// command on it: in this process, or as a binary whose controlling
// terminal it is.
type terminal struct {
	t             *testing.T
	master, slave *os.File
	slaveName     string
	stdout        bytes.Buffer

	mu     sync.Mutex
	screen bytes.Buffer // what the command wrote on the terminal, echo included
	more   chan struct{}
	read   chan struct{} // closed when the master reads no more

	code chan int // the exit status of a run in process
	cmd  *exec.Cmd
}

// newTerminal opens a pseudo-terminal and starts reading its screen.
func newTerminal(t *testing.T) *terminal {
	t.Helper()
	m, s, name := openPTY(t)
	term := &terminal{t: t, master: m, slave: s, slaveName: name, more: make(chan struct{}, 1), read: make(chan struct{})}
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
		if term.cmd != nil {
			term.cmd.Process.Kill()
			term.cmd.Wait()
		}
		if term.code != nil {
			// A run still reading a prompt gets its line and ends.
			m.Write([]byte("\n\n\n"))
			select {
			case <-term.code:
			case <-time.After(10 * time.Second):
			}
		}
		s.Close()
		m.Close()
		<-term.read
	})
	return term
}

// startInProcess runs the command in this process with the terminal as
// its standard error and, when stdin is nil, its standard input; else
// stdin is standard input and prompts open the terminal anew, as
// /dev/tty.
func startInProcess(t *testing.T, stdin *os.File, env []string, args ...string) *terminal {
	t.Helper()
	term := newTerminal(t)
	sys := system{
		getenv: envOf(env), stdin: term.slave, stdout: &term.stdout, stderr: term.slave,
		openTTY: func() (*os.File, error) { return os.OpenFile(term.slaveName, os.O_RDWR|syscall.O_NOCTTY, 0) },
	}
	if stdin != nil {
		sys.stdin = stdin
	}
	term.code = make(chan int, 1)
	go func() { term.code <- run(context.Background(), args, sys) }()
	return term
}

// startBinary runs the command bin with the terminal as its controlling
// terminal and standard error; standard input is the terminal too, or
// stdin when not nil. Standard output is kept apart.
func startBinary(t *testing.T, bin string, stdin io.Reader, env []string, args ...string) *terminal {
	t.Helper()
	term := newTerminal(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdout, cmd.Stderr = &term.stdout, term.slave
	cmd.Stdin = term.slave
	ctty := 0
	if stdin != nil {
		cmd.Stdin = stdin
		cmd.ExtraFiles = []*os.File{term.slave}
		ctty = 3
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: ctty}
	require.NoError(t, cmd.Start())
	term.cmd = cmd
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
	var code int
	if term.cmd != nil {
		err := term.cmd.Wait()
		if _, ok := err.(*exec.ExitError); !ok {
			require.NoError(term.t, err)
		}
		code = term.cmd.ProcessState.ExitCode()
		term.cmd = nil
	} else {
		select {
		case code = <-term.code:
			term.code = nil
		case <-time.After(30 * time.Second):
			term.t.Fatalf("the command did not end; the terminal shows %q", term.screenText())
		}
	}
	// With the last slave closed, the master reads what is left, then
	// fails.
	term.slave.Close()
	<-term.read
	return code
}

// TestPrompts types secrets and passphrases at the prompts of a
// terminal, and checks that none of them is echoed.
func TestPrompts(t *testing.T) {
	base := startAPI(t, nil)
	env := []string{"ONETIME_URL=" + base}

	// share on a terminal: the secret and the passphrase, twice.
	term := startInProcess(t, nil, env, "share", "-p")
	term.typeHidden("Secret (one line, not shown): ", 1, "typed secret")
	term.typeHidden("Passphrase: ", 1, "typed pass")
	term.typeHidden("Passphrase again: ", 1, "typed pass")
	require.Equal(t, 0, term.wait(), term.screenText())
	link := strings.TrimSpace(term.stdout.String())
	require.True(t, strings.HasPrefix(link, base+"/secret/"), link)
	assert.NotContains(t, term.screenText(), "typed")

	// get -p: a wrong passphrase counts and says so; the right one reveals.
	term = startInProcess(t, nil, env, "get", "-p", link)
	term.typeHidden("Passphrase: ", 1, "not it")
	assert.Equal(t, 1, term.wait())
	assert.Contains(t, term.screenText(), "passphrase is wrong")
	assert.NotContains(t, term.screenText(), "not it")

	term = startInProcess(t, nil, env, "get", "-p", link)
	term.typeHidden("Passphrase: ", 1, "typed pass")
	require.Equal(t, 0, term.wait(), term.screenText())
	assert.Equal(t, "typed secret\n", term.stdout.String())
	assert.NotContains(t, term.screenText(), "typed")

	// The secret on a pipe, the passphrase on the terminal (opened as
	// /dev/tty); passphrases that differ are refused.
	term = startInProcess(t, stdinFile(t, "piped secret\n"), env, "share", "-p")
	term.typeHidden("Passphrase: ", 1, "pass one")
	term.typeHidden("Passphrase again: ", 1, "pass two")
	assert.Equal(t, 2, term.wait())
	assert.Contains(t, term.screenText(), "do not match")
	assert.Empty(t, term.stdout.String())

	term = startInProcess(t, stdinFile(t, "piped secret\n"), env, "share", "-p")
	term.typeHidden("Passphrase: ", 1, "pass one")
	term.typeHidden("Passphrase again: ", 1, "pass one")
	require.Equal(t, 0, term.wait(), term.screenText())
	link = strings.TrimSpace(term.stdout.String())
	assert.NotContains(t, term.screenText(), "pass one")

	e := &harness{base: base, exec: inProcess}
	assert.Equal(t, "piped secret\n", e.ok(t, "", append(env, "ONETIME_PASSPHRASE=pass one"), "get", link))
}

// testControllingTerminal runs the built command on a terminal that is its
// controlling terminal: with the secret on a pipe, the passphrase is
// asked on /dev/tty, without echo.
func testControllingTerminal(t *testing.T, bin string, e *harness) {
	env := []string{"ONETIME_URL=" + e.base}
	term := startBinary(t, bin, strings.NewReader("piped secret\n"), env, "share", "-p")
	term.typeHidden("Passphrase: ", 1, "pass one")
	term.typeHidden("Passphrase again: ", 1, "pass one")
	require.Equal(t, 0, term.wait(), term.screenText())
	link := strings.TrimSpace(term.stdout.String())
	assert.NotContains(t, term.screenText(), "pass one")

	term = startBinary(t, bin, nil, env, "get", "-p", link)
	term.typeHidden("Passphrase: ", 1, "pass one")
	require.Equal(t, 0, term.wait(), term.screenText())
	assert.Equal(t, "piped secret\n", term.stdout.String())
	assert.NotContains(t, term.screenText(), "pass one")
}
