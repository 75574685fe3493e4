"""Whether a transcript covers the whole call: visible truncation at its start or end.

A transcript that starts or ends mid-call cannot show whether the agent opened or closed the
call properly, so greeting/closing (and any required phrase scoped to the start or end) are
*not evaluable* when their wording is missing from a truncated end. A transcript counts as cut:

- at an end the export marks as cut (``truncated: start|end|both`` on the call);
- at its **start** when its first utterance begins with a continuation mark (``…``, ``...``,
  ``——``, or a comma/顿号/semicolon as its first character);
- at its **end** when its last utterance ends with a continuation mark (``…``, ``...``,
  ``——``, a comma, 顿号 or semicolon) — a sentence broken off;
- when the call record's duration is known and the transcript covers far less of it: the
  first utterance starts, or the last one ends, more than :data:`MISSING_SECONDS` (20 s)
  *and* more than :data:`MISSING_SHARE` (a quarter) of the call away from that end.
"""

from __future__ import annotations

from csqa.model import Transcript

MISSING_SECONDS = 20.0
MISSING_SHARE = 0.25
_LEAD_MARKS = (",", "\uff0c", "\u3001", ";", "\uff1b", "\u2026", "...", "\u2014")
_TAIL_MARKS = _LEAD_MARKS


def truncation(t: Transcript) -> frozenset[str]:
    """The ends (``start``, ``end``) at which ``t`` is visibly cut; empty when it is whole."""
    cut: set[str] = set()
    if t.truncated in ("start", "both"):
        cut.add("start")
    if t.truncated in ("end", "both"):
        cut.add("end")
    spoken = [u for u in t.utterances if u.text.strip()]
    if not spoken:
        return frozenset(cut)
    if spoken[0].text.strip().startswith(_LEAD_MARKS):
        cut.add("start")
    if spoken[-1].text.strip().endswith(_TAIL_MARKS):
        cut.add("end")
    if t.has_timing and t.duration:
        limit = max(MISSING_SECONDS, MISSING_SHARE * t.duration)
        if min(u.start for u in t.utterances) > limit:
            cut.add("start")
        if t.duration - max(u.end for u in t.utterances) > limit:
            cut.add("end")
    return frozenset(cut)


def describe(cut: frozenset[str]) -> str:
    """A short Chinese phrase for the reason, e.g. ``转写不完整(从通话中途开始)``."""
    parts = []
    if "start" in cut:
        parts.append("从通话中途开始")
    if "end" in cut:
        parts.append("在通话结束前中断")
    return f"转写不完整({'、'.join(parts)})"
