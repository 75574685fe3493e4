"""The ``csqa`` command: a thin layer over :mod:`csqa.api`. Only this module prints or exits.

Exit codes: 0 the run completed (whatever the scores); 2 bad usage or a bad ruleset (nothing
was audited); 3 the run completed but some inputs could not be read (they are listed in
errors.csv and on stderr). ``check`` adds 1: some call failed the gate (precedence 2 > 3 >
1 > 0, see :mod:`csqa.gate`); ``rules test`` uses 1 for a failing example, ``rules lint
--strict`` for warnings.
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
rules_app = typer.Typer(help="List rule kinds and the rules of a ruleset; lint, test and show "
                             "rulesets.", no_args_is_help=False)
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
) -> None:
    """Audit transcripts, score every call, and print per-agent scorecards.

    Exit 0 when the run completed (whatever the scores), 2 for a bad ruleset or usage,
    3 when some inputs could not be read (they are listed in errors.csv).
    """
    from csqa.api import audit as run_audit
    from csqa.errors import InputError
    from csqa.reporters.terminal import scorecard_table, summary_line

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

                summary = run_audit(paths, rs, out_dir, on_file=on_file)
                progress.update(task, completed=summary.files_seen)
        else:
            summary = run_audit(paths, rs, out_dir)
    except InputError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except KeyboardInterrupt:
        raise _fail("interrupted: no outputs were written (previous outputs, if any, are unchanged)",
                    130) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or out_dir}: {exc.strerror or exc}", EXIT_USAGE) from None

    for p in summary.problems:
        if p.status != "skipped":
            err.print(f"{p}", highlight=False, soft_wrap=True, markup=False)
    if not quiet and summary.agents is not None and len(summary.agents):
        names = {r.id: r.name for r in rs.rules}
        out.print(scorecard_table(summary.agents, names, rs.pass_mark))
    out.print(summary_line(summary), highlight=False, soft_wrap=True)
    if summary.input_errors:
        raise typer.Exit(EXIT_INPUT)


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(
        help="Transcript files or folders (walked recursively): .json .jsonl .txt .csv",
        show_default=False)],
    ruleset: RulesetOpt = None,
    min_score: Annotated[float | None, typer.Option(
        "--min-score", metavar="N", help="A call fails below this score. Default: the ruleset's "
                                         "scoring.pass_mark.")] = None,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", metavar="SEVERITY",
        help="A finding at or above this severity fails its call: info, minor, major, critical.")] = None,
    junit: Annotated[Path | None, typer.Option(
        "--junit", metavar="FILE", help="Also write JUnit XML (a testsuite per agent, a testcase "
                                        "per call, a failure per finding).")] = None,
    junit_group: Annotated[str, typer.Option(
        "--junit-group", metavar="agent|folder", help="Group JUnit testsuites by agent or by folder.")] = "agent",
    fmt: Annotated[str, typer.Option(
        "--format", "-f", metavar="text|json|github|junit",
        help="text: one line per failing call (default); json; github: workflow annotations; "
             "junit: JUnit XML on stdout.")] = "text",
) -> None:
    """Audit transcripts and gate them for CI: exit 0 when every call passes.

    A call fails below --min-score, on a veto rule (一票否决), on a finding at or above
    --fail-on, or when a rule could not run on it. Exit codes, first that applies: 2 bad
    ruleset or usage (nothing checked), 3 some inputs unreadable, 1 some call failed, 0 all pass.
    """
    from csqa.check import run_check
    from csqa.errors import InputError
    from csqa.reporters import check_output
    from csqa.reporters.junit import junit_xml

    if fmt not in ("text", "json", "github", "junit"):
        raise _fail(f"--format: must be one of: text, json, github, junit (got {fmt!r})", EXIT_USAGE)
    if junit_group not in ("agent", "folder"):
        raise _fail(f"--junit-group: must be agent or folder (got {junit_group!r})", EXIT_USAGE)
    rs = _load_ruleset(ruleset)
    try:
        report = run_check(paths, rs, min_score=min_score, fail_on=fail_on)
    except InputError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    if junit is not None:
        try:
            junit.write_bytes(junit_xml(report, junit_group))
        except OSError as exc:
            raise _fail(f"{junit}: cannot write JUnit XML: {exc.strerror or exc}", EXIT_USAGE) from None
    if fmt == "text":
        for p in report.input_errors:
            err.print(str(p), highlight=False, soft_wrap=True, markup=False)
        for line in check_output.text_lines(report):
            out.print(line, highlight=False, soft_wrap=True, markup=False)
    elif fmt == "github":
        for line in check_output.github_lines(report):
            sys.stdout.write(line + "\n")
        sys.stdout.write(check_output.summary_line(report) + "\n")
    else:
        data = check_output.as_json(report) if fmt == "json" else junit_xml(report, junit_group)
        sys.stdout.buffer.write(data if data.endswith(b"\n") else data + b"\n")
    sys.stdout.flush()
    raise typer.Exit(report.exit_code)


@app.command()
def explain(
    call_file: Annotated[Path, typer.Argument(metavar="CALL_FILE", show_default=False,
                                              help="A transcript file (.json .jsonl .txt .csv).")],
    call_id: Annotated[str | None, typer.Option(
        "--call-id", metavar="ID", help="Which call, when the file holds several.")] = None,
    ruleset: RulesetOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="text|html",
                                     help="text: the conversation in the terminal (default); "
                                          "html: a single-call page.")] = "text",
    out_file: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE", help="Write the HTML page here instead of stdout.")] = None,
) -> None:
    """Show one call as a conversation with each finding on its utterance, and its score.

    Exit 0 when shown, 2 for a bad ruleset or usage (no such file or call id), 3 when the
    call could not be read.
    """
    from csqa.errors import InputError
    from csqa.explain import UnreadableCall, explain_call
    from csqa.reporters.explain import conversation, html_page

    if fmt not in ("text", "html"):
        raise _fail(f"--format: must be text or html (got {fmt!r})", EXIT_USAGE)
    rs = _load_ruleset(ruleset)
    try:
        ex = explain_call(call_file, call_id, rs)
    except InputError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except UnreadableCall as exc:
        for p in exc.problems:
            err.print(str(p), highlight=False, soft_wrap=True, markup=False)
        raise _fail("the call could not be read", EXIT_INPUT) from None
    if fmt == "html":
        page = html_page(ex)
        if out_file is None:
            sys.stdout.write(page)
        else:
            try:
                out_file.write_text(page, encoding="utf-8")
            except OSError as exc:
                raise _fail(f"{out_file}: cannot write: {exc.strerror or exc}", EXIT_USAGE) from None
            err.print(f"→ {out_file}", highlight=False, markup=False)
        return
    out.print(conversation(ex))


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


RulesetArg = Annotated[
    str | None,
    typer.Argument(metavar="FILE", help="Ruleset YAML file, or a built-in name. Default: the "
                                        "built-in 'default'.", show_default=False),
]


@rules_app.command("show")
def rules_show(
    file: RulesetArg = None,
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="text|json",
                                     help="text: commented YAML (default); json.")] = "text",
) -> None:
    """Print the fully resolved ruleset (after extends and overrides), with where each value
    came from: file:line:col of the file that set it, or 默认值 for a built-in default."""
    from csqa.reporters import ruleset_show

    if fmt not in ("text", "json"):
        raise _fail(f"--format: must be text or json (got {fmt!r})", EXIT_USAGE)
    rs = _load_ruleset(file)
    if fmt == "json":
        import orjson

        sys.stdout.buffer.write(orjson.dumps(ruleset_show.resolved(rs),
                                             option=orjson.OPT_INDENT_2) + b"\n")
        return
    for line in ruleset_show.text_lines(rs):
        out.print(line, highlight=False, soft_wrap=True, markup=False)


@rules_app.command("lint")
def rules_lint(
    file: RulesetArg = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when there are warnings.")] = False,
) -> None:
    """Check a ruleset: every error audit would give (file:line:col), plus warnings.

    Warnings: shadowed or empty phrases, phrases duplicated across rules, regexes that cannot
    match or backtrack badly elsewhere, scopes that cannot hold, rules disabled everywhere.
    Exit 2 on errors, 1 on warnings with --strict, else 0.
    """
    from csqa.lint import lint

    report = lint(file)
    for problem in report.errors:
        err.print(problem, highlight=False, soft_wrap=True, markup=False)
    for warning in report.warnings:
        out.print(str(warning), highlight=False, soft_wrap=True, markup=False)
    n_err, n_warn = len(report.errors), len(report.warnings)
    out.print(f"{report.file}: {n_err} 个错误,{n_warn} 个警告", highlight=False, markup=False,
              soft_wrap=True)
    if n_err:
        raise typer.Exit(EXIT_USAGE)
    if strict and n_warn:
        raise typer.Exit(1)


@rules_app.command("test")
def rules_test(
    file: RulesetArg = None,
    tests: Annotated[Path | None, typer.Option(
        "--tests", metavar="FILE", help="Examples file. Default: FILE's sibling *.tests.yaml, "
                                        "if there is one.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="List every rule, not only failures.")] = False,
    require_examples: Annotated[bool, typer.Option(
        "--require-examples", help="Fail when an enabled rule has no examples.")] = False,
) -> None:
    """Run the rules' own examples: each `fire` call must fire its rule, each `pass` call must not.

    Exit 0 when every example behaves, 1 when one does not, 2 for a bad ruleset or examples.
    """
    from csqa.errors import RulesetError
    from csqa.ruletests import failure_lines, run_rule_tests, summary_line, tests_file_for

    rs = _load_ruleset(file)
    if tests is None and file is not None and Path(file).is_file():
        tests = tests_file_for(file)
    try:
        report = run_rule_tests(rs, tests)
    except RulesetError as exc:
        for problem in exc.problems:
            err.print(problem, highlight=False, soft_wrap=True, markup=False)
        raise _fail(f"examples rejected ({len(exc.problems)} problem(s)); nothing was tested",
                    EXIT_USAGE) from None
    if verbose:
        for rid in report.rules_tested:
            mine = [o for o in report.outcomes if o.example.rule_id == rid]
            bad = sum(o.problem is not None for o in mine)
            mark = "✗" if bad else "✓"
            fire = sum(o.example.expect == "fire" for o in mine)
            out.print(f"{mark} {rid}  fire {fire} · pass {len(mine) - fire}"
                      + (f" · 失败 {bad}" if bad else ""), highlight=False, markup=False)
    for outcome in report.failures:
        for line in failure_lines(outcome):
            out.print(line, highlight=False, soft_wrap=True, markup=False)
    out.print(summary_line(report), highlight=False, soft_wrap=True, markup=False)
    if report.failures or (require_examples and report.without_examples):
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the csqa version."""
    from csqa import __version__

    out.print(f"csqa {__version__}", highlight=False)


def main() -> None:
    """Entry point of the ``csqa`` script."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("[bold red]error:[/] interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
