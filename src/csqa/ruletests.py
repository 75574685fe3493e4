"""Rule examples (``csqa rules test``): each rule carries calls that must fire it and calls that
must not, like semgrep's rule tests, so that whoever edits a phrase list sees what broke.

In the ruleset, on any rule::

    - id: forbidden.shirk
      kind: forbidden_phrase
      phrases: [没办法, 不归我管]
      unless: [想办法]
      examples:
        fire:
          - 这个没办法,您找厂家吧。                 # one line, said by the rule's speaker
          - {call: "坐席: 这事不归我管。", matched: 不归我管}
        pass:
          - 您别着急,我来想办法。                   # a decoy that must NOT fire
          - |                                      # a mini-transcript
            客户: 没办法,我只能找你们了。
            坐席: 您放心,我马上帮您处理。

or in a sibling file ``RULESET.tests.yaml`` (``my-rules.yaml`` → ``my-rules.tests.yaml``),
a mapping of rule id to the same ``{fire: […], pass: […]}``; both places add up.

An example is text or a mapping ``{call: TEXT, name:, matched:, utterance:}``. Its text is a
call in csqa's timestamped text format (``[00:00:01.0-00:00:03.5] 坐席: …``, ``# hangup_by:
agent``, ``[00:00:30] <挂机: 坐席>``), except that lines may leave out the times
(``坐席: …``, ``客户: …``, ``<挂机: 坐席>``; they follow one another at 3 characters a
second with 0.5 s between turns) and the speaker (the rule's ``speaker``, else the agent).

A ``fire`` example passes when the rule gives at least one finding (on ``utterance`` and
with ``matched`` text, when those are given); a ``pass`` example when it gives none. The rule
is run alone, so other rules cannot hide or cause a result.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csqa import safeio
from csqa.errors import RulesetError
from csqa.loaders.common import LoadProblem, speaker_role
from csqa.loaders.text import _HANGUP, _UTTERANCE, parse, parse_time
from csqa.model import CallResult, InputProblem, Transcript
from csqa.parallel import Job
from csqa.pipeline import AuditStage, Sink, run
from csqa.reading import Preparation, ReadyCall
from csqa.redact import redact
from csqa.ruleset import Rule, Ruleset, did_you_mean
from csqa.ruleset.yamlsrc import YamlDoc, load_yaml

EXAMPLE_KEYS = ("call", "name", "matched", "utterance")
SPEAKER_PREFIX = re.compile(r"^(?P<speaker>[^:：\s]{1,8})\s*[:：]\s*(?P<text>.*)$")
_UNTIMED_HANGUP = re.compile(r"^<\s*挂机\s*[:：]\s*(?P<side>[^>]*?)\s*>$")
CHARS_PER_SECOND = 3.0
TURN_GAP = 0.5
SPEAKER_LABELS = {"agent": "坐席", "customer": "客户"}


@dataclass(slots=True)
class Example:
    """One example of one rule, with where it was written."""

    rule_id: str
    expect: str  # "fire" or "pass"
    index: int
    where: str
    call: str
    name: str | None = None
    matched: str | None = None
    utterance: int | None = None

    @property
    def label(self) -> str:
        return f"{self.expect}[{self.index}]" + (f" {self.name}" if self.name else "")


@dataclass(slots=True)
class Outcome:
    """An example run: ``problem`` is ``None`` when it behaved as expected."""

    example: Example
    problem: str | None
    result: CallResult | None = None


@dataclass
class TestReport:
    """Every example of a ruleset, run."""

    outcomes: list[Outcome] = field(default_factory=list)
    rules_tested: list[str] = field(default_factory=list)
    without_examples: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.problem is not None]


def tests_file_for(ruleset_path: str | Path) -> Path:
    """``rules/my.yaml`` -> ``rules/my.tests.yaml``."""
    p = Path(ruleset_path)
    return p.with_name(p.stem + ".tests" + (p.suffix or ".yaml"))


def _parse_examples(value: Any, doc_where: Any, prefix: str, rule_id: str,
                    problems: list[str]) -> list[Example]:
    """Examples from an ``examples`` mapping; ``doc_where(*sub, key=False)`` locates a part of it
    and ``prefix`` is its key path (``rules[3].examples``) for messages."""
    out: list[Example] = []
    if value is None:
        return out
    if not isinstance(value, dict):
        problems.append(f"{doc_where()}: {prefix}: 应为含 fire 和/或 pass 列表的映射")
        return out
    for key, items in value.items():
        if key not in ("fire", "pass"):
            problems.append(f"{doc_where(key, key=True)}: {prefix}.{key}: 未知的键"
                            f"{did_you_mean(str(key), ['fire', 'pass'])}(应为 fire 或 pass)")
            continue
        if not isinstance(items, list):
            problems.append(f"{doc_where(key)}: {prefix}.{key}: 应为通话列表")
            continue
        for i, item in enumerate(items):
            where = doc_where(key, i)
            ex = Example(rule_id, key, i, where, "")
            if isinstance(item, str):
                ex.call = item
            elif isinstance(item, dict):
                for k in item:
                    if k not in EXAMPLE_KEYS:
                        problems.append(f"{doc_where(key, i, k, key=True)}: "
                                        f"{prefix}.{key}[{i}].{k}: 未知的键"
                                        f"{did_you_mean(str(k), EXAMPLE_KEYS)}")
                call = item.get("call")
                if not isinstance(call, str) or not call.strip():
                    problems.append(f"{where}: {prefix}.{key}[{i}].call: 必填"
                                    "(通话的文字)")
                    continue
                ex.call = call
                ex.name = None if item.get("name") is None else str(item["name"])
                ex.matched = None if item.get("matched") is None else str(item["matched"])
                utt = item.get("utterance")
                if utt is not None and (isinstance(utt, bool) or not isinstance(utt, int)):
                    problems.append(f"{doc_where(key, i, 'utterance')}: {prefix}.{key}[{i}]."
                                    "utterance: 应为整数(0 是第一句)")
                    continue
                ex.utterance = utt
            else:
                problems.append(f"{where}: {prefix}.{key}[{i}]: 应为文字,或含 call 的"
                                "映射")
                continue
            if not ex.call.strip():
                problems.append(f"{where}: {prefix}.{key}[{i}]: 通话为空")
                continue
            out.append(ex)
    return out


def collect_examples(ruleset: Ruleset, tests_file: Path | None = None
                     ) -> dict[str, list[Example]]:
    """Every rule's examples (from the rules and from ``tests_file``), by rule id.

    Raises :class:`RulesetError` listing every malformed example or unknown rule id.
    """
    problems: list[str] = []
    by_rule: dict[str, list[Example]] = {}
    for rule in [*ruleset.rules, *ruleset.disabled_rules]:
        def at(*sub: str | int, key: bool = False, rule: Rule = rule) -> str:
            return rule.where("examples", *sub, key_pos=key) or rule.source
        by_rule[rule.id] = _parse_examples(rule.examples, at, rule.path("examples"), rule.id,
                                           problems)
    if tests_file is not None and tests_file.exists():  # a device or FIFO is refused, not skipped
        doc = _load_tests_file(tests_file)
        data = doc.data or {}
        if not isinstance(data, dict):
            problems.append(f"{doc.where(())}: 测试文件应把规则 id 映射到 "
                            "{fire: […], pass: […]}")
            data = {}
        for rid, value in data.items():
            if rid not in by_rule:
                problems.append(f"{doc.where((rid,), key=True)}: {rid}: 规则集中没有这条规则"
                                f"{did_you_mean(str(rid), list(by_rule))}")
                continue
            def at2(*sub: str | int, key: bool = False, rid: str = rid) -> str:
                return doc.where((rid, *sub), key=key)
            by_rule[rid].extend(_parse_examples(value, at2, str(rid), rid, problems))
    if problems:
        raise RulesetError(problems)
    return by_rule


def _load_tests_file(path: Path) -> YamlDoc:
    try:
        text = safeio.read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesetError([f"{path}: 无法读取测试文件:{exc}"]) from None
    return load_yaml(text, str(path))


def example_transcript_text(call: str, default_speaker: str) -> str:
    """An example's text in the full timestamped format (missing times and speakers filled in)."""
    lines: list[str] = []
    clock = 0.0
    for raw in call.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            lines.append(line)
            continue
        m = _UTTERANCE.match(line)
        if m:
            clock = max(clock, parse_time(m["end"]) + TURN_GAP)
            lines.append(line)
            continue
        if _HANGUP.match(line):
            lines.append(line)
            continue
        h = _UNTIMED_HANGUP.match(line)
        if h:
            lines.append(f"[{max(0.0, clock - TURN_GAP):.1f}] <挂机: {h['side']}>")
            continue
        speaker, text = SPEAKER_LABELS[default_speaker], line
        p = SPEAKER_PREFIX.match(line)
        if p and speaker_role(p["speaker"]) is not None:
            speaker, text = p["speaker"], p["text"]
        length = max(1.0, round(len(text) / CHARS_PER_SECOND, 1))
        lines.append(f"[{clock:.1f}-{clock + length:.1f}] {speaker}: {text}")
        clock = round(clock + length + TURN_GAP, 1)
    if not any(line.startswith("# agent_id") for line in lines):
        lines.insert(0, "# agent_id: EXAMPLE")
    return "\n".join(lines) + "\n"


