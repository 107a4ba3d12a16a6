#!/usr/bin/env bash
# Builds the peers that the benchmark tool measures beside onetime on the
# same Redis (go run ./internal/cmd/bench -peers yopass=BIN,ots=BIN) from
# git repositories of their sources, for a machine where the Go module
# proxy does not serve them: it answers 403 for github.com/jhaals/yopass,
# github.com/Luzifer/ots and ots's own dependencies github.com/Luzifer/
# go_helpers and github.com/Luzifer/rconfig. Their other dependencies come
# from the Go module proxy as usual.
#
# usage: scripts/build-peers.sh OUTDIR YOPASS_GIT OTS_GIT GO_HELPERS_GIT RCONFIG_GIT
#
# Each *_GIT is a git directory (a clone, bare or not) of that repository.
# yopass and ots are built at their HEAD; go_helpers and rconfig at the
# tags that ots's go.mod requires, so that ots builds as its authors
# build it. OUTDIR gets yopass-server and ots, and a file VERSIONS saying
# which commits they are.
set -euo pipefail

if [ $# -ne 5 ]; then
	sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi
out=$(realpath -m "$1")
yopass_git=$2 ots_git=$3 helpers_git=$4 rconfig_git=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# export GIT_DIR REF DEST [PATH]: the tree of REF (or of PATH in it) into DEST.
export_tree() {
	mkdir -p "$3"
	git -C "$1" archive "$2" ${4:+"$4"} | tar -x -C "$3"
}
rev() { git -C "$1" rev-parse --short "$2"; }

echo "yopass: $(rev "$yopass_git" HEAD)"
export_tree "$yopass_git" HEAD "$work/yopass"
(cd "$work/yopass" && go build -trimpath -o "$out/yopass-server" ./cmd/yopass-server)

echo "ots: $(rev "$ots_git" HEAD)"
export_tree "$ots_git" HEAD "$work/ots"
replaces=()
# ots requires github.com/Luzifer/go_helpers/<pkg> vX and github.com/Luzifer/rconfig/v2 vY.
while read -r mod ver; do
	case $mod in
	github.com/Luzifer/go_helpers/*)
		pkg=${mod#github.com/Luzifer/go_helpers/}
		export_tree "$helpers_git" "$pkg/$ver" "$work/go_helpers-$pkg" "$pkg"
		replaces+=(-replace "$mod=$work/go_helpers-$pkg/$pkg")
		echo "  $mod $ver"
		;;
	github.com/Luzifer/rconfig/v2)
		export_tree "$rconfig_git" "$ver" "$work/rconfig"
		replaces+=(-replace "$mod=$work/rconfig")
		echo "  $mod $ver"
		;;
	esac
done < <(cd "$work/ots" && go mod edit -json | python3 -c '
import json, sys
for r in json.load(sys.stdin)["Require"]:
    print(r["Path"], r["Version"])')
(cd "$work/ots" && go mod edit "${replaces[@]}" && GOFLAGS=-mod=mod go build -trimpath -o "$out/ots" .)

{
	echo "yopass-server github.com/jhaals/yopass $(rev "$yopass_git" HEAD)"
	echo "ots github.com/Luzifer/ots $(rev "$ots_git" HEAD)"
} >"$out/VERSIONS"
echo "built $out/yopass-server and $out/ots:"
echo "  go run ./internal/cmd/bench -peers yopass=$out/yopass-server,ots=$out/ots"
