"""The data csqa works on: utterances, transcripts, rule hits and findings.

Everything above this module (loaders, rules, engine, reporters) speaks in these types.
Times are seconds from the start of the call, as floats.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

AGENT = "agent"
CUSTOMER = "customer"
SPEAKERS = (AGENT, CUSTOMER)


def shown_name(name: str) -> str:
    """``name`` (a file or archive member name, a reason quoting one) as it is safe to show on
    a terminal, in errors.csv or a CI log: control, format and line-separator characters are
    written as escapes (``\\x1b``, ``\\n``, ``\\u202e``), so a name can neither drive a terminal
    (``\\x1b]52;…``) nor forge a line of its own. Every name shown goes through here."""
    if name.isprintable():  # nearly always: one C-level pass
        return name
    return "".join(ch if ch.isprintable() or unicodedata.category(ch) == "Zs"
                   else ch.encode("unicode_escape").decode("ascii") for ch in name)


#: Who ended the call. ``None`` means the export does not say (not evaluable, never a fault).
HANGUP_SIDES = ("agent", "customer", "system")


@dataclass(slots=True, unsafe_hash=True)
class Utterance:
    """One turn of speech: who said what, and when (seconds from the call start).

    Treated as immutable (hashable; change one with :func:`dataclasses.replace`), but not a
    frozen dataclass: a frozen one takes five times longer to build, and a night's audit builds
    millions.
    """

    index: int
    speaker: str
    start: float
    end: float
    text: str

    @property
    def duration(self) -> float:
        return self.end - self.start


_END = attrgetter("end")  # an utterance's end, for C-level max() over a call


@dataclass(slots=True)
class Transcript:
    """One call: its metadata and its utterances, sorted by start time.

    Overlapping utterances are kept as they are: overlap is how interruptions are seen.
    ``source`` names where the call came from (``file`` or ``file:line``), for messages.
    ``warnings`` lists what the loader repaired (clamped times, milliseconds converted).

    What the recording can show, as the loader was told (see the README, "Not evaluable"):
    ``timing`` is ``utterance`` (each utterance has real start/end times) or ``none`` (times
    absent or meaningless: order only); ``channels`` is ``stereo`` (agent and customer on
    separate channels, so overlapping speech is visible) or ``mono`` (one channel, no overlap
    information); ``truncated`` is ``start``, ``end`` or ``both`` when the export itself says
    the transcript is cut (csqa also detects visible truncation, see :mod:`csqa.coverage`).
    """

    call_id: str
    agent_id: str
    utterances: list[Utterance]
    agent_name: str | None = None
    team: str | None = None
    started_at: str | None = None
    hangup_by: str | None = None
    duration: float | None = None
    source: str = ""
    line: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: Call direction from the call record (``inbound`` / ``outbound``), when known.
    direction: str | None = None
    #: The export format the call was read from (``csqa``, ``alibaba``, ``whisperx`` …).
    format: str = "csqa"
    #: ``None`` when utterance speakers are roles (agent/customer); ``channel`` or ``speaker``
    #: while they are still a vendor's raw channel / diarization labels (see csqa.roles).
    speaker_kind: str | None = None
    #: How speaker roles were decided: ``given`` (export or mapping), ``detected``, ``uncertain``.
    role_source: str = "given"
    role_evidence: str = ""
    role_confidence: float | None = None
    timing: str = "utterance"
    channels: str = "stereo"
    truncated: str | None = None

    @property
    def has_timing(self) -> bool:
        """Whether utterances carry real times (silence, delays and speech rate can be measured)."""
        return self.timing != "none"

    @property
    def has_overlap(self) -> bool:
        """Whether overlapping speech can be seen (timed, and not a mono recording)."""
        return self.has_timing and self.channels != "mono"

    @property
    def location(self) -> str:
        """``file`` or ``file:line``: where the call was read from (as it is safe to show)."""
        source = shown_name(self.source)
        return f"{source}:{self.line}" if self.line is not None else source

    @property
    def length(self) -> float:
        """Call length in seconds: the declared duration, else the end of the last utterance."""
        if self.duration is not None:
            return self.duration
        return max(map(_END, self.utterances), default=0.0)

    def by(self, speaker: str) -> list[Utterance]:
        """The utterances of one speaker role, in order."""
        return [u for u in self.utterances if u.speaker == speaker]


@dataclass(slots=True)
class Hit:
    """What a rule kind reports: where the problem is, and values for the rule's message.

    ``utterance`` is the index of the utterance the hit points at, or ``None`` for a
    call-level hit (hang-up side, speech rate). ``values`` fill the rule's message template.
    Treated as immutable, but not a frozen dataclass: a frozen one is slower to build (see
    :class:`Finding`).
    """

    utterance: int | None
    start: float
    end: float
    matched: str = ""
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, unsafe_hash=True)
class Finding:
    """A hit stamped by the engine with the rule that produced it (id, kind, severity, points).

    Treated as immutable (hashable; change one with :func:`dataclasses.replace`), but not a
    frozen dataclass: with its fifteen fields a frozen one takes four times longer to build,
    and a night's audit builds one per finding.
    """

    call_id: str
    agent_id: str
    rule_id: str
    kind: str
    name: str
    severity: str
    points: float
    utterance: int | None
    start: float
    end: float
    speaker: str | None
    matched: str
    evidence: str
    message: str
    #: Stable id of this finding (see :func:`csqa.engine.finding_id`): the same call audited
    #: again with the same ruleset version, from any input format, gets the same id.
    finding_id: str = ""
    #: For a finding from meaning (see :mod:`csqa.meaning`), why: the nearest example and its
    #: similarity, the nearest counter-example and its similarity. None for string matches.
    meaning: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {
            "call_id": self.call_id,
            "agent_id": self.agent_id,
            "rule_id": self.rule_id,
            "kind": self.kind,
            "name": self.name,
            "severity": self.severity,
            "points": self.points,
            "utterance": self.utterance,
            "start": self.start,
            "end": self.end,
            "speaker": self.speaker,
            "matched": self.matched,
            "evidence": self.evidence,
            "message": self.message,
            "finding_id": self.finding_id,
        }
        if self.meaning is not None:  # only then: string findings keep their exact shape
            out["meaning"] = self.meaning
        return out


@dataclass(slots=True)
class CallResult:
    """The audit of one call: its findings, score and verdict."""

    transcript: Transcript
    findings: list[Finding]
    score: float
    passed: bool
    vetoed: bool
    rule_counts: dict[str, int]
    deductions: dict[str, float]
    not_evaluable: dict[str, str]
    rule_errors: dict[str, str] = field(default_factory=dict)
    #: Share (0–1) of the ruleset's weight that could be evaluated for this call (see scoring).
    evaluated_share: float = 1.0

    # where the call came from, named as on a rendered call (see csqa.pipeline)
    @property
    def call_id(self) -> str:
        return self.transcript.call_id

    @property
    def source(self) -> str:
        return self.transcript.source

    @property
    def line(self) -> int | None:
        return self.transcript.line


@dataclass(slots=True, frozen=True)
class InputProblem:
    """An input (file, or line of a file) that could not be audited, and why.

    ``status`` is ``error`` for input that should have been a call and could not be read,
    ``skipped`` for files that are not transcripts at all (wrong type), which are still listed.
    """

    file: str
    line: int | None
    reason: str
    status: str = "error"
    call_id: str | None = None

    def location(self) -> str:
        """``file`` or ``file:line``, as it is safe to show (see :func:`shown_name`)."""
        file = shown_name(self.file)
        return f"{file}:{self.line}" if self.line is not None else file

    def __str__(self) -> str:
        return f"{self.location()}: {shown_name(self.reason)}"
