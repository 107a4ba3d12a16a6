package proc

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes the kernel kill cmd's process (SIGKILL) when this
// process dies, so that no server outlives a test binary that ended
// without cleaning up (a panic, a timeout, kill -9). Call it before
// cmd.Start. Linux only; elsewhere it does nothing.
func DieWithParent(cmd *exec.Cmd) {
	attr(cmd).Pdeathsig = syscall.SIGKILL
}

// RunAs makes cmd run as the user uid and group gid, with no
// supplementary groups: initdb refuses to run as root, so a test binary
// running as root starts PostgreSQL as another user. Call it before
// cmd.Start. Linux only; elsewhere it does nothing.
func RunAs(cmd *exec.Cmd, uid, gid uint32) {
	attr(cmd).Credential = &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}
}

func attr(cmd *exec.Cmd) *syscall.SysProcAttr {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	return cmd.SysProcAttr
}
