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
WORK=$(mktemp -d /tmp/storyline-serve.XXXX)
chmod 755 "$WORK"
cleanup() {
    kill "$(cat "$WORK/nginx.pid" 2>/dev/null)" 2>/dev/null || true
    [ -n "${DAEMON:-}" ] && kill "$DAEMON" 2>/dev/null || true
}
trap cleanup EXIT

[ -n "${BIN:-}" ] || cargo build --release --quiet --bin storyline   # BIN=path measures another build
BIN=${BIN:-target/release/storyline}
python3 bench/gen_corpus.py "$WORK/feeds" 1000 50 42 >/dev/null
sed -i "s/127.0.0.1:8080/127.0.0.1:$PORT/" "$WORK/feeds/urls.txt"
mkdir "$WORK/same"
cat > "$WORK/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  types { application/rss+xml xml; }
  server {
    listen 127.0.0.1:$PORT;
    location /feeds/ { alias $WORK/feeds/; etag on; }
    # The daemon's gzipped /feed.atom, as a file: what serving those bytes costs at best.
    location = /same/feed.atom { alias $WORK/same/feed.atom.gz; default_type application/atom+xml;
                                 add_header Content-Encoding gzip; }
  }
}
NGINX
nginx -c "$WORK/nginx.conf"
{
    printf '[storage]\ndatabase = "storyline.db"\n[fetch]\nmax_concurrent = 32\nper_host = 32\n'
    printf '[server]\nlisten = "127.0.0.1:%s"\nitems = 1000\n' "$HTTP"
    i=0
    while read -r url; do printf '[[feed]]\nname = "f%04d"\nurl = "%s"\n' "$i" "$url"; i=$((i+1)); done < "$WORK/feeds/urls.txt"
} > "$WORK/config.toml"
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
