"""JUnit XML for ``csqa check --junit``: CI servers show each call as a test.

- ``<testsuites>`` holds a ``<testsuite>`` per agent (or per folder, ``group="folder"``);
- each call is a ``<testcase name=CALL_ID classname=AGENT_ID>``;
- a failing call gets a ``<failure>`` per finding (type = rule id, message = the finding's
  message, text = time, speaker and evidence), and one more for a reason no finding
  carries (a rule that could not run is an ``<error>``); a passing call's findings, if any,
  go to its ``<system-out>`` so they are visible without turning the build red;
- unreadable inputs are ``<testcase>`` s with an ``<error>`` in a suite named ``输入错误``.

Valid against the Jenkins xUnit ``junit-10.xsd`` (tests/schemas/junit-10.xsd).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from csqa.gate import CallVerdict, CheckReport
from csqa.model import Finding, shown_name
from csqa.reporters.ci import clock

SPEAKER_LABELS = {"agent": "坐席", "customer": "客户"}
# characters XML 1.0 cannot carry even escaped (ASR output sometimes has them)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean(root: ET.Element) -> None:
    """Drop characters XML 1.0 forbids from every attribute and text, so CI can parse it."""
    for el in root.iter():
        if el.text:
            el.text = _NOT_XML.sub("", el.text)
        for key, value in el.attrib.items():
            el.set(key, _NOT_XML.sub("", value))


def _finding_text(f: Finding, location: str) -> str:
    # a finding on no utterance is about a stretch: the whole call (speech rate) or where
    # missing wording was expected; its times say which
    who = SPEAKER_LABELS.get(f.speaker or "", "时段")
    lines = [f"[{clock(f.start)}-{clock(f.end)}] {who}: {f.evidence}" if f.evidence
             else f"[{clock(f.start)}-{clock(f.end)}] {who}",
             f"规则 {f.rule_id}({f.name},{f.kind},{f.severity})扣 {f.points:g} 分",
             f"来源 {location}"]
    return "\n".join(lines)


def _testcase(v: CallVerdict) -> ET.Element:
    t = v.result.transcript
    # no ``time``: CI servers read it as how long the test ran, not how long the call was
    case = ET.Element("testcase", name=t.call_id, classname=t.agent_id)
    verdict = (f"得分 {v.result.score:g};" + ("不合格:" + ";".join(v.reasons) if v.failed
                                                 else "合格"))
    if v.failed:
        for f in v.result.findings:
            el = ET.SubElement(case, "failure", type=f.rule_id, message=f.message)
            el.text = _finding_text(f, t.location)
        for rid, error in v.result.rule_errors.items():
            el = ET.SubElement(case, "error", type=rid, message=f"规则 {rid} 无法运行")
            el.text = error
        if not v.result.findings and not v.result.rule_errors:
            el = ET.SubElement(case, "failure", type="score", message=";".join(v.reasons))
            el.text = verdict
    out = ET.SubElement(case, "system-out")
    body = [verdict, f"来源 {t.location}"]
    if not v.failed:
        body.extend(_finding_text(f, t.location) for f in v.result.findings)
    out.text = "\n".join(body)
    return case


def _suite(name: str, cases: list[ET.Element], file: str | None = None) -> ET.Element:
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("failure") is None and c.find("error") is not None)
    suite = ET.Element("testsuite", name=name, tests=str(len(cases)), failures=str(failures),
                       errors=str(errors), skipped="0")
    if file:
        suite.set("file", file)
    suite.extend(cases)
    return suite


def junit_xml(report: CheckReport, group: str = "agent") -> bytes:
    """The report as JUnit XML (UTF-8 bytes, with declaration)."""
    groups: dict[str, list[CallVerdict]] = defaultdict(list)
    for v in report.verdicts:
        t = v.result.transcript
        key = shown_name(str(Path(t.source).parent)) if group == "folder" else t.agent_id
        groups[key].append(v)
    root = ET.Element("testsuites", name=f"csqa check ({report.ruleset.name})")
    for key in sorted(groups):
        label = f"目录 {key}" if group == "folder" else f"坐席 {key}"
        root.append(_suite(label, [_testcase(v) for v in groups[key]]))
    if report.input_errors:
        cases = []
        for p in report.input_errors:
            case = ET.Element("testcase", name=p.location(), classname="input")
            el = ET.SubElement(case, "error", type="input", message=p.reason)
            el.text = str(p)
            cases.append(case)
        root.append(_suite("输入错误", cases))
    suites = list(root)
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in suites)))
    root.set("errors", str(sum(int(s.get("errors", "0")) for s in suites)))
    _clean(root)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
