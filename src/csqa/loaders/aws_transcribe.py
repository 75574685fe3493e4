"""AWS Transcribe batch output with speaker diarization or channel identification.

``{"jobName", "status": "COMPLETED", "results": {"transcripts": [{"transcript"}], "items": [
{"start_time": "4.87", "end_time": "5.02", "alternatives": [{"content"}], "type":
"pronunciation" | "punctuation", "speaker_label": "spk_0" | "channel_label": "ch_1"}],
"speaker_labels": {…} | "channel_labels": {…}, "audio_segments": [ … ]}}``. Times are
**seconds as strings**; punctuation items have no times and belong to the word before them.

Turns come from ``audio_segments`` when the output has them (newer jobs), else from the
diarization ``speaker_labels.segments``, else they are rebuilt from the items: a new turn at a
change of label or a pause of :data:`~csqa.loaders.vendor.TURN_GAP` seconds. ``spk_N`` are
diarization labels (numbered by first appearance), ``ch_N`` audio channels; ``results.transcripts``
is not used because with channels it is all of ch_0 followed by all of ch_1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from csqa.loaders.common import LoadProblem
from csqa.loaders.vendor import Segment, build, field, items, join_words, label, merge_turns, number
from csqa.model import InputProblem, Transcript

NAME = "aws-transcribe"
TITLE = "AWS Transcribe (results.items with speaker_label or channel_label, seconds)"


def detect(data: Any) -> bool:
    results = data.get("results") if isinstance(data, dict) else None
    return isinstance(results, dict) and "items" in results and "transcripts" in results


def _label_key(results: dict[str, Any]) -> str:
    if "channel_labels" in results:
        return "channel_label"
    if "speaker_labels" in results:
        return "speaker_label"
    raise LoadProblem(
        "results: 既没有 speaker_labels 也没有 channel_labels:任务运行时没有开启说话人分离"
        "或声道识别,无法区分坐席和客户(请开启 ShowSpeakerLabels 或 ChannelIdentification)"
    )


def _words(results: dict[str, Any], key: str) -> list[Segment]:
    """Every item as a timed word; punctuation appended to the word before it."""
    raw = list(results["items"])
    if key == "channel_label" and not raw:  # older outputs keep items only under the channels
        for ch in items(results["channel_labels"], "channels", "results.channel_labels"):
            raw.extend(
                dict(it, channel_label=ch.get("channel_label")) for it in ch.get("items") or []
            )
    words: list[Segment] = []
    for i, it in enumerate(raw):
        w = f"results.items[{i}]"
        alts = items(it, "alternatives", w)
        content = str(alts[0].get("content", "")) if alts and isinstance(alts[0], dict) else ""
        if it.get("type") == "punctuation":
            if words:
                words[-1].text += content
            continue
        words.append(
            Segment(
                label(field(it, key, w), f"{w}.{key}"),
                number(field(it, "start_time", w), f"{w}.start_time"),
                number(field(it, "end_time", w), f"{w}.end_time"),
                content,
            )
        )
    return words


def parse(data: Any, name: str, stem: str) -> Iterator[Transcript | InputProblem]:
    status = data.get("status")
    if status not in (None, "COMPLETED"):
        raise LoadProblem(f"AWS 任务未完成:status {status!r}")
    results = field(data, "results", "$")
    key = _label_key(results)
    kind = "channel" if key == "channel_label" else "speaker"
    segs: list[Segment] = []
    if results.get("audio_segments"):
        for i, a in enumerate(items(results, "audio_segments", "results")):
            w = f"results.audio_segments[{i}]"
            segs.append(
                Segment(
                    label(field(a, key, w), f"{w}.{key}"),
                    number(field(a, "start_time", w), f"{w}.start_time"),
                    number(field(a, "end_time", w), f"{w}.end_time"),
                    str(a.get("transcript") or "").strip(),
                )
            )
    else:
        words = _words(results, key)
        turns = None
        if kind == "speaker":
            turns = (
                results["speaker_labels"].get("segments")
                if isinstance(results["speaker_labels"], dict)
                else None
            )
        if turns:
            for i, t in enumerate(turns):
                w = f"results.speaker_labels.segments[{i}]"
                lab = label(field(t, "speaker_label", w), f"{w}.speaker_label")
                s = number(field(t, "start_time", w), f"{w}.start_time")
                e = number(field(t, "end_time", w), f"{w}.end_time")
                text = join_words(x.text for x in words if x.label == lab and s <= x.start < e)
                segs.append(Segment(lab, s, e, text))
            # AWS cuts a speaker's turn into several segments at short pauses
            segs = merge_turns(segs)
        else:
            segs = merge_turns(words)
    yield build(segs, source=name, call_id=stem, fmt=NAME, speaker_kind=kind)
