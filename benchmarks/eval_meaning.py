"""Judgement quality: the labelled development set through the default ruleset (``make eval``).

Standalone::

    python benchmarks/eval_meaning.py [--split dev|test|all] [--show-misses] [--lines FILE]

Each line of ``tests/eval/lines.yaml`` (or ``--lines``, a file of the same shape, such as lines
nobody on the team has seen) is judged alone, as the agent's line in an otherwise clean call::

    坐席: 您好,这里是客户服务中心,我是客服代表小王,很高兴为您服务,请问有什么可以帮您?
                                                          (an opening line replaces this)
    客户: 你好,我想问一下我家洗衣机维修的事。
    坐席: <the line>                                      (a neutral line for openings/closings)
    客户: 好的,我知道了。
    坐席: 请问您还有其他需要帮助的地方吗?                (or a closing line, by its `replaces`)
    客户: 没有了,谢谢。
    坐席: 请问您对这次的服务还满意吗?
    客户: 满意。
    坐席: 感谢您的来电,再见!

What is counted, per category and split:

- hostile (禁语/争执): recall, a line caught when any ``forbidden.*`` rule fires on its utterance;
  under it the share caught by the category's own rule, and that rule's precision (its firings
  on its own category's lines, against those plus its firings on lines that should be clean:
  polite, opening, closing; a hostile line may well break another norm too);
- norm (a line-level norm): recall, caught when any rule fires on the line's utterance; under it
  the share caught by the norm's own rule ("no rule" while the ruleset has none) and its precision;
- polite: the false-alarm rate, any finding on the line's utterance about its wording (the
  call-level ``process.*``/``outbound.*`` rules, which say what the call lacks, such as a visit
  without a time window, are left out);
- opening / closing: the acceptance rate, the rules that judge that slot (greeting; closing,
  closing.anything_else, closing.satisfaction, sequence.satisfaction_before_closing) give no
  finding.

A finding the clean call gives with a neutral line in the middle is the script's, not the line's:
it is left out of the line's judgement (and printed as a note).

Each figure twice: the default ruleset (meaning on) and the exact-string rules alone (meaning
off, the top-level ruleset key ``meaning: false``). Exits 1 when a target on the test split is
missed: hostile recall >= 0.90 in every 禁语/争执 category, polite false alarms <= 0.02, openings
and closings accepted >= 0.95 (each), all with meaning on.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from csqa.engine import Engine
from csqa.errors import RulesetError
from csqa.model import CallResult, Finding, Transcript, Utterance
from csqa.ruleset import Ruleset, load_ruleset

DATA = Path(__file__).resolve().parent.parent / "tests" / "eval" / "lines.yaml"

# The playbook's standard opening (「您好,这里是公司客户服务中心,我是客服代表*,很高兴为您服务」)
OPENING = "您好,这里是客户服务中心,我是客服代表小王,很高兴为您服务,请问有什么可以帮您?"
NEUTRAL = "好的,我帮您查一下维修进度,请您稍等。"
SCRIPT: list[tuple[str, str, str | None]] = [  # (speaker, text, the slot a line may take)
    ("agent", OPENING, "opening"),
    ("customer", "你好,我想问一下我家洗衣机维修的事。", None),
    ("agent", NEUTRAL, "line"),
    ("customer", "好的,我知道了。", None),
    ("agent", "请问您还有其他需要帮助的地方吗?", "anything_else"),  # the playbook's wording
    ("customer", "没有了,谢谢。", None),
    ("agent", "请问您对这次的服务还满意吗?", "satisfaction"),
    ("customer", "满意。", None),
    ("agent", "感谢您的来电,再见!", "farewell"),
]
SLOT_INDEX = {slot: i for i, (_, _, slot) in enumerate(SCRIPT) if slot}
# The rules that judge an opening or closing slot: a line there is accepted when none fires.
SLOT_RULES = {
    "opening": {"greeting"},
    "anything_else": {"closing.anything_else"},
    "satisfaction": {"closing.satisfaction", "sequence.satisfaction_before_closing"},
    "farewell": {"closing", "sequence.satisfaction_before_closing"},
}
CHARS_PER_SECOND = 2.0  # the handbook's 120 字/分钟, so speech-rate rules stay quiet
TURN_GAP = 0.8
HOSTILE_FAMILY = "forbidden."
#: rules about what the call as a whole lacks (a visit without a time window, a callback without a
#: time): right about a clean call that holds the line, and no judgement of the line's wording
CALL_LEVEL = ("process.", "outbound.")
CLEAN = ("polite", "opening", "closing")  # kinds of line no rule should fire on
TARGETS = {"hostile": 0.90, "polite": 0.02, "opening": 0.95, "closing": 0.95}
COLUMNS = ("meaning", "exact")  # the default ruleset; the exact-string rules alone


@dataclass(slots=True)
class Line:
    """One labelled line of the development set."""

    text: str
    category: str
    split: str
    variant: str
    replaces: str | None = None

    @property
    def slot(self) -> str:
        return self.replaces or ("opening" if self.category == "opening" else "line")


@dataclass(slots=True)
class Judged:
    """A line's outcome under one ruleset: ``hit`` is caught / false alarm / accepted;
    ``rules`` the rules that fired on the line's own utterance; ``findings`` what to show."""

    hit: bool
    rules: frozenset[str] = frozenset()
    findings: list[str] = field(default_factory=list)


