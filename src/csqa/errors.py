"""Errors csqa raises for a person to act on; the CLI turns each into a message and exit code."""

from __future__ import annotations


class CsqaError(Exception):
    """Base of the errors csqa reports to users (never shown as a traceback)."""


class RulesetError(CsqaError):
    """A ruleset that cannot be used. ``problems`` lists every problem, one line each,
    as ``file:line:col: path.to.key: what is wrong``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class OutputsInPlace(KeyboardInterrupt):
    """Ctrl-C or SIGTERM that arrived while the run's outputs were switching into place: the
    folder holds this run's complete outputs (not the previous ones)."""

    def __init__(self, out_dir: object) -> None:
        self.out_dir = out_dir
        super().__init__(f"运行结束后被中断:{out_dir} 中是本次运行的完整输出(本次输出已完整写入)")


class InputError(CsqaError):
    """An input that cannot be read at all (a path that does not exist, an unknown format)."""
