"""``csqa check``: exit codes in each situation, quiet text, JSON, GitHub annotations, JUnit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from typer.testing import CliRunner

from csqa.cli import app

SCHEMA = Path(__file__).parent / "schemas" / "junit-10.xsd"

GOOD = """\
# call_id: C-GOOD
# agent_id: A2
[00:00:00.8-00:00:04.2] 坐席: 您好,很高兴为您服务,我是客服代表小王。
[00:00:04.6-00:00:09.0] 客户: 你好,我的洗衣机漏水了。
[00:00:09.5-00:00:12.0] 坐席: 您的意思是洗衣机漏水了,对吗?我帮您登记维修。
[00:00:12.5-00:00:14.0] 客户: 行,谢谢。
[00:00:14.5-00:00:17.0] 坐席: 请问您还有其他需要帮助的地方吗?
[00:00:17.5-00:00:18.5] 客户: 没有了。
[00:00:19.0-00:00:22.0] 坐席: 请问您对本次服务是否满意?
[00:00:22.5-00:00:23.5] 客户: 满意。
[00:00:24.0-00:00:27.0] 坐席: 感谢您的来电,祝您生活愉快,再见!
[00:00:28] <挂机: 客户>
"""

# passes the score (90 ≥ 80) but has a major finding (推诿, −5) and two minor ones
# (no 满意度询问 −3; 5.5 s before answering the customer's 没有了 −2)
MINOR = """\
# call_id: C-MAJOR
# agent_id: A2
[00:00:00.8-00:00:04.2] 坐席: 您好,很高兴为您服务,我是客服代表小王。
[00:00:04.6-00:00:09.0] 客户: 我想改一下收货地址。
[00:00:09.5-00:00:12.0] 坐席: 订单已经发出了,这个没办法改了。
[00:00:14.5-00:00:17.0] 坐席: 请问您还有其他需要帮助的地方吗?
[00:00:17.5-00:00:18.5] 客户: 没有了。
[00:00:24.0-00:00:27.0] 坐席: 感谢您的来电,祝您生活愉快,再见!
[00:00:28] <挂机: 客户>
"""

# a veto (谩骂) although the score alone would pass with --min-score 0
VETO = """\
# call_id: C-VETO
# agent_id: A1
[00:00:00.8-00:00:04.2] 坐席: 您好,很高兴为您服务,我是客服代表小李。
[00:00:04.6-00:00:09.0] 客户: 你们这什么破服务!
[00:00:09.5-00:00:12.0] 坐席: 你有病吧,大喊大叫的。
[00:00:14.5-00:00:17.0] 坐席: 请问您还有其他需要帮助的地方吗?请问您对本次服务是否满意?
[00:00:24.0-00:00:27.0] 坐席: 感谢您的来电,再见。
[00:00:28] <挂机: 客户>
"""

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    d = tmp_path / "calls"
    d.mkdir()
    (d / "good.txt").write_text(GOOD, encoding="utf-8")
    return d


def test_exit_0_when_every_call_passes(calls: Path) -> None:
    code, out, _ = run(str(calls))
    assert code == 0
    assert out == "检查 1 通通话:合格 1,不合格 0(合格线 80)\n"


def test_exit_1_on_score_with_one_quiet_line_per_failing_call(calls: Path) -> None:
    (calls / "minor.txt").write_text(MINOR, encoding="utf-8")
    code, out, _ = run(str(calls), "--min-score", "95")
    assert code == 1
    lines = out.splitlines()
    # 10 points lost; speech_rate (weight 2 of 228) is not evaluable on 11 s and 60 characters
    # of agent speech, nor are the outbound rules (3 + 2 + 3: the call's direction is unknown),
    # so the score is over what was evaluable: 100 − 10 × 228 / 218 = 89.54 (README, N/A model)
    assert lines == [
        f"不合格 {calls / 'minor.txt'} [C-MAJOR] 坐席 A2: 得分 89.54 低于 95 | "
        "forbidden.shirk −5 @00:09 “没办法”; closing.satisfaction −3 @00:09–00:27; "
        "response_delay −2 @00:18",
        "检查 2 通通话:合格 1,不合格 1(合格线 95)",
    ]


def test_fail_on_severity(calls: Path) -> None:
    (calls / "minor.txt").write_text(MINOR, encoding="utf-8")
    assert run(str(calls))[0] == 0  # 90 ≥ 80 and no veto
    assert run(str(calls), "--fail-on", "critical")[0] == 0
    code, out, _ = run(str(calls), "--fail-on", "major")
    assert code == 1
    assert "C-MAJOR] 坐席 A2: 1 条 major 及以上违规 | forbidden.shirk −5" in out
    code, out, _ = run(str(calls), "--fail-on", "minor")
    assert "3 条 minor 及以上违规" in out


def test_exit_1_on_veto_whatever_the_score(calls: Path) -> None:
    (calls / "veto.txt").write_text(VETO, encoding="utf-8")
    code, out, _ = run(str(calls), "--min-score", "0")
    assert code == 1
    assert ("[C-VETO] 坐席 A1: 一票否决:谩骂客户(一票否决) | "
            "forbidden.abuse −0 @00:09 “你有病吧”") in out


def test_exit_2_bad_ruleset_and_usage(calls: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    kind: forbiden_phrase\n", encoding="utf-8")
    code, _, err = run(str(calls), "--ruleset", str(bad))
    assert code == 2
    assert f"{bad}:3:11: rules[0].kind: 未知的规则类型 'forbiden_phrase'(是否应为 " \
           "'forbidden_phrase'?)" in err
    assert run(str(calls), "--fail-on", "fatal")[0] == 2
    assert run(str(calls), "--format", "xml")[0] == 2
    assert run(str(tmp_path / "missing"))[0] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(str(empty))
    assert code == 2 and "没有找到转写" in err


def test_exit_3_unreadable_input_wins_over_failures(calls: Path) -> None:
    (calls / "veto.txt").write_text(VETO, encoding="utf-8")
    (calls / "broken.jsonl").write_text('{"call_id": "X"\n', encoding="utf-8")
    code, out, err = run(str(calls))
    assert code == 3
    assert "[C-VETO]" in out  # the calls that were read are still checked and reported
    assert f"{calls / 'broken.jsonl'}:1: JSON 格式有误" in err
    assert out.splitlines()[-1] == "检查 2 通通话:合格 1,不合格 1(合格线 80);1 个输入无法读取"


def test_skipped_non_transcript_files_do_not_change_the_exit_code(calls: Path) -> None:
    (calls / "notes.md").write_text("# not a call", encoding="utf-8")
    assert run(str(calls))[0] == 0


def test_json_format(calls: Path) -> None:
    (calls / "veto.txt").write_text(VETO, encoding="utf-8")
    code, out, _ = run(str(calls), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["exit_code"] == 1
    assert doc["counts"] == {"calls": 2, "failed": 1, "input_errors": 0}
    veto = next(c for c in doc["calls"] if c["call_id"] == "C-VETO")
    assert veto["passed"] is False and veto["vetoed"] is True
    assert [(f["rule_id"], f["kind"], f["utterance"]) for f in veto["findings"]] == [
        ("forbidden.abuse", "forbidden_phrase", 2),
        # 你们这什么破服务 is a complaint, answered with abuse instead of empathy
        ("sequence.empathy_after_complaint", "sequence", 2),
        ("process.complaint_action", "sequence", 2)]  # … and no 尽快处理 after it


def test_github_annotations_exact(calls: Path) -> None:
    (calls / "veto.txt").write_text(VETO, encoding="utf-8")
    code, out, _ = run(str(calls), "--format", "github")
    f = str(calls / "veto.txt").replace(":", "%3A").replace(",", "%2C")
    assert code == 1
    assert out.splitlines() == [
        f"::error file={f},title=csqa check%3A C-VETO::"
        "通话 C-VETO 不合格:一票否决:谩骂客户(一票否决)",
        f"::error file={f},line=5,title=forbidden.abuse 谩骂客户(一票否决)::[00:09] "
        "谩骂客户:“你有病吧”(服务禁忌:责问、反问、训斥或谩骂客户)(−0 分)",
        # 你们这什么破服务 is a complaint: the answer (the abuse) also lacks empathy
        f"::warning file={f},line=5,title=sequence.empathy_after_complaint 投诉后先共情安抚::"
        "[00:09] 客户投诉/不满“什么破”(第 9.0 秒)后 30 秒且坐席 2 句内未共情安抚"
        "(规范:先共情再引导,如“非常抱歉给您带来不好的体验”“我理解您现在的心情”)(−5 分)",
        # … and never says it will be handled promptly (表示尽快处理)
        f"::warning file={f},line=5,title=process.complaint_action 接到投诉表示尽快处理::"
        "[00:09] 客户投诉/不满“什么破”(第 9.0 秒)后未表示尽快处理"
        "(规范:接到抱怨或投诉电话时,认真倾听、及时安抚,并表示尽快处理)(−2 分)",
        "检查 2 通通话:合格 1,不合格 1(合格线 80)",
    ]


def test_github_annotation_escaping() -> None:
    from csqa.reporters.ci import annotation

    assert annotation("warning", "50% done\nnext", "a,b:c.txt", 3, "t:1") == \
        "::warning file=a%2Cb%3Ac.txt,line=3,title=t%3A1::50%25 done%0Anext"


def test_junit_file_is_schema_valid_with_a_failure_per_finding(calls: Path, tmp_path: Path) -> None:
    (calls / "minor.txt").write_text(MINOR, encoding="utf-8")
    (calls / "veto.txt").write_text(VETO, encoding="utf-8")
    (calls / "broken.jsonl").write_text("not json\n", encoding="utf-8")
    junit = tmp_path / "out" / "junit.xml"
    junit.parent.mkdir()
    code, _, _ = run(str(calls), "--junit", str(junit), "--min-score", "95")
    assert code == 3
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(junit))
    assert "time=" not in junit.read_text(encoding="utf-8")
    assert [p.name for p in junit.parent.iterdir()] == ["junit.xml"]  # written whole, no temp left
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["坐席 A1", "坐席 A2", "输入错误"]
    a2 = suites["坐席 A2"]
    assert (a2.get("tests"), a2.get("failures")) == ("2", "1")
    cases = {c.get("name"): c for c in a2.findall("testcase")}
    assert cases["C-GOOD"].find("failure") is None
    failures = cases["C-MAJOR"].findall("failure")
    assert [(x.get("type"), x.get("message")) for x in failures] == [
        ("forbidden.shirk", "服务禁语(推诿客户):“没办法”"),
        ("closing.satisfaction",
         "未询问满意度:最后 3 句内缺少:满意度询问(标准:请问您对本次服务是否满意?)"),
        ("response_delay", "客户说完后 5.5 秒才回应(上限 5 秒)"),
    ]
    assert failures[0].text.splitlines()[0] == "[00:09-00:12] 坐席: 订单已经发出了,这个没办法改了。"
    assert cases["C-MAJOR"].get("classname") == "A2"
    err = suites["输入错误"].find("testcase/error")
    assert err is not None and "JSON 格式有误" in err.get("message", "")


def test_junit_on_stdout_grouped_by_folder(calls: Path) -> None:
    code, out, _ = run(str(calls), "--format", "junit", "--junit-group", "folder")
    assert code == 0
    xmlschema.XMLSchema(str(SCHEMA)).validate(out)
    root = ET.fromstring(out.encode())
    assert [s.get("name") for s in root.findall("testsuite")] == [f"目录 {calls}"]
    assert root.find("testsuite/testcase/system-out").text.startswith("得分 100;合格")


def test_github_annotations_point_at_the_utterance_line_in_json(tmp_path: Path) -> None:
    call = {"call_id": "J-1", "agent_id": "A9", "hangup_by": "customer", "utterances": [
        {"speaker": "agent", "start": 0.5, "end": 4.0, "text": "您好,我是客服代表小李,很高兴为您服务。"},
        {"speaker": "customer", "start": 4.5, "end": 6.0, "text": "你们什么破服务!"},
        {"speaker": "agent", "start": 6.5, "end": 8.0, "text": "你有病吧。"},
    ]}
    f = tmp_path / "j.json"
    f.write_text(json.dumps(call, ensure_ascii=False, indent=2), encoding="utf-8")
    text_line = next(i for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
                     if "你有病吧" in line)
    code, out, _ = run(str(f), "--format", "github")
    assert code == 1
    abuse = next(line for line in out.splitlines() if "title=forbidden.abuse" in line)
    assert abuse.startswith(f"::error file={f},line={text_line},title=forbidden.abuse ")


def test_github_annotates_unreadable_inputs(calls: Path) -> None:
    bad = calls / "broken.txt"
    bad.write_text("# agent_id: A1\n[00:00:01.0-00:00:02.0] 机器人: 你好\n", encoding="utf-8")
    code, out, _ = run(str(calls), "--format", "github")
    assert code == 3
    assert out.splitlines() == [
        f"::error file={bad},line=2,title=csqa%3A 输入无法读取::speaker: 无法识别的说话人 '机器人'"
        "(应为 agent/坐席/客服 或 customer/客户/顾客)",
        "检查 1 通通话:合格 1,不合格 0(合格线 80);1 个输入无法读取",
    ]


def test_junit_drops_characters_xml_cannot_carry(tmp_path: Path) -> None:
    f = tmp_path / "c.jsonl"
    f.write_text(json.dumps({"call_id": "X\u0001", "agent_id": "A1", "utterances": [
        {"speaker": "agent", "start": 0.5, "end": 3, "text": "你有病吧\u000b\u0008"}]},
        ensure_ascii=True) + "\n", encoding="utf-8")
    code, out, _ = run(str(f), "--format", "junit")
    assert code == 1
    xmlschema.XMLSchema(str(SCHEMA)).validate(out)
    root = ET.fromstring(out.encode())
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == "X"
    assert case.find("failure[@type='forbidden.abuse']").text.startswith(
        "[00:00-00:03] 坐席: 你有病吧\n")


# 满意度询问 missing: the last three agent utterances hold 「不关我的事。」, which the finding
# must not show as its evidence (#17)
NO_SATISFACTION = """\
# call_id: C-NOSAT
# agent_id: A3
[00:00:00.8-00:00:04.2] 坐席: 您好,很高兴为您服务,我是客服代表小王。
[00:00:04.6-00:00:09.0] 客户: 快递一直没到,你们管不管?
[00:00:09.5-00:00:11.0] 坐席: 不关我的事。
[00:00:12.0-00:00:15.0] 坐席: 请问您还有其他需要帮助的地方吗?
[00:00:16.0-00:00:17.0] 客户: 没有了。
[00:00:18.0-00:00:21.0] 坐席: 感谢您的来电,祝您生活愉快,再见!
[00:00:22] <挂机: 客户>
"""


def test_missing_wording_names_the_span_not_an_utterance(tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text(NO_SATISFACTION, encoding="utf-8")
    junit = tmp_path / "r.xml"
    code, out, _ = run(str(tmp_path / "c.txt"), "--format", "github", "--junit", str(junit),
                       "--min-score", "99")
    assert code == 1
    [annotation] = [line for line in out.splitlines() if "closing.satisfaction" in line]
    assert annotation.endswith("::[00:09–00:21] 未询问满意度:最后 3 句内缺少:满意度询问"
                               "(标准:请问您对本次服务是否满意?)(−3 分)")
    [failure] = [f for f in ET.parse(junit).iter("failure")
                 if f.get("type") == "closing.satisfaction"]
    assert failure.text.splitlines()[0] == "[00:09-00:21] 时段"
    assert "不关我的事" not in failure.text


def test_check_jobs_give_the_same_report(tmp_path: Path) -> None:
    """``check -j`` audits on worker processes through the one pipeline (600 calls: three
    batches, so -j 2 uses the pool) and reports exactly what one process does."""
    from csqa.synth import write_corpus

    corpus = write_corpus(600, tmp_path / "synth", seed=3)
    reports = {}
    for jobs in ("1", "2"):
        code, out, _ = run(str(corpus), "--format", "json", "-j", jobs)
        reports[jobs] = (code, out)
    assert reports["1"] == reports["2"]
    code, out = reports["1"]
    data = json.loads(out)
    assert code == 1 and len(data["calls"]) == 600


def test_junit_through_a_symbolic_link_is_refused(calls: Path, tmp_path: Path) -> None:
    (calls / "minor.txt").write_text(MINOR, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere.xml"
    elsewhere.write_text("kept", encoding="utf-8")
    link = tmp_path / "junit.xml"
    link.symlink_to(elsewhere)
    code, _, err = run(str(calls), "--junit", str(link))
    assert code == 2
    assert f"{link}:无法写入 JUnit XML:是符号链接,拒绝写入(输出不会经由链接写到别处)" in err
    assert elsewhere.read_text(encoding="utf-8") == "kept"
