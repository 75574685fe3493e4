"""#19 item 1: ``--out`` can never be made to write through a symbolic link.

Every test plants links in the output folder the way an attacker sharing the folder would, runs
the real ``csqa audit`` and checks the file outside the folder is untouched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.runs import OUTPUTS, RUN_JSON, STAGING_PREFIX
from typer.testing import CliRunner

from csqa.cli import app
from csqa.runs import open_run

ROOT = Path(__file__).resolve().parents[2]
RULES = str(Path(__file__).with_name("rules.yaml"))  # small: these tests are about files
SAMPLES = ROOT / "sample_transcripts" / "handwritten"
SECRET = "root:x:0:0:do not overwrite\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file outside the output folder that a link would have csqa overwrite."""
    path = tmp_path / "elsewhere" / "passwd"
    path.parent.mkdir()
    path.write_text(SECRET, encoding="utf-8")
    return path


def test_links_under_the_temp_names_of_the_next_pids_are_never_followed(
        tmp_path: Path, victim: Path) -> None:
    out = tmp_path / "shared-out"
    out.mkdir()
    # the temp names older csqa derived from its pid, for the next few hundred pids
    first = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    start = int(first.stdout)
    for pid in range(start, start + 400):
        for name in (*OUTPUTS, RUN_JSON):
            (out / f".{name}.{pid}.tmp").symlink_to(victim)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-m", "csqa.cli", "audit", "-r", RULES, str(SAMPLES), "-o", str(out),
                           "-q"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text(encoding="utf-8") == SECRET
    for name in (*OUTPUTS, RUN_JSON):
        assert not (out / name).is_symlink()
    assert open_run(out).record["counts"]["calls_audited"] == 4


@pytest.mark.parametrize("name", [RUN_JSON, "findings.jsonl", "calls.csv", ".csqa.lock"])
def test_an_output_that_is_a_link_is_refused(tmp_path: Path, victim: Path, name: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(victim)
    res = CliRunner().invoke(app, ["audit", "-r", RULES, str(SAMPLES), "-o", str(out), "-q"])
    assert res.exit_code == 2
    assert res.output.strip() == (f"error: {out / name}: 是符号链接,拒绝写入(输出不会经由链接写到别处)")
    assert victim.read_text(encoding="utf-8") == SECRET
    assert (out / name).is_symlink()


def test_an_out_folder_that_is_a_link_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    out = tmp_path / "out"
    out.symlink_to(real, target_is_directory=True)
    res = CliRunner().invoke(app, ["audit", "-r", RULES, str(SAMPLES), "-o", str(out), "-q"])
    assert res.exit_code == 2
    assert res.output.strip() == f"error: {out}: 是符号链接,拒绝写入(输出不会经由链接写到别处)"
    assert list(real.iterdir()) == []


def test_stale_staging_cleanup_is_not_a_way_in(tmp_path: Path, victim: Path) -> None:
    """A link named like a killed run's staging folder is not followed by the cleanup."""
    out = tmp_path / "out"
    out.mkdir()
    (out / f"{STAGING_PREFIX}planted").symlink_to(victim.parent, target_is_directory=True)
    res = CliRunner().invoke(app, ["audit", "-r", RULES, str(SAMPLES), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert victim.read_text(encoding="utf-8") == SECRET
    assert (out / f"{STAGING_PREFIX}planted").is_symlink()


def test_other_commands_refuse_an_out_that_is_a_link(tmp_path: Path, victim: Path) -> None:
    run = tmp_path / "run"
    assert CliRunner().invoke(app, ["audit", "-r", RULES, str(SAMPLES), "-o", str(run), "-q"]).exit_code == 0
    reviews = tmp_path / "reviews.csv"
    assert CliRunner().invoke(app, ["review", str(run), "--out", str(reviews)]).exit_code == 0
    victim.write_bytes(reviews.read_bytes())  # a valid reviews file: review reads, then writes
    for args, target in ((["report", str(run)], "w.md"), (["review", str(run)], "r.csv"),
                         (["backtest", str(run), "-r", RULES], "b.csv")):
        link = tmp_path / target
        link.symlink_to(victim)
        before = victim.read_bytes()
        res = CliRunner().invoke(app, [*args, "--out", str(link)])
        assert res.exit_code == 2, (args, res.output)
        assert res.output.strip() == (
            f"error: {link}: 是符号链接,拒绝写入(输出不会经由链接写到别处)"), args
        assert victim.read_bytes() == before
