#!/usr/bin/env bash
# The mock against nginx: Check Availability from wrk (core 0) against
# `chatload serve --plain` and against one nginx worker, each server pinned
# to core 1 in turn; then the mock's rate for whole chats.
#
#   benches/mock.sh [seconds per round] [rounds]
source "$(dirname "$0")/lib.sh"

SECONDS_PER_ROUND=${1:-10}
ROUNDS=${2:-3}
MOCK=18090
NGINX=18080
PATH_Q="/clientweb/api/v2/availability?tenantUrl=bench.example"
AUTH='Authorization: MOBILE-API-140-327-PLAIN appId="bench", clientId="00000000-0000-4000-8000-000000000000"'

ensure_peers
build_chatload
raise_limits
make_cert

wrk_rps() {
  taskset -c 0 wrk -t1 -c64 -d"${SECONDS_PER_ROUND}s" -H "$AUTH" "$1$PATH_Q" |
    awk '/Requests\/sec/ {print $2}'
}

taskset -c 1 "$CHATLOAD" serve --plain --listen "127.0.0.1:$MOCK" >/dev/null &
PIDS+=("$!")
start_nginx 1 "$NGINX" 18443
sleep 1

mock=(); nginx=()
for _ in $(seq 1 "$ROUNDS"); do
  mock+=("$(wrk_rps "http://127.0.0.1:$MOCK")")
  nginx+=("$(wrk_rps "http://127.0.0.1:$NGINX")")
done
m=$(median "${mock[@]}"); n=$(median "${nginx[@]}")
echo "rounds: mock ${mock[*]} | nginx ${nginx[*]}" >&2

# Whole chats: 200 clients chatting back to back with no think time, the
# agent answering at once; the generator on core 0, the mock on core 1.
cat > "$WORK/chats.toml" <<TOML
name = "bench-mock-chats"
[load]
stages = [{ duration = "0s", clients = 200 }, { duration = "${SECONDS_PER_ROUND}s", clients = 200 }]
grace = "5s"
[conversation]
messages = { count = "1", think = "0s", length = "40" }
typing = false
receipts = false
agent_timeout = "30s"
TOML
kill "${PIDS[0]}" 2>/dev/null || true
sleep 0.5
taskset -c 1 "$CHATLOAD" serve --plain --listen "127.0.0.1:$MOCK" --reply-delay 0s \
  --agents 1000 >/dev/null &
PIDS+=("$!")
sleep 1
taskset -c 0 "$CHATLOAD" run "$WORK/chats.toml" --target "http://127.0.0.1:$MOCK" --workers 1 \
  --quiet --out "$WORK/chats" >/dev/null
chats=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(round(d["chats"]["completed"] / d["duration_s"], 1))' "$WORK/chats/summary.json")

echo "| server, one core | Check Availability req/s (wrk, 64 connections) | ratio to nginx |"
echo "| --- | ---: | ---: |"
python3 - "$m" "$n" <<'PY'
import sys
m, n = map(float, sys.argv[1:])
print(f"| chatload serve | {m:,.0f} | {m / n:.2f}x |")
print(f"| nginx (1 worker, static body) | {n:,.0f} | 1.00x |")
PY
echo
echo "whole chats through the mock on one core (200 clients, no think time): $chats chats/s"
