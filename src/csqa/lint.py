"""``csqa rules lint``: every error ``audit`` would give, plus warnings about rules that load but
do not do what their author meant.

Warnings (each with a code, reported at the ``file:line:col`` of the value):

- ``shadowed-phrase``: a phrase contains another phrase of the same list of the same rule
  (once punctuation and spaces are ignored), so wherever it is said the shorter one matches
  too and the longer one never changes a verdict; or the two are the same phrase; or a
  forbidden phrase contains one of the rule's ``unless`` phrases, so it can never fire;
- ``empty-phrase``: a phrase made only of punctuation or spaces, which can never match;
- ``duplicate-phrase``: a forbidden phrase that another rule also forbids (one utterance is
  deducted twice) or requires (a contradiction);
- ``regex-never-matches``: a regex with a character that matching removes or changes
  (punctuation, spaces, capitals: regexes run on the folded text), so that part never matches;
- ``regex-backtracking``: nested repetition such as ``(a+)+``, catastrophic on backtracking
  regex engines (csqa itself runs RE2 in linear time, but rulesets get copied elsewhere);
- ``scope-never-holds``: a scope or window of 0 seconds, and parameters that contradict each
  other so that part of a rule can never fire;
- ``disabled-rule``: a rule switched off where it is defined and enabled nowhere;
- ``examples-replaced``: ``examples`` set on a rule inherited through ``extends`` replace the
  parent's examples of that rule (they are not added to them), so those are no longer tested.

Only values written in the linted file are warned about: ``extends: default`` does not make
a team's ruleset inherit the default's warnings.
"""

from __future__ import annotations

import re

# Python's own regex parser (3.11+), to inspect a pattern's structure; RE2 syntax is close
# enough for literals and repetition, and patterns it cannot parse are simply not inspected.
import re._parser as _sre_parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from re._constants import MAXREPEAT as _MAXREPEAT
from typing import Any

from csqa.errors import RulesetError
from csqa.normalize import fold
from csqa.rules.base import Scope
from csqa.ruleset import Rule, Ruleset, load_ruleset
from csqa.ruletests import collect_examples, tests_file_for

#: parameters that are any-of phrase lists, where one phrase containing another is redundant
PHRASE_LISTS = ("phrases", "unless", "hold_phrases", "customer_hold_phrases")
#: phrase lists that say what a rule detects (compared across rules)
DETECTING = ("phrases", "groups")


@dataclass(frozen=True, slots=True)
class Warning_:
    """One lint warning: where, which value (key path), what is wrong, and its code."""

    where: str
    path: str
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.where}: 警告: {self.path}: {self.message} [{self.code}]"


@dataclass
class LintReport:
    """Errors (as ``audit`` reports them) and warnings, in file order."""

    file: str
    errors: list[str] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)


def _sort_key(w: Warning_) -> tuple[str, int, int, str]:
    m = re.match(r"^(.*):(\d+):(\d+)$", w.where)
    if not m:
        return (w.where, 0, 0, w.code)
    return (m[1], int(m[2]), int(m[3]), w.code)


def lint(ref: str | Path | None = None) -> LintReport:
    """Lint a ruleset file (or built-in name). Never raises for a bad ruleset: errors are listed."""
    try:
        rs = load_ruleset(ref)
    except RulesetError as exc:
        return LintReport(file=str(ref or "default"), errors=list(exc.problems))
    report = LintReport(file=rs.files[-1])
    tests = tests_file_for(ref) if ref is not None and Path(ref).is_file() else None
    try:
        collect_examples(rs, tests)
    except RulesetError as exc:
        report.errors.extend(exc.problems)
    warnings = list(_warnings(rs, report.file))
    report.warnings = sorted(dict.fromkeys(warnings), key=_sort_key)
    return report


def _mine(rule: Rule, key: str, file: str) -> bool:
    origin = rule.origins.get(key)
    return origin is not None and origin[0].file == file


