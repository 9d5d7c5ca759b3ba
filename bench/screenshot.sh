#!/bin/sh
# Renders DIR/report.html in headless Chromium and writes DIR/report.png (the whole page), to
# check that the report's charts draw. Needs `apt-get install -y chromium`.
# Usage: bench/screenshot.sh DIR [WIDTH]
set -eu
dir=${1:?usage: bench/screenshot.sh DIR [WIDTH]}
width=${2:-1100}
[ -f "$dir/report.html" ] || { echo "no $dir/report.html" >&2; exit 2; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "no chromium: apt-get install -y chromium" >&2; exit 2; }
abs=$(cd "$dir" && pwd)
# A tall window so the whole page fits in one image.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size="$width,${HEIGHT:-6000}" --screenshot="$abs/report.png" \
  "file://$abs/report.html" >/dev/null 2>&1
[ -s "$abs/report.png" ] && echo "$abs/report.png"
