"""Alibaba Cloud 录音文件识别 (nls-filetrans ``GetTaskResult``, or its callback).

``{"TaskId", "StatusText": "SUCCESS", "StatusCode": 21050000, "BizDuration": ms,
"Result": {"Sentences": [{"ChannelId", "BeginTime", "EndTime", "Text", "SpeechRate",
"EmotionValue", "SilenceDuration"}]}}``; times in **milliseconds**. The legacy (2.0) callback
is snake_case: ``{"result": [{"channel_id", "begin_time", "end_time", "text", …}]}``.

``ChannelId`` is the audio track (or, with ``auto_split``, the speaker), so roles are decided
by :mod:`csqa.roles`. ``SpeakerId`` (seen in real auto_split outputs, not in the docs) is
preferred when present. ``SpeechRate``/``EmotionValue``/``SilenceDuration`` are Alibaba's own
measures and are not used: csqa's rules measure the call themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from csqa.loaders.common import LoadProblem
from csqa.loaders.vendor import Segment, build, field, items, label, ms, text_of
from csqa.model import InputProblem, Transcript

NAME = "alibaba"
TITLE = "Alibaba Cloud 录音文件识别 (Result.Sentences, ms)"


def detect(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    result = data.get("Result")
    if isinstance(result, dict) and "Sentences" in result:
        return True
    return ("StatusText" in data and "StatusCode" in data) or (
        isinstance(data.get("result"), list) and "task_id" in data
    )


def _status_problem(data: dict[str, Any]) -> str | None:
    status = data.get("StatusText", data.get("status_text"))
    if status not in (None, "SUCCESS", "SUCCESS_WITH_NO_VALID_FRAGMENT"):
        code = data.get("StatusCode")
        return f"阿里云任务未成功:StatusText {status!r}(StatusCode {code})"
    return None


def parse(data: Any, name: str, stem: str) -> Iterator[Transcript | InputProblem]:
    problem = _status_problem(data)
    if problem:
        raise LoadProblem(problem)
    if data.get("StatusText") == "SUCCESS_WITH_NO_VALID_FRAGMENT":
        raise LoadProblem("阿里云任务没有识别到语音(SUCCESS_WITH_NO_VALID_FRAGMENT)")
    if "Result" in data:
        sentences = items(field(data, "Result", "$"), "Sentences", "Result")
        keys = ("ChannelId", "BeginTime", "EndTime", "Text", "SpeakerId", "Result.Sentences")
    else:
        sentences = items(data, "result", "$")
        keys = ("channel_id", "begin_time", "end_time", "text", "speaker_id", "result")
    chan, begin, end, text, spk, where = keys
    segs = []
    for i, s in enumerate(sentences):
        w = f"{where}[{i}]"
        who = s.get(spk) if isinstance(s, dict) and s.get(spk) not in (None, "") else None
        segs.append(
            Segment(
                label(who if who is not None else field(s, chan, w), f"{w}.{chan}"),
                ms(field(s, begin, w), f"{w}.{begin}"),
                ms(field(s, end, w), f"{w}.{end}"),
                text_of(s.get(text), f"{w}.{text}"),
            )
        )
    t = build(segs, source=name, call_id=stem, fmt=NAME, speaker_kind="channel")
    if isinstance(data.get("BizDuration"), int):
        t.extra["audio_duration"] = data["BizDuration"] / 1000
    yield t