def _warnings(rs: Ruleset, file: str) -> Iterator[Warning_]:
    everything = [*rs.rules, *rs.disabled_rules]
    for rule in everything:
        yield from _phrase_lists(rule, file)
        yield from _cancelled(rule, file)
        yield from _regexes(rule, file)
        yield from _scopes(rule, file)
    yield from _duplicates(rs.rules, file)
    yield from _examples_replaced(rs, everything, file)
    for rule in rs.disabled_rules:
        where = rule.where("enabled")
        origin = rule.origins.get("enabled")
        if where and origin and origin[0].file == file and rule.source.startswith(file + ":"):
            yield Warning_(where, rule.path("enabled"),
                           f"规则 '{rule.id}' 在定义处停用且没有任何地方启用:它永远不会运行"
                           "(删除它,或设置 enabled: true)", "disabled-rule")


def _examples_replaced(rs: Ruleset, rules: list[Rule], file: str) -> Iterator[Warning_]:
    mine = [r for r in rules if _mine(r, "examples", file) and not r.source.startswith(file + ":")]
    if not mine or len(rs.files) < 2:
        return
    parent_ref = rs.files[-2]
    if parent_ref.startswith("<builtin:") and parent_ref.endswith(">"):
        parent_ref = parent_ref[len("<builtin:"):-1]
    parent = load_ruleset(parent_ref)  # it loaded as part of this ruleset already
    inherited = {r.id: r for r in [*parent.rules, *parent.disabled_rules]}
    for rule in mine:
        old = inherited.get(rule.id)
        if old is None or old.kind != rule.kind or not isinstance(old.examples, dict):
            continue
        n = sum(len(v) for v in old.examples.values() if isinstance(v, list))
        if n:
            yield Warning_(rule.where("examples") or rule.source, rule.path("examples"),
                           f"替换了规则 '{rule.id}' 在 {parent.files[-1]} 中的 {n} 个样例"
                           "(样例不会追加到上级规则的样例中):如需继续测试它们,请在此重复列出",
                           "examples-replaced")


def _lists_of(rule: Rule) -> Iterator[tuple[tuple[str | int, ...], list[str]]]:
    """(key path under the rule, phrases) of each any-of phrase list the rule has."""
    params = rule.params
    for key in PHRASE_LISTS:
        value = getattr(params, key, None)
        if value:
            yield (key,), list(value)
    for gi, group in enumerate(getattr(params, "groups", None) or []):
        yield ("groups", gi, "phrases"), list(group.phrases)


def _phrase_lists(rule: Rule, file: str) -> Iterator[Warning_]:
    for sub, phrases in _lists_of(rule):
        key = str(sub[0])
        if not _mine(rule, key, file):
            continue
        folded = [fold(p) for p in phrases]
        for i, (phrase, f) in enumerate(zip(phrases, folded, strict=True)):
            at = rule.where(key, *sub[1:], i) or rule.source
            path = rule.path(key, *sub[1:], i)
            if not f:
                yield Warning_(at, path, f"短语 '{phrase}' 只有标点或空格:永远不会匹配",
                               "empty-phrase")
                continue
            for j, (other, g) in enumerate(zip(phrases, folded, strict=True)):
                if i == j or not g:
                    continue
                if g == f and j < i:
                    yield Warning_(at, path, f"短语 '{phrase}' 去掉标点和空格后与 '{other}'"
                                             f"({sub[-1]}[{j}])重复", "shadowed-phrase")
                    break
                if g != f and g in f:
                    yield Warning_(at, path, f"短语 '{phrase}' 被同一规则的 '{other}'"
                                             f"({sub[-1]}[{j}])覆盖:凡说到它的地方,"
                                             f"'{other}' 也会匹配", "shadowed-phrase")
                    break


