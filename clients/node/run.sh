#!/usr/bin/env bash
# Runs the onetimesecret-api npm client (check.js) against the
# server: installs the pinned packages, starts cmd/onetime-server on a free
# port with a temporary database and users file, waits for
# /api/v1/status, runs check.js, and stops the server.
#
#   bash clients/node/run.sh            (from anywhere in the repository)
#
# Needs node, npm and go on PATH. Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cd "$here"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

(cd "$root" && go build -o "$work/server" ./cmd/onetime-server)

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf 'npmcheck:%s\n' "$token" > "$work/users"

ONETIME_SECRET= "$work/server" -addr "127.0.0.1:$port" -store sqlite -db "$work/onetime.db" \
  -users "$work/users" 2> "$work/server.log" &
pid=$!

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if node -e 'require("http").get(process.argv[1], r => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))' "$url/api/v1/status"; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: the server exited:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done

status=0
ONETIME_CUSTID=npmcheck ONETIME_APITOKEN="$token" node "$here/check.js" "$url" || status=$?
if [ "$status" -ne 0 ]; then
  echo "run.sh: check.js failed; server log:" >&2
  cat "$work/server.log" >&2
fi
exit "$status"
