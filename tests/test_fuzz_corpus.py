"""The fuzz corpus (tests/fuzz/): malformed files, each with the exact problems it must give.

Also audits the whole corpus end to end: every file is accounted for, nothing crashes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from csqa.api import audit
from csqa.loaders import load_all
from csqa.model import InputProblem

FUZZ = Path(__file__).parent / "fuzz"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((FUZZ / "expected.yaml").read_text("utf-8"))
FILES = sorted(p for p in FUZZ.iterdir() if p.name != "expected.yaml")


def test_every_fuzz_file_has_an_expectation() -> None:
    assert sorted(p.name for p in FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fuzz_file(path: Path) -> None:
    items = list(load_all([path]))
    problems = [f"{p.line}: {p.reason}" if p.line is not None else p.reason
                for p in items if isinstance(p, InputProblem)]
    calls = [i.call_id for i in items if not isinstance(i, InputProblem)]
    want = EXPECTED[path.name]
    assert problems == want["problems"]
    assert calls == want.get("calls", [])
    assert all(p.file == str(path) for p in items if isinstance(p, InputProblem))


def test_fuzz_corpus_audits_with_every_file_accounted_for(tmp_path: Path) -> None:
    summary = audit([FUZZ], out=tmp_path / "out")
    acc = summary.accounting
    n_calls = sum(len(e.get("calls", [])) for e in EXPECTED.values())
    n_problems = sum(len(e["problems"]) for e in EXPECTED.values())
    with_calls = sum(1 for e in EXPECTED.values() if e.get("calls"))
    # expected.yaml is data, not a transcript type: it is listed as skipped
    assert acc["files_seen"] == len(FILES) + 1 and acc["files_skipped"] == 1
    assert (acc["files_audited"], acc["files_failed"]) == (with_calls, len(FILES) - with_calls)
    assert (acc["calls_audited"], acc["records_rejected"]) == (n_calls, n_problems)
    assert acc["balanced"] is True
