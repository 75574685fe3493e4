"""Rule cases as data: every ``tests/rule_cases/*.yaml`` case is one test.

A case file::

    kind: interruption
    cases:
      - name: agent talks over the customer
        params: {min_overlap: 0.5}     # the rule's parameters (kind defaults otherwise)
        call: |                        # the call, in csqa's timestamped text format
          [00:00:10.0-00:00:16.0] 客户: …
          [00:00:12.0-00:00:15.0] 坐席: …
        fire:                          # exactly these findings, in order
          - {utterance: 1, start: 12.0, end: 15.0, matched: "…"}
      - name: backchannel is not an interruption (decoy)
        call: …
        fire: []                       # no finding at all
      - name: unknown hang-up side
        call: …
        not_evaluable: true            # the rule reports "not evaluable", no finding

A file may instead test a rule of the built-in default ruleset as shipped: ``default_rule:
wording.but`` (no ``kind:``) runs that rule's kind, parameters and message, with the default
ruleset's ``normalize``, ``dictionary`` and ``meaning`` blocks, and a case's ``params`` on top.
A file-level ``ruleset:`` (e.g. ``{meaning: false}``: the phrase and regex cues alone) applies
to each of its cases.

A case may also give ``ruleset:`` (other top-level ruleset keys, e.g. ``{dictionary: [小天鹅]}``)
and ``extra:`` (call-record fields of the transcript, e.g. ``{tags: [投诉]}``).

Each expected finding lists the fields to compare (utterance, start, end, matched, and any
``values`` the message is built from, such as ``detail``); ``message`` checks the formatted text;
``meaning: {like: …, unlike: …}`` the examples a finding from meaning names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import audit_one

CASES_DIR = Path(__file__).parent / "rule_cases"
DEFAULT_RULESET = Path(__file__).parent.parent / "src" / "csqa" / "data" / "default.yaml"


#: the default ruleset's top-level keys a shipped rule runs with (fillers, meaning's shared
#: counter-examples and margin)
SHIPPED_TOP = ("normalize", "dictionary", "meaning")


def _default_rule(rule_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A rule of the shipped default ruleset (its examples left out), and the default ruleset's
    top-level keys it runs with."""
    doc = yaml.safe_load(DEFAULT_RULESET.read_text(encoding="utf-8"))
    [rule] = [r for r in doc["rules"] if r["id"] == rule_id]
    top = {k: doc[k] for k in SHIPPED_TOP if k in doc}
    return {k: v for k, v in rule.items() if k not in ("id", "examples")}, top


def _collect() -> list[Any]:
    out = []
    for f in sorted(CASES_DIR.glob("*.yaml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        base, top = (_default_rule(doc["default_rule"]) if "default_rule" in doc
                     else ({"kind": doc["kind"]}, {}))
        top = {**top, **(doc.get("ruleset") or {})}
        for i, case in enumerate(doc["cases"]):
            out.append(pytest.param(base, top, case, id=f"{f.stem}[{i}] {case['name']}"))
    return out


@pytest.mark.parametrize(("base", "top", "case"), _collect())
def test_rule_case(tmp_path: Path, base: dict[str, Any], top: dict[str, Any],
                   case: dict[str, Any]) -> None:
    rule = {"points": 1, **base, "id": "r", **(case.get("rule") or {}),
            **(case.get("params") or {})}
    result = audit_one(tmp_path, rule, case["call"], {**top, **(case.get("ruleset") or {})},
                       case.get("extra"))
    if case.get("not_evaluable"):
        assert "r" in result.not_evaluable, "expected the rule to be not evaluable"
        assert result.findings == []
        return
    assert "r" not in result.not_evaluable, f"not evaluable: {result.not_evaluable.get('r')}"
    assert result.rule_errors == {}
    expected = case["fire"]
    got = [f.as_dict() for f in result.findings]
    assert len(got) == len(expected), f"expected {len(expected)} findings, got {got}"
    for want, have in zip(expected, got, strict=True):
        for key, value in want.items():
            if key == "message_contains":
                assert value in have["message"], have["message"]
            elif key == "meaning":  # the examples named; similarities vary in the last digits
                assert have["meaning"] is not None, f"not a finding from meaning: {have}"
                for sub, text in value.items():
                    assert have["meaning"][sub] == text, f"meaning.{sub}: {have['meaning']}"
            else:
                assert have[key] == value, f"{key}: {have[key]!r} != {value!r} in {have}"
