"""Many nights of ``csqa audit`` output from one real audit: the folder is copied once per night
with the call ids made unique (``N017-…``), every ``started_at`` moved to that night's day and
run.json's ``started_at`` set to that night. Only the text changes, so each copy is a run folder
exactly as csqa audit writes it (the findings, scores and accounting are the audit's own); run.json
records the copies' sizes and digests again (:func:`support.runs.reseal`), as csqa would.

Used by tests/test_history.py (small nights) and benchmarks/bench_db.py (20,000 calls a night).
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

from support.runs import reseal

_DAY = re.compile(r"\d{4}-\d\d-\d\dT")
FILES = ("calls.csv", "agents.csv", "findings.jsonl", "customer_text.jsonl", "conversation.jsonl",
         "errors.csv")


def synth_day(run_dir: Path) -> str:
    """The day (``YYYY-MM-DD``) of the synthetic calls' ``started_at``."""
    m = _DAY.search((run_dir / "calls.csv").read_text(encoding="utf-8"))
    assert m, f"{run_dir}: no started_at"
    return m.group(0)[:10]


def copy_night(run_dir: Path, out: Path, night: int, day: date, audited_hour: int = 20) -> Path:
    """``run_dir`` as night number ``night``, its calls on ``day``, audited that evening (UTC)."""
    src_day = synth_day(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    prefix = f"N{night:03d}-"
    for name in FILES:
        f = run_dir / name
        if not f.exists():
            continue
        text = f.read_text(encoding="utf-8")
        text = text.replace(f"{src_day}T", f"{day.isoformat()}T")
        text = text.replace("SYN-", f"{prefix}SYN-")
        (out / name).write_text(text, encoding="utf-8")
    record = (run_dir / "run.json").read_text(encoding="utf-8")
    record = re.sub(r'"started_at": "[^"]*"',
                    f'"started_at": "{day.isoformat()}T{audited_hour:02d}:00:00+00:00"', record, count=1)
    (out / "run.json").write_text(record, encoding="utf-8")
    reseal(out)
    return out


def make_nights(run_dir: Path, base: Path, nights: int, first: date) -> list[Path]:
    """``nights`` copies of ``run_dir`` under ``base`` (``night-000`` …), one day apart."""
    if base.exists():
        shutil.rmtree(base)
    return [copy_night(run_dir, base / f"night-{i:03d}", i, first + timedelta(days=i))
            for i in range(nights)]


def synth_run(base: Path, calls: int, agents: int, seed: int, violation_rate: float = 0.35
              ) -> Path:
    """A real ``csqa audit`` (default ruleset) of ``calls`` synthetic calls by ``agents`` agents."""
    import orjson

    from csqa.api import audit
    from csqa.synth import Generator

    gen = Generator(seed=seed, agents=agents, violation_rate=violation_rate)
    src = base / f"synth-{seed}.jsonl"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(b"".join(orjson.dumps(gen.call(n).record) + b"\n" for n in range(calls)))
    out = base / f"run-{seed}"
    audit([src], out=out)
    return out


def synth_weeks(base: Path, weeks: int, calls: int, agents: int, first: date) -> list[Path]:
    """``weeks`` weeks of nights from ``first`` (a Monday): each week its own audit (its own
    seed, so agents' scores move from week to week), copied to its seven nights."""
    out = []
    for w in range(weeks):
        run = synth_run(base / "audits", calls, agents, seed=100 + w,
                        violation_rate=0.2 + 0.25 * (w % 3 == 2))
        for d in range(7):
            night = 7 * w + d
            out.append(copy_night(run, base / "nights" / f"night-{night:03d}", night,
                                  first + timedelta(days=night)))
    return out
