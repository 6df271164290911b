#!/usr/bin/env bash
# Scale: the most concurrent chats one machine holds, generator and mock on
# the same 2 cores, each chat with its long poll outstanding and a customer
# message every 10-20 s (answered by the mock's agent), over HTTP/2 with TLS.
# Prints what the run held and what it cost (memory, CPU, errors).
#
#   benches/scale.sh [chats] [hold seconds]
source "$(dirname "$0")/lib.sh"

N=${1:-100000}
HOLD=${2:-30}
MOCK=18092
RAMP=$((N / 2000 > 5 ? N / 2000 : 5))

build_chatload
raise_limits
ulimit -n 1048576 2>/dev/null || true

"$CHATLOAD" serve --listen "127.0.0.1:$MOCK" --cert-out "$WORK/mock.pem" \
  --agents $((N / 2)) --chats-per-agent 4 --poll-hold 30s --idle-end 600s \
  --max-chats 1000000 --reply-delay 500ms..2s >/dev/null &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
sleep 1

cat > "$WORK/scale.toml" <<TOML
name = "bench-scale"
[target]
url = "https://127.0.0.1:$MOCK"
http = "2"
request_timeout = "60s"
[load]
stages = [{ duration = "${RAMP}s", clients = $N }, { duration = "${HOLD}s", clients = $N }]
grace = "5s"
[conversation]
messages = { count = "1000", think = "10s..20s", length = "60" }
typing = false
receipts = false
wait_for_reply = false
agent_timeout = "120s"
TOML

cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }

"$CHATLOAD" run "$WORK/scale.toml" --ca-cert "$WORK/mock.pem" --quiet --out "$WORK/scale" \
  >/dev/null 2>"$WORK/scale.err" &
GEN=$!
sleep $((RAMP + 2))
g0=$(cpu "$GEN"); m0=$(cpu "$MOCK_PID"); t0=$(date +%s.%N)
sleep $((HOLD - 6))
g1=$(cpu "$GEN"); m1=$(cpu "$MOCK_PID"); t1=$(date +%s.%N)
grss=$(awk '/VmRSS/ {print $2}' "/proc/$GEN/status")
mrss=$(awk '/VmRSS/ {print $2}' "/proc/$MOCK_PID/status")
stats=$(curl -sk "https://127.0.0.1:$MOCK/mock/stats" || true)
wait "$GEN" || true

python3 - "$N" "$g0" "$g1" "$m0" "$m1" "$t0" "$t1" "$grss" "$mrss" "$WORK/scale/summary.json" \
  "$stats" <<'PY'
import json, sys
n = int(sys.argv[1])
g0, g1, m0, m1, t0, t1 = map(float, sys.argv[2:8])
grss, mrss = int(sys.argv[8]), int(sys.argv[9])
s = json.load(open(sys.argv[10]))
span = t1 - t0
print(f"chats wanted: {n:,}; held at peak: {s['chats']['peak_active']:,}")
print(f"chats started {s['chats']['started']:,}, failed {s['chats']['failed']:,}, "
      f"errors {s['errors']}")
print(f"requests: {s['requests']['count']:,} at {s['requests']['rps']:,.0f}/s")
print(f"generator: {(g1 - g0) / span * 100:.0f} % CPU, RSS {grss / 1024:.0f} MiB "
      f"({grss / max(1, s['chats']['peak_active']):.1f} KiB per chat)")
print(f"mock: {(m1 - m0) / span * 100:.0f} % CPU, RSS {mrss / 1024:.0f} MiB")
for name in ("poll_events", "send_events", "request_chat"):
    e = s["endpoints"].get(name)
    if e:
        r = e["response_time_ms"]
        print(f"{name}: p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, errors {e['errors']}")
print("mock stats:", sys.argv[11][:300])
PY
