"""Rulesets: YAML files of rules, resolved through ``extends`` and validated before any audit.

A ruleset file::

    name: my-centre
    version: "2026.11"
    extends: default          # a built-in name or a path relative to this file
    scoring: {base: 100, pass_mark: 80}
    dictionary: [小天鹅, 滚筒洗衣机]   # words for ``match: word`` (product names, company terms)
    rules:
      - id: interruption      # same id as a rule of the parent: override key by key
        allowed: 1
      - id: hangup
        enabled: false        # switch a parent's rule off
      - id: forbidden.local   # a new rule
        kind: forbidden_phrase
        name: 本地禁语
        points: 5
        phrases: [搞不定]

A rule's own keys are ``id kind name category description message severity points
max_points veto enabled examples``; every other key is a parameter of its kind. Every problem is
reported at once as ``file:line:col: rules[3].min_overlap: must be a number ≥ 0``.

``normalize: {fillers: [呃, 嗯, 啊, 那个]}`` sets the fillers removed from utterances and
phrases before matching (see :mod:`csqa.normalize`); a child ruleset's list replaces its
parent's, ``fillers: []`` turns removal off.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from csqa import safeio
from csqa.errors import RulesetError
from csqa.normalize import DEFAULT_FILLERS
from csqa.rules import KINDS
from csqa.rules.base import Params
from csqa.ruleset.yamlsrc import Path as KeyPath
from csqa.ruleset.yamlsrc import YamlDoc, fmt_path, load_yaml

BUILTIN = {"default": "default.yaml"}
SEVERITIES = ("info", "minor", "major", "critical")
RULE_KEYS = ("id", "kind", "name", "category", "description", "message", "severity", "points",
             "max_points", "veto", "enabled", "examples")
TOP_KEYS = ("name", "version", "description", "extends", "scoring", "rules", "normalize",
            "dictionary", "meaning")
NORMALIZE_KEYS = ("fillers",)
SCORING_KEYS = ("base", "pass_mark")
MAX_EXTENDS_DEPTH = 16


@dataclass(frozen=True, slots=True)
class Rule:
    """A validated, enabled rule: what it checks (kind + params) and what a finding costs."""

    id: str
    kind: str
    name: str
    severity: str
    points: float
    params: Params
    message: str | None = None
    max_points: float | None = None
    veto: bool = False
    category: str | None = None
    description: str | None = None
    examples: Any = None
    source: str = ""
    #: key -> (document, key path) of the file that last set it (``extends`` merges key by key);
    #: keys absent here have their built-in default. Used by ``rules show``/``lint``/``test``.
    origins: Mapping[str, tuple[YamlDoc, KeyPath]] = field(default_factory=dict, compare=False,
                                                           repr=False)
    enabled: bool = True

    def where(self, key: str, *sub: str | int, key_pos: bool = False) -> str | None:
        """``file:line:col`` where ``key`` (or an item below it) was set, ``None`` if defaulted."""
        origin = self.origins.get(key)
        if origin is None:
            return None
        doc, path = origin
        return doc.where((*path, *sub), key=key_pos)

    def path(self, key: str, *sub: str | int) -> str:
        """``rules[3].phrases[2]``: the key path of ``key`` in the file that set it."""
        origin = self.origins.get(key)
        return fmt_path((*origin[1], *sub)) if origin else fmt_path((key, *sub))


@dataclass(slots=True)
class Ruleset:
    """A fully resolved ruleset: enabled rules in order, scoring, and where it came from."""

    name: str
    version: str
    rules: list[Rule]
    base_score: float = 100.0
    pass_mark: float = 80.0
    description: str = ""
    disabled: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    hash: str = ""
    #: user words for word-level matching, from ``dictionary`` (a child adds to its parent's)
    dictionary: list[str] = field(default_factory=list)
    #: disabled rules, validated like the others (for ``rules show`` and ``rules lint``)
    disabled_rules: list[Rule] = field(default_factory=list)
    #: top-level key (``name``, ``scoring.base`` …) -> ``file:line:col`` that set it
    provenance: dict[str, str] = field(default_factory=dict)
    #: fillers removed before matching (``normalize.fillers``)
    fillers: tuple[str, ...] = DEFAULT_FILLERS
    #: meaning-aware matching on (``meaning: false`` or ``--no-meaning`` turns it off)
    meaning: bool = True
    #: counter-examples every meaning-aware forbidden rule is weighed against (``meaning.unlike``)
    meaning_unlike: tuple[str, ...] = ()
    #: extra margin for an utterance addressing the customer only as 您 (``meaning.respectful_margin``)
    respectful_margin: float = 0.0

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


@dataclass
class _RawRule:
    values: dict[str, Any]
    where: dict[str, tuple[YamlDoc, KeyPath]]
    anchor: tuple[YamlDoc, KeyPath]


@dataclass
class _Raw:
    meta: dict[str, Any]
    scoring: dict[str, tuple[Any, YamlDoc, KeyPath]]
    rules: dict[str, _RawRule]
    files: list[str]
    dictionary: list[str] = field(default_factory=list)
    meta_where: dict[str, str] = field(default_factory=dict)
    meaning_unlike: list[str] = field(default_factory=list)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"(是否应为 '{close[0]}'?)" if close else ""


def _read(ref: str | Path, base_dir: Path | None) -> tuple[str, str, Path | None]:
    """(text, display name, directory) of a ruleset reference."""
    s = str(ref)
    if s in BUILTIN:
        text = resources.files("csqa.data").joinpath(BUILTIN[s]).read_text(encoding="utf-8")
        return text, f"<builtin:{s}>", None
    path = Path(s)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        data = safeio.read_bytes(path)
    except FileNotFoundError:
        hint = did_you_mean(s, list(BUILTIN))
        raise RulesetError([f"{s}: 找不到规则集{hint}"]) from None
    except OSError as exc:
        raise RulesetError([f"{s}: 无法读取规则集:{exc.strerror}"]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RulesetError([f"{path}: 规则集不是 UTF-8 文本"]) from None
    return text, str(path), path.parent


def _resolve(ref: str | Path, base_dir: Path | None, chain: list[str], problems: list[str]) -> _Raw:
    """Read ``ref`` and its ``extends`` chain; problems are collected, not raised, where the
    rest of the file can still be read (so that every problem is reported at once)."""
    text, name, directory = _read(ref, base_dir)
    if name in chain:
        raise RulesetError([f"{name}: extends 循环引用:{' -> '.join([*chain, name])}"])
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise RulesetError([f"{name}: extends 链超过 {MAX_EXTENDS_DEPTH} 层"])
    doc = load_yaml(text, name)
    data = doc.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesetError([f"{doc.where(())}: 规则集应为含 rules 列表的映射(mapping)"])
    for key in data:
        if key not in TOP_KEYS:
            problems.append(f"{doc.where((key,), key=True)}: {key}: 未知的键{did_you_mean(key, TOP_KEYS)}")
    if "extends" in data:
        parent_ref = data["extends"]
        if not isinstance(parent_ref, str) or not parent_ref:
            raise RulesetError([f"{doc.where(('extends',))}: extends: 应为规则集名称或路径"])
        raw = _resolve(parent_ref, directory, [*chain, name], problems)
    else:
        raw = _Raw(meta={}, scoring={}, rules={}, files=[])
    raw.files.append(name)
    if "dictionary" in data:
        problems.extend(_read_dictionary(data["dictionary"], doc, raw.dictionary))
    for key in ("name", "version", "description"):
        if key in data:
            if not isinstance(data[key], (str, int, float)):
                problems.append(f"{doc.where((key,))}: {key}: 应为文本")
            else:
                raw.meta[key] = str(data[key])
                raw.meta_where[key] = doc.where((key,))
    if "meaning" in data:
        problems.extend(_read_meaning(data["meaning"], doc, raw))
    norm = data.get("normalize")
    if norm is not None:
        problems.extend(_read_normalize(norm, doc, raw.meta))
        raw.meta_where["normalize.fillers"] = doc.where(("normalize",))
    scoring = data.get("scoring")
    if scoring is not None:
        if not isinstance(scoring, dict):
            problems.append(f"{doc.where(('scoring',))}: scoring: 应为映射(mapping)")
        else:
            for key, value in scoring.items():
                if key not in SCORING_KEYS:
                    problems.append(f"{doc.where(('scoring', key), key=True)}: scoring.{key}: "
                                    f"未知的键{did_you_mean(key, SCORING_KEYS)}")
                else:
                    raw.scoring[key] = (value, doc, ("scoring", key))
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        problems.append(f"{doc.where(('rules',))}: rules: 应为规则列表")
        rules = []
    seen_here: set[str] = set()
    for i, item in enumerate(rules):
        path: KeyPath = ("rules", i)
        if not isinstance(item, dict):
            problems.append(f"{doc.where(path)}: {fmt_path(path)}: 每条规则应为映射(mapping)")
            continue
        rid = item.get("id")
        if not isinstance(rid, str) or not rid.strip():
            problems.append(f"{doc.where(path)}: {fmt_path(path)}: id: 必填(简短的名称,如 forbidden.blame)")
            continue
        if rid in seen_here:
            problems.append(f"{doc.where((*path, 'id'))}: {fmt_path(path)}.id: 规则 id '{rid}' 重复")
            continue
        seen_here.add(rid)
        where = {key: (doc, (*path, key)) for key in item}
        existing = raw.rules.get(rid)
        if existing is not None and item.get("kind", existing.values.get("kind")) == existing.values.get("kind"):
            existing.values.update(item)
            existing.where.update(where)
        else:
            if existing is not None:
                del raw.rules[rid]  # a new kind under an old id replaces the parent rule whole
            raw.rules[rid] = _RawRule(values=dict(item), where=where, anchor=(doc, path))
    return raw


def _read_dictionary(value: Any, doc: YamlDoc, into: list[str]) -> list[str]:
    """Add a ruleset's ``dictionary`` words to ``into``; returns the problems found."""
    if not isinstance(value, list):
        return [f"{doc.where(('dictionary',))}: dictionary: 应为词语列表"]
    problems = []
    for i, word in enumerate(value):
        if not isinstance(word, str) or not word.strip() or any(ch.isspace() for ch in word.strip()):
            problems.append(f"{doc.where(('dictionary', i))}: dictionary[{i}]: "
                            "应为一个词(不含空格的文本)")
        elif word.strip() not in into:
            into.append(word.strip())
    return problems


