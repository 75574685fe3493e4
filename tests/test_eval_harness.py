"""benchmarks/eval_meaning.py (`make eval`): each line lands in its slot of the clean call and is
judged on that slot only, with the default ruleset as the library runs it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from csqa.engine import Engine
from csqa.ruleset import load_ruleset

_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "eval_meaning.py"
_spec = importlib.util.spec_from_file_location("eval_meaning", _PATH)
assert _spec is not None and _spec.loader is not None
em = importlib.util.module_from_spec(_spec)
sys.modules["eval_meaning"] = em  # dataclasses look their module up by name
_spec.loader.exec_module(em)

CATEGORIES = {
    "shirk": {"kind": "hostile", "rule": "forbidden.shirk", "title": "推诿"},
    "vague": {"kind": "norm", "rule": "wording.vague", "title": "模糊"},
    "polite": {"kind": "polite", "title": "礼貌"},
    "opening": {"kind": "opening", "title": "开场白"},
    "closing": {"kind": "closing", "title": "结束语"},
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_ruleset(None))


def test_a_line_takes_its_slot_and_the_rest_is_the_script() -> None:
    middle = em.call_for(em.Line("这个不归我管。", "shirk", "dev", "plain"), 1)
    farewell = em.call_for(em.Line("那先这样,再见。", "closing", "dev", "plain", "farewell"), 2)
    opening = em.call_for(em.Line("您好,工号3021为您服务。", "opening", "dev", "plain"), 3)
    assert [u.text for u in middle.utterances] == [text for _, text, _ in em.SCRIPT[:2]] + [
        "这个不归我管。"] + [text for _, text, _ in em.SCRIPT[3:]]
    assert farewell.utterances[8].text == "那先这样,再见。"
    assert farewell.utterances[2].text == em.NEUTRAL
    assert opening.utterances[0].text == "您好,工号3021为您服务。"
    assert [u.speaker for u in middle.utterances] == [s for s, _, _ in em.SCRIPT]
    assert middle.call_id != farewell.call_id


def test_the_clean_call_itself_gives_no_finding(engine: Engine) -> None:
    assert em.script_findings(engine) == frozenset()


def test_lines_are_judged_on_their_own_utterance(engine: Engine) -> None:
    lines = [em.Line("这个不归我管。", "shirk", "dev", "plain"),
             em.Line("好的,我帮您登记一下。", "shirk", "dev", "plain"),
             em.Line("不关我的事!", "vague", "dev", "plain"),
             em.Line("您好,请问有什么可以帮您?", "polite", "dev", "plain"),
             em.Line("这个没办法。", "polite", "test", "plain"),
             em.Line("您好,这里是客户服务中心,我是客服代表小王。", "opening", "dev", "plain"),
             em.Line("好的。", "opening", "dev", "plain"),
             em.Line("好的,就这样。", "closing", "dev", "plain", "farewell")]
    judged = em.run({"meaning": engine}, CATEGORIES, lines)["meaning"]
    assert [(j.hit, CATEGORIES[line.category].get("rule") in j.rules)
            for line, j in zip(lines, judged, strict=True)] == [
        (True, True),      # a handbook string: caught, by its own rule
        (False, False),
        (True, False),     # a norm line is caught by any rule; wording.vague is not its rule
        (False, False),
        (True, False),     # a false alarm on a polite line
        (True, False),     # an opening accepted (and nothing else on it)
        (False, False),
        (False, False),    # a farewell without thanks or goodbye is rejected
    ]
    assert judged[0].findings == ["forbidden.shirk“不归我管”"]
    assert judged[4].findings == ["forbidden.shirk“没办法”"]
    assert judged[6].findings == ["greeting"]


def test_rows_and_targets() -> None:
    lines = [em.Line(f"l{i}", "polite", "test", "plain") for i in range(4)]
    lines.append(em.Line("不归我管", "shirk", "test", "plain"))
    shirk = frozenset({"forbidden.shirk"})
    judged = {"meaning": [em.Judged(i == 0, shirk if i == 0 else frozenset()) for i in range(4)]
              + [em.Judged(True, shirk)],
              "exact": [em.Judged(False) for _ in range(4)] + [em.Judged(False)]}
    known = {"meaning": {"forbidden.shirk"}, "exact": set()}
    shirk_row, polite = em.rows_for(CATEGORIES, lines, judged, "test", known)
    assert (polite.category, polite.n, polite.rate) == ("polite", 4, {"meaning": 0.25, "exact": 0.0})
    assert polite.target_missed() is True
    assert (shirk_row.n, shirk_row.rate, shirk_row.target_missed()) == (1, {"meaning": 1.0, "exact": 0.0}, False)
    # forbidden.shirk fired on the shirk line and on one polite line; the exact column has no such rule
    assert shirk_row.own == {"meaning": 1.0, "exact": None}
    assert shirk_row.precision == {"meaning": 0.5, "exact": None}
    assert em.rows_for(CATEGORIES, lines, judged, "dev", known) == []


def test_exact_only_ruleset_or_a_note() -> None:
    ruleset, note = em.ruleset_for(False)
    assert {r.id for r in ruleset.rules} == {r.id for r in load_ruleset(None).rules}
    assert note is None or note.startswith("note: the ruleset does not take `meaning: false` yet")
    assert em.ruleset_for(True)[1] is None


SMALL_SET = """\
categories:
  shirk: {kind: hostile, rule: forbidden.shirk, title: 推诿}
  polite: {kind: polite, title: 礼貌}
