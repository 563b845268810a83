#!/usr/bin/env bash
# Measures `storyline poll` on a generated corpus served by nginx on loopback, against the
# bare pipeline baseline (benches/bare_pipeline.rs) in the same run, and checks the
# rendered feeds with Python's feedparser.
#
# Usage: bench/poll.sh [N_FEEDS=1000] [ITEMS=50]
# Needs: nginx, python3 with feedparser (pip install feedparser), /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
ITEMS=${2:-50}
PORT=${PORT:-18080}
. bench/common.sh
bench_work bench
gen_feeds "$N" "$ITEMS" 42
start_nginx
feeds_config

cargo build --release --quiet --bin storyline --bench bare_pipeline
BIN=${BIN:-target/release/storyline}   # another build to compare: BIN=path bench/poll.sh
BARE=$(ls -t target/release/deps/bare_pipeline-* | grep -v '\.d$' | head -1)
curl -s -o /dev/null "http://127.0.0.1:$PORT/feeds/feed-0000.xml"   # nginx warm-up

secs() { /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2>&1; cat "$WORK/time"; }
echo "corpus: $N feeds x $ITEMS items, $(du -sh "$WORK/feeds" | cut -f1)"
read -r bare_cold bare_cold_kb < <(secs "$BARE" "$WORK/feeds/urls.txt" "$WORK/bare.db")
read -r bare_warm bare_warm_kb < <(secs "$BARE" "$WORK/feeds/urls.txt" "$WORK/bare.db")
read -r cold cold_kb < <(secs "$BIN" --config "$WORK/config.toml" poll)
echo "feeds stored: $(grep -c " new, " "$WORK/out" || true) of $N"
grep -v " new, " "$WORK/out" | head -5 || true
read -r warm warm_kb < <(secs "$BIN" --config "$WORK/config.toml" poll)
echo "feeds answered 304 on re-poll: $(grep -c "not modified" "$WORK/out" || true) of $N"
stored=$("$BIN" --config "$WORK/config.toml" export items | wc -l)
echo "items stored: $stored (expected $((N * ITEMS)))"

printf '%-28s %8s %10s\n' "" "seconds" "peak MiB"
printf '%-28s %8s %10s\n' "bare pipeline, cold" "$bare_cold" "$((bare_cold_kb / 1024))"
printf '%-28s %8s %10s\n' "storyline poll, cold" "$cold" "$((cold_kb / 1024))"
printf '%-28s %8s %10s\n' "bare pipeline, all 304" "$bare_warm" "$((bare_warm_kb / 1024))"
printf '%-28s %8s %10s\n' "storyline poll, all 304" "$warm" "$((warm_kb / 1024))"
python3 -c "print(f'ratio cold: {$cold/$bare_cold:.2f}x   ratio unchanged: {$warm/max($bare_warm,0.001):.2f}x')"

for f in atom rss json; do "$BIN" --config "$WORK/config.toml" render --format $f > "$WORK/merged.$f"; done
python3 - "$WORK" <<'PY'
import json, sys, feedparser
work = sys.argv[1]
for fmt in ("atom", "rss"):
    d = feedparser.parse(f"{work}/merged.{fmt}")
    print(f"feedparser {fmt}: version={d.version} entries={len(d.entries)} bozo={d.bozo} {d.get('bozo_exception', '')}")
# feedparser 6 does not read JSON Feed: check the 1.1 spec's required members instead.
doc = json.load(open(f"{work}/merged.json"))
ok = doc.get("version") == "https://jsonfeed.org/version/1.1" and isinstance(doc.get("title"), str) and all(
    isinstance(i.get("id"), str) and ("content_html" in i or "content_text" in i) for i in doc["items"])
print(f"json feed 1.1: entries={len(doc['items'])} valid={ok}")
PY
