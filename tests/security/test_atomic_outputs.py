"""#19 item 5: a run folder's outputs switch as one set, and one audit at a time writes into it.

Fault injection runs the real ``csqa`` in a subprocess. ``faulty_csqa.py exit@STEP`` stops the
writer dead (``os._exit``, as ``kill -9`` or a power cut would) just before each rename of the
commit; other runs are killed with SIGKILL at random moments. After each, the folder read
through the one reader (:func:`csqa.runs.open_run`, which verifies every file against run.json)
must be exactly the old run or exactly the new one, and ``csqa report`` must read it.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.runs import LOCK_NAME, OUTPUTS, STAGING_PREFIX
from typer.testing import CliRunner

from csqa.api import audit
from csqa.cli import app
from csqa.runs import open_run

ROOT = Path(__file__).resolve().parents[2]
RULES = str(Path(__file__).with_name("rules.yaml"))  # small: these tests are about files
SAMPLES = ROOT / "sample_transcripts"
STEPS = ["run.json", *OUTPUTS, "done"]
FAULTY = Path(__file__).with_name("faulty_csqa.py")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def csqa(*args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real ``csqa`` command in a subprocess; ``fault`` (``KIND@STEP``) runs it through
    ``faulty_csqa.py``, which meets its writer with that fault."""
    head = [str(FAULTY), fault] if fault is not None else ["-m", "csqa.cli"]
    return subprocess.run([sys.executable, *head, *args], env=_env(), capture_output=True,
                          text=True, timeout=300)


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "csqa.cli", *args], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def view(out: Path) -> dict[str, bytes]:
    """The run in ``out`` as the reader sees it: every output's verified bytes."""
    run = open_run(out)
    seen = {}
    for name in OUTPUTS:
        with run.open(name) as fh:
            seen[name] = fh.read()
    return seen


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """An old run (the hand-written calls) and what a new one (all samples) must read as."""
    base = tmp_path_factory.mktemp("runs")
    old = base / "old"
    audit([SAMPLES / "handwritten"], ruleset=RULES, out=old)
    new = base / "new"
    audit([SAMPLES], ruleset=RULES, out=new)
    return {"old": old, "old_view": view(old), "new_view": view(new)}


