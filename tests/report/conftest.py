"""Fixtures of the report tests: three audit runs (see fixtures.py), built once per session."""

from __future__ import annotations

import fcntl
import math
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from support.cdp import Browser, find_chromium

from csqa.weekly import Report, build_report
from report.fixtures import make_runs


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_runs(tmp_path_factory.mktemp("runs"))


def ruleset_hash(run: Path) -> str:
    import json

    return str(json.loads((run / "run.json").read_text(encoding="utf-8"))["ruleset"]["hash"])


@pytest.fixture(scope="session")
def w47(runs: dict[str, Path]) -> Report:
    """W47 over all three runs, given newest first on the command line (order must not matter),
    of the ruleset of run1 and run2 (run3's other ruleset is listed, not counted)."""
    return build_report([runs["run2"], runs["run1"], runs["run3"]], week="2026-W47",
                        keywords=5, ruleset_hash=ruleset_hash(runs["run1"]))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN as None, so they compare with ``==``."""
    out = []
    for rec in frame.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in rec.items()})
    return out


ENSURE = Path(__file__).resolve().parent.parent / "support" / "ensure_chromium.sh"


def _chromium() -> str:
    found = find_chromium()
    if found:
        return found
    if os.geteuid() != 0:
        pytest.skip("chromium is not installed and the tests do not run as root, so it cannot be "
                    "installed (apt-get install chromium); skipping the browser test")
    # one installer at a time when pytest-xdist runs several workers
    with open("/tmp/csqa-ensure-chromium.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(["sh", str(ENSURE)], capture_output=True, text=True,
                              timeout=900, check=False)
    found = find_chromium()
    if not found:
        pytest.skip("chromium could not be installed: " + (done.stderr.strip() or "no reason"))
    return found


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    b = Browser(_chromium(), tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield b
    finally:
        b.close()


