"""Fixtures of the report tests: three audit runs (see fixtures.py), built once per session."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from csqa.weekly import Report, build_report
from report.fixtures import make_runs


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_runs(tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="session")
def w47(runs: dict[str, Path]) -> Report:
    """W47 over all three runs, given newest first on the command line (order must not matter)."""
    return build_report([runs["run2"], runs["run1"], runs["run3"]], week="2026-W47",
                        keywords=5)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN as None, so they compare with ``==``."""
    out = []
    for rec in frame.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in rec.items()})
    return out