def _cancelled(rule: Rule, file: str) -> Iterator[Warning_]:
    """Forbidden phrases that contain one of the rule's ``unless`` phrases never fire."""
    unless = [(u, fold(u)) for u in getattr(rule.params, "unless", None) or []]
    if rule.kind != "forbidden_phrase" or not unless:
        return
    if not (_mine(rule, "phrases", file) or _mine(rule, "unless", file)):
        return
    for i, phrase in enumerate(rule.params.phrases):  # type: ignore[attr-defined]
        f = fold(phrase)
        hit = next(((u, j) for j, (u, g) in enumerate(unless) if g and g in f), None)
        if f and hit is not None:
            key = "phrases" if _mine(rule, "phrases", file) else "unless"
            sub = (i,) if key == "phrases" else (hit[1],)
            yield Warning_(rule.where(key, *sub) or rule.source, rule.path(key, *sub),
                           f"短语 '{phrase}' 永远不会触发:它包含 unless 短语 "
                           f"'{hit[0]}'(unless[{hit[1]}]),说到它时总会被取消",
                           "shadowed-phrase")


def _detecting(rule: Rule) -> Iterator[tuple[str, tuple[str | int, ...], str]]:
    """(phrase, key path under the rule, key) of the phrases a rule looks for."""
    params = rule.params
    for i, phrase in enumerate(getattr(params, "phrases", None) or []):
        yield phrase, ("phrases", i), "phrases"
    for gi, group in enumerate(getattr(params, "groups", None) or []):
        for i, phrase in enumerate(group.phrases):
            yield phrase, ("groups", gi, "phrases", i), "groups"


def _duplicates(rules: list[Rule], file: str) -> Iterator[Warning_]:
    seen: dict[str, list[tuple[Rule, str, tuple[str | int, ...], str]]] = {}
    for rule in rules:
        for phrase, sub, key in _detecting(rule):
            f = fold(phrase)
            if f:
                seen.setdefault(f, []).append((rule, phrase, sub, key))
    for entries in seen.values():
        if len({r.id for r, *_ in entries}) < 2:
            continue
        for rule, phrase, sub, key in entries:
            if not _mine(rule, key, file):
                continue
            # two rules requiring the same words is harmless; a forbidden phrase that another
            # rule forbids too (deducted twice) or requires (a contradiction) is not
            others = [(r, s, k) for r, _, s, k in entries if r.id != rule.id
                      and "forbidden_phrase" in (r.kind, rule.kind)]
            if not others:
                continue
            other, osub, okey = others[0]
            effect = ("同一句话会被扣两次分" if rule.kind == other.kind
                      else "一条规则要求说、另一条规则禁止说")
            where_other = other.where(okey, *osub[1:]) or other.source
            yield Warning_(rule.where(key, *sub[1:]) or rule.source, rule.path(key, *sub[1:]),
                           f"短语 '{phrase}' 也是规则 '{other.id}' 的短语"
                           f"({where_other}):{effect}", "duplicate-phrase")


def _regexes(rule: Rule, file: str) -> Iterator[Warning_]:
    patterns = getattr(rule.params, "regexes", None) or []
    if not patterns or not _mine(rule, "regexes", file):
        return
    for i, pattern in enumerate(patterns):
        at = rule.where("regexes", i) or rule.source
        path = rule.path("regexes", i)
        try:
            tree = _sre_parse.parse(pattern)
        except Exception:  # RE2-only syntax: RE2 accepted it, nothing more to say
            continue
        bad = sorted(set(_folded_away(tree)))
        if bad:
            shown = " ".join(repr(c) for c in bad)
            yield Warning_(at, path, f"正则 '{pattern}' 含有 {shown},匹配前会被去掉或改变"
                                     "(正则在去掉标点和空格、转为小写的文本上运行):这部分永远不会匹配",
                           "regex-never-matches")
        if _nested_repeat(tree, inside=False):
            yield Warning_(at, path, f"正则 '{pattern}' 在重复里嵌套了重复:"
                                     "在 csqa 的 RE2 上安全,但在其他正则引擎上会灾难性回溯;请简化",
                           "regex-backtracking")


