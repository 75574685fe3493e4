"""Call records (CDR): per-call metadata from the telephony system, joined to transcripts.

``--calls FILE.csv|.xlsx`` is a table with one row per call. Its columns are found by name,
English or Chinese (see :data:`COLUMNS`); ``--map agent_id=工号`` names a column explicitly.
A row is joined to a transcript by call id, or else by the transcript's file name (a
``file`` column such as 录音文件, or a call id equal to the file's name). The record's values
replace the transcript's own call-level fields.

Hang-up values are normalised from common telephony vocabularies (:data:`HANGUP_VALUES`):
csqa/Chinese words (坐席/客户/系统 …), FreeSWITCH ``sip_hangup_disposition`` (read for the
customer's leg: ``recv_bye`` = the customer hung up, ``send_bye`` = our side, the agent, did;
``send_refuse``/``send_cancel`` = the system), Amazon Connect ``DisconnectReason``
(``AGENT_DISCONNECT`` …) and the Genesys Cloud interactions view "Disconnect Type"
(``Agent``, ``External`` = the customer, ``System``, ``Conversation Inactivity``,
``Session Expired``). A value in none of them is reported with its file and line and left
unknown (the hang-up rule is then not evaluable for that call).

Transcripts with no record and records with no transcript are both reported (errors.csv,
status ``no_record`` / ``no_transcript``) and counted in the run summary.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from csqa import safeio
from csqa.errors import InputError
from csqa.loaders.common import (
    DIRECTION_LABELS,
    ID_FIELDS,
    LoadProblem,
    current_limits,
    decode,
    normal_id,
)
from csqa.loaders.record_columns import COLUMNS, column_key
from csqa.model import InputProblem, Transcript

FIELDS = tuple(COLUMNS)

#: Hang-up vocabulary -> agent / customer / system; ``None`` = the record does not know.
HANGUP_VALUES: dict[str, str | None] = {
    # csqa and Chinese call-centre exports
    "agent": "agent",
    "坐席": "agent",
    "座席": "agent",
    "客服": "agent",
    "坐席挂机": "agent",
    "坐席挂断": "agent",
    "座席挂机": "agent",
    "坐席先挂": "agent",
    "员工挂机": "agent",
    "customer": "customer",
    "客户": "customer",
    "用户": "customer",
    "顾客": "customer",
    "客户挂机": "customer",
    "客户挂断": "customer",
    "用户挂机": "customer",
    "客户先挂": "customer",
    "system": "system",
    "系统": "system",
    "系统挂机": "system",
    "系统挂断": "system",
    "超时挂机": "system",
    "ivr": "system",
    "ivr挂机": "system",
    "unknown": None,
    "未知": None,
    "": None,
    "none": None,
    "null": None,
    "-": None,
    # FreeSWITCH sip_hangup_disposition, read on the customer's leg
    "recv_bye": "customer",
    "recv_cancel": "customer",
    "recv_refuse": "customer",
    "send_bye": "agent",
    "send_cancel": "system",
    "send_refuse": "system",
    # Amazon Connect contact record DisconnectReason
    "agent_disconnect": "agent",
    "customer_disconnect": "customer",
    "third_party_disconnect": "system",
    "telecom_problem": "system",
    "contact_flow_disconnect": "system",
    "expired": "system",
    "api": "system",
    "barged": "system",
    "other": None,
    # Genesys Cloud interactions view, Disconnect Type (External = the customer)
    "external": "customer",
    "conversation_inactivity": "system",
    "session_expired": "system",
    "system_disconnect": "system",
}
DIRECTIONS = {k: v for k, v in DIRECTION_LABELS.items() if v is not None}


def normalise_hangup(value: Any) -> str | None:
    """agent / customer / system / None from any known vocabulary; ValueError otherwise."""
    if value is None:
        return None
    k = re.sub(r"[\s\-]+", "_", str(value).strip()).lower()
    if k in HANGUP_VALUES:
        return HANGUP_VALUES[k]
    raise ValueError(value)


def normalise_direction(value: str) -> str:
    return DIRECTIONS.get(value.strip().lower(), value.strip())


def _started(value: Any) -> str | None:
    """ISO 8601 text for a start time as CDRs write it: ISO or ``2026/11/21 09:15:02``,
    compact ``20261121091502``, an epoch in seconds (FreeSWITCH ``start_epoch``) or
    milliseconds (UTC), or an Excel date cell."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().replace("/", "-")
    try:
        if text.isdigit() and len(text) == 14:
            return datetime.strptime(text, "%Y%m%d%H%M%S").isoformat()
        if text.isdigit() and len(text) in (10, 13):
            seconds = int(text) / (1000 if len(text) == 13 else 1)
            return datetime.fromtimestamp(seconds, UTC).isoformat()
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise LoadProblem(
            f"started_at: 应为日期时间,如 2026-11-21 09:15:02,实际是 {value!r}"
        ) from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 工号 1024 as 1024.0
    return str(value).strip()


