"""Shared test helpers: build a ruleset from one rule, parse a call written as timestamped text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from csqa.engine import Engine
from csqa.loaders.text import parse
from csqa.model import CallResult, Transcript
from csqa.ruleset import load_ruleset

ROOT = Path(__file__).resolve().parent.parent


def make_call(text: str, call_id: str = "T-1") -> Transcript:
    """A transcript from the hand-written text format; agent_id defaults to T1."""
    if "# agent_id:" not in text:
        text = "# agent_id: T1\n" + text
    return parse(text, "<case>", call_id)


def ruleset_with(tmp_path: Path, rules: list[dict[str, Any]], **top: Any) -> Any:
    import yaml

    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "rules": rules, **top}, allow_unicode=True),
                    encoding="utf-8")
    return load_ruleset(path)


def audit_one(tmp_path: Path, rule: dict[str, Any], call: str,
              top: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> CallResult:
    """Audit one call with a one-rule ruleset (``top``: other ruleset keys such as dictionary;
    ``extra``: call-record fields such as tags, as loaders of CDR metadata fill them)."""
    rs = ruleset_with(tmp_path, [rule], **(top or {}))
    transcript = make_call(call)
    if extra:
        transcript.extra.update(extra)
    return Engine(rs).audit(transcript)


@pytest.fixture
def root() -> Path:
    return ROOT
