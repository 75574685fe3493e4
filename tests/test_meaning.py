"""The meaning bank's decisions (csqa.meaning): static words, the classifiers, one line one meaning,
and the nearest-example path for sets without counter-examples."""

from __future__ import annotations

import numpy as np

from csqa import meaning
from csqa.meaning import MeaningBank, StaticTable, features, static_table, train

SHIRK_LIKE = ["这个不归我们管", "跟我们公司没关系", "你去找快递公司问", "你自己去问厂家吧",
              "这事你找物流去", "我们管不了这个", "那是银行的事,你问银行"]
BLAME_LIKE = ["你到底听没听懂", "我跟你讲了多少遍了", "你怎么连这个都不会", "你自己不看说明书吗",
              "我不是说过了吗,你怎么还问", "你耳朵呢"]
POLITE = ["我帮您联系快递公司催一下", "这个问题我来帮您处理", "您别着急,我马上帮您查",
          "我再跟您确认一下地址", "麻烦您提供一下订单号", "给您带来不便非常抱歉",
          "请问还有其他可以帮您的吗", "我这边帮您登记一下,今天会有回复"]


def test_static_words_are_found_longest_first_left_to_right() -> None:
    table = StaticTable(["客服", "客服代表", "代表", "你好"], np.eye(4, dtype=np.float32))
    assert table.rows("你好,客服代表x客服") == [3, 1, 0]
    assert table.rows("abc") == []
    assert not table.encode(["abc"]).any()  # no known word: a zero vector, not NaN


def test_a_classifier_learns_its_examples() -> None:
    w = train(tuple(SHIRK_LIKE), tuple(POLITE))
    p = 1 / (1 + np.exp(-(features(static_table(), SHIRK_LIKE + POLITE) @ w)))
    assert (p[: len(SHIRK_LIKE)] > 0.5).all() and (p[len(SHIRK_LIKE):] < 0.5).all()


def _bank() -> tuple[MeaningBank, int, int]:
    bank = MeaningBank(shared_unlike=POLITE)
    shirk = bank.add(SHIRK_LIKE)
    blame = bank.add(BLAME_LIKE)
    assert shirk is not None and blame is not None
    bank.build()
    return bank, shirk, blame


def test_shared_sets_are_decided_by_their_classifier_and_say_why() -> None:
    bank, shirk, _ = _bank()
    j = bank.judge(shirk, "这个你得去问快递公司,跟我们没关系")
    assert j is not None and j.holds and j.probability is not None and j.probability >= 0.4
    assert j.like in SHIRK_LIKE and j.unlike in POLITE
    assert "语义判别" in j.describe() and j.as_dict()["probability"] == round(j.probability, 3)
    assert bank.judge(shirk, "我这边帮您联系一下快递公司,请您稍等") is None  # polite: no
    assert bank.judge(shirk, "好的好的") is None  # too short to judge


def test_one_line_one_meaning_names_one_rule() -> None:
    bank, shirk, blame = _bank()
    text = "你到底听没听懂,我讲了多少遍了"
    assert bank.judge(blame, text) is not None
    assert bank.judge(shirk, text) is None  # the line is 责问's, not also 推诿's


def test_judge_any_returns_the_first_line_holding_the_meaning() -> None:
    bank, shirk, _ = _bank()
    got = bank.judge_any(shirk, ["我帮您查一下", "这事你找物流去问吧,我们不管", "你自己去问厂家"])
    assert got is not None and got.holds
    assert bank.judge_any(shirk, ["我帮您查一下", "麻烦您稍等一下"]) is None


def test_a_set_without_counter_examples_is_judged_by_the_nearest_example() -> None:
    bank = MeaningBank()  # no shared counter-examples, none of its own: nothing to learn from
    k = bank.add(SHIRK_LIKE)
    assert k is not None
    bank.build()
    j = bank.judge(k, "这个不归我们公司管")
    assert j is not None and j.holds and j.probability is None  # the sentence model decided
    assert j.like == "这个不归我们管"
    far = bank.judge(k, "非常抱歉,我马上帮您查。")
    assert far is not None and not far.holds
    assert meaning.sentence_model()._model is not None


def test_warm_embeds_only_what_the_sentence_model_judges() -> None:
    bank, _, _ = _bank()
    bank.warm()  # both sets are decided by their classifiers: nothing to load
    assert bank._full is None
    nearest = MeaningBank()
    k = nearest.add(["您好,很高兴为您服务"])
    assert k is not None
    nearest.build()
    nearest.warm()
    assert nearest._embedded is not None and nearest._embedded.all()
