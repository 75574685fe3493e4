"""A small, fully known audit world for the review-loop and backtest tests.

Ruleset ``t`` version 1 (base 100, pass mark 90):

- ``blame``: 5 points, capped at 10, phrases 我怎么知道 / 你听明白了吗;
- ``abuse``: 0 points, veto, phrase 滚.

Calls (utterance indexes in brackets):

- C1 (agent A1): [2] 我怎么知道?你听明白了吗,我怎么知道。 -> blame ×3, capped: 90, passes
- C2 (agent A2): [1] 你听明白了吗 -> blame ×1: 95, passes
- C3 (agent A2): [1] 滚 -> abuse, vetoed: 100, fails
- C4 (agent A1): [1] 你着急什么 (not a phrase of version 1): 100, passes
"""

from __future__ import annotations

import json
from pathlib import Path

RULESET_V1 = """\
name: t
version: "1"
scoring: {base: 100, pass_mark: 90}
rules:
  - id: blame
    kind: forbidden_phrase
    name: 责问
    points: 5
    max_points: 10
    phrases: [我怎么知道, 你听明白了吗]
  - id: abuse
    kind: forbidden_phrase
    name: 辱骂
    points: 0
    veto: true
    phrases: [滚]
"""

CALLS = {
    "C1": ("A1", ["坐席: 您好,请讲。", "客户: 我的洗衣机漏水了。",
                  "坐席: 我怎么知道?你听明白了吗,我怎么知道。", "客户: 好吧。"]),
    "C2": ("A2", ["客户: 喂,你好。", "坐席: 你听明白了吗", "客户: 明白了。"]),
    "C3": ("A2", ["客户: 我要投诉。", "坐席: 滚", "客户: 什么?"]),
    "C4": ("A1", ["客户: 快点处理。", "坐席: 你着急什么", "客户: 好。"]),
}


def call_text(call_id: str) -> str:
    agent, lines = CALLS[call_id]
    out = [f"# call_id: {call_id}", f"# agent_id: {agent}"]
    for i, line in enumerate(lines):
        out.append(f"[{i * 5 + 0.5:.1f}-{i * 5 + 4.0:.1f}] {line}")
    return "\n".join(out) + "\n"


def call_json(call_id: str) -> str:
    agent, lines = CALLS[call_id]
    utts = []
    for i, line in enumerate(lines):
        who, text = line.split(": ", 1)
        utts.append({"speaker": "agent" if who == "坐席" else "customer",
                     "start": i * 5 + 0.5, "end": i * 5 + 4.0, "text": text})
    return json.dumps({"call_id": call_id, "agent_id": agent, "utterances": utts},
                      ensure_ascii=False)


def make_world(tmp: Path, fmt: str = "txt") -> tuple[Path, Path]:
    """(calls folder, ruleset file) under ``tmp``."""
    calls = tmp / f"calls-{fmt}"
    calls.mkdir(parents=True, exist_ok=True)
    for cid in CALLS:
        text = call_text(cid) if fmt == "txt" else call_json(cid)
        (calls / f"{cid}.{fmt}").write_text(text, encoding="utf-8")
    rules = tmp / "rules-v1.yaml"
    rules.write_text(RULESET_V1, encoding="utf-8")
    return calls, rules
