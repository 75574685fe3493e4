"""#19 item 4 (and the regex part of item 7): untrusted files cannot exhaust memory or hang.

Every file csqa reads whole besides transcripts must be a regular file whose size is checked
before reading: ``/dev/zero`` and a FIFO are refused at once (each command runs under a
timeout) with one line naming the file. Message templates and regexes are bounded when the
ruleset is loaded, and an .xlsx is bounded by what it unpacks to.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from csqa.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_transcripts" / "handwritten"
NOT_REGULAR = "不是普通文件(设备、管道或文件夹),未读取"


def _bounded_memory() -> None:
    """A csqa that reads /dev/zero whole fails at 4 GB instead of taking the machine with it."""
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def run(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """The real command, in a subprocess: a hang fails the test instead of stalling it (the
    limits are generous: they catch "forever", not a slow shared machine)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "csqa.cli", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_bounded_memory)


@pytest.fixture
def specials(tmp_path: Path) -> dict[str, Path]:
    """/dev/zero under the names csqa expects, and a FIFO nobody writes to."""
    zero = {}
    for name in ("rules.yaml", "profile.yaml", "calls.csv", "reviews.csv", "rules.tests.yaml"):
        link = tmp_path / f"zero-{name}"
        link.symlink_to("/dev/zero")
        zero[f"zero-{name}"] = link
        fifo = tmp_path / f"fifo-{name}"
        os.mkfifo(fifo)
        zero[f"fifo-{name}"] = fifo
    return zero


@pytest.mark.parametrize("kind", ["zero", "fifo"])
def test_devices_and_fifos_are_refused_at_once(tmp_path: Path, specials: dict[str, Path],
                                               kind: str) -> None:
    out = str(tmp_path / "out")
    cases = [
        (["rules", "lint", str(specials[f"{kind}-rules.yaml"])],
         f"{specials[f'{kind}-rules.yaml']}: 无法读取规则集:{NOT_REGULAR}"),
        (["audit", str(SAMPLES), "-o", out, "-r", str(specials[f"{kind}-rules.yaml"])],
         f"{specials[f'{kind}-rules.yaml']}: 无法读取规则集:{NOT_REGULAR}"),
        (["audit", str(SAMPLES), "-o", out, "--profile", str(specials[f"{kind}-profile.yaml"])],
         f"错误:{specials[f'{kind}-profile.yaml']}: 无法读取导出配置:{NOT_REGULAR}"),
        (["audit", str(SAMPLES), "-o", out, "--calls", str(specials[f"{kind}-calls.csv"])],
         f"错误:{specials[f'{kind}-calls.csv']}: {NOT_REGULAR}"),
        (["audit", str(SAMPLES), "-o", out, "--reviews", str(specials[f"{kind}-reviews.csv"])],
         f"{specials[f'{kind}-reviews.csv']}: {NOT_REGULAR}"),
        (["rules", "test", "default", "--tests", str(specials[f"{kind}-rules.tests.yaml"])],
         f"{specials[f'{kind}-rules.tests.yaml']}: 无法读取测试文件:"),
    ]
    for args, first_line in cases:
        started = time.monotonic()
        proc = run(*args)
        assert time.monotonic() - started < 120, args
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.splitlines()[0].startswith(first_line), (args, proc.stderr)
        assert NOT_REGULAR in proc.stderr.splitlines()[0]
        assert "Traceback" not in proc.stderr


def test_extends_pointing_at_dev_zero_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("extends: /dev/zero\n", encoding="utf-8")
    proc = run("rules", "lint", str(rules))
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == f"/dev/zero: 无法读取规则集:{NOT_REGULAR}"


def test_a_ruleset_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    from csqa.safeio import CONFIG_BYTES

    rules = tmp_path / "huge.yaml"
    with rules.open("wb") as fh:
        fh.truncate(CONFIG_BYTES + 1)  # sparse: no disk used, nothing worth reading
    res = CliRunner().invoke(app, ["rules", "lint", str(rules)])
    assert res.exit_code == 2
    assert res.output.splitlines()[0] == (f"{rules}: 无法读取规则集:文件大小 16.0 MB,超过 "
                                          "16.0 MB 的上限,未读取")


def _rule(message: str = "{matched}", regex: str | None = None) -> str:
    match = f"    regexes: ['{regex}']\n" if regex else "    phrases: [不知道]\n"
    return ("name: t\nversion: '1'\nrules:\n  - id: r1\n    kind: forbidden_phrase\n" + match
            + f"    message: '{message}'\n")