class DataError(Exception):
    """A development-set file that cannot be used: one line naming the file and the entry."""


KINDS = ("hostile", "norm", "polite", "opening", "closing")


def load_lines(path: Path) -> tuple[dict[str, dict], list[Line]]:
    """The categories and lines of a development-set file; :class:`DataError` when malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: cannot read: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict) \
            or not isinstance(data.get("lines"), list):
        raise DataError(f"{path}: must be a mapping with `categories` and `lines`")
    categories: dict[str, dict] = data["categories"]
    for name, spec in categories.items():
        if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
            raise DataError(f"{path}: categories.{name}.kind: must be one of {', '.join(KINDS)}")
    lines = []
    for i, d in enumerate(data["lines"]):
        where = f"{path}: lines[{i}]"
        if not isinstance(d, dict) or not isinstance(d.get("text"), str) or not d["text"].strip():
            raise DataError(f"{where}: needs a non-empty text")
        if d.get("category") not in categories:
            raise DataError(f"{where}: category {d.get('category')!r} is not under `categories`")
        if d.get("split") not in ("dev", "test") or d.get("variant") not in ("plain", "asr"):
            raise DataError(f"{where}: split must be dev or test, variant plain or asr")
        closing = categories[d["category"]]["kind"] == "closing"
        if closing and d.get("replaces") not in ("anything_else", "satisfaction", "farewell"):
            raise DataError(f"{where}: a closing line needs replaces: anything_else, satisfaction "
                            "or farewell")
        lines.append(Line(d["text"], d["category"], d["split"], d["variant"],
                          d.get("replaces") if closing else None))
    return categories, lines


def ruleset_for(meaning: bool) -> tuple[Ruleset, str | None]:
    """The default ruleset with meaning-aware matching on or off, and a note when off could not
    be had (a ruleset without the top-level ``meaning`` key: then both columns are the default)."""
    if meaning:
        return load_ruleset(None), None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exact-only.yaml"
        path.write_text("extends: default\nmeaning: false\n", encoding="utf-8")
        try:
            return load_ruleset(path), None
        except RulesetError as exc:
            first = str(exc).splitlines()[0] if str(exc) else "?"
            return load_ruleset(None), ("note: the ruleset does not take `meaning: false` yet "
                                        f"({first.replace(str(path), 'exact-only.yaml')}); "
                                        "the exact column is the default ruleset")


def call_for(line: Line, n: int) -> Transcript:
    """The clean call with ``line`` in its slot, at the handbook's speaking rate."""
    at = SLOT_INDEX[line.slot]
    utts: list[Utterance] = []
    t = 0.5
    for i, (speaker, text, _) in enumerate(SCRIPT):
        if i == at:
            text = line.text
        dur = max(1.0, round(len(text) / CHARS_PER_SECOND, 1))
        utts.append(Utterance(i, speaker, round(t, 1), round(t + dur, 1), text))
        t += dur + TURN_GAP
    return Transcript(call_id=f"EVAL{n:04d}", agent_id="EVAL", utterances=utts,
                      hangup_by="customer", duration=round(t + 1.0, 1))


