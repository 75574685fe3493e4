"""AWS Transcribe Call Analytics, post-call output.

``{"JobStatus", "LanguageCode", "Transcript": [{"ParticipantRole": "AGENT" | "CUSTOMER",
"BeginOffsetMillis", "EndOffsetMillis", "Content", "Sentiment", "Items", …}],
"ConversationCharacteristics": {"Interruptions", "NonTalkTime", "TalkSpeed", …}}``; times in
**milliseconds**. Roles are given by AWS (from the channel the job was told is the agent's).
``ConversationCharacteristics`` (interruptions, talk speed, non-talk time) is AWS's own
measure and is not used: csqa's rules measure the call themselves, comparable across vendors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from csqa.loaders.common import LoadProblem
from csqa.loaders.vendor import Segment, build, field, items, ms, text_of
from csqa.model import InputProblem, Transcript

NAME = "aws-call-analytics"
TITLE = "AWS Transcribe Call Analytics (Transcript[].ParticipantRole, ms)"
ROLES = {"AGENT": "agent", "CUSTOMER": "customer"}


def detect(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("Transcript"), list):
        return False
    first = data["Transcript"][0] if data["Transcript"] else {}
    return "ConversationCharacteristics" in data or (
        isinstance(first, dict) and "ParticipantRole" in first
    )


def parse(data: Any, name: str, stem: str) -> Iterator[Transcript | InputProblem]:
    status = data.get("JobStatus")
    if status not in (None, "COMPLETED"):
        raise LoadProblem(f"AWS 任务未完成:JobStatus {status!r}")
    segs = []
    for i, turn in enumerate(items(data, "Transcript", "$")):
        w = f"Transcript[{i}]"
        role = field(turn, "ParticipantRole", w)
        if role not in ROLES:
            raise LoadProblem(f"{w}.ParticipantRole: 应为 AGENT 或 CUSTOMER,实际是 {role!r}")
        segs.append(
            Segment(
                ROLES[role],
                ms(field(turn, "BeginOffsetMillis", w), f"{w}.BeginOffsetMillis"),
                ms(field(turn, "EndOffsetMillis", w), f"{w}.EndOffsetMillis"),
                text_of(turn.get("Content"), f"{w}.Content"),
            )
        )
    yield build(segs, source=name, call_id=stem, fmt=NAME, speaker_kind=None)
