"""``csqa rules show``: the fully resolved ruleset, each value with where it came from.

Every value is either ``file:line:col`` of the file in the ``extends`` chain that set it last,
or ``默认值`` (the built-in default of csqa or of the rule's kind). The text form is shaped like
the ruleset YAML, with the provenance as comments (examples are summarised, not repeated);
``--format json`` gives ``{"value": …, "from": …}`` per key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml
from rich.cells import cell_len

from csqa.ruleset import Rule, Ruleset

DEFAULT = "默认值"
COMMON = ("id", "kind", "name", "category", "description", "message", "severity", "points",
          "max_points", "veto", "enabled")
COMMENT_COLUMN = 56


def _rule_values(rule: Rule) -> Iterator[tuple[str, Any, str]]:
    """(key, value, from) for every key of a resolved rule, common keys first."""
    values: dict[str, Any] = {
        "id": rule.id, "kind": rule.kind, "name": rule.name, "category": rule.category,
        "description": rule.description, "message": rule.message, "severity": rule.severity,
        "points": rule.points, "max_points": rule.max_points, "veto": rule.veto,
        "enabled": rule.enabled,
    }
    for key in COMMON:
        if key == "id":
            yield key, values[key], rule.source
            continue
        if key in ("name", "category", "description", "message", "max_points") \
                and values[key] is None:
            continue
        yield key, values[key], rule.where(key) or DEFAULT
    params = rule.params.model_dump(mode="json")
    for key, value in params.items():
        yield key, value, rule.where(key) or f"{DEFAULT} ({rule.kind})"
    if rule.examples is not None:
        yield "examples", rule.examples, rule.where("examples") or DEFAULT


def resolved(rs: Ruleset) -> dict[str, Any]:
    """The resolved ruleset as data, every value as ``{"value": …, "from": …}``."""
    prov = rs.provenance

    def entry(value: Any, key: str) -> dict[str, Any]:
        return {"value": value, "from": prov.get(key, DEFAULT)}

    return {
        "files": rs.files,
        "name": entry(rs.name, "name"),
        "version": entry(rs.version, "version"),
        "description": entry(rs.description, "description"),
        "scoring": {"base": entry(rs.base_score, "scoring.base"),
                    "pass_mark": entry(rs.pass_mark, "scoring.pass_mark")},
        "normalize": {"fillers": entry(list(rs.fillers), "normalize.fillers")},
        "rules": [{k: {"value": v, "from": f} for k, v, f in _rule_values(r)}
                  for r in [*rs.rules, *rs.disabled_rules]],
    }


def _plain(value: Any) -> Any:
    """Whole floats as ints (``5.0`` -> ``5``), the way rulesets are written."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _flow(value: Any) -> str:
    value = _plain(value)
    text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=1 << 20,
                          sort_keys=False).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _line(indent: str, key: str, value: Any, source: str) -> str:
    head = f"{indent}{key}: {_flow(value)}"
    pad = max(2, COMMENT_COLUMN - cell_len(head))
    return f"{head}{' ' * pad}# {source}"


def text_lines(rs: Ruleset) -> Iterator[str]:
    """The resolved ruleset as commented YAML (``# file:line:col`` or ``# 默认值``)."""
    prov = rs.provenance
    yield f"# 规则集 {rs.name} {rs.version}:{' → '.join(rs.files)}"
    yield "# 每个值后注明出处:文件:行:列,或 默认值(csqa 或该规则类型的内置默认)"
    yield _line("", "name", rs.name, prov.get("name", DEFAULT))
    if rs.version:
        yield _line("", "version", rs.version, prov.get("version", DEFAULT))
    if rs.description:
        yield _line("", "description", rs.description, prov.get("description", DEFAULT))
    yield "scoring:"
    yield _line("  ", "base", rs.base_score, prov.get("scoring.base", DEFAULT))
    yield _line("  ", "pass_mark", rs.pass_mark, prov.get("scoring.pass_mark", DEFAULT))
    yield "normalize:"
    yield _line("  ", "fillers", list(rs.fillers), prov.get("normalize.fillers", DEFAULT))
    yield "rules:"
    for rule in [*rs.rules, *rs.disabled_rules]:
        first = True
        for key, value, source in _rule_values(rule):
            if key == "examples" and isinstance(value, dict):
                counts = ", ".join(f"{k} {len(v)}" for k, v in value.items()
                                   if isinstance(v, list))
                yield f"    # examples: {counts}  ({source})"
                continue
            yield _line("  - " if first else "    ", key, value, source)
            first = False
