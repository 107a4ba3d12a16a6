#!/usr/bin/env bash
# scripts/smoke.sh: a few seconds of real load as a CI check.
#
# Builds the server (cmd/onetime-server) and internal/cmd/loadgen, starts the server on the
# SQLite store (a temporary database) on a free loopback port, and runs the
# load generator in pair mode (share, then reveal and compare byte for
# byte, then reveal again to check it is gone) for SMOKE_DURATION (default
# 3s) without a passphrase, then with one. Fails on any error or wrong
# value. Not a benchmark: see internal/cmd/bench.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DURATION=${SMOKE_DURATION:-3s}

log() { printf 'smoke: %s\n' "$*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/onetime-smoke.XXXXXX")
# A throwaway server secret, so that the server writes no key file
# (with -store redis it would land in the working directory).
ONETIME_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export ONETIME_SECRET
SERVER_PID=
cleanup() {
	local rc=$? i
	if [[ -n $SERVER_PID ]]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for i in $(seq 50); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [[ $rc != 0 && -s $WORK/server.log ]]; then
		log "server log (last lines):"
		tail -20 "$WORK/server.log" >&2
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$WORK/server" ./cmd/onetime-server
go build -o "$WORK/loadgen" ./internal/cmd/loadgen

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

started=
for attempt in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	port_open "$port" && continue
	# -recheck reveals what is gone, on purpose: no guess limit.
	"$WORK/server" -addr "127.0.0.1:$port" -store sqlite -db "$WORK/smoke.db" -guess-limit=false >"$WORK/server.log" 2>&1 &
	SERVER_PID=$!
	for i in $(seq 200); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		if port_open "$port"; then
			started=1
			break
		fi
		sleep 0.05
	done
	[[ -n $started ]] && break
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
done
[[ -n $started ]] || {
	log "the server did not start"
	exit 1
}
URL="http://127.0.0.1:$port"
log "server (sqlite) on $URL"

log "pair mode, no passphrase, $DURATION"
"$WORK/loadgen" -url "$URL" -mode pair -c 16 -d "$DURATION" -recheck
log "pair mode, with a passphrase, $DURATION"
"$WORK/loadgen" -url "$URL" -mode pair -c 8 -d "$DURATION" -passphrase -recheck
log "OK"
