"""A ``csqa audit`` output folder: what is in it, and the one reader of a finished one.

The folder holds findings.jsonl, calls.csv, agents.csv, errors.csv, customer_text.jsonl,
conversation.jsonl and run.json. They switch as one set: :class:`csqa.reporters.files.OutputFolder` writes them into a
private staging folder, then renames run.json into place first (the commit), then the others.
run.json carries, under ``outputs``, the size and SHA-256 of every other file, and the staging
folder's name. This reader verifies every file it reads against run.json: a file that is still
in the staging folder (an audit killed between its renames) is read from there, so a reader
always sees exactly one run, the old or the new; a file that matches neither (edited by hand,
or half of another run) is refused with a message naming it. Runs written before run.json
recorded its outputs are read unverified.

The report (:mod:`csqa.weekly`), reviews (:mod:`csqa.review`) and backtests
(:mod:`csqa.backtest`) all read run folders through :func:`open_run`. Text cells that the
writer protected against spreadsheet formulas (:func:`safe_cell`) are unprotected here
(:func:`plain`), in one way, for every reader.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from csqa import safeio
from csqa.errors import CsqaError

if TYPE_CHECKING:
    import pandas as pd

from csqa.safeio import LOCK_NAME, OUTPUTS, RUN_JSON, STAGING_PREFIX, is_output_folder

__all__ = ["LOCK_NAME", "OUTPUTS", "RUN_JSON", "AuditRun", "RuleCost", "RunError", "is_output_folder",
           "open_run", "plain", "safe_cell"]

_STAGING = re.compile(re.escape(STAGING_PREFIX) + r"[A-Za-z0-9_]+")
#: run.json itself: far smaller than this
_RUN_JSON_BYTES = 64 * 1024 * 1024
_UNBOUNDED = 1 << 62

#: first characters that make a spreadsheet read a cell as a formula
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


class RunError(CsqaError):
    """A folder that is not a usable ``csqa audit`` output folder."""


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is prefixed with ' (numbers are kept)."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def plain(value: str) -> str:
    """Undo :func:`safe_cell`: ``'=x`` read from a CSV is ``=x``; ``'x`` stays ``'x``."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def is_staging(name: str) -> bool:
    """Whether ``name`` is a staging folder's name (see :mod:`csqa.reporters.files`)."""
    return _STAGING.fullmatch(name) is not None


def file_digest(fh: IO[bytes]) -> str:
    """SHA-256 of an open file, read from its start."""
    h = hashlib.sha256()
    fh.seek(0)
    while chunk := fh.read(1 << 20):
        h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class RuleCost:
    """What a rule's finding costs in a run (as recorded in run.json)."""

    id: str
    name: str
    kind: str
    points: float
    max_points: float | None
    veto: bool


#: calls.csv columns the report needs, and those it reads as text
CALL_REQUIRED = ["call_id", "agent_id", "agent_name", "team", "started_at", "score", "passed",
                 "vetoed", "n_findings"]
CALL_TEXT = ["call_id", "agent_id", "agent_name", "team", "started_at", "not_evaluable", "source"]


