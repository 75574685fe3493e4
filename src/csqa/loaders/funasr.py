"""FunASR ``AutoModel.generate()`` results saved as JSON (paraformer-zh, VAD, punctuation, cam++).

``[{"key", "text", "timestamp", "sentence_info": [{"text", "start", "end", "spk", "timestamp"}]}]``;
``start``/``end`` in **milliseconds**; ``spk`` is the cam++ speaker cluster (arbitrary numbers).
A single result object (not in a list) is accepted too; each result is one call, its ``key``
the call id. ``sentence_info`` only exists when the model ran with a speaker model
(``spk_model``) or ``sentence_timestamp=True``. FunASR cuts a sentence at every comma, so
pieces of one speaker with no pause between them are joined back into one turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from csqa.loaders.common import LoadProblem
from csqa.loaders.vendor import Segment, build, field, items, label, merge_turns, ms, text_of
from csqa.model import InputProblem, Transcript

NAME = "funasr"
TITLE = "FunASR / Paraformer (sentence_info[] start/end ms, spk)"


def _results(data: Any) -> list[Any]:
    return data if isinstance(data, list) else [data]


def detect(data: Any) -> bool:
    first = _results(data)[0] if _results(data) else None
    return (isinstance(first, dict) and "sentence_info" in first) or (
        isinstance(first, dict) and "key" in first and "timestamp" in first and "text" in first
    )


def _one(res: Any, where: str, name: str, call_id: str) -> Transcript:
    if isinstance(res, dict) and "sentence_info" not in res:
        raise LoadProblem(
            f"{where}sentence_info: 缺失(运行 FunASR 时加 spk_model 或 "
            "sentence_timestamp=True,才有带时间和说话人的句子)"
        )
    segs = []
    sentences = items(res, "sentence_info", where.rstrip(".") or "$")
    kind = "speaker" if all(isinstance(s, dict) and "spk" in s for s in sentences) else None
    for i, s in enumerate(sentences):
        w = f"{where}sentence_info[{i}]"
        lab = label(field(s, "spk", w), f"{w}.spk") if kind else "?"
        segs.append(
            Segment(
                lab,
                ms(field(s, "start", w), f"{w}.start"),
                ms(field(s, "end", w), f"{w}.end"),
                text_of(s.get("text"), f"{w}.text"),
            )
        )
    return build(merge_turns(segs), source=name, call_id=call_id, fmt=NAME, speaker_kind="speaker")


def parse(data: Any, name: str, stem: str) -> Iterator[Transcript | InputProblem]:
    results = _results(data)
    for i, res in enumerate(results):
        where = f"[{i}]." if isinstance(data, list) else ""
        key = res.get("key") if isinstance(res, dict) else None
        call_id = (
            str(key) if key not in (None, "") else (stem if len(results) == 1 else f"{stem}#{i}")
        )
        try:
            yield _one(res, where, name, call_id)
        except LoadProblem as exc:
            yield InputProblem(name, exc.line, f"{NAME}: {exc.reason}", call_id=call_id)
