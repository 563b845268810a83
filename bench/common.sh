# Sourced by the bench scripts: a work folder cleaned up on exit, nginx serving a
# generated corpus from it on loopback, and storyline's configuration for that corpus.
# Not run on its own.

# Makes the work folder $WORK (/tmp/storyline-NAME.XXXX) and, on exit, stops the nginx
# serving it and the daemon whose pid is in $DAEMON, if any.
bench_work() {
    WORK=$(mktemp -d "/tmp/storyline-$1.XXXX")
    chmod 755 "$WORK"   # nginx workers run as an unprivileged user
    trap bench_cleanup EXIT
}

bench_cleanup() {
    kill "$(cat "$WORK/nginx.pid" 2>/dev/null)" 2>/dev/null || true
    if [ -n "${DAEMON:-}" ]; then kill "$DAEMON" 2>/dev/null || true; fi
}

# Generates a corpus into $WORK/feeds: gen_corpus.py's arguments after the folder, its
# URLs pointed at nginx on $PORT.
gen_feeds() {
    rm -rf "$WORK/feeds"
    python3 bench/gen_corpus.py "$WORK/feeds" "$@" >/dev/null
    sed -i "s/127.0.0.1:8080/127.0.0.1:$PORT/" "$WORK/feeds/urls.txt"
}

# Starts nginx on $PORT serving $WORK/feeds/ with ETags, with $NGINX_WORKERS workers (1)
# and the extra server-block directives given as $1.
start_nginx() {
    cat > "$WORK/nginx.conf" <<NGINX
worker_processes ${NGINX_WORKERS:-1};
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
    ${1:-}
  }
}
NGINX
    nginx -c "$WORK/nginx.conf"
}

# Writes $WORK/config.toml: the database in $WORK with the [storage] lines given as $1,
# 32 fetches at once, the tables given as $2 (TOML text; \n for new lines), then one
# [[feed]] per URL of the corpus.
feeds_config() {
    {
        printf '[storage]\ndatabase = "storyline.db"\n%b[fetch]\nmax_concurrent = 32\nper_host = 32\n%b' "${1:-}" "${2:-}"
        local i=0 url
        while read -r url; do printf '[[feed]]\nname = "f%04d"\nurl = "%s"\n' "$i" "$url"; i=$((i+1)); done < "$WORK/feeds/urls.txt"
    } > "$WORK/config.toml"
}