MEANING_KEYS = ("enabled", "unlike", "respectful_margin")


def _read_meaning(value: Any, doc: YamlDoc, raw: _Raw) -> list[str]:
    """The ``meaning`` block: ``false``/``true``, or ``{enabled: …, unlike: [sentences],
    respectful_margin: …}`` (a child's ``unlike`` adds to its parent's); returns the problems
    found."""
    if isinstance(value, bool):
        value = {"enabled": value}
    if not isinstance(value, dict):
        return [f"{doc.where(('meaning',))}: meaning: 应为 true、false 或映射,如 "
                "{enabled: true, unlike: [好的,我马上帮您查一下]}"]
    problems = []
    for key, item in value.items():
        where = doc.where(("meaning", key), key=True)
        if key == "enabled" and isinstance(item, bool):
            raw.meta["meaning"] = item
        elif key == "respectful_margin" and isinstance(item, (int, float)) and not isinstance(item, bool) \
                and 0 <= item <= 1:
            raw.meta["respectful_margin"] = float(item)
        elif key == "unlike" and isinstance(item, list) and all(isinstance(t, str) and t.strip()
                                                                for t in item):
            raw.meaning_unlike.extend(t.strip() for t in item if t.strip() not in raw.meaning_unlike)
        elif key in MEANING_KEYS:
            problems.append(f"{doc.where(('meaning', key))}: meaning.{key}: 应为"
                            + {"enabled": " true 或 false", "unlike": "句子列表",
                               "respectful_margin": " 0 到 1 之间的数"}[key])
        else:
            problems.append(f"{where}: meaning.{key}: 未知的键{did_you_mean(str(key), MEANING_KEYS)}")
    return problems


