"""Tencent Cloud 录音文件识别 (asr 2019-06-14 ``DescribeTaskStatus``).

``{"Response": {"Data": {"StatusStr": "success", "AudioDuration": s, "ResultDetail": [
{"FinalSentence", "StartMs", "EndMs", "SpeakerId", "SpeechSpeed", "Words", …}]}}}``; the SDK's
``to_json_string()`` drops the ``Response`` level, and both are accepted. Times in
**milliseconds**. ``ResultDetail`` is only filled when the task was created with
``ResTextFormat`` ≥ 1; without it there is no per-sentence timing and the file is rejected
with that explanation. ``SpeakerId`` is "声道或说话人Id": the channel (0 left, 1 right) for
8 kHz dual-channel audio, the diarization speaker otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from csqa.loaders.common import LoadProblem
from csqa.loaders.vendor import Segment, build, field, items, label, ms, text_of
from csqa.model import InputProblem, Transcript

NAME = "tencent"
TITLE = "Tencent Cloud 录音文件识别 (Data.ResultDetail, ms)"


def _data(data: Any) -> Any:
    if isinstance(data, dict) and isinstance(data.get("Response"), dict):
        data = data["Response"]
    return data.get("Data") if isinstance(data, dict) else None


def detect(data: Any) -> bool:
    d = _data(data)
    return isinstance(d, dict) and ("ResultDetail" in d or "StatusStr" in d)


def parse(data: Any, name: str, stem: str) -> Iterator[Transcript | InputProblem]:
    d = _data(data)
    status = d.get("StatusStr")
    if status not in (None, "success"):
        raise LoadProblem(
            f"腾讯云任务未成功:StatusStr {status!r} {d.get('ErrorMsg') or ''}".rstrip()
        )
    detail = d.get("ResultDetail")
    if not detail:
        raise LoadProblem(
            "Data.ResultDetail: 缺失或为空(创建任务时设 ResTextFormat>=1,"
            "才有每句的时间和说话人)"
        )
    segs = []
    for i, s in enumerate(items(d, "ResultDetail", "Data")):
        w = f"Data.ResultDetail[{i}]"
        segs.append(
            Segment(
                label(field(s, "SpeakerId", w), f"{w}.SpeakerId"),
                ms(field(s, "StartMs", w), f"{w}.StartMs"),
                ms(field(s, "EndMs", w), f"{w}.EndMs"),
                text_of(s.get("FinalSentence"), f"{w}.FinalSentence"),
            )
        )
    t = build(segs, source=name, call_id=stem, fmt=NAME, speaker_kind="channel")
    if isinstance(d.get("AudioDuration"), (int, float)):
        t.extra["audio_duration"] = float(d["AudioDuration"])
    yield t