@dataclass
class AuditRun:
    """One audit output folder: its run record and verified access to its files."""

    path: Path
    record: dict[str, Any]
    #: where the folder was given among several (later wins when audit times are equal)
    order: int = 0

    @property
    def ruleset(self) -> dict[str, Any]:
        return dict(self.record["ruleset"])

    @property
    def ruleset_hash(self) -> str:
        return str(self.record["ruleset"].get("hash", ""))

    @property
    def ruleset_version(self) -> str:
        return str(self.record["ruleset"].get("version", ""))

    @property
    def ruleset_name(self) -> str:
        return str(self.record["ruleset"].get("name", ""))

    @property
    def base_score(self) -> float:
        return float(self.record["ruleset"].get("base_score", 100.0))

    @property
    def pass_mark(self) -> float:
        return float(self.record["ruleset"].get("pass_mark", 80.0))

    @property
    def rule_ids(self) -> list[str]:
        return [str(r) for r in self.record["ruleset"].get("rules", [])]

    @property
    def inputs(self) -> list[str]:
        return [str(p) for p in self.record.get("inputs", [])]

    @property
    def reading(self) -> dict[str, Any] | None:
        """How the run read its inputs (run.json's ``reading``: input format, call records and
        their column map, profile, agent channel, speakers, strict roles; see
        :meth:`csqa.reading.ReadOptions.record`); ``None`` for a run made before it was kept."""
        got = self.record.get("reading")
        return got if isinstance(got, dict) else None

    @cached_property
    def audited_at(self) -> datetime | None:
        value = self.record.get("started_at")
        if not isinstance(value, str):
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise RunError(f"{self.path / RUN_JSON}: started_at: 不是 ISO 8601 日期时间:"
                           f"{value!r}") from None

    @property
    def sort_key(self) -> tuple[float, int]:
        """Later audit wins; runs audited at the same time: the later on the command line."""
        ts = self.audited_at.timestamp() if self.audited_at is not None else float("-inf")
        return (ts, self.order)

    @cached_property
    def rules(self) -> dict[str, RuleCost]:
        """What each rule's finding costs (run.json's ``rule_scoring``)."""
        return rule_costs(self.record["ruleset"], self.path / RUN_JSON)

    # ------------------------------------------------------------------ files

    def has(self, name: str) -> bool:
        """Whether the run has ``name`` (customer_text.jsonl is missing in older runs)."""
        expected = self.record.get("outputs")
        if isinstance(expected, dict):
            return name in expected
        return (self.path / name).exists()

    def open(self, name: str) -> IO[bytes]:
        """``name`` opened for reading, verified against run.json (see the module doc)."""
        expected = self.record.get("outputs")
        if not isinstance(expected, dict):  # a run written before outputs were recorded
            return self._open_plain(self.path / name, name)
        entry = expected.get(name)
        if not isinstance(entry, dict):
            raise RunError(f"{self.path}: run.json 中没有列出 {name}")
        staging = self.record.get("staging")
        places = [self.path / name]
        if isinstance(staging, str) and is_staging(staging):
            places.append(self.path / staging / name)
        for place in places:
            fh = _open_if_matches(place, entry)
            if fh is not None:
                return fh
        raise RunError(f"{self.path / name}: 与 run.json 记录的不一致(审计后被改动,或混入了另一次"
                       "审计的文件),不读取;请重新运行 csqa audit")

    def _open_plain(self, path: Path, name: str) -> IO[bytes]:
        try:
            return os.fdopen(safeio.open_regular(path, _UNBOUNDED), "rb")
        except FileNotFoundError:
            raise RunError(f"{self.path}: 没有 {name}(csqa audit 输出目录不完整)") from None
        except OSError as exc:
            raise RunError(f"{path}: 无法读取:{exc.strerror or exc}") from None

    def text(self, name: str) -> IO[str]:
        """``name`` as UTF-8 text for :mod:`csv` (verified, see :meth:`open`)."""
        return io.TextIOWrapper(self.open(name), encoding="utf-8", newline="")

    def jsonl(self, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line, object) of a JSON Lines output, each an object with a text ``call_id``."""
        where = self.path / name
        with self.open(name) as fh:
            for line, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    obj = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    raise RunError(f"{where}:{line}: JSON 格式有误:{exc.msg}") from None
                if not isinstance(obj, dict) or not isinstance(obj.get("call_id"), str):
                    raise RunError(f"{where}:{line}: 应为含 call_id 的对象")
                yield line, obj

    def findings(self, call_ids: set[str] | None = None) -> Iterator[dict[str, Any]]:
        """The run's findings, as written to findings.jsonl, in order (only of ``call_ids``
        when given)."""
        where = self.path / "findings.jsonl"
        for line, obj in self.jsonl("findings.jsonl"):
            if "rule_id" not in obj:
                raise RunError(f"{where}:{line}: 不是违规记录(没有 rule_id)")
            if call_ids is None or obj["call_id"] in call_ids:
                yield obj

    def customer_text(self, call_ids: set[str]) -> dict[str, str] | None:
        """Customer speech per call from customer_text.jsonl; ``None`` when the run has no
        such file (it was written by a csqa older than ``csqa report``)."""
        if not self.has("customer_text.jsonl"):
            return None
        out: dict[str, str] = {}
        for line, obj in self.jsonl("customer_text.jsonl"):
            if obj["call_id"] in call_ids:
                text = obj.get("text", "")
                if not isinstance(text, str):
                    raise RunError(f"{self.path / 'customer_text.jsonl'}:{line}: text: 应为文本")
                out[obj["call_id"]] = text
        return out

    def conversations(self, call_ids: set[str]) -> dict[str, list[Spoken]] | None:
        """The conversation of each of ``call_ids`` from conversation.jsonl: its utterances as
        ``(speaker, start, end, text)``, as audited (masked unless --no-redact); ``None`` when
        the run has no such file (written by a csqa before it)."""
        name = "conversation.jsonl"
        if not self.has(name):
            return None
        out: dict[str, list[Spoken]] = {}
        for line, obj in self.jsonl(name):
            if obj["call_id"] in call_ids:
                out[obj["call_id"]] = spoken(obj.get("utterances"), f"{self.path / name}:{line}")
        return out

    def table(self, name: str) -> list[dict[str, str]]:
        """Rows of ``calls.csv`` or ``agents.csv`` as text, :func:`safe_cell` undone."""
        with self.text(name) as fh:
            return [{k: plain(v) for k, v in row.items()} for row in csv.DictReader(fh)]

    @cached_property
    def calls(self) -> pd.DataFrame:
        """calls.csv typed for reports: score, passed, vetoed, n_findings and one count
        column per rule, plus ``line`` (its line in calls.csv); every bad cell is an error
        naming file and line."""
        import pandas as pd

        rows = self._call_rows()
        frame = pd.DataFrame(rows, columns=[*CALL_TEXT, "score", "passed", "vetoed",
                                            "n_findings", *self.rule_ids, "line"])
        for rid in self.rule_ids:
            frame[rid] = frame[rid].fillna(0)
        return frame.astype({"score": float, "passed": bool, "vetoed": bool, "n_findings": int,
                             **{rid: int for rid in self.rule_ids}})

    def _call_rows(self) -> list[dict[str, Any]]:
        f = self.path / "calls.csv"
        with self.text("calls.csv") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise RunError(f"{f}: 空文件(没有表头行)")
            missing = [c for c in CALL_REQUIRED if c not in header]
            if missing:
                raise RunError(f"{f}:1: 缺少列:{', '.join(missing)}")
            idx = {c: i for i, c in enumerate(header)}
            counts = [r for r in self.rule_ids if r in idx]
            rows: list[dict[str, Any]] = []
            for line, rec in enumerate(reader, start=2):
                if not rec:
                    continue
                if len(rec) != len(header):
                    raise RunError(f"{f}:{line}: 有 {len(rec)} 个字段,表头有 {len(header)} 个")
                rows.append(_call_row(rec, idx, counts, f"{f}:{line}", line))
        return rows


#: one utterance of conversation.jsonl: speaker, start, end (seconds), text
Spoken = tuple[str, float, float, str]


def spoken(value: Any, where: str) -> list[Spoken]:
    """conversation.jsonl's ``utterances`` checked: a list of [speaker, start, end, text]."""
    if not isinstance(value, list):
        raise RunError(f"{where}: utterances: 应为列表")
    out: list[Spoken] = []
    for i, u in enumerate(value):
        if not (isinstance(u, list) and len(u) == 4 and isinstance(u[0], str)
                and isinstance(u[1], int | float) and isinstance(u[2], int | float)
                and isinstance(u[3], str)):
            raise RunError(f"{where}: utterances[{i}]: 应为 [speaker, start, end, text]")
        out.append((u[0], float(u[1]), float(u[2]), u[3]))
    return out


