"""Speaker roles: which channel or diarization label of a vendor export is the agent.

Vendor exports say "channel 1" or "SPEAKER_00", never "agent". In order of precedence:

1. a ``speakers:`` mapping from the profile file (``{"1": agent, "0": customer}``; labels are
   compared loosely, so ``1``, ``ch_1``, ``spk_1`` and ``SPEAKER_01`` are the same label);
2. ``--agent-channel N``, for channel-based exports (a diarization label is numbered by the
   order speakers appear in, so a fixed number means nothing there and detection is used);
3. automatic detection: each label is scored on agent vocabulary (the opening 您好…工号 /
   很高兴为您服务, offering help, 请您稍等, 感谢您的来电 …) against customer vocabulary
   (你们, 我买的, 帮我 …), with a bonus for greeting first. The best-scoring label is the agent.

The decision goes to ``calls.csv``: ``role_source`` is ``given`` (the export or a mapping
named the roles), ``detected`` (clear evidence) or ``uncertain`` (weak or contradictory
evidence, or an export with no speaker labels at all, such as plain Whisper, where roles are
guessed utterance by utterance). An uncertain call is still audited, with its best guess, but
flagged in calls.csv and counted in the summary; with ``--strict-roles`` it is an error instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from csqa.model import AGENT, CUSTOMER, InputProblem, Transcript, Utterance
from csqa.normalize import fold

#: Agent vocabulary (folded) and its weight. Distinct cues count once per label.
AGENT_CUES: dict[str, int] = {
    "工号": 3,
    "很高兴为您服务": 3,
    "有什么可以帮您": 3,
    "有什么可以帮到您": 3,
    "有什么能帮您": 3,
    "客服代表": 2,
    "为您服务": 2,
    "请您稍等": 2,
    "感谢您的耐心等待": 2,
    "感谢您的来电": 2,
    "给您添麻烦": 2,
    "本次服务": 2,
    "还有什么可以帮您": 2,
    "祝您生活愉快": 2,
    "为您": 1,
    "帮您": 1,
    "请问您": 1,
    "您好": 1,
    "不好意思让您": 1,
    "抱歉": 1,
}
#: Customer vocabulary (folded) and its weight.
CUSTOMER_CUES: dict[str, int] = {
    "你们": 2,
    "我买的": 2,
    "帮我": 2,
    "给我": 1,
    "我想问": 2,
    "我要投诉": 2,
    "怎么回事": 1,
    "能不能": 1,
    "我的": 1,
    "我上周": 1,
}
#: Greeting words: the label whose first utterance opens the call with one of these gets a bonus.
OPENING = ("您好", "你好", "喂您好")
OPENING_BONUS = 2
#: The agent's score must beat the next label's by this much for ``detected``; confidence is
#: the margin over :data:`FULL_MARGIN`, capped at 1.
MIN_MARGIN = 4
FULL_MARGIN = 10
_LABEL = re.compile(r"^(?:ch|channel|spk|speaker|声道|说话人)?[_\s-]?0*(\d+)$", re.IGNORECASE)


def norm_label(label: object) -> str:
    """``ch_1``, ``spk_1``, ``SPEAKER_01``, ``1`` -> ``1``; other labels lower-cased."""
    text = str(label).strip()
    m = _LABEL.match(text)
    return m.group(1).lstrip("0") or "0" if m else text.lower()


@dataclass(slots=True)
class RoleOptions:
    """How to map labels to roles (from the CLI and the profile file)."""

    agent_channel: int | None = None
    speakers: dict[str, str] = field(default_factory=dict)
    strict: bool = False

    def __post_init__(self) -> None:
        self.speakers = {norm_label(k): v for k, v in self.speakers.items()}


@dataclass(slots=True)
class LabelScore:
    label: str
    agent: int = 0
    customer: int = 0
    cues: list[str] = field(default_factory=list)

    @property
    def net(self) -> int:
        return self.agent - self.customer


def _score_text(text: str, s: LabelScore, seen: set[str]) -> None:
    folded = fold(text)
    for cue, w in AGENT_CUES.items():
        if cue not in seen and cue in folded:
            seen.add(cue)
            s.agent += w
            s.cues.append(cue)
    for cue, w in CUSTOMER_CUES.items():
        if cue not in seen and cue in folded:
            seen.add(cue)
            s.customer += w
            s.cues.append(f"-{cue}")


def score_labels(t: Transcript) -> list[LabelScore]:
    """Agent/customer vocabulary scores of each label, in order of first appearance."""
    scores: dict[str, LabelScore] = {}
    seen: dict[str, set[str]] = {}
    for u in t.utterances:
        s = scores.setdefault(u.speaker, LabelScore(u.speaker))
        _score_text(u.text, s, seen.setdefault(u.speaker, set()))
    if t.utterances and fold(t.utterances[0].text).startswith(OPENING):
        first = scores[t.utterances[0].speaker]
        first.agent += OPENING_BONUS
        first.cues.insert(0, "先开口问候")
    return list(scores.values())


def _relabel(t: Transcript, roles: Mapping[str, str]) -> list[Utterance]:
    return [Utterance(u.index, roles[u.speaker], u.start, u.end, u.text) for u in t.utterances]


def _describe(s: LabelScore, max_cues: int = 8) -> str:
    cues = ", ".join(s.cues[:max_cues]) + (", …" if len(s.cues) > max_cues else "")
    return f"{s.label}: {s.net:+d} ({cues or '无特征词'})"


def _from_mapping(t: Transcript, opts: RoleOptions) -> tuple[dict[str, str], str] | None:
    labels = {u.speaker for u in t.utterances}
    if opts.speakers:
        known = {
            lab: opts.speakers[norm_label(lab)]
            for lab in labels
            if norm_label(lab) in opts.speakers
        }
        if known:
            has_agent = AGENT in known.values()
            roles = {lab: known.get(lab, CUSTOMER if has_agent else AGENT) for lab in labels}
            return roles, "按 speakers 映射:" + ",".join(
                f"{lab}={'坐席' if roles[lab] == AGENT else '客户'}" for lab in sorted(labels)
            )
    if opts.agent_channel is not None and t.speaker_kind == "channel":
        want = str(opts.agent_channel)
        roles = {lab: AGENT if norm_label(lab) == want else CUSTOMER for lab in labels}
        return roles, f"坐席声道 {want}(--agent-channel 或 profile 指定)"
    return None


def _guess_per_utterance(t: Transcript) -> tuple[list[Utterance], str]:
    """No labels to go by: each utterance is the agent's if it carries more agent vocabulary."""
    out = []
    for u in t.utterances:
        s = LabelScore(u.speaker)
        _score_text(u.text, s, set())
        out.append(Utterance(u.index, AGENT if s.net > 0 else CUSTOMER, u.start, u.end, u.text))
    n = sum(u.speaker == AGENT for u in out)
    return out, f"导出无说话人标签,按每句用词猜测角色(坐席 {n} 句,客户 {len(out) - n} 句)"


