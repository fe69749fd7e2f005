#!/usr/bin/env bash
# Open pages of the built book in headless Chromium inside a network namespace
# with no network at all (only loopback, for a local file server), take a
# screenshot of each, and check from the rendered DOM that MathJax typeset the
# maths. Needs root (unshare --net) and Debian's chromium, installed if missing.
#
#   bash tests/render_offline.sh [page.html ...]     (default: every chapter and the intro)
set -euo pipefail
cd "$(dirname "$0")/.."
site=_build/html
out=_build/screenshots
[ -f "$site/index.html" ] || { echo "no built book under $site: run make book first"; exit 2; }
if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ $# -gt 0 ]; then pages=("$@"); else
  mapfile -t pages < <(cd "$site" && ls book/intro.html chapters/*.html 2>/dev/null)
fi
mkdir -p "$out"
export site out
unshare --net bash -s "${pages[@]}" <<'INNER'
set -euo pipefail
ip link set lo up
python3 -m http.server 8765 --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
sleep 1
flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --disable-quic --hide-scrollbars
       --virtual-time-budget=15000)
status=0
for page in "$@"; do
  name=$(echo "$page" | tr '/' '_' | sed 's/\.html$//')
  profile=$(mktemp -d)
  chromium "${flags[@]}" --user-data-dir="$profile" --window-size=1280,${HEIGHT:-3000} \
    --screenshot="$out/$name.png" "http://127.0.0.1:8765/$page" >/dev/null 2>&1
  chromium "${flags[@]}" --user-data-dir="$profile" --dump-dom \
    "http://127.0.0.1:8765/$page" > "$out/$name.dom.html" 2>/dev/null
  rm -rf "$profile"
  typeset=$( (grep -o '<mjx-container' "$out/$name.dom.html" || true) | wc -l)
  echo "$page: $typeset typeset formulas, screenshot $out/$name.png"
  if grep -q 'class="math' "$out/$name.dom.html" && [ "$typeset" -eq 0 ]; then
    echo "  maths on $page was not typeset"; status=1
  fi
done
exit $status
INNER
