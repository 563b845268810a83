#!/usr/bin/env python3
"""3,000 distinct feed GETs, as readers asking for many lengths would send them: each of
/feed.{atom,rss,json}?limit=1..1000 once, in a fixed shuffled order, gzip, 8 clients.
Used by bench/serve.sh to measure the daemon's memory growth.

Usage: bench/load.py BASE_URL
"""
import sys, threading, urllib.request, random
base = sys.argv[1]
paths = [f"/feed.{f}?limit={n}" for n in range(1, 1001) for f in ("atom", "rss", "json")]
random.seed(1); random.shuffle(paths)
lock = threading.Lock()
def worker():
    while True:
        with lock:
            if not paths: return
            p = paths.pop()
        req = urllib.request.Request(base + p, headers={"Accept-Encoding": "gzip"})
        urllib.request.urlopen(req).read()
ts = [threading.Thread(target=worker) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
