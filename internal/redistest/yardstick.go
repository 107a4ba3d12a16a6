package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// BenchmarkBinary is the redis-benchmark executable.
var BenchmarkBinary = "redis-benchmark"

var rpsLine = regexp.MustCompile(`(SET|GET): ([0-9.]+) requests per second`)

// Yardstick runs `redis-benchmark -h HOST -p PORT -c clients -n requests
// -t set,get -q` against the server at addr and returns its SET and GET
// requests per second: the raw speed of that server, against which a
// store's throughput in the same run is judged. It writes the key
// "key:__rand_int__" on that server (and nothing else).
func Yardstick(addr string, clients, requests int) (set, get float64, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, 0, err
	}
	// redis-benchmark waits forever for a server that does not answer.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, BenchmarkBinary, "-h", host, "-p", port,
		"-c", strconv.Itoa(clients), "-n", strconv.Itoa(requests), "-t", "set,get", "-q").CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("redistest: redis-benchmark: %v\n%s", err, tail(out, 500))
	}
	for _, m := range rpsLine.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(m[2]), 64)
		if string(m[1]) == "SET" {
			set = v
		} else {
			get = v
		}
	}
	if set == 0 || get == 0 {
		return 0, 0, fmt.Errorf("redistest: no SET/GET figures in redis-benchmark's output:\n%s", tail(out, 500))
	}
	return set, get, nil
}
