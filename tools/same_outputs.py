"""Audit the same inputs with two versions of csqa and compare every output file byte for byte.

    python tools/same_outputs.py INPUT... [--base main] [--ruleset FILE] [--jobs N] [--work DIR]
    python tools/same_outputs.py --compare DIR_A DIR_B

The first form exports ``src/`` of revision ``--base`` (``git archive``) into ``--work`` and runs
``python -m csqa.cli audit INPUT... --out DIR -q`` once with it and once with this checkout's
``src/``, then compares the two output folders; ``--compare`` only compares two folders already
written. Every file must be identical, except these keys of ``run.json``: ``started_at``,
``seconds``, ``timings`` (when and how long the run took) and ``staging`` (the name of its
private staging folder, random). Exits 0 when the outputs are the same, 1 (naming the files
that differ) when not. For a refactor that must not change a single output byte: check it on
``csqa synth`` corpora (with and without ``--distinct-text``) and on ``sample_transcripts/``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: run.json keys that differ between any two runs: the clock and the staging folder's name
VOLATILE = ("started_at", "seconds", "timings", "staging")


def export_src(rev: str, dest: Path) -> Path:
    """``src/`` of commit ``rev`` unpacked under ``dest`` (replaced if there)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"],
                             check=True, capture_output=True).stdout
    target = dest / "src"
    if target.exists():
        subprocess.run(["rm", "-rf", str(target)], check=True)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return target


def audit(src: Path, inputs: list[str], out: Path, extra: list[str]) -> None:
    """One ``csqa audit`` run with the package under ``src`` (exit 0 or 3: findings are fine)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "csqa.cli", "audit", *inputs, "--out", str(out), "-q", *extra]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 3):
        sys.exit(f"audit failed ({done.returncode}) with {src}: {done.stderr.strip()}")


def _run_json(path: Path) -> bytes:
    data = json.loads(path.read_bytes())
    for key in VOLATILE:
        data.pop(key, None)
    return json.dumps(data, ensure_ascii=False, sort_keys=True).encode()


def differences(a: Path, b: Path) -> list[str]:
    """The files that are not the same in folders ``a`` and ``b`` (one only, or other bytes)."""
    names_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    names_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    out = [f"{n}: only in {a}" for n in sorted(names_a - names_b)]
    out += [f"{n}: only in {b}" for n in sorted(names_b - names_a)]
    for name in sorted(names_a & names_b):
        read = _run_json if name.name == "run.json" else Path.read_bytes
        if read(a / name) != read(b / name):
            out.append(f"{name}: differs")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="*", help="what to audit (files, folders, archives)")
    ap.add_argument("--base", default="main", help="the revision to compare with (default: main)")
    ap.add_argument("--ruleset", help="audit with this ruleset (default: the built-in one)")
    ap.add_argument("--jobs", help="csqa audit --jobs")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "csqa-same-outputs",
                    help="where the base's src/ and both output folders go")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("DIR_A", "DIR_B"),
                    help="only compare two output folders")
    args = ap.parse_args()
    if args.compare:
        a, b = args.compare
    else:
        if not args.inputs:
            ap.error("give the inputs to audit, or --compare DIR_A DIR_B")
        extra = [*(["--ruleset", args.ruleset] if args.ruleset else []),
                 *(["--jobs", args.jobs] if args.jobs else [])]
        inputs = [str(Path(i).resolve()) for i in args.inputs]
        a, b = args.work / "base-out", args.work / "head-out"
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.base],
                             check=True, capture_output=True, text=True).stdout.strip()
        print(f"{args.base} is {rev}; auditing {' '.join(args.inputs)}", flush=True)
        audit(export_src(rev, args.work / "base"), inputs, a, extra)
        audit(ROOT / "src", inputs, b, extra)
    diff = differences(a, b)
    files = sum(1 for p in a.rglob("*") if p.is_file())
    for line in diff:
        print(line)
    print(f"{files} files compared ({', '.join(VOLATILE)} of run.json left out): "
          + (f"{len(diff)} differ" if diff else "all the same"))
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
