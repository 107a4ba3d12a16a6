//go:build !linux

package pgtest

import "os/exec"

// setProcAttr runs cmd as this process's user: switching users (to run
// initdb under root) is implemented on Linux only.
func setProcAttr(cmd *exec.Cmd, u *osUser) {}
