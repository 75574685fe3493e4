"""Safe YAML with source positions: plain data plus the line:col of every key and value.

Only YAML's plain types are built (maps, lists, strings, numbers, booleans, null); any other
tag (``!!python/object`` …) is an error, duplicate keys are errors, and alias expansion is
bounded so that a "billion laughs" document cannot exhaust memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from csqa.errors import RulesetError

Path = tuple[str | int, ...]

_PLAIN_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}
#: libyaml's parser when PyYAML was built with it (eight times faster), else the pure-Python one
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: libyaml composes nested nodes on the C stack (it crashed at 100,000 levels): a document that
#: could nest deeper than this (brackets, or indentation) is read by the pure-Python parser
_FAST_MAX_NESTING = 1000
MAX_NODES = 100_000
MAX_DEPTH = 64


@dataclass
class YamlDoc:
    """A loaded YAML document and where each of its parts was written."""

    file: str
    data: Any
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path, key: bool = False) -> str:
        """``file:line:col`` of ``path`` (its key, when ``key``), or of its nearest parent."""
        table = self.key_marks if key else self.marks
        p = path
        while p:
            if p in table:
                line, col = table[p]
                return f"{self.file}:{line}:{col}"
            if p in self.marks:
                line, col = self.marks[p]
                return f"{self.file}:{line}:{col}"
            p = p[:-1]
        return f"{self.file}:1:1"


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _loader_for(text: str) -> Any:
    nesting = text.count("[") + text.count("{") + max(map(len, text.splitlines()), default=0)
    return _FAST_LOADER if nesting <= _FAST_MAX_NESTING else yaml.SafeLoader


def load_yaml(text: str, file: str) -> YamlDoc:
    """Parse ``text`` (from ``file``) into a :class:`YamlDoc`; raises :class:`RulesetError`."""
    try:
        node = yaml.compose(text, Loader=_loader_for(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        raise RulesetError([f"{where}: YAML 格式有误:{exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise RulesetError([f"{file}: YAML 格式有误:{exc}"]) from None
    except RecursionError:
        raise RulesetError([f"{file}: YAML 格式有误:嵌套过深"]) from None
    doc = YamlDoc(file=file, data=None)
    if node is None:
        return doc
    problems: list[str] = []
    constructor = yaml.SafeLoader("")
    budget = [MAX_NODES]
    open_nodes: set[int] = set()  # nodes being built: an alias to one of them is a cycle

    def build(n: yaml.Node, path: Path) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise RulesetError([f"{file}: 文档过大(超过 {MAX_NODES} 个节点;是否有别名炸弹?)"])
        if id(n) in open_nodes or len(path) > MAX_DEPTH:
            line, col = _mark(n)
            what = ("递归别名(锚点在自身内部被引用)" if id(n) in open_nodes
                    else f"嵌套超过 {MAX_DEPTH} 层")
            raise RulesetError([f"{file}:{line}:{col}: {fmt_path(path) or '(顶层)'}: {what}"])
        open_nodes.add(id(n))
        try:
            return build_node(n, path)
        finally:
            open_nodes.discard(id(n))

    def build_node(n: yaml.Node, path: Path) -> Any:
        doc.marks.setdefault(path, _mark(n))
        if n.tag not in _PLAIN_TAGS:
            line, col = _mark(n)
            problems.append(f"{file}:{line}:{col}: {fmt_path(path) or '(顶层)'}: "
                            f"不允许使用标签 {n.tag!r}(只接受普通 YAML)")
            return None
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Any] = {}
            for k, v in n.value:
                if not isinstance(k, yaml.ScalarNode):
                    line, col = _mark(k)
                    problems.append(f"{file}:{line}:{col}: {fmt_path(path) or '(顶层)'}: 键应为普通文本")
                    continue
                if k.value == "<<" or k.tag == "tag:yaml.org,2002:merge":
                    line, col = _mark(k)
                    problems.append(f"{file}:{line}:{col}: {fmt_path(path) or '(顶层)'}: "
                                    "不支持合并键(<<)")
                    continue
                key = str(scalar(k, path))
                if key in out:
                    line, col = _mark(k)
                    problems.append(f"{file}:{line}:{col}: {fmt_path((*path, key))}: 键重复")
                    continue
                doc.key_marks[(*path, key)] = _mark(k)
                out[key] = build(v, (*path, key))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, (*path, i)) for i, item in enumerate(n.value)]
        value = scalar(n, path)
        return value.isoformat() if hasattr(value, "isoformat") else value

    def scalar(n: yaml.Node, path: Path) -> Any:
        if n.tag not in _PLAIN_TAGS:
            line, col = _mark(n)
            problems.append(f"{file}:{line}:{col}: {fmt_path(path) or '(顶层)'}: "
                            f"不允许使用标签 {n.tag!r}(只接受普通 YAML)")
            return None
        try:
            return constructor.construct_object(n)
        except Exception as exc:  # e.g. !!int abc: a value its own tag cannot read
            line, col = _mark(n)
            problems.append(f"{file}:{line}:{col}: {fmt_path(path) or '(顶层)'}: 无法把 "
                            f"{n.value!r} 读作 {n.tag.rsplit(':', 1)[-1]}"
                            f"({type(exc).__name__})")
            return None

    doc.data = build(node, ())
    if problems:
        raise RulesetError(problems)
    return doc


def fmt_path(path: Path) -> str:
    """``("rules", 3, "min_overlap")`` -> ``rules[3].min_overlap``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
