"""Timestamped text (``*.txt``): a transcript QA staff can read and write by hand.

One call per file::

    # call_id: 20261121-000123
    # agent_id: A1024
    # agent_name: 张丽
    # team: 售后一组
    # started_at: 2026-11-21T09:15:02+08:00
    [00:00:00.8-00:00:04.2] 坐席: 您好,很高兴为您服务,我是客服代表张丽。
    [00:00:04.6-00:00:09.0] 客户: 你好,我的洗衣机漏水了。
    [00:05:12] <挂机: 客户>

- Header lines ``# key: value`` set call fields (call_id, agent_id, agent_name, team,
  started_at, hangup_by, duration, direction: inbound/outbound); any other ``#`` line is a comment.
- An utterance is ``[START-END] SPEAKER: text``; times are ``HH:MM:SS.f``, ``MM:SS.f`` or
  plain seconds; ``-``, ``–``, ``~`` or ``-->`` separate them; the colon may be full-width.
  Speakers: 坐席/客服/agent and 客户/顾客/customer.
- ``[TIME] <挂机: 客户>`` (or 坐席/系统/未知) records who hung up, and when the call ended.
- ``call_id`` defaults to the file name.
- A transcript without times (plain ASR text) writes its utterances as ``坐席: text``, with no
  brackets; every utterance of the file must then be written so, and the call is read as
  ``timing: none`` (silence, delays, speech rate and interruptions are not evaluable).
  ``# channels: mono`` says the recording has both parties on one channel (interruptions
  are not evaluable); ``# truncated: start|end|both`` that the export is cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from csqa.loaders.common import (
    CALL_FIELDS,
    LoadProblem,
    decode,
    finish,
    make_utterance,
    speaker_role,
)
from csqa.model import InputProblem, Transcript, Utterance

_TIME = r"(?:\d+:)?(?:\d+:)?\d+(?:\.\d+)?"
_UTTERANCE = re.compile(
    rf"^\[\s*(?P<start>{_TIME})\s*(?:-->|-|–|~|—)\s*(?P<end>{_TIME})\s*\]\s*"
    r"(?P<speaker>[^:：\s]+)\s*[:：]\s?(?P<text>.*)$"
)
_HANGUP = re.compile(rf"^\[\s*(?P<time>{_TIME})\s*\]\s*<\s*挂机\s*[:：]\s*(?P<side>[^>]*?)\s*>\s*$")
_UNTIMED = re.compile(r"^(?P<speaker>[^\[\]:：\s]+)\s*[:：]\s?(?P<text>.*)$")
_HEADER = re.compile(r"^#\s*(?P<key>[A-Za-z_]+)\s*[:：]\s*(?P<value>.*?)\s*$")
EXPECTED = ("应为 '[00:00:01.0-00:00:03.5] 坐席: 文字'、'# 键: 值' "
            "或 '[00:05:12] <挂机: 客户>'")


def parse_time(text: str) -> float:
    """``01:02:03.5`` / ``02:03.5`` / ``123.5`` -> seconds."""
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return total


def parse(text: str, source: str, default_call_id: str) -> Transcript:
    meta: dict[str, object] = {}
    utterances: list[Utterance] = []
    timed_line: int | None = None  # first line with times, and first without
    untimed_line: int | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = _HEADER.match(line)
            if m and m["key"] in CALL_FIELDS:
                meta[m["key"]] = m["value"] or None
            continue
        m = _UTTERANCE.match(line)
        if m:
            timed_line = timed_line or lineno
            try:
                utterances.append(make_utterance(m["speaker"], parse_time(m["start"]),
                                                 parse_time(m["end"]), m["text"].strip(),
                                                 f"line {lineno}"))
            except LoadProblem as exc:
                raise LoadProblem(exc.reason.removeprefix(f"line {lineno}").lstrip(".: "), lineno) from None
            continue
        m = _HANGUP.match(line)
        if m:
            meta["hangup_by"] = m["side"] or None
            meta["duration"] = parse_time(m["time"])
            continue
        m = _UNTIMED.match(line)
        if m and speaker_role(m["speaker"]) is not None:
            untimed_line = untimed_line or lineno
            utterances.append(make_utterance(m["speaker"], None, None, m["text"].strip(),
                                             f"line {lineno}", timed=False))
            continue
        raise LoadProblem(f"无法读取这一行:{EXPECTED}", lineno)
    if untimed_line is not None:
        if timed_line is not None:
            raise LoadProblem("这句话没有时间,而同一转写的其他话有时间"
                              f"(第 {timed_line} 行);请给每句话都标时间,或都不标",
                              untimed_line)
        meta["timing"] = "none"
    if not utterances:
        raise LoadProblem("没有找到任何一句话:" + EXPECTED)
    return finish(meta, utterances, source, default_call_id)


def load(path: Path) -> Iterator[Transcript | InputProblem]:
    name = str(path)
    try:
        yield parse(decode(path.read_bytes()), name, path.stem)
    except LoadProblem as exc:
        yield InputProblem(name, exc.line, exc.reason)


def utterance_lines(transcript: Transcript) -> dict[int, int]:
    """For a call read from a ``.txt`` file: utterance index -> line of the file it was on.

    Used to point CI annotations at the right line. Empty when the file cannot be re-read.
    """
    try:
        text = decode(Path(transcript.source).read_bytes())
    except (OSError, LoadProblem):
        return {}
    by_key: dict[tuple[float, str], list[int]] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        m = _UTTERANCE.match(raw.strip())
        if m:
            by_key.setdefault((round(parse_time(m["start"]), 3), m["text"].strip()), []).append(lineno)
    out: dict[int, int] = {}
    for u in transcript.utterances:
        lines = by_key.get((round(u.start, 3), u.text))
        if lines:
            out[u.index] = lines.pop(0)
    return out
