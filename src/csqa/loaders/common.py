"""What every loader shares: decoding text, and turning a call mapping into a Transcript."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from csqa.model import Transcript, Utterance

AGENT_LABELS = {"agent", "坐席", "客服", "座席", "seat", "staff", "a"}
CUSTOMER_LABELS = {"customer", "客户", "顾客", "用户", "caller", "client", "user", "c"}
HANGUP_LABELS = {
    "agent": "agent", "坐席": "agent", "客服": "agent", "座席": "agent",
    "customer": "customer", "客户": "customer", "顾客": "customer", "用户": "customer",
    "system": "system", "系统": "system",
}
UNKNOWN_HANGUP = {"", "unknown", "未知", "none", "null"}
CALL_FIELDS = ("call_id", "agent_id", "agent_name", "team", "started_at", "hangup_by", "duration",
               "timing", "channels", "truncated")
# What a recording can show (see Transcript): accepted spellings -> canonical value.
TIMING_LABELS = {"utterance": "utterance", "utterances": "utterance", "yes": "utterance",
                 "none": "none", "no": "none", "无": "none", "untimed": "none"}
CHANNEL_LABELS = {"stereo": "stereo", "dual": "stereo", "2": "stereo", "双声道": "stereo",
                  "mono": "mono", "1": "mono", "单声道": "mono"}
TRUNCATED_LABELS = {"start": "start", "end": "end", "both": "both", "none": None, "no": None}


class LoadProblem(Exception):
    """A call that cannot be read; ``line`` is the line of the file, when known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def decode(data: bytes) -> str:
    """Text of a transcript file: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise LoadProblem("not valid UTF-16 text despite its byte-order mark") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise LoadProblem("not text: neither UTF-8, UTF-16 nor GB18030/GBK") from None


def speaker_role(label: Any) -> str | None:
    """``agent`` or ``customer`` for a speaker label in English or Chinese, else ``None``."""
    if not isinstance(label, str):
        return None
    key = label.strip().lower()
    if key in AGENT_LABELS:
        return "agent"
    if key in CUSTOMER_LABELS:
        return "customer"
    return None


def hangup_side(value: Any) -> str | None:
    """Normalise a hang-up side; ``None`` for unknown. Raises LoadProblem for nonsense."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise LoadProblem(f"hangup_by: expected agent, customer, system or null, got {value!r}")
    key = value.strip().lower()
    if key in UNKNOWN_HANGUP:
        return None
    if key in HANGUP_LABELS:
        return HANGUP_LABELS[key]
    raise LoadProblem(f"hangup_by: expected agent, customer, system or null, got {value!r}")


