#!/usr/bin/env bash
# Overhead: the lag between a request's intended and actual send (send_lag)
# when the generator's one core is about 50 % and 80 % busy with an
# open-model probe at a fixed rate. chatload on core 0, nginx (one worker)
# on core 1, 64 connections. send_lag is reported with its two parts:
# sched_lag, the generator's own lateness, and pool_wait, the time an
# arrival waited for one of the 64 connections while nginx held them all.
#
# The rates are found in the same run: starting from a modest rate, each
# try scales the rate by how far its measured CPU share fell from the
# target (cost per request is not quite linear in the rate), and the last
# try is reported, with the CPU share it really reached.
#
# PROTO=h2 runs the same over HTTP/2 with TLS: the 64 connections then
# carry many requests each, so a held one no longer keeps arrivals waiting.
#
#   benches/overhead.sh [seconds per run]
#   PROTO=h2 benches/overhead.sh [seconds per run]
source "$(dirname "$0")/lib.sh"

SECONDS_PER_RUN=${1:-15}
PLAIN=18080
CALIBRATE_RATE=20000

ensure_peers
build_chatload
raise_limits
make_cert
start_nginx 1 "$PLAIN" 18443

if [ "${PROTO:-h1}" = h2 ]; then
  base="https://127.0.0.1:18443" http=2 extra=(--ca-cert "$WORK/cert.pem")
else
  base="http://127.0.0.1:$PLAIN" http=1.1 extra=()
fi
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

# CPU seconds (user + system) of a process, from /proc.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

# Runs the probe at $1 requests/s into $2; prints the generator's CPU share
# (percent of one core) over the steady middle of the run.
run_at() {
  local rate=$1 out=$2
  taskset -c 0 "$CHATLOAD" run "$WORK/open.toml" --target "$base" --rate "$rate" \
    --duration "${SECONDS_PER_RUN}s" --workers 1 --http "$http" "${extra[@]}" --quiet \
    --out "$out" >/dev/null 2>"$out.log" &
  local pid=$!
  sleep 2
  local c0 t0 c1 t1
  c0=$(cpu_seconds "$pid"); t0=$(date +%s.%N)
  sleep $((SECONDS_PER_RUN - 4))
  c1=$(cpu_seconds "$pid"); t1=$(date +%s.%N)
  wait "$pid"
  python3 -c "print(($c1 - $c0) / ($t1 - $t0) * 100)"
}

# Up to TRIES runs per target; the calibration stops once a run lands
# within CLOSE points of it, and the run closest to the target is reported.
TRIES=${TRIES:-5}
CLOSE=${CLOSE:-3}

echo "| target load | rate (req/s) | generator CPU | send_lag p50 | send_lag p99 | send_lag max |\
 sched_lag p50 | sched_lag p99 | pool_wait p99 |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for share in 50 80; do
  rate=$CALIBRATE_RATE
  best_gap=1000
  for try in $(seq "$TRIES"); do
    out="$WORK/open-$share-$try"
    used=$(run_at "$rate" "$out")
    echo "target $share %: $rate req/s used $(printf '%.0f' "$used") %" >&2
    gap=$(python3 -c "print(abs($used - $share))")
    if python3 -c "import sys; sys.exit(0 if $gap < $best_gap else 1)"; then
      best_gap=$gap best_rate=$rate best_used=$used best_out=$out
    fi
    python3 -c "import sys; sys.exit(0 if $gap <= $CLOSE else 1)" && break
    rate=$(python3 -c "print(round($rate * $share / $used))")
  done
  rate=$best_rate used=$best_used out=$best_out
  python3 - "$share" "$rate" "$used" "$out/summary.json" <<'PY'
import json, sys
share, rate, used = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
measures = json.load(open(sys.argv[4]))["measures"]
lag, pool = measures["send_lag"]["time_ms"], measures["pool_wait"]["time_ms"]
sched = measures["sched_lag"]["time_ms"]
print(f"| {share} % | {rate:,} | {used:.0f} % | {lag['p50']:.3f} ms | "
      f"{lag['p99']:.3f} ms | {lag['max']:.3f} ms | {sched['p50']:.3f} ms | "
      f"{sched['p99']:.3f} ms | {pool['p99']:.3f} ms |")
PY
done