def test_message_field_width_is_bounded(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(_rule("{matched:>1500000000}"), encoding="utf-8")
    expected = (f"{rules}:7:14: rules[0].message: 占位符 {{matched:>1500000000}} 的宽度或精度超过"
                "上限 200(消息中每个字段最多 200 个字符)")
    lint = CliRunner().invoke(app, ["rules", "lint", str(rules)])
    assert lint.exit_code == 2
    assert lint.output.splitlines()[0] == expected
    res = CliRunner().invoke(app, ["audit", str(SAMPLES), "-o", str(tmp_path / "o"), "-r",
                                   str(rules)])
    assert res.exit_code == 2
    assert res.output.splitlines()[0] == expected
    for ok in ("{matched:>20}", "{matched:.200}", "{matched:0>5}"):  # decoys: within the limit
        rules.write_text(_rule(ok), encoding="utf-8")
        assert CliRunner().invoke(app, ["rules", "lint", str(rules)]).exit_code == 0, ok


def test_a_regex_of_60000_alternatives_is_refused_at_once(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    pattern = "|".join(f"词{i:05d}" for i in range(60_000))
    rules.write_text(_rule(regex=pattern), encoding="utf-8")
    started = time.monotonic()
    proc = run("rules", "lint", str(rules))
    assert time.monotonic() - started < 120
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == (
        f"{rules}:6:14: rules[0].regexes: 正则表达式 '{pattern[:60]}…' 无效或不安全:正则表达式长 "
        f"{len(pattern)} 个字符,超过上限 4096;大量备选词请写成 phrases 列表")
    rules.write_text(_rule(regex="|".join(f"词{i:03d}" for i in range(500))), encoding="utf-8")
    assert run("rules", "lint", str(rules)).returncode == 0  # decoy: 2,499 characters


def _inflating_workbook(path: Path, header: list[str], rows: int) -> None:
    """A real workbook whose sheet unpacks to many megabytes from a small file."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append(header)
    filler = "呃" * 2000
    for i in range(rows):
        ws.append([f"c{i}", filler] + [""] * (len(header) - 2))
    wb.save(path)


@pytest.mark.parametrize("option", ["--calls", "--reviews"])
def test_an_inflating_workbook_is_refused_like_an_archive(tmp_path: Path, option: str) -> None:
    book = tmp_path / "big.xlsx"
    _inflating_workbook(book, ["call_id", "agent_id", "team"], 2000)
    assert book.stat().st_size < 1024 * 1024  # a small file …
    res = CliRunner().invoke(app, ["audit", str(SAMPLES), "-o", str(tmp_path / "o"),
                                   "--max-file-mb", "2", option, str(book)])
    assert res.exit_code == 2
    line = res.output.strip().splitlines()[0]
    assert line.startswith(f"错误:{book}: 工作簿解压后 ") or line.startswith(f"{book}: 工作簿解压后 ")
    assert line.endswith("MB,超过 2.0 MB 的上限,未读取")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fifos_devices_and_broken_links_inside_an_input_folder_are_listed(
        tmp_path: Path, jobs: str) -> None:
    """Nothing under an input folder is passed over in silence, and nothing there can hang the
    run: a FIFO of each transcript type (read in this process, or handed to a worker), a device,
    a broken link and a FIFO of no transcript type are each listed with the reason."""
    calls = tmp_path / "calls"
    calls.mkdir()
    good = next(SAMPLES.iterdir())
    (calls / good.name).write_bytes(good.read_bytes())
    for name in ("a.txt", "b.json", "c.jsonl", "d.csv", "pipe"):
        os.mkfifo(calls / name)
    (calls / "zero.vtt").symlink_to("/dev/zero")
    (calls / "gone.srt").symlink_to(tmp_path / "nowhere.srt")
    out = tmp_path / "out"
    proc = run("audit", str(calls), "-o", str(out), "-j", jobs, "-q", timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = (out / "errors.csv").read_text(encoding="utf-8").splitlines()
    unread = f'"无法读取:{NOT_REGULAR}"'
    assert rows == [
        "file,line,call_id,status,reason",
        f"{calls / 'a.txt'},,,error,{unread}",
        f"{calls / 'b.json'},,,error,{unread}",
        f"{calls / 'c.jsonl'},,,error,{unread}",
        f"{calls / 'd.csv'},,,error,{unread}",
        f"{calls / 'gone.srt'},,,error,无法读取:符号链接指向的文件不存在",
        f"{calls / 'pipe'},,,skipped,不是转写文件类型(无扩展名);支持的类型:"
        ".csv .json .jsonl .srt .txt .vtt .zip .tar.gz .tgz .tar .gz",
        f"{calls / 'zero.vtt'},,,error,{unread}",
    ]
    accounting = json.loads((out / "run.json").read_text(encoding="utf-8"))["accounting"]
    assert {k: accounting[k] for k in ("files_seen", "files_audited", "files_failed",
                                       "files_skipped", "balanced")} == {
        "files_seen": 8, "files_audited": 1, "files_failed": 6, "files_skipped": 1,
        "balanced": True}


def test_a_folder_that_cannot_be_read_is_listed(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """(The tests run as root in CI, where permissions do not stop a read: the refusal is the
    operating system's answer to ``scandir``, given here.)"""
    from csqa.loaders import load_all

    (tmp_path / "locked").mkdir()
    real = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    [problem] = list(load_all([tmp_path]))
    assert (problem.file, problem.reason) == (str(tmp_path / "locked"),
                                              "无法读取文件夹:Permission denied")