def assign_roles(t: Transcript, opts: RoleOptions | None = None) -> Transcript | InputProblem:
    """Turn a vendor transcript's labels into agent/customer roles, recording how.

    Transcripts whose speakers are already roles are returned as they are. An uncertain
    decision under ``strict`` is returned as an :class:`InputProblem` (the call is not audited).
    """
    if t.speaker_kind is None:
        return t
    opts = opts or RoleOptions()
    given = _from_mapping(t, opts)
    if given is not None:
        roles, evidence = given
        t.utterances = _relabel(t, roles)
        t.role_source, t.role_evidence, t.role_confidence = "given", evidence, 1.0
        return t
    scores = score_labels(t)
    if len(scores) == 1:
        t.utterances, evidence = _guess_per_utterance(t)
        t.role_source, t.role_evidence, t.role_confidence = "uncertain", evidence, 0.0
    else:
        ranked = sorted(scores, key=lambda s: -s.net)
        agent, runner = ranked[0], ranked[1]
        margin = agent.net - runner.net
        # ties go to the tied label that spoke first (the agent answers the phone)
        if margin == 0:
            agent = next(s for s in scores if s.net == ranked[0].net)
            runner = next(s for s in ranked if s is not agent)
        roles = {s.label: AGENT if s is agent else CUSTOMER for s in scores}
        t.utterances = _relabel(t, roles)
        sure = margin >= MIN_MARGIN and agent.agent >= 3 and (len(scores) == 2 or runner.net < 3)
        t.role_source = "detected" if sure else "uncertain"
        t.role_confidence = round(min(1.0, margin / FULL_MARGIN), 2)
        t.role_evidence = f"坐席={agent.label}; " + "; ".join(_describe(s) for s in ranked)
    if t.role_source == "uncertain" and opts.strict:
        return InputProblem(
            t.source,
            t.line,
            "说话人角色不确定(--strict-roles):"
            f"{t.role_evidence};请给出 --agent-channel N,或在导出配置中写 speakers: 映射",
            call_id=t.call_id,
        )
    return t
