#!/usr/bin/env python3
"""Which crates a cold build spent its time on, from cargo's --timings report.

Usage: benches/deps/timings.py TARGET_DIR [TOP]        (a directory kept by `KEEP=1 measure.sh`)
       benches/deps/timings.py TARGET_DIR OTHER_DIR     (per-crate difference between two builds)

Durations are cargo's wall-clock time per unit (compile, build-script build, build-script run); with
two cores shared, they are an attribution of the build's time, not CPU seconds. Units of one package
are summed.
"""
import glob
import json
import re
import sys


def units(target):
    (report,) = glob.glob(f"{target}/cargo-timings/cargo-timing.html")
    html = open(report, encoding="utf-8").read()
    data = re.search(r"const UNIT_DATA = (\[.*?\n\]);", html, re.S).group(1)
    per = {}
    for u in json.loads(data):
        key = f"{u['name']} {u['version']}"
        per[key] = per.get(key, 0.0) + u["duration"]
    return per


def main():
    a = units(sys.argv[1])
    if len(sys.argv) > 2 and not sys.argv[2].isdigit():
        b = units(sys.argv[2])
        rows = sorted(set(a) | set(b), key=lambda k: -abs(b.get(k, 0) - a.get(k, 0)))
        print("| crate | first s | second s |\n|---|---:|---:|")
        for k in rows[:40]:
            if abs(b.get(k, 0) - a.get(k, 0)) >= 0.5:
                print(f"| {k} | {a.get(k, 0):.1f} | {b.get(k, 0):.1f} |")
        print(f"| total | {sum(a.values()):.0f} | {sum(b.values()):.0f} |")
        return
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    total = sum(a.values())
    print("| crate | s | share |\n|---|---:|---:|")
    for k, v in sorted(a.items(), key=lambda kv: -kv[1])[:top]:
        print(f"| {k} | {v:.1f} | {100 * v / total:.0f}% |")
    print(f"| all {len(a)} | {total:.0f} | |")


if __name__ == "__main__":
    main()
