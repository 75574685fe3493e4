"""``make bench``: generate the synthetic corpus, run the scale scenarios, print the table.

Scenarios (each ``csqa`` run is a fresh process, timed end to end, all outputs written):

- floor: read the JSONL and ``orjson.loads`` every line, nothing else (in this process);
- 100k calls in one JSONL, default ``--jobs`` (all cores): ≥ 20,000 calls/s, ≤ 5× the floor;
- the same calls as separate ``.json`` files: ≥ 10,000 calls/s;
- peak RSS (all processes) for 10× the calls ≤ 2× that for 1×;
- ``--jobs 1`` vs ``--jobs 2``: ≥ 1.7×;
- start-up: ``csqa --help`` ≤ 0.3 s, an audit of one call ≤ 1 s.

Usage: ``python benchmarks/run.py [--calls 100000] [--big 1000000] [--out bench-out]``; exits 1
when a target is not met (as the other benchmarks do), after printing the whole table.
The 10× corpus is the 1× corpus repeated with new call ids (generating it afresh takes minutes
and changes nothing the benchmark measures); ``--fresh-big`` generates it instead.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # this checkout's csqa, installed or not
CSQA = [sys.executable, "-m", "csqa.cli"]
ENV = {**os.environ,
       "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


CPU_USED: list[float] = []  # CPU seconds (user + system) of each run_measured call


def run_measured(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB summed over the process and all its children).

    The CPU seconds of the run (all processes) are appended to ``CPU_USED``: on a shared
    machine the wall time depends on the load, the CPU time much less.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            p = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            total = 0
            try:
                for q in [p, *p.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += q.memory_info().rss
            except psutil.NoSuchProcess:
                break
            peak = max(peak, total)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_USED.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if proc.returncode not in (0, 3):
        sys.exit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode()}")
    return wall, peak / 2**20


def floor(path: Path) -> float:
    """Seconds to read the file and orjson.loads every line (best of 3)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        with path.open("rb") as fh:
            for line in fh:
                orjson.loads(line)
        best = min(best, time.perf_counter() - started)
    return best


def ensure_corpus(root: Path, calls: int, fmt: str) -> Path:
    from csqa.synth import write_corpus

    folder = root / f"synth-{fmt}-{calls}"
    stamp = folder / ".done"
    if not stamp.exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_corpus(calls, folder, seed=2026, fmt=fmt)
        stamp.touch()
    return folder / "transcripts"


def ensure_big(root: Path, base: Path, calls: int, copies: int, fresh: bool) -> Path:
    folder = root / f"synth-jsonl-{calls * copies}"
    stamp = folder / ".done"
    if stamp.exists():
        return folder / "transcripts"
    if fresh:
        return ensure_corpus(root, calls * copies, "jsonl")
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "transcripts").mkdir(parents=True)
    data = (base / "calls.jsonl").read_bytes()
    assert calls <= 100_000, "the relabelling below needs ids below SYN-0100000"
    with (folder / "transcripts" / "calls.jsonl").open("wb") as fh:
        for k in range(copies):
            new_id = f'"call_id":"SYN-{k:02d}'.encode()
            fh.write(data if k == 0 else data.replace(b'"call_id":"SYN-00', new_id))
    stamp.touch()
    return folder / "transcripts"


