package pgtest

import (
	"os/exec"
	"syscall"
)

// setProcAttr runs cmd as u (when not nil) and makes the kernel kill it if
// the test binary dies without cleaning up (a panic, a timeout, kill -9),
// so that no server outlives its test.
func setProcAttr(cmd *exec.Cmd, u *osUser) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if u != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: []uint32{}}
	}
}