def _call_row(rec: list[str], idx: dict[str, int], counts: list[str], where: str, line: int
              ) -> dict[str, Any]:
    row: dict[str, Any] = {c: plain(rec[idx[c]]) for c in CALL_TEXT if c in idx}
    try:
        row["score"] = float(rec[idx["score"]])
        row["n_findings"] = int(rec[idx["n_findings"]])
        for rid in counts:
            row[rid] = int(rec[idx[rid]])
    except ValueError as exc:
        raise RunError(f"{where}: 应为数字:{exc}") from None
    row["passed"] = _parse_bool(rec[idx["passed"]], f"{where}: passed")
    row["vetoed"] = _parse_bool(rec[idx["vetoed"]], f"{where}: vetoed")
    if row["started_at"]:
        try:
            datetime.fromisoformat(row["started_at"])
        except ValueError:
            raise RunError(f"{where}: started_at: 不是 ISO 8601 日期时间:"
                           f"{row['started_at']!r}") from None
    row["line"] = line
    return row


def _parse_bool(value: str, where: str) -> bool:
    if value in ("True", "true", "1"):
        return True
    if value in ("False", "false", "0"):
        return False
    raise RunError(f"{where}: 应为 True 或 False,实际是 {value!r}")


def _open_if_matches(path: Path, entry: dict[str, Any]) -> IO[bytes] | None:
    """``path`` opened, if it is a regular file of the size and SHA-256 in ``entry``."""
    size = entry.get("bytes")
    try:
        fh = os.fdopen(safeio.open_regular(path, size if isinstance(size, int) else -1), "rb")
    except OSError:
        return None
    try:
        if os.fstat(fh.fileno()).st_size == size and file_digest(fh) == entry.get("sha256"):
            fh.seek(0)  # the same open file that was hashed: a rename since cannot change it
            return fh
    except BaseException:
        fh.close()
        raise
    fh.close()
    return None


