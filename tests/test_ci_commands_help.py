"""Every command of the CI/authoring workflow has help and a README section."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from csqa.cli import app

COMMANDS = [["check"], ["explain"], ["rules", "lint"], ["rules", "test"], ["rules", "show"]]
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_has_help_and_readme_section(args: list[str]) -> None:
    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0 and "Usage" in result.stdout
    assert f"### `csqa {' '.join(args)} " in README.read_text(encoding="utf-8")
