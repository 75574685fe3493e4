"""Every ASR vendor's export of the same call loads into the same transcript and, joined to
its call record, gives the same findings and score."""

from __future__ import annotations

import copy
import csv
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from vendor_helpers import CANONICAL, FIXTURES, VENDOR_FILES, copy_as

from csqa.api import ExportOptions, audit
from csqa.errors import InputError
from csqa.loaders import load_all
from csqa.loaders.formats import detect_json, forced
from csqa.matching import fold
from csqa.model import InputProblem, Transcript
from csqa.roles import assign_roles

EXPECTED_FORMAT = {
    "alibaba.json": "alibaba",
    "tencent.json": "tencent",
    "iflytek.json": "iflytek",
    "aws_call_analytics.json": "aws-call-analytics",
    "aws_transcribe_speakers.json": "aws-transcribe",
    "aws_transcribe_channels.json": "aws-transcribe",
    "funasr.json": "funasr",
    "dashscope_paraformer.json": "dashscope",
    "whisper.json": "whisper",
    "whisperx.json": "whisperx",
    "call.vtt": "webvtt",
    "call.srt": "srt",
}

#: The findings of the call under the default ruleset, with its record saying the agent hung up:
#: (rule_id, utterance, start, end, matched).
EXPECTED_FINDINGS = [
    ("forbidden.shirk", 6, 58.0, 66.5, "没办法"),
    ("closing.anything_else", None, 12.3, 81.9, ""),  # the span of the last 4 agent utterances
    ("interruption", 5, 22.8, 27.2, "好的，请您稍等，我帮您查询一下。"),
    ("hangup", 8, 75.5, 81.9, "agent"),
    ("response_delay", 8, 69.0, 75.5, ""),
    ("speech_rate", None, 0.0, 81.9, "250 字/分钟"),
    # the conversation rules: 漏水 never restated; a 维修工单 created without its number
    ("sequence.confirm_problem", 3, 12.3, 18.9, ""),
    ("sequence.ticket_number", 6, 58.0, 66.5, "工单"),
]
EXPECTED_SCORE = 71.0
CDR = (
    "通话ID,录音文件,工号,坐席姓名,班组,开始时间,呼叫方向,挂机方\n"
    "20261121-0012,,A1024,王小明,售后一组,2026-11-21 10:00:12,呼入,坐席挂机\n"
)


def _load(path: Path) -> list[Transcript | InputProblem]:
    return list(load_all([path]))


def _one(path: Path) -> Transcript:
    items = _load(path)
    assert len(items) == 1 and isinstance(items[0], Transcript), items
    return items[0]


@pytest.mark.parametrize("name", VENDOR_FILES)
def test_fixture_loads_into_the_canonical_call(name: str) -> None:
    t = _one(FIXTURES / name)
    assert t.format == EXPECTED_FORMAT[name]
    t = assign_roles(t)
    assert isinstance(t, Transcript)
    got = [(u.speaker, u.start, u.end, fold(u.text)) for u in t.utterances]
    want = [(s, a, b, fold(x)) for s, a, b, x in CANONICAL]
    if name == "whisper.json":  # no speaker labels at all: roles are a flagged guess
        assert [g[1:] for g in got] == [w[1:] for w in want]
        assert t.role_source == "uncertain"
    else:
        assert got == want
        assert t.role_source in ("given", "detected")


@pytest.mark.parametrize("name", VENDOR_FILES)
def test_same_call_same_findings_and_score_with_its_call_record(name: str, tmp_path: Path) -> None:
    copy_as(name, tmp_path / "in")
    cdr = tmp_path / "cdr.csv"
    cdr.write_text(CDR, encoding="utf-8")
    summary = audit([tmp_path / "in"], out=tmp_path / "out", options=ExportOptions(calls=cdr))
    assert summary.calls_audited == 1 and summary.input_errors == 0
    assert summary.transcripts_without_record == 0 and summary.records_without_transcript == 0
    findings = [
        orjson.loads(x) for x in (tmp_path / "out" / "findings.jsonl").read_bytes().splitlines()
    ]
    got = [(f["rule_id"], f["utterance"], f["start"], f["end"], f["matched"]) for f in findings]
    assert {f["call_id"] for f in findings} == {"20261121-0012"}
    assert {f["agent_id"] for f in findings} == {"A1024"}
    if name == "whisper.json":
        # roles guessed per utterance: 「嗯。」 goes to the customer, so only the measured
        # speech rate differs; every finding is on the same utterance at the same time
        assert [g[:4] for g in got] == [e[:4] for e in EXPECTED_FINDINGS]
    else:
        assert got == EXPECTED_FINDINGS
    calls = (tmp_path / "out" / "calls.csv").read_text(encoding="utf-8").splitlines()
    row = dict(zip(calls[0].split(","), calls[1].split(","), strict=False))
    assert float(row["score"]) == EXPECTED_SCORE
    assert (row["agent_name"], row["team"], row["direction"], row["hangup_by"]) == (
        "王小明",
        "售后一组",
        "inbound",
        "agent",
    )
    assert row["started_at"] == "2026-11-21T10:00:12"
    assert row["format"] == EXPECTED_FORMAT[name]