def _read_normalize(norm: Any, doc: YamlDoc, meta: dict[str, Any]) -> list[str]:
    """The ``normalize`` block: problems found; the filler list goes to ``meta["fillers"]``."""
    if not isinstance(norm, dict):
        return [f"{doc.where(('normalize',))}: normalize: 应为映射,如 "
                "{fillers: [呃, 嗯, 啊, 那个]}"]
    problems = []
    for key, value in norm.items():
        where = doc.where(("normalize", key), key=True)
        if key not in NORMALIZE_KEYS:
            problems.append(f"{where}: normalize.{key}: 未知的键"
                            f"{did_you_mean(str(key), NORMALIZE_KEYS)}")
        elif value is None:
            meta["fillers"] = ()
        elif not isinstance(value, list) or not all(isinstance(f, str) and f.strip()
                                                    for f in value):
            problems.append(f"{doc.where(('normalize', key))}: normalize.fillers: "
                            "应为非空词语的列表,如 [呃, 嗯, 啊, 那个]")
        else:
            meta["fillers"] = tuple(f.strip() for f in value)
    return problems


def _filler_only_phrases(rules: list[Rule], fillers: tuple[str, ...]) -> list[str]:
    """Phrases that normalise to nothing (made only of fillers) and so could never match."""
    from csqa.matching import PhraseBank
    from csqa.normalize import Normalizer

    bank = PhraseBank(Normalizer(fillers))
    problems = []
    for rule in rules:
        before = len(bank.unmatchable)
        KINDS[rule.kind].prepare(rule.params, bank)
        for phrase in bank.unmatchable[before:]:
            problems.append(f"{rule.source}: rules.{rule.id}: 短语 {phrase!r} 只由语气词"
                            f"({'、'.join(fillers)})组成,语气词在匹配前被去掉,所以它永远匹配不到;"
                            "请删除它,或修改 normalize.fillers")
    return problems


