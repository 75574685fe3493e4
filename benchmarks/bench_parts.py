"""Where a call's CPU time goes, part by part, against what the scale targets leave per call.

Not a target of its own (it always exits 0): it explains the figures of ``run.py``. On the
synthetic corpus (``csqa synth``, the same generator and seed as ``run.py``) it measures, in
this process, the CPU microseconds per call of each part of the per-call work a worker does:

- the floor (``orjson.loads`` of the line, as ``run.py``'s floor);
- loading (parse, check and build the call);
- the whole-call phrase pass (fold, fillers out, one automaton pass);
- every rule kind's checks (summed over the rules of that kind);
- the engine as a whole (all rules, findings stamped, the call scored);
- redaction and output formatting;

then, from two real ``csqa audit --jobs N`` runs (start-up taken off), what the main process
(reading, writing, the scorecards) and the workers cost per call. Against those it prints the
CPU per call that the targets allow on this machine: 20,000 calls/s on N cores leaves N/20,000 s
per call, and 5× the floor leaves 5 × floor × N.

    python benchmarks/bench_parts.py [--calls 3000] [--repeat 5] [--run-calls 20000]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # this checkout's csqa, installed or not

from csqa.loaders import jsonl  # noqa: E402
from csqa.matching import CallView  # noqa: E402
from csqa.parallel import engine_for  # noqa: E402
from csqa.reading import Preparation  # noqa: E402
from csqa.redact import redact_result  # noqa: E402
from csqa.reporters.files import render_call  # noqa: E402
from csqa.rules.base import NotEvaluable  # noqa: E402
from csqa.ruleset import load_ruleset  # noqa: E402
from csqa.synth import write_corpus  # noqa: E402

SEED = 2026  # run.py's corpus seed

# run the CLI in a child and report its own CPU apart from its workers' (one line of JSON)
MAIN_CPU = """
import atexit, resource, sys, orjson
def report():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stderr.write("CPU " + orjson.dumps([me.ru_utime + me.ru_stime,
                                             kids.ru_utime + kids.ru_stime]).decode() + "\\n")
atexit.register(report)
from csqa.cli import main
sys.argv = ["csqa", *sys.argv[1:]]
main()
"""


def best_of(repeat: int, n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """(CPU µs per call of ``fn`` over ``n`` calls, best of ``repeat``; its last result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.process_time()
        result = fn()
        best = min(best, time.process_time() - started)
    return best / n * 1e6, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=3000, help="calls measured part by part")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--run-calls", type=int, default=20000,
                    help="calls of the csqa audit run that measures the main process")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_corpus(max(args.calls, args.run_calls), Path(tmp) / "c", seed=SEED)
        path = next(corpus.rglob("*.jsonl"))
        raw = path.read_bytes().splitlines()
        head = Path(tmp) / "head.jsonl"
        head.write_bytes(b"\n".join(raw[: args.calls]) + b"\n")
        n = args.calls

        ruleset = load_ruleset(None)
        engine, rule_ids = engine_for(ruleset)
        chunk = next(jsonl.chunks(head, n))
        calls = [Preparation().one(c) for c in chunk.load()]
        for c in calls[:50]:
            engine.audit(c)  # warm: lazily built tables, first-use imports
        gc.freeze()

        rows: list[tuple[str, float]] = []
        floor, _ = best_of(args.repeat, n, lambda: [orjson.loads(x) for x in raw[:n]])
        rows.append(("floor: orjson.loads of the line", floor))
        us, _ = best_of(args.repeat, n, lambda: list(chunk.load()))
        rows.append(("load: parse, check, build the call", us))
        us, _ = best_of(args.repeat, n,
                        lambda: [CallView(c, engine.bank)._prescan() for c in calls])
        rows.append(("whole-call phrase pass", us))
        by_kind: dict[str, float] = defaultdict(float)
        for _ in range(args.repeat):
            views = [CallView(c, engine.bank) for c in calls]
            for v in views:
                v._prescan()
            took: dict[str, float] = defaultdict(float)
            for cr in engine.rules:
                started = time.process_time()
                for v in views:
                    with contextlib.suppress(NotEvaluable):
                        list(cr.module.check(v, cr.prepared))
                took[cr.rule.kind] += time.process_time() - started
            for kind, s in took.items():
                by_kind[kind] = min(by_kind.get(kind, float("inf")), s / n * 1e6)
        for kind, us in sorted(by_kind.items(), key=lambda kv: -kv[1]):
            rows.append((f"  rules of kind {kind}", us))
        engine_us, results = best_of(args.repeat, n, lambda: [engine.audit(c) for c in calls])
        rows.append(("engine: every rule, findings stamped, scored", engine_us))
        us, redacted = best_of(args.repeat, n, lambda: [redact_result(r) for r in results])
        rows.append(("redaction", us))
        render_us, _ = best_of(args.repeat, n, lambda: [render_call(r, rule_ids) for r in redacted])
        rows.append(("output formatting", render_us))
        worker = rows[1][1] + engine_us + us + render_us

        env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep
               + os.environ.get("PYTHONPATH", "")}

        def audit_cpu(calls: int) -> tuple[float, float]:
            """CPU seconds of ``csqa audit`` over the first ``calls`` calls: (main, workers)."""
            src = Path(tmp) / f"run{calls}.jsonl"
            src.write_bytes(b"\n".join(raw[:calls]) + b"\n")
            done = subprocess.run([sys.executable, "-c", MAIN_CPU, "audit", str(src), "-o",
                                   str(Path(tmp) / f"out{calls}"), "-q", "--jobs", str(args.jobs)],
                                  env=env, capture_output=True, text=True, check=False)
            got = [x for x in done.stderr.splitlines() if x.startswith("CPU ")]
            if not got:
                raise SystemExit(f"csqa audit failed: {done.stderr.strip()[-500:]}")
            me, kids = orjson.loads(got[-1][4:])
            return me, kids

        # start-up (imports, the ruleset, the workers) is paid once per run: the difference
        # between a run and one of a quarter of its calls is per call of a long run
        few = args.run_calls // 4
        few_main, few_kids = audit_cpu(few)
        all_main, all_kids = audit_cpu(args.run_calls)
        main_us = (all_main - few_main) / (args.run_calls - few) * 1e6
        kids_us = (all_kids - few_kids) / (args.run_calls - few) * 1e6

    n_findings = sum(len(r.findings) for r in results) / n
    n_utts = sum(len(c.utterances) for c in calls) / n
    print(f"{n} synthetic calls (seed {SEED}), {n_utts:.1f} utterances and {n_findings:.2f} "
          f"findings per call; CPU µs per call, best of {args.repeat}")
    for name, us in rows:
        print(f"{name:56} {us:8.1f}")
    print(f"{'a worker in all (load + engine + redaction + output)':56} {worker:8.1f}")
    print(f"{f'csqa audit --jobs {args.jobs}, {args.run_calls} calls: main process':56} "
          f"{main_us:8.1f}")
    print(f"{'  ... its workers':56} {kids_us:8.1f}")
    cores = args.jobs
    print(f"CPU per call the targets leave on {cores} cores: 20,000 calls/s → "
          f"{cores / 20000 * 1e6:.0f} µs; 5× the floor → {5 * floor * cores:.0f} µs "
          f"(measured now: {main_us + kids_us:.0f} µs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
