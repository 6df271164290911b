# Shared helpers for the side-by-side benchmarks. Sourced, not run.
# Everything listens on loopback only; every load is bounded in time.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
# A private target directory (CARGO_TARGET_DIR) is honoured, so a worktree
# can measure its own build without touching the main checkout's.
CHATLOAD="${CARGO_TARGET_DIR:-$ROOT/target}/release/chatload"
WORK=$(mktemp -d /tmp/chatload-bench.XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# The tools the benchmarks compare against, installed by name.
ensure_peers() {
  if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light
  fi
  if ! command -v oha >/dev/null; then
    cargo install oha --locked
  fi
}

build_chatload() {
  (cd "$ROOT" && cargo build --release --quiet)
}

# A self-signed certificate for 127.0.0.1, for nginx.
make_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
}

# nginx with one worker on core $1, answering the availability path with a
# static JSON body, plain on $2 and TLS on $3.
start_nginx() {
  local core=$1 plain=$2 tls=$3
  mkdir -p "$WORK/nginx"
  cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity $(affinity_mask "$core");
worker_rlimit_nofile 1048576;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 65536; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$plain;
    listen 127.0.0.1:$tls ssl;
    http2 on;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    location /clientweb/api/v2/availability {
      default_type application/json;
      return 200 '{"chat":"available","ewt":"0"}';
    }
  }
}
CONF
  # nginx 1.22 has no "http2 on"; fall back to the listen parameter.
  if ! nginx -t -c "$WORK/nginx/nginx.conf" >/dev/null 2>&1; then
    sed -i "s/    http2 on;//; s/listen 127.0.0.1:$tls ssl;/listen 127.0.0.1:$tls ssl http2;/" \
      "$WORK/nginx/nginx.conf"
  fi
  nginx -c "$WORK/nginx/nginx.conf"
  sleep 0.5
  PIDS+=("$(cat "$WORK/nginx/nginx.pid")")
}

stop_nginx() {
  [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
  sleep 0.5
}

# nginx wants the mask as a bit string, lowest core rightmost.
affinity_mask() {
  local core=$1 mask="1"
  for _ in $(seq 1 "$core"); do mask="${mask}0"; done
  echo "$mask"
}

# Requests per second from a chatload summary.json, for one endpoint.
summary_rps() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["endpoints"][sys.argv[2]]["rps"])' "$1" "$2"
}

median() {
  python3 -c 'import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"
}

machine_line() {
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB"
}

raise_limits() {
  ulimit -Hn 1048576 2>/dev/null || true
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}