def _default_speaker(rule: Rule) -> str:
    speaker = getattr(rule.params, "speaker", "agent")
    return speaker if speaker in SPEAKER_LABELS else "agent"


def load_example(rule: Rule, ex: Example) -> Transcript | Outcome:
    """The example's call, ready to audit, or the failed outcome saying why it cannot be read."""
    try:
        return parse(example_transcript_text(ex.call, _default_speaker(rule)), ex.where,
                     f"{rule.id}.{ex.expect}[{ex.index}]")
    except LoadProblem as exc:
        return Outcome(ex, f"样例无法读取:{exc.reason}")


def judge_example(rule: Rule, ex: Example, result: CallResult) -> Outcome:
    """Whether ``rule`` did on the example's audited call what the example expects."""
    if rule.id in result.rule_errors:
        return Outcome(ex, f"规则运行出错:{result.rule_errors[rule.id]}", result)
    findings = result.findings
    if ex.expect == "pass":
        if findings:
            got = "; ".join(_describe(f.utterance, f.matched, f.message) for f in findings)
            return Outcome(ex, f"应不触发,却触发了 {len(findings)} 条:{got}", result)
        return Outcome(ex, None, result)
    if rule.id in result.not_evaluable:
        return Outcome(ex, f"应触发,但规则不可评估:{result.not_evaluable[rule.id]}", result)
    if not findings:
        return Outcome(ex, "应触发,却没有触发", result)
    wanted = [f for f in findings
              if (ex.utterance is None or f.utterance == ex.utterance)
              and (ex.matched is None or f.matched == ex.matched)]
    if not wanted:
        want = []
        if ex.utterance is not None:
            want.append(f"第 {ex.utterance} 句")
        if ex.matched is not None:
            want.append(f"匹配“{ex.matched}”")
        got = "; ".join(_describe(f.utterance, f.matched, f.message) for f in findings)
        return Outcome(ex, f"应触发({'、'.join(want)}),实际:{got}", result)
    return Outcome(ex, None, result)


