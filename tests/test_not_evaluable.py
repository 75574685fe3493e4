"""Honest "not evaluable": timing/mono flags from the loaders, scores over what was evaluable."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import make_call, ruleset_with

from csqa.api import audit
from csqa.engine import Engine
from csqa.loaders import load_all
from csqa.model import InputProblem, Transcript

RULES = [
    {"id": "greeting", "kind": "greeting", "points": 5},
    {"id": "interruption", "kind": "interruption", "points": 3, "max_points": 9},
    {"id": "silence", "kind": "silence", "points": 3, "max_points": 9},
    {"id": "shirk", "kind": "forbidden_phrase", "points": 5, "max_points": 15,
     "phrases": ["没办法"]},
    {"id": "hangup", "kind": "hangup", "points": 10},
]  # weight W = 5 + 9 + 9 + 15 + 10 = 48

UNTIMED = """\
# agent_id: A1
坐席: 您好,很高兴为您服务。
客户: 我的洗衣机坏了。
坐席: 这个没办法。
"""
TIMED = """\
# agent_id: A1
[00:00:01.0-00:00:03.0] 坐席: 您好,很高兴为您服务。
[00:00:03.5-00:00:05.0] 客户: 我的洗衣机坏了。
[00:00:05.5-00:00:07.0] 坐席: 这个没办法。
[00:00:09.0] <挂机: 客户>
"""


def test_untimed_call_scored_over_what_was_evaluable(tmp_path: Path) -> None:
    result = Engine(ruleset_with(tmp_path, RULES)).audit(make_call(UNTIMED))
    assert sorted(result.not_evaluable) == ["hangup", "interruption", "silence"]
    assert [f.rule_id for f in result.findings] == ["shirk"]
    # W_e = 5 + 15 = 20; lost = 5 × 48 / 20 = 12
    assert result.score == 88.0
    assert result.evaluated_share == round(20 / 48, 4)
    assert result.passed


def test_fully_evaluable_call_keeps_the_plain_formula(tmp_path: Path) -> None:
    result = Engine(ruleset_with(tmp_path, RULES)).audit(make_call(TIMED))
    assert result.not_evaluable == {}
    assert result.score == 95.0
    assert result.evaluated_share == 1.0


def test_mono_makes_only_interruption_not_evaluable(tmp_path: Path) -> None:
    result = Engine(ruleset_with(tmp_path, RULES)).audit(make_call("# channels: mono\n" + TIMED))
    assert list(result.not_evaluable) == ["interruption"]
    assert "单声道" in result.not_evaluable["interruption"]
    # W_e = 48 - 9 = 39; lost = 5 × 48 / 39
    assert result.score == round(100 - 5 * 48 / 39, 2)


def test_nothing_evaluable_scores_base(tmp_path: Path) -> None:
    rules = [{"id": "silence", "kind": "silence", "points": 3, "max_points": 9}]
    result = Engine(ruleset_with(tmp_path, rules)).audit(make_call(UNTIMED))
    assert (result.score, result.evaluated_share, result.passed) == (100.0, 0.0, True)


def test_calls_csv_and_scorecards_count_not_evaluable(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "a.txt").write_text(UNTIMED, encoding="utf-8")
    (calls / "b.txt").write_text(TIMED, encoding="utf-8")
    rs = ruleset_with(tmp_path, RULES)
    audit([calls], rs, tmp_path / "out")
    with (tmp_path / "out/calls.csv").open(encoding="utf-8") as fh:
        rows = {r["call_id"]: r for r in csv.DictReader(fh)}
    assert rows["a"]["not_evaluable"] == "hangup;interruption;silence"
    assert rows["a"]["n_not_evaluable"] == "3"
    assert rows["a"]["evaluated_share"] == str(round(20 / 48, 4))
    assert (rows["a"]["score"], rows["b"]["score"]) == ("88.0", "95.0")
    assert (rows["b"]["n_not_evaluable"], rows["b"]["evaluated_share"]) == ("0", "1.0")
    with (tmp_path / "out/agents.csv").open(encoding="utf-8") as fh:
        [agent] = list(csv.DictReader(fh))
    assert (agent["not_evaluable"], agent["calls_partly_evaluable"]) == ("3", "1")
    assert agent["mean_score"] == "91.5"


def _load(tmp_path: Path, name: str, content: str) -> list[Transcript | InputProblem]:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return list(load_all([path]))


def test_json_without_times_is_untimed(tmp_path: Path) -> None:
    call = {"agent_id": "A1", "channels": "mono", "utterances": [
        {"speaker": "customer", "text": "喂"}, {"speaker": "agent", "text": "您好"}]}
    [t] = _load(tmp_path, "c.json", json.dumps(call))
    assert isinstance(t, Transcript)
    assert (t.timing, t.channels, t.has_timing, t.has_overlap) == ("none", "mono", False, False)
    assert [u.text for u in t.utterances] == ["喂", "您好"]  # order as given


def test_json_timing_none_declared_allows_partial_times(tmp_path: Path) -> None:
    call = {"agent_id": "A1", "timing": "none", "truncated": "end", "utterances": [
        {"speaker": "agent", "start": 3, "end": 4, "text": "您好"},
        {"speaker": "customer", "text": "喂"}]}
    [t] = _load(tmp_path, "c.json", json.dumps(call))
    assert isinstance(t, Transcript)
    assert (t.timing, t.truncated) == ("none", "end")


def test_json_timed_call_still_requires_times(tmp_path: Path) -> None:
    call = {"agent_id": "A1", "utterances": [
        {"speaker": "agent", "start": 0, "end": 1, "text": "您好"},
        {"speaker": "customer", "text": "喂"}]}
    [p] = _load(tmp_path, "c.json", json.dumps(call))
    assert isinstance(p, InputProblem)
    assert p.reason == "utterances[1].start: 缺失(应有 speaker、start、end、text)"


def test_bad_flag_value_is_named(tmp_path: Path) -> None:
    call = {"agent_id": "A1", "channels": "quad", "utterances": [
        {"speaker": "agent", "start": 0, "end": 1, "text": "您好"}]}
    [p] = _load(tmp_path, "c.json", json.dumps(call))
    assert isinstance(p, InputProblem)
    assert p.reason == "channels: 应为以下之一:stereo, dual, 2, mono, 1,实际是 'quad'"


def test_text_mixing_timed_and_untimed_lines_is_an_error(tmp_path: Path) -> None:
    [p] = _load(tmp_path, "c.txt", "# agent_id: A1\n[00:00:01.0-00:00:02.0] 坐席: 您好\n客户: 喂\n")
    assert isinstance(p, InputProblem)
    assert p.line == 3
    assert "这句话没有时间" in p.reason


def test_csv_timing_none_with_empty_times(tmp_path: Path) -> None:
    content = ("call_id,agent_id,speaker,start,end,text,timing\n"
               "c1,A1,坐席,,,您好,none\nc1,A1,客户,,,喂,\n")
    [t] = _load(tmp_path, "c.csv", content)
    assert isinstance(t, Transcript)
    assert t.timing == "none"
    assert [u.text for u in t.utterances] == ["您好", "喂"]


@pytest.mark.parametrize("header", ["# timing: none", "# timing: untimed"])
def test_text_timing_header(tmp_path: Path, header: str) -> None:
    text = f"# agent_id: A1\n{header}\n[00:00:01.0-00:00:02.0] 坐席: 您好\n"
    [t] = _load(tmp_path, "c.txt", text)
    assert isinstance(t, Transcript)
    assert not t.has_timing


def test_vendor_exports_keep_overlap_information_diarized_or_not() -> None:
    """No overlap in a call is no evidence of a mono recording (issue #17: FunASR calls without
    overlapping speech were read as mono, so the same call scored differently by vendor)."""
    from csqa.loaders.vendor import Segment, build

    laid_end_to_end = [Segment("spk_0", 0.0, 2.0, "您好"), Segment("spk_1", 2.5, 4.0, "喂")]
    overlapping = [Segment("spk_0", 0.0, 3.0, "您好"), Segment("spk_1", 2.5, 4.0, "喂")]
    kw = {"source": "x.json", "call_id": "c", "fmt": "funasr"}
    assert build(laid_end_to_end, speaker_kind="speaker", **kw).channels == "stereo"
    assert build(overlapping, speaker_kind="speaker", **kw).channels == "stereo"
    assert build(laid_end_to_end, speaker_kind="channel", **kw).channels == "stereo"


def test_review_rescores_with_the_same_n_a_model(tmp_path: Path) -> None:
    """With no verdict given, a reviewed score is the machine score, N/A rescaling included."""
    from csqa.review import apply_reviews, read_reviews, update_reviews

    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "a.txt").write_text(UNTIMED, encoding="utf-8")
    run = tmp_path / "run"
    audit([calls], ruleset_with(tmp_path, RULES, version="1"), run)
    update_reviews(run)
    reviewed = apply_reviews(run, read_reviews(run / "reviews.csv"))
    r = reviewed.results["a"]
    assert (r.score, r.reviewed_score) == (88.0, 88.0)
