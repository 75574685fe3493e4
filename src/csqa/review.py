"""The review loop: human verdicts on findings, reviewed scores, and rule precision.

A *reviews file* (CSV or xlsx, chosen by suffix) has one row per finding, keyed by the
finding's stable ``finding_id`` (see :func:`csqa.engine.finding_id`), with the columns
:data:`REVIEW_COLUMNS`. A reviewer fills in three of them:

- ``verdict``: ``confirmed`` (the finding is right), ``false_alarm`` (it is not: the call gets
  its points back), or ``missed`` on a row the reviewer *adds* for a violation the machine did
  not find (``call_id`` and ``rule_id`` required, ``utterance``/``time`` optional, no
  ``finding_id``). Chinese works too: 确认, 误报, 漏报. An empty verdict is "not reviewed yet".
- ``note`` and ``reviewer``: why, and who.

When the same finding has several verdicts the last row wins (a re-review appended later).

Library entry points (the CLI is a thin layer over them):

- :func:`update_reviews` (``csqa review``) writes or appends to a reviews file, optionally a
  stratified, seeded sample;
- :func:`read_reviews` reads and checks one (every problem at once, ``file:row: column: …``);
- :func:`apply_reviews` applies verdicts to an audit run and returns machine *and* reviewed
  scores per call and per agent; :func:`write_reviewed` stores them in the run's calls.csv,
  agents.csv and run.json (``csqa audit --reviews``). ``csqa report --reviews`` can call
  :func:`apply_reviews` on each run folder and read :attr:`ReviewedRun.calls` and
  :attr:`ReviewedRun.agents`;
- :func:`rule_stats` (``csqa rules stats``): per rule, how many findings were reviewed, the
  precision, the false-alarm examples, and, when two or more reviewers (``reviewer`` column)
  ruled on the same findings, how well they agree (:class:`Agreement`: percent agreement and
  Cohen's kappa per pair of reviewers); :func:`overall_agreement` pools the rules.

Several reviews files can be read as one (:func:`combine_reviews`, in the order given, later
rows winning as in one file): two reviewers each fill their own copy of the same sample, so
neither sees the other's verdicts.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import orjson

from csqa import safeio
from csqa.errors import CsqaError
from csqa.loaders.common import LoadProblem, current_limits, decode
from csqa.loaders.text import parse_time
from csqa.redact import redact
from csqa.reporters.files import replace_outputs
from csqa.reporters.sheets import Sheet, write_sheets
from csqa.runs import AuditRun, RuleCost, open_run, plain, safe_cell
from csqa.scoring import deduct

CONFIRMED, FALSE_ALARM, MISSED = "confirmed", "false_alarm", "missed"
VERDICTS = (CONFIRMED, FALSE_ALARM, MISSED)
#: What a reviewer may type in the verdict column (case and spaces ignored).
VERDICT_WORDS = {
    "confirmed": CONFIRMED, "confirm": CONFIRMED, "确认": CONFIRMED, "属实": CONFIRMED,
    "false_alarm": FALSE_ALARM, "false alarm": FALSE_ALARM, "falsealarm": FALSE_ALARM,
    "误报": FALSE_ALARM, "误判": FALSE_ALARM,
    "missed": MISSED, "miss": MISSED, "漏报": MISSED, "漏检": MISSED,
}
REVIEW_COLUMNS = ["finding_id", "call_id", "agent_id", "rule_id", "rule_name", "utterance", "time",
                  "speaker", "matched", "evidence", "message", "ruleset_version",
                  "verdict", "note", "reviewer"]
REQUIRED_COLUMNS = ("finding_id", "call_id", "rule_id", "verdict")
SAMPLE_BY = ("rule", "agent")
SHEET = "reviews"


class ReviewsError(CsqaError):
    """A reviews file that cannot be used; ``problems`` lists every problem, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# --------------------------------------------------------------------------- reading

@dataclass(frozen=True, slots=True)
class Verdict:
    """One filled-in row of a reviews file."""

    verdict: str
    finding_id: str
    call_id: str
    rule_id: str
    utterance: int | None
    time: float | None
    matched: str
    evidence: str
    note: str
    reviewer: str
    row: int


