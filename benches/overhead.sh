#!/usr/bin/env bash
# Overhead: the lag between a request's intended and actual send (send_lag)
# when the generator runs a fixed rate at about 50 % and 80 % of what its
# one core can do. chatload on core 0, nginx (one worker) on core 1. The
# core's capacity is measured first, in the same run, with the closed-loop
# probe.
#
#   benches/overhead.sh [seconds per run]
source "$(dirname "$0")/lib.sh"

SECONDS_PER_RUN=${1:-15}
PLAIN=18080

ensure_peers
build_chatload
raise_limits
make_cert
start_nginx 1 "$PLAIN" 18443

base="http://127.0.0.1:$PLAIN"
# The probe at a fixed rate over the same 64 connections as the closed loop.
cat > "$WORK/open.toml" <<TOML
name = "bench-overhead"
[target]
connections = { mode = "shared", max = 64 }
[load]
model = "open"
stages = [{ duration = "0s", rate = 1 }, { duration = "1s", rate = 1 }]
max_clients = 4096
grace = "2s"
[conversation]
probe = "availability"
TOML
taskset -c 0 "$CHATLOAD" run "$ROOT/scenarios/probe.toml" --target "$base" --clients 64 \
  --duration "${SECONDS_PER_RUN}s" --workers 1 --http 1.1 --quiet --out "$WORK/max" >/dev/null
max=$(summary_rps "$WORK/max/summary.json" availability)

# CPU seconds (user + system) of a process, from /proc.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

echo "| load | rate (req/s) | generator CPU | send_lag p50 | send_lag p99 | send_lag max |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for share in 50 80; do
  rate=$(python3 -c "print(round($max * $share / 100))")
  out="$WORK/open-$share"
  taskset -c 0 "$CHATLOAD" run "$WORK/open.toml" --target "$base" --rate "$rate" \
    --duration "${SECONDS_PER_RUN}s" --workers 1 --http 1.1 --quiet --out "$out" >/dev/null &
  pid=$!
  sleep 2
  c0=$(cpu_seconds "$pid"); t0=$(date +%s.%N)
  sleep $((SECONDS_PER_RUN - 4))
  c1=$(cpu_seconds "$pid"); t1=$(date +%s.%N)
  wait "$pid"
  python3 - "$share" "$rate" "$c0" "$c1" "$t0" "$t1" "$out/summary.json" <<'PY'
import json, sys
share, rate = sys.argv[1], int(sys.argv[2])
c0, c1, t0, t1 = map(float, sys.argv[3:7])
lag = json.load(open(sys.argv[7]))["measures"]["send_lag"]["time_ms"]
cpu = (c1 - c0) / (t1 - t0) * 100
print(f"| {share} % of max | {rate:,} | {cpu:.0f} % | {lag['p50']:.3f} ms | "
      f"{lag['p99']:.3f} ms | {lag['max']:.3f} ms |")
PY
done
echo
echo "closed-loop maximum on one core, same run: $(python3 -c "print(f'{$max:,.0f}')") req/s"
