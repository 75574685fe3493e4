"""The ``csqa`` command: a thin layer over :mod:`csqa.api`. Only this module prints or exits.

Exit codes: 0 the run completed (whatever the scores); 2 bad usage or a bad ruleset (nothing
was audited); 3 the run completed but some inputs could not be read (they are listed in
errors.csv and on stderr).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INPUT = 3

app = typer.Typer(
    name="csqa",
    help="QA-audit customer-service call transcripts against service-norm rulesets.\n\n"
         "Audit a folder of transcripts with the built-in default ruleset:  csqa audit calls/",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
rules_app = typer.Typer(help="List rule kinds and the rules of a ruleset.", no_args_is_help=False)
app.add_typer(rules_app, name="rules")

# Piped output (CI logs, files) gets a wide fixed width instead of rich's 80 columns.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

RulesetOpt = Annotated[
    str | None,
    typer.Option("--ruleset", "-r", metavar="FILE",
                 help="Ruleset YAML file, or a built-in name. Default: the built-in 'default'."),
]


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _load_ruleset(ref: str | None) -> Any:
    from csqa.errors import RulesetError
    from csqa.ruleset import load_ruleset

    try:
        return load_ruleset(ref)
    except RulesetError as exc:
        for problem in exc.problems:
            err.print(problem, highlight=False, soft_wrap=True, markup=False)
        n = len(exc.problems)
        raise _fail(f"ruleset rejected ({n} problem{'s' if n != 1 else ''}); nothing was audited",
                    EXIT_USAGE) from None


@app.command()
def audit(
    paths: Annotated[list[Path], typer.Argument(
        help="Transcript files or folders (walked recursively): .json .jsonl .txt .csv",
        show_default=False)],
    ruleset: RulesetOpt = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR",
                                          help="Folder for findings.jsonl, calls.csv, agents.csv, "
                                               "errors.csv and run.json.")] = Path("csqa-out"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q",
                                        help="Print only the summary line, not the scorecards.")] = False,
    no_redact: Annotated[bool, typer.Option(
        "--no-redact", help="Keep phone, ID and bank card numbers and e-mail addresses in the "
                            "outputs (masked by default, as reports are forwarded widely).")] = False,
    max_file_mb: Annotated[float, typer.Option(
        "--max-file-mb", min=0.001, metavar="MB",
        help="Refuse files read whole (.json .txt .csv) over this size; .jsonl is streamed "
             "and only a line over it is refused.")] = 100.0,
    max_utterance_chars: Annotated[int, typer.Option(
        "--max-utterance-chars", min=1, metavar="N",
        help="Reject a call with an utterance longer than N characters.")] = 20_000,
    max_utterances: Annotated[int, typer.Option(
        "--max-utterances", min=1, metavar="N",
        help="Reject a call with more than N utterances.")] = 20_000,
) -> None:
    """Audit transcripts, score every call, and print per-agent scorecards.

    Exit 0 when the run completed (whatever the scores), 2 for a bad ruleset or usage,
    3 when some inputs could not be read (they are listed in errors.csv).
    """
    from csqa.api import audit as run_audit
    from csqa.errors import InputError
    from csqa.loaders.common import Limits
    from csqa.reporters.terminal import accounting_line, scorecard_table, summary_line

    limits = Limits(max_file_mb=max_file_mb, max_utterance_chars=max_utterance_chars,
                    max_utterances=max_utterances)
    options: dict[str, Any] = {"limits": limits, "redact": not no_redact}

    rs = _load_ruleset(ruleset)
    show_progress = err.is_terminal and not quiet
    try:
        if show_progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            with Progress("[progress.description]{task.description}", BarColumn(),
                          MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                          transient=True) as progress:
                task = progress.add_task("审计中", total=None)

                def on_file(path: Path, done: int, total: int) -> None:
                    progress.update(task, total=total, completed=done, description=f"审计 {path.name}")

                summary = run_audit(paths, rs, out_dir, on_file=on_file, **options)
                progress.update(task, completed=summary.files_seen)
        else:
            summary = run_audit(paths, rs, out_dir, **options)
    except InputError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except KeyboardInterrupt:
        raise _fail("interrupted: no outputs were written (previous outputs, if any, are unchanged)",
                    130) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or out_dir}: {exc.strerror or exc}", EXIT_USAGE) from None

    for p in summary.problems:
        if p.status != "skipped":
            prefix = "警告 (warning): " if p.status == "warning" else ""
            err.print(f"{prefix}{p}", highlight=False, soft_wrap=True, markup=False)
    if not quiet and summary.agents is not None and len(summary.agents):
        names = {r.id: r.name for r in rs.rules}
        out.print(scorecard_table(summary.agents, names, rs.pass_mark))
    out.print(summary_line(summary), highlight=False, soft_wrap=True)
    if summary.accounting:
        out.print(accounting_line(summary.accounting), highlight=False, soft_wrap=True,
                  markup=False)
    if summary.input_errors:
        raise typer.Exit(EXIT_INPUT)


@rules_app.callback(invoke_without_command=True)
def rules(ctx: typer.Context, ruleset: RulesetOpt = None) -> None:
    """List the rule kinds, then the rules of a ruleset (default: the built-in one)."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from csqa.rules import KINDS, summary

    kinds = Table(title="规则类型 (rule kinds)", title_justify="left")
    kinds.add_column("kind")
    kinds.add_column("what it checks")
    for name in KINDS:
        kinds.add_row(name, summary(name).split(": ", 1)[-1])
    out.print(kinds)
    rs = _load_ruleset(ruleset)
    table = Table(title=f"规则集 {rs.name} {rs.version} · 基础分 {rs.base_score:g} · 合格线 "
                        f"{rs.pass_mark:g}", title_justify="left")
    for col in ("id", "kind", "名称", "严重度", "扣分", "上限", "一票否决"):
        table.add_column(col, no_wrap=col in ("id", "kind"))
    for r in rs.rules:
        table.add_row(r.id, r.kind, r.name, r.severity, f"{r.points:g}",
                      "" if r.max_points is None else f"{r.max_points:g}", "是" if r.veto else "")
    out.print(table)
    if rs.disabled:
        out.print(f"已停用 (disabled): {', '.join(rs.disabled)}", highlight=False)


@app.command()
def version() -> None:
    """Print the csqa version."""
    from csqa import __version__

    out.print(f"csqa {__version__}", highlight=False)


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of the ``csqa`` script."""
    import signal

    # kill (SIGTERM) gets the same clean exit as Ctrl-C: temp outputs removed, message printed.
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        app()
    except KeyboardInterrupt:
        err.print("[bold red]error:[/] interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
