"""OpenAI Whisper and whisperX JSON: ``{"segments": [{"start", "end", "text", …}], "language"}``.

Times are **seconds** (floats). whisperX after ``assign_word_speakers`` adds a ``speaker``
(``SPEAKER_00`` …, pyannote's diarization labels) to every segment it could attribute, and to
its words. Plain Whisper has no speaker at all: every segment is given the single label ``?``,
and :mod:`csqa.roles` can then only guess roles utterance by utterance, flagged ``uncertain``.
A segment whisperX could not attribute (no ``speaker``) takes the speaker of most of its words,
else ``?``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from csqa.loaders.vendor import Segment, build, field, items, label, number, text_of
from csqa.model import InputProblem, Transcript

NAME = "whisper"
TITLE = "Whisper / whisperX (segments[] start/end seconds, speaker)"
UNKNOWN = "?"


def detect(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        return False
    first = data["segments"][0] if data["segments"] else {}
    return isinstance(first, dict) and "start" in first and "text" in first


def _speaker(seg: dict[str, Any], where: str) -> str:
    if seg.get("speaker") not in (None, "", "UNKNOWN"):
        return label(seg["speaker"], f"{where}.speaker")
    votes = Counter(
        w["speaker"]
        for w in seg.get("words") or []
        if isinstance(w, dict) and isinstance(w.get("speaker"), str)
    )
    return votes.most_common(1)[0][0] if votes else UNKNOWN


def parse(data: Any, name: str, stem: str) -> Iterator[Transcript | InputProblem]:
    segs = []
    for i, s in enumerate(items(data, "segments", "$")):
        w = f"segments[{i}]"
        segs.append(
            Segment(
                _speaker(s, w) if isinstance(s, dict) else UNKNOWN,
                number(field(s, "start", w), f"{w}.start"),
                number(field(s, "end", w), f"{w}.end"),
                text_of(s.get("text"), f"{w}.text"),
            )
        )
    x = any(s.label != UNKNOWN for s in segs) or "word_segments" in data
    yield build(
        segs, source=name, call_id=stem, fmt="whisperx" if x else "whisper", speaker_kind="speaker"
    )
