#!/usr/bin/env bash
# Opens a report.html in headless Chromium, takes a screenshot and checks
# that the page rendered: the PNG exists and holds many distinct colours
# (a blank or error page holds a handful).
#
# Usage: benches/check_report.sh REPORT_OR_RESULTS_DIR [SCREENSHOT.png]
#
# It installs nothing. It needs /usr/bin/chromium (on Debian: apt-get
# install chromium) and python3; without Chromium it says so and exits 0,
# so that machines without a browser can still run the rest of a bench.
# The integration test tests/html.rs takes the same screenshot when
# Chromium is there.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
# A rendered report has charts in several colours, antialiased text and
# tables; far fewer colours than this means an empty or broken page.
MIN_COLOURS=${MIN_COLOURS:-64}

target=${1:?usage: $0 REPORT_OR_RESULTS_DIR [SCREENSHOT.png]}
if [[ -d $target ]]; then
  target=$target/report.html
fi
if [[ ! -f $target ]]; then
  echo "check_report: $target not found; pass a report.html or a results directory" >&2
  exit 2
fi
report=$(realpath "$target")
png=${2:-${report%.html}.png}

if [[ ! -x $CHROMIUM ]]; then
  echo "check_report: $CHROMIUM not found; browser check skipped" >&2
  exit 0
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$profile" --screenshot="$png" \
  --window-size=1280,2400 "file://$report" >/dev/null 2>&1

if [[ ! -s $png ]]; then
  echo "check_report: chromium wrote no screenshot at $png" >&2
  exit 1
fi

# Counts the distinct colours of an 8-bit RGB or RGBA PNG with zlib
# alone, since PIL may be absent.
python3 - "$png" "$MIN_COLOURS" <<'PY'
import struct, sys, zlib

path, minimum = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"check_report: {path} is not a PNG")

pos, idat, header = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length

width, height, depth, colour_type = header[:4]
channels = {2: 3, 6: 4}.get(colour_type)
if depth != 8 or channels is None:
    sys.exit(f"check_report: unexpected PNG format (depth {depth}, type {colour_type})")

raw = zlib.decompress(idat)
stride = width * channels
previous = bytearray(stride)
colours = set()
for row in range(height):
    start = row * (stride + 1)
    kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
    for i in range(stride):
        left = line[i - channels] if i >= channels else 0
        up = previous[i]
        corner = previous[i - channels] if i >= channels else 0
        if kind == 1:
            line[i] = (line[i] + left) & 255
        elif kind == 2:
            line[i] = (line[i] + up) & 255
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 255
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + best) & 255
    if row % 4 == 0:
        for i in range(0, stride, channels * 2):
            colours.add(bytes(line[i:i + 3]))
    previous = line

print(f"check_report: {path}: {width}x{height}, {len(colours)} colours sampled")
if len(colours) < minimum:
    sys.exit(f"check_report: fewer than {minimum} colours: the page looks blank")
PY
