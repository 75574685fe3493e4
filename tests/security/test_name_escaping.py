"""Names cannot drive a terminal or forge a line (issue #19 item 6).

A file or zip member named with terminal escapes (``\\x1b]52;…`` writes the clipboard,
``\\x1b[8m`` hides text) or a newline reached stderr, errors.csv and ``--format github`` raw, and
a newline forged a fake ``file: reason`` line. Every name shown goes through
:func:`csqa.model.shown_name`: control, format and line-separator characters become escapes.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from csqa.cli import app
from csqa.model import InputProblem, shown_name

ROOT = Path(__file__).resolve().parents[2]
OSC52 = "clip\x1b]52;c;ZXZpbA==\x07.json"
HIDDEN = "hide\x1b[8m.txt"
FORGED = "x\nforged.json: 伪造的原因 (this line is not csqa's).json"
MEMBER = "m\x1b[8m\n伪造.json: fake.json"


def _csqa(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "csqa.cli", *args], env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="surrogateescape", check=False)


def _hostile_inputs(folder: Path) -> None:
    folder.mkdir()
    for name in (OSC52, HIDDEN, FORGED):
        (folder / name).write_text("not a transcript {", encoding="utf-8")
    with zipfile.ZipFile(folder / "calls.zip", "w") as zf:
        zf.writestr(MEMBER, "{broken")


def test_shown_name() -> None:
    assert shown_name("通话 录音.json") == "通话 录音.json"
    assert shown_name(OSC52) == "clip\\x1b]52;c;ZXZpbA==\\x07.json"
    assert shown_name(FORGED) == "x\\nforged.json: 伪造的原因 (this line is not csqa's).json"
    assert shown_name("\u202egnp.exe") == "\\u202egnp.exe"  # right-to-left override
    assert shown_name("a\u2028b\u3000c") == "a\\u2028b\u3000c"
    assert str(InputProblem(FORGED, 3, "bad\x1b[2J")) == (
        "x\\nforged.json: 伪造的原因 (this line is not csqa's).json:3: bad\\x1b[2J")


def test_names_reach_no_output_raw(tmp_path: Path) -> None:
    _hostile_inputs(tmp_path / "in")
    run = _csqa("audit", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q")
    assert run.returncode == 3, run.stderr
    errors_csv = (tmp_path / "out" / "errors.csv").read_text(encoding="utf-8-sig")
    for text in (run.stderr, run.stdout, errors_csv):
        assert "\x1b" not in text and "\x07" not in text
    # one line per problem on stderr, each starting with the (escaped) name of its file
    lines = run.stderr.splitlines()
    rows = list(csv.DictReader(io.StringIO(errors_csv)))
    files = sorted(r["file"] for r in rows)
    folder = str(tmp_path / "in")
    assert files == sorted([
        f"{folder}/calls.zip!m\\x1b[8m\\n伪造.json: fake.json",
        f"{folder}/clip\\x1b]52;c;ZXZpbA==\\x07.json",
        f"{folder}/hide\\x1b[8m.txt",
        f"{folder}/x\\nforged.json: 伪造的原因 (this line is not csqa's).json",
    ])
    assert not any(line.startswith(("forged.json", "伪造")) for line in lines)
    assert len(lines) == 4 and all(line.startswith(folder) for line in lines)

    runner = CliRunner()
    for fmt in ("github", "text", "junit", "json"):
        check = runner.invoke(app, ["check", str(tmp_path / "in"), "--format", fmt])
        assert check.exit_code == 3, check.stderr
        assert "\x1b" not in check.stdout + check.stderr
        assert "\x07" not in check.stdout + check.stderr
        if fmt == "github":
            assert all(line.startswith("::") or line.startswith("检查")
                       for line in check.stdout.splitlines()), check.stdout


def test_error_messages_escape_the_names_they_quote(tmp_path: Path) -> None:
    missing = tmp_path / "gone\x1b[8m[link=file:/etc]x"
    run = _csqa("audit", str(missing), "-o", str(tmp_path / "out"))
    assert run.returncode == 2
    assert run.stderr == (f"错误:{tmp_path}/gone\\x1b[8m[link=file:/etc]x: 文件或目录不存在\n")
