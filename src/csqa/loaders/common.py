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
CALL_FIELDS = ("call_id", "agent_id", "agent_name", "team", "started_at", "hangup_by", "duration")


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


def make_utterance(speaker: Any, start: Any, end: Any, text: Any, where: str) -> Utterance:
    role = speaker_role(speaker)
    if role is None:
        raise LoadProblem(f"{where}.speaker: unknown speaker {speaker!r} "
                          "(expected agent/坐席/客服 or customer/客户/顾客)")
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
    ordered = sorted(utterances, key=lambda u: (u.start, u.end))
    return _finish_sorted(meta, [Utterance(i, u.speaker, u.start, u.end, u.text)
                                 for i, u in enumerate(ordered)], source, default_call_id, line)


def _finish_sorted(meta: Mapping[str, Any], utterances: list[Utterance], source: str,
                   default_call_id: str | None, line: int | None) -> Transcript:
    """:func:`finish` for utterances already sorted and numbered."""
    call_id = optional_text(meta.get("call_id"), "call_id") or default_call_id
    if not call_id:
        raise LoadProblem("call_id: missing")
    agent_id = optional_text(meta.get("agent_id"), "agent_id")
    if not agent_id:
        raise LoadProblem("agent_id: missing (every call must name its agent)")
    duration = meta.get("duration")
    return Transcript(
        call_id=call_id,
        agent_id=agent_id,
        agent_name=optional_text(meta.get("agent_name"), "agent_name"),
        team=optional_text(meta.get("team"), "team"),
        started_at=check_started_at(optional_text(meta.get("started_at"), "started_at")),
        hangup_by=hangup_side(meta.get("hangup_by")),
        duration=seconds(duration, "duration") if duration not in (None, "") else None,
        utterances=utterances,
        source=source,
        line=line,
    )


_ROLES: dict[str, str] = {
    **{label: "agent" for label in AGENT_LABELS},
    **{label: "customer" for label in CUSTOMER_LABELS},
    **{label.upper(): "agent" for label in AGENT_LABELS if label.isascii()},
    **{label.upper(): "customer" for label in CUSTOMER_LABELS if label.isascii()},
    **{label.title(): "agent" for label in AGENT_LABELS if label.isascii()},
    **{label.title(): "customer" for label in CUSTOMER_LABELS if label.isascii()},
}
_INF = float("inf")


def _fast_utterances(utts: list[Any]) -> list[Utterance] | None:
    """The utterances of a well-formed call, in order; ``None`` when anything needs a closer look.

    The hot path of a nightly run: plain labels, numeric times, text strings. Anything else
    (a label with spaces, a time as a string, a missing key, a bad value) returns ``None`` and
    goes through the checking path, which gives the same result or the precise error.
    """
    rows = []
    for u in utts:
        if type(u) is not dict:
            return None
        label = u.get("speaker")
        if type(label) is not str:
            return None
        role = _ROLES.get(label)
        start = u.get("start")
        end = u.get("end")
        text = u.get("text")
        if (role is None or (type(start) is not float and type(start) is not int)
                or (type(end) is not float and type(end) is not int)
                or not 0 <= start <= end < _INF or type(text) is not str):
            return None
        rows.append((float(start), float(end), role, text))
    if any(rows[i][:2] > rows[i + 1][:2] for i in range(len(rows) - 1)):
        rows.sort(key=lambda r: (r[0], r[1]))
    return [Utterance(i, role, start, end, text) for i, (start, end, role, text) in enumerate(rows)]


def from_mapping(obj: Any, source: str, default_call_id: str | None,
                 line: int | None = None) -> Transcript:
    """A csqa JSON call object -> Transcript (raises LoadProblem naming the bad field)."""
    if type(obj) is dict and type(obj.get("utterances")) is list:
        fast = _fast_utterances(obj["utterances"])
        if fast is not None:
            return _finish_sorted(obj, fast, source, default_call_id, line)
    if not isinstance(obj, dict):
        raise LoadProblem(f"expected a call object, got {type(obj).__name__}")
    utts = obj.get("utterances")
    if utts is None:
        raise LoadProblem("not a csqa call: no 'utterances' list")
    if not isinstance(utts, list):
        raise LoadProblem("utterances: expected a list")
    out = []
    for i, u in enumerate(utts):
        where = f"utterances[{i}]"
        if not isinstance(u, dict):
            raise LoadProblem(f"{where}: expected an object with speaker, start, end, text")
        for key in ("speaker", "start", "end"):
            if key not in u:
                raise LoadProblem(f"{where}.{key}: missing")
        out.append(make_utterance(u.get("speaker"), u.get("start"), u.get("end"), u.get("text"), where))
    return finish(obj, out, source, default_call_id, line)