@dataclass
class Reviews:
    """A reviews file: its rows as written (to append to), and the verdicts they hold."""

    path: Path
    rows: list[dict[str, str]]
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # by finding_id, last row wins
    missed: list[Verdict] = field(default_factory=list)
    overridden: int = 0  # earlier verdicts replaced by a later row for the same finding
    pending: int = 0  # rows with no verdict yet
    #: each named reviewer's verdicts on findings, by finding_id (their own last row wins)
    by_reviewer: dict[str, dict[str, Verdict]] = field(default_factory=dict)
    unnamed: int = 0  # verdicts on findings with no reviewer name (left out of agreement)
    given: list[Verdict] = field(default_factory=list)  # every verdict, in row order

    @property
    def finding_ids(self) -> set[str]:
        return {_field(r, "finding_id") for r in self.rows if r.get("finding_id")}

    @property
    def reviewers(self) -> list[str]:
        """The named reviewers who gave verdicts on findings, sorted."""
        return sorted(self.by_reviewer)

    def add(self, v: Verdict) -> None:
        """Take one verdict (a later one replaces an earlier one on the same finding)."""
        self.given.append(v)
        if v.verdict == MISSED:
            self.missed.append(v)
            return
        if v.finding_id in self.verdicts:
            self.overridden += 1
        self.verdicts[v.finding_id] = v
        if v.reviewer:
            self.by_reviewer.setdefault(v.reviewer, {})[v.finding_id] = v
        else:
            self.unnamed += 1


def format_time(seconds: float | None) -> str:
    """``83.4`` -> ``00:01:23.4`` (the timestamped-text transcript notation)."""
    if seconds is None:
        return ""
    tenths = round(seconds * 10)
    h, rest = divmod(tenths, 36000)
    m, rest = divmod(rest, 600)
    return f"{h:02d}:{m:02d}:{rest // 10:02d}.{rest % 10}"