_SEVERITY_HELP = ", ".join(SEVERITIES)


def _friendly(err: Any) -> str:
    """A pydantic error as a sentence for a QA person."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "必填"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}[kind]
        bound = next(iter(ctx.values()), "")
        shown = f"{bound:g}" if isinstance(bound, (int, float)) else str(bound)
        return f"应为 {sign} {shown} 的数"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return "应为数字"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "应为整数"
    if kind in ("string_type",):
        return "应为文本"
    if kind in ("list_type",):
        return "应为列表"
    if kind in ("bool_parsing", "bool_type"):
        return "应为 true 或 false"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "应为映射(mapping)"
    if kind == "literal_error":
        return f"应为以下之一:{ctx.get('expected', '')}".replace("'", "").replace(" or ", "、")
    if kind == "too_short":
        return f"至少要有 {ctx.get('min_length', 1)} 项"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return str(err["msg"])


def _known_fields(model: type[BaseModel]) -> list[str]:
    """Field names of a params model and of the models nested in it (for did-you-mean)."""
    names: list[str] = []
    stack: list[type[BaseModel]] = [model]
    seen: set[type[BaseModel]] = set()
    while stack:
        m = stack.pop()
        if m in seen:
            continue
        seen.add(m)
        for fname, f in m.model_fields.items():
            names.append(fname)
            for arg in _walk_types(f.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    stack.append(arg)
    return names


def _walk_types(tp: Any) -> list[Any]:
    out = [tp]
    for arg in getattr(tp, "__args__", ()) or ():
        out.extend(_walk_types(arg))
    return out


def _validate_rule(raw: _RawRule) -> tuple[Rule | None, list[str]]:
    doc, rpath = raw.anchor
    v = raw.values
    problems: list[str] = []
    rid = v["id"]

    def at(key: str, sub: tuple[Any, ...] = (), key_pos: bool = False) -> str:
        d, p = raw.where.get(key, raw.anchor)
        full = (*p, *sub) if key in raw.where else p
        return f"{d.where(full, key=key_pos)}: {fmt_path(full)}"

    kind = v.get("kind")
    if kind is None:
        return None, [f"{doc.where(rpath)}: {fmt_path(rpath)}: kind: required for new rule '{rid}' "
                      f"(one of: {', '.join(KINDS)})"]
    if kind not in KINDS:
        return None, [f"{at('kind')}: 未知的规则类型 '{kind}'{did_you_mean(str(kind), list(KINDS))}"]
    module = KINDS[kind]
    param_fields = list(module.Params.model_fields)
    params_in: dict[str, Any] = {}
    for key, value in v.items():
        if key in RULE_KEYS:
            continue
        if key in param_fields:
            params_in[key] = value
        else:
            problems.append(f"{at(key, key_pos=True)}: 未知的键:类型 {kind} 没有这个键"
                            f"{did_you_mean(key, [*RULE_KEYS, *param_fields])}")
    common: dict[str, Any] = {}
    sev = v.get("severity", "major")
    if sev not in SEVERITIES:
        problems.append(f"{at('severity')}: 应为以下之一:{_SEVERITY_HELP}")
    common["severity"] = sev
    for key, default in (("points", 0.0), ("max_points", None)):
        value = v.get(key, default)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            problems.append(f"{at(key)}: 应为 ≥ 0 的数")
            value = default
        common[key] = float(value) if value is not None else None
    for key in ("veto", "enabled"):
        value = v.get(key, key == "enabled")
        if not isinstance(value, bool):
            problems.append(f"{at(key)}: 应为 true 或 false")
        common[key] = bool(value)
    for key in ("name", "category", "description", "message"):
        value = v.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(f"{at(key)}: 应为文本")
            value = str(value)
        common[key] = value
    if common["message"]:
        try:
            pieces = list(_FORMATTER.parse(common["message"]))
        except ValueError as exc:
            problems.append(f"{at('message')}: 消息中的占位符有误:{exc}")
            pieces = []
        for _, name, spec, _ in pieces:
            if name is not None and spec and _too_wide(spec):
                problems.append(f"{at('message')}: 占位符 {{{name}:{spec}}} 的宽度或精度超过上限 "
                                f"{MAX_FIELD_WIDTH}(消息中每个字段最多 {MAX_FIELD_WIDTH} 个字符)")
    try:
        params = module.Params.model_validate(params_in)
    except ValidationError as exc:
        known = _known_fields(module.Params)
        for err in exc.errors():
            loc = tuple(err["loc"])
            if not loc:
                problems.append(f"{doc.where(rpath)}: {fmt_path(rpath)}: {_friendly(err)}")
                continue
            key, sub = str(loc[0]), loc[1:]
            if err["type"] == "extra_forbidden":
                problems.append(f"{at(key, sub, key_pos=True)}: 未知的键{did_you_mean(str(loc[-1]), known)}")
            else:
                problems.append(f"{at(key, sub)}: {_friendly(err)}")
        params = None
    if problems or params is None:
        return None, problems
    return Rule(
        id=rid, kind=kind, name=common["name"] or rid, severity=common["severity"],
        points=common["points"], max_points=common["max_points"], veto=common["veto"],
        message=common["message"], category=common["category"],
        description=common["description"], params=params, examples=v.get("examples"),
        source=doc.where(rpath), origins=dict(raw.where), enabled=common["enabled"],
    ), []


#: the largest width or precision a message placeholder may ask for (``{matched:>20}``): a
#: ruleset must not be able to make one finding's message gigabytes long
MAX_FIELD_WIDTH = 200
_SPEC_NUMBER = re.compile(r"\d+")


def _too_wide(spec: str) -> bool:
    """Whether a format spec asks for a width or precision over :data:`MAX_FIELD_WIDTH`."""
    return any(int(n) > MAX_FIELD_WIDTH for n in _SPEC_NUMBER.findall(spec))


class _SafeFormatter:
    """Message templates: ``{matched}``, ``{detail}`` … from the hit; unknown names stay as written."""

    def __init__(self) -> None:
        import string

        self._f = string.Formatter()
        #: template → its parsed pieces, or None when it does not parse (then used as written)
        self._parsed: dict[str, list[tuple[str, str | None, str | None, str | None]] | None] = {}

    def parse(self, template: str) -> Any:
        return self._f.parse(template)

    def _pieces(self, template: str) -> list[tuple[str, str | None, str | None, str | None]] | None:
        try:
            return self._parsed[template]
        except KeyError:
            pass
        try:
            pieces: list[tuple[str, str | None, str | None, str | None]] | None = list(
                self._f.parse(template))
        except ValueError:
            pieces = None
        if len(self._parsed) < 4096:  # a ruleset has a few hundred templates at most
            self._parsed[template] = pieces
        return pieces

    def format(self, template: str, values: dict[str, Any]) -> str:
        pieces = self._pieces(template)
        if pieces is None:
            return template
        out = []
        for literal, name, spec, conv in pieces:
            out.append(literal)
            if name is None:
                continue
            if name in values:
                value = values[name]
                try:
                    if spec and _too_wide(spec):
                        raise ValueError(spec)  # a ruleset that was never validated
                    out.append(format(value, spec or ""))
                except (ValueError, TypeError):
                    out.append(str(value))
            else:
                out.append("{" + name + (("!" + conv) if conv else "") + ((":" + spec) if spec else "") + "}")
        return "".join(out)


_FORMATTER = _SafeFormatter()


def format_message(template: str, values: dict[str, Any]) -> str:
    """Fill a rule's message template; placeholders with no value are left as written."""
    return _FORMATTER.format(template, values)


