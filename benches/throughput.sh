#!/usr/bin/env bash
# Throughput: Check Availability in a closed loop (scenarios/probe.toml's
# workload) from chatload, wrk and oha, each pinned to core 0, against one
# nginx worker pinned to core 1; same connection count; rounds alternated;
# plain HTTP and TLS. Prints a Markdown table of requests per second and
# the ratios against wrk and oha.
#
#   benches/throughput.sh [seconds per round] [rounds] [connections]
source "$(dirname "$0")/lib.sh"

SECONDS_PER_ROUND=${1:-10}
ROUNDS=${2:-3}
CONNS=${3:-64}
PLAIN=18080
TLS=18443
PATH_Q="/clientweb/api/v2/availability?tenantUrl=bench.example"
AUTH='Authorization: MOBILE-API-140-327-PLAIN appId="bench", clientId="00000000-0000-4000-8000-000000000000"'

ensure_peers
build_chatload
raise_limits
make_cert
start_nginx 1 "$PLAIN" "$TLS"

run_chatload() {
  local base=$1 extra=$2 out="$WORK/cl-$RANDOM"
  # shellcheck disable=SC2086
  taskset -c 0 "$CHATLOAD" run "$ROOT/scenarios/probe.toml" --target "$base" \
    --clients "$CONNS" --duration "${SECONDS_PER_ROUND}s" --workers 1 --http 1.1 \
    --quiet --out "$out" $extra >/dev/null
  summary_rps "$out/summary.json" availability
}

run_wrk() {
  taskset -c 0 wrk -t1 -c"$CONNS" -d"${SECONDS_PER_ROUND}s" -H "$AUTH" \
    -H "User-Agent: MobileClient" -H "Cache-Control: no-cache" "$1$PATH_Q" |
    awk '/Requests\/sec/ {print $2}'
}

run_oha() {
  taskset -c 0 oha --no-tui --output-format json -z "${SECONDS_PER_ROUND}s" -c "$CONNS" --insecure \
    --http-version 1.1 -H "$AUTH" -H "User-Agent: MobileClient" -H "Cache-Control: no-cache" \
    "$1$PATH_Q" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["requestsPerSec"])'
}

echo "| transport | chatload req/s | wrk req/s | oha req/s | chatload / wrk | chatload / oha |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for mode in plain tls; do
  if [ "$mode" = plain ]; then base="http://127.0.0.1:$PLAIN"; extra="";
  else base="https://127.0.0.1:$TLS"; extra="--ca-cert $WORK/cert.pem"; fi
  cl=(); wr=(); oh=()
  for _ in $(seq 1 "$ROUNDS"); do
    cl+=("$(run_chatload "$base" "$extra")")
    wr+=("$(run_wrk "$base")")
    oh+=("$(run_oha "$base")")
  done
  c=$(median "${cl[@]}"); w=$(median "${wr[@]}"); o=$(median "${oh[@]}")
  python3 - "$mode" "$c" "$w" "$o" <<'PY'
import sys
mode, c, w, o = sys.argv[1], *map(float, sys.argv[2:])
print(f"| {mode} | {c:,.0f} | {w:,.0f} | {o:,.0f} | {c / w:.2f}x | {c / o:.2f}x |")
PY
  echo "rounds $mode: chatload ${cl[*]} | wrk ${wr[*]} | oha ${oh[*]}" >&2
done
