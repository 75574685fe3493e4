"""The engine: compiles a ruleset once, runs every rule over a call, stamps the findings.

Rule kinds yield bare :class:`~csqa.model.Hit` objects; the engine, not the rule, stamps
each with the rule's id, kind, severity, points and message. A rule that fails on one call
(a bug, or data it did not expect) is recorded on that call's result and the audit goes on:
one bad call never stops a night's run.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from csqa.matching import CallView, PhraseBank
from csqa.model import CallResult, Finding, Hit, Transcript
from csqa.rules import KINDS
from csqa.rules.base import NotEvaluable
from csqa.ruleset import Rule, Ruleset, format_message
from csqa.scoring import score_call


@dataclass(slots=True, frozen=True)
class CompiledRule:
    rule: Rule
    module: ModuleType
    prepared: Any


class Engine:
    """A ruleset compiled for auditing: one phrase automaton for all rules, regexes compiled."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self.bank = PhraseBank()
        self.bank.dictionary.update(ruleset.dictionary)
        self.rules = [
            CompiledRule(r, KINDS[r.kind], KINDS[r.kind].prepare(r.params, self.bank))
            for r in ruleset.rules
        ]
        self.bank.build()

    def audit(self, transcript: Transcript) -> CallResult:
        """Run every rule over one call and score it."""
        call = CallView(transcript, self.bank)
        findings: list[Finding] = []
        not_evaluable: dict[str, str] = {}
        rule_errors: dict[str, str] = {}
        for cr in self.rules:
            try:
                hits = list(cr.module.check(call, cr.prepared))
            except NotEvaluable as exc:
                not_evaluable[cr.rule.id] = str(exc)
                continue
            except Exception as exc:  # one rule's failure must not lose the call
                rule_errors[cr.rule.id] = f"{type(exc).__name__}: {exc}"
                continue
            findings.extend(self._stamp(cr.rule, transcript, h) for h in hits)
        return score_call(transcript, findings, self.ruleset, not_evaluable, rule_errors)

    @staticmethod
    def _stamp(rule: Rule, t: Transcript, hit: Hit) -> Finding:
        utt = t.utterances[hit.utterance] if hit.utterance is not None else None
        values = {"matched": hit.matched, "name": rule.name, "id": rule.id,
                  "points": rule.points, **hit.values}
        if rule.message:
            message = format_message(rule.message, values)
        elif "detail" in hit.values:
            message = f"{rule.name}:{hit.values['detail']}"
        elif hit.matched:
            message = f"{rule.name}:“{hit.matched}”"
        else:
            message = rule.name
        return Finding(
            call_id=t.call_id, agent_id=t.agent_id, rule_id=rule.id, kind=rule.kind,
            name=rule.name, severity=rule.severity, points=rule.points,
            utterance=hit.utterance, start=round(hit.start, 3), end=round(hit.end, 3),
            speaker=utt.speaker if utt else None, matched=hit.matched,
            evidence=utt.text if utt else "", message=message,
        )
