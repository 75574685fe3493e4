"""``make bench``: a quarter of nightly runs in the run-history database, against the folders.

Builds 90 nights × 20,000 calls (one real ``csqa audit`` of the synthetic corpus, copied once per
night with unique call ids and that night's date: tests/support/nights.py), loads them with
``csqa db import``, then times ``csqa report`` over the whole quarter and over its last week, each
a fresh process writing an .html, from the database and from the 90 folders.

Target: the quarter's report from the database in at most 10 s (exit 1 when not met).

Usage: ``python benchmarks/bench_db.py [--calls 20000] [--nights 90] [--out bench-out/db]``;
``--keep`` reuses the nights and the database of an earlier run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
CSQA = [sys.executable, "-m", "csqa.cli"]
ENV = {**os.environ,
       "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
FIRST = date(2026, 9, 1)
LIMIT_S = 10.0


CPU: list[float] = []  # CPU seconds (user + system, all threads) of each timed run


def timed(cmd: list[str]) -> float:
    """Wall seconds of ``cmd`` (a fresh process); its CPU seconds go to ``CPU``. On a shared
    machine the wall time depends on the load, the CPU time much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 3):
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--nights", type=int, default=90)
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out" / "db")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    from support.nights import make_nights

    out: Path = args.out
    db = out / "qa.duckdb"
    nights = sorted((out / "nights").glob("night-*"))
    if not (args.keep and db.exists() and len(nights) == args.nights):
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        t = time.perf_counter()
        subprocess.run([*CSQA, "synth", str(args.calls), "--out", str(out / "synth"), "--seed",
                        "2026"], env=ENV, check=True, capture_output=True)
        subprocess.run([*CSQA, "audit", str(out / "synth" / "transcripts"), "--out",
                        str(out / "night"), "-q"], env=ENV, check=True, capture_output=True)
        audit_s = time.perf_counter() - t
        t = time.perf_counter()
        nights = make_nights(out / "night", out / "nights", args.nights, FIRST)
        copy_s = time.perf_counter() - t
        import_s = timed([*CSQA, "db", "import", *map(str, nights), "--db", str(db)])
        print(f"generate: synth + audit of {args.calls:,} calls {audit_s:.1f} s; "
              f"{args.nights} nights copied {copy_s:.1f} s; "
              f"csqa db import of {args.nights} nights {import_s:.1f} s "
              f"({import_s / args.nights:.2f} s a night)")
    size = db.stat().st_size / 2**20
    folders = sum(f.stat().st_size for n in nights for f in n.iterdir()) / 2**20
    print(f"database {size:,.0f} MB; folders {folders:,.0f} MB; "
          f"{args.nights * args.calls:,} calls")

    last = FIRST + timedelta(days=args.nights - 1)
    week_start = last - timedelta(days=last.weekday())
    spans = {"quarter": ["--from", FIRST.isoformat(), "--to", last.isoformat()],
             "last week": ["--from", week_start.isoformat(),
                           "--to", (week_start + timedelta(days=6)).isoformat()]}
    rows = []
    for name, span in spans.items():
        from_db = timed([*CSQA, "report", "--db", str(db), *span, "--out",
                         str(out / f"{name.replace(' ', '-')}-db.html")])
        from_folders = timed([*CSQA, "report", *map(str, nights), *span, "--out",
                              str(out / f"{name.replace(' ', '-')}-folders.html")])
        rows.append((name, from_db, CPU[-2], from_folders, CPU[-1]))
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| report (.html, a fresh process) | from the database: wall / CPU | "
          "from the folders: wall / CPU | × (wall) |")
    print("|---|---:|---:|---:|")
    for name, a, ac, b, bc in rows:
        print(f"| {name} | {a:.1f} s / {ac:.1f} s | {b:.1f} s / {bc:.1f} s | {b / a:.1f} |")
    ok = rows[0][1] <= LIMIT_S
    print(f"target: the quarter from the database in ≤ {LIMIT_S:.0f} s: "
          f"{'met' if ok else 'NOT met'} ({rows[0][1]:.1f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
