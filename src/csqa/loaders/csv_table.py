"""CSV utterance table (``*.csv``): one row per utterance, many calls per file.

Required columns: ``call_id, agent_id, speaker, start, end, text``; optional call-level
columns ``agent_name, team, started_at, hangup_by, duration, timing, channels, truncated,
direction`` (taken from the call's first row that fills them). With ``timing`` = ``none`` the start and
end cells may be empty. Rows of one call need not be adjacent. A bad row rejects its call only,
reported with the row's line number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from csqa.loaders.common import (
    TIMING_LABELS,
    LoadProblem,
    decode,
    finish,
    label,
    make_utterance,
)
from csqa.loaders.record_columns import record_fields
from csqa.model import InputProblem, Transcript, Utterance

REQUIRED = ("call_id", "agent_id", "speaker", "start", "end", "text")
OPTIONAL = ("agent_name", "team", "started_at", "hangup_by", "duration", "timing", "channels",
            "truncated", "direction")


CALL_RECORDS_SKIPPED = ("通话记录表(call records),不是转写,未作为转写读取;"
                        "要用它补充坐席、班组、挂机方等信息,请用 --calls 指定这个文件")


def is_call_records(header: list[str]) -> bool:
    """Whether a table is call records (CDR) rather than utterances: it has no speaker or
    text column, a call id (or recording file) column and another call-record field."""
    if {"speaker", "text"} & {h.strip().lower() for h in header}:
        return False
    fields = record_fields(header)
    return bool(fields & {"call_id", "file"}) and len(fields) >= 2


def load(path: Path) -> Iterator[Transcript | InputProblem]:
    name = str(path)
    try:
        text = decode(path.read_bytes())
    except LoadProblem as exc:
        yield InputProblem(name, None, exc.reason)
        return
    # A cell can be as long as the file (the file-size limit bounds it); an over-long
    # utterance is then reported by the utterance limit, with its row, not by a csv.Error.
    if len(text) >= csv.field_size_limit():
        csv.field_size_limit(len(text) + 1)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing and is_call_records(header):
        yield InputProblem(name, 1, CALL_RECORDS_SKIPPED, status="skipped")
        return
    if missing:
        yield InputProblem(name, 1, f"缺少列:{', '.join(missing)}"
                                    f"(CSV 逐句表需要 {', '.join(REQUIRED)})")
        return
    reader.fieldnames = header
    calls: dict[str, tuple[dict[str, object], list[Utterance], int]] = {}
    bad: dict[str, tuple[int, str]] = {}
    for row in reader:
        lineno = reader.line_num
        cid = (row.get("call_id") or "").strip()
        if not cid:
            yield InputProblem(name, lineno, "call_id: 为空(每一行都应有通话 ID)")
            continue
        if cid in bad:
            continue
        meta, utts, first = calls.setdefault(cid, ({"call_id": cid}, [], lineno))
        for key in ("agent_id", *OPTIONAL):
            value = (row.get(key) or "").strip()
            if value and not meta.get(key):
                meta[key] = value
        try:
            timed = label(meta.get("timing"), TIMING_LABELS, "timing") != "none"
            utts.append(make_utterance(row.get("speaker"), row.get("start"), row.get("end"),
                                       row.get("text"), f"row {lineno}", timed=timed))
        except LoadProblem as exc:
            bad[cid] = (lineno, exc.reason)
    for cid, (meta, utts, first) in calls.items():
        if cid in bad:
            lineno, reason = bad[cid]
            yield InputProblem(name, lineno, reason, call_id=cid)
            continue
        try:
            yield finish(meta, utts, name, None, first)
        except LoadProblem as exc:
            yield InputProblem(name, first, exc.reason, call_id=cid)
