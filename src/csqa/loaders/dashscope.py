"""Alibaba Cloud Model Studio (DashScope) Paraformer 录音文件识别: the downloaded result JSON.

``{"file_url", "properties": {"channels": [0], "original_duration_in_milliseconds"},
"transcripts": [{"channel_id", "text", "sentences": [{"begin_time", "end_time", "text",
"sentence_id", "speaker_id"?, "words"}]}]}``; times in **milliseconds**. A multi-channel file has
one ``transcripts`` entry per ``channel_id``; ``speaker_id`` appears only with
``diarization_enabled`` (mono audio) and is then used instead of the channel.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from csqa.loaders.vendor import Segment, build, field, items, label, ms, text_of
from csqa.model import InputProblem, Transcript

NAME = "dashscope"
TITLE = "DashScope Paraformer 录音文件识别 (transcripts[].sentences[], ms)"


def detect(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("transcripts"), list):
        return False
    first = data["transcripts"][0] if data["transcripts"] else {}
    return "properties" in data or (isinstance(first, dict) and "sentences" in first)


def parse(data: Any, name: str, stem: str) -> Iterator[Transcript | InputProblem]:
    segs = []
    diarized = False
    for i, tr in enumerate(items(data, "transcripts", "$")):
        w = f"transcripts[{i}]"
        for j, s in enumerate(items(tr, "sentences", w)):
            ws = f"{w}.sentences[{j}]"
            if isinstance(s, dict) and s.get("speaker_id") is not None:
                diarized = True
                lab = label(s["speaker_id"], f"{ws}.speaker_id")
            else:
                lab = label(field(tr, "channel_id", w), f"{w}.channel_id")
            segs.append(
                Segment(
                    lab,
                    ms(field(s, "begin_time", ws), f"{ws}.begin_time"),
                    ms(field(s, "end_time", ws), f"{ws}.end_time"),
                    text_of(s.get("text"), f"{ws}.text"),
                )
            )
    yield build(
        segs, source=name, call_id=stem, fmt=NAME, speaker_kind="speaker" if diarized else "channel"
    )
