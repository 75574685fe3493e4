"""Documentation stays true: the README reference is generated from the code, every kind and
every parameter is documented."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from csqa.rules import KINDS
from csqa.rules.docs import params_table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))


def test_readme_rule_reference_is_current() -> None:
    from update_readme import README, updated

    text = README.read_text(encoding="utf-8")
    assert updated(text) == text, "README.md is stale: run python tools/update_readme.py"


def test_readme_has_the_two_setup_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_documented(kind: str) -> None:
    doc = KINDS[kind].__doc__ or ""
    assert doc.startswith(f"{kind}: "), "first line names the kind"
    assert "Example" in doc and "Pass" in doc, "a failing and a passing example"
    for name, _default, desc in params_table(kind):
        assert desc, f"{kind}.{name} has no description"


def test_layers_import_one_direction() -> None:
    """STYLE.md's layers, checked by import-linter (contract in pyproject.toml)."""
    import subprocess

    exe = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
