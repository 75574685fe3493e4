"""A call's shared facts (``csqa.facts.CallFacts``): named fields, keyed by values, each worked
out once. Every rule of the default ruleset runs over generated calls; the facts then hold only
what their fields name, keyed by utterance indexes, phrase set ids, fact keys, seconds and word
sets (never by a rule's or a condition's object), and running every rule again finds each fact
already there: no new entry, the very objects of the first run."""

from __future__ import annotations

import contextlib
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from csqa.engine import Engine
from csqa.loaders import jsonl
from csqa.matching import CallView
from csqa.model import Transcript
from csqa.reading import Preparation
from csqa.rules.base import NotEvaluable
from csqa.ruleset import load_ruleset
from csqa.synth import write_corpus


def _calls(tmp_path: Path, n: int) -> list[Transcript]:
    corpus = write_corpus(n, tmp_path / "synth", seed=11)
    path = next(corpus.rglob("*.jsonl"))
    return [Preparation().one(c) for c in next(jsonl.chunks(path, n)).load()]


def _run_rules(engine: Engine, view: CallView) -> None:
    for cr in engine.rules:
        with contextlib.suppress(NotEvaluable):
            list(cr.module.check(view, cr.prepared))


def _by_value(key: Any) -> bool:
    if isinstance(key, tuple):
        return all(_by_value(k) for k in key)
    return isinstance(key, (int, float, str, frozenset))


def _snapshot(view: CallView) -> dict[str, Any]:
    """Each fact: a dict field as {key: id of its value}, any other as the id of its value."""
    out: dict[str, Any] = {}
    for f in fields(view.facts):
        value = getattr(view.facts, f.name)
        out[f.name] = ({k: id(v) for k, v in value.items()} if isinstance(value, dict)
                       else id(value))
    return out


def test_facts_are_keyed_by_values_and_worked_out_once(tmp_path: Path) -> None:
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_text("extends: default\nmeaning: false\n", encoding="utf-8")
    engine = Engine(load_ruleset(ruleset))
    filled: set[str] = set()
    for t in _calls(tmp_path, 40):
        view = CallView(t, engine.bank)
        _run_rules(engine, view)
        first = _snapshot(view)
        for name, value in first.items():
            if isinstance(value, dict):
                assert all(_by_value(k) for k in value), (name, list(value)[:3])
                if value:
                    filled.add(name)
        _run_rules(engine, view)
        assert _snapshot(view) == first, t.call_id
    # the default ruleset asks for these on generated calls (plain text is meaning's; words
    # only where a block edge cannot tell a word boundary)
    assert filled >= {"by_speaker", "block_edges", "phrase_hits", "matches", "candidates",
                      "where"}


def test_a_call_has_no_scratch_space() -> None:
    """Facts are fields: nothing can be stored on the facts object that it does not name."""
    view = CallView(Transcript("T-1", "A1", []), Engine(load_ruleset(None)).bank)
    assert not hasattr(view, "memo")
    with pytest.raises(AttributeError):
        view.facts.scratch = {}  # type: ignore[attr-defined]