@pytest.mark.parametrize("name", [n for n in VENDOR_FILES if n.endswith(".json")])
def test_json_shape_detected_from_content_not_name(name: str, tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    target.write_bytes((FIXTURES / name).read_bytes())
    assert _one(target).format == EXPECTED_FORMAT[name]


def test_csqa_json_is_still_csqa() -> None:
    assert detect_json({"call_id": "c", "agent_id": "a", "utterances": []}) is None


def test_unknown_json_shape_is_one_line_naming_the_file(tmp_path: Path) -> None:
    f = tmp_path / "odd.json"
    f.write_text('{"foo": 1, "bar": []}', encoding="utf-8")
    [p] = _load(f)
    assert isinstance(p, InputProblem) and p.status == "error"
    assert str(p).startswith(f"{f}: 无法识别的 JSON 结构(顶层:foo, bar)")
    assert "\n" not in str(p)


def test_csqa_json_without_utterances_names_the_missing_field(tmp_path: Path) -> None:
    """#17: it was "unknown JSON shape"; csqa's own call keys show what it was meant to be."""
    f = tmp_path / "c1.json"
    f.write_text('{"call_id": "C1", "agent_id": "A1", "turns": []}', encoding="utf-8")
    summary = audit([f], out=tmp_path / "out")
    [p] = summary.problems
    assert str(p) == (f'{f}: utterances: 缺失,不是 csqa 通话(应为 {{"call_id", '
                      '"agent_id", "utterances": [{"speaker", "start", "end", "text"}, …]})')


def test_format_forced(tmp_path: Path) -> None:
    f = copy_as("alibaba.json", tmp_path)
    [t] = list(load_all([f], fmt="alibaba"))
    assert isinstance(t, Transcript) and t.format == "alibaba"
    [p] = list(load_all([f], fmt="tencent"))
    assert isinstance(p, InputProblem)
    assert (
        str(p) == f"{f}: 不是 tencent 导出(Tencent Cloud 录音文件识别 (Data.ResultDetail, ms))"
    )
    with pytest.raises(InputError, match="--input-format nope: 未知的格式;可选:csqa, "):
        forced("nope")


def _fixture(name: str) -> Any:
    return orjson.loads((FIXTURES / name).read_bytes())


def _write(tmp_path: Path, data: Any, name: str = "x.json") -> Path:
    f = tmp_path / name
    f.write_bytes(orjson.dumps(data))
    return f


def _speakers_times(t: Transcript) -> list[tuple[str, float, float, str]]:
    return [(u.speaker, u.start, u.end, fold(u.text)) for u in t.utterances]


def test_aws_items_without_audio_segments_rebuild_the_turns(tmp_path: Path) -> None:
    for name in ("aws_transcribe_channels.json", "aws_transcribe_speakers.json"):
        data = _fixture(name)
        full = _one(FIXTURES / name)
        del data["results"]["audio_segments"]
        t = _one(_write(tmp_path, data))
        assert _speakers_times(t) == _speakers_times(full), name
    # channel output with no speaker_labels and no segments: turns from items and pauses
    data = _fixture("aws_transcribe_speakers.json")
    del data["results"]["audio_segments"]
    del data["results"]["speaker_labels"]["segments"]
    t = _one(_write(tmp_path, data))
    assert _speakers_times(t) == _speakers_times(_one(FIXTURES / "aws_transcribe_speakers.json"))


def test_aws_without_speakers_or_channels_is_refused_with_the_reason(tmp_path: Path) -> None:
    data = _fixture("aws_transcribe_speakers.json")
    del data["results"]["speaker_labels"]
    [p] = _load(_write(tmp_path, data))
    assert isinstance(p, InputProblem)
    assert "既没有 speaker_labels 也没有 channel_labels" in p.reason


def test_tencent_sdk_shape_without_response_wrapper(tmp_path: Path) -> None:
    data = _fixture("tencent.json")["Response"]
    t = _one(_write(tmp_path, data))
    assert t.format == "tencent" and len(t.utterances) == 9


def test_tencent_without_result_detail_says_how_to_get_it(tmp_path: Path) -> None:
    data = _fixture("tencent.json")
    data["Response"]["Data"]["ResultDetail"] = []
    [p] = _load(_write(tmp_path, data))
    assert isinstance(p, InputProblem)
    assert p.reason.startswith(
        "tencent: Data.ResultDetail: 缺失或为空(创建任务时设 ResTextFormat>=1"
    )


def test_alibaba_legacy_snake_case_callback(tmp_path: Path) -> None:
    data = _fixture("alibaba.json")
    legacy = {
        "task_id": "t",
        "status_code": 21050000,
        "status_text": "SUCCESS",
        "result": [
            {
                "channel_id": s["ChannelId"],
                "begin_time": s["BeginTime"],
                "end_time": s["EndTime"],
                "text": s["Text"],
            }
            for s in data["Result"]["Sentences"]
        ],
    }
    t = _one(_write(tmp_path, legacy))
    assert _speakers_times(t) == _speakers_times(_one(FIXTURES / "alibaba.json"))


def test_alibaba_missing_time_names_the_sentence(tmp_path: Path) -> None:
    data = _fixture("alibaba.json")
    del data["Result"]["Sentences"][2]["BeginTime"]
    f = _write(tmp_path, data)
    [p] = _load(f)
    assert str(p) == f"{f}: alibaba: Result.Sentences[2].BeginTime: 缺失"


def test_alibaba_failed_task(tmp_path: Path) -> None:
    data = {"TaskId": "t", "StatusText": "FILE_DOWNLOAD_FAILED", "StatusCode": 41050002}
    [p] = _load(_write(tmp_path, data))
    assert p.reason == (
        "alibaba: 阿里云任务未成功:StatusText 'FILE_DOWNLOAD_FAILED'"
        "(StatusCode 41050002)"
    )


def test_iflytek_unfinished_order(tmp_path: Path) -> None:
    data = _fixture("iflytek.json")
    data["content"]["orderInfo"]["status"] = 3
    data["content"]["orderResult"] = ""
    [p] = _load(_write(tmp_path, data))
    assert p.reason == "iflytek: 讯飞订单尚未完成:orderInfo.status 3(4 = 完成)"


def test_iflytek_without_track_labels_is_diarization(tmp_path: Path) -> None:
    data = _fixture("iflytek.json")
    result = orjson.loads(data["content"]["orderResult"])
    del result["label"]
    data["content"]["orderResult"] = orjson.dumps(result).decode()
    t = _one(_write(tmp_path, data))
    assert t.speaker_kind == "speaker"
    assert {u.speaker for u in t.utterances} == {"1", "2"}


def test_funasr_pieces_are_merged_into_turns() -> None:
    data = _fixture("funasr.json")
    assert len(data[0]["sentence_info"]) == 25
    assert len(_one(FIXTURES / "funasr.json").utterances) == 9


def test_funasr_without_sentence_info(tmp_path: Path) -> None:
    data = _fixture("funasr.json")
    del data[0]["sentence_info"]
    [p] = _load(_write(tmp_path, data))
    assert p.call_id == "call_20261121_0012"
    assert p.reason.startswith("funasr: [0].sentence_info: 缺失(运行 FunASR 时加 spk_model")


def test_whisperx_segment_without_speaker_takes_its_words_majority(tmp_path: Path) -> None:
    data = _fixture("whisperx.json")
    del data["segments"][1]["speaker"]
    t = _one(_write(tmp_path, data))
    assert t.utterances[1].speaker == "SPEAKER_01"


def test_subtitle_cue_without_speaker_names_its_line(tmp_path: Path) -> None:
    text = (FIXTURES / "call.srt").read_text(encoding="utf-8").replace("客户：订单号", "订单号")
    f = tmp_path / "bad.srt"
    f.write_text(text, encoding="utf-8")
    [p] = _load(f)
    assert str(p) == f"{f}:18: 字幕没有说话人:应为 '<v 坐席>文字' 或 '坐席：文字'"


def test_vtt_must_start_with_header(tmp_path: Path) -> None:
    f = tmp_path / "bad.vtt"
    f.write_text("00:00:01.000 --> 00:00:02.000\n<v 坐席>您好\n", encoding="utf-8")
    [p] = _load(f)
    assert str(p) == f"{f}:1: 不是 WebVTT 文件:第一行应为 'WEBVTT'"


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_subtitles_in_gbk_and_bom(encoding: str, tmp_path: Path) -> None:
    f = tmp_path / "call.srt"
    f.write_bytes((FIXTURES / "call.srt").read_text(encoding="utf-8").encode(encoding))
    assert _speakers_times(_one(f)) == _speakers_times(_one(FIXTURES / "call.srt"))


def test_vendor_metrics_are_not_used(tmp_path: Path) -> None:
    """AWS's own interruption count and Alibaba's SpeechRate do not change csqa's findings."""
    data = _fixture("aws_call_analytics.json")
    data["ConversationCharacteristics"]["Interruptions"]["TotalCount"] = 0
    ali = _fixture("alibaba.json")
    for s in ali["Result"]["Sentences"]:
        s["SpeechRate"] = 120
    for d, n in ((data, "a.json"), (ali, "b.json")):
        t = _one(_write(tmp_path, copy.deepcopy(d), n))
        assert [u.text for u in t.utterances] == [c[3] for c in CANONICAL]


def _paths(o: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(o, dict):
        for k, v in o.items():
            out += _paths(v, (*path, k))
    elif isinstance(o, list):
        for i, v in enumerate(o[:3]):
            out += _paths(v, (*path, i))
    return out


@pytest.mark.parametrize("name", [n for n in VENDOR_FILES if n.endswith(".json")])
def test_damaged_exports_give_one_line_errors_never_exceptions(name: str, tmp_path: Path) -> None:
    """Any field replaced by a value of the wrong type: a clean problem or a call, no traceback."""
    import random

    rng = random.Random(name)
    data = _fixture(name)
    paths = _paths(data)[1:]
    junk: list[Any] = [None, "x", -3, [], {}, True, "", 1.5, [1, 2], {"a": 1}]
    f = tmp_path / name
    for _ in range(60):
        d = copy.deepcopy(data)
        node: Any = d
        path = rng.choice(paths)
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = rng.choice(junk)
        f.write_bytes(orjson.dumps(d))
        for item in load_all([f]):
            if isinstance(item, Transcript):
                assign_roles(item)
            else:
                assert str(item).startswith(f"{f}: ") and "\n" not in str(item)
                assert len(str(item)) < len(str(f)) + 300


def test_aws_speaker_segments_split_at_short_pauses_are_one_turn(tmp_path: Path) -> None:
    data = _fixture("aws_transcribe_speakers.json")
    del data["results"]["audio_segments"]
    segments = data["results"]["speaker_labels"]["segments"]
    first = segments[0]
    half = len(first["items"]) // 2
    tail = {**first, "start_time": first["items"][half]["start_time"], "items": first["items"][half:]}
    first.update(end_time=first["items"][half - 1]["end_time"], items=first["items"][:half])
    segments.insert(1, tail)
    t = _one(_write(tmp_path, data))
    assert _speakers_times(t) == _speakers_times(_one(FIXTURES / "aws_transcribe_speakers.json"))


def _exports_of(turns: list[tuple[float, float, str, str]], dest: Path) -> list[Path]:
    """Every vendor's export of ``turns``, written by the fixtures' own generator into ``dest``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_fixtures", FIXTURES / "gen_fixtures.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    dest.mkdir()
    gen.HERE, gen.TURNS = str(dest), turns
    for make in (gen.alibaba, gen.tencent, gen.iflytek, gen.aws_ca, gen.aws_speakers,
                 gen.aws_channels, gen.funasr, gen.dashscope, gen.whisper, gen.whisperx,
                 gen.subtitles):
        make()
    return [dest / name for name in VENDOR_FILES]


def test_a_call_without_overlap_scores_the_same_from_every_vendor(tmp_path: Path) -> None:
    """Issue #17: FunASR (and other diarized) exports of a call in which nobody talks over
    anybody were read as mono recordings: interruption not evaluable, other deductions scaled."""
    # the fixture call with the agent's 好的,请您稍等 moved after the customer's order number
    turns = [(s, e, "A" if who == "agent" else "C", text) for who, s, e, text in CANONICAL]
    turns[5] = (24.4, 27.2, "A", turns[5][3])
    cdr = tmp_path / "cdr.csv"
    cdr.write_text(CDR, encoding="utf-8")
    results = {}
    for path in _exports_of(turns, tmp_path / "gen"):
        (tmp_path / path.name / "in").mkdir(parents=True)
        shutil.copy(path, tmp_path / path.name / "in" / ("20261121-0012" + path.suffix))
        out = tmp_path / path.name / "out"
        audit([tmp_path / path.name / "in"], out=out, options=ExportOptions(calls=cdr))
        [row] = list(csv.DictReader((out / "calls.csv").open(encoding="utf-8")))
        findings = [orjson.loads(x) for x in (out / "findings.jsonl").read_bytes().splitlines()]
        results[path.name] = (
            float(row["score"]),
            row["not_evaluable"],
            [(f["rule_id"], f["utterance"], f["start"], f["end"]) for f in findings],
        )
    # the canonical call's findings and score without its interruption (3 points), evaluable
    # throughout, from every vendor alike
    expected = (
        EXPECTED_SCORE + 3,
        "",
        [f[:4] for f in EXPECTED_FINDINGS if f[0] != "interruption"],
    )
    assert results == dict.fromkeys(VENDOR_FILES, expected)