class ExampleSink(Sink):
    """``rules test``'s sink: judges the audited call of one example."""

    def __init__(self, rule: Rule, example: Example, outcomes: list[Outcome]) -> None:
        self.rule = rule
        self.example = example
        self.outcomes = outcomes

    def call(self, outcome: CallResult) -> None:
        self.outcomes.append(judge_example(self.rule, self.example, outcome))

    def problem(self, problem: InputProblem, of_input: bool = True) -> None:
        self.outcomes.append(Outcome(self.example, f"样例无法读取:{problem.reason}"))


def run_examples(ruleset: Ruleset, rule: Rule, examples: list[Example]) -> list[Outcome]:
    """The outcomes of ``rule``'s examples, the rule run alone under ``ruleset``'s scoring,
    each call audited by the one pipeline (prepared, unredacted, whole results). Each example
    is a run of its own: two examples may well have the same call id."""
    alone = dataclasses.replace(ruleset, rules=[rule])  # its meaning settings too
    job = Job(alone, redact=False, render=False)
    outcomes: list[Outcome] = []
    for ex in examples:
        loaded = load_example(rule, ex)
        if isinstance(loaded, Outcome):
            outcomes.append(loaded)
            continue
        run([ReadyCall(x) for x in Preparation()([loaded])], AuditStage(job),
            [ExampleSink(rule, ex, outcomes)])
    return outcomes


def _describe(utterance: int | None, matched: str, message: str) -> str:
    where = f"第 {utterance} 句" if utterance is not None else "整通"
    return f"{where} “{matched}”" if matched else f"{where} {message}"


def run_rule_tests(ruleset: Ruleset, tests_file: Path | None = None) -> TestReport:
    """Run every example of every enabled rule, each rule alone."""
    examples = collect_examples(ruleset, tests_file)
    report = TestReport(disabled=[r.id for r in ruleset.disabled_rules])
    for rule in ruleset.rules:
        mine = examples.get(rule.id, [])
        if not mine:
            report.without_examples.append(rule.id)
            continue
        report.rules_tested.append(rule.id)
        report.outcomes.extend(run_examples(ruleset, rule, mine))
    return report


def failure_lines(outcome: Outcome) -> Iterator[str]:
    """A failed example for a person: which rule and example, where, what went wrong, the call
    (personal numbers masked, as in every output)."""
    ex = outcome.example
    yield f"✗ {ex.rule_id} {ex.label}  ({ex.where})"
    yield redact(f"    {outcome.problem}")
    for line in ex.call.strip().splitlines():
        yield redact(f"    | {line.strip()}")


def summary_line(report: TestReport) -> str:
    n = len(report.outcomes)
    failed = len(report.failures)
    text = (f"规则样例:{len(report.rules_tested)} 条规则,{n} 个样例,通过 {n - failed},"
            f"失败 {failed}")
    if report.without_examples:
        missing = report.without_examples
        text += f";{len(missing)} 条规则没有样例:{', '.join(missing)}"
    if report.disabled:
        text += f";已停用未测试:{', '.join(report.disabled)}"
    return text