def machine() -> str:
    cpu = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    return (f"{os.cpu_count()} cores ({cpu or platform.processor()}), {mem:.0f} GiB RAM, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--big", type=int, default=10, help="the memory run uses this many × --calls")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out")
    ap.add_argument("--fresh-big", action="store_true")
    args = ap.parse_args()
    root: Path = args.out
    root.mkdir(parents=True, exist_ok=True)
    n = args.calls
    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.2f}", flush=True)
    print("generating corpora (cached in bench-out/) …", flush=True)
    t0 = time.perf_counter()
    jsonl = ensure_corpus(root, n, "jsonl")
    files = ensure_corpus(root, n, "json")
    big = ensure_big(root, jsonl, n, args.big, args.fresh_big)
    print(f"  done in {time.perf_counter() - t0:.0f} s; {jsonl / 'calls.jsonl'}: "
          f"{(jsonl / 'calls.jsonl').stat().st_size / 1e6:.0f} MB", flush=True)

    rows: list[tuple[str, int, float, float | None, float, float]] = []
    cpu0 = time.process_time()
    floor_s = floor(jsonl / "calls.jsonl")
    rows.append(("floor: read + orjson.loads", n, floor_s, floor_s, 0.0,
                 (time.process_time() - cpu0) / 3))

    def audit(name: str, src: Path, calls: int, *extra: str) -> tuple[float, float]:
        out = root / "out" / name.split(":")[0].replace(" ", "-")
        wall, rss = run_measured([*CSQA, "audit", str(src), "--out", str(out), "-q", *extra])
        rows.append((name, calls, wall, floor_s if src == jsonl else None, rss, CPU_USED[-1]))
        print(f"  {name}: {wall:.2f} s", flush=True)
        return wall, rss

    jsonl_wall, rss_small = audit("jsonl: one JSONL, all cores", jsonl, n)
    files_wall, _ = audit("json files: one file per call", files, n)
    _, rss_big = audit(f"memory: {args.big}x calls, one JSONL", big, n * args.big)
    j1, _ = audit("jobs 1: one JSONL, --jobs 1", jsonl, n, "--jobs", "1")
    j2, _ = audit("jobs 2: one JSONL, --jobs 2", jsonl, n, "--jobs", "2")
    help_s = min(run_measured([*CSQA, "--help"])[0] for _ in range(5))
    rows.append(("start-up: csqa --help (best of 5)", 0, help_s, None, 0.0, min(CPU_USED[-5:])))
    one = root / "one-call"
    one.mkdir(exist_ok=True)
    (one / "call.jsonl").write_bytes((jsonl / "calls.jsonl").open("rb").readline())
    one_cmd = [*CSQA, "audit", str(one), "--out", str(root / "out" / "one"), "-q"]
    one_s = min(run_measured(one_cmd)[0] for _ in range(3))
    rows.append(("start-up: audit of one call (best of 3)", 1, one_s, None, 0.0,
                 min(CPU_USED[-3:])))

    print()
    print(f"{'scenario':44} {'calls':>9} {'wall s':>8} {'calls/s':>9} {'x floor':>8} "
          f"{'peak RSS':>9} {'CPU s':>7} {'CPU us/call':>11}")
    for name, calls, wall, fl, rss, cpu in rows:
        rate = f"{calls / wall:,.0f}" if calls > 1 else ""
        ratio = f"{wall / fl:.1f}" if fl else ""
        mem = f"{rss:,.0f} MB" if rss else ""
        per_call = f"{cpu / calls * 1e6:,.0f}" if calls > 1 else ""
        print(f"{name:44} {calls:>9,} {wall:>8.2f} {rate:>9} {ratio:>8} {mem:>9} {cpu:>7.1f} "
              f"{per_call:>11}")
    print()
    checks = [
        (f"one JSONL >= 20,000 calls/s: {n / jsonl_wall:,.0f}", n / jsonl_wall >= 20_000),
        (f"one JSONL <= 5x floor: {jsonl_wall / floor_s:.1f}x", jsonl_wall / floor_s <= 5),
        (f"json files >= 10,000 calls/s: {n / files_wall:,.0f}", n / files_wall >= 10_000),
        (f"RSS {args.big}x <= 2x RSS 1x: {rss_big:,.0f} / {rss_small:,.0f} MB = "
         f"{rss_big / rss_small:.2f}", rss_big <= 2 * rss_small),
        (f"--jobs 2 >= 1.7x --jobs 1: {j1 / j2:.2f}x", j1 / j2 >= 1.7),
        (f"csqa --help <= 0.3 s: {help_s:.2f} s", help_s <= 0.3),
        (f"one-call audit <= 1 s: {one_s:.2f} s", one_s <= 1.0),
    ]
    for text, ok in checks:
        print(f"  [{'met' if ok else 'NOT MET'}] {text}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if all(ok for _, ok in checks) else 1  # like the other benchmarks: 1 when not met


if __name__ == "__main__":
    sys.exit(main())