def seconds(value: Any, what: str) -> float:
    """A time in seconds: a finite number ≥ 0 (numeric strings accepted, as CSV gives them)."""
    if isinstance(value, bool):
        raise LoadProblem(f"{what}: expected seconds as a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise LoadProblem(f"{what}: expected seconds as a number, got {value!r}") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LoadProblem(f"{what}: expected seconds as a number, got {value!r}")
    if value < 0:
        raise LoadProblem(f"{what}: negative time {value}")
    return float(value)


def optional_text(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value).strip() or None
    raise LoadProblem(f"{what}: expected text, got {type(value).__name__}")


def check_started_at(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise LoadProblem(f"started_at: expected an ISO 8601 date-time such as "
                          f"2026-11-21T09:15:02+08:00, got {value!r}") from None
    return value


def label(value: Any, labels: dict[str, Any], what: str) -> Any:
    """A call-level flag (timing, channels, truncated) in one of its accepted spellings."""
    if value is None or value == "":
        return None
    key = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if key is None or key not in labels:
        choices = ", ".join(dict.fromkeys(k for k in labels if k.isascii()))
        raise LoadProblem(f"{what}: expected one of {choices}, got {value!r}")
    return labels[key]


def untimed(value: Any) -> bool:
    """Whether a start/end value is absent (allowed only in a transcript without timing)."""
    return value is None or (isinstance(value, str) and not value.strip())


def make_utterance(speaker: Any, start: Any, end: Any, text: Any, where: str,
                   timed: bool = True) -> Utterance:
    """One utterance; with ``timed=False`` (a transcript without times) start/end may be absent
    and default to 0."""
    role = speaker_role(speaker)
    if role is None:
        raise LoadProblem(f"{where}.speaker: unknown speaker {speaker!r} "
                          "(expected agent/坐席/客服 or customer/客户/顾客)")
    if not timed and untimed(start) and untimed(end):
        start = end = 0.0
    s = seconds(start, f"{where}.start")
    e = seconds(end, f"{where}.end")
    if e < s:
        raise LoadProblem(f"{where}: end {e:g} is before start {s:g}")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise LoadProblem(f"{where}.text: expected text, got {type(text).__name__}")
    return Utterance(index=-1, speaker=role, start=s, end=e, text=text)


def finish(meta: Mapping[str, Any], utterances: list[Utterance], source: str,
           default_call_id: str | None, line: int | None = None) -> Transcript:
    """Build a Transcript from call-level fields and unsorted utterances, checking both."""
    call_id = optional_text(meta.get("call_id"), "call_id") or default_call_id
    if not call_id:
        raise LoadProblem("call_id: missing")
    agent_id = optional_text(meta.get("agent_id"), "agent_id")
    if not agent_id:
        raise LoadProblem("agent_id: missing (every call must name its agent)")
    duration = meta.get("duration")
    timing = label(meta.get("timing"), TIMING_LABELS, "timing") or "utterance"
    # without times, the order given is the order spoken
    ordered = sorted(utterances, key=lambda u: (u.start, u.end)) if timing != "none" else utterances
    return Transcript(
        call_id=call_id,
        agent_id=agent_id,
        agent_name=optional_text(meta.get("agent_name"), "agent_name"),
        team=optional_text(meta.get("team"), "team"),
        started_at=check_started_at(optional_text(meta.get("started_at"), "started_at")),
        hangup_by=hangup_side(meta.get("hangup_by")),
        duration=seconds(duration, "duration") if duration not in (None, "") else None,
        utterances=[Utterance(i, u.speaker, u.start, u.end, u.text) for i, u in enumerate(ordered)],
        source=source,
        line=line,
        timing=timing,
        channels=label(meta.get("channels"), CHANNEL_LABELS, "channels") or "stereo",
        truncated=label(meta.get("truncated"), TRUNCATED_LABELS, "truncated"),
    )


def from_mapping(obj: Any, source: str, default_call_id: str | None,
                 line: int | None = None) -> Transcript:
    """A csqa JSON call object -> Transcript (raises LoadProblem naming the bad field)."""
    if not isinstance(obj, dict):
        raise LoadProblem(f"expected a call object, got {type(obj).__name__}")
    utts = obj.get("utterances")
    if utts is None:
        raise LoadProblem("not a csqa call: no 'utterances' list")
    if not isinstance(utts, list):
        raise LoadProblem("utterances: expected a list")
    for i, u in enumerate(utts):
        if not isinstance(u, dict):
            raise LoadProblem(f"utterances[{i}]: expected an object with speaker, start, end, text")
    meta = dict(obj)
    if meta.get("timing") is None and utts and not any("start" in u or "end" in u for u in utts):
        meta["timing"] = "none"  # an ASR export with no times at all: order only
    timed = label(meta.get("timing"), TIMING_LABELS, "timing") != "none"
    out = []
    for i, u in enumerate(utts):
        where = f"utterances[{i}]"
        for key in ("speaker", "start", "end") if timed else ("speaker",):
            if key not in u:
                raise LoadProblem(f"{where}.{key}: missing")
        out.append(make_utterance(u.get("speaker"), u.get("start"), u.get("end"),
                                  u.get("text"), where, timed=timed))
    return finish(meta, out, source, default_call_id, line)