def judge(line: Line, kind: str, result: CallResult,
          script: frozenset[tuple[str, int | None]] = frozenset()) -> Judged:
    """What ``result`` (the audit of ``call_for(line)``) says about the line; ``script`` holds
    the (rule, utterance) findings the clean call gives anyway, left out."""
    at = SLOT_INDEX[line.slot]
    mine = [f for f in result.findings if f.utterance == at and (f.rule_id, at) not in script]
    rules = frozenset(f.rule_id for f in mine)
    if kind in ("opening", "closing"):
        against = [f for f in result.findings if f.rule_id in SLOT_RULES[line.slot]]
        return Judged(not against, rules, [_describe(f) for f in against])
    # hostile: caught by a forbidden.* rule; norm: by any rule; polite: any finding about the
    # line's wording is a false alarm (not one about what the call lacks, see CALL_LEVEL)
    if kind == "hostile":
        hit = any(r.startswith(HOSTILE_FAMILY) for r in rules)
    elif kind == "polite":
        hit = any(not r.startswith(CALL_LEVEL) for r in rules)
    else:
        hit = bool(rules)
    return Judged(hit, rules, [_describe(f) for f in mine])


def _describe(f: Finding) -> str:
    return f"{f.rule_id}“{f.matched}”" if f.matched else f.rule_id


def script_findings(engine: Engine) -> frozenset[tuple[str, int | None]]:
    """The (rule, utterance) findings of the clean call with the neutral line in the middle."""
    neutral = Line(NEUTRAL, "polite", "dev", "plain")
    return frozenset((f.rule_id, f.utterance) for f in engine.audit(call_for(neutral, 0)).findings)


def run(engines: dict[str, Engine], categories: dict[str, dict], lines: list[Line]
        ) -> dict[str, list[Judged]]:
    """Every line judged under every engine, in the lines' order."""
    calls = [call_for(line, n) for n, line in enumerate(lines)]
    out: dict[str, list[Judged]] = {}
    for name, engine in engines.items():
        script = script_findings(engine)
        judged: list[Judged] = []
        for line, result in zip(lines, map(engine.audit, calls), strict=True):
            assert isinstance(result, CallResult), result  # built calls have unique ids
            judged.append(judge(line, categories[line.category]["kind"], result, script))
        out[name] = judged
    return out


@dataclass(slots=True)
class Row:
    """One category in one split. ``own``: the share of its lines its own rule fired on;
    ``precision``: its firings on this category's lines against those plus its firings on the
    split's clean lines (polite, opening, closing); None: no such rule, or no such firing."""

    category: str
    split: str
    kind: str
    n: int
    rate: dict[str, float]
    own: dict[str, float | None] = field(default_factory=dict)
    precision: dict[str, float | None] = field(default_factory=dict)

    def target_missed(self) -> bool | None:
        """Whether the meaning column misses the kind's target (None: no target)."""
        goal = TARGETS.get(self.kind)
        if goal is None:
            return None
        value = self.rate["meaning"]
        return value > goal if self.kind == "polite" else value < goal


def rows_for(categories: dict[str, dict], lines: list[Line], judged: dict[str, list[Judged]],
             split: str, rule_ids: dict[str, set[str]]) -> list[Row]:
    """The figures of every category with lines in ``split``."""
    in_split = [i for i, line in enumerate(lines) if line.split == split]
    rows = []
    for cat, spec in categories.items():
        idx = [i for i in in_split if lines[i].category == cat]
        if not idx:
            continue
        row = Row(cat, split, spec["kind"], len(idx),
                  {col: sum(judged[col][i].hit for i in idx) / len(idx) for col in COLUMNS})
        rule = spec.get("rule")
        for col in COLUMNS:
            fired = [i for i in in_split if rule in judged[col][i].rules]
            known = rule in rule_ids[col]
            row.own[col] = sum(i in idx for i in fired) / len(idx) if known else None
            right = sum(lines[i].category == cat for i in fired)
            wrong = sum(categories[lines[i].category]["kind"] in CLEAN for i in fired)
            row.precision[col] = right / (right + wrong) if known and right + wrong else None
        rows.append(row)
    return rows


LABEL = 40  # columns of the category label
MEASURE = {"hostile": "recall (forbidden.*)", "norm": "recall (any rule)",
           "polite": "false alarms", "opening": "accepted", "closing": "accepted"}


