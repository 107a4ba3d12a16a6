package proc_test

import (
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/proc"
)

func TestAttributes(t *testing.T) {
	cmd := exec.Command("true")
	proc.DieWithParent(cmd)
	proc.RunAs(cmd, 12, 34)
	require.NotNil(t, cmd.SysProcAttr)
	assert.Equal(t, syscall.SIGKILL, cmd.SysProcAttr.Pdeathsig, "Pdeathsig")
	require.NotNil(t, cmd.SysProcAttr.Credential)
	assert.Equal(t, uint32(12), cmd.SysProcAttr.Credential.Uid)
	assert.Equal(t, uint32(34), cmd.SysProcAttr.Credential.Gid)
}
