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


EVERY_COMMAND = [["audit"], ["report"], ["review"], ["check"], ["explain"], ["backtest"],
                 ["synth"], ["version"], ["rules"], ["rules", "stats"], ["rules", "show"],
                 ["rules", "lint"], ["rules", "test"]]


def test_version_option() -> None:
    from csqa import __version__

    for flag in ("--version", "-V"):
        result = CliRunner().invoke(app, [flag])
        assert (result.exit_code, result.stdout) == (0, f"csqa {__version__}\n")


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=" ".join)
def test_every_command_has_h_and_q_and_plain_help(args: list[str]) -> None:
    """#17: -h and -q on every command; help without Python type names (<bool>,
    <list[Path]>) or line breaks in the middle of a sentence."""
    result = CliRunner().invoke(app, [*args, "-h"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "-q" in text and "--quiet" in text
    for raw in ("<bool>", "<list[", "<path>", "<int", "<float", "<str>", "{run_dirs}", "{paths}"):
        assert raw not in text, raw
    # at 400 columns every paragraph of the description is one line
    lines = [line.strip() for line in text.splitlines()]
    desc = lines[lines.index(next(x for x in lines if x.startswith("Usage:"))) + 1:
                 next(i for i, x in enumerate(lines) if x.startswith("╭"))]
    paragraphs = [x for x in desc if x]
    assert paragraphs and all(p[-1] in ".。)」:!)" or p.endswith("…") for p in paragraphs), desc
