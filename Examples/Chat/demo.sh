#!/usr/bin/env bash
# The total-order chat, three processes on loopback: alice, bob and carol each send five lines at
# the same time; every process prints every line, and the three transcripts must be identical.
#
#   Examples/Chat/demo.sh            (after `swift build`; uses .build/debug/drizzle-chat)
#
# Exit 0 when the transcripts agree, 1 otherwise. Everything happens in a scratch folder that is
# removed at the end; the processes are stopped on any exit.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CHAT="${DRIZZLE_BIN:-$ROOT/.build/debug}/drizzle-chat"
[[ -x $CHAT ]] || { echo "demo: $CHAT is missing: run swift build first" >&2; exit 2; }
WORK="$(mktemp -d /tmp/drizzle-chat.XXXX)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$WORK"
PORT=$((47500 + RANDOM % 400))
NAMES=(alice bob carol)
LINES=5
TOTAL=$((${#NAMES[@]} * LINES))

script() { # name: a pause (so everyone is in), then the lines, then a pause before end of input
    sleep 4
    for i in $(seq 1 "$LINES"); do echo "line $i"; done
    sleep 1
}
for name in "${NAMES[@]}"; do
    if [[ $name == alice ]]; then where=(--bind "127.0.0.1:$PORT"); else where=(--join "127.0.0.1:$PORT"); fi
    script "$name" | "$CHAT" --name "$name" "${where[@]}" --expect "$TOTAL" >"$name.txt" 2>"$name.err" &
    PIDS+=($!)
    sleep 0.5 # alice first: she makes the room's development CA that the others' keys come from
done
for pid in "${PIDS[@]}"; do wait "$pid" || true; done

for name in "${NAMES[@]}"; do echo "== $name saw:"; sed 's/^/   /' "$name.txt"; done
status=0
for name in "${NAMES[@]:1}"; do
    if ! cmp -s alice.txt "$name.txt"; then
        echo "demo: $name's transcript differs from alice's"
        status=1
    fi
done
count=$(wc -l <alice.txt)
if [[ $status -eq 0 && $count -eq $TOTAL ]]; then
    echo "demo: all ${#NAMES[@]} transcripts identical: $count lines in one order"
else
    [[ $count -eq $TOTAL ]] || echo "demo: alice saw $count of $TOTAL lines"
    cat ./*.err >&2
    exit 1
fi
