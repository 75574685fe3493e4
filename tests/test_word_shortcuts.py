"""The shortcuts of the word-level rules give exactly what the plain computation gives:

- ``Segmenter.crossed`` is "a dictionary word inside ``text[lo:hi]`` spans ``pos``, or ASCII
  letters/digits touch it from both sides", checked word by word;
- ``call_block_span`` (binary search in the utterance's block edges) is ``block_span``;
- ``segmenter`` gives one segmenter per set of user words, however the set is written;
- ``agent_seconds`` is the sum of ``max(0, end - start)`` over the agent's utterances;
- ``filler_words.fillers`` looks for only the POS characters that are not ``paired`` (after
  one search over the whole call) and counts what scanning every character of the agent's
  speech for every POS character counts;
- ``quoted`` answers False at once when no quotation mark opens before the match.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csqa.matching import CallView, PhraseBank
from csqa.model import AGENT, Transcript, Utterance
from csqa.normalize import Normalizer
from csqa.rules import filler_words
from csqa.rules.conditions import QUOTE_PAIRS, SAME_QUOTES, quoted
from csqa.rules.rates import Counted, agent_seconds
from csqa.words import block_span, call_block_span, chars_tagged, segmenter, token_tag

FAST = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

PIECES = ["滚", "滚筒", "洗衣机", "你们", "你们好", "这个", "自己", "好", "嘛", "干嘛", "喽", "喽啰", "主控板",
          "固件", "刷", "一下", "看看", "压缩机", "没", "办法", "贴心宝", "贴心", "DHCP", "dhcp", "12", "IP地址",
          "啦", "啦啦队", "哇", "呃", "呗", "行", "嘞", ",", "。", "“", "”", " ", "-", "中华人民共和国"]
USER_WORDS = [frozenset(), frozenset({"贴心宝", "主控板", "IP地址", "看压"})]


def _view(*texts: str, speakers: str = "") -> CallView:
    utts = [Utterance(i, "customer" if speakers[i:i + 1] == "c" else AGENT, i * 10.0, i * 10.0 + 9, t)
            for i, t in enumerate(texts)]
    return CallView(Transcript("W-1", "W1", utts), PhraseBank())


def _crossed_plainly(words: frozenset[str], text: str, pos: int, lo: int, hi: int) -> bool:
    freq = segmenter(words)._tk.FREQ
    if lo < pos < hi and all(ch.isascii() and ch.isalnum() for ch in text[pos - 1 : pos + 1]):
        return True
    return any(freq.get(text[a:b]) for a in range(lo, pos) for b in range(pos + 1, hi + 1)
               if b - a > 1)


@FAST
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=10), st.sampled_from(USER_WORDS),
       st.data())
@example(["这个", "你们", "自己"], frozenset(), None)
@example(["好", "一动不如一静"], frozenset(), None)  # only the whole idiom spans 一|静: reach back
@example(["看", "压缩机", "DHCP12"], USER_WORDS[1], None)
def test_crossed_is_a_word_spanning_the_position(pieces: list[str], words: frozenset[str],
                                                 data: Any) -> None:
    text = "".join(pieces)
    if data is None:  # the explicit example: every position of every window
        spans = [(lo, pos, hi) for lo in range(len(text) + 1) for hi in range(lo, len(text) + 1)
                 for pos in range(lo, hi + 1)]
    else:
        lo = data.draw(st.integers(0, len(text)))
        hi = data.draw(st.integers(lo, len(text)))
        spans = [(lo, data.draw(st.integers(lo, hi)), hi)]
    seg = segmenter(words)
    for lo, pos, hi in spans:
        assert seg.crossed(text, pos, lo, hi) == _crossed_plainly(words, text, pos, lo, hi), \
            (text, pos, lo, hi)


@FAST
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=10), st.data())
def test_call_block_span_is_block_span(pieces: list[str], data: Any) -> None:
    text = "".join(pieces)
    view = _view("好的。", text)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert call_block_span(view, 1, start, end) == block_span(text, start, end), (text, start, end)


def test_one_segmenter_per_set_of_user_words() -> None:
    words = frozenset({"贴心宝"})
    first = segmenter(words)
    again = frozenset(["贴心宝"])  # equal, another object
    assert again is not words
    assert segmenter(again) is first
    assert segmenter(["贴心宝", " 贴心宝 "]) is first
    assert segmenter(frozenset({"贴心宝", "套餐吗"})) is not first
    assert segmenter(frozenset()) is segmenter()


TIMES = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                  st.sampled_from([0.0, -0.0, 1.5, 2.0, 1e16, 2.0**53 + 1]),
                  st.integers(-5, 5))


@FAST
@given(st.lists(st.tuples(st.sampled_from([AGENT, "customer"]), TIMES, TIMES), max_size=8))
def test_agent_seconds_is_the_sum_of_clamped_durations(utts: list[tuple[str, Any, Any]]) -> None:
    t = Transcript("S-1", "S1", [Utterance(i, who, s, e, "好") for i, (who, s, e) in enumerate(utts)])
    plain = float(sum(max(0.0, u.end - u.start) for u in t.utterances if u.speaker == AGENT))
    got = agent_seconds(CallView(t, PhraseBank()))
    assert got == plain or (got != got and plain != plain)
    assert str(got) == str(plain)  # the same float, signs of zero included


# ---- filler_words: the POS pre-filter without the paired characters ------------------------

BANK = PhraseBank(Normalizer(["嗯", "嘛呀", "呃"]))  # 嘛 inside a filler: not paired
FILLERS = [filler_words.prepare(filler_words.Params.model_validate(p), BANK) for p in (
    {},
    {"words": ["喽", "嘛", "然后呢", "哇塞", "呗"], "allowed": ["吗", "呢"]},
    {"words": ["嘍", "啦", "呀"], "pos": ["y", "e"], "allowed": []},
    {"words": ["嘛"], "pos": []},
)]
BANK.build()
TALK = ["喽", "嘍", "呀", "呢", "嘛", "嘛呀", "干嘛", "然后呢", "吗", "啦", "啦啦队", "呗", "嗯", "哇", "哇塞", "呃",
        "哈", "哎", "唉", "兮", "呐", "好的", "查一下", "您稍等", "这样", ",", "。", "“", "”", "OK", " "]


def _fillers_plainly(call: CallView, prep: Any) -> list[Counted]:
    """The count as it was first written: every character of the agent's speech tested
    against every POS character (paired ones too), unless a listed word holds it."""
    seg = prep.words.segmenter
    found: list[tuple[int, int, str]] = []
    listed: set[tuple[int, int]] = set()
    for i, matches in prep.words.where(call).items():
        text = call.utterances[i].text
        for m in matches:
            listed.update((i, k) for k in range(m.start, m.end))
            if text[m.start : m.end] not in prep.allowed:
                found.append((i, m.start, text[m.start : m.end]))
    tags = set(prep.params.pos)
    pos_chars = chars_tagged(tags) - prep.allowed if tags else frozenset()
    for u in call.utterances:
        if u.speaker != AGENT:
            continue
        for k, ch in enumerate(u.text):
            if ch in pos_chars and (u.index, k) not in listed \
                    and token_tag(call, u.index, k, k + 1, seg) in tags:
                found.append((u.index, k, ch))
    return [Counted(i, w) for i, _, w in sorted(found)]


@st.composite
def talks(draw: Any) -> tuple[list[str], str]:
    texts = ["".join(draw(st.lists(st.sampled_from(TALK), max_size=8)))
             for _ in range(draw(st.integers(0, 5)))]
    return texts, "".join(draw(st.sampled_from("ac")) for _ in texts)


@FAST
@given(talks())
@example((["好的嘛,查一下喽", "干嘛啦哇", "嘛呀呃,哇塞呗"], "aaa"))
@example((["啦啦队哇", "兮呐"], "ca"))  # the candidates only in the customer's words
def test_fillers_count_what_scanning_every_character_counts(talk: tuple[list[str], str]) -> None:
    texts, speakers = talk
    for prep in FILLERS:
        view = CallView(_view(*texts, speakers=speakers).transcript, BANK)
        plain = CallView(view.transcript, BANK)
        assert filler_words.fillers(view, prep) == _fillers_plainly(plain, prep), texts


# ---- quotation marks ------------------------------------------------------------------------

def _quoted_plainly(text: str, start: int, end: int) -> bool:
    before, after = text[:start], text[end:]
    for open_q, close_q in QUOTE_PAIRS.items():
        if before.count(open_q) > before.count(close_q) and close_q in after:
            return True
    return any(before.count(q) % 2 == 1 and q in after for q in SAME_QUOTES)


@FAST
@given(st.lists(st.sampled_from([*QUOTE_PAIRS, *QUOTE_PAIRS.values(), *SAME_QUOTES, "你们", "没办法", "说", ","]),
                max_size=10), st.data())
@example(["说", "“", "你们", "”"], None)
def test_quoted_is_the_plain_count_of_marks(pieces: list[str], data: Any) -> None:
    text = "".join(pieces)
    if data is None:
        spans = [(s, e) for s in range(len(text) + 1) for e in range(s, len(text) + 1)]
    else:
        start = data.draw(st.integers(0, len(text)))
        spans = [(start, data.draw(st.integers(start, len(text))))]
    for start, end in spans:
        assert quoted(text, start, end) == _quoted_plainly(text, start, end), (text, start, end)
