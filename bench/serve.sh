#!/usr/bin/env bash
# What the daemon costs while it serves, on the benchmark corpus (1,000 generated feeds x
# 50 items, polled cold from nginx on loopback):
#   - its memory before and after 3,000 distinct GETs (/feed.{atom,rss,json}?limit=1..1000,
#     gzip, 8 clients; each is rendered on demand), and how long they took;
#   - /feed.atom (1,000 entries, gzip) under wrk (32 connections, 10 s): requests per
#     second and p99, against nginx serving the same bytes from a file in the same run.
#
# Usage: bench/serve.sh
# Needs: nginx, wrk, curl, python3, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18080}
HTTP=${HTTP:-18081}
. bench/common.sh
bench_work serve

[ -n "${BIN:-}" ] || cargo build --release --quiet --bin storyline   # BIN=path measures another build
BIN=${BIN:-target/release/storyline}
gen_feeds 1000 50 42
mkdir "$WORK/same"
# The daemon's gzipped /feed.atom, as a file: what serving those bytes costs at best.
NGINX_WORKERS=auto start_nginx "location = /same/feed.atom { alias $WORK/same/feed.atom.gz;
    default_type application/atom+xml; add_header Content-Encoding gzip; }"
feeds_config "" "[server]\nlisten = \"127.0.0.1:$HTTP\"\nitems = 1000\n"
"$BIN" --config "$WORK/config.toml" poll > "$WORK/poll.log" 2>&1

rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$DAEMON/status"; }
"$BIN" --config "$WORK/config.toml" run > "$WORK/daemon.log" 2>&1 & DAEMON=$!
until curl -sf -o /dev/null "http://127.0.0.1:$HTTP/healthz"; do sleep 0.2; done
sleep 1
before=$(rss)
started=$(date +%s.%N)
python3 bench/load.py "http://127.0.0.1:$HTTP"
took=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
after=$(rss)
echo "daemon memory over 3,000 distinct GETs: $before MiB -> $after MiB (+$((after - before)) MiB) in $took s"

curl -s -H 'Accept-Encoding: gzip' -o "$WORK/same/feed.atom.gz" "http://127.0.0.1:$HTTP/feed.atom"
entries=$(gzip -dc "$WORK/same/feed.atom.gz" | grep -c '<entry>' || true)
echo "/feed.atom: $entries entries, $(wc -c < "$WORK/same/feed.atom.gz") bytes gzipped"
load() { wrk -t2 -c32 -d10s --latency -H 'Accept-Encoding: gzip' "$1" | awk '/Requests\/sec/ {r=$2} / 99%/ {p=$2} END {print r, p}'; }
read -r ours ours_p99 < <(load "http://127.0.0.1:$HTTP/feed.atom")
read -r theirs theirs_p99 < <(load "http://127.0.0.1:$PORT/same/feed.atom")
printf '%-34s %10s %8s\n' "" "req/s" "p99"
printf '%-34s %10s %8s\n' "storyline /feed.atom" "$ours" "$ours_p99"
printf '%-34s %10s %8s\n' "nginx, the same bytes from a file" "$theirs" "$theirs_p99"
python3 -c "print(f'ratio: {$ours / $theirs:.2f}x nginx')"
