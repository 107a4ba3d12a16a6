// Package loadgen drives a server speaking the Onetime Secret REST API v1
// (such as cmd/onetime-server) over real HTTP and reports throughput, latency
// percentiles, errors and wrong values. It is the code of the loadgen
// command (internal/cmd/loadgen), importable so that the benchmark tool
// (internal/cmd/bench) runs the same load in its own process.
//
// It targets loopback addresses only, and a run always stops by itself:
// after N operations, after a duration, or both (whichever comes first).
//
// Modes:
//
//	share     POST /api/v1/share of a fresh value per operation
//	generate  POST /api/v1/generate
//	reveal    POST /api/v1/secret/{key} of secrets shared beforehand (untimed);
//	          with a duration and no N it first shares for up to that
//	          duration (or Pool secrets)
//	pair      share then reveal the same secret: one operation, two requests
//
// With Config.API set to yopass or ots it speaks instead the API of
// jhaals/yopass's server or of Luzifer/ots (share, reveal and pair modes,
// JSON requests; see peers.go), so that the benchmark tool measures those
// servers with the same load and the same checks.
//
// Every revealed value is compared byte for byte with what was shared; a
// different or missing value counts as a wrong value. With Recheck, each
// revealed secret is revealed again and must be gone. [Report.OK] is false
// on any error or wrong value.
package loadgen
