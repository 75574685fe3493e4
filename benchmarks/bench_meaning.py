"""Benchmark: the default audit with meaning-aware rules on, over calls whose every agent utterance
of their own business is a distinct text (as in real traffic).

Standalone::

    python benchmarks/bench_meaning.py [--calls 200000] [--jobs 2] [--target 2000] [--out bench-out]

1. Generates ``--calls`` calls with ``csqa synth --distinct-text``.
2. Audits them with ``csqa audit`` (a fresh process, all outputs written, ``--jobs``), meaning
   on (the default ruleset) and off (``meaning: false``), and prints calls/s and CPU per call
   of each: the target is calls/s with meaning on (≥ 2,000 on the 2-core machine).
3. Audits a sample in this process, after a warm-up, to show the steady cost: CPU per call and
   how many distinct texts per call the sentence model still embedded (the classifiers on
   static vectors judge every line; the model sees only lines a required phrase may be
   reworded in, and keyword hits it may veto).

Exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from csqa import meaning  # noqa: E402
from csqa.engine import Engine  # noqa: E402
from csqa.loaders import jsonl  # noqa: E402
from csqa.model import Transcript  # noqa: E402
from csqa.ruleset import load_ruleset  # noqa: E402
from csqa.synth import write_corpus  # noqa: E402

CSQA = [sys.executable, "-m", "csqa.cli"]


def audit(folder: Path, out: Path, ruleset: Path | None, jobs: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all processes) of one ``csqa audit``."""
    cmd = [*CSQA, "audit", str(folder), "--out", str(out), "--jobs", str(jobs), "-q"]
    if ruleset is not None:
        cmd += ["--ruleset", str(ruleset)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def sample_stages(folder: Path, n: int) -> None:
    """Audit ``n`` calls in this process after a warm-up of as many, and say where meaning's
    time goes: CPU per call, and how many distinct texts the sentence model embedded."""
    calls: list[Transcript] = []
    for item in jsonl.load(folder / "calls.jsonl"):
        if isinstance(item, Transcript):
            calls.append(item)
        if len(calls) == 2 * n:
            break
    engine = Engine(load_ruleset(None))
    for t in calls[:n]:  # the model loads and the examples are embedded on first need
        engine.audit(t)
    model = meaning.sentence_model()
    embedded_before = len(model._seen)
    started = time.process_time()
    for t in calls[n:]:
        engine.audit(t)
    cpu = time.process_time() - started
    embedded = len(model._seen) - embedded_before
    measured = calls[n:]
    agent = sum(1 for t in measured for u in t.utterances if u.speaker == "agent")
    print(f"in-process, {len(measured)} calls ({agent} agent utterances) after a warm-up of {n}: "
          f"{cpu / len(measured) * 1e6:.0f} µs CPU per call with meaning on; the sentence model "
          f"embedded {embedded} distinct texts ({embedded / len(measured):.2f} per call)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--target", type=float, default=2000.0, help="calls/s with meaning on")
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out" / "meaning")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    folder = write_corpus(args.calls, args.out / "corpus", seed=16, distinct_text=True)
    off = args.out / "meaning-off.yaml"
    off.write_text("extends: default\nmeaning: false\n", encoding="utf-8")
    sample_stages(folder, args.sample)
    results = {}
    for name, ruleset in (("meaning on (default)", None), ("meaning off", off)):
        wall, cpu = audit(folder, args.out / name.split()[1], ruleset, args.jobs)
        results[name] = args.calls / wall
        print(f"{name:22s} {args.calls / wall:8.0f} calls/s  {cpu / args.calls * 1e6:6.0f} µs CPU per call "
              f"({args.calls} calls, --jobs {args.jobs}, {wall:.1f} s)")
    got = results["meaning on (default)"]
    ok = got >= args.target
    print(f"target: ≥ {args.target:.0f} calls/s with meaning on: {got:.0f} {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
