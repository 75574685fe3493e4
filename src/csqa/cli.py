"""The ``csqa`` command: a thin layer over :mod:`csqa.api`. Only this module prints or exits.

Exit codes: 0 the run completed (whatever the scores); 2 bad usage or a bad ruleset (nothing
was audited); 3 the run completed but some inputs could not be read (they are listed in
errors.csv and on stderr). ``check`` adds 1: some call failed the gate (precedence 2 > 3 >
1 > 0, see :mod:`csqa.gate`); ``rules test`` uses 1 for a failing example, ``rules lint
--strict`` for warnings.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.rich_utils
from rich.console import Console

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INPUT = 3

app = typer.Typer(
    name="csqa",
    help="按服务规范规则集对客服通话转写做质检。\n\n用内置默认规则集审计一个目录的转写:  csqa audit calls/",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
rules_app = typer.Typer(help="列出规则类型和规则集中的规则;检查(lint)、测试、展示规则集。", no_args_is_help=False,
                        context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(rules_app, name="rules")
db_app = typer.Typer(help="运行历史数据库(DuckDB):把审计输出目录载入其中。", no_args_is_help=True,
                     context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(db_app, name="db")

def _show_version(value: bool) -> None:
    if value:
        from csqa import __version__

        print(f"csqa {__version__}")
        raise typer.Exit()


@app.callback()
def _common(version: Annotated[bool, typer.Option(
        "--version", "-V", callback=_show_version, is_eager=True,
        help="显示 csqa 版本号并退出。")] = False) -> None:
    pass


def _without_type_names(display: Any) -> Any:
    """Help shows no Python type names: none for on/off flags, and none beside an argument
    whose metavar says what to give (typer writes ``<bool>``, ``<list[Path]>``)."""
    def shown(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) or (
                isinstance(self, typer.core.TyperArgument) and self.metavar):
            return None
        return display(self, ctx)
    return shown


for _param in (typer.core.TyperOption, typer.core.TyperArgument):
    _param.display_type_rich = _without_type_names(  # type: ignore[method-assign]
        _param.display_type_rich)

# typer's own words in the help and error panels, in the language of the rest of the help
for _name, _text in (("ARGUMENTS_PANEL_TITLE", "参数"), ("OPTIONS_PANEL_TITLE", "选项"),
                     ("COMMANDS_PANEL_TITLE", "命令"), ("ERRORS_PANEL_TITLE", "错误"),
                     ("REQUIRED_LONG_STRING", "[必填]"), ("DEFAULT_STRING", "[默认:{}]"),
                     ("ABORTED_TEXT", "已中止。"),
                     ("RICH_HELP", "用 [blue]'{command_path} {help_option}'[/] 查看帮助。")):
    setattr(typer.rich_utils, _name, _text)


def _help_option_in_chinese(get: Any) -> Any:
    def help_option(self: Any, ctx: Any) -> Any:
        option = get(self, ctx)
        if option is not None:
            option.help = "显示本帮助并退出。"
        return option
    return help_option


typer.core.TyperCommand.get_help_option = _help_option_in_chinese(  # type: ignore[method-assign]
    typer.core.TyperCommand.get_help_option)
typer.core.TyperGroup.get_help_option = _help_option_in_chinese(  # type: ignore[method-assign]
    typer.core.TyperGroup.get_help_option)

# Piped output (CI logs, files) gets a wide fixed width instead of rich's 80 columns.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

RulesetOpt = Annotated[
    str | None,
    typer.Option("--ruleset", "-r", metavar="FILE",
                 help="规则集 YAML 文件,或内置规则集名称。默认:内置的 default。"),
]


QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="只打印结果和错误:不显示进度、提示和汇总行。")]


JobsOpt = Annotated[int | None, typer.Option(
    "--jobs", "-j", metavar="N", min=1,
    help="工作进程数(默认:全部 CPU 核)。无论 N 是多少,输出都相同。", show_default=False)]


NoRedactOpt = Annotated[bool, typer.Option(
    "--no-redact", help="在输出中保留电话、身份证、银行卡号和邮箱(默认打码,因为报表会被广泛转发)。")]


# ---- the reading options, one definition shared by every command that reads transcripts ----

_READING: dict[str, tuple[Any, Any]] = {
    "input_format": (Annotated[str | None, typer.Option(
        "--input-format", metavar="NAME", rich_help_panel="读取选项",
        help="指定输入格式,不按内容自动识别:csqa、aws-call-analytics、aws-transcribe、alibaba、tencent、"
             "iflytek、dashscope、funasr、whisper、webvtt、srt。", show_default=False)], None),
    "calls": (Annotated[Path | None, typer.Option(
        "--calls", metavar="FILE", rich_help_panel="读取选项",
        help="通话记录(CDR).csv 或 .xlsx,按通话 ID 或文件名关联:坐席、班组、开始时间、呼叫方向、挂机方。",
        show_default=False)], None),
    "column_map": (Annotated[list[str] | None, typer.Option(
        "--map", metavar="FIELD=COLUMN", rich_help_panel="读取选项",
        help="指定通话记录的列名,如 --map agent_id=工号(可重复)。字段:call_id file agent_id agent_name"
             " team started_at direction hangup_by。", show_default=False)], None),
    "agent_channel": (Annotated[int | None, typer.Option(
        "--agent-channel", metavar="N", rich_help_panel="读取选项",
        help="按声道区分的导出中坐席所在的声道(不给则自动判断角色)。", show_default=False)], None),
    "profile": (Annotated[Path | None, typer.Option(
        "--profile", metavar="FILE", rich_help_panel="读取选项",
        help="导出配置 YAML:format、agent_channel、speakers 映射、strict_roles、calls、map、db。",
        show_default=False)], None),
    "strict_roles": (Annotated[bool, typer.Option(
        "--strict-roles", rich_help_panel="读取选项",
        help="说话人角色不确定的通话算作错误,不予审计。")], False),
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
            raise InputError(f"--map {item}:应写成 字段=列名,如 --map agent_id=工号")
        mapping[name.strip()] = column.strip()
    if agent_channel is not None and agent_channel < 0:
        raise InputError(f"--agent-channel {agent_channel}:应为声道编号 0、1 …")
    given = ReadOptions(format=input_format, calls=calls, column_map=mapping,
                        agent_channel=agent_channel, strict_roles=strict_roles)
    if profile is not None:
        return ReadOptions.from_profile(profile).overridden(**vars(given))
    return given


def _fail(message: str, code: int) -> typer.Exit:
    from rich.markup import escape

    from csqa.model import shown_name

    # messages quote names from the input and the command line: never markup, never escapes
    err.print(f"[bold red]错误:[/]{escape(shown_name(message))}", highlight=False,
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
        raise _reject(exc.problems, "规则集有误", ",未做任何审计") from None


def _reject(problems: list[str], what: str, tail: str = "") -> typer.Exit:
    """Print every problem (one line each), then a one-line verdict; exit for bad usage."""
    from csqa.model import shown_name

    for problem in problems:
        err.print(shown_name(problem), highlight=False, soft_wrap=True, markup=False)
    n = len(problems)
    return _fail(f"{what}(共 {n} 个问题){tail}", EXIT_USAGE)


@app.command()
@reading_options
def audit(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH", help="转写文件、目录(递归读取)或压缩包:.json(csqa 或 ASR 厂商导出)、.jsonl "
                             ".txt .csv .vtt .srt .zip .tar.gz .jsonl.gz",
        show_default=False)],
    ruleset: RulesetOpt = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR",
                                          help="输出目录:findings.jsonl、calls.csv、agents.csv、errors.csv"
                                               " 和 run.json。")] = Path("csqa-out"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q",
                                        help="只打印汇总行,不打印坐席成绩单。")] = False,
    top: Annotated[int, typer.Option("--top", min=0, metavar="N",
                                     help="成绩单只列最差的 N 名坐席(0:全部);agents.csv 含全部坐席。")] = 10,
    jobs: JobsOpt = None,
    engine: Annotated[str, typer.Option("--engine", metavar="local|dask",
                                        help="在本机运行,或在 Dask 集群上运行"
                                             "(需要 pip install 'csqa\\[dask]')。")] = "local",
    scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="ADDRESS",
                                                  help="Dask 调度器地址,如 tcp://10.0.0.5:8786(默认:本机集群)。",
                                                  show_default=False)] = None,
    incremental: Annotated[bool, typer.Option("--incremental",
                                              help="沿用 --out 中上次运行的结果:内容和规则集都未变"
                                                   "的通话不再重新审计。")] = False,
    no_redact: NoRedactOpt = False,
    max_file_mb: Annotated[float, typer.Option(
        "--max-file-mb", min=0.001, metavar="MB",
        help="整体读入的文件(.json .txt .csv …)超过此大小即拒绝;.jsonl 逐行读取(只拒绝超长的一行),"
             "压缩包逐个成员检查。")] = 100.0,
    max_utterance_chars: Annotated[int, typer.Option(
        "--max-utterance-chars", min=1, metavar="N",
        help="某句话超过 N 个字的通话不予审计。")] = 20_000,
    max_utterances: Annotated[int, typer.Option(
        "--max-utterances", min=1, metavar="N",
        help="超过 N 句话的通话不予审计。")] = 20_000,
    old_format: Annotated[str | None, typer.Option(
        "--format", hidden=True, help="--input-format 的旧写法。")] = None,
    reviews: Annotated[Path | None, typer.Option(
        "--reviews", metavar="FILE",
        help="应用复核结论(csqa review 生成的复核表 .csv/.xlsx):误报不再扣分,漏报补扣;calls.csv 和 "
             "agents.csv 保留机器得分并增加复核得分。")] = None,
    db: Annotated[Path | None, typer.Option(
        "--db", metavar="FILE",
        help="运行结束后把本次结果追加到运行历史数据库(DuckDB,不存在则新建),同 csqa db import;"
             "也可在导出配置中写 db:。")] = None,
    reading: Any = None,
) -> None:
    """审计转写,为每通通话打分,并打印坐席成绩单。

    退出码:0 运行完成(无论得分如何);2 规则集有误或用法错误;3 有输入无法读取(列在 errors.csv 中)。
    """
    from csqa.api import audit as run_audit
    from csqa.errors import InputError, OutputsInPlace
    from csqa.loaders.common import Limits, use_limits
    from csqa.reporters.terminal import (
        accounting_line,
        problem_lines,
        scorecard_table,
        summary_line,
    )

    limits = Limits(max_file_mb=max_file_mb, max_utterance_chars=max_utterance_chars,
                    max_utterances=max_utterances)
    guard: dict[str, Any] = {"limits": limits, "redact": not no_redact}

    rs = _load_ruleset(ruleset)
    options = reading
    if old_format is not None:
        err.print("警告:--format 已改名为 --input-format(audit 暂时仍接受旧写法)",
                  highlight=False, soft_wrap=True, markup=False)
        options.format = options.format or old_format
    with use_limits(limits):  # --max-file-mb bounds the reviews file too
        review_set = _read_reviews(reviews) if reviews is not None else None
    scale: dict[str, Any] = {"jobs": jobs, "engine": engine, "scheduler": scheduler,
                             "incremental": incremental}
    show_progress = err.is_terminal and not quiet
    try:
        if show_progress:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            # the bar counts calls (one JSON Lines file may hold 20,000); files alongside
            with Progress("[progress.description]{task.description}", BarColumn(),
                          TextColumn("已审计 {task.completed} 通 · 文件 {task.fields[files]}"),
                          TimeElapsedColumn(), console=err, transient=True) as progress:
                task = progress.add_task("审计中", total=None, files="")

                def on_file(path: Path, done: int, total: int) -> None:
                    from rich.markup import escape

                    from csqa.model import shown_name

                    progress.update(task, files=f"{done + 1}/{total}",
                                    description=f"审计 {escape(shown_name(path.name))}")

                def on_call(audited: int) -> None:
                    progress.update(task, completed=audited)

                summary = run_audit(paths, rs, out_dir, on_file=on_file, on_call=on_call,
                                    options=options, **guard, **scale)
        else:
            summary = run_audit(paths, rs, out_dir, options=options, **guard, **scale)
    except InputError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except OutputsInPlace as exc:
        raise _fail(str(exc), 130) from None
    except KeyboardInterrupt:
        raise _fail("已中断:没有写出任何输出(之前的输出如有,保持不变)",
                    130) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or out_dir}: {exc.strerror or exc}", EXIT_USAGE) from None

    for line in problem_lines(summary.problems):
        err.print(line, highlight=False, soft_wrap=True, markup=False)
    if not quiet and summary.scorecards is not None and len(summary.scorecards):
        names = {r.id: r.name for r in rs.rules}
        out.print(scorecard_table(summary.scorecards.rows(), names, rs.pass_mark, top=top))
    out.print(summary_line(summary), highlight=False, soft_wrap=True)
    if summary.accounting:
        out.print(accounting_line(summary.accounting), highlight=False, soft_wrap=True,
                  markup=False)
    if review_set is not None:
        _apply_reviews(out_dir, review_set, show_agents=not quiet, pass_mark=rs.pass_mark)
    db = db or options.db  # --db wins over the profile's db:
    if db is not None:
        _append_to_db(db, [out_dir])
    if summary.input_errors:
        raise typer.Exit(EXIT_INPUT)


def _append_to_db(db: Path, run_dirs: list[Path]) -> None:
    from csqa.history import HistoryError, import_runs

    with _usage_errors(db, HistoryError):
        for done in import_runs(db, run_dirs):
            extra = (f" · 替换 {done.replaced} 通旧记录" if done.replaced else "") + \
                (f" · {done.kept_newer} 通已有更新的审计,保留" if done.kept_newer else "")
            out.print(f"已写入运行历史 {db}:{done.folder} · {done.calls} 通通话 · "
                      f"{done.findings} 条违规{extra}", highlight=False, soft_wrap=True,
                      markup=False)


@app.command()
def report(
    run_dirs: Annotated[list[Path] | None, typer.Argument(
        metavar="RUN_DIR", help="csqa audit 的输出目录(如一周的夜间运行结果);或用 --db。",
        show_default=False)] = None,
    week: Annotated[str | None, typer.Option("--week", metavar="YYYY-Www",
                                             help="ISO 周,如 2026-W47。")] = None,
    month: Annotated[str | None, typer.Option("--month", metavar="YYYY-MM",
                                              help="自然月,如 2026-11。")] = None,
    date_from: Annotated[str | None, typer.Option(
        "--from", metavar="DATE", help="起始日期(YYYY-MM-DD),与 --to 一起用。")] = None,
    date_to: Annotated[str | None, typer.Option("--to", metavar="DATE",
                                                help="结束日期(含当天)。")] = None,
    by: Annotated[str, typer.Option("--by", metavar="agent|team",
                                    help="主表和图表按坐席(agent)或班组(team)分组。")
                  ] = "agent",
    out_file: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE",
        help="把报表写到 FILE(.xlsx、.html 或 .md),或写成一个互相链接的网页目录(不带后缀的名字:"
             "index.html、agents/、calls/);不给则打印在终端上。")] = None,
    fmt: Annotated[str | None, typer.Option("--format", metavar="xlsx|html|md",
                                            help="文件后缀看不出格式时指定输出格式。")
                   ] = None,
    lang: Annotated[str, typer.Option("--lang", metavar="zh|en",
                                      help="报表标签语言:zh(默认)或 en。")] = "zh",
    tz: Annotated[str, typer.Option("--tz", metavar="ZONE",
                                    help="按哪个时区划分报表的日期。")] = "Asia/Shanghai",
    ruleset_hash: Annotated[str | None, typer.Option(
        "--ruleset-hash", metavar="HASH",
        help="只统计这个规则集的运行(默认:最近一次运行的规则集)。")] = None,
    top: Annotated[int, typer.Option("--top", min=0, metavar="N",
                                     help="列出多少通最差通话。")] = 10,
    keywords: Annotated[int, typer.Option("--keywords", min=0, metavar="N",
                                          help="列出多少个客户关键词。")] = 20,
    quiet: QuietOpt = False,
    db: Annotated[Path | None, typer.Option(
        "--db", metavar="FILE", help="从运行历史数据库读取(csqa audit --db、csqa db import 写入),"
                                     "不读输出目录。")] = None,
) -> None:
    """从审计结果生成班组长周报:按坐席、班组和规则统计,每日趋势,最差通话。

    通话按 started_at(--tz 时区)归入日期;同一通话被多次审计只算一次(以最新一次为准);用其他规则集
    审计的运行单独列出,不混入统计。默认时段:最新通话所在的 ISO 周。
    """
    from csqa.errors import CsqaError
    from csqa.history import HistorySource
    from csqa.weekly import build_report, write_report

    if bool(run_dirs) == (db is not None):
        raise _fail("请给出 csqa audit 的输出目录,或用 --db 指定运行历史数据库(二者选一)", EXIT_USAGE)
    with _usage_errors(out_file, CsqaError):
        source: Any = HistorySource(db) if db is not None else list(run_dirs or [])
        rep = build_report(source, week=week, month=month, date_from=date_from,
                           date_to=date_to, by=by, tz=tz, ruleset_hash=ruleset_hash, top=top,
                           keywords=keywords, lang=lang)
        if out_file is None and fmt is None:
            from rich.markup import escape

            from csqa.weekly.terminal import render_terminal

            for note in [] if quiet else rep.notes:  # a folder's name may hold [brackets]
                err.print(f"[yellow]说明:[/]{escape(note)}", highlight=False, soft_wrap=True,
                          markup=True)
            out.print(render_terminal(rep))
            return
        target = out_file or Path(f"csqa-report-{rep.period.name}.{fmt}")
        if target.suffix == "" and fmt in (None, "html"):
            from csqa.weekly.folder import write_folder

            written = write_folder(rep, rep.source, target)
        else:
            written = write_report(rep, target, fmt)
    if quiet:
        return
    for note in rep.notes:  # what the report says about its figures, as its notes say it
        err.print(f"说明:{note}", highlight=False, soft_wrap=True, markup=False)
    out.print(f"{rep.title} → {written}", highlight=False,
              soft_wrap=True)


def _read_reviews(path: Path) -> Any:
    from csqa.review import ReviewsError, read_reviews

    try:
        return read_reviews(path)
    except ReviewsError as exc:
        raise _reject(exc.problems, "复核表有误") from None


def _apply_reviews(run_dir: Path, review_set: Any, show_agents: bool, pass_mark: float) -> None:
    from csqa.errors import CsqaError
    from csqa.reporters.reviewed import reviewed_table
    from csqa.review import CONFIRMED, FALSE_ALARM, MISSED, apply_reviews, write_reviewed

    with _usage_errors(run_dir, CsqaError):
        reviewed = apply_reviews(run_dir, review_set)
        write_reviewed(reviewed)
    for p in reviewed.problems:
        err.print(f"警告:{p}", highlight=False, soft_wrap=True, markup=False)
    if reviewed.stale:
        ids = ", ".join(f"{v.finding_id}(第 {v.row} 行)" for v in reviewed.stale[:5])
        more = f" 等,另有 {len(reviewed.stale) - 5} 条" if len(reviewed.stale) > 5 else ""
        err.print(f"警告:{len(reviewed.stale)} 条复核结论对应的违规在本次运行中不存在(规则集版本不同,"
                  f"或规则已不再触发),未应用:{ids}{more}", highlight=False, soft_wrap=True,
                  markup=False)
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
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="一个 csqa audit 输出目录。",
                                            show_default=False)],
    reviews_file: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE",
        help="要写入或追加的复核表(.csv 或 .xlsx)。默认:RUN_DIR/reviews.csv"
    )] = None,
    sample: Annotated[int | None, typer.Option(
        "--sample", "-n", min=1, metavar="N",
        help="随机抽样,而不是加入全部违规:配合 --by 时每条规则或每名坐席 N 条,否则共 N 条。")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", metavar="rule|agent", help="分层抽样:每条规则(rule)或每名坐席(agent)各 N 条。")] = None,
    seed: Annotated[int, typer.Option("--seed", metavar="N",
                                      help="抽样的随机种子(种子相同,样本相同)。")] = 0,
    quiet: QuietOpt = False,
) -> None:
    """写入(或追加)复核表:每条违规一行,供复核员判断。

    表中已有的行(含已填的结论)保留不动,尚未入表的违规追加进去。复核员填写 verdict(confirmed 确认 / false_alarm 误
    报;机器漏掉的违规可自行加一行填 missed)、note 和 reviewer;然后用 csqa audit … --reviews FILE 应
    用这些结论。
    """
    from csqa.errors import CsqaError
    from csqa.review import SAMPLE_BY, ReviewsError, update_reviews

    if by is not None and by not in SAMPLE_BY:
        raise _fail(f"--by:应为 {'、'.join(SAMPLE_BY)} 之一,实际是 {by!r}", EXIT_USAGE)
    if by is not None and sample is None:
        raise _fail("--by 需要同时给出 --sample N(每组抽多少条)", EXIT_USAGE)
    with _usage_errors(reviews_file, CsqaError):
        try:
            done = update_reviews(run_dir, reviews_file, sample=sample, by=by, seed=seed)
        except ReviewsError as exc:
            for problem in exc.problems:
                err.print(problem, highlight=False, soft_wrap=True, markup=False)
            raise _fail("复核表未写出", EXIT_USAGE) from None
    if quiet:
        return
    what = f"抽样 {done.added} 条" if sample is not None else f"新增 {done.added} 条"
    if done.by_stratum:
        what += " (" + ", ".join(f"{k} {v}" for k, v in sorted(done.by_stratum.items())) + ")"
    out.print(f"{done.path}: {what}待复核 · 保留已有 {done.kept} 行 · 本次运行仍未入表的发现 "
              f"{done.remaining} 条", highlight=False, soft_wrap=True)


@app.command()
@reading_options
def check(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH", help="转写文件或目录(递归读取):.json .jsonl .txt .csv",
        show_default=False)],
    ruleset: RulesetOpt = None,
    min_score: Annotated[float | None, typer.Option(
        "--min-score", metavar="N", help="低于此分的通话不合格。默认:规则集的 scoring.pass_mark。")] = None,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", metavar="SEVERITY",
        help="有达到此严重度的违规即不合格:info、minor、major、critical。")] = None,
    junit: Annotated[Path | None, typer.Option(
        "--junit", metavar="FILE", help="同时写出 JUnit XML(每名坐席一个 testsuite,每通通话一个 testcase,"
                                        "每条违规一个 failure)。")] = None,
    junit_group: Annotated[str, typer.Option(
        "--junit-group", metavar="agent|folder", help="JUnit testsuite 按坐席(agent)或按目录(folder)"
                                                      "分组。")] = "agent",
    fmt: Annotated[str, typer.Option(
        "--format", "-f", metavar="text|json|github|junit",
        help="text:每通不合格通话一行(默认);json;github:工作流注释;junit:JUnit XML 输出到标准输出。")] = "text",
    jobs: JobsOpt = None,
    no_redact: NoRedactOpt = False,
    quiet: QuietOpt = False,
    reading: Any = None,
) -> None:
    """审计转写并作为 CI 关卡:全部通话合格时退出码为 0。

    通话在以下情况不合格:低于 --min-score、触发一票否决规则、有达到 --fail-on 严重度的违规、或有
    规则无法运行。退出码按先后取第一个适用的:2 规则集或用法错误(未检查);3 有输入无法读取;1 有通
    话不合格;0 全部合格。
    """
    from csqa.check import run_check
    from csqa.errors import InputError
    from csqa.reporters import ci
    from csqa.reporters.junit import junit_xml

    if fmt not in ("text", "json", "github", "junit"):
        raise _fail(f"--format:应为 text、json、github、junit 之一(实际是 {fmt!r})", EXIT_USAGE)
    if junit_group not in ("agent", "folder"):
        raise _fail(f"--junit-group:应为 agent 或 folder(实际是 {junit_group!r})", EXIT_USAGE)
    rs = _load_ruleset(ruleset)
    try:
        report = run_check(paths, rs, min_score=min_score, fail_on=fail_on,
                           redact=not no_redact, options=reading, jobs=jobs)
    except InputError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    if junit is not None:
        try:
            from csqa import safeio

            safeio.write_file(junit, junit_xml(report, junit_group))
        except OSError as exc:
            raise _fail(f"{junit}:无法写入 JUnit XML:{exc.strerror or exc}", EXIT_USAGE) from None
    if fmt == "text":
        for p in report.input_errors:
            err.print(str(p), highlight=False, soft_wrap=True, markup=False)
        lines = list(ci.text_lines(report))
        for line in lines[:-1] if quiet else lines:  # -q: the failing calls, no summary line
            out.print(line, highlight=False, soft_wrap=True, markup=False)
    elif fmt == "github":
        for line in ci.github_lines(report):
            sys.stdout.write(line + "\n")
        if not quiet:
            sys.stdout.write(ci.summary_line(report) + "\n")
    else:
        data = ci.as_json(report) if fmt == "json" else junit_xml(report, junit_group)
        sys.stdout.buffer.write(data if data.endswith(b"\n") else data + b"\n")
    sys.stdout.flush()
    raise typer.Exit(report.exit_code)


@app.command()
@reading_options
def explain(
    call_file: Annotated[Path, typer.Argument(
        metavar="CALL_FILE", show_default=False,
        help="转写文件(.json .jsonl .txt .csv …);压缩包里的文件,写法同 calls.csv 的 source"
             "(ali.zip!alibaba/X.json);或 csqa audit 的输出目录(再用 --call-id 选通话)。")],
    call_id: Annotated[str | None, typer.Option(
        "--call-id", metavar="ID", help="文件里有多通通话、或给的是输出目录时,选哪一通。")] = None,
    ruleset: RulesetOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="text|html",
                                     help="text:在终端以对话形式显示(默认);html:单通通话网页。")] = "text",
    out_file: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE", help="把 HTML 页面写到这里,而不是标准输出。")] = None,
    no_redact: NoRedactOpt = False,
    quiet: QuietOpt = False,
    reading: Any = None,
) -> None:
    """以对话形式显示一通通话:每条违规标在对应的话上,并给出得分。

    退出码:0 已显示;2 规则集或用法错误(文件或通话 ID 不存在);3 通话无法读取。
    """
    from csqa.errors import InputError
    from csqa.explain import UnreadableCall, explain_call
    from csqa.reporters.conversation import conversation, html_page

    if fmt not in ("text", "html"):
        raise _fail(f"--format:应为 text 或 html(实际是 {fmt!r})", EXIT_USAGE)
    rs = _load_ruleset(ruleset)
    try:
        ex = explain_call(call_file, call_id, rs, redact=not no_redact, options=reading)
    except InputError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except UnreadableCall as exc:
        for p in exc.problems:
            err.print(str(p), highlight=False, soft_wrap=True, markup=False)
        raise _fail("这通通话无法读取", EXIT_INPUT) from None
    if fmt == "html":
        page = html_page(ex)
        if out_file is None:
            sys.stdout.write(page)
        else:
            try:
                from csqa import safeio

                safeio.write_file(out_file, page.encode("utf-8"))
            except OSError as exc:
                raise _fail(f"{out_file}:无法写入:{exc.strerror or exc}", EXIT_USAGE) from None
            if not quiet:
                err.print(f"→ {out_file}", highlight=False, markup=False)
        return
    if quiet:  # the verdict only: score, pass mark, and what was not evaluable
        from csqa.reporters.conversation import verdict_lines

        for line in verdict_lines(ex):
            out.print(line, highlight=False, soft_wrap=True, markup=False)
        return
    out.print(conversation(ex))


@rules_app.callback(invoke_without_command=True)
def rules(ctx: typer.Context, ruleset: RulesetOpt = None, quiet: QuietOpt = False) -> None:
    """列出规则类型,以及规则集中的规则(默认:内置规则集)。"""
    if ctx.invoked_subcommand is not None:
        ctx.obj = ruleset  # `rules -r X lint` means `rules lint -r X`: never silently dropped
        return
    from rich.table import Table

    from csqa.rules import KINDS, summary

    kinds = Table(title="规则类型 (rule kinds)", title_justify="left")
    kinds.add_column("kind")
    kinds.add_column("what it checks")
    for name in KINDS:
        kinds.add_row(name, summary(name).split(": ", 1)[-1])
    if not quiet:  # -q: the ruleset's rules only
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
        raise typer.BadParameter(f"应为小数(如 0.05)或百分数(如 5%),实际是 {text!r}") from None
    if not 0 <= value <= 1:
        raise typer.BadParameter(f"应在 0 到 1 之间(或 0% 到 100%),实际是 {text!r}")
    return value


@app.command()
@reading_options
def backtest(
    run_dirs: Annotated[list[Path], typer.Argument(metavar="RUN_DIR",
                                                   help="csqa audit 的输出目录(其 run.json 记录了输入)。",
                                                   show_default=False)],
    ruleset: Annotated[str, typer.Option("--ruleset", "-r", metavar="FILE",
                                         help="要试用的候选规则集。")],
    out_file: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE",
        help="写出完整差异:.xlsx(每张表一个工作表)或 .csv(违规变化,另有 NAME.rules.csv、NAME.agents.csv、"
             "NAME.calls.csv、NAME.summary.csv 等)。")] = None,
    max_drop: Annotated[str | None, typer.Option(
        "--max-pass-rate-drop", metavar="X",
        help="总体合格率下降超过 X(0.05 或 5%)时退出码为 1。")] = None,
    examples: Annotated[int, typer.Option("--examples", min=0,
                                          metavar="N",
                                          help="每条规则列出多少条新增/消失的违规示例。")
                        ] = 2,
    no_redact: NoRedactOpt = False,
    quiet: QuietOpt = False,
    reading: Any = None,
) -> None:
    """用候选规则集重新审计过去运行的输入,显示会有什么变化。

    按规则:新增和消失的违规及示例;按坐席和总体:之前和之后的平均分与合格率;只改计分(合格线、扣分)
    也会显示得分和结论的变化。输入按各次运行 run.json 记录的读取选项重新读取(通话记录、声道、角色等),
    命令行给出的读取选项优先。总体合格率下降超过 --max-pass-rate-drop 时退出码为 1(用于 CI);用法
    错误、规则集有误或运行目录不可用时为 2。
    """
    from rich.table import Table

    from csqa.backtest import backtest as run_backtest
    from csqa.backtest import scoring_lines, write_backtest
    from csqa.errors import CsqaError

    limit = _parse_rate(max_drop) if max_drop is not None else None
    if out_file is not None and out_file.suffix.lower() not in (".xlsx", ".csv"):
        raise _fail(f"{out_file}:--out 须以 .xlsx 或 .csv 结尾", EXIT_USAGE)
    rs = _load_ruleset(ruleset)
    with _usage_errors(out_file, CsqaError):
        bt = run_backtest(run_dirs, rs, examples=examples, redact=not no_redact,
                          options=reading)
        written = write_backtest(bt, out_file) if out_file is not None else []
    for p in [] if quiet else [*bt.notes, *bt.problems]:
        err.print(f"警告:{p}", highlight=False, soft_wrap=True, markup=False)
    if bt.missing and not quiet:
        shown = ", ".join(bt.missing[:5]) + (" …" if len(bt.missing) > 5 else "")
        err.print(f"警告:运行中有 {len(bt.missing)} 通通话在其输入中已找不到,未参与比较:{shown}",
                  highlight=False, soft_wrap=True, markup=False)
    changed = [r for r in bt.rules if r.changed]
    rules_t = Table(title=f"规则变化 (per rule) · {bt.ruleset.name} {bt.ruleset.version} vs "
                          f"{' '.join(bt.baseline_versions)}", title_justify="left")
    for col in ("规则", "名称", "状态", "之前", "之后", "新增", "消失", "涉及通话"):
        rules_t.add_column(col, justify="left" if col in ("规则", "名称", "状态") else "right")
    for r in changed:
        rules_t.add_row(r.rule_id, r.name, {"new": "新规则", "dropped": "已移除"}.get(r.status, ""),
                        str(r.before), str(r.after), f"+{r.added}", f"-{r.removed}",
                        str(len(r.calls_added | r.calls_removed)))
    out.print(rules_t if changed else "违规变化:无(没有新增或消失的违规)")
    for line in scoring_lines(bt):
        out.print(line, highlight=False, soft_wrap=True, markup=False)
    for r in [] if quiet else changed:
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
    if len(moved) < len(bt.agents) and not quiet:
        out.print(f"(另有 {len(bt.agents) - len(moved)} 名坐席没有变化,未列出)", highlight=False)
    for path in [] if quiet else written:
        out.print(f"→ {path}", highlight=False)
    if limit is not None and bt.pass_rate_drop > limit + 1e-9:
        raise _fail(f"合格率将下降 {bt.pass_rate_drop * 100:.1f} 个百分点"
                    f"({bt.overall.pass_rate_before:.1%} → {bt.overall.pass_rate_after:.1%}),"
                    f"超过允许的 {limit * 100:.1f}", 1)


@rules_app.command("stats")
def rules_stats(
    ctx: typer.Context,
    run_dirs: Annotated[list[Path], typer.Argument(metavar="RUN_DIR",
                                                   help="csqa audit 的输出目录。",
                                                   show_default=False)],
    reviews: Annotated[list[Path], typer.Option(
        "--reviews", metavar="FILE",
        help="复核表(.csv 或 .xlsx);可重复,如两位复核人各填一份同样的抽样。")],
    examples: Annotated[int, typer.Option("--examples", min=0, metavar="N",
                                          help="每条规则列出多少条误报示例。")] = 3,
    quiet: QuietOpt = False,
) -> None:
    """按规则统计:违规数、已复核数、精确率和误报示例;有两位以上复核人时还有复核一致性。

    精确率 = 确认 /(确认 + 误报)。精确率最低的规则排在最前:它们的短语表最需要修改。复核一致性按
    reviewer 列区分复核人,对每两位复核人都复核过的发现计算一致率和 Cohen's kappa。
    """
    from rich.table import Table

    from csqa.errors import CsqaError
    from csqa.review import combine_reviews, rule_stats

    if ctx.obj is not None:
        raise _fail(f"rules stats 不使用 -r/--ruleset {ctx.obj}:它按审计结果里记录的规则统计",
                    EXIT_USAGE)
    review_set = combine_reviews([_read_reviews(p) for p in reviews])
    try:
        stats = rule_stats(run_dirs, review_set, examples=examples)
    except CsqaError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    from csqa.review import format_time

    table = Table(title=f"规则精确率 (rule precision) · {' + '.join(map(str, reviews))}",
                  title_justify="left")
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
    if len(shown) < len(stats) and not quiet:
        out.print(f"(另有 {len(stats) - len(shown)} 条规则既无违规也无复核结论,未列出)",
                  highlight=False)
    for st in [] if quiet else shown:
        for e in st.examples:
            note = f" — {e['note']}" if e.get("note") else ""
            who = f" ({e['reviewer']})" if e.get("reviewer") else ""
            out.print(f"误报示例 {st.rule_id} {st.name}: {e['call_id']}#{e.get('utterance')} "
                      f"{format_time(e.get('start'))} “{e.get('matched') or e.get('evidence', '')}”"
                      f"{note}{who}", highlight=False, soft_wrap=True, markup=False)
    _agreement(stats, review_set, quiet)


def _agreement(stats: Any, review_set: Any, quiet: bool) -> None:
    """The reviewer-agreement part of ``rules stats`` (nothing misleading with one reviewer)."""
    from rich.table import Table

    from csqa.review import AGREEMENT_COLUMNS, MIN_PAIRED, agreement_rows

    names = review_set.reviewers
    if len(names) < 2:
        if not quiet and review_set.verdicts:
            why = (f"只有一位复核人({names[0]})" if names else "复核表没有填写复核人(reviewer 列)")
            out.print(f"复核一致性:{why},需要两位以上复核人对同一批发现给出结论才能比较",
                      highlight=False, soft_wrap=True, markup=False)
        return
    table = Table(title=f"复核一致性 (reviewer agreement) · 共同复核少于 {MIN_PAIRED} 条为样本不足",
                  title_justify="left")
    for col in AGREEMENT_COLUMNS:
        table.add_column(col, justify="left" if col in ("规则", "名称", "复核人", "一致程度")
                         else "right", no_wrap=col == "规则")
    for row in agreement_rows(stats):
        table.add_row(*row)
    out.print(table)
    if review_set.unnamed and not quiet:
        out.print(f"另有 {review_set.unnamed} 条结论没有填写复核人,未计入复核一致性",
                  highlight=False, soft_wrap=True, markup=False)


RulesetArg = Annotated[
    str | None,
    typer.Argument(metavar="FILE", help="规则集 YAML 文件,或内置规则集名称。默认:内置的 default。", show_default=False),
]


def _one_ruleset(ctx: typer.Context, file: str | None, option: str | None) -> str | None:
    """The ruleset a `rules` subcommand works on: given as FILE, as -r/--ruleset after the
    subcommand or before it (`csqa rules -r X lint`); naming two different ones is an error."""
    given = [v for v in (file, option, ctx.obj) if v is not None]
    if len(set(given)) > 1:
        raise _fail("给了两个不同的规则集:" + " 和 ".join(dict.fromkeys(given))
                    + "(FILE 与 -r/--ruleset 只给一个)", EXIT_USAGE)
    return given[0] if given else None


@rules_app.command("show")
def rules_show(
    ctx: typer.Context,
    file: RulesetArg = None,
    ruleset: RulesetOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="text|json",
                                     help="text:带注释的 YAML(默认);json。")] = "text",
    quiet: QuietOpt = False,
) -> None:
    """打印完全解析后的规则集(extends 和覆盖之后),并注明每个值的来源:设置它的文件的 file:line:col,
    或内置默认值(默认值)。
    """
    from csqa.reporters import ruleset_show

    if fmt not in ("text", "json"):
        raise _fail(f"--format:应为 text 或 json(实际是 {fmt!r})", EXIT_USAGE)
    rs = _load_ruleset(_one_ruleset(ctx, file, ruleset))
    if fmt == "json":
        import orjson

        sys.stdout.buffer.write(orjson.dumps(ruleset_show.resolved(rs),
                                             option=orjson.OPT_INDENT_2) + b"\n")
        return
    for line in ruleset_show.text_lines(rs):
        if quiet and line.lstrip().startswith("#"):
            continue  # -q: the values only, without the comments saying where they came from
        out.print(line, highlight=False, soft_wrap=True, markup=False)


@rules_app.command("lint")
def rules_lint(
    ctx: typer.Context,
    file: RulesetArg = None,
    ruleset: RulesetOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="有警告时退出码为 1。")] = False,
    quiet: QuietOpt = False,
) -> None:
    """检查规则集:列出 audit 会报的每个错误(file:line:col),以及警告。

    警告包括:被包含或空的短语、多条规则重复的短语、匹配不到或在别处会严重回溯的正则、不可能成立
    的范围、到处都停用的规则、覆盖了继承规则的样例。退出码:有错误为 2,有警告且用了 --strict 为 1,
    否则为 0。
    """
    from csqa.lint import lint

    report = lint(_one_ruleset(ctx, file, ruleset))
    for problem in report.errors:
        err.print(problem, highlight=False, soft_wrap=True, markup=False)
    for warning in report.warnings:
        out.print(str(warning), highlight=False, soft_wrap=True, markup=False)
    n_err, n_warn = len(report.errors), len(report.warnings)
    if not quiet:
        out.print(f"{report.file}: {n_err} 个错误,{n_warn} 个警告", highlight=False, markup=False,
                  soft_wrap=True)
    if n_err:
        raise typer.Exit(EXIT_USAGE)
    if strict and n_warn:
        raise typer.Exit(1)


@rules_app.command("test")
def rules_test(
    ctx: typer.Context,
    file: RulesetArg = None,
    ruleset: RulesetOpt = None,
    tests: Annotated[Path | None, typer.Option(
        "--tests", metavar="FILE", help="样例文件。默认:FILE 旁边的同名 *.tests.yaml(如有)。")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="列出每条规则,而不只是失败的。")] = False,
    require_examples: Annotated[bool, typer.Option(
        "--require-examples", help="有启用的规则没有样例时算失败。")] = False,
    quiet: QuietOpt = False,
) -> None:
    """运行规则自带的样例:每个 fire 样例必须触发其规则,每个 pass 样例不能触发。

    退出码:全部样例符合为 0;有不符合的为 1;规则集或样例有误为 2。
    """
    from csqa.errors import RulesetError
    from csqa.ruletests import failure_lines, run_rule_tests, summary_line, tests_file_for

    file = _one_ruleset(ctx, file, ruleset)
    rs = _load_ruleset(file)
    if tests is None and file is not None and Path(file).is_file():
        tests = tests_file_for(file)
    try:
        report = run_rule_tests(rs, tests)
    except RulesetError as exc:
        for problem in exc.problems:
            err.print(problem, highlight=False, soft_wrap=True, markup=False)
        raise _fail(f"样例有误(共 {len(exc.problems)} 个问题),未做任何测试", EXIT_USAGE) from None
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
    if not quiet:
        out.print(summary_line(report), highlight=False, soft_wrap=True, markup=False)
    if report.failures or (require_examples and report.without_examples):
        raise typer.Exit(1)


@app.command()
def synth(
    n: Annotated[int, typer.Argument(metavar="N", help="生成多少通通话。", min=1,
                                     show_default=False)],
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR",
                                          help="写入 transcripts/ 和 truth.jsonl 的目录。")
                       ] = Path("csqa-synth"),
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="种子相同,生成的通话相同。")] = 0,
    fmt: Annotated[str, typer.Option("--format", metavar="jsonl|json",
                                     help="一个 calls.jsonl,或每通通话一个 .json 文件。")
                   ] = "jsonl",
    distinct_text: Annotated[bool, typer.Option(
        "--distinct-text", help="让每通通话里与本通业务有关的坐席话语各不相同,如同真实话务(用于衡量"
                                "按语义匹配的规则)。")] = False,
    quiet: QuietOpt = False,
) -> None:
    """生成带已知违规的模拟普通话通话,用来试用 csqa。

    写出 DIR/transcripts/(用 csqa audit DIR/transcripts 审计)和 DIR/truth.jsonl(默认规则集对每通
    通话应给出的违规)。
    """
    from csqa.synth import write_corpus

    if fmt not in ("jsonl", "json"):
        raise _fail(f"--format:应为 jsonl 或 json(实际是 {fmt!r})", EXIT_USAGE)
    with _usage_errors(out_dir):
        folder = write_corpus(n, out_dir, seed=seed, fmt=fmt, distinct_text=distinct_text)
    truth = out_dir / "truth.jsonl"
    if not quiet:
        out.print(f"已生成 {n} 通模拟通话:{folder}(预期结果:{truth})", highlight=False)


@db_app.command("import")
def db_import(
    run_dirs: Annotated[list[Path], typer.Argument(
        metavar="RUN_DIR", help="csqa audit 的输出目录,顺序不限(同一通话以最新一次审计为准)。",
        show_default=False)],
    db: Annotated[Path, typer.Option("--db", metavar="FILE",
                                     help="数据库文件(不存在则新建)。")] = Path("qa.duckdb"),
) -> None:
    """把已完成的审计输出目录载入运行历史数据库;同一目录再载入会替换它的记录,重新审计的通话替换旧记录。"""
    _append_to_db(db, list(run_dirs))


@app.command()
def version(quiet: QuietOpt = False) -> None:
    """显示 csqa 版本号(也可用 csqa --version)。"""
    from csqa import __version__

    out.print(f"csqa {__version__}", highlight=False)


def _unwrapped(text: str) -> str:
    """A docstring as help: its paragraphs kept, the line breaks inside each removed (the
    terminal wraps to its own width; a break written at column 95 lands mid-sentence). Lines
    of Chinese join without a space."""
    def joined(paragraph: str) -> str:
        out = ""
        for line in (x.strip() for x in paragraph.splitlines()):
            if out and line:
                cjk = "\u2e80" <= out[-1] <= "\uffef" or "\u2e80" <= line[0] <= "\uffef"
                out += ("" if cjk else " ") + line
            else:
                out += line
        return out
    return "\n\n".join(joined(p) for p in inspect.cleandoc(text).split("\n\n"))


def _help_from_docstrings(*typers: typer.Typer) -> None:
    for t in typers:
        for info in t.registered_commands:
            doc = info.help or (info.callback.__doc__ if info.callback else None)
            if doc:
                info.help = _unwrapped(doc)


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


_help_from_docstrings(app, rules_app)


def main() -> None:
    """Entry point of the ``csqa`` script."""
    import signal

    # kill (SIGTERM) gets the same clean exit as Ctrl-C: temp outputs removed, message printed.
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        app()
    except KeyboardInterrupt:
        err.print("[bold red]错误:[/]已中断")
        sys.exit(130)


if __name__ == "__main__":
    main()
