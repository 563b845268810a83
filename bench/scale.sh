#!/usr/bin/env bash
# How storyline's costs grow with the store: polls generated corpora (1,000 feeds, a new
# seed and tag per batch so that no two batches share an item, served by nginx on
# loopback) into one database, and once the store holds each size listed in CHECK
# measures, at that size:
#   the batch's poll (seconds, peak MiB), the idle daemon's memory, and the time of a
#   first (uncached) GET /, /feed.atom, /feeds, /api/feeds, the largest series' page and
#   `storyline feeds`.
# The batches give each feed 10, 40, then 50 items: 10k, 50k, 100k, ... 1M items, so the
# polls measured at 100k and 1M both store 50k new items.
#
# Usage: bench/scale.sh [MAX_ITEMS=1000000] [CHECK="10000 100000 1000000"]   (1M: ~2 GB)
# Needs: nginx, curl, python3, /usr/bin/time. Prints one table row per checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_ITEMS=${1:-1000000}
CHECK=${2:-"10000 100000 1000000"}
PORT=${PORT:-18080}
HTTP=${HTTP:-18081}
. bench/common.sh
bench_work scale

[ -n "${BIN:-}" ] || cargo build --release --quiet --bin storyline   # BIN=path measures another build
BIN=${BIN:-target/release/storyline}

timed() { /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2>&1; cat "$WORK/time"; }
get() { curl -s -o /dev/null -w "%{time_total}" "http://127.0.0.1:$HTTP$1"; }

printf '%9s %8s %9s %8s %8s %10s %8s %10s %9s %9s %10s\n' items poll_s poll_MiB idle_MiB "GET /" feed.atom /feeds /api/feeds series feeds_cli db_MB
total=0 batch=0
while [ "$total" -lt "$MAX_ITEMS" ]; do
    batch=$((batch + 1))
    case $batch in 1) per=10 ;; 2) per=40 ;; *) per=50 ;; esac
    total=$((total + 1000 * per))
    gen_feeds 1000 "$per" "$((41 + batch))" "-b$batch"
    if [ "$batch" = 1 ]; then
        feeds_config 'retention = "forever"\n' "[server]\nlisten = \"127.0.0.1:$HTTP\"\n"
        start_nginx
    fi
    read -r poll poll_kb < <(timed "$BIN" --config "$WORK/config.toml" poll)
    case " $CHECK " in *" $total "*) ;; *) continue ;; esac
    items=$("$BIN" --config "$WORK/config.toml" export items | wc -l)
    # The daemon sees every feed polled just now, so it only serves while it is measured.
    "$BIN" --config "$WORK/config.toml" run > "$WORK/daemon.log" 2>&1 & DAEMON=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$HTTP/healthz"; do sleep 0.2; done
    front=$(get /)
    atom=$(get /feed.atom)
    feeds=$(get /feeds)
    api_feeds=$(get /api/feeds)
    series=$(curl -s "http://127.0.0.1:$HTTP/api/series?limit=1000" |
        python3 -c 'import json,sys; print(max(json.load(sys.stdin), key=lambda s: s["items"])["id"])')
    page=$(get "/series/$series")
    sleep 2
    idle_kb=$(awk '/VmRSS/ {print $2}' "/proc/$DAEMON/status")
    kill "$DAEMON"; wait "$DAEMON" 2>/dev/null || true; DAEMON=
    read -r cli _ < <(timed "$BIN" --config "$WORK/config.toml" feeds)
    db=$(du -m "$WORK/storyline.db" | cut -f1)
    printf '%9s %8s %9s %8s %8s %10s %8s %10s %9s %9s %10s\n' "$items" "$poll" "$((poll_kb / 1024))" "$((idle_kb / 1024))" \
        "$front" "$atom" "$feeds" "$api_feeds" "$page" "$cli" "$db"
done
