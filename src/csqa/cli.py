"""The ``csqa`` command: a thin layer over :mod:`csqa.api`. Only this module prints or exits.

Exit codes: 0 the run completed (whatever the scores); 2 bad usage or a bad ruleset (nothing
was audited); 3 the run completed but some inputs could not be read (they are listed in
errors.csv and on stderr). ``check`` adds 1: some call failed the gate (precedence 2 > 3 >
1 > 0, see :mod:`csqa.gate`); ``rules test`` uses 1 for a failing example, ``rules lint
--strict`` for warnings.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


NoRedactOpt = Annotated[bool, typer.Option(
    "--no-redact", help="Keep phone, ID and bank card numbers and e-mail addresses in the output "
                        "(masked by default, as reports are forwarded widely).")]


# ---- the reading options, one definition shared by every command that reads transcripts ----

_READING: dict[str, tuple[Any, Any]] = {
    "input_format": (Annotated[str | None, typer.Option(
        "--input-format", metavar="NAME", rich_help_panel="Reading (读取)",
        help="Force the input format instead of detecting it from content: csqa, "
             "aws-call-analytics, aws-transcribe, alibaba, tencent, iflytek, dashscope, "
             "funasr, whisper, webvtt, srt.", show_default=False)], None),
    "calls": (Annotated[Path | None, typer.Option(
        "--calls", metavar="FILE", rich_help_panel="Reading (读取)",
        help="Call records (CDR) .csv or .xlsx, joined by call id or file name: agent, team, "
             "start time, direction, who hung up.", show_default=False)], None),
    "column_map": (Annotated[list[str] | None, typer.Option(
        "--map", metavar="FIELD=COLUMN", rich_help_panel="Reading (读取)",
        help="Name a call-record column, e.g. --map agent_id=工号 (repeatable). Fields: "
             "call_id file agent_id agent_name team started_at direction hangup_by.",
        show_default=False)], None),
    "agent_channel": (Annotated[int | None, typer.Option(
        "--agent-channel", metavar="N", rich_help_panel="Reading (读取)",
        help="The agent's audio channel in channel-based exports (else roles are detected).",
        show_default=False)], None),
    "profile": (Annotated[Path | None, typer.Option(
        "--profile", metavar="FILE", rich_help_panel="Reading (读取)",
        help="Export profile YAML: format, agent_channel, speakers mapping, strict_roles, "
             "calls, map.", show_default=False)], None),
    "strict_roles": (Annotated[bool, typer.Option(
        "--strict-roles", rich_help_panel="Reading (读取)",
        help="A call whose speaker roles are uncertain is an error, not audited.")], False),
}


def reading_options(command: Any) -> Any:
    """Give ``command`` the shared reading options (``--input-format --calls --map
    --agent-channel --profile --strict-roles``), passed to it as one ``reading`` argument (a
    :class:`csqa.reading.ReadOptions`); a bad value is a usage error (exit 2)."""
    import functools
    import inspect

    sig = inspect.signature(command, eval_str=True)
    own = [p for p in sig.parameters.values() if p.name != "reading"]
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann,
                               default=default) for name, (ann, default) in _READING.items()]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from csqa.errors import InputError

        given = {name: kwargs.pop(name) for name in _READING}
        try:
            kwargs["reading"] = _read_options(**given)
        except InputError as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
        return command(*args, **kwargs)

    params = own + extra
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    del wrapper.__wrapped__  # typer reads the signature above, not the command's own
    return wrapper


def _read_options(input_format: str | None, calls: Path | None, column_map: list[str] | None,
                  agent_channel: int | None, profile: Path | None, strict_roles: bool) -> Any:
    from csqa.errors import InputError
    from csqa.reading import ReadOptions

    mapping: dict[str, str] = {}
    for item in column_map or []:
        name, sep, column = item.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise InputError(f"--map {item}: expected FIELD=COLUMN, e.g. --map agent_id=工号")
        mapping[name.strip()] = column.strip()
    if agent_channel is not None and agent_channel < 0:
        raise InputError(f"--agent-channel {agent_channel}: expected a channel number 0, 1 …")
    given = ReadOptions(format=input_format, calls=calls, column_map=mapping,
                        agent_channel=agent_channel, strict_roles=strict_roles)
    if profile is not None:
        return ReadOptions.from_profile(profile, **vars(given))
    return given


def _fail(message: str, code: int) -> typer.Exit:
    from rich.markup import escape

    from csqa.model import shown_name

    # messages quote names from the input and the command line: never markup, never escapes
    err.print(f"[bold red]error:[/] {escape(shown_name(message))}", highlight=False,
              soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def _usage_errors(where: object, *expected: type[Exception]) -> Iterator[None]:
    """A command's expected failures as one-line errors (exit 2): its own errors (``expected``)
    by their message, operating-system errors naming the file (``where`` when they do not)."""
    try:
        yield
    except expected as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or where}: {exc.strerror or exc}", EXIT_USAGE) from None


def _load_ruleset(ref: str | None) -> Any:
    from csqa.errors import RulesetError
    from csqa.ruleset import load_ruleset

    try:
        return load_ruleset(ref)
    except RulesetError as exc:
        raise _reject(exc.problems, "ruleset rejected", "; nothing was audited") from None


def _reject(problems: list[str], what: str, tail: str = "") -> typer.Exit:
    """Print every problem (one line each), then a one-line verdict; exit for bad usage."""
    from csqa.model import shown_name

    for problem in problems:
        err.print(shown_name(problem), highlight=False, soft_wrap=True, markup=False)
    n = len(problems)
    return _fail(f"{what} ({n} problem{'s' if n != 1 else ''}){tail}", EXIT_USAGE)


@app.command()
@reading_options
def audit(
    paths: Annotated[list[Path], typer.Argument(
        help="Transcript files, folders (walked recursively) or archives: .json (csqa or an ASR "
             "vendor's export) .jsonl .txt .csv .vtt .srt .zip .tar.gz .jsonl.gz",
        show_default=False)],
    ruleset: RulesetOpt = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR",
                                          help="Folder for findings.jsonl, calls.csv, agents.csv, "
                                               "errors.csv and run.json.")] = Path("csqa-out"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q",
                                        help="Print only the summary line, not the scorecards.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", metavar="N", min=1,
                                             help="Worker processes (default: all cores). The "
                                                  "outputs are the same whatever N is.",
                                             show_default=False)] = None,
    engine: Annotated[str, typer.Option("--engine", metavar="local|dask",
                                        help="Run locally, or on a Dask cluster (needs "
                                             "pip install 'csqa\\[dask]').")] = "local",
    scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="ADDRESS",
                                                  help="Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                                                       "(default: a local cluster).",
                                                  show_default=False)] = None,
    incremental: Annotated[bool, typer.Option("--incremental",
                                              help="Reuse the last run's results in --out for "
                                                   "calls whose content and ruleset are "
                                                   "unchanged.")] = False,
    no_redact: NoRedactOpt = False,
    max_file_mb: Annotated[float, typer.Option(
        "--max-file-mb", min=0.001, metavar="MB",
        help="Refuse files read whole (.json .txt .csv …) over this size; .jsonl is streamed "
             "(only a line over it is refused), archives member by member.")] = 100.0,
    max_utterance_chars: Annotated[int, typer.Option(
        "--max-utterance-chars", min=1, metavar="N",
        help="Reject a call with an utterance longer than N characters.")] = 20_000,
    max_utterances: Annotated[int, typer.Option(
        "--max-utterances", min=1, metavar="N",
        help="Reject a call with more than N utterances.")] = 20_000,
    old_format: Annotated[str | None, typer.Option(
        "--format", hidden=True, help="The old spelling of --input-format.")] = None,
    reviews: Annotated[Path | None, typer.Option(
        "--reviews", metavar="FILE",
        help="Apply reviewers' verdicts (a reviews .csv/.xlsx from csqa review): false alarms "
             "stop deducting, missed violations deduct; calls.csv and agents.csv keep the "
             "machine score and add the reviewed one.")] = None,
    reading: Any = None,
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
    guard: dict[str, Any] = {"limits": limits, "redact": not no_redact}

    rs = _load_ruleset(ruleset)
    options = reading
    if old_format is not None:
        err.print("warning: --format is now --input-format (the old spelling still works on "
                  "audit for now)", highlight=False, soft_wrap=True, markup=False)
        options.format = options.format or old_format
    review_set = _read_reviews(reviews) if reviews is not None else None
    scale: dict[str, Any] = {"jobs": jobs, "engine": engine, "scheduler": scheduler,
                             "incremental": incremental}
    show_progress = err.is_terminal and not quiet
    try:
        if show_progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            with Progress("[progress.description]{task.description}", BarColumn(),
                          MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                          transient=True) as progress:
                task = progress.add_task("审计中", total=None)

                def on_file(path: Path, done: int, total: int) -> None:
                    from rich.markup import escape

                    from csqa.model import shown_name

                    progress.update(task, total=total, completed=done,
                                    description=f"审计 {escape(shown_name(path.name))}")

                summary = run_audit(paths, rs, out_dir, on_file=on_file, options=options, **guard, **scale)
                progress.update(task, completed=summary.files_seen)
        else:
            summary = run_audit(paths, rs, out_dir, options=options, **guard, **scale)
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
    if not quiet and summary.scorecards is not None and len(summary.scorecards):
        names = {r.id: r.name for r in rs.rules}
        out.print(scorecard_table(summary.scorecards.rows(), names, rs.pass_mark))
    out.print(summary_line(summary), highlight=False, soft_wrap=True)
    if summary.accounting:
        out.print(accounting_line(summary.accounting), highlight=False, soft_wrap=True,
                  markup=False)
    if review_set is not None:
        _apply_reviews(out_dir, review_set, show_agents=not quiet, pass_mark=rs.pass_mark)
    if summary.input_errors:
        raise typer.Exit(EXIT_INPUT)


@app.command()
def report(
    run_dirs: Annotated[list[Path], typer.Argument(
        help="csqa audit output folders (e.g. a week of nightly runs)", show_default=False)],
    week: Annotated[str | None, typer.Option("--week", metavar="YYYY-Www",
                                             help="ISO week, e.g. 2026-W47.")] = None,
    date_from: Annotated[str | None, typer.Option(
        "--from", metavar="DATE", help="First day (YYYY-MM-DD), with --to.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", metavar="DATE",
                                                help="Last day, included.")] = None,
    by: Annotated[str, typer.Option("--by", metavar="agent|team",
                                    help="Group the main table and chart by agent or team.")
                  ] = "agent",
    out_file: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE",
        help="Write the report to FILE (.xlsx, .html or .md); without it, print it here.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", metavar="xlsx|html|md",
                                            help="Output format when the suffix does not say.")
                   ] = None,
    lang: Annotated[str, typer.Option("--lang", metavar="zh|en",
                                      help="Report labels: zh (default) or en.")] = "zh",
    tz: Annotated[str, typer.Option("--tz", metavar="ZONE",
                                    help="Time zone of the report's days.")] = "Asia/Shanghai",
    ruleset_hash: Annotated[str | None, typer.Option(
        "--ruleset-hash", metavar="HASH",
        help="Report the runs of this ruleset (default: the latest run's).")] = None,
    top: Annotated[int, typer.Option("--top", min=0, help="How many worst calls to show.")] = 10,
    keywords: Annotated[int, typer.Option("--keywords", min=0,
                                          help="How many customer keywords.")] = 20,
) -> None:
    """Weekly team-lead report from audit runs: per agent, team and rule, daily trend, worst calls.

    Calls are placed by started_at (in --tz); a call audited by several runs counts once (the
    latest run wins); runs made with a different ruleset are listed, not mixed in. Default period:
    the ISO week of the latest call.
    """
    from csqa.weekly import ReportError, build_report, write_report

    with _usage_errors(out_file, ReportError):
        rep = build_report(list(run_dirs), week=week, date_from=date_from, date_to=date_to, by=by,
                           tz=tz, ruleset_hash=ruleset_hash, top=top, keywords=keywords,
                           lang=lang)
        if out_file is None and fmt is None:
            from csqa.weekly.terminal import render_terminal

            for note in rep.notes:
                err.print(f"[yellow]warning:[/] {note}", highlight=False, soft_wrap=True,
                          markup=True)
            out.print(render_terminal(rep))
            return
        target = out_file or Path(f"csqa-report-{rep.period.name}.{fmt}")
        written = write_report(rep, target, fmt)
    for note in rep.notes:
        err.print(f"warning: {note}", highlight=False, soft_wrap=True, markup=False)
    out.print(f"{rep.label('title')} {rep.period.name} → {written}", highlight=False,
              soft_wrap=True)


def _read_reviews(path: Path) -> Any:
    from csqa.review import ReviewsError, read_reviews

    try:
        return read_reviews(path)
    except ReviewsError as exc:
        raise _reject(exc.problems, "reviews file rejected") from None


def _apply_reviews(run_dir: Path, review_set: Any, show_agents: bool, pass_mark: float) -> None:
    from csqa.errors import CsqaError
    from csqa.reporters.reviewed import reviewed_table
    from csqa.review import CONFIRMED, FALSE_ALARM, MISSED, apply_reviews, write_reviewed

    with _usage_errors(run_dir, CsqaError):
        reviewed = apply_reviews(run_dir, review_set)
        write_reviewed(reviewed)
    for p in reviewed.problems:
        err.print(f"warning: {p}", highlight=False, soft_wrap=True, markup=False)
    if reviewed.stale:
        ids = ", ".join(f"{v.finding_id} (row {v.row})" for v in reviewed.stale[:5])
        more = f" and {len(reviewed.stale) - 5} more" if len(reviewed.stale) > 5 else ""
        err.print(f"warning: {len(reviewed.stale)} verdict(s) on calls of this run name findings "
                  f"it does not have (another ruleset version, or the rule no longer fires); "
                  f"not applied: {ids}{more}", highlight=False, soft_wrap=True, markup=False)
    table = reviewed_table(reviewed.agents, pass_mark) if show_agents else None
    if table is not None:
        out.print(table)
    a = reviewed.applied
    out.print(f"复核已应用 ({review_set.path}): 确认 {a[CONFIRMED]} · 误报 {a[FALSE_ALARM]} · "
              f"漏报 {a[MISSED]} · 平均分 机器 {reviewed.machine_mean:.2f} → 复核 "
              f"{reviewed.reviewed_mean:.2f} · 合格率 机器 {reviewed.machine_pass_rate:.1%} → "
              f"复核 {reviewed.reviewed_pass_rate:.1%}", highlight=False, soft_wrap=True)


@app.command()
def review(
    run_dir: Annotated[Path, typer.Argument(help="A csqa audit output folder.", show_default=False)],
    reviews_file: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE",
        help="Reviews file to write or append to (.csv or .xlsx). Default: RUN_DIR/reviews.csv"
    )] = None,
    sample: Annotated[int | None, typer.Option(
        "--sample", "-n", min=1, metavar="N",
        help="Add a random sample instead of every finding: N per rule or per agent with "
             "--by, else N in all.")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", metavar="rule|agent", help="Stratify the sample: N findings of each rule or "
                                           "of each agent.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample (same seed, same "
                                                     "sample).")] = 0,
) -> None:
    """Write (or append to) a reviews file: one row per finding for a reviewer to judge.

    Rows already in the file, verdicts included, are kept; findings not yet in it are added.
    A reviewer fills in verdict (confirmed / false_alarm, or missed on a row they add for a
    violation the machine did not find), note and reviewer; then
    csqa audit … --reviews FILE applies the verdicts.
    """
    from csqa.errors import CsqaError
    from csqa.review import SAMPLE_BY, ReviewsError, update_reviews

    if by is not None and by not in SAMPLE_BY:
        raise _fail(f"--by: expected one of {', '.join(SAMPLE_BY)}, got {by!r}", EXIT_USAGE)
    if by is not None and sample is None:
        raise _fail("--by needs --sample N (how many findings per group)", EXIT_USAGE)
    with _usage_errors(reviews_file, CsqaError):
        try:
            done = update_reviews(run_dir, reviews_file, sample=sample, by=by, seed=seed)
        except ReviewsError as exc:
            for problem in exc.problems:
                err.print(problem, highlight=False, soft_wrap=True, markup=False)
            raise _fail("reviews file not written", EXIT_USAGE) from None
    what = f"抽样 {done.added} 条" if sample is not None else f"新增 {done.added} 条"
    if done.by_stratum:
        what += " (" + ", ".join(f"{k} {v}" for k, v in sorted(done.by_stratum.items())) + ")"
    out.print(f"{done.path}: {what}待复核 · 保留已有 {done.kept} 行 · 本次运行尚未入表的发现 "
              f"{done.candidates} 条", highlight=False, soft_wrap=True)


@app.command()
@reading_options
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
    no_redact: NoRedactOpt = False,
    reading: Any = None,
) -> None:
    """Audit transcripts and gate them for CI: exit 0 when every call passes.

    A call fails below --min-score, on a veto rule (一票否决), on a finding at or above
    --fail-on, or when a rule could not run on it. Exit codes, first that applies: 2 bad
    ruleset or usage (nothing checked), 3 some inputs unreadable, 1 some call failed, 0 all pass.
    """
    from csqa.check import run_check
    from csqa.errors import InputError
    from csqa.reporters import ci
    from csqa.reporters.junit import junit_xml

    if fmt not in ("text", "json", "github", "junit"):
        raise _fail(f"--format: must be one of: text, json, github, junit (got {fmt!r})", EXIT_USAGE)
    if junit_group not in ("agent", "folder"):
        raise _fail(f"--junit-group: must be agent or folder (got {junit_group!r})", EXIT_USAGE)
    rs = _load_ruleset(ruleset)
    try:
        report = run_check(paths, rs, min_score=min_score, fail_on=fail_on,
                           redact=not no_redact, options=reading)
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
        for line in ci.text_lines(report):
            out.print(line, highlight=False, soft_wrap=True, markup=False)
    elif fmt == "github":
        for line in ci.github_lines(report):
            sys.stdout.write(line + "\n")
        sys.stdout.write(ci.summary_line(report) + "\n")
    else:
        data = ci.as_json(report) if fmt == "json" else junit_xml(report, junit_group)
        sys.stdout.buffer.write(data if data.endswith(b"\n") else data + b"\n")
    sys.stdout.flush()
    raise typer.Exit(report.exit_code)


@app.command()
@reading_options
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
    no_redact: NoRedactOpt = False,
    reading: Any = None,
) -> None:
    """Show one call as a conversation with each finding on its utterance, and its score.

    Exit 0 when shown, 2 for a bad ruleset or usage (no such file or call id), 3 when the
    call could not be read.
    """
    from csqa.errors import InputError
    from csqa.explain import UnreadableCall, explain_call
    from csqa.reporters.conversation import conversation, html_page

    if fmt not in ("text", "html"):
        raise _fail(f"--format: must be text or html (got {fmt!r})", EXIT_USAGE)
    rs = _load_ruleset(ruleset)
    try:
        ex = explain_call(call_file, call_id, rs, redact=not no_redact, options=reading)
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


def _parse_rate(text: str) -> float:
    """``0.05`` or ``5%`` -> 0.05."""
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise typer.BadParameter(f"expected a fraction such as 0.05 or a percentage such as 5%, "
                                 f"got {text!r}") from None
    if not 0 <= value <= 1:
        raise typer.BadParameter(f"must be between 0 and 1 (or 0% and 100%), got {text!r}")
    return value


@app.command()
@reading_options
def backtest(
    run_dirs: Annotated[list[Path], typer.Argument(help="csqa audit output folders (their "
                                                        "run.json names the inputs).",
                                                   show_default=False)],
    ruleset: Annotated[str, typer.Option("--ruleset", "-r", metavar="FILE",
                                         help="The candidate ruleset to try.")],
    out_file: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE",
        help="Write the full diff: .xlsx (one sheet per table) or .csv (finding changes, "
             "with NAME.rules.csv, NAME.agents.csv, NAME.calls.csv, NAME.summary.csv).")] = None,
    max_drop: Annotated[str | None, typer.Option(
        "--max-pass-rate-drop", metavar="X",
        help="Exit 1 when the overall pass rate falls by more than X (0.05 or 5%).")] = None,
    examples: Annotated[int, typer.Option("--examples", min=0,
                                          help="Examples of added/removed findings per rule.")
                        ] = 2,
    no_redact: NoRedactOpt = False,
    reading: Any = None,
) -> None:
    """Re-audit the inputs of past runs with a candidate ruleset and show what would change.

    Per rule: findings added and removed, with examples; per agent and overall: mean score
    and pass rate before and after. Exit 1 when --max-pass-rate-drop is exceeded (for CI),
    2 for bad usage, a bad ruleset or a run folder that cannot be used.
    """
    from rich.table import Table

    from csqa.backtest import backtest as run_backtest
    from csqa.backtest import write_backtest
    from csqa.errors import CsqaError

    limit = _parse_rate(max_drop) if max_drop is not None else None
    if out_file is not None and out_file.suffix.lower() not in (".xlsx", ".csv"):
        raise _fail(f"{out_file}: --out must end in .xlsx or .csv", EXIT_USAGE)
    rs = _load_ruleset(ruleset)
    with _usage_errors(out_file, CsqaError):
        bt = run_backtest(run_dirs, rs, examples=examples, redact=not no_redact,
                          options=reading)
        written = write_backtest(bt, out_file) if out_file is not None else []
    for p in bt.problems:
        err.print(f"warning: {p}", highlight=False, soft_wrap=True, markup=False)
    if bt.missing:
        shown = ", ".join(bt.missing[:5]) + (" …" if len(bt.missing) > 5 else "")
        err.print(f"warning: {len(bt.missing)} call(s) of the runs were not found in their "
                  f"inputs and are not compared: {shown}", highlight=False, soft_wrap=True,
                  markup=False)
    changed = [r for r in bt.rules if r.changed]
    rules_t = Table(title=f"规则变化 (per rule) · {bt.ruleset.name} {bt.ruleset.version} vs "
                          f"{' '.join(bt.baseline_versions)}", title_justify="left")
    for col in ("规则", "名称", "状态", "之前", "之后", "新增", "消失", "涉及通话"):
        rules_t.add_column(col, justify="left" if col in ("规则", "名称", "状态") else "right")
    for r in changed:
        rules_t.add_row(r.rule_id, r.name, {"new": "新规则", "dropped": "已移除"}.get(r.status, ""),
                        str(r.before), str(r.after), f"+{r.added}", f"-{r.removed}",
                        str(len(r.calls_added | r.calls_removed)))
    out.print(rules_t if changed else "规则变化: 无 (no finding changes)")
    for r in changed:
        for label, found in (("+", r.added_examples), ("-", r.removed_examples)):
            for f in found:
                out.print(f"  {label} {r.rule_id} {f['call_id']}#{f.get('utterance')} "
                          f"“{f.get('matched') or ''}” {f.get('evidence', '')}",
                          highlight=False, soft_wrap=True, markup=False)
    agents_t = Table(title="坐席变化 (per agent)", title_justify="left")
    for col in ("坐席", "通话", "平均分 之前", "之后", "变化", "合格率 之前", "之后", "变化",
                "新增", "消失"):
        agents_t.add_column(col, justify="left" if col == "坐席" else "right")
    moved = [g for g in bt.agents
             if g.added or g.removed or g.mean_delta or g.pass_rate_delta]
    for g in [*moved, bt.overall]:
        agents_t.add_row("全部 (all)" if g is bt.overall else g.key, str(g.calls),
                         f"{g.mean_before:.2f}", f"{g.mean_after:.2f}", f"{g.mean_delta:+.2f}",
                         f"{g.pass_rate_before:.1%}", f"{g.pass_rate_after:.1%}",
                         f"{g.pass_rate_delta * 100:+.1f}pp", f"+{g.added}", f"-{g.removed}")
    out.print(agents_t)
    if len(moved) < len(bt.agents):
        out.print(f"({len(bt.agents) - len(moved)} agent(s) unchanged not shown)", highlight=False)
    for path in written:
        out.print(f"→ {path}", highlight=False)
    if limit is not None and bt.pass_rate_drop > limit + 1e-9:
        raise _fail(f"pass rate would drop by {bt.pass_rate_drop * 100:.1f} percentage points "
                    f"({bt.overall.pass_rate_before:.1%} → {bt.overall.pass_rate_after:.1%}), "
                    f"more than the allowed {limit * 100:.1f}", 1)


@rules_app.command("stats")
def rules_stats(
    run_dirs: Annotated[list[Path], typer.Argument(help="csqa audit output folders.",
                                                   show_default=False)],
    reviews: Annotated[Path, typer.Option("--reviews", metavar="FILE",
                                          help="The reviews file (.csv or .xlsx).")],
    examples: Annotated[int, typer.Option("--examples", min=0,
                                          help="False-alarm examples shown per rule.")] = 3,
) -> None:
    """Per rule: findings, how many were reviewed, precision, and false-alarm examples.

    Precision = confirmed / (confirmed + false alarms). Rules with the lowest precision come
    first: their phrase lists are the ones to fix.
    """
    from rich.table import Table

    from csqa.errors import CsqaError
    from csqa.review import rule_stats

    review_set = _read_reviews(reviews)
    try:
        stats = rule_stats(run_dirs, review_set, examples=examples)
    except CsqaError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    from csqa.review import format_time

    table = Table(title=f"规则精确率 (rule precision) · {review_set.path}", title_justify="left")
    for col, justify in (("规则", "left"), ("名称", "left"), ("违规", "right"),
                         ("已复核", "right"), ("确认", "right"), ("误报", "right"),
                         ("精确率", "right"), ("漏报", "right")):
        table.add_column(col, justify=justify, no_wrap=col == "规则")  # type: ignore[arg-type]
    shown = [st for st in stats if st.findings or st.reviewed or st.missed]
    for st in shown:
        table.add_row(st.rule_id, st.name, str(st.findings), str(st.reviewed), str(st.confirmed),
                      str(st.false_alarms),
                      "—" if st.precision is None else f"{st.precision:.0%}", str(st.missed))
    out.print(table)
    if len(shown) < len(stats):
        out.print(f"({len(stats) - len(shown)} rule(s) with no findings and no reviews not shown)",
                  highlight=False)
    for st in shown:
        for e in st.examples:
            note = f" — {e['note']}" if e.get("note") else ""
            who = f" ({e['reviewer']})" if e.get("reviewer") else ""
            out.print(f"误报示例 {st.rule_id} {st.name}: {e['call_id']}#{e.get('utterance')} "
                      f"{format_time(e.get('start'))} “{e.get('matched') or e.get('evidence', '')}”"
                      f"{note}{who}", highlight=False, soft_wrap=True, markup=False)


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
def synth(
    n: Annotated[int, typer.Argument(help="How many calls to generate.", min=1,
                                     show_default=False)],
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR",
                                          help="Folder to write transcripts/ and truth.jsonl into.")
                       ] = Path("csqa-synth"),
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same calls.")] = 0,
    fmt: Annotated[str, typer.Option("--format", metavar="jsonl|json",
                                     help="One calls.jsonl, or one .json file per call.")
                   ] = "jsonl",
    distinct_text: Annotated[bool, typer.Option(
        "--distinct-text", help="Make every agent utterance of a call's own business a distinct "
                                "text, as in real traffic (for measuring meaning-aware rules).")] = False,
) -> None:
    """Generate realistic synthetic Mandarin calls with known violations, to try csqa on.

    Writes DIR/transcripts/ (audit it with: csqa audit DIR/transcripts) and DIR/truth.jsonl,
    the findings the default ruleset must give for each call.
    """
    from csqa.synth import write_corpus

    if fmt not in ("jsonl", "json"):
        raise _fail(f"--format: expected jsonl or json, got {fmt!r}", EXIT_USAGE)
    with _usage_errors(out_dir):
        folder = write_corpus(n, out_dir, seed=seed, fmt=fmt, distinct_text=distinct_text)
    truth = out_dir / "truth.jsonl"
    out.print(f"已生成 {n} 通模拟通话:{folder}(预期结果:{truth})", highlight=False)


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