def print_table(rows: list[Row], categories: dict[str, dict], split: str) -> None:
    print(f"\n== {split} split ==")
    print(f"{'category':<{LABEL}}{'measure':<22}{'n':>4}  {'meaning':>8}  {'exact':>8}  target")
    for row in rows:
        spec = categories[row.category]
        label = f"{row.category} {spec['title']}"
        goal = TARGETS.get(row.kind)
        target = ""
        if goal is not None:
            sign = "<=" if row.kind == "polite" else ">="
            target = f"{sign} {goal:.2f}" + ("  MISSED" if row.target_missed() else "  met")
        print(f"{_pad(label, LABEL)}{MEASURE[row.kind]:<22}{row.n:>4}  "
              f"{row.rate['meaning']:>8.3f}  {row.rate['exact']:>8.3f}  {target}")
        if "rule" in spec:
            cells = ["no rule" if row.own[c] is None else f"{row.own[c]:.3f}" for c in COLUMNS]
            prec = " / ".join("-" if row.precision[c] is None else f"{row.precision[c]:.3f}"
                              for c in COLUMNS)
            print(f"{'':<{LABEL}}{'by ' + spec['rule']:<26}  {cells[0]:>8}  {cells[1]:>8}  "
                  f"precision {prec}")


def _pad(text: str, width: int) -> str:
    """Left-justify counting a CJK character as two columns."""
    cols = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return text + " " * max(1, width - cols)


def print_misses(categories: dict[str, dict], lines: list[Line], judged: list[Judged],
                 splits: Iterable[str]) -> None:
    """The lines the default ruleset (meaning on) got wrong, for tuning on dev."""
    print("\n== misses (meaning on) ==")
    for cat, spec in categories.items():
        kind = spec["kind"]
        wrong = [(line, j) for line, j in zip(lines, judged, strict=True)
                 if line.category == cat and line.split in splits
                 and (j.hit if kind == "polite" else not j.hit)]
        if not wrong:
            continue
        what = {"polite": "false alarms", "opening": "rejected", "closing": "rejected"}
        print(f"-- {cat} {spec['title']}: {len(wrong)} {what.get(kind, 'missed')}")
        for line, j in wrong:
            extra = f"   <- {', '.join(j.findings)}" if j.findings else ""
            slot = f" [{line.replaces}]" if line.replaces else ""
            print(f"   {line.split:<4} {line.variant:<5}{slot} {line.text}{extra}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--split", choices=("dev", "test", "all"), default="all")
    ap.add_argument("--show-misses", action="store_true",
                    help="list the lines missed, false-alarmed or rejected (meaning on)")
    ap.add_argument("--lines", type=Path, default=DATA, help="a development-set file")
    args = ap.parse_args(argv)
    try:
        categories, lines = load_lines(args.lines)
    except DataError as exc:
        print(exc, file=sys.stderr)
        return 2
    splits = ("dev", "test") if args.split == "all" else (args.split,)
    chosen = [line for line in lines if line.split in splits]
    engines: dict[str, Engine] = {}
    rule_ids: dict[str, set[str]] = {}
    for col in COLUMNS:
        ruleset, note = ruleset_for(col == "meaning")
        if note:
            print(note)
        engines[col] = Engine(ruleset)
        rule_ids[col] = {r.id for r in ruleset.rules}
        script = script_findings(engines[col])
        if script:
            print(f"note ({col}): the clean call itself gives "
                  + ", ".join(f"{rule}@{utt}" for rule, utt in sorted(script, key=str))
                  + "; left out of the lines' judgement")
    judged = run(engines, categories, chosen)
    print(f"{len(chosen)} lines from {args.lines.name}; each alone in a clean call. "
          "meaning = default ruleset, exact = exact-string rules alone (meaning: false)")
    missed: list[Row] = []
    for split in splits:
        rows = rows_for(categories, chosen, judged, split, rule_ids)
        print_table(rows, categories, split)
        if split == "test":
            missed += [r for r in rows if r.target_missed()]
    if args.show_misses:
        print_misses(categories, chosen, judged["meaning"], splits)
    if missed:
        print("\ntargets missed on the test split: "
              + ", ".join(f"{r.category} {r.rate['meaning']:.3f}" for r in missed))
        return 1
    if "test" in splits:
        print("\nevery target met on the test split")
    return 0


if __name__ == "__main__":
    sys.exit(main())
