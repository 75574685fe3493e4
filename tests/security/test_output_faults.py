"""#19 item 7, the output parts: a full disk, a missing --out folder, ``--out`` inside an input
folder. Each runs the real command and checks the one-line error and what is left on disk."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

from support.runs import LOCK_NAME, OUTPUTS, RUN_JSON
from typer.testing import CliRunner

from csqa.api import audit
from csqa.cli import app
from csqa.runs import open_run

ROOT = Path(__file__).resolve().parents[2]
RULES = str(Path(__file__).with_name("rules.yaml"))  # small: these tests are about files
SAMPLES = ROOT / "sample_transcripts"


def _small_disk() -> None:
    """Files this process writes may not grow past 8 KiB: as a full disk, writes fail."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))


def test_a_full_disk_leaves_no_temp_files_and_the_old_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    audit([SAMPLES / "handwritten"], ruleset=RULES, out=out)
    before = {n: (out / n).read_bytes() for n in (*OUTPUTS, RUN_JSON)}
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-m", "csqa.cli", "audit", "-r", RULES, str(SAMPLES), "-o", str(out),
                           "-q"], env=env, capture_output=True, text=True, timeout=300,
                          preexec_fn=_small_disk)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {out}: File too large"
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUTS, RUN_JSON, LOCK_NAME])
    assert {n: (out / n).read_bytes() for n in (*OUTPUTS, RUN_JSON)} == before


def test_report_backtest_review_into_a_missing_folder_say_so_in_one_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    audit([SAMPLES / "handwritten"], ruleset=RULES, out=run)
    missing = tmp_path / "missing"
    for args, name in ((["report", str(run)], "w.xlsx"), (["report", str(run)], "w.md"),
                       (["backtest", str(run), "-r", RULES], "b.xlsx"),
                       (["backtest", str(run), "-r", RULES], "b.csv"),
                       (["review", str(run)], "r.xlsx")):
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        proc = subprocess.run([sys.executable, "-m", "csqa.cli", *args, "--out",
                               str(missing / name)], env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 2, (args, proc.stderr)
        # one line: no traceback, no "Exception ignored" after it (backtest's xlsx streams)
        assert proc.stderr == f"error: {missing}: 文件夹不存在,未写入\n", (args, name)
        assert not missing.exists()


def test_out_inside_an_input_folder_is_not_read_back(tmp_path: Path) -> None:
    inputs = tmp_path / "calls"
    shutil.copytree(SAMPLES, inputs)
    first = audit([inputs], ruleset=RULES, out=inputs / "csqa-out")
    second = audit([inputs], ruleset=RULES, out=inputs / "csqa-out")
    assert second.files_seen == first.files_seen == 14
    assert second.input_errors == 0 and second.calls_audited == 20
    assert second.accounting == first.accounting
    # the folder itself as --out: its own run files are passed over, the transcripts read
    third = audit([inputs], ruleset=RULES, out=inputs)
    fourth = audit([inputs], ruleset=RULES, out=inputs)
    assert (third.files_seen, fourth.files_seen) == (14, 14)
    assert fourth.input_errors == 0 and fourth.calls_audited == 20
    assert open_run(inputs).record["counts"]["calls_audited"] == 20


def test_reviews_applied_to_a_run_keep_it_verified(tmp_path: Path) -> None:
    """``csqa audit --reviews`` rewrites calls.csv, agents.csv and run.json as one set: the
    folder still verifies afterwards, and report reads it."""
    run = tmp_path / "run"
    audit([SAMPLES / "handwritten"], ruleset=RULES, out=run)
    reviews = tmp_path / "reviews.csv"
    assert CliRunner().invoke(app, ["review", str(run), "--out", str(reviews)]).exit_code == 0
    res = CliRunner().invoke(app, ["audit", "-r", RULES, str(SAMPLES / "handwritten"), "-o", str(run), "-q",
                                   "--reviews", str(reviews)])
    assert res.exit_code == 0, res.output
    applied = open_run(run)
    assert "reviewed_score" in applied.table("calls.csv")[0]
    assert applied.record["reviews"]["file"] == str(reviews)
    assert CliRunner().invoke(app, ["report", str(run), "--out", str(tmp_path / "w.md")]
                              ).exit_code == 0