def _folded_away(tree: Any) -> Iterator[str]:
    for op, arg in tree:
        name = str(op)
        if name == "LITERAL":
            ch = chr(arg)
            if fold(ch) != ch:
                yield ch
        elif name == "IN":
            for iop, iarg in arg:
                if str(iop) == "CATEGORY" and str(iarg) == "CATEGORY_SPACE":
                    yield "\\s"
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            yield from _folded_away(arg[2])
        elif name == "SUBPATTERN":
            yield from _folded_away(arg[-1])
        elif name == "BRANCH":
            for branch in arg[1]:
                yield from _folded_away(branch)


def _nested_repeat(tree: Any, inside: bool) -> bool:
    for op, arg in tree:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            unbounded = arg[1] == _MAXREPEAT or arg[1] > 1
            if (inside and unbounded) or _nested_repeat(arg[2], inside or unbounded):
                return True
        elif name == "SUBPATTERN":
            children = [arg[-1]]
        elif name == "BRANCH":
            children = list(arg[1])
        else:
            continue
        if name in ("SUBPATTERN", "BRANCH") and any(_nested_repeat(c, inside) for c in children):
            return True
    return False


def _scopes(rule: Rule, file: str) -> Iterator[Warning_]:
    p: Any = rule.params  # the kind's own Params model
    scope = getattr(p, "scope", None)
    if isinstance(scope, Scope) and _mine(rule, "scope", file):
        for key in ("first_seconds", "last_seconds"):
            if getattr(scope, key) != 0:
                continue
            edge = "开头" if key.startswith("first") else "结尾"
            yield Warning_(rule.where("scope", key) or rule.source, rule.path("scope", key),
                           f"0 秒的窗口只包含紧贴通话{edge}的话语:"
                           "这个范围(几乎)永远不成立", "scope-never-holds")
    for key, what in (("within_seconds", "开头"), ("last_seconds", "结尾")):
        if rule.kind in ("greeting", "closing") and getattr(p, key, None) == 0 \
                and _mine(rule, key, file):
            yield Warning_(rule.where(key) or rule.source, rule.path(key),
                           f"0 秒的窗口只包含紧贴通话{what}的话语:"
                           "这条规则(几乎)每通电话都会触发", "scope-never-holds")
    if rule.kind == "response_delay" and p.ignore_above is not None \
            and p.ignore_above <= p.max_delay and (_mine(rule, "ignore_above", file)
                                                   or _mine(rule, "max_delay", file)):
        key = "ignore_above" if _mine(rule, "ignore_above", file) else "max_delay"
        yield Warning_(rule.where(key) or rule.source, rule.path(key),
                       f"ignore_above({p.ignore_above:g})不大于 max_delay"
                       f"({p.max_delay:g}):回应过慢永远不会触发", "scope-never-holds")
    if rule.kind == "silence" and p.hold_max < p.max_gap and (_mine(rule, "hold_max", file)
                                                               or _mine(rule, "max_gap", file)):
        key = "hold_max" if _mine(rule, "hold_max", file) else "max_gap"
        yield Warning_(rule.where(key) or rule.source, rule.path(key),
                       f"hold_max({p.hold_max:g})小于 max_gap({p.max_gap:g}):"
                       "告知客户等待后允许的静默反而比不告知还短", "scope-never-holds")
    if rule.kind == "interruption" and p.backchannel_max_chars == 0 \
            and _mine(rule, "backchannel_max_chars", file):
        yield Warning_(rule.where("backchannel_max_chars") or rule.source,
                       rule.path("backchannel_max_chars"),
                       "backchannel_max_chars 为 0:任何附和(嗯/好的)都不会被放过",
                       "scope-never-holds")