def load_ruleset(ref: str | Path | None = None) -> Ruleset:
    """Load, resolve (``extends``) and validate a ruleset; ``None`` is the built-in default.

    Raises :class:`~csqa.errors.RulesetError` listing every problem found.
    """
    problems: list[str] = []
    raw = _resolve(ref if ref is not None else "default", Path.cwd(), [], problems)
    rules: list[Rule] = []
    disabled: list[str] = []
    disabled_rules: list[Rule] = []
    for raw_rule in raw.rules.values():
        rule, errs = _validate_rule(raw_rule)
        problems.extend(errs)
        if rule is None:
            continue
        if raw_rule.values.get("enabled", True) is False:
            disabled.append(rule.id)
            disabled_rules.append(rule)
        else:
            rules.append(rule)
    scoring = {"base": 100.0, "pass_mark": 80.0}
    for key, (value, doc, path) in raw.scoring.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            problems.append(f"{doc.where(path)}: {fmt_path(path)}: 应为 ≥ 0 的数")
        else:
            scoring[key] = float(value)
    fillers = tuple(raw.meta.get("fillers", DEFAULT_FILLERS))
    problems.extend(_filler_only_phrases(rules, fillers))
    if scoring["pass_mark"] > scoring["base"]:
        problems.append(f"{raw.files[-1]}: scoring.pass_mark: 不能高于 scoring.base({scoring['base']:g})")
    if problems:
        raise RulesetError(problems)
    content: dict[str, Any] = {
        "scoring": scoring,
        "rules": [{**{k: v for k, v in r.values.items() if k != "examples"}} for r in raw.rules.values()]}
    if "fillers" in raw.meta:  # only when set, so that rulesets without it keep their hash
        content["fillers"] = list(raw.meta["fillers"])
    if raw.dictionary:  # likewise
        content["dictionary"] = raw.dictionary
    if "meaning" in raw.meta or raw.meaning_unlike or "respectful_margin" in raw.meta:  # likewise
        content["meaning"] = [raw.meta.get("meaning", True), raw.meaning_unlike,
                              raw.meta.get("respectful_margin", 0.0)]
    canonical = orjson.dumps(content, option=orjson.OPT_SORT_KEYS, default=str)
    return Ruleset(
        name=raw.meta.get("name", Path(raw.files[-1]).stem),
        version=raw.meta.get("version", ""),
        description=raw.meta.get("description", ""),
        rules=rules, disabled=disabled, files=raw.files,
        base_score=scoring["base"], pass_mark=scoring["pass_mark"],
        hash=hashlib.sha256(canonical).hexdigest()[:16],
        dictionary=list(raw.dictionary),
        disabled_rules=disabled_rules,
        provenance={**raw.meta_where,
                    **{f"scoring.{k}": doc.where(path) for k, (_, doc, path) in raw.scoring.items()}},
        fillers=fillers,
        meaning=raw.meta.get("meaning", True),
        meaning_unlike=tuple(raw.meaning_unlike),
        respectful_margin=raw.meta.get("respectful_margin", 0.0),
    )
