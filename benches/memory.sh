#!/usr/bin/env bash
# Memory per virtual client: the generator's resident memory with 1 000,
# 10 000 and 50 000 active chats against the mock (started separately, on
# core 1), each chat with its long poll outstanding; over a shared HTTP/2
# pool and over per-client HTTP/1.1 TLS connections. Reports the slope per
# client between the smallest and the largest count.
#
#   benches/memory.sh [counts...]     (default: 1000 10000 50000)
#   MODES=h2 benches/memory.sh ...    (only the shared HTTP/2 pool)
source "$(dirname "$0")/lib.sh"

COUNTS=("${@:-1000 10000 50000}")
# shellcheck disable=SC2206
COUNTS=(${COUNTS[*]})
MOCK=18091

build_chatload
raise_limits
ulimit -n 1048576 2>/dev/null || true

taskset -c 1 "$CHATLOAD" serve --listen "127.0.0.1:$MOCK" --cert-out "$WORK/mock.pem" \
  --agents 100000 --chats-per-agent 4 --poll-hold 30s --idle-end 600s --max-chats 1000000 \
  >/dev/null &
PIDS+=("$!")
sleep 1

# One measurement: ramp to N chats, hold, read VmRSS near the end of the hold.
measure() {
  local mode=$1 n=$2 ramp hold conns http
  ramp=$(python3 -c "print(max(5, $n // 2500))")
  hold=20
  if [ "$mode" = h2 ]; then conns='{ mode = "shared" }'; http="2"
  else conns='{ mode = "per_client" }'; http="1.1"; fi
  cat > "$WORK/mem-$mode-$n.toml" <<TOML
name = "bench-memory"
[target]
url = "https://127.0.0.1:$MOCK"
http = "$http"
connections = $conns
request_timeout = "60s"
source_addrs = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
[load]
stages = [{ duration = "${ramp}s", clients = $n }, { duration = "${hold}s", clients = $n }]
grace = "1s"
[conversation]
messages = { count = "1000", think = "20s..40s", length = "40" }
typing = false
receipts = false
wait_for_reply = false
agent_timeout = "120s"
TOML
  taskset -c 0 "$CHATLOAD" run "$WORK/mem-$mode-$n.toml" --ca-cert "$WORK/mock.pem" --quiet \
    --out "$WORK/mem-$mode-$n" >/dev/null 2>"$WORK/mem-$mode-$n.err" &
  local pid=$!
  sleep $((ramp + hold - 4))
  local rss
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  wait "$pid" || true
  local peak
  peak=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["chats"]["peak_active"])' \
    "$WORK/mem-$mode-$n/summary.json" 2>/dev/null || echo "?")
  echo "$mode $n $rss $peak"
}

echo "| pool | chats wanted | active chats (peak) | generator RSS (MiB) |"
echo "| --- | ---: | ---: | ---: |"
# shellcheck disable=SC2206
MODE_LIST=(${MODES:-h2 h1})
for mode in "${MODE_LIST[@]}"; do
  first=""; last=""
  for n in "${COUNTS[@]}"; do
    read -r _ _ rss peak < <(measure "$mode" "$n")
    printf '| %s | %s | %s | %.1f |\n' "$mode" "$n" "$peak" "$(python3 -c "print($rss / 1024)")"
    # The slope is over the chats held, not wanted: a run the descriptor
    # limit cuts short holds fewer, and its row is left out.
    if [ "$peak" = "$n" ]; then
      [ -z "$first" ] && first="$n $rss"
      last="$n $rss"
    fi
  done
  [ -n "$first" ] || continue
  # shellcheck disable=SC2086
  python3 - "$mode" $first $last <<'PY' >&2
import sys
mode, n0, r0, n1, r1 = sys.argv[1], *map(int, sys.argv[2:])
if n1 > n0:
    print(f"slope {mode}: {(r1 - r0) / (n1 - n0):.2f} KiB per client ({n0} -> {n1})")
PY
done
