package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/proc"
)

// prometheusBinary returns the path of Prometheus's server (Debian's
// prometheus package; .ci/run installs it). Without it the test skips,
// except under CI=true, where it fails: CI must run it.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prometheus not found (%v); CI=true, so the test must run: apt-get install prometheus", err)
		}
		t.Skipf("prometheus not found (%v); skipping (set CI=true to make this a failure)", err)
	}
	return bin
}

// startPrometheus starts a Prometheus server of the test's own that
// scrapes target (host:port, path /metrics) every second: on a free
// loopback port, never 9090 (where the Debian package's own service may
// listen), with a temporary configuration and data directory. It
// returns the URL of its HTTP API once it is ready.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := prometheusBinary(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: onetime
    metrics_path: /metrics
    static_configs:
      - targets: ['%s']
`, target)), 0o644))
	// A port can be taken between FreePorts and Prometheus binding it:
	// try again on a start that fails.
	for attempt := 1; ; attempt++ {
		ports, err := proc.FreePorts(1)
		require.NoError(t, err)
		require.NotEqual(t, 9090, ports[0])
		addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
		logs := &syncLog{}
		cmd := exec.Command(bin,
			"--config.file="+config,
			"--storage.tsdb.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr,
			"--log.level=warn")
		cmd.Stdout, cmd.Stderr = logWriter{logs}, logWriter{logs}
		proc.DieWithParent(cmd)
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		base := "http://" + addr
		ready := func() bool {
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				select {
				case <-exited:
					return false
				default:
				}
				if res, err := http.Get(base + "/-/ready"); err == nil {
					res.Body.Close()
					if res.StatusCode == http.StatusOK {
						return true
					}
				}
			}
			return false
		}()
		if ready {
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(10 * time.Second):
					cmd.Process.Kill()
					<-exited
				}
			})
			return base
		}
		cmd.Process.Kill()
		<-exited
		if attempt == 3 {
			t.Fatalf("prometheus did not start on %s:\n%s", addr, logs)
		}
	}
}

// logWriter adds what a process writes to a syncLog.
type logWriter struct{ l *syncLog }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.add(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// promQuery runs a PromQL instant query over Prometheus's HTTP API
// (/api/v1/query) and returns the value of its single sample, or false
// when the result holds none yet.
func promQuery(t *testing.T, base, query string) (float64, bool) {
	t.Helper()
	res, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", query, b)
	var r struct {
		Status string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Value  [2]any // [unix time, "value"]
			}
		}
	}
	require.NoError(t, json.Unmarshal(b, &r), "%s", b)
	require.Equal(t, "success", r.Status, "%s", b)
	require.Equal(t, "vector", r.Data.ResultType, "%s", b)
	if len(r.Data.Result) == 0 {
		return 0, false
	}
	require.Len(t, r.Data.Result, 1, "%s", b)
	s, ok := r.Data.Result[0].Value[1].(string)
	require.True(t, ok, "%s", b)
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, "%s", b)
	return v, true
}

// TestServerPrometheus: a real Prometheus scrapes the built server's
// -metrics-addr, and PromQL over its HTTP API counts the shares and
// reveals the test made, as an operator's dashboard would.
func TestServerPrometheus(t *testing.T) {
	prometheusBinary(t) // skip before building anything
	bin := buildServer(t)
	users, customer, token := writeCustomer(t)
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("ef", 32)}, metricsArgs(users)...)
	metrics, err := url.Parse(s.metricsURL(t))
	require.NoError(t, err)
	prom := startPrometheus(t, metrics.Host)
	run := runRequests(t, s.url, customer, token)

	queries := map[string]float64{
		`sum(onetime_operation_duration_seconds_count{operation="share", outcome="ok"})`:                           float64(run.shares + run.pageShares),
		`sum(onetime_operation_duration_seconds_count{operation="reveal", outcome="ok"})`:                          float64(run.reveals),
		`sum(onetime_http_request_duration_seconds_count{route="POST /api/v1/share", status="200"})`:               float64(run.shares),
		`sum(onetime_http_request_duration_seconds_count{route="POST /api/v1/secret/{secret_key}", status="200"})`: float64(run.reveals),
		`up{job="onetime"}`: 1,
	}
	got := map[string]float64{}
	deadline := time.Now().Add(20 * time.Second)
	for {
		done := true
		for q, want := range queries {
			v, ok := promQuery(t, prom, q)
			got[q] = v
			done = done && ok && v == want
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 20s, Prometheus's answers %v did not reach %v", got, queries)
		}
		time.Sleep(250 * time.Millisecond)
	}
	s.stop(t)
}
