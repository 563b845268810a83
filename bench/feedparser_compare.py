#!/usr/bin/env python3
"""Entries recovered per real-world fixture: Python's feedparser against storyline's
`inspect --json` (the same reading polls do). Also compares the first entry's title.

Usage: bench/feedparser_compare.py [BINARY]   (needs: pip install feedparser)
"""
import glob, json, os, subprocess, sys
import feedparser

binary = sys.argv[1] if len(sys.argv) > 1 else "target/debug/storyline"
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "real")
rows, fp_total, sl_total = [], 0, 0
for path in sorted(glob.glob(os.path.join(root, "*.xml"))):
    fp = feedparser.parse(path)
    out = subprocess.run([binary, "--config", "/nonexistent.toml", "inspect", "--json", path], capture_output=True, text=True)
    sl = json.loads(out.stdout)
    fp_n, sl_n = len(fp.entries), len(sl["entries"])
    fp_total, sl_total = fp_total + fp_n, sl_total + sl_n
    fp_t = fp.entries[0].get("title", "") if fp.entries else ""
    sl_t = sl["entries"][0]["title"] if sl["entries"] else ""
    same = "same" if " ".join(fp_t.split()) == sl_t else f"feedparser {fp_t!r} / storyline {sl_t!r}"
    rows.append((os.path.basename(path), fp_n, sl_n, same))
print(f"{'fixture':32} {'feedparser':>10} {'storyline':>10}  first title")
for name, a, b, same in rows:
    print(f"{name:32} {a:>10} {b:>10}  {same}")
print(f"{'total':32} {fp_total:>10} {sl_total:>10}")
