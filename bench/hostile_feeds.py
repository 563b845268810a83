#!/usr/bin/env python3
"""What hostile feeds and clients cost a storyline daemon, for comparing builds in one run
(the machine is noisy: compare, do not read absolute figures).

Usage: bench/hostile_feeds.py BIN [BIN ...]

For each binary, a daemon on a fresh store, its feeds served on 127.0.0.1:
  - hang-ups: 16 clients send `GET /api/items?limit=1000` and close after 2 ms; then how
    many of 10 plain requests answer 503, and what /healthz says;
  - a feed whose channel title is 1 MB and one item title 2 MB: sizes of /feed.atom and
    /feed.json, and the daemon's peak RSS (VmHWM) after reading them;
  - an item dated in year 0100: size and time of GET /;
  - credentials in the configured URL (user:password@, ?token=): how many of /feed.atom,
    /feed.rss, /feed.json, /feeds, /api/feeds show the password or token;
  - Retry-After of `Fri, 31 Dec 9999`: the hold `feeds --json` shows;
  - fairness: 520 idle connections from 127.0.0.2, then 20 /healthz probes from 127.0.0.1
    over up to 20 s: how many were answered 200;
  - memory: one feed of 100,000 entries (about 5 MB), then eight: peak RSS after the poll.
"""
import http.client, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import http.server, functools

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_check import free_port  # noqa: E402  (the same helper as the serving check)


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files; `/held.xml` answers 503 with a Retry-After far away."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/held.xml"):
            self.send_response(503)
            self.send_header("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.path = self.path.split("?")[0]
        super().do_GET()


def serve_dir(path):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=path))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def status_field(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def get(port, path, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def rss(title, items):
    out = [f'<rss version="2.0"><channel><title>{title}</title><link>http://site.example/</link>']
    for i, (t, date) in enumerate(items):
        out.append(f"<item><title>{t}</title><link>http://site.example/{i}</link><pubDate>{date}</pubDate></item>")
    out.append("</channel></rss>")
    return "".join(out)


RECENT = "Mon, 30 Nov 2026 10:00:00 GMT"


class Daemon:
    def __init__(self, bin_path, feeds, served):
        self.work = tempfile.mkdtemp()
        self.port = free_port()
        self.cfg = os.path.join(self.work, "config.toml")
        with open(self.cfg, "w") as f:
            f.write(f'[storage]\ndatabase = "s.db"\nretention = "forever"\n[fetch]\nschedule = "every 1d"\n'
                    f'max_body = "64MiB"\ntimeout = "120s"\n[server]\nlisten = "127.0.0.1:{self.port}"\n')
            for name, url in feeds:
                f.write(f'[[feed]]\nname = "{name}"\nurl = "{url}"\n')
        self.bin = bin_path
        self.proc = subprocess.Popen([bin_path, "--config", self.cfg, "run"], stderr=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, env={**os.environ, "STORYLINE_LOG": "info"})
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
        end = time.time() + 30
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("daemon did not listen")

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.decode(errors="replace"))

    def wait_log(self, text, count=1, limit=300):
        end = time.time() + limit
        while time.time() < end:
            if sum(text in l for l in self.lines) >= count:
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def feeds(self):
        p = subprocess.run([self.bin, "--config", self.cfg, "feeds", "--json"], capture_output=True)
        return json.loads(p.stdout or b"[]")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.work)


def check(bin_path, served_dir, base):
    out = {}
    # Text sizes, an ancient date, credentials, a far Retry-After.
    feeds = [
        ("big", f"http://reader:s3cret@{base}/big.xml?token=hunter2"),
        ("old", f"http://{base}/old.xml"),
        ("held", f"http://{base}/held.xml"),
    ]
    d = Daemon(bin_path, feeds, served_dir)
    try:
        ok = d.wait_log("grouped into series") and d.wait_log("feed=held")
        time.sleep(1)
        out["polled"] = ok
        sizes = {}
        for path in ("/feed.atom", "/feed.json"):
            status, body = get(d.port, path)
            sizes[path] = (status, len(body))
        out["1MB_title_feed_sizes"] = sizes
        out["1MB_title_peak_rss_mib"] = round(status_field(d.proc.pid, "VmHWM") / 1024)
        t = time.time()
        status, body = get(d.port, "/")
        out["year_0100_front_page"] = (status, len(body), round(time.time() - t, 2))
        shown = []
        for path in ("/feed.atom", "/feed.rss", "/feed.json", "/feeds", "/api/feeds"):
            status, body = get(d.port, path)
            if b"s3cret" in body or b"hunter2" in body:
                shown.append(path)
        out["routes_showing_credentials"] = shown
        held = next((f for f in d.feeds() if f["name"] == "held"), {})
        out["retry_after_9999"] = (held.get("last_error"), held.get("held_until"), held.get("next_poll"))
        # Hang-ups.
        for _ in range(16):
            s = socket.create_connection(("127.0.0.1", d.port))
            s.sendall(b"GET /api/items?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.002)
            s.close()
        time.sleep(0.5)
        codes = [get(d.port, "/api/items?limit=10")[0] for _ in range(10)]
        out["after_16_hangups_503_of_10"] = codes.count(503)
        out["after_16_hangups_healthz"] = get(d.port, "/healthz")[0]
        # Fairness.
        idle = []
        for _ in range(520):
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            try:
                s.connect(("127.0.0.1", d.port))
                idle.append(s)
            except OSError:
                s.close()
        answered, tried, end = 0, 0, time.time() + 20
        while tried < 20 and time.time() < end:
            tried += 1
            try:
                answered += get(d.port, "/healthz", timeout=5)[0] == 200
            except OSError:
                pass
            time.sleep(0.2)
        out["health_probes_answered_beside_520_idle"] = f"{answered}/{tried}"
        for s in idle:
            s.close()
    finally:
        d.stop()
    # Memory of entries.
    for n in (1, 8):
        feeds = [(f"huge{i}", f"http://{base}/huge{i}.xml") for i in range(n)]
        d = Daemon(bin_path, feeds, served_dir)
        try:
            d.wait_log("feed=huge", count=n)
            d.wait_log("grouped into series")
            time.sleep(1)
            out[f"{n}_feeds_of_100k_entries_peak_rss_mib"] = round(status_field(d.proc.pid, "VmHWM") / 1024)
        finally:
            d.stop()
    return out


def main():
    served = tempfile.mkdtemp()
    with open(os.path.join(served, "big.xml"), "w") as f:
        f.write(rss("Huge channel title " * 55_000, [("Very long headline " * 110_000, RECENT), ("Short one", RECENT)]))
    with open(os.path.join(served, "old.xml"), "w") as f:
        f.write(rss("Old", [("Ancient item", "Sat, 01 Jan 0100 00:00:00 GMT"), ("Ancient item again", RECENT)]))
    entries = [(f"Entry number {i} of many", RECENT) for i in range(100_000)]
    huge = rss("Huge", entries)
    for i in range(8):
        with open(os.path.join(served, f"huge{i}.xml"), "w") as f:
            f.write(huge.replace("site.example/", f"site{i}.example/"))
    srv = serve_dir(served)
    base = f"127.0.0.1:{srv.server_address[1]}"
    try:
        for b in sys.argv[1:]:
            print(f"== {b}", flush=True)
            for k, v in check(b, served, base).items():
                print(f"  {k}: {v}", flush=True)
    finally:
        srv.shutdown()
        shutil.rmtree(served)


if __name__ == "__main__":
    main()