def _read_rows(path: Path) -> list[dict[str, str]]:
    """Raw rows (all values text) of a CSV or xlsx reviews file."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix != ".csv":
        raise ReviewsError([f"{path}: 复核表应为 .csv 或 .xlsx"])
    try:
        text = decode(safeio.read_bytes(path, current_limits().max_file_bytes))
    except LoadProblem as exc:
        raise ReviewsError([f"{path}: {exc.reason}"]) from None
    except safeio.RefusedFile as exc:
        raise ReviewsError([str(exc)]) from None
    except OSError as exc:
        raise ReviewsError([f"{path}: 无法读取:{exc.strerror or exc}"]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    table = [row for row in reader]
    return _rows_from_table(path, table)


def _read_xlsx(path: Path) -> list[dict[str, str]]:
    from zipfile import BadZipFile

    import openpyxl

    try:
        safeio.check_workbook(path, current_limits().max_file_bytes)
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except safeio.RefusedFile as exc:
        raise ReviewsError([str(exc)]) from None
    except (OSError, BadZipFile, KeyError, ValueError) as exc:
        raise ReviewsError([f"{path}: 无法作为 Excel 工作簿读取:{exc}"]) from None
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        table = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    return _rows_from_table(path, table)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows_from_table(path: Path, table: list[list[str]]) -> list[dict[str, str]]:
    if not table:
        return []
    header = [h.strip() for h in table[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ReviewsError([f"{path}:1: 缺少列:{', '.join(missing)}"
                            f"(复核表的列:{', '.join(REVIEW_COLUMNS)})"])
    rows: list[dict[str, str]] = []
    for cells in table[1:]:
        if not any(c.strip() for c in cells):
            rows.append({})  # keep row numbers right; dropped by read_reviews
            continue
        # values are kept as written (rewritten as they are when appending); the fields a
        # verdict is read from are cleaned in _field()
        row = dict(zip(header, cells, strict=False))
        row.pop("", None)
        rows.append(row)
    return rows


def _field(row: dict[str, str], key: str) -> str:
    return plain(row.get(key, "").strip())


def read_reviews(path: str | Path) -> Reviews:
    """Read and check a reviews file. Raises :class:`ReviewsError` listing every problem."""
    path = Path(path)
    if not path.exists():
        raise ReviewsError([f"{path}: 复核表不存在(csqa review RUN_DIR 可生成)"])
    raw = _read_rows(path)
    reviews = Reviews(path=path, rows=[r for r in raw if r])
    problems: list[str] = []
    for rowno, row in enumerate(raw, start=2):
        if not row:
            continue
        where = f"{path}:{rowno}"
        word = _field(row, "verdict")
        if not word:
            reviews.pending += 1
            continue
        verdict = VERDICT_WORDS.get(" ".join(word.lower().split()))
        if verdict is None:
            problems.append(f"{where}: verdict: {word!r} 不是 {', '.join(VERDICTS)} 之一"
                            "(或 确认、误报、漏报)")
            continue
        v, errs = _verdict(row, verdict, where, rowno)
        problems.extend(errs)
        if v is not None:
            reviews.add(v)
    if problems:
        raise ReviewsError(problems)
    return reviews


def combine_reviews(sheets: Sequence[Reviews]) -> Reviews:
    """Several reviews files as one, in the order given (as if their rows were one file's):
    one reviewer's later verdict on a finding replaces their earlier one."""
    if len(sheets) == 1:
        return sheets[0]
    combined = Reviews(path=sheets[0].path, rows=[r for s in sheets for r in s.rows],
                       pending=sum(s.pending for s in sheets))
    for sheet in sheets:
        for v in sheet.given:
            combined.add(v)
    return combined


def _verdict(row: dict[str, str], verdict: str, where: str, rowno: int
             ) -> tuple[Verdict | None, list[str]]:
    problems = []
    fid, call_id = _field(row, "finding_id"), _field(row, "call_id")
    rule_id = _field(row, "rule_id")
    if verdict == MISSED:
        if fid:
            problems.append(f"{where}: verdict: missed(漏报)用于机器没发现的违规:请新增一行,"
                            "填 call_id 和 rule_id,finding_id 留空(机器发现的违规请用 "
                            "confirmed 或 false_alarm)")
        if not call_id:
            problems.append(f"{where}: call_id: 漏报必须填写")
        if not rule_id:
            problems.append(f"{where}: rule_id: 漏报必须填写")
    elif not fid:
        problems.append(f"{where}: finding_id: 结论为 {verdict} 时必须填写")
    utterance: int | None = None
    if text := _field(row, "utterance"):
        try:
            utterance = int(text)
            if utterance < 0:
                raise ValueError
        except ValueError:
            problems.append(f"{where}: utterance: 应为句子编号(0、1 …),"
                            f"实际是 {text!r}")
    time: float | None = None
    if text := _field(row, "time"):
        try:
            time = parse_time(text)
        except ValueError:
            problems.append(f"{where}: time: 应为 00:01:23.4 或秒数,实际是 {text!r}")
    if problems:
        return None, problems
    return Verdict(verdict, fid, call_id, rule_id, utterance, time, _field(row, "matched"),
                   _field(row, "evidence"), _field(row, "note"), _field(row, "reviewer"),
                   rowno), []


# --------------------------------------------------------------------------- writing

def finding_row(f: dict[str, Any], ruleset_version: str) -> dict[str, Any]:
    """A reviews-file row for one finding (as in findings.jsonl), verdict left empty."""
    return {
        "finding_id": f.get("finding_id", ""), "call_id": f["call_id"],
        "agent_id": f.get("agent_id", ""), "rule_id": f["rule_id"],
        "rule_name": f.get("name", ""), "utterance": f.get("utterance"),
        "time": format_time(f.get("start")), "speaker": f.get("speaker") or "",
        "matched": f.get("matched", ""), "evidence": f.get("evidence", ""),
        "message": f.get("message", ""), "ruleset_version": ruleset_version,
        "verdict": "", "note": "", "reviewer": "",
    }


def write_reviews(path: str | Path, rows: Sequence[dict[str, Any]]) -> None:
    """Write a reviews file (CSV or xlsx by suffix) atomically: a crash leaves the old one."""
    path = Path(path)
    columns = list(REVIEW_COLUMNS)
    for row in rows:  # keep columns a reviewer added (e.g. "team lead comment")
        columns.extend(k for k in row if k not in columns)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise ReviewsError([f"{path}: 复核表应为 .csv 或 .xlsx"])
    with safeio.replacing(path) as tmp:
        if path.suffix.lower() == ".xlsx":
            _write_xlsx(tmp, columns, rows)
        else:
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(columns)
                for row in rows:
                    w.writerow([_cell(row.get(c)) for c in columns])


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return safe_cell(value) if isinstance(value, str) else value


_WIDTHS: dict[str, float] = {"finding_id": 19, "call_id": 18, "rule_id": 22, "rule_name": 20, "time": 11,
           "matched": 16, "evidence": 48, "message": 30, "verdict": 12, "note": 30}


def _write_xlsx(path: Path, columns: list[str], rows: Sequence[dict[str, Any]]) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    def verdict_list(ws: Any) -> None:
        col = get_column_letter(columns.index("verdict") + 1)
        dv = DataValidation(type="list", formula1=f'"{",".join(VERDICTS)}"', allow_blank=True,
                            showErrorMessage=False, promptTitle="verdict",
                            prompt="confirmed 确认 / false_alarm 误报 / missed 漏报(新增行)")
        dv.add(f"{col}2:{col}1048576")
        ws.data_validations.append(dv)

    def values(row: dict[str, Any]) -> list[Any]:
        out = []
        for c in columns:
            v = row.get(c)
            if c == "utterance" and isinstance(v, str) and v.isdigit():
                v = int(v)
            out.append(_cell(v))
        return out

    widths = {get_column_letter(i): _WIDTHS.get(c, 10.0) for i, c in enumerate(columns, start=1)}
    write_sheets(path, [Sheet(SHEET, columns, [values(r) for r in rows], freeze="B2",
                              widths=widths, setup=verdict_list),
                        Sheet("说明", [], [[line] for line in _HELP], widths={"A": 100})])


_HELP = [
    "复核说明 (how to review)",
    "每行是一条机器发现的违规;在 verdict 列填写结论,note 写理由,reviewer 写复核人。",
    "confirmed(确认):违规属实。",
    "false_alarm(误报):不是违规,该通话的扣分将退回。",
    "missed(漏报):机器没发现的违规——请新增一行,填 call_id、rule_id(可选 utterance、time),"
    "finding_id 留空;它会按该规则扣分。",
    "verdict 留空表示尚未复核。同一条发现有多条结论时,以最后一行为准。",
    "应用结论:csqa audit … --reviews 本文件;规则精确率:csqa rules stats RUN_DIR --reviews 本文件。",
]


@dataclass
class ReviewUpdate:
    """What :func:`update_reviews` did."""

    path: Path
    added: int
    kept: int
    candidates: int  # findings of the run not already in the file before this update
    by_stratum: dict[str, int] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        """Findings of the run still not in the file after this update (a sample leaves some)."""
        return self.candidates - self.added


def sample_findings(findings: Sequence[dict[str, Any]], n: int, by: str | None = None,
                    seed: int = 0) -> list[dict[str, Any]]:
    """A reproducible sample: ``n`` findings per rule (``by='rule'``), per agent
    (``by='agent'``), or ``n`` in all (``by=None``).

    Each finding's place in the draw is a hash of the seed and its stable id, so the same run
    and seed always give the same sample, whatever order the findings were read in, and a
    finding added to the run does not reshuffle the others.
    """
    if by not in (None, *SAMPLE_BY):
        raise ValueError(f"by must be one of {', '.join(SAMPLE_BY)}")
    key = {"rule": "rule_id", "agent": "agent_id"}.get(by or "")
    strata: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        strata[str(f.get(key, "")) if key else ""].append(f)

    def draw(f: dict[str, Any]) -> bytes:
        ident = f.get("finding_id") or orjson.dumps(f, option=orjson.OPT_SORT_KEYS).decode()
        return hashlib.blake2b(f"{seed}:{ident}".encode(), digest_size=8).digest()

    picked: list[dict[str, Any]] = []
    for name in sorted(strata):
        picked.extend(sorted(strata[name], key=draw)[:n])
    return picked


def update_reviews(run_dir: str | Path, out: str | Path | None = None, sample: int | None = None,
                   by: str | None = None, seed: int = 0) -> ReviewUpdate:
    """Write (or append to) the reviews file ``out`` (default ``RUN_DIR/reviews.csv``).

    Every row already in the file is kept as it is, verdicts included; findings of the run
    not yet in the file are added (all of them, or a :func:`sample_findings` sample). Rows
    are ordered call by call, then by time, so a reviewer can listen through each call once.
    """
    run = open_run(run_dir)
    path = Path(out) if out is not None else run.path / "reviews.csv"
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ReviewsError([f"{path}: 复核表应为 .csv 或 .xlsx"])
    current = read_reviews(path) if path.exists() else None
    existing = current.rows if current else []
    known = current.finding_ids if current else set()
    candidates = [f for f in run.findings() if f.get("finding_id") not in known]
    if any(not f.get("finding_id") for f in candidates):
        raise ReviewsError([f"{run.path / 'findings.jsonl'}: 违规记录没有 finding_id"
                            "(由较早的 csqa 生成);请重新运行 csqa audit"])
    chosen = candidates if sample is None else sample_findings(candidates, sample, by, seed)
    chosen = sorted(chosen, key=lambda f: (str(f["call_id"]), f.get("start") or 0.0,
                                           f.get("utterance") or -1, str(f["rule_id"])))
    key = {"rule": "rule_id", "agent": "agent_id"}.get(by or "")
    strata = Counter(str(f.get(key, "")) for f in chosen) if key else {}
    new_rows = [finding_row(f, run.ruleset_version) for f in chosen]
    write_reviews(path, [*existing, *new_rows])
    return ReviewUpdate(path, added=len(new_rows), kept=len(existing),
                        candidates=len(candidates), by_stratum=dict(strata))


# --------------------------------------------------------------------------- applying

REVIEWED_CALL_COLUMNS = ["reviewed_score", "reviewed_passed", "reviewed_vetoed", "confirmed",
                         "false_alarms", "missed", "unreviewed"]
REVIEWED_AGENT_COLUMNS = ["reviewed_mean_score", "reviewed_pass_rate", "reviewed_vetoes",
                          "confirmed", "false_alarms", "missed"]


@dataclass
class ReviewedCall:
    """One call's machine and reviewed results."""

    call_id: str
    agent_id: str
    score: float
    passed: bool
    reviewed_score: float
    reviewed_passed: bool
    reviewed_vetoed: bool
    confirmed: int = 0
    false_alarms: int = 0
    missed: int = 0
    unreviewed: int = 0


@dataclass
class ReviewedRun:
    """An audit run with verdicts applied.

    ``calls`` and ``agents`` are the run's calls.csv and agents.csv rows (text, as written)
    with the reviewed columns :data:`REVIEWED_CALL_COLUMNS` / :data:`REVIEWED_AGENT_COLUMNS`
    added; the machine ``score``/``passed``/``mean_score``/``pass_rate`` columns are unchanged.
    ``findings`` are the machine findings each with ``verdict``/``note``/``reviewer`` (empty
    when not reviewed), followed by the reviewer-added missed ones (``verdict == "missed"``).
    """

    run: AuditRun
    reviews_path: Path
    calls: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    results: dict[str, ReviewedCall]
    applied: Counter[str]
    #: verdicts on calls of this run whose finding is not in it (another ruleset version, or
    #: the rule no longer fires): they were not applied.
    stale: list[Verdict]
    problems: list[str]

    @property
    def machine_mean(self) -> float:
        return _mean([c.score for c in self.results.values()])

    @property
    def reviewed_mean(self) -> float:
        return _mean([c.reviewed_score for c in self.results.values()])

    @property
    def machine_pass_rate(self) -> float:
        return _rate([c.passed for c in self.results.values()])

    @property
    def reviewed_pass_rate(self) -> float:
        return _rate([c.reviewed_passed for c in self.results.values()])


def _mean(xs: Sequence[float]) -> float:
    return round(sum(xs) / len(xs), 2) if xs else 0.0


def _rate(xs: Sequence[bool]) -> float:
    return round(sum(xs) / len(xs), 4) if xs else 0.0


def _truth(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "yes")


def apply_reviews(run_dir: str | Path | AuditRun, reviews: Reviews | str | Path) -> ReviewedRun:
    """Apply a reviews file's verdicts to an audit run (nothing is written; see
    :func:`write_reviewed`).

    A ``false_alarm`` finding no longer deducts (nor vetoes); a ``missed`` row for a call of
    this run deducts its rule's points as a finding would (rule caps and vetoes apply);
    ``confirmed`` changes nothing. Scores are recomputed with the run's own scoring
    (run.json), so a reviewed score is exactly what the machine would have given with the
    reviewer's findings.
    """
    run = run_dir if isinstance(run_dir, AuditRun) else open_run(run_dir)
    rv = reviews if isinstance(reviews, Reviews) else read_reviews(reviews)
    calls = run.table("calls.csv")
    agents = run.table("agents.csv")
    by_call: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in run.findings():
        by_call[str(f["call_id"])].append(f)
    missed_by_call: dict[str, list[Verdict]] = defaultdict(list)
    call_ids = {c["call_id"] for c in calls}
    problems: list[str] = []
    for v in rv.missed:
        if v.call_id not in call_ids:
            continue
        if v.rule_id not in run.rules:
            problems.append(f"{rv.path}:{v.row}: rule_id: {v.rule_id!r} 不是这次运行的规则集"
                            f"({run.ruleset_name} {run.ruleset_version})中的规则;"
                            "这条漏报未计入")
            continue
        missed_by_call[v.call_id].append(v)
    run_ids: set[str] = set()
    findings_out: list[dict[str, Any]] = []
    results: dict[str, ReviewedCall] = {}
    applied: Counter[str] = Counter()
    for c in calls:
        cid = c["call_id"]
        counts: Counter[str] = Counter()
        rc = ReviewedCall(cid, c.get("agent_id", ""), float(c["score"]), _truth(c["passed"]),
                          0.0, False, False)
        for f in by_call.get(cid, []):
            fid = f.get("finding_id", "")
            run_ids.add(fid)
            given = rv.verdicts.get(fid)
            verdict = given.verdict if given else ""
            findings_out.append({**f, "verdict": verdict, "note": given.note if given else "",
                                 "reviewer": given.reviewer if given else ""})
            if verdict == FALSE_ALARM:
                rc.false_alarms += 1
            else:
                counts[f["rule_id"]] += 1
                if verdict == CONFIRMED:
                    rc.confirmed += 1
                else:
                    rc.unreviewed += 1
        for m in missed_by_call.get(cid, []):
            counts[m.rule_id] += 1
            rc.missed += 1
            findings_out.append(_missed_finding(m, c, run.rules[m.rule_id]))
        rc.reviewed_score, rc.reviewed_passed, rc.reviewed_vetoed, _ = deduct(
            counts, run.rules.values(), run.base_score, run.pass_mark,
            set(filter(None, (c.get("not_evaluable") or "").split(";"))))
        applied.update({CONFIRMED: rc.confirmed, FALSE_ALARM: rc.false_alarms,
                        MISSED: rc.missed})
        results[cid] = rc
    stale = [v for v in rv.verdicts.values()
             if v.call_id in call_ids and v.finding_id not in run_ids]
    return ReviewedRun(run, rv.path, _with_call_columns(calls, results),
                       _with_agent_columns(agents, results), findings_out, results,
                       applied, stale, problems)


#: what the report and the run history keep of a reviewed finding
VERDICT_FIELDS = ("call_id", "finding_id", "agent_id", "rule_id", "name", "start", "evidence",
                  "verdict", "note", "reviewer")


def recorded_verdicts(run: AuditRun) -> list[dict[str, Any]]:
    """The verdicts that ``csqa audit --reviews`` applied to ``run`` (the reviews file named in
    run.json ``reviews.file``, looked for as given and in the run folder), one dict of
    :data:`VERDICT_FIELDS` per reviewed finding of the run, then the missed ones it added;
    ``[]`` when no reviews were applied or the file is no longer there."""
    applied = run.record.get("reviews")
    name = applied.get("file") if isinstance(applied, dict) else None
    if not isinstance(name, str) or not name:
        return []
    path = next((p for p in (Path(name), run.path / Path(name).name) if p.is_file()), None)
    if path is None:
        return []
    reviewed = apply_reviews(run, path)
    return [{k: f.get(k) for k in VERDICT_FIELDS} for f in reviewed.findings if f["verdict"]]


def _missed_finding(v: Verdict, call: dict[str, str], cost: RuleCost) -> dict[str, Any]:
    return {"call_id": v.call_id, "agent_id": call.get("agent_id", ""), "rule_id": v.rule_id,
            "kind": cost.kind, "name": cost.name, "severity": "", "points": cost.points,
            "utterance": v.utterance, "start": v.time, "end": v.time, "speaker": None,
            "matched": v.matched, "evidence": v.evidence, "message": v.note,
            "finding_id": "", "verdict": MISSED, "note": v.note, "reviewer": v.reviewer}


def _strip(row: dict[str, Any], columns: Iterable[str]) -> dict[str, Any]:
    drop = set(columns)
    return {k: v for k, v in row.items() if k not in drop}


def _insert_after(row: dict[str, Any], anchor: str, extra: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        out[k] = v
        if k == anchor:
            out.update(extra)
    if anchor not in row:
        out.update(extra)
    return out


def _with_call_columns(calls: list[dict[str, str]], results: dict[str, ReviewedCall]
                       ) -> list[dict[str, Any]]:
    out = []
    for c in calls:
        r = results[c["call_id"]]
        extra = {"reviewed_score": r.reviewed_score, "reviewed_passed": r.reviewed_passed,
                 "reviewed_vetoed": r.reviewed_vetoed, "confirmed": r.confirmed,
                 "false_alarms": r.false_alarms, "missed": r.missed, "unreviewed": r.unreviewed}
        out.append(_insert_after(_strip(c, REVIEWED_CALL_COLUMNS), "source", extra))
    return out


def _with_agent_columns(agents: list[dict[str, str]], results: dict[str, ReviewedCall]
                        ) -> list[dict[str, Any]]:
    per_agent: dict[str, list[ReviewedCall]] = defaultdict(list)
    for r in results.values():
        per_agent[r.agent_id].append(r)
    out = []
    for a in agents:
        rs = per_agent.get(a["agent_id"], [])
        extra = {"reviewed_mean_score": _mean([r.reviewed_score for r in rs]),
                 "reviewed_pass_rate": _rate([r.reviewed_passed for r in rs]),
                 "reviewed_vetoes": sum(r.reviewed_vetoed for r in rs),
                 "confirmed": sum(r.confirmed for r in rs),
                 "false_alarms": sum(r.false_alarms for r in rs),
                 "missed": sum(r.missed for r in rs)}
        out.append(_insert_after(_strip(a, REVIEWED_AGENT_COLUMNS), "worst_call", extra))
    return out


def write_reviewed(reviewed: ReviewedRun) -> None:
    """Store reviewed scores in the run folder: calls.csv and agents.csv gain the reviewed
    columns (machine columns unchanged) and run.json records which reviews were applied.
    The three switch as one set (see :func:`~csqa.reporters.files.replace_outputs`); applying
    again replaces the previous reviewed columns.
    """
    folder = reviewed.run.path
    record = dict(reviewed.run.record)
    record["reviews"] = {
        "file": str(reviewed.reviews_path),
        "confirmed": reviewed.applied[CONFIRMED], "false_alarm": reviewed.applied[FALSE_ALARM],
        "missed": reviewed.applied[MISSED], "stale": len(reviewed.stale),
        "machine_mean_score": reviewed.machine_mean, "reviewed_mean_score": reviewed.reviewed_mean,
        "machine_pass_rate": reviewed.machine_pass_rate,
        "reviewed_pass_rate": reviewed.reviewed_pass_rate,
    }
    replace_outputs(folder, {"calls.csv": _csv_bytes(reviewed.calls),
                             "agents.csv": _csv_bytes(reviewed.agents)}, record)


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO(newline="")
    if rows:
        w = csv.writer(buf)
        w.writerow(list(rows[0]))
        for row in rows:
            w.writerow([safe_cell(v) for v in row.values()])
    return buf.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- rule stats

#: Fewer findings than this ruled on by both reviewers of a pair: their agreement is not
#: shown (样本不足). With 10 findings one disagreement moves agreement by 10 points and kappa
#: by more; below that the figures say more about chance than about the reviewers.
MIN_PAIRED = 10

#: Landis & Koch's bands for kappa (upper bounds; below 0 is worse than chance), in words a
#: team lead reads.
KAPPA_LEVELS = ((0.2, "轻微"), (0.4, "一般"), (0.6, "中等"), (0.8, "较强"))


@dataclass
class Agreement:
    """Two reviewers' verdicts (confirmed / false_alarm) on the findings both ruled on."""

    first: str
    second: str
    #: (first's verdict, second's verdict) -> how many findings
    table: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def paired(self) -> int:
        """Findings both reviewers ruled on."""
        return sum(self.table.values())

    @property
    def agreed(self) -> int:
        return sum(n for (a, b), n in self.table.items() if a == b)

    @property
    def sufficient(self) -> bool:
        """Whether enough findings were ruled on by both to show agreement (:data:`MIN_PAIRED`)."""
        return self.paired >= MIN_PAIRED

    @property
    def agreement(self) -> float | None:
        """Share of the paired findings with the same verdict; ``None`` with none paired."""
        return round(self.agreed / self.paired, 4) if self.paired else None

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa, (p_o − p_e) / (1 − p_e), where p_e is the agreement expected by
        chance from each reviewer's own share of each verdict. ``None`` when nothing is paired,
        or when both gave one and the same verdict throughout (p_e = 1: kappa is undefined).

        Counted in whole numbers, n·agreed − Σ, over n² − Σ (Σ: per verdict, how often the first
        gave it times how often the second did), so the value is exact before rounding.
        """
        n = self.paired
        firsts: Counter[str] = Counter()
        seconds: Counter[str] = Counter()
        for (a, b), k in self.table.items():
            firsts[a] += k
            seconds[b] += k
        chance = sum(k * seconds[v] for v, k in firsts.items())
        if n == 0 or chance == n * n:
            return None
        return round((n * self.agreed - chance) / (n * n - chance), 4)

    @property
    def level(self) -> str:
        """Kappa in words (Landis & Koch); empty when there is no kappa."""
        k = self.kappa
        if k is None:
            return ""
        if k < 0:
            return "低于随机"
        return next((word for bound, word in KAPPA_LEVELS if k <= bound), "几乎完全一致")


@dataclass
class RuleStats:
    """How one rule fared under review."""

    rule_id: str
    name: str
    findings: int = 0
    confirmed: int = 0
    false_alarms: int = 0
    missed: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)  # false alarms
    #: per pair of reviewers (names sorted), how they agree on this rule's findings
    agreements: list[Agreement] = field(default_factory=list)

    @property
    def reviewed(self) -> int:
        return self.confirmed + self.false_alarms

    @property
    def precision(self) -> float | None:
        """Confirmed share of the reviewed findings; ``None`` when none was reviewed."""
        return round(self.confirmed / self.reviewed, 4) if self.reviewed else None


ReviewsArg = Reviews | str | Path


def rule_stats(run_dirs: Sequence[str | Path], reviews: ReviewsArg | Sequence[ReviewsArg],
               examples: int = 3) -> list[RuleStats]:
    """Per rule over one or more runs: findings, reviewed, confirmed, false alarms,
    precision, reviewer-added misses, up to ``examples`` false alarms (with the reviewer's
    note), and the agreement of every pair of named reviewers on the rule's findings. A
    finding audited in several runs (same id) is counted once.

    ``reviews`` is one reviews file or several (:func:`combine_reviews`). Rules come in the
    runs' ruleset order; rules with reviewed findings are sorted by precision, worst first, so
    the rules to fix come on top.
    """
    rv = _reviews(reviews)
    pairs = list(combinations(rv.reviewers, 2))
    stats: dict[str, RuleStats] = {}
    seen: set[str] = set()
    call_ids: set[str] = set()

    def rule(rid: str, name: str) -> RuleStats:
        st = stats.get(rid)
        if st is None:
            st = stats[rid] = RuleStats(rid, name, agreements=[Agreement(a, b) for a, b in pairs])
        return st

    for d in run_dirs:
        run = open_run(d)
        for rid, cost in run.rules.items():
            rule(rid, cost.name)
        for f in run.findings():
            call_ids.add(str(f["call_id"]))
            fid = f.get("finding_id") or ""
            if fid in seen:
                continue
            seen.add(fid)
            st = rule(f["rule_id"], f.get("name", ""))
            st.findings += 1
            if pairs:
                _pair_verdicts(st, rv.by_reviewer, fid)
            v = rv.verdicts.get(fid)
            if v is None:
                continue
            if v.verdict == CONFIRMED:
                st.confirmed += 1
            elif v.verdict == FALSE_ALARM:
                st.false_alarms += 1
                if len(st.examples) < examples:
                    # a note is free text: a reviewer may quote the number in question
                    st.examples.append({**f, "note": redact(v.note), "reviewer": v.reviewer})
        for c in run.table("calls.csv"):
            call_ids.add(c["call_id"])
    for v in rv.missed:
        if v.call_id in call_ids:
            rule(v.rule_id, v.rule_id).missed += 1
    order = list(stats)
    return sorted(stats.values(), key=lambda s: (s.precision is None, s.precision or 0.0,
                                                 order.index(s.rule_id)))


def _reviews(reviews: ReviewsArg | Sequence[ReviewsArg]) -> Reviews:
    given = [reviews] if isinstance(reviews, Reviews | str | Path) else list(reviews)
    return combine_reviews([r if isinstance(r, Reviews) else read_reviews(r) for r in given])


def _pair_verdicts(st: RuleStats, by_reviewer: dict[str, dict[str, Verdict]], fid: str) -> None:
    for agreement in st.agreements:
        a = by_reviewer[agreement.first].get(fid)
        b = by_reviewer[agreement.second].get(fid)
        if a is not None and b is not None:
            agreement.table[a.verdict, b.verdict] += 1


def overall_agreement(stats: Sequence[RuleStats]) -> list[Agreement]:
    """Every pair of reviewers' agreement over all rules' findings (the rules' tables summed)."""
    if not stats:
        return []
    total = [Agreement(a.first, a.second) for a in stats[0].agreements]
    for st in stats:
        for mine, theirs in zip(total, st.agreements, strict=True):
            mine.table.update(theirs.table)
    return total


AGREEMENT_COLUMNS = ["规则", "名称", "复核人", "共同复核", "一致", "一致率", "kappa", "一致程度"]
TOO_FEW = "样本不足"


def agreement_rows(stats: Sequence[RuleStats]) -> list[list[str]]:
    """The reviewer-agreement table (:data:`AGREEMENT_COLUMNS`), as shown: per rule and pair of
    reviewers with findings both ruled on, then 全部 (all rules) for every pair. Fewer than
    :data:`MIN_PAIRED` shared findings show 样本不足 instead of figures."""
    rows: list[list[str]] = []
    for st in stats:
        rows.extend(_agreement_row(st.rule_id, st.name, a) for a in st.agreements if a.paired)
    rows.extend(_agreement_row("全部", "", a) for a in overall_agreement(stats))
    return rows


def _agreement_row(rule_id: str, name: str, a: Agreement) -> list[str]:
    who = f"{a.first} / {a.second}"
    if not a.sufficient:
        return [rule_id, name, who, str(a.paired), str(a.agreed), TOO_FEW, TOO_FEW, ""]
    kappa = "—" if a.kappa is None else f"{a.kappa:.2f}"
    return [rule_id, name, who, str(a.paired), str(a.agreed), f"{a.agreement:.0%}", kappa,
            a.level or "无法计算(结论全相同)"]
