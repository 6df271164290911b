#!/usr/bin/env bash
# Throughput: Check Availability in a closed loop (scenarios/probe.toml's
# workload) from chatload, wrk and oha, each pinned to core 0, against one
# nginx worker pinned to core 1; same connection count; rounds alternated;
# plain HTTP and TLS. Prints a Markdown table of requests per second and
# the ratios against wrk and oha. Each tool's CPU share of its core is
# measured too: when the one nginx worker is the limit, every generator
# reaches about the same rate, and the requests each sends per CPU-second
# tell how far from its own limit it was.
#
#   benches/throughput.sh [seconds per round] [rounds] [connections]
source "$(dirname "$0")/lib.sh"

SECONDS_PER_ROUND=${1:-10}
ROUNDS=${2:-3}
CONNS=${3:-64}
PLAIN=18080
TLS=18443
# wrk and oha send the request chatload sends: its tenant, app id, and
# headers (an Accept header alone costs nginx 2-3 % more per request).
PATH_Q="/clientweb/api/v2/availability?tenantUrl=chatload.example"
AUTH='Authorization: MOBILE-API-140-327-PLAIN appId="chatload", clientId="00000000-0000-4000-8000-000000000000"'

ensure_peers
build_chatload
raise_limits
make_cert
start_nginx 1 "$PLAIN" "$TLS"

# CPU seconds (user + system) of the command that last wrote $WORK/time.
cpu_seconds() {
  awk '{print $2 + $3}' "$WORK/time"
}

# Each run prints "requests/s requests-per-CPU-second CPU-share", the last
# two over the tool's whole process, start-up included.
run_chatload() {
  local base=$1 extra=$2 out="$WORK/cl-$RANDOM"
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" \
    taskset -c 0 "$CHATLOAD" run "$ROOT/scenarios/probe.toml" --target "$base" \
    --clients "$CONNS" --duration "${SECONDS_PER_ROUND}s" --workers 1 --http 1.1 \
    --quiet --out "$out" $extra >/dev/null 2>&1
  local count
  count=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["endpoints"]["availability"]["count"])' "$out/summary.json")
  efficiency "$(summary_rps "$out/summary.json" availability)" "$count"
}

# Prints "$1 requests/CPU-second CPU-share" for $2 requests sent.
efficiency() {
  awk -v rps="$1" -v n="$2" \
    '{cpu = $2 + $3; printf "%s %.0f %.1f\n", rps, n / cpu, cpu / $1 * 100}' "$WORK/time"
}

run_wrk() {
  local report
  report=$(/usr/bin/time -f "%e %U %S" -o "$WORK/time" \
    taskset -c 0 wrk -t1 -c"$CONNS" -d"${SECONDS_PER_ROUND}s" -H "$AUTH" \
    -H "User-Agent: MobileClient" -H "Accept: application/json" -H "Cache-Control: no-cache" \
    "$1$PATH_Q")
  efficiency "$(awk '/Requests\/sec/ {print $2}' <<<"$report")" \
    "$(awk '/requests in/ {print $1}' <<<"$report")"
}

run_oha() {
  local rps
  rps=$(/usr/bin/time -f "%e %U %S" -o "$WORK/time" \
    taskset -c 0 oha --no-tui --output-format json -z "${SECONDS_PER_ROUND}s" -c "$CONNS" \
    --insecure --http-version 1.1 -H "$AUTH" -H "User-Agent: MobileClient" \
    -H "Accept: application/json" -H "Cache-Control: no-cache" "$1$PATH_Q" |
    python3 -c 'import json, sys
s = json.load(sys.stdin)["summary"]
print(s["requestsPerSec"], s["requestsPerSec"] * s["total"])')
  # shellcheck disable=SC2086
  efficiency $rps
}

echo "| transport | chatload req/s | wrk req/s | oha req/s | chatload / wrk | chatload / oha |" \
  "chatload CPU | wrk CPU | oha CPU | req per CPU-s, chatload / wrk | chatload / oha |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for mode in plain tls; do
  if [ "$mode" = plain ]; then base="http://127.0.0.1:$PLAIN"; extra="";
  else base="https://127.0.0.1:$TLS"; extra="--ca-cert $WORK/cert.pem"; fi
  cl=(); wr=(); oh=(); cle=(); wre=(); ohe=(); clc=(); wrc=(); ohc=()
  for _ in $(seq 1 "$ROUNDS"); do
    read -r r e c < <(run_chatload "$base" "$extra"); cl+=("$r"); cle+=("$e"); clc+=("$c")
    read -r r e c < <(run_wrk "$base"); wr+=("$r"); wre+=("$e"); wrc+=("$c")
    read -r r e c < <(run_oha "$base"); oh+=("$r"); ohe+=("$e"); ohc+=("$c")
  done
  python3 - "$mode" "$(median "${cl[@]}")" "$(median "${wr[@]}")" "$(median "${oh[@]}")" \
    "$(median "${clc[@]}")" "$(median "${wrc[@]}")" "$(median "${ohc[@]}")" \
    "$(median "${cle[@]}")" "$(median "${wre[@]}")" "$(median "${ohe[@]}")" <<'PY'
import sys
mode, c, w, o, cc, wc, oc, ce, we, oe = sys.argv[1], *map(float, sys.argv[2:])
print(f"| {mode} | {c:,.0f} | {w:,.0f} | {o:,.0f} | {c / w:.2f}x | {c / o:.2f}x | "
      f"{cc:.0f} % | {wc:.0f} % | {oc:.0f} % | {ce / we:.2f}x | {ce / oe:.2f}x |")
PY
  echo "rounds $mode: chatload ${cl[*]} (${cle[*]} req/CPU-s) | wrk ${wr[*]} (${wre[*]})" \
    "| oha ${oh[*]} (${ohe[*]})" >&2
done
