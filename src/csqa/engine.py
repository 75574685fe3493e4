"""The engine: compiles a ruleset once, runs every rule over a call, stamps the findings.

Rule kinds yield bare :class:`~csqa.model.Hit` objects; the engine, not the rule, stamps
each with the rule's id, kind, severity, points and message. A rule that fails on one call
(a bug, or data it did not expect) is recorded on that call's result and the audit goes on:
one bad call never stops a night's run.

Every finding gets a stable :func:`finding_id`, so that a reviewer's verdict on it survives
re-runs (see :mod:`csqa.review`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import orjson

from csqa.matching import CallView, PhraseBank, fold
from csqa.meaning import MeaningBank
from csqa.model import CallResult, Finding, Hit, Transcript
from csqa.normalize import Normalizer
from csqa.rules import KINDS
from csqa.rules.base import NotEvaluable
from csqa.ruleset import Rule, Ruleset, format_message
from csqa.scoring import score_call


@dataclass(slots=True, frozen=True)
class CompiledRule:
    rule: Rule
    module: ModuleType
    prepared: Any


def finding_id(call_id: str, rule_id: str, utterance: int | None, matched: str,
               ruleset_version: str, occurrence: int = 1, folded: str | None = None) -> str:
    """The stable id of a finding: a hash of call, rule, utterance index, matched text and
    ruleset version.

    The matched text is folded (punctuation and spaces ignored), so the same call exported as
    JSON or as timestamped text gets the same ids. ``occurrence`` tells apart identical
    findings in one call (the same phrase said twice in one utterance): the n-th gets ``n``.
    Times are left out on purpose: formats round them differently. ``folded`` is
    ``fold(matched)`` when the caller has it already.
    """
    if folded is None:
        folded = fold(matched)
    key: list[Any] = [call_id, rule_id, utterance, folded, ruleset_version]
    if occurrence > 1:
        key.append(occurrence)
    return "F" + hashlib.blake2b(orjson.dumps(key), digest_size=8).hexdigest()


class Engine:
    """A ruleset compiled for auditing: one phrase automaton for all rules, regexes compiled."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self.bank = PhraseBank(Normalizer(ruleset.fillers))
        self.bank.dictionary.update(ruleset.dictionary)
        self.bank.meaning = MeaningBank(ruleset.meaning, ruleset.meaning_unlike,
                                        ruleset.respectful_margin)
        self.rules = [
            CompiledRule(r, KINDS[r.kind], KINDS[r.kind].prepare(r.params, self.bank))
            for r in ruleset.rules
        ]
        self.bank.build()
        self._checks = [(cr.rule, cr.module.check, cr.prepared) for cr in self.rules]

    def audit(self, transcript: Transcript) -> CallResult:
        """Run every rule over one call and score it."""
        call = CallView(transcript, self.bank)
        findings: list[Finding] = []
        not_evaluable: dict[str, str] = {}
        rule_errors: dict[str, str] = {}
        seen: dict[tuple[str, int | None, str], int] | None = None
        version = self.ruleset.version
        for rule, check, prepared in self._checks:
            try:
                hits = list(check(call, prepared))
            except NotEvaluable as exc:
                not_evaluable[rule.id] = str(exc)
                continue
            except Exception as exc:  # one rule's failure must not lose the call
                rule_errors[rule.id] = f"{type(exc).__name__}: {exc}"
                continue
            if not hits:
                continue
            if seen is None:
                seen = {}  # a plain dict: Counter's hook for a new key is Python code
            for h in hits:
                folded = fold(h.matched) if h.matched else ""
                key = (rule.id, h.utterance, folded)
                n = seen[key] = seen.get(key, 0) + 1
                fid = finding_id(transcript.call_id, rule.id, h.utterance, h.matched, version,
                                 n, folded)
                findings.append(self._stamp(rule, transcript, h, fid))
        return score_call(transcript, findings, self.ruleset, not_evaluable, rule_errors)

    @staticmethod
    def _stamp(rule: Rule, t: Transcript, hit: Hit, fid: str = "") -> Finding:
        utt = t.utterances[hit.utterance] if hit.utterance is not None else None
        values = {"matched": hit.matched, "name": rule.name, "id": rule.id,
                  "points": rule.points, **hit.values}
        why = values.pop("meaning", None)  # a Judgement, for a finding from meaning
        if rule.message:
            message = format_message(rule.message, values)
        elif "detail" in hit.values:
            message = f"{rule.name}:{hit.values['detail']}"
        elif hit.matched:
            message = f"{rule.name}:“{hit.matched}”"
        else:
            message = rule.name
        if why is not None:
            message += f"({why.describe()})"
        # positionally, in the fields' order (call_id … finding_id): cheaper than keywords
        return Finding(t.call_id, t.agent_id, rule.id, rule.kind, rule.name, rule.severity,
                       rule.points, hit.utterance, round(hit.start, 3), round(hit.end, 3),
                       utt.speaker if utt else None, hit.matched, utt.text if utt else "",
                       message, fid, why.as_dict() if why is not None else None)
