"""``csqa rules show``: the resolved ruleset with each value's provenance."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from csqa.cli import app

runner = CliRunner()

TEAM = """\
name: team-a
extends: default
scoring: {pass_mark: 85}
rules:
  - id: forbidden.blame
    points: 6
  - id: hangup
    enabled: false
  - id: local.x
    kind: forbidden_phrase
    phrases: [搞不定]
"""

DEFAULT = Path(__file__).resolve().parent.parent / "src" / "csqa" / "data" / "default.yaml"


def _default_pos(text: str, key: str) -> str:
    """``<builtin:default>:LINE:COL`` of the value of ``key`` on the first line containing text."""
    lines = DEFAULT.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if text in line)
    i = next(i for i in range(start, len(lines))
             if lines[i].strip().lstrip("- ").startswith(f"{key}:"))
    col = lines[i].index(f"{key}:") + len(key) + 3
    return f"<builtin:default>:{i + 1}:{col}"


def show(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["rules", "show", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def _comment(line: str) -> tuple[str, str]:
    head, _, source = line.partition("# ")
    return head.rstrip(), source


def test_show_names_the_file_line_and_column_of_each_value(tmp_path: Path) -> None:
    f = tmp_path / "team.yaml"
    f.write_text(TEAM, encoding="utf-8")
    code, out = show(str(f))
    assert code == 0
    lines = [_comment(line) for line in out.splitlines()]
    assert out.splitlines()[0] == f"# 规则集 team-a 2026.11.1:<builtin:default> → {f}"
    assert ("name: team-a", f"{f}:1:7") in lines
    assert ("  pass_mark: 85", f"{f}:3:22") in lines
    assert ("  base: 100", _default_pos("scoring:", "base")) in lines
    rule_at = _default_pos("id: forbidden.blame", "id").rsplit(":", 1)[0] + ":5"  # the rule itself
    blame = lines.index(("  - id: forbidden.blame", rule_at))
    block = lines[blame:blame + 26]  # the phrase options (match, near …) come first
    assert ("    points: 6", f"{f}:6:13") in block
    assert ("    severity: major", _default_pos("id: forbidden.blame", "severity")) in block
    assert ("    veto: false", "默认值") in block
    assert ("    speaker: agent", "默认值 (forbidden_phrase)") in block
    assert ("    enabled: false", f"{f}:8:14") in lines
    local = lines.index(("  - id: local.x", f"{f}:9:5"))
    assert lines[local + 1] == ("    kind: forbidden_phrase", f"{f}:10:11")
    assert ("    phrases: [搞不定]", f"{f}:11:14") in lines[local:]
    assert ("    points: 0", "默认值") in lines[local:]


def test_show_json(tmp_path: Path) -> None:
    f = tmp_path / "team.yaml"
    f.write_text(TEAM, encoding="utf-8")
    code, out = show(str(f), "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["files"] == ["<builtin:default>", str(f)]
    assert doc["scoring"]["pass_mark"] == {"value": 85.0, "from": f"{f}:3:22"}
    hangup = next(r for r in doc["rules"] if r["id"]["value"] == "hangup")
    assert hangup["enabled"] == {"value": False, "from": f"{f}:8:14"}
    assert hangup["forbidden_side"] == {"value": "agent", "from": "默认值 (hangup)"}


def test_show_rejects_a_bad_ruleset_like_audit(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("extends: defualt\n", encoding="utf-8")
    result = runner.invoke(app, ["rules", "show", str(f)])
    assert result.exit_code == 2
    assert "defualt: 找不到规则集(是否应为 'default'?)" in result.stderr
