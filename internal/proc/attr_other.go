//go:build !linux

package proc

import "os/exec"

// DieWithParent does nothing on this system: the kernel kills children
// with their parent on Linux only.
func DieWithParent(cmd *exec.Cmd) {}

// RunAs does nothing on this system: switching users is implemented on
// Linux only, so the command runs as this process's user.
func RunAs(cmd *exec.Cmd, uid, gid uint32) {}