lines:
  - {text: "这个不归我管。", category: shirk, split: test, variant: plain}
  - {text: "好的,我帮您登记一下。", category: polite, split: test, variant: plain}
  - {text: "您好,请问您贵姓?", category: polite, split: dev, variant: plain}
  - {text: "这个没办法。", category: polite, split: dev, variant: plain}
"""


def test_main_fails_only_on_a_missed_test_target_and_lists_misses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = tmp_path / "small.yaml"
    small.write_text(SMALL_SET, encoding="utf-8")
    # dev: half the polite lines false-alarm, but no test-split target is looked at
    assert em.main(["--lines", str(small), "--split", "dev", "--show-misses"]) == 0
    out = capsys.readouterr().out
    assert "== dev split ==" in out and "== test split ==" not in out
    assert "dev  plain 这个没办法。   <- forbidden.shirk“没办法”" in out
    # test: shirk caught (1.000 >= 0.90), no polite false alarm (0.000 <= 0.02)
    assert em.main(["--lines", str(small), "--split", "test"]) == 0
    assert "every target met on the test split" in capsys.readouterr().out
    # all: the dev split's false alarms do not fail the run either
    assert em.main(["--lines", str(small)]) == 0
    small.write_text(SMALL_SET.replace("split: dev", "split: test"), encoding="utf-8")
    assert em.main(["--lines", str(small), "--split", "test"]) == 1
    assert "targets missed on the test split: polite 0.333" in capsys.readouterr().out


@pytest.mark.parametrize(("text", "message"), [
    ("lines: []\n", "must be a mapping with `categories` and `lines`"),
    ("categories: {a: {kind: rude}}\nlines: []\n", "categories.a.kind: must be one of hostile"),
    ("categories: {a: {kind: polite}}\nlines: [{text: 好, category: b, split: dev, variant: plain}]\n",
     "lines[0]: category 'b' is not under `categories`"),
    ("categories: {a: {kind: polite}}\nlines: [{text: 好, category: a, split: train, variant: plain}]\n",
     "lines[0]: split must be dev or test"),
    ("categories: {c: {kind: closing}}\nlines: [{text: 再见, category: c, split: dev, variant: plain}]\n",
     "lines[0]: a closing line needs replaces"),
    ("lines: [\n", "cannot read"),
])
def test_a_malformed_file_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                text: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    assert em.main(["--lines", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}: ") and message in err and err.count("\n") == 1
