"""Nightly scale: synthetic corpus, parallel and Dask engines, incremental runs, archives.

The speed targets are checked by ``make bench`` (benchmarks/run.py), never here.
"""

from __future__ import annotations

import gzip
import shutil
import zipfile
from collections import defaultdict
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from csqa import parallel
from csqa.api import audit
from csqa.cli import app
from csqa.loaders.common import Limits
from csqa.parallel import audit_records
from csqa.synth import VIOLATIONS, write_corpus

OUTPUTS = ("findings.jsonl", "calls.csv", "agents.csv", "errors.csv")


def outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def findings_by_call(out: Path) -> dict[str, list[tuple[str, int | None]]]:
    got: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
    for line in (out / "findings.jsonl").read_bytes().splitlines():
        f = orjson.loads(line)
        got[f["call_id"]].append((f["rule_id"], f["utterance"]))
    return got


def _key(x: tuple[str, int | None]) -> tuple[str, int]:
    return (x[0], -1 if x[1] is None else x[1])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(400, tmp_path_factory.mktemp("synth"), seed=7).parent


@pytest.fixture
def mixed(tmp_path: Path, corpus: Path) -> Path:
    """Many small batches of every kind: JSONL, .json files, a .txt, a bad line, a duplicate."""
    src = tmp_path / "in"
    src.mkdir()
    lines = (corpus / "transcripts" / "calls.jsonl").read_bytes().splitlines(keepends=True)
    (src / "a.jsonl").write_bytes(b"".join(lines[:150]) + b"{not json\n" + lines[3])
    for i, line in enumerate(lines[150:190]):
        (src / f"c{i:03d}.json").write_bytes(line)
    (src / "d.txt").write_text("# agent_id: A9\n[00:00:01.0-00:00:05.0] 坐席: 喂,什么事?\n",
                               encoding="utf-8")
    (src / "notes.md").write_text("not a transcript", encoding="utf-8")
    return src


def test_synth_is_seeded(tmp_path: Path) -> None:
    a = write_corpus(50, tmp_path / "a", seed=3)
    b = write_corpus(50, tmp_path / "b", seed=3)
    c = write_corpus(50, tmp_path / "c", seed=4)
    assert (a / "calls.jsonl").read_bytes() == (b / "calls.jsonl").read_bytes()
    assert (a.parent / "truth.jsonl").read_bytes() == (b.parent / "truth.jsonl").read_bytes()
    assert (a / "calls.jsonl").read_bytes() != (c / "calls.jsonl").read_bytes()
    d = write_corpus(3, tmp_path / "d", seed=3, fmt="json")
    files = sorted(d.rglob("*.json"))
    assert [f.name for f in files] == ["SYN-0000000.json", "SYN-0000001.json", "SYN-0000002.json"]
    first = (a / "calls.jsonl").read_bytes().splitlines()[0]
    assert files[0].read_bytes() == first


def test_synth_known_violations_are_found_and_decoys_are_not(corpus: Path, tmp_path: Path) -> None:
    # the generator's truth is what it injects (strings, timing, roles); judgement by meaning is
    # measured by `make eval`, and flags some injected lines twice (说吧,什么问题? is also 责问)
    strings = tmp_path / "strings.yaml"
    strings.write_text("extends: default\nmeaning: false\n", encoding="utf-8")
    summary = audit([corpus / "transcripts"], ruleset=strings, out=tmp_path / "out", jobs=1)
    assert summary.calls_audited == 400 and summary.input_errors == 0
    got = findings_by_call(tmp_path / "out")
    truth = [orjson.loads(x) for x in (corpus / "truth.jsonl").read_bytes().splitlines()]
    mismatched = [t["call_id"] for t in truth
                  if sorted(map(tuple, t["findings"]), key=_key)
                  != sorted(got.get(t["call_id"], []), key=_key)]
    assert mismatched == []
    fired = {rid for t in truth for rid, _ in t["findings"]}
    # every rule of the default ruleset but the rare veto is exercised by 400 calls
    assert fired >= {"forbidden.blame", "forbidden.arrogant", "forbidden.shirk", "greeting",
                     "closing", "closing.satisfaction", "closing.anything_else", "interruption",
                     "hangup", "silence", "response_delay", "speech_rate",
                     # the call-backs (direction outbound, about one call in twenty)
                     "outbound.purpose", "outbound.apology", "outbound.call_hours"}
    assert len(VIOLATIONS) == 13
    clean = sum(1 for t in truth if not t["findings"])
    assert 200 < clean < 320  # most calls are clean, as in a real centre


