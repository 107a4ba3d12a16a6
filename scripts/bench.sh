#!/usr/bin/env bash
# scripts/bench.sh: measure onetime on this machine and write BENCHMARKS.md.
#
# Every figure in BENCHMARKS.md comes from one run of this script:
#   1. a private redis-server on a free loopback port (never the machine's
#      own on 6379), in a temporary directory;
#   2. redis-benchmark -c 32 -t set,get -d 100 on it: the yardstick, same
#      run, same value size as the load;
#   3. the Go benchmarks of the root package and of store/... (discovered at
#      run time with go test -list), -benchmem -count 3;
#   4. the example server on each store (memory, sqlite, redis), driven by
#      examples/loadgen in share and pair mode (32 clients, 100-byte values,
#      no passphrase), 3 runs each after an untimed warm-up, medians; with
#      the CPU time split between server, load generator and redis-server;
#   5. a passphrase burst: 200 concurrent wrong-passphrase reveals while 32
#      other clients make pairs; their p99 and the server's peak RSS
#      (VmHWM);
#   6. optionally (BENCH_SCALE=1) pair throughput and memory per secret with
#      1,000 / 100,000 / 1,000,000 secrets stored, per store, and the Go
#      benchmarks named *Scale* (left out otherwise);
#   7. a table of the targets of issue 6: met, missed or not measured.
#
# Usage (from anywhere in the repository):
#   scripts/bench.sh                   full run, rewrites BENCHMARKS.md (~10 min)
#   BENCH_QUICK=1 scripts/bench.sh     smoke version: short runs, 1 repetition,
#                                      writes $TMPDIR/onetime-BENCHMARKS.quick.md
#   BENCH_SCALE=1 scripts/bench.sh     also the scale runs (slow: tens of minutes)
#
# Other knobs: BENCH_OUT (output file), BENCH_RUNS (repetitions, default 3),
# BENCH_DURATION (one loadgen run, default 10s), BENCH_WARMUP (untimed load
# before each run, default 2s), BENCH_BENCHTIME (go test
# -benchtime, default 1s), BENCH_STORES (default "memory sqlite redis"),
# BENCH_BURST_STORES (default "sqlite"), BENCH_BURST_CLIENTS (default 32),
# BENCH_SCALE_SIZES.
#
# Needs Go; installs Debian's redis-server and redis-tools with apt-get when
# they are missing (as root, or through sudo). Everything it starts listens
# on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=${BENCH_QUICK:-0}
SCALE=${BENCH_SCALE:-0}
if [[ $QUICK == 1 ]]; then
	RUNS=${BENCH_RUNS:-1}
	DURATION=${BENCH_DURATION:-2s}
	WARMUP=${BENCH_WARMUP:-500ms}
	BENCHTIME=${BENCH_BENCHTIME:-100ms}
	GOCOUNT=1
	RB_REQUESTS=20000
	SCALE_SIZES=${BENCH_SCALE_SIZES:-"1000 10000"}
	OUT=${BENCH_OUT:-${TMPDIR:-/tmp}/onetime-BENCHMARKS.quick.md}
else
	RUNS=${BENCH_RUNS:-3}
	DURATION=${BENCH_DURATION:-10s}
	WARMUP=${BENCH_WARMUP:-2s}
	BENCHTIME=${BENCH_BENCHTIME:-1s}
	GOCOUNT=3
	RB_REQUESTS=200000
	SCALE_SIZES=${BENCH_SCALE_SIZES:-"1000 100000 1000000"}
	OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
fi
STORES=${BENCH_STORES-"memory sqlite redis"}
BURST_STORES=${BENCH_BURST_STORES-sqlite}
CLIENTS=32
SIZE=100
BURST=200
BURST_CLIENTS=${BENCH_BURST_CLIENTS:-$CLIENTS}

