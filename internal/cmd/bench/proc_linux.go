//go:build linux

package main

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill the child if the benchmark tool dies
// without stopping it.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