@pytest.mark.parametrize("step", STEPS)
def test_killed_at_each_rename_leaves_the_old_run_or_the_new(tmp_path: Path, step: str,
                                                             two_runs: dict[str, object]) -> None:
    out = tmp_path / "out"
    shutil.copytree(two_runs["old"], out)  # type: ignore[arg-type]
    proc = csqa("audit", "-r", RULES, str(SAMPLES), "-o", str(out), "-q", fault=f"exit@{step}")
    assert proc.returncode == 99  # stopped dead by the hook, at that step
    # before run.json's rename the old run stands; from it on, the new one does
    expected = two_runs["old_view"] if step == "run.json" else two_runs["new_view"]
    assert view(out) == expected
    if step == "calls.csv":  # the report reads such a folder as the new run
        res = CliRunner().invoke(app, ["report", str(out), "--out", str(tmp_path / "w.md")])
        assert res.exit_code == 0, res.output
    # the next audit into the folder completes or clears what the killed one left
    audit([SAMPLES / "handwritten"], ruleset=RULES, out=out)
    assert view(out) == two_runs["old_view"]
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_next_audit_completes_an_interrupted_switch(tmp_path: Path, two_runs: dict[str, object]
                                                    ) -> None:
    """Killed after run.json's rename: the files still in the staging folder are moved into
    place by the next writer, so the top-level files alone are the new run."""
    from csqa.reporters.files import lock_folder

    out = tmp_path / "out"
    shutil.copytree(two_runs["old"], out)  # type: ignore[arg-type]
    assert csqa("audit", "-r", RULES, str(SAMPLES), "-o", str(out), "-q", fault="exit@calls.csv").returncode == 99
    os.close(lock_folder(out))
    new_view = two_runs["new_view"]
    assert {n: (out / n).read_bytes() for n in OUTPUTS} == new_view  # type: ignore[comparison-overlap]
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic calls enough for an audit of a few seconds."""
    from csqa.synth import write_corpus

    return write_corpus(6000, tmp_path_factory.mktemp("big"), seed=19)


def test_killed_at_random_points(tmp_path: Path, two_runs: dict[str, object], big: Path) -> None:
    whole = tmp_path / "whole"
    audit([big], ruleset=RULES, out=whole)
    big_view = view(whole)
    rng = random.Random(19)
    outcomes = []
    for i in range(4):
        out = tmp_path / f"out{i}"
        shutil.copytree(two_runs["old"], out)  # type: ignore[arg-type]
        proc = start("audit", "-r", RULES, str(big), "-o", str(out), "-q")
        time.sleep(rng.uniform(0.3, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=120)
        seen = view(out)
        assert seen in (two_runs["old_view"], big_view)
        outcomes.append("old" if seen == two_runs["old_view"] else "new")
    assert len(outcomes) == 4  # which of the two depends on the machine's speed; never a mix


def test_sigterm_during_the_switch_says_the_new_outputs_are_in_place(
        tmp_path: Path, two_runs: dict[str, object]) -> None:
    out = tmp_path / "out"
    shutil.copytree(two_runs["old"], out)  # type: ignore[arg-type]
    proc = csqa("audit", "-r", RULES, str(SAMPLES), "-o", str(out), "-q", fault="term@calls.csv")
    err = proc.stderr
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == (
        f"错误:运行结束后被中断:{out} 中是本次运行的完整输出(本次输出已完整写入)")
    assert "unchanged" not in err
    assert view(out) == two_runs["new_view"]


def test_mixed_folder_is_refused_by_every_reader(tmp_path: Path, two_runs: dict[str, object]
                                                 ) -> None:
    out = tmp_path / "out"
    shutil.copytree(two_runs["old"], out)  # type: ignore[arg-type]
    newer = tmp_path / "newer"
    audit([SAMPLES], ruleset=RULES, out=newer)
    shutil.copy(newer / "findings.jsonl", out / "findings.jsonl")  # half of another run
    message = (f"错误:{out / 'findings.jsonl'}: 与 run.json 记录的不一致(审计后被改动,或混入了另一次"
               "审计的文件),不读取;请重新运行 csqa audit")
    for args in (["report", str(out)], ["backtest", str(out), "-r", RULES],
                 ["review", str(out), "--out", str(tmp_path / "r.csv")]):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert res.output.strip() == message, args


def test_second_audit_into_a_busy_folder_says_so(tmp_path: Path, two_runs: dict[str, object]
                                                 ) -> None:
    out = tmp_path / "out"
    shutil.copytree(two_runs["old"], out)  # type: ignore[arg-type]
    with (out / LOCK_NAME).open("a") as held:  # as a running audit holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = csqa("audit", "-r", RULES, str(SAMPLES), "-o", str(out), "-q")
    err = proc.stderr
    assert proc.returncode == 2
    assert err.strip() == (f"错误:{out}: 另一个 csqa 正在写入这个输出文件夹,本次未运行;"
                           "等它结束后再试,或换一个 --out")
    assert view(out) == two_runs["old_view"]


def test_two_real_audits_into_one_out_do_not_interleave(tmp_path: Path, big: Path) -> None:
    out = tmp_path / "out"
    first = start("audit", "-r", RULES, str(big), "-o", str(out), "-q")
    deadline = time.monotonic() + 240
    while not (out.is_dir() and any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir())):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.01)
    first.send_signal(signal.SIGSTOP)  # frozen mid-run, holding the folder: no race with its end
    try:
        second = csqa("audit", "-r", RULES, str(SAMPLES), "-o", str(out), "-q")
    finally:
        first.send_signal(signal.SIGCONT)
    first.communicate(timeout=600)
    assert second.returncode == 2 and first.returncode == 0
    assert second.stderr.strip() == (f"错误:{out}: 另一个 csqa 正在写入这个输出文件夹,本次未运行;"
                                     "等它结束后再试,或换一个 --out")
    assert open_run(out).record["counts"]["calls_audited"] == 6000


def test_the_layout_tests_rely_on_is_csqas() -> None:
    from support import runs as layout

    from csqa import runs

    assert (runs.RUN_JSON, runs.OUTPUTS, runs.LOCK_NAME, runs.STAGING_PREFIX) == (
        layout.RUN_JSON, layout.OUTPUTS, layout.LOCK_NAME, layout.STAGING_PREFIX)
