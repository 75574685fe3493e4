"""Reading a finished ``csqa audit`` output folder back: run.json, calls.csv, findings.jsonl.

The review loop (:mod:`csqa.review`) and backtests (:mod:`csqa.backtest`) start from audit
runs rather than from transcripts, so a run folder must be enough to re-score its calls:
run.json records, per rule, what a finding costs (``ruleset.rule_scoring``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from csqa.errors import CsqaError
from csqa.reporters.files import safe_cell


class RunError(CsqaError):
    """A folder that is not a usable ``csqa audit`` output folder."""


@dataclass(frozen=True, slots=True)
class RuleCost:
    """What a rule's finding costs in a run (as recorded in run.json)."""

    id: str
    name: str
    kind: str
    points: float
    max_points: float | None
    veto: bool


def plain(value: str) -> str:
    """Undo :func:`~csqa.reporters.files.safe_cell`: ``'=x`` read from a CSV is ``=x``."""
    if value.startswith("'") and len(value) > 1 and safe_cell(value[1:]) == value:
        return value[1:]
    return value


@dataclass
class AuditRun:
    """One audit output folder: its run record and lazy access to its tables."""

    path: Path
    record: dict[str, Any]
    rules: dict[str, RuleCost]

    @property
    def ruleset_version(self) -> str:
        return str(self.record.get("ruleset", {}).get("version", ""))

    @property
    def ruleset_name(self) -> str:
        return str(self.record.get("ruleset", {}).get("name", ""))

    @property
    def base_score(self) -> float:
        return float(self.record.get("ruleset", {}).get("base_score", 100.0))

    @property
    def pass_mark(self) -> float:
        return float(self.record.get("ruleset", {}).get("pass_mark", 80.0))

    @property
    def inputs(self) -> list[str]:
        return [str(p) for p in self.record.get("inputs", [])]

    def findings(self) -> Iterator[dict[str, Any]]:
        """The run's findings, as written to findings.jsonl, in order."""
        path = self.path / "findings.jsonl"
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise RunError(f"{path}: cannot read: {exc.strerror or exc}") from None
        with fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise RunError(f"{path}:{lineno}: not a finding: {exc.msg}") from None
                if not isinstance(obj, dict) or "call_id" not in obj or "rule_id" not in obj:
                    raise RunError(f"{path}:{lineno}: not a finding (no call_id/rule_id)")
                yield obj

    def table(self, name: str) -> list[dict[str, str]]:
        """Rows of ``calls.csv`` or ``agents.csv`` as text, ``safe_cell`` quoting undone."""
        path = self.path / name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RunError(f"{path}: cannot read: {exc.strerror or exc}") from None
        return [{k: plain(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def open_run(path: str | Path) -> AuditRun:
    """Open a ``csqa audit`` output folder; raises :class:`RunError` naming what is wrong."""
    path = Path(path)
    run_json = path / "run.json"
    if not path.is_dir():
        raise RunError(f"{path}: no such folder (expected a csqa audit output folder)")
    try:
        record = orjson.loads(run_json.read_bytes())
    except FileNotFoundError:
        raise RunError(f"{path}: not a csqa audit output folder (no run.json)") from None
    except OSError as exc:
        raise RunError(f"{run_json}: cannot read: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise RunError(f"{run_json}: not valid JSON: {exc.msg}") from None
    if not isinstance(record, dict) or not isinstance(record.get("ruleset"), dict):
        raise RunError(f"{run_json}: not a csqa run record (no 'ruleset')")
    return AuditRun(path, record, _rule_costs(record, run_json))


def _rule_costs(record: dict[str, Any], run_json: Path) -> dict[str, RuleCost]:
    rs = record["ruleset"]
    costs = rs.get("rule_scoring")
    if isinstance(costs, dict):
        return {rid: RuleCost(rid, str(c.get("name", rid)), str(c.get("kind", "")),
                              float(c.get("points", 0.0)),
                              None if c.get("max_points") is None else float(c["max_points"]),
                              bool(c.get("veto", False)))
                for rid, c in costs.items()}
    # A run made before rule costs were recorded: use its ruleset file if it is unchanged.
    from csqa.errors import RulesetError
    from csqa.ruleset import load_ruleset

    files = rs.get("files") or []
    ref = files[-1] if files else None
    if isinstance(ref, str) and ref.startswith("<builtin:"):
        ref = ref[len("<builtin:"):-1]
    try:
        ruleset = load_ruleset(ref) if ref else None
    except RulesetError:
        ruleset = None
    if ruleset is None or ruleset.hash != rs.get("hash"):
        raise RunError(f"{run_json}: this run does not record what its rules cost and its ruleset "
                       f"({ref or 'unknown'}) has changed since; re-run csqa audit")
    return {r.id: RuleCost(r.id, r.name, r.kind, r.points, r.max_points, r.veto)
            for r in ruleset.rules}
