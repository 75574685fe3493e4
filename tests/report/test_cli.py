"""``csqa report`` on the command line: files by suffix, the terminal view, one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from csqa.cli import app
from report.conftest import ruleset_hash

runner = CliRunner()


def _args(runs: dict[str, Path], *extra: str) -> list[str]:
    """The three runs, reported under run1's and run2's ruleset (run3's is listed)."""
    return ["report", str(runs["run1"]), str(runs["run2"]), str(runs["run3"]),
            "--ruleset-hash", ruleset_hash(runs["run1"]), *extra]


def test_writes_xlsx_html_md_by_suffix(runs: dict[str, Path], tmp_path: Path) -> None:
    for name in ("w.xlsx", "w.html", "w.md"):
        res = runner.invoke(app, _args(runs, "--week", "2026-W47", "--out",
                                       str(tmp_path / name)))
        assert res.exit_code == 0, res.output
        assert f"客服质检周报 2026-W47 → {tmp_path / name}" in res.stdout
    assert openpyxl.load_workbook(tmp_path / "w.xlsx")["概览"]["B5"].value == 7
    assert "<svg id=\"chart-daily\"" in (tmp_path / "w.html").read_text(encoding="utf-8")
    assert "| 质检通话数 | 7 | 3 | +4 |" in (tmp_path / "w.md").read_text(encoding="utf-8")


def test_format_option_and_english(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    res = runner.invoke(app, _args(runs, "--week", "2026-W47", "--format", "md", "--lang", "en",
                                   "--by", "team", "--out", str(out)))
    assert res.exit_code == 0, res.output
    md = out.read_text(encoding="utf-8")
    assert md.index("## Teams") < md.index("## Agents")  # --by team puts teams first
    assert "| 1 | 一组 | 2 | 5 | 90 | 80.0% |" in md


def test_terminal_report(runs: dict[str, Path]) -> None:
    res = runner.invoke(app, _args(runs, "--week", "2026-W47", "--top", "2"),
                        env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert "客服质检周报 2026-W47" in text
    assert "平均分 ▆▆█▅▇ ▁" in text  # daily sparkline, Saturday blank
    assert "│ blame    │ 责问客户 │" in text and "█▅▁▅▁▁▅" in text
    assert "w47-b1-1" in text and "w47-x-1" not in text  # --top 2
    assert "说明:1 个审计批次使用了不同的规则集,未计入本报告:" in res.output  # the ruleset note


def test_terminal_notes_show_folder_names_as_they_are(runs: dict[str, Path],
                                                       tmp_path: Path) -> None:
    """A folder name holding [brackets] is printed as it is, not taken for terminal markup."""
    odd = tmp_path / "nights[bold]" / "run[3]"
    shutil.copytree(runs["run3"], odd)
    res = runner.invoke(app, ["report", str(runs["run1"]), str(runs["run2"]), str(odd),
                              "--ruleset-hash", ruleset_hash(runs["run1"]), "--week", "2026-W47"],
                        env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    assert f"说明:1 个审计批次使用了不同的规则集,未计入本报告:{odd} (" in res.output


def test_errors_are_one_line_with_exit_2(runs: dict[str, Path], tmp_path: Path) -> None:
    res = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert res.exit_code == 2
    assert res.output.strip() == f"错误:{tmp_path / 'nope'}: 不是文件夹(请给出 csqa audit " \
                                 "的输出目录)"
    res = runner.invoke(app, _args(runs, "--out", str(tmp_path / "r.pdf")))
    assert res.exit_code == 2
    assert "unknown report format '.pdf'" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, _args(runs, "--week", "W47"))
    assert res.exit_code == 2 and "--week: expected an ISO week" in res.output
    res = runner.invoke(app, _args(runs, "--out", str(tmp_path / "missing-dir" / "r.md")))
    assert res.exit_code == 2 and "missing-dir" in res.output and "Traceback" not in res.output


def test_help_names_the_options() -> None:
    res = runner.invoke(app, ["report", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for opt in ("--week", "--from", "--to", "--by", "--out", "--format", "--lang", "--tz",
                "--ruleset-hash", "--top", "--keywords"):
        assert opt in res.stdout