def open_run(path: str | Path, order: int = 0) -> AuditRun:
    """Open a ``csqa audit`` output folder; raises :class:`RunError` naming what is wrong."""
    path = Path(path)
    run_json = path / RUN_JSON
    if not path.is_dir():
        raise RunError(f"{path}: 不是文件夹(请给出 csqa audit 的输出目录)")
    try:
        record = orjson.loads(safeio.read_bytes(run_json, _RUN_JSON_BYTES))
    except FileNotFoundError:
        raise RunError(f"{path}: 不是 csqa audit 的输出目录(没有 run.json)") from None
    except OSError as exc:
        raise RunError(f"{run_json}: 无法读取:{exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise RunError(f"{run_json}:{exc.lineno}: JSON 格式有误:{exc.msg}") from None
    if not isinstance(record, dict) or not isinstance(record.get("ruleset"), dict):
        raise RunError(f"{run_json}: 不是 csqa 的运行记录(没有 ruleset)")
    return AuditRun(path, record, order)


def rule_costs(rs: dict[str, Any], run_json: Path | str) -> dict[str, RuleCost]:
    """What each rule of a run's ``ruleset`` record cost (its ``rule_scoring``; for a run made
    before that was recorded, its ruleset file when unchanged); ``run_json`` names the record
    in errors."""
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
        raise RunError(f"{run_json}: 这次运行没有记录各规则的扣分,而它的规则集"
                       f"({ref or '未知'})此后已改动;请重新运行 csqa audit")
    return {r.id: RuleCost(r.id, r.name, r.kind, r.points, r.max_points, r.veto)
            for r in ruleset.rules}
