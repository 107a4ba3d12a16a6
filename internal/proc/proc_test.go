package proc_test

import (
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/proc"
)

func TestCPU(t *testing.T) {
	self0, _, ok := proc.CPU()
	if !ok {
		require.NotEqual(t, "linux", runtime.GOOS, "CPU is measured on Linux")
		t.Skipf("CPU time is not measured on %s", runtime.GOOS)
	}
	// Spin until the process's CPU time moves: it must only go up.
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for proc.SelfCPU() <= self0 && time.Now().Before(deadline) {
		for i := range 1_000_000 {
			x += i
		}
	}
	assert.Greater(t, proc.SelfCPU(), self0, "CPU time after spinning (%d)", x)

	// An ended child's time counts under children once it is waited for.
	if _, err := exec.LookPath("sh"); err == nil {
		_, c0, _ := proc.CPU()
		require.NoError(t, exec.Command("sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done").Run())
		_, c1, _ := proc.CPU()
		assert.GreaterOrEqual(t, c1, c0, "children's CPU time went down")
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := proc.FreePorts(5)
	require.NoError(t, err)
	require.Len(t, ports, 5)
	seen := map[int]bool{}
	for _, p := range ports {
		assert.Positive(t, p)
		assert.False(t, seen[p], "port %d twice", p)
		seen[p] = true
	}
}
