"""What the ASR-vendor loaders share: checked field access and building a raw transcript.

A vendor export names its parties by channel or diarization label ("channel 1", "spk_0"),
not by role. The loaders keep those labels as the utterance speakers and mark the transcript
with ``speaker_kind`` (``channel`` or ``speaker``); :mod:`csqa.roles` later decides which label
is the agent. Formats that do name roles (AWS Call Analytics, subtitles with 坐席/客户) give
``agent``/``customer`` directly and ``speaker_kind=None``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from csqa.loaders.common import LoadProblem, speaker_role
from csqa.model import Transcript, Utterance

#: Consecutive pieces of one speaker closer than this (seconds) are one turn. FunASR splits a
#: turn at every comma, and word-level exports (AWS items) have no turns at all; a real pause
#: between turns of one speaker is longer than the gap between words of one sentence.
TURN_GAP = 0.25


@dataclass(slots=True)
class Segment:
    """One timed piece of speech as a vendor gives it, times already in seconds."""

    label: str
    start: float
    end: float
    text: str


def short(value: Any, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters: messages stay one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field(obj: Any, key: str, where: str) -> Any:
    """``obj[key]``, or a LoadProblem naming the path when obj is not an object or lacks it."""
    if not isinstance(obj, Mapping):
        raise LoadProblem(f"{where}: 应为对象,实际是 {type(obj).__name__}")
    if key not in obj or obj[key] is None:
        raise LoadProblem(f"{where}.{key}: 缺失")
    return obj[key]


def items(obj: Any, key: str, where: str) -> list[Any]:
    value = field(obj, key, where)
    if not isinstance(value, list):
        raise LoadProblem(f"{where}.{key}: 应为列表,实际是 {type(value).__name__}")
    return value


def number(value: Any, what: str, scale: float = 1.0) -> float:
    """A time as a number (or numeric string, as iFlytek and AWS give them), times ``scale``."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise LoadProblem(f"{what}: 应为数字,实际是 {short(value)}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LoadProblem(f"{what}: 应为数字,实际是 {short(value)}")
    if value < 0:
        raise LoadProblem(f"{what}: 时间为负数 {value}")
    return float(value) * scale


def ms(value: Any, what: str) -> float:
    """Milliseconds (number or numeric string) -> seconds."""
    return number(value, what, 0.001)


def text_of(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LoadProblem(f"{what}: 应为文本,实际是 {type(value).__name__}")
    return value.strip()


def label(value: Any, what: str) -> str:
    """A channel / speaker label as text (ints and strings accepted)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or str(value).strip() == "":
        raise LoadProblem(f"{what}: 应为声道或说话人编号,实际是 {short(value)}")
    return str(value).strip()


def join_words(words: Iterable[str]) -> str:
    """Join ASR tokens: no space inside CJK text, one space between two Latin/digit words."""
    out = ""
    for w in words:
        if (
            out
            and w
            and out[-1].isascii()
            and out[-1].isalnum()
            and w[0].isascii()
            and w[0].isalnum()
        ):
            out += " "
        out += w
    return out


def merge_turns(segments: list[Segment], gap: float = TURN_GAP) -> list[Segment]:
    """Pieces of one label less than ``gap`` seconds apart -> one turn.

    Each label is merged on its own, so the other party talking over it (overlap) neither
    splits a turn nor gets its words mixed in.
    """
    by_label: dict[str, list[Segment]] = {}
    for s in sorted(segments, key=lambda s: (s.start, s.end)):
        turns = by_label.setdefault(s.label, [])
        last = turns[-1] if turns else None
        if last is not None and s.start - last.end < gap:
            turns[-1] = Segment(
                last.label, last.start, max(last.end, s.end), join_words([last.text, s.text])
            )
        else:
            turns.append(Segment(s.label, s.start, s.end, s.text))
    return sorted((t for turns in by_label.values() for t in turns), key=lambda s: (s.start, s.end))


def build(
    segments: list[Segment],
    *,
    source: str,
    call_id: str,
    fmt: str,
    speaker_kind: str | None,
    duration: float | None = None,
    meta: Mapping[str, Any] | None = None,
    line: int | None = None,
) -> Transcript:
    """A Transcript from vendor segments (empty text dropped), sorted by start time.

    With ``speaker_kind=None`` the labels must be roles (坐席/客户/agent/customer …).
    Call-level metadata (agent, team, hang-up side) comes later from the call records.

    Every vendor export keeps its overlap information (``channels="stereo"``), diarized or
    not: a call in which nobody talks over anybody has no overlapping segments in any export,
    so their absence says nothing about the recording, and guessing ``mono`` from it made the
    same call not evaluable for interruptions (and its other deductions rescaled) in one
    vendor's export only.
    """
    utts: list[Utterance] = []
    for i, s in enumerate(segments):
        if s.end < s.start:
            raise LoadProblem(
                f"第 {i} 段({s.text[:12]!r}):结束 {s.end:g} 早于开始 {s.start:g}"
            )
        if not s.text:
            continue
        who = s.label
        if speaker_kind is None:
            role = speaker_role(s.label)
            if role is None:
                raise LoadProblem(
                    f"第 {i} 段:无法识别的说话人 {s.label!r}"
                    "(应为 坐席/客服/agent 或 客户/顾客/customer)"
                )
            who = role
        utts.append(Utterance(-1, who, round(s.start, 3), round(s.end, 3), s.text))
    if not utts:
        raise LoadProblem("这份导出里没有语音(没有含文字的句子)")
    utts.sort(key=lambda u: (u.start, u.end))
    meta = meta or {}
    return Transcript(
        call_id=call_id,
        agent_id=str(meta.get("agent_id") or ""),
        utterances=[Utterance(i, u.speaker, u.start, u.end, u.text) for i, u in enumerate(utts)],
        duration=duration,
        source=source,
        line=line,
        format=fmt,
        speaker_kind=speaker_kind,
        role_source="given" if speaker_kind is None else "pending",
    )