log() { printf '%s bench: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}

# ---------------------------------------------------------------- tools

need_redis() {
	command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null && command -v redis-cli >/dev/null && return 0
	command -v apt-get >/dev/null || die "redis-server, redis-benchmark and redis-cli are needed (Debian: apt-get install redis-server redis-tools)"
	local sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	log "installing redis-server and redis-tools with apt-get"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server redis-tools >&2 ||
		{ "${sudo[@]}" apt-get update -q >&2 && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server redis-tools >&2; } ||
		die "could not install redis-server and redis-tools"
}

command -v go >/dev/null || die "Go is needed (https://go.dev/dl/)"
need_redis

# ---------------------------------------------------------------- processes

WORK=$(mktemp -d "${TMPDIR:-/tmp}/onetime-bench.XXXXXX")
# A throwaway server secret, so that the example server writes no key file
# (with -store redis it would land in the working directory).
ONETIME_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export ONETIME_SECRET
PIDS=()

forget() {
	local keep=() p
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	forget "$pid"
}

cleanup() {
	local rc=$? p
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$p"; done
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: a loopback port nobody listens on (never 6379).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		[[ $p == 6379 ]] && continue
		port_open "$p" || { echo "$p"; return; }
	done
}

# wait_port PORT PID: wait until PID listens on PORT; fail if it dies.
wait_port() {
	local i
	for i in $(seq 200); do
		kill -0 "$2" 2>/dev/null || return 1
		port_open "$1" && return 0
		sleep 0.05
	done
	return 1
}

# Commands as run, for the report ($TMP is the temporary directory).
COMMANDS=()
# shq ARGS...: the arguments as one shell command line, quoted only where needed.
shq() {
	local a out=()
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
			out+=("$a")
		else
			out+=("'${a//\'/\'\\\'\'}'")
		fi
	done
	echo "${out[*]}"
}
note_cmd() { COMMANDS+=("$(shq "$@" | sed "s|$WORK|\$TMP|g; s|$ROOT/||g")"); }

# ---------------------------------------------------------------- redis

REDIS_PORT=
start_redis() {
	mkdir -p "$WORK/redis"
	local i
	for i in 1 2 3 4 5; do
		REDIS_PORT=$(free_port)
		redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes \
			--dir "$WORK/redis" --save '' --appendonly no --daemonize no \
			--loglevel warning --logfile "$WORK/redis/redis.log" &
		REDIS_PID=$!
		PIDS+=("$REDIS_PID")
		if wait_port "$REDIS_PORT" "$REDIS_PID" && [[ $(rcli ping) == PONG ]]; then
			return 0
		fi
		stop_pid "$REDIS_PID"
	done
	die "redis-server did not start: $(tail -5 "$WORK/redis/redis.log" 2>/dev/null)"
}
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
redis_used_memory() { rcli info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'; }

# ---------------------------------------------------------------- helpers

# median N...: the median of numbers (mean of the middle two for an even count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# jget JSON FIELD: the first numeric FIELD in a one-line JSON object.
jget() { grep -o "\"$2\":[-0-9.eE+]*" <<<"$1" | head -1 | cut -d: -f2 || true; }

fmt0() { awk -v x="$1" 'BEGIN { if (x == "n/a" || x == "") print "n/a"; else printf "%.0f\n", x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || a == "" || b == "" || b == 0) print "n/a"; else printf "%.0f%%", 100 * a / b }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "n/a" && a != "" && a + 0 >= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "n/a" && a != "" && a + 0 < b + 0) }'; }
# bad JSON: errors + wrong values of a loadgen summary (1 when there is none).
bad() {
	local e w
	e=$(jget "$1" errors) w=$(jget "$1" wrong_values)
	echo $((${e:-1} + ${w:-0}))
}
# verdict MEASURED CHECK ARGS...: met, missed, or not measured.
verdict() {
	local m=$1
	shift
	if [[ -z $m || $m == n/a ]]; then
		echo "not measured"
	elif "$@"; then
		echo met
	else
		echo "**missed**"
	fi
}

: >"$WORK/failures"
FAILURES=0
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# ---------------------------------------------------------------- build

mkdir -p "$WORK/bin"
if [[ -n "$STORES$BURST_STORES" ]]; then
	log "building the example server and the load generator"
	[[ -d examples/server ]] || die "examples/server is not in the tree"
	go build -o "$WORK/bin/server" ./examples/server
	go build -o "$WORK/bin/loadgen" ./examples/loadgen
	note_cmd go build -o "$WORK/bin/server" ./examples/server
	note_cmd go build -o "$WORK/bin/loadgen" ./examples/loadgen
fi

start_redis
log "private redis-server on 127.0.0.1:$REDIS_PORT"
note_cmd redis-server --port PORT --bind 127.0.0.1 --save '' --appendonly no

# ---------------------------------------------------------------- yardstick

RB_SET=() RB_GET=() RB_SET_P99=() RB_GET_P99=()
log "redis-benchmark yardstick ($RUNS runs)"
for r in $(seq "$RUNS"); do
	out=$(redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c "$CLIENTS" -t set,get -d "$SIZE" -n "$RB_REQUESTS" --csv 2>/dev/null | tr -d '\r')
	# "SET","rps","avg","min","p50","p95","p99","max" (Redis 7)
	RB_SET+=("$(awk -F'"' '$2 == "SET" { print $4 }' <<<"$out")")
	RB_GET+=("$(awk -F'"' '$2 == "GET" { print $4 }' <<<"$out")")
	RB_SET_P99+=("$(awk -F'"' '$2 == "SET" { print ($14 == "" ? "n/a" : $14) }' <<<"$out")")
	RB_GET_P99+=("$(awk -F'"' '$2 == "GET" { print ($14 == "" ? "n/a" : $14) }' <<<"$out")")
done
note_cmd redis-benchmark -h 127.0.0.1 -p PORT -c "$CLIENTS" -t set,get -d "$SIZE" -n "$RB_REQUESTS" --csv
SET_RPS=$(median "${RB_SET[@]}")
GET_RPS=$(median "${RB_GET[@]}")
log "yardstick: SET $(fmt0 "$SET_RPS")/s, GET $(fmt0 "$GET_RPS")/s"
rcli flushall >/dev/null

# ---------------------------------------------------------------- Go benchmarks

# Redis-backed benchmarks use the private server (the one the yardstick
# measured) through internal/redistest's variable, instead of starting one.
export ONETIME_REDIS_ADDR="127.0.0.1:$REDIS_PORT"

# Top-level benchmarks whose names say they fill the store to scale run only
# with BENCH_SCALE=1 (store/sqlite: BenchmarkScale); a full scale run also
# lets them fill 1,000,000 secrets (ONETIME_BENCH_1M, read by store/sqlite).
SCALE_NAME_RE='Scale|Growth|Stored|Million'
if [[ $SCALE == 1 && $QUICK != 1 ]]; then
	export ONETIME_BENCH_1M=1
fi
GOBENCH="$WORK/gobench.txt"
: >"$GOBENCH"
for pkg in $(go list . ./store/... 2>/dev/null); do
	if ! list=$(go test -list '^Benchmark' "$pkg" 2>&1); then
		log "cannot list the benchmarks of $pkg (does it build?):"
		tail -10 <<<"$list" >&2
		FAILURES=$((FAILURES + 1))
		continue
	fi
	names=$(grep '^Benchmark' <<<"$list" || true)
	if [[ $SCALE != 1 ]]; then
		names=$(grep -Ev "$SCALE_NAME_RE" <<<"$names" || true)
	fi
	[[ -n $names ]] || continue
	re="^($(paste -sd'|' <<<"$names"))\$"
	log "go benchmarks in $pkg: $(paste -sd' ' <<<"$names")"
	note_cmd go test -run '^$' -bench "$re" -benchmem -count "$GOCOUNT" -benchtime "$BENCHTIME" "$pkg"
	if ! go test -run '^$' -bench "$re" -benchmem -count "$GOCOUNT" -benchtime "$BENCHTIME" "$pkg" >"$WORK/gobench.pkg" 2>&1; then
		log "go test -bench failed in $pkg:"
		tail -20 "$WORK/gobench.pkg" >&2
		FAILURES=$((FAILURES + 1))
	fi
	awk -v pkg="$pkg" '/^Benchmark/ { print pkg, $0 }' "$WORK/gobench.pkg" >>"$GOBENCH"
done

# gomed PKG NAME UNIT: the median of UNIT over the runs of benchmark NAME
# (without the -GOMAXPROCS suffix) in the package whose path ends in PKG
# ("" for the root package); empty when there is none.
gomed() {
	awk -v pkg="$1" -v name="$2" -v unit="$3" '
	{ p = $1; sub(/^github.com\/onetimego\/onetime\/?/, "", p); n = $2; sub(/-[0-9]+$/, "", n) }
	p == pkg && n == name { for (i = 4; i < NF; i += 2) if ($(i + 1) == unit) v[++k] = $i + 0 }
	END {
		if (k == 0) exit
		for (i = 2; i <= k; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
		print (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
	}' "$GOBENCH"
}
per_s() { [[ -n $1 ]] && awk -v ns="$1" 'BEGIN { printf "%.0f\n", 1e9 / ns }' || true; }

# gobench_table: medians per benchmark and unit, as Markdown.
gobench_table() {
	awk -v set="$SET_RPS" '
	function med(s,   n, a, i, j, t) {
		n = split(s, a, " ")
		for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{
		pkg = $1; name = $2; sub(/-[0-9]+$/, "", name)
		k = pkg SUBSEP name
		if (!(k in seen)) { seen[k] = 1; order[++n] = k; pk[k] = pkg; nm[k] = name }
		for (i = 4; i < NF; i += 2) {
			u = $(i + 1)
			v[k, u] = v[k, u] " " $i
			if (!((k, u) in hasu) && u != "ns/op" && u != "B/op" && u != "allocs/op") { extra[k] = extra[k] (extra[k] ? ", " : "") u; hasu[k, u] = 1 }
			runs[k, u]++
		}
	}
	END {
		print "| package | benchmark | ns/op | ops/s | vs redis SET | B/op | allocs/op | other (median) | runs |"
		print "|---|---|---:|---:|---:|---:|---:|---|---:|"
		for (o = 1; o <= n; o++) {
			k = order[o]
			ns = ((k, "ns/op") in v) ? med(v[k, "ns/op"]) : ""
			ops = (ns > 0) ? 1e9 / ns : ""
			vs = (ops != "" && pk[k] ~ /redis/ && set > 0) ? sprintf("%.0f%%", 100 * ops / set) : ""
			b = ((k, "B/op") in v) ? med(v[k, "B/op"]) : ""
			al = ((k, "allocs/op") in v) ? med(v[k, "allocs/op"]) : ""
			other = ""
			m = split(extra[k], us, ", ")
			for (i = 1; i <= m; i++) other = other (other ? ", " : "") sprintf("%g %s", med(v[k, us[i]]), us[i])
			p = pk[k]; sub(/^github.com\/onetimego\/onetime\/?/, "", p); if (p == "") p = "onetime"
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", p, nm[k], (ns == "" ? "" : sprintf("%.0f", ns)), (ops == "" ? "" : sprintf("%.0f", ops)), vs, b, al, other, runs[k, "ns/op"]
		}
	}' "$GOBENCH"
}

# ---------------------------------------------------------------- example server

SERVER_PID= SERVER_URL= DB= SERVER_ERR=
start_server() {
	local store=$1 args=() i port
	case $store in
	memory) args=(-store memory) ;;
	sqlite)
		DB="$WORK/bench.db"
		args=(-store sqlite -db "$DB")
		;;
	redis)
		rcli flushall >/dev/null
		args=(-store redis -redis "redis://127.0.0.1:$REDIS_PORT/0")
		;;
	*) die "unknown store $store" ;;
	esac
	for i in 1 2 3 4 5; do
		port=$(free_port)
		"$WORK/bin/server" -addr "127.0.0.1:$port" "${args[@]}" >"$WORK/server.log" 2>&1 &
		SERVER_PID=$!
		PIDS+=("$SERVER_PID")
		if wait_port "$port" "$SERVER_PID"; then
			SERVER_URL="http://127.0.0.1:$port"
			SERVER_CMD=$(shq server -addr "127.0.0.1:PORT" "${args[@]}" | sed "s|$WORK|\$TMP|g; s|:$REDIS_PORT/|:REDIS_PORT/|")
			return 0
		fi
		stop_pid "$SERVER_PID"
	done
	SERVER_PID=
	# The server logs JSON lines: keep the error text of the last one.
	SERVER_ERR=$(tail -1 "$WORK/server.log" | sed 's/.*"err":"\([^"]*\)".*/\1/' | tr '|' ' ' | cut -c1-200)
	log "the example server did not start on $store: $SERVER_ERR"
	FAILURES=$((FAILURES + 1))
	return 1
}
stop_server() {
	[[ -n $SERVER_PID ]] && stop_pid "$SERVER_PID"
	SERVER_PID=
	[[ -n $DB ]] && rm -f "$DB"*
	DB=
}
proc_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# loadgen ARGS...: one JSON summary line; errors are counted, not fatal.
# It runs in a subshell ($(...)), so it reports through files: its CPU
# seconds (user + system) in $WORK/lgcpu, a line per failure in
# $WORK/failures.
loadgen() {
	local rc=0 TIMEFORMAT='%U %S'
	{ time "$WORK/bin/loadgen" -url "$SERVER_URL" -json "$@" >"$WORK/lg.out" 2>"$WORK/loadgen.err"; } 2>"$WORK/lgcpu" || rc=$?
	if [[ $rc != 0 ]]; then
		echo "loadgen $*" >>"$WORK/failures"
		log "loadgen $* exited $rc: $(head -c 600 "$WORK/lg.out") $(tail -3 "$WORK/loadgen.err")"
	fi
	cat "$WORK/lg.out"
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
# cpu_s PID: CPU seconds (user + system) used so far by PID, 0 if gone.
cpu_s() { awk -v hz="$CLK_TCK" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
lg_cpu_s() { awk '{ printf "%.2f", $1 + $2 }' "$WORK/lgcpu" 2>/dev/null || echo 0; }
# cpu_split SERVER LOADGEN REDIS: each one's share of the CPU seconds used.
cpu_split() {
	awk -v s="$1" -v l="$2" -v r="$3" 'BEGIN { t = s + l + r; if (t <= 0) { print "n/a"; exit }
		printf "%.0f / %.0f", 100 * s / t, 100 * l / t; if (r > 0) printf " / %.0f", 100 * r / t; print "" }'
}

declare -A HTTP # HTTP[store,mode,field] = median; HTTP[store,mode,runs] = "a / b / c"
for store in $STORES; do
	for mode in share pair; do
		if ! start_server "$store"; then
			HTTP[$store,$mode,failed]="server did not start: $SERVER_ERR"
			continue
		fi
		log "$store: $mode x $RUNS ($DURATION, $CLIENTS clients)"
		ops=() p50=() p90=() p99=() mx=() errs=0
		cs=0 cl=0 cr=0
		for r in $(seq "$RUNS"); do
			s0=$(cpu_s "$SERVER_PID") r0=$(cpu_s "$REDIS_PID")
			j=$(loadgen -mode "$mode" -c "$CLIENTS" -size "$SIZE" -d "$DURATION" -warmup "$WARMUP")
			s1=$(cpu_s "$SERVER_PID") r1=$(cpu_s "$REDIS_PID")
			cs=$(awk -v a="$cs" -v b="$s0" -v c="$s1" 'BEGIN { print a + c - b }')
			cl=$(awk -v a="$cl" -v b="$(lg_cpu_s)" 'BEGIN { print a + b }')
			[[ $store != redis ]] || cr=$(awk -v a="$cr" -v b="$r0" -v c="$r1" 'BEGIN { print a + c - b }')
			ops+=("$(jget "$j" ops_per_sec)")
			p50+=("$(jget "$j" p50)") p90+=("$(jget "$j" p90)") p99+=("$(jget "$j" p99)") mx+=("$(jget "$j" max)")
			errs=$((errs + $(bad "$j")))
		done
		HTTP[$store,$mode,ops]=$(median "${ops[@]}")
		HTTP[$store,$mode,p50]=$(median "${p50[@]}")
		HTTP[$store,$mode,p90]=$(median "${p90[@]}")
		HTTP[$store,$mode,p99]=$(median "${p99[@]}")
		HTTP[$store,$mode,max]=$(median "${mx[@]}")
		HTTP[$store,$mode,runs]=$(for x in "${ops[@]}"; do fmt0 "$x"; done | paste -sd/ | sed 's|/| / |g')
		HTTP[$store,$mode,errors]=$errs
		HTTP[$store,$mode,cpu]=$(cpu_split "$cs" "$cl" "$cr")
		HTTP[$store,$mode,cmd]=$SERVER_CMD
		log "$store $mode: $(fmt0 "${HTTP[$store,$mode,ops]}") ops/s, p99 ${HTTP[$store,$mode,p99]} ms, errors $errs"
		stop_server
	done
done
[[ -z $STORES ]] || note_cmd loadgen -url http://127.0.0.1:PORT -json -mode share -c "$CLIENTS" -size "$SIZE" -d "$DURATION" -warmup "$WARMUP"
[[ -z $STORES ]] || note_cmd loadgen -url http://127.0.0.1:PORT -json -mode pair -c "$CLIENTS" -size "$SIZE" -d "$DURATION" -warmup "$WARMUP"

# ---------------------------------------------------------------- passphrase burst

declare -A BURSTR
for store in $BURST_STORES; do
	p99=() hwm=() ops=() tries=() errs=0
	log "$store: passphrase burst x $RUNS ($BURST wrong-passphrase workers + $BURST_CLIENTS pair clients, $DURATION)"
	for r in $(seq "$RUNS"); do
		start_server "$store" || continue # a fresh process per run: VmHWM is this run's peak
		j=$(loadgen -mode pair -c "$BURST_CLIENTS" -size "$SIZE" -d "$DURATION" -burst "$BURST" -warmup "$WARMUP")
		hwm+=("$(proc_kb "$SERVER_PID" VmHWM)")
		p99+=("$(jget "$j" p99)") ops+=("$(jget "$j" ops_per_sec)")
		tries+=("$(grep -o '"wrong_attempts":[0-9]*' <<<"$j" | cut -d: -f2)")
		errs=$((errs + $(bad "$j")))
		stop_server
	done
	if ((${#hwm[@]} == 0)); then
		BURSTR[$store,failed]=1
		continue
	fi
	BURSTR[$store,p99]=$(median "${p99[@]}")
	BURSTR[$store,hwm]=$(awk -v k="$(median "${hwm[@]}")" 'BEGIN { printf "%.0f", k / 1024 }')
	BURSTR[$store,hwm_runs]=$(for x in "${hwm[@]}"; do awk -v k="$x" 'BEGIN { printf "%.0f\n", k / 1024 }'; done | paste -sd/ | sed 's|/| / |g')
	BURSTR[$store,ops]=$(median "${ops[@]}")
	BURSTR[$store,tries]=$(median "${tries[@]}")
	BURSTR[$store,errors]=$errs
	log "$store burst: pair p99 ${BURSTR[$store,p99]} ms, server peak RSS ${BURSTR[$store,hwm]} MiB"
done
[[ -z $BURST_STORES ]] || note_cmd loadgen -url http://127.0.0.1:PORT -json -mode pair -c "$BURST_CLIENTS" -size "$SIZE" -d "$DURATION" -burst "$BURST" -warmup "$WARMUP"

# ---------------------------------------------------------------- scale (opt-in)

declare -A SC
# store_bytes STORE: what the stored records take: process RSS (memory),
# database files (sqlite: db + WAL + shm), used_memory (redis).
store_bytes() {
	case $1 in
	memory) echo $(($(proc_kb "$SERVER_PID" VmRSS) * 1024)) ;;
	sqlite) du -cb "$DB"* 2>/dev/null | tail -1 | cut -f1 ;;
	redis) redis_used_memory ;;
	esac
}
if [[ $SCALE == 1 ]]; then
	for store in $STORES; do
		for n in $SCALE_SIZES; do
			start_server "$store" || continue
			log "$store: scale $n stored"
			# Fill in two steps and take the memory of the second step
			# alone: the marginal cost of a secret, without the server's
			# fixed overhead (buffers, caches, connections).
			first=$((n / 10))
			j=$(loadgen -mode share -c "$CLIENTS" -size "$SIZE" -n "$first" -timeout 60s)
			before=$(store_bytes "$store")
			j=$(loadgen -mode share -c "$CLIENTS" -size "$SIZE" -n "$((n - first))" -timeout 60s)
			after=$(store_bytes "$store")
			SC[$store,$n,fill]=$(jget "$j" ops_per_sec)
			SC[$store,$n,bytes]=$(awk -v a="$after" -v b="$before" -v n="$((n - first))" 'BEGIN { printf "%.0f", (a - b) / n }')
			ops=() p99=()
			for r in $(seq "$RUNS"); do
				j=$(loadgen -mode pair -c "$CLIENTS" -size "$SIZE" -d "$DURATION" -warmup "$WARMUP")
				ops+=("$(jget "$j" ops_per_sec)") p99+=("$(jget "$j" p99)")
			done
			SC[$store,$n,ops]=$(median "${ops[@]}")
			SC[$store,$n,p99]=$(median "${p99[@]}")
			log "$store $n stored: pair $(fmt0 "${SC[$store,$n,ops]}")/s, ${SC[$store,$n,bytes]} bytes per secret"
			stop_server
		done
	done
	note_cmd loadgen -url http://127.0.0.1:PORT -json -mode share -c "$CLIENTS" -size "$SIZE" -n N/10 -timeout 60s
	note_cmd loadgen -url http://127.0.0.1:PORT -json -mode share -c "$CLIENTS" -size "$SIZE" -n 9N/10 -timeout 60s
fi

# ---------------------------------------------------------------- report

FAILURES=$((FAILURES + $(wc -l <"$WORK/failures")))
set +u # a store that did not start leaves its figures unset: they print as n/a

REDIS_VERSION=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || COMMIT="$COMMIT (with uncommitted changes)"

{
	echo "# Benchmarks"
	echo
	if [[ $QUICK == 1 ]]; then
		echo "> QUICK RUN (BENCH_QUICK=1): short runs for smoke testing, not figures to publish."
		echo
	fi
	echo "Written by \`scripts/bench.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); every figure below is that run's own output."
	echo "Do not edit by hand: run \`scripts/bench.sh\` again. Medians of $RUNS runs unless said otherwise."
	echo
	echo "## Machine"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| CPUs (nproc) | $(nproc) |"
	echo "| CPU | ${CPU:-unknown} |"
	echo "| memory | ${MEM:-unknown} |"
	echo "| kernel | $(uname -sr) |"
	echo "| Go | $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH) |"
	echo "| Redis | $REDIS_VERSION |"
	echo "| onetime | $COMMIT |"
	echo "| load average (1, 5, 15 min) | at start $LOAD_START; at end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown) |"
	echo
	echo "Load generator, server and Redis share these CPUs: the figures are for one box doing everything."
	echo
	echo "## Yardstick: redis-benchmark on the same Redis, same run"
	echo
	echo "\`redis-benchmark -c $CLIENTS -t set,get -d $SIZE -n $RB_REQUESTS\` against the private redis-server the Redis store uses below."
	echo
	echo "| command | requests/s (median) | p99 ms (median) | runs (requests/s) |"
	echo "|---|---:|---:|---|"
	echo "| SET | $(fmt0 "$SET_RPS") | $(median "${RB_SET_P99[@]}") | $(for x in "${RB_SET[@]}"; do fmt0 "$x"; done | paste -sd/ | sed 's|/| / |g') |"
	echo "| GET | $(fmt0 "$GET_RPS") | $(median "${RB_GET_P99[@]}") | $(for x in "${RB_GET[@]}"; do fmt0 "$x"; done | paste -sd/ | sed 's|/| / |g') |"
	echo
	echo "## HTTP: the example server on each store"
	echo
	echo "\`examples/loadgen\`, $CLIENTS clients, $SIZE-byte values, no passphrase, $DURATION per run after $WARMUP of untimed warm-up, a fresh server per mode."
	echo "A pair is a share and a reveal of the same secret (two requests); every revealed value is checked byte for byte."
	echo "\"vs SET\" is ops/s over redis-benchmark SET requests/s. The last column splits the CPU time used during the runs (warm-up included)"
	echo "between the server, the load generator and, for the Redis store, redis-server: on a small box the load generator's share is capacity the server did not get."
	echo
	echo "| store | mode | ops/s (median) | p50 ms | p90 ms | p99 ms | max ms | vs SET | errors + wrong values | runs (ops/s) | CPU % server / loadgen (/ redis) |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
	for store in $STORES; do
		for mode in share pair; do
			if [[ -n ${HTTP[$store,$mode,failed]:-} ]]; then
				echo "| $store | $mode | ${HTTP[$store,$mode,failed]} | | | | | | | | |"
				continue
			fi
			echo "| $store | $mode | $(fmt0 "${HTTP[$store,$mode,ops]}") | ${HTTP[$store,$mode,p50]} | ${HTTP[$store,$mode,p90]} | ${HTTP[$store,$mode,p99]} | ${HTTP[$store,$mode,max]} | $(ratio "${HTTP[$store,$mode,ops]}" "$SET_RPS") | ${HTTP[$store,$mode,errors]} | ${HTTP[$store,$mode,runs]} | ${HTTP[$store,$mode,cpu]} |"
		done
	done
	echo
	echo "## Passphrase burst"
	echo
	echo "$BURST workers reveal passphrase secrets with a wrong passphrase (each secret 5 times, then once with the right one, which must"
	echo "still open it) while $BURST_CLIENTS other clients make pairs without passphrase. A fresh server per run; peak RSS is its VmHWM."
	echo "For comparison, the pair p99 of the same store without the burst (HTTP table above, $CLIENTS clients)."
	echo
	echo "| store | pair p99 ms (median) | without burst | pairs/s | wrong-passphrase reveals per run | server peak RSS MiB (median) | runs (MiB) | errors + wrong values |"
	echo "|---|---:|---:|---:|---:|---:|---|---:|"
	for store in $BURST_STORES; do
		if [[ -n ${BURSTR[$store,failed]} ]]; then
			echo "| $store | server did not start | | | | | | |"
			continue
		fi
		echo "| $store | ${BURSTR[$store,p99]} | ${HTTP[$store,pair,p99]:-n/a} | $(fmt0 "${BURSTR[$store,ops]}") | $(fmt0 "${BURSTR[$store,tries]}") | ${BURSTR[$store,hwm]} | ${BURSTR[$store,hwm_runs]} | ${BURSTR[$store,errors]} |"
	done
	echo
	echo "## Go benchmarks (no HTTP)"
	echo
	echo "\`go test -run '^\$' -bench ... -benchmem -count $GOCOUNT -benchtime $BENCHTIME\` on the root package and store/...; medians of the $GOCOUNT counts."
	echo "ops/s is 10^9 / ns/op (for parallel benchmarks, the throughput of all goroutines together); \"vs redis SET\" is shown for Redis-backed benchmarks."
	echo
	if [[ -s $GOBENCH ]]; then gobench_table; else echo "(no benchmarks found)"; fi
	echo
	if [[ $SCALE == 1 ]]; then
		echo "## Scale: secrets already stored"
		echo
		echo "Per store and size N: a fresh server filled with N shares of $SIZE-byte values (N/10, then the rest: fill rate of the rest shown), then pair runs."
		echo "Bytes per secret (each with its receipt) is the growth over the second fill step, divided by its 9N/10 secrets: of process RSS (memory), of the database files (sqlite: db + WAL + shm), of used_memory (redis)."
		echo
		echo "| store | stored | fill shares/s | pair ops/s (median) | pair p99 ms | vs smallest | bytes per secret |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
		for store in $STORES; do
			first=
			for n in $SCALE_SIZES; do
				[[ -n $first ]] || first=${SC[$store,$n,ops]}
				echo "| $store | $n | $(fmt0 "${SC[$store,$n,fill]}") | $(fmt0 "${SC[$store,$n,ops]}") | ${SC[$store,$n,p99]} | $(ratio "${SC[$store,$n,ops]}" "$first") | ${SC[$store,$n,bytes]} |"
			done
		done
		echo
	else
		echo "Scale runs (1,000 / 100,000 / 1,000,000 stored) were not part of this run: \`BENCH_SCALE=1 scripts/bench.sh\`."
		echo
	fi
	echo "## Targets (issue 6) as measured here"
	echo
	echo "| target | measured | |"
	echo "|---|---|---|"
	if [[ " $STORES " == *" redis "* ]]; then
		echo "| Redis store over HTTP: >= 15,000 shares/s | $(fmt0 "${HTTP[redis,share,ops]}") | $(verdict "${HTTP[redis,share,ops]}" ge "${HTTP[redis,share,ops]}" 15000) |"
		echo "| Redis store over HTTP: >= 6,000 pairs/s | $(fmt0 "${HTTP[redis,pair,ops]}") | $(verdict "${HTTP[redis,pair,ops]}" ge "${HTTP[redis,pair,ops]}" 6000) |"
		echo "| Redis store over HTTP: p99 < 20 ms (share / pair) | ${HTTP[redis,share,p99]} / ${HTTP[redis,pair,p99]} | $(verdict "${HTTP[redis,pair,p99]}" eval 'lt "${HTTP[redis,share,p99]}" 20 && lt "${HTTP[redis,pair,p99]}" 20') |"
	fi
	for store in $BURST_STORES; do
		echo "| Burst of $BURST wrong passphrases ($store): server RSS < 512 MiB | ${BURSTR[$store,hwm]} MiB | $(verdict "${BURSTR[$store,hwm]}" lt "${BURSTR[$store,hwm]}" 512) |"
		echo "| Burst of $BURST wrong passphrases ($store): other requests' p99 < 100 ms | ${BURSTR[$store,p99]} ms | $(verdict "${BURSTR[$store,p99]}" lt "${BURSTR[$store,p99]}" 100) |"
	done
	if [[ $SCALE == 1 ]]; then
		small=${SCALE_SIZES%% *} large=${SCALE_SIZES##* }
		for store in $STORES; do
			r=$(awk -v a="${SC[$store,$large,ops]}" -v b="${SC[$store,$small,ops]}" 'BEGIN { if (a == "" || b == "" || b == 0) print ""; else printf "%.0f", 100 * a / b }')
			echo "| $store: pairs/s with $large stored within 20% of $small stored | ${r:-n/a}% | $(verdict "$r" ge "$r" 80) |"
		done
		if [[ " $STORES " == *" redis "* ]]; then
			echo "| Redis: <= 700 bytes per stored $SIZE-byte secret with its receipt ($large stored) | ${SC[redis,$large,bytes]:-n/a} | $(verdict "${SC[redis,$large,bytes]}" eval '! lt 700 "${SC[redis,$large,bytes]}"') |"
		fi
	fi
	# Library level, from the Go benchmarks (by the names they have today).
	for op in Share Reveal; do
		for mode in autopipeline direct; do
			ops=$(per_s "$(gomed store/redis "Benchmark$op/$mode" ns/op)")
			pct=$(ratio "$ops" "$SET_RPS")
			echo "| Redis store $op, $mode (store/redis Benchmark$op/$mode, 32 goroutines) >= 60% of redis-benchmark SET | ${ops:-n/a}/s = $pct of $(fmt0 "$SET_RPS") | $(verdict "$ops" ge "${pct%\%}" 60) |"
		done
	done
	ser=$(gomed "" BenchmarkPair/serial ns/op) par=$(gomed "" BenchmarkPair/parallel ns/op)
	echo "| memory store pair < 10 us (root BenchmarkPair serial / parallel) | ${ser:-n/a} / ${par:-n/a} ns | $(verdict "$ser" lt "$ser" 10000) |"
	pp=$(per_s "$(gomed store/sqlite BenchmarkPairParallel ns/op)") hc=$(per_s "$(gomed store/sqlite BenchmarkPairParallelHighConcurrency/maxbatch=default ns/op)")
	best=$(printf '%s\n' "$pp" "$hc" | sort -g | tail -1)
	echo "| SQLite >= 10,000 pairs/s in parallel (store/sqlite BenchmarkPairParallel, 2 goroutines / ...HighConcurrency/maxbatch=default, 16) | ${pp:-n/a} / ${hc:-n/a} | $(verdict "$best" ge "$best" 10000) |"
	echo
	echo "Library-level rows read the Go benchmark table above by the benchmarks' current names; \"not measured\" means a name has changed."
	echo
	echo "## Commands"
	echo
	echo "Ports are free loopback ports chosen at run time (PORT); \$TMP is the run's temporary directory."
	echo
	echo '```'
	printf '%s\n' "${COMMANDS[@]}"
	for store in $STORES; do [[ -z ${HTTP[$store,share,cmd]} ]] || echo "${HTTP[$store,share,cmd]}"; done
	echo '```'
	if ((FAILURES > 0)); then
		echo
		echo "**$FAILURES step(s) of this run reported errors; see the script's log.**"
	fi
} >"$WORK/BENCHMARKS.md"

mv "$WORK/BENCHMARKS.md" "$OUT"
log "wrote $OUT"
if ((FAILURES > 0)); then
	die "$FAILURES step(s) reported errors"
fi