@dataclass(slots=True)
class CallRecord:
    """One row of the call records: its line and its normalised values."""

    line: int
    call_id: str | None
    file: str | None
    values: dict[str, str | None]


@dataclass
class CallRecords:
    """The call records of one file, indexed for joining, with the problems found reading it."""

    path: str
    by_id: dict[str, CallRecord] = field(default_factory=dict)
    by_file: dict[str, CallRecord] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)
    matched: set[int] = field(default_factory=set)
    transcripts_without_record: int = 0

    def find(self, t: Transcript) -> CallRecord | None:
        """The record of a transcript: by call id, else by its file name (with or without suffix)"""
        rec = self.by_id.get(t.call_id)
        if rec is not None:
            return rec
        name = re.split(r"[/\\!]", t.source)[-1]
        stem = name.rsplit(".", 1)[0]
        for key in (name, stem):
            rec = self.by_file.get(key) or self.by_id.get(key)
            if rec is not None:
                return rec
        return None

    def join(self, t: Transcript) -> tuple[Transcript, InputProblem | None]:
        """Fill ``t`` from its record; a ``no_record`` problem when there is none."""
        rec = self.find(t)
        if rec is None:
            self.transcripts_without_record += 1
            return t, InputProblem(
                t.source,
                t.line,
                f"没有通话记录:{self.path} 中没有通话 {t.call_id!r} 的记录"
                "(已审计,但缺少坐席、开始时间等信息)",
                status="no_record",
                call_id=t.call_id,
            )
        self.matched.add(rec.line)
        v = rec.values
        if rec.call_id:
            t.call_id = rec.call_id
        for name in ("agent_id", "agent_name", "team", "started_at", "direction"):
            if v.get(name):
                setattr(t, name, v[name])
        if "hangup_by" in v:
            t.hangup_by = v["hangup_by"]
        t.extra["call_record"] = f"{self.path}:{rec.line}"
        if v.get("tags"):
            t.extra["tags"] = [x.strip() for x in re.split(r"[,,;;|/、]", str(v["tags"]))
                               if x.strip()]
        if v.get("hold_seconds") is not None:
            t.extra["hold_seconds"] = float(str(v["hold_seconds"]))
        return t, None

    def unmatched(self) -> Iterator[InputProblem]:
        """A ``no_transcript`` problem for every record no transcript was joined to."""
        seen: set[int] = set()
        for rec in [*self.by_id.values(), *self.by_file.values()]:
            if rec.line in self.matched or rec.line in seen:
                continue
            seen.add(rec.line)
            yield InputProblem(
                self.path,
                rec.line,
                f"通话记录没有对应的转写:{rec.call_id or rec.file!r}",
                status="no_transcript",
                call_id=rec.call_id,
            )

    @property
    def records_without_transcript(self) -> int:
        return len({r.line for r in [*self.by_id.values(), *self.by_file.values()]} - self.matched)


def _rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(line, cells) of a CSV or XLSX table, blank rows skipped."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            safeio.check_workbook(path, current_limits().max_file_bytes)
            wb = load_workbook(path, read_only=True, data_only=True)
        except safeio.RefusedFile as exc:
            raise InputError(str(exc)) from None
        except Exception as exc:  # openpyxl raises many types for a broken file
            raise InputError(
                f"{path}: 不是可读的 .xlsx 工作簿({type(exc).__name__}: {exc})"
            ) from None
        try:
            ws = wb.worksheets[0]
            for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
                if any(c not in (None, "") for c in row):
                    yield i, list(row)
        finally:
            wb.close()
        return
    if suffix not in (".csv", ".tsv", ".txt"):
        raise InputError(f"{path}: 通话记录应为 .csv 或 .xlsx 表格")
    try:
        text = decode(safeio.read_bytes(path, current_limits().max_file_bytes))
    except LoadProblem as exc:
        raise InputError(f"{path}: {exc.reason}") from None
    except safeio.RefusedFile as exc:
        raise InputError(str(exc)) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if suffix == ".tsv" else ",")
    for row in reader:
        if any(c.strip() for c in row):
            yield reader.line_num, row


def _columns(header: list[str], mapping: Mapping[str, str], path: Path) -> dict[str, int]:
    keys = {column_key(h): i for i, h in enumerate(header) if h}
    cols: dict[str, int] = {}
    for name, col in mapping.items():
        if column_key(col) not in keys:
            raise InputError(
                f"{path}:1: --map {name}={col}: 没有列 {col!r};表中的列:"
                + ", ".join(h for h in header if h)
            )
        cols[name] = keys[column_key(col)]
    for name, aliases in COLUMNS.items():
        if name in cols:
            continue
        for alias in aliases:
            i = keys.get(column_key(alias))
            if i is not None and i not in cols.values():
                cols[name] = i
                break
    if "call_id" not in cols and "file" not in cols:
        raise InputError(
            f"{path}:1: 没有通话 ID 列(找过 call_id、通话ID、呼叫编号 …,以及录音文件等文件名列);"
            "请用 --map call_id=列名 指定"
        )
    return cols


