#!/usr/bin/env python3
"""How a storyline binary holds up against hostile clients and documents, for comparing
two builds in one run (the machine is noisy: compare, do not read absolute figures).

Usage: bench/serve_check.py BIN [BIN ...]

For each binary, on a fresh store of 20 generated feeds x 50 items (bench/gen_corpus.py,
served on 127.0.0.1), it reports:
  - daemon RSS before and after 3,000 distinct GETs (/feed.{atom,rss,json}?limit=1..1000, gzip),
    repeated $SERVE_CHECK_ROUNDS times (1);
  - /api/series?limit=5 latency while wrk loads /api/items?limit=1000 (8 connections,
    or $SERVE_CHECK_LOAD), the load's rate,
    and the daemon's thread count at the end of the load;
  - what a client that sends half a request head gets, and after how long (30 s cap);
  - how long SIGTERM takes with 5 such clients connected;
  - `poll` beside the running daemon: exit status, time, first line of its message;
  - `inspect` time of one item whose description nests 20,000 and 40,000 <div>s.
"""
import http.client, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time
import http.server, functools

HERE = os.path.dirname(os.path.abspath(__file__))
# Rounds of 3,000 distinct GETs (SERVE_CHECK_ROUNDS), wrk connections (SERVE_CHECK_LOAD).
ROUNDS = int(os.environ.get("SERVE_CHECK_ROUNDS", "1"))
LOAD_CONNECTIONS = int(os.environ.get("SERVE_CHECK_LOAD", "8"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_dir(path):
    handler = functools.partial(QuietHandler, directory=path)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def threads(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def wait_port(port, proc, limit=30):
    end = time.time() + limit
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"daemon exited: {proc.stderr.read().decode()[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("daemon did not listen")


def get(port, path, gzip=False):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path, headers={"Accept-Encoding": "gzip"} if gzip else {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def half_head(port, cap=30.0):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n")
    s.settimeout(cap)
    start = time.time()
    try:
        data = s.recv(4096)
        got = data.split(b"\r\n")[0].decode() if data else "connection closed, nothing sent"
    except socket.timeout:
        got = f"still open after {cap:.0f} s"
    except ConnectionResetError:
        got = "connection reset"
    s.close()
    return got, time.time() - start


def nested(workdir, n):
    path = os.path.join(workdir, f"nested-{n}.xml")
    body = "&lt;div&gt;" * n + "deep" + "&lt;/div&gt;" * n
    with open(path, "w") as f:
        f.write(f'<rss version="2.0"><channel><title>T</title><item><title>x</title>'
                f'<link>http://n.example/1</link><description>{body}</description></item></channel></rss>')
    return path


def check(bin_path, corpus):
    work = tempfile.mkdtemp()
    srv = serve_dir(corpus)
    feeds = sorted(f for f in os.listdir(corpus) if f.endswith(".xml"))
    port = free_port()
    cfg = os.path.join(work, "config.toml")
    with open(cfg, "w") as f:
        f.write(f'[storage]\ndatabase = "s.db"\nretention = "forever"\n[fetch]\nschedule = "every 1d"\n'
                f'[server]\nlisten = "127.0.0.1:{port}"\n')
        for i, name in enumerate(feeds):
            f.write(f'[[feed]]\nname = "f{i}"\nurl = "http://127.0.0.1:{srv.server_address[1]}/{name}"\n')
    run = lambda *a: subprocess.run([bin_path, "--config", cfg, *a], capture_output=True)
    assert run("poll").returncode == 0
    out = {}
    daemon = subprocess.Popen([bin_path, "--config", cfg, "run"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        wait_port(port, daemon)
        for _ in range(3):
            get(port, "/feed.atom", gzip=True)
        before = rss_kib(daemon.pid)
        for round_ in range(ROUNDS):
            for fmt in ("atom", "rss", "json"):
                for limit in range(1, 1001):
                    status, _ = get(port, f"/feed.{fmt}?limit={limit}", gzip=True)
                    assert status == 200, status
            out[f"rss_kib_after_{3000 * (round_ + 1)}_gets"] = (before, rss_kib(daemon.pid))

        wrk = subprocess.Popen(["wrk", "-t2", f"-c{LOAD_CONNECTIONS}", "-d12s", f"http://127.0.0.1:{port}/api/items?limit=1000"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(1.0)
        lat = []
        for _ in range(40):
            t = time.time()
            get(port, "/api/series?limit=5")
            lat.append((time.time() - t) * 1000)
            time.sleep(0.2)
        out["threads_under_load"] = threads(daemon.pid)
        wrk_out = wrk.communicate()[0].decode()
        out["wrk_req_s"] = next((l.split()[1] for l in wrk_out.splitlines() if l.startswith("Requests/sec")), "?")
        lat.sort()
        out["series_ms_median_p90_max"] = (round(statistics.median(lat), 1), round(lat[int(len(lat) * 0.9)], 1),
                                           round(lat[-1], 1))

        out["half_head"] = half_head(port)

        t = time.time()
        p = run("poll")
        out["poll_beside_daemon"] = (p.returncode, round(time.time() - t, 2),
                                     p.stderr.decode().strip().splitlines()[0][:160] if p.stderr else "")

        drips = []
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /feed.atom HTTP/1.1\r\nHo")
            drips.append(s)
        time.sleep(0.2)
        t = time.time()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=120)
        out["sigterm_with_5_dripping_s"] = round(time.time() - t, 2)
        for s in drips:
            s.close()
    finally:
        if daemon.poll() is None:
            daemon.kill()
        srv.shutdown()
    for n in (20_000, 40_000):
        path = nested(work, n)
        t = time.time()
        p = run("inspect", path)
        out[f"inspect_{n}_nested_div_s"] = (round(time.time() - t, 3), p.returncode)
    shutil.rmtree(work)
    return out


def main():
    corpus = tempfile.mkdtemp()
    subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"), corpus, "20", "50", "42"], check=True,
                   stdout=subprocess.DEVNULL)
    for b in sys.argv[1:]:
        print(f"== {b}")
        for k, v in check(b, corpus).items():
            print(f"  {k}: {v}")
    shutil.rmtree(corpus)


if __name__ == "__main__":
    main()