def test_jobs_give_identical_outputs(mixed: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "BATCH_ITEMS", 16)
    one = audit([mixed], out=tmp_path / "j1", jobs=1)
    two = audit([mixed], out=tmp_path / "j2", jobs=2)
    assert outputs(tmp_path / "j1") == outputs(tmp_path / "j2")
    assert one.calls_audited == two.calls_audited == 191
    errors = (tmp_path / "j2" / "errors.csv").read_text(encoding="utf-8").splitlines()
    assert len(errors) == 4
    assert "a.jsonl,151,,error,\"JSON 格式有误:" in errors[1]
    assert "a.jsonl,152,SYN-0000003,error,重复的 call_id 'SYN-0000003':已从 " \
           in errors[2] and errors[2].endswith("a.jsonl:4 审计过;这一份未审计")
    assert "notes.md,,,skipped," in errors[3]
    rows = (tmp_path / "j2" / "calls.csv").read_text(encoding="utf-8").splitlines()
    assert [r.split(",")[0] for r in rows[1:4]] == ["SYN-0000000", "SYN-0000001", "SYN-0000002"]
    assert rows[-1].startswith("d,A9,")


def test_workers_parse_exactly_as_the_reader_does(corpus: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain JSONL lines (also inside archives) and .json files are parsed in the workers; an
    incremental run parses them in the reading process (its cache is keyed by the loaded call).
    Both give the same outputs and accounting, problems included: bad JSON, blank lines, empty
    files, a line or file over the size limit, too many utterances, skipped archive members."""
    monkeypatch.setattr(parallel, "BATCH_ITEMS", 16)
    src = tmp_path / "in"
    src.mkdir()
    lines = (corpus / "transcripts" / "calls.jsonl").read_bytes().splitlines(keepends=True)
    many = orjson.loads(lines[5])
    many["call_id"] = "MANY"
    many["utterances"] = many["utterances"] * 2
    (src / "a.jsonl").write_bytes(b"".join(lines[:40]) + b"\n  \n{not json\n"
                                  + b'{"call_id": "BIG", "utterances": [], "x": "' + b"x" * 20000
                                  + b'"}\n' + orjson.dumps(many) + b"\n" + b"".join(lines[40:70]))
    # .json files are read by the workers too: a good one, broken ones, one over the limit
    (src / "b1.json").write_bytes(lines[70])
    (src / "b2.json").write_bytes(b"{not json")
    (src / "b3.json").write_bytes(b"")
    (src / "b4.json").write_bytes(b'{"call_id": "B4", "x": "' + b"x" * 20000 + b'"}')
    # and JSON Lines inside archives: unpacked by the reader, parsed by the workers
    with gzip.open(src / "c.jsonl.gz", "wb") as fh:
        fh.write(b"".join(lines[71:76]) + b"{bad\n")
    with zipfile.ZipFile(src / "d.zip", "w") as zf:
        zf.writestr("night/d.jsonl", b"".join(lines[76:80]))
        zf.writestr("night/e.json", lines[80])
        zf.writestr("night/notes.md", b"not a transcript")
    limits = Limits(max_file_mb=0.01, max_utterances=20)
    workers = audit([src], out=tmp_path / "w", jobs=2, limits=limits)
    reader = audit([src], out=tmp_path / "r", jobs=1, limits=limits, incremental=True)
    assert outputs(tmp_path / "w") == outputs(tmp_path / "r")
    assert workers.calls_audited == reader.calls_audited == 81
    assert workers.accounting == reader.accounting
    errors = (tmp_path / "w" / "errors.csv").read_text(encoding="utf-8").splitlines()
    assert [e.split(",")[:4] for e in errors[1:]] == [
        [str(src / "a.jsonl"), "43", "", "error"], [str(src / "a.jsonl"), "44", "", "error"],
        [str(src / "a.jsonl"), "45", "MANY", "error"], [str(src / "b2.json"), "1", "", "error"],
        [str(src / "b3.json"), "", "", "error"], [str(src / "b4.json"), "", "", "error"],
        [f"{src / 'c.jsonl.gz'}!c.jsonl", "6", "", "error"],
        [f"{src / 'd.zip'}!night/notes.md", "", "", "skipped"]]
    assert "MB 的上限(--max-file-mb);未读取" in errors[2]


def test_dask_engine_matches_local(mixed: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(parallel, "BATCH_ITEMS", 32)
    audit([mixed], out=tmp_path / "local", jobs=1)
    summary = audit([mixed], out=tmp_path / "dask", jobs=2, engine="dask")
    assert summary.calls_audited == 191
    assert outputs(tmp_path / "local") == outputs(tmp_path / "dask")


def test_incremental_skips_unchanged_calls(corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    data = (corpus / "transcripts" / "calls.jsonl").read_bytes().splitlines(keepends=True)[:60]
    (src / "night.jsonl").write_bytes(b"".join(data))
    out = tmp_path / "out"
    first = audit([src], out=out, jobs=1, incremental=True)
    assert (first.calls_audited, first.calls_cached) == (60, 0)
    baseline = outputs(out)
    again = audit([src], out=out, jobs=1, incremental=True)
    assert (again.calls_audited, again.calls_cached) == (60, 60)
    assert outputs(out) == baseline
    # one call changed: only it is audited again, and the outputs equal a fresh run's
    changed = data[5].replace("感谢您的来电".encode(), "那先这样吧".encode())
    assert changed != data[5]
    (src / "night.jsonl").write_bytes(b"".join([*data[:5], changed, *data[6:]]))
    third = audit([src], out=out, jobs=1, incremental=True)
    assert third.calls_cached == 59
    audit([src], out=tmp_path / "fresh", jobs=1)
    assert outputs(out) == outputs(tmp_path / "fresh")
    # a ruleset change invalidates everything; a comment-only change does not
    rules = tmp_path / "rules.yaml"
    rules.write_text("name: mine\nextends: default\nrules:\n  - id: hangup\n    points: 20\n",
                     encoding="utf-8")
    assert audit([src], rules, out=out, jobs=1, incremental=True).calls_cached == 0
    rules.write_text("# tweaked\n" + rules.read_text(encoding="utf-8"), encoding="utf-8")
    assert audit([src], rules, out=out, jobs=1, incremental=True).calls_cached == 60
    # a damaged cache costs a full audit, never a wrong result or a crash
    (out / ".csqa-cache.sqlite").write_bytes(b"not a database")
    assert audit([src], out=out, jobs=1, incremental=True).calls_cached == 0
    assert outputs(out) == outputs(tmp_path / "fresh")


def test_archives_stream_through_the_parallel_engine(corpus: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A .jsonl.gz (read by the archive loader in the main process, audited by the workers)
    gives the same outputs with one job or two, and the same findings as the plain JSONL."""
    monkeypatch.setattr(parallel, "BATCH_ITEMS", 8)
    lines = (corpus / "transcripts" / "calls.jsonl").read_bytes().splitlines(keepends=True)[:40]
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    plain.mkdir()
    packed.mkdir()
    (plain / "night.jsonl").write_bytes(b"".join(lines))
    with gzip.open(packed / "night.jsonl.gz", "wb") as fh:
        fh.write(b"".join(lines))
    audit([plain], out=tmp_path / "o1", jobs=1)
    audit([packed], out=tmp_path / "o2", jobs=1)
    audit([packed], out=tmp_path / "o3", jobs=2)
    assert outputs(tmp_path / "o2") == outputs(tmp_path / "o3")
    assert (tmp_path / "o1" / "findings.jsonl").read_bytes() == \
        (tmp_path / "o2" / "findings.jsonl").read_bytes()
    assert "night.jsonl.gz!night.jsonl:40," in (tmp_path / "o3" / "calls.csv").read_text("utf-8")
    # a truncated archive: the calls before the break are kept, the break is reported
    whole = (packed / "night.jsonl.gz").read_bytes()
    (packed / "night.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    summary = audit([packed], out=tmp_path / "o4", jobs=2)
    assert 0 < summary.calls_audited < 40 and summary.input_errors == 1
    assert summary.problems[0].file.endswith("night.jsonl.gz!night.jsonl")


def test_audit_records_is_the_partition_function(corpus: Path, tmp_path: Path) -> None:
    lines = (corpus / "transcripts" / "calls.jsonl").read_bytes().splitlines()[:30]
    src = tmp_path / "in"
    src.mkdir()
    (src / "p.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    audit([src], out=tmp_path / "out", jobs=1)
    rows = audit_records([orjson.loads(x) for x in lines])
    expected = [orjson.loads(x) for x in (tmp_path / "out" / "findings.jsonl").read_bytes()
                .splitlines()]
    assert rows.findings == expected
    assert [c["call_id"] for c in rows.calls] == [orjson.loads(x)["call_id"] for x in lines]
    assert rows.calls[0]["source"] == "<records>:1" and "hangup" in rows.calls[0]
    bad = audit_records([b"{oops", lines[0].decode()], source="part-7")
    assert bad.problems[0]["file"] == "part-7" and bad.problems[0]["line"] == 1
    assert len(bad.calls) == 1


def test_cli_synth_and_engine_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["synth", "5", "--out", str(tmp_path / "s"), "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s" / "transcripts" / "calls.jsonl").read_bytes().count(b"\n") == 5
    src = str(tmp_path / "s" / "transcripts")
    result = runner.invoke(app, ["audit", src, "--out", str(tmp_path / "o"), "--engine", "spark"])
    assert result.exit_code == 2 and "未知的引擎 'spark'" in result.output
    result = runner.invoke(app, ["audit", src, "--out", str(tmp_path / "o"),
                                 "--scheduler", "tcp://x:1"])
    assert result.exit_code == 2 and "--scheduler 只和 --engine dask 一起使用" in result.output
    result = runner.invoke(app, ["audit", src, "--out", str(tmp_path / "o"), "-q", "-j", "2",
                                 "--incremental"])
    assert result.exit_code == 0 and "审计 5 通通话" in result.output
    result = runner.invoke(app, ["audit", src, "--out", str(tmp_path / "o"), "-q",
                                 "--incremental"])
    assert "5 通未变化,沿用上次结果" in result.output
    shutil.rmtree(tmp_path / "o")


def test_every_format_and_call_records_give_identical_outputs_across_jobs(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Vendor exports, subtitles, text, CSV, JSON and JSONL (read by the workers from their
    bytes), with and without call records (joined in the main process), in small batches."""
    from csqa.api import ExportOptions

    monkeypatch.setattr(parallel, "BATCH_ITEMS", 3)
    src = tmp_path / "in"
    shutil.copytree(root / "sample_transcripts", src / "samples")
    shutil.copytree(root / "tests" / "fixtures" / "vendors", src / "vendors",
                    ignore=shutil.ignore_patterns("*.py"))
    cdr = tmp_path / "cdr.csv"
    cdr.write_text("call_id,agent_id,team,hangup_by\n20261121-0001,A7,夜班组,坐席\nX9,A1,,客户\n",
                   encoding="utf-8")
    for opts in (None, ExportOptions(calls=cdr)):
        one = audit([src], out=tmp_path / "j1", jobs=1, options=opts)
        two = audit([src], out=tmp_path / "j2", jobs=2, options=opts)
        assert outputs(tmp_path / "j1") == outputs(tmp_path / "j2")
        assert one.calls_audited == two.calls_audited > 25
        assert (one.roles_uncertain, one.input_errors) == (two.roles_uncertain, two.input_errors)
    assert two.records_without_transcript == 1 and two.transcripts_without_record > 20
