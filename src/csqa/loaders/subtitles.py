"""Subtitle files: WebVTT (``*.vtt``) and SubRip (``*.srt``), one call per file.

WebVTT names the speaker with a voice tag: ``<v 坐席>您好…`` (closing ``</v>`` optional).
SRT has no speaker field; the convention is a prefix ``坐席：`` / ``客户:`` or ``[坐席]``.
Speakers must be roles (坐席/客服/agent, 客户/顾客/customer). Cue times are
``HH:MM:SS.mmm`` (VTT) or ``HH:MM:SS,mmm`` (SRT); ``MM:SS.mmm`` is accepted too.
A bad cue is reported with the line it starts on; a cue that ends before it starts is clamped
to ``end = start`` with a warning, as JSON utterances are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from csqa.loaders.common import LoadProblem, decode, speaker_role
from csqa.loaders.vendor import Segment, build
from csqa.model import InputProblem, Transcript

_TS = r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}"
_TIMING = re.compile(rf"^\s*(?P<start>{_TS})\s*-->\s*(?P<end>{_TS})(?:\s.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+(?P<who>[^>]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_PREFIX = re.compile(r"^\s*(?:\[(?P<b>[^\]]+)\]|(?P<p>[^\s:：\[]{1,12})\s*[:：])\s*")


def _time(text: str) -> float:
    total = 0.0
    for part in text.replace(",", ".").split(":"):
        total = total * 60 + float(part)
    return total


def _speaker(text: str, lineno: int) -> tuple[str, str]:
    """(speaker, text) of a cue: from a voice tag, else a ``坐席：`` / ``[坐席]`` prefix."""
    m = _VOICE.search(text)
    if m:
        return m["who"].strip(), _TAG.sub("", text).strip()
    text = _TAG.sub("", text).strip()
    m = _PREFIX.match(text)
    if m and speaker_role(m["b"] or m["p"]):
        return (m["b"] or m["p"]).strip(), text[m.end() :].strip()
    raise LoadProblem("字幕没有说话人:应为 '<v 坐席>文字' 或 '坐席：文字'", lineno)


def parse(text: str, name: str, stem: str, fmt: str) -> Transcript:
    lines = text.splitlines()
    segs: list[Segment] = []
    warnings: list[str] = []
    i = 0
    if fmt == "webvtt" and (not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT")):
        raise LoadProblem("不是 WebVTT 文件:第一行应为 'WEBVTT'", 1)
    while i < len(lines):
        m = _TIMING.match(lines[i])
        if not m:
            if fmt == "srt" and lines[i].strip() and not lines[i].strip().isdigit():
                raise LoadProblem("应为字幕序号或 '00:00:01,000 --> 00:00:03,500'", i + 1)
            i += 1
            continue
        start_line = i + 1
        body = []
        i += 1
        while i < len(lines) and lines[i].strip():
            body.append(lines[i].strip())
            i += 1
        if not body:
            continue
        who, said = _speaker(" ".join(body), start_line)
        if speaker_role(who) is None:
            raise LoadProblem(
                f"无法识别的说话人 {who!r}(应为 坐席/客服/agent 或 客户/顾客/customer)",
                start_line,
            )
        start, end = _time(m["start"]), _time(m["end"])
        if end < start:  # one bad time should not lose the call: repaired as JSON's are
            warnings.append(f"第 {start_line} 行:字幕结束 {end:g} 早于开始 {start:g};"
                            "已改为 结束 = 开始(应为 结束 ≥ 开始)")
            end = start
        segs.append(Segment(who, start, end, said))
    t = build(segs, source=name, call_id=stem, fmt=fmt, speaker_kind=None)
    t.warnings.extend(warnings)
    return t


def _load(path: Path, fmt: str) -> Iterator[Transcript | InputProblem]:
    name = str(path)
    try:
        yield parse(decode(path.read_bytes()), name, path.stem, fmt)
    except LoadProblem as exc:
        yield InputProblem(name, exc.line, exc.reason)


def load_vtt(path: Path) -> Iterator[Transcript | InputProblem]:
    return _load(path, "webvtt")


def load_srt(path: Path) -> Iterator[Transcript | InputProblem]:
    return _load(path, "srt")
