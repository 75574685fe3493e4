"""Three nightly ``csqa audit`` runs built with the real engine, for the report's golden tests.

Ruleset ``weekly`` (pass mark 80): blame 责问客户 −15, abuse 辱骂客户 −30 veto, greeting 开场白 −5.
Call shapes: G 100 · N (no greeting) 95 · B (one blame) 85 · BB 70 · VB (blame + abuse) 55 veto
· NB (no greeting + blame) 80 (passes: the pass mark is inclusive).

ISO week 2026-W47 is Mon 2026-11-16 to Sun 2026-11-22; the report's zone is Asia/Shanghai.

run1 ``nightly-1118`` (audited 2026-11-18T20:00Z)::

    w47-a1-1  A1 一组  2026-11-16T00:00:00+08:00   G   first second of W47
    w47-a1-2  A1 一组  2026-11-17T10:00:00+08:00   B
    dup-1     A1 一组  2026-11-18T09:00:00 (naive) B   re-audited by run2 as G (latest wins)
    w47-a2-1  A2 一组  2026-11-15T12:30:00-05:00   BB  = Mon 11-16 01:30 in Shanghai: W47
    w46-a1-1  A1 一组  2026-11-15T23:59:59+08:00   BB  last second of W46
    w46-a1-2  A1 一组  2026-11-10T09:00:00+08:00   G
    w46-b1-1  B1 二组  2026-11-12T09:00:00+08:00   N

run3 ``old-rules`` (audited 2026-11-20T20:00Z, ruleset ``weekly`` v0 with blame −10)::

    old-1     A2 一组  2026-11-19T10:00:00+08:00   G   different ruleset: not counted

run2 ``nightly-1122`` (audited 2026-11-22T20:00Z)::

    dup-1     A1 一组  2026-11-18T09:00:00         G
    w47-a2-2  A2 一组  2026-11-20T14:00:00+08:00   N
    w47-b1-1  B1 二组  2026-11-22T15:59:00Z        VB  = Sun 23:59 in Shanghai: W47
    w48-b1-1  B1 二组  2026-11-22T16:00:00Z        G   = Mon 11-23 00:00 in Shanghai: W48
    w47-x-1   X1 (no team) 2026-11-19T08:00:00+08:00 NB  agent name is a formula
    nodate    A1 一组  (no started_at)             G
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from csqa.api import audit

RULESET = """\
name: weekly
version: "{version}"
scoring: {{base: 100, pass_mark: 80}}
rules:
  - id: blame
    kind: forbidden_phrase
    name: 责问客户
    severity: major
    points: {blame}
    message: "责问客户:“{{matched}}”"
    phrases: [我怎么知道]
  - id: abuse
    kind: forbidden_phrase
    name: 辱骂客户
    severity: critical
    points: 30
    veto: true
    message: "辱骂客户:“{{matched}}”"
    phrases: [你有病吧]
  - id: greeting
    kind: greeting
    name: 开场白
    severity: minor
    points: 5
    message: "开场白不完整"
"""

AGENTS = {"A1": ("张三", "一组"), "A2": ("李四", "一组"), "B1": ("王五", "二组"),
          "X1": ("=cmd|' /C calc'!A0", None)}
SCRIPT_LINE = "我怎么知道<script>alert(1)</script>"


def _utterances(shape: str, customer: str) -> list[dict[str, Any]]:
    first = "喂,请讲" if shape.startswith("N") else "您好,很高兴为您服务"
    out = [{"speaker": "坐席", "start": 0.5, "end": 3.0, "text": first},
           {"speaker": "客户", "start": 3.5, "end": 8.0, "text": customer}]
    agent = {"G": [], "N": [], "B": ["这个我怎么知道"], "BB": ["我怎么知道", "你问我我怎么知道"],
             "VB": [SCRIPT_LINE, "你有病吧"], "NB": ["我怎么知道啊"]}[shape]
    t = 9.0
    for text in agent:
        out.append({"speaker": "坐席", "start": t, "end": t + 2.0, "text": text})
        t += 5.0
    out.append({"speaker": "坐席", "start": t, "end": t + 2.0, "text": "感谢来电,再见"})
    return out


def _call(call_id: str, agent: str, started_at: str | None, shape: str, customer: str
          ) -> dict[str, Any]:
    name, team = AGENTS[agent]
    obj: dict[str, Any] = {"call_id": call_id, "agent_id": agent, "agent_name": name,
                           "utterances": _utterances(shape, customer)}
    if team:
        obj["team"] = team
    if started_at:
        obj["started_at"] = started_at
    return obj


RUN1 = [
    ("w47-a1-1", "A1", "2026-11-16T00:00:00+08:00", "G", "我家宽带断网了,宽带一直连不上"),
    ("w47-a1-2", "A1", "2026-11-17T10:00:00+08:00", "B", "宽带断网好几天了"),
    ("dup-1", "A1", "2026-11-18T09:00:00", "B", "积分兑换积分清零"),
    ("w47-a2-1", "A2", "2026-11-15T12:30:00-05:00", "BB", "退款什么时候到账,退款"),
    ("w46-a1-1", "A1", "2026-11-15T23:59:59+08:00", "BB", "话费账单有问题"),
    ("w46-a1-2", "A1", "2026-11-10T09:00:00+08:00", "G", "话费账单"),
    ("w46-b1-1", "B1", "2026-11-12T09:00:00+08:00", "N", "话费账单多扣钱"),
]
RUN2 = [
    ("dup-1", "A1", "2026-11-18T09:00:00", "G", "宽带套餐怎么升级"),
    ("w47-a2-2", "A2", "2026-11-20T14:00:00+08:00", "N", "退款到账了吗"),
    ("w47-b1-1", "B1", "2026-11-22T15:59:00Z", "VB", "宽带断网,<b>投诉</b>"),
    ("w48-b1-1", "B1", "2026-11-22T16:00:00Z", "G", "发票怎么开发票"),
    ("w47-x-1", "X1", "2026-11-19T08:00:00+08:00", "NB", "=SUM(A1:A9) 宽带"),
    ("nodate", "A1", None, "G", "发票"),
]
RUN3 = [("old-1", "A2", "2026-11-19T10:00:00+08:00", "G", "销户销户销户")]


def _make_run(base: Path, name: str, calls: list[tuple[Any, ...]], audited_at: str,
              version: str = "1", blame: int = 15, rules_text: str | None = None) -> Path:
    src = base / f"{name}-in"
    src.mkdir()
    for c in calls:
        (src / f"{c[0]}.json").write_text(json.dumps(_call(*c), ensure_ascii=False),
                                          encoding="utf-8")
    rules = base / f"{name}-rules.yaml"
    rules.write_text(rules_text or RULESET.format(version=version, blame=blame),
                     encoding="utf-8")
    out = base / name
    audit([src], ruleset=rules, out=out)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    run["started_at"] = audited_at  # as if audited that night
    (out / "run.json").write_text(json.dumps(run, ensure_ascii=False), encoding="utf-8")
    return out


def make_runs(base: Path) -> dict[str, Path]:
    """Audit the three runs into ``base``; returns {name: output folder}."""
    return {
        "run1": _make_run(base, "nightly-1118", RUN1, "2026-11-18T20:00:00+00:00"),
        "run2": _make_run(base, "nightly-1122", RUN2, "2026-11-22T20:00:00+00:00"),
        "run3": _make_run(base, "old-rules", RUN3, "2026-11-20T20:00:00+00:00",
                          version="0", blame=10),
    }
