#!/usr/bin/env bash
# Every figure of README's Performance section, from a fresh clone, in one run:
#   1. the cold and the unchanged poll against the bare pipeline (bench/poll.sh);
#   2. the daemon serving: memory growth under distinct GETs, /feed.atom against nginx
#      (bench/serve.sh);
#   3. costs against the store's size, to MAX_ITEMS (bench/scale.sh).
#
# Usage: bench/perf.sh [MAX_ITEMS=1000000]   (about 30 minutes; 1M items take ~2.5 GB of disk)
# Needs: nginx, wrk, curl, python3 with feedparser, /usr/bin/time. Run as root on a
# Debian-like machine, it installs those that are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in nginx wrk curl python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y "${missing[@]}" >/dev/null
    else
        echo "missing: ${missing[*]} (install them, e.g. apt-get install ${missing[*]})" >&2
        exit 1
    fi
fi
python3 -c 'import feedparser' 2>/dev/null || pip install --quiet feedparser

echo "== 1. cold and unchanged poll, against the bare pipeline (bench/poll.sh)"
bench/poll.sh
echo
echo "== 2. the daemon serving (bench/serve.sh)"
bench/serve.sh
echo
echo "== 3. against the store's size (bench/scale.sh)"
bench/scale.sh "${1:-1000000}"