def check_mapping(mapping: Mapping[str, str]) -> None:
    """InputError for a ``--map`` field csqa does not know."""
    from csqa.ruleset import did_you_mean

    for name in mapping:
        if name not in COLUMNS:
            raise InputError(
                f"--map {name}=…: 未知的字段{did_you_mean(name, FIELDS)};"
                f"可用的字段:{', '.join(FIELDS)}"
            )


def load_records(path: str | Path, mapping: Mapping[str, str] | None = None) -> CallRecords:
    """Read a call-record table. InputError when the file cannot be used at all; problems with
    single rows (bad values, duplicate ids) are listed in ``problems`` with their line."""
    path = Path(path)
    mapping = dict(mapping or {})
    check_mapping(mapping)
    if not path.exists():
        raise InputError(f"{path}: 通话记录文件不存在")
    records = CallRecords(str(path))
    rows = _rows(path)
    try:
        first = next(rows)
    except StopIteration:
        raise InputError(f"{path}: 通话记录文件是空的(应有表头行)") from None
    header = [_cell(c) for c in first[1]]
    cols = _columns(header, mapping, path)
    unused = [h for i, h in enumerate(header) if h and i not in cols.values()]
    if unused:
        records.problems.append(InputProblem(
            str(path), first[0], f"未使用的列:{'、'.join(unused)}(不是认识的通话记录字段;"
            f"若其中有需要的,用 --map 字段=列名 指定,字段:{', '.join(FIELDS)})",
            status="warning"))
    for line, row in rows:
        cells = {name: _cell(row[i]) if i < len(row) else "" for name, i in cols.items()}
        raw = {name: (row[i] if i < len(row) else None) for name, i in cols.items()}
        rec = _record(line, cells, raw, records)
        if rec is None:
            continue
        if rec.call_id:
            if rec.call_id in records.by_id:
                first_line = records.by_id[rec.call_id].line
                records.problems.append(
                    InputProblem(
                        str(path),
                        line,
                        f"通话记录重复:{rec.call_id!r}(第一次出现在第 {first_line} 行);已忽略",
                        call_id=rec.call_id,
                    )
                )
                continue
            records.by_id[rec.call_id] = rec
        if rec.file:
            records.by_file.setdefault(rec.file, rec)
            records.by_file.setdefault(rec.file.rsplit(".", 1)[0], rec)
    return records


def _record(
    line: int, cells: dict[str, str], raw: dict[str, Any], records: CallRecords
) -> CallRecord | None:
    warnings: list[str] = []
    for name in ID_FIELDS:  # keys, compared as the transcripts' are
        if cells.get(name):
            cells[name] = normal_id(cells[name], name, warnings) or ""
    records.problems.extend(InputProblem(records.path, line, w, status="warning")
                            for w in warnings)
    call_id = cells.get("call_id") or None
    file = Path(cells["file"].replace("\\", "/")).name if cells.get("file") else None
    if not call_id and not file:
        records.problems.append(
            InputProblem(records.path, line, "通话记录没有通话 ID 也没有文件名;已忽略")
        )
        return None
    values: dict[str, str | None] = {}
    for name in ("agent_id", "agent_name", "team"):
        if cells.get(name):
            values[name] = cells[name]
    if cells.get("direction"):
        values["direction"] = normalise_direction(cells["direction"])
    if cells.get("tags"):
        values["tags"] = cells["tags"]
    if cells.get("hold_seconds"):
        try:
            hold = float(cells["hold_seconds"])
            if not hold >= 0:
                raise ValueError
            values["hold_seconds"] = str(hold)
        except ValueError:
            records.problems.append(InputProblem(
                records.path, line, f"hold_seconds: 应为 ≥ 0 的秒数,实际是 "
                f"{cells['hold_seconds']!r}(按未知处理)", call_id=call_id))
    if cells.get("started_at"):
        try:
            values["started_at"] = _started(raw["started_at"])
        except LoadProblem as exc:
            records.problems.append(InputProblem(records.path, line, exc.reason, call_id=call_id))
    if "hangup_by" in cells:
        try:
            values["hangup_by"] = normalise_hangup(cells["hangup_by"])
        except ValueError:
            values["hangup_by"] = None
            records.problems.append(
                InputProblem(
                    records.path,
                    line,
                    f"hangup_by: 无法识别的值 {cells['hangup_by']!r}(按未知处理);"
                    "应为 坐席/客户/系统、FreeSWITCH 的 sip_hangup_disposition、"
                    "Amazon Connect 的 DisconnectReason 或 Genesys 的 Disconnect Type",
                    call_id=call_id,
                )
            )
    return CallRecord(line, call_id, file, values)
