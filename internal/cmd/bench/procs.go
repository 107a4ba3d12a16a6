//go:build linux

package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onetimego/onetime/internal/proc"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// child is a server process (the example server or the yardstick) on a
// loopback port.
type child struct {
	cmd  *exec.Cmd
	URL  string // http://127.0.0.1:PORT
	Log  string // file of its standard output and error
	done chan struct{}
	err  error // of Wait, once done is closed
}

// startChild starts bin with the arguments args returns for a free
// loopback address, its output appended to logPath, and waits until it
// accepts connections. It tries five ports (one can be taken between
// probing and binding).
func startChild(bin string, args func(addr string) []string, env []string, logPath string) (*child, error) {
	var lastErr error
	for range 5 {
		ports, err := proc.FreePorts(1)
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
		logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(bin, args(addr)...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = logf, logf
		proc.DieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			logf.Close()
			return nil, err
		}
		logf.Close()
		c := &child{cmd: cmd, URL: "http://" + addr, Log: logPath, done: make(chan struct{})}
		go func() { c.err = cmd.Wait(); close(c.done) }()
		if lastErr = waitListening(addr, c.done, 20*time.Second); lastErr == nil {
			return c, nil
		}
		c.Stop()
	}
	return nil, fmt.Errorf("%s did not start: %v (see %s)", bin, lastErr, logPath)
}

// LogTail returns the last lines of the child's log, on one line, for a
// failure message.
func (c *child) LogTail() string {
	b, err := os.ReadFile(c.Log)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	lines = lines[max(0, len(lines)-3):]
	return " (server log: " + strings.Join(lines, " | ") + ")"
}

// PID returns the child's process id.
func (c *child) PID() int { return c.cmd.Process.Pid }

// Stop asks the child to end (SIGTERM), kills it after 5s, and waits.
func (c *child) Stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// waitListening waits until addr accepts a connection, the process ends
// (exited is closed), or timeout passes.
func waitListening(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			return errors.New("it exited")
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %v", addr, timeout)
		}
		select {
		case <-exited:
			return errors.New("it exited")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// cpuSeconds returns the CPU time (user + system, all threads) that
// process pid has used so far, from /proc/PID/stat.
func cpuSeconds(pid int) (float64, error) {
	st, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	return st.CPU(), nil
}

// treeCPU returns the CPU time that process pid and its children have
// used so far: its own, that of its children that have ended and been
// waited for (cutime, cstime), and that of each child still running. For
// a PostgreSQL postmaster that is the whole server: its backends, which
// come and go, and its background processes.
func treeCPU(pid int) (float64, error) {
	root, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	total := root.CPU() + root.ChildrenCPU()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p == pid {
			continue
		}
		// A process may end between the listing and the reading: its
		// time then shows in the parent's cutime at the next reading.
		if st, err := readStat(p); err == nil && st.PPID == pid {
			total += st.CPU() + st.ChildrenCPU()
		}
	}
	return total, nil
}

// procStat holds the fields of /proc/PID/stat the tool uses; times in
// clock ticks.
type procStat struct {
	PPID                         int
	UTime, STime, CUTime, CSTime uint64
}

// CPU returns the process's own CPU time, user + system, in seconds.
func (s procStat) CPU() float64 { return float64(s.UTime+s.STime) / clockTicks }

// ChildrenCPU returns the CPU time, in seconds, of the children that the
// process has waited for.
func (s procStat) ChildrenCPU() float64 { return float64(s.CUTime+s.CSTime) / clockTicks }

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// parseStatCPU returns utime + stime in seconds from the text of
// /proc/PID/stat.
func parseStatCPU(stat string) (float64, error) {
	st, err := parseStat(stat)
	return st.CPU(), err
}

// parseStat reads the text of /proc/PID/stat. The command name (field 2)
// is in parentheses and may hold spaces and parentheses: the fields after
// it are counted from the last ')'.
func parseStat(stat string) (procStat, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return procStat{}, errors.New("/proc/PID/stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state), f[1] field 4 (ppid); utime, stime, cutime
	// and cstime are fields 14 to 17.
	if len(f) < 15 {
		return procStat{}, errors.New("/proc/PID/stat: too few fields")
	}
	var st procStat
	var errs [5]error
	st.PPID, errs[0] = strconv.Atoi(f[1])
	st.UTime, errs[1] = strconv.ParseUint(f[11], 10, 64)
	st.STime, errs[2] = strconv.ParseUint(f[12], 10, 64)
	// cutime and cstime are signed in the kernel's format (long).
	cu, err3 := strconv.ParseInt(f[13], 10, 64)
	cs, err4 := strconv.ParseInt(f[14], 10, 64)
	errs[3], errs[4] = err3, err4
	if err := errors.Join(errs[:]...); err != nil {
		return procStat{}, fmt.Errorf("/proc/PID/stat: %v", err)
	}
	st.CUTime, st.CSTime = uint64(max(cu, 0)), uint64(max(cs, 0))
	return st, nil
}

// statusKB returns a field in kB of /proc/PID/status, such as VmRSS or
// VmHWM.
func statusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseStatusKB(string(b), field)
}

func parseStatusKB(status, field string) (int64, error) {
	for line := range strings.Lines(status) {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("/proc/PID/status: no %s", field)
}
