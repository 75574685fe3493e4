"""Property tests (hypothesis): for any input the loaders give calls or clean problems, the
engine gives findings within the scoring bounds, and redaction leaves no number behind."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csqa.engine import Engine
from csqa.loaders import load_all
from csqa.loaders.common import LoadProblem, decode, from_mapping
from csqa.model import InputProblem, Transcript, Utterance
from csqa.redact import find_pii, redact
from csqa.ruleset import load_ruleset

FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ENGINE = Engine(load_ruleset(None))
RULESET = ENGINE.ruleset

# Text that exercises the rules: service phrases, forbidden phrases, numbers, junk.
PHRASES = ["您好", "很高兴为您服务", "我是小王", "请您稍等", "感谢您的来电", "再见",
           "你问我,我问谁",
           "没办法", "喂", "嘿", "13812345678", "11010519491231002X", "6222021234567890128",
           "a@b.cn", "尾号5678", "?", "!", " ", "\t", "ＡＰＰ", "幺三八"]
TEXT = st.one_of(st.lists(st.sampled_from(PHRASES), max_size=6).map("".join),
                 st.text(max_size=40))
TIME = st.floats(min_value=0, max_value=4000, allow_nan=False, allow_infinity=False)


@st.composite
def transcripts(draw: Any) -> Transcript:
    n = draw(st.integers(min_value=0, max_value=12))
    utts = []
    for _ in range(n):
        start = draw(TIME)
        end = start + draw(st.floats(min_value=0, max_value=60, allow_nan=False))
        utts.append((draw(st.sampled_from(["agent", "customer"])), start, end, draw(TEXT)))
    utts.sort(key=lambda u: (u[1], u[2]))
    return Transcript(
        call_id="P", agent_id="A1",
        utterances=[Utterance(i, sp, s, e, t) for i, (sp, s, e, t) in enumerate(utts)],
        hangup_by=draw(st.sampled_from([None, "agent", "customer", "system"])),
        duration=draw(st.one_of(st.none(), TIME)),
    )


@FAST
@given(transcripts())
def test_engine_never_fails_and_scores_stay_in_bounds(t: Transcript) -> None:
    result = ENGINE.audit(t)
    assert result.rule_errors == {}
    assert 0 <= result.score <= RULESET.base_score
    assert result.passed == (not result.vetoed and result.score >= RULESET.pass_mark)
    for f in result.findings:
        assert f.rule_id in {r.id for r in RULESET.rules}
        assert f.start <= f.end or f.utterance is None
        if f.utterance is not None:
            assert 0 <= f.utterance < len(t.utterances)
            assert f.speaker == t.utterances[f.utterance].speaker
    rules = {r.id: r for r in RULESET.rules}
    for rid, points in result.deductions.items():
        cap = rules[rid].max_points
        assert 0 <= points <= (cap if cap is not None else float("inf"))


@FAST
@given(st.binary(max_size=300))
def test_decode_gives_text_or_a_clean_problem(data: bytes) -> None:
    try:
        assert isinstance(decode(data), str)
    except LoadProblem as exc:
        assert exc.reason


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["call_id", "agent_id", "utterances", "speaker", "start", "end", "text",
                         "hangup_by", "duration", "started_at", "x"]), kids, max_size=6),
    max_leaves=20)


@FAST
@given(JSONISH)
def test_any_json_value_is_a_call_or_a_clean_problem(obj: Any) -> None:
    try:
        t = from_mapping(obj, "<p>", "default")
    except LoadProblem as exc:
        assert exc.reason
    else:
        assert t.utterances and all(0 <= u.start <= u.end for u in t.utterances)
        assert ENGINE.audit(t).rule_errors == {}


@FAST
@given(st.sampled_from([".json", ".jsonl", ".txt", ".csv"]),
       st.one_of(st.binary(max_size=400),
                 st.text(max_size=300).map(lambda s: s.encode("utf-8")),
                 JSONISH.map(lambda o: json.dumps(o).encode())))
def test_any_file_gives_calls_or_problems_never_an_exception(suffix: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"f{suffix}"
        path.write_bytes(data)
        items = list(load_all([path]))
    assert items, "every file must be accounted for"
    for item in items:
        assert isinstance(item, (Transcript, InputProblem))
        if isinstance(item, InputProblem):
            assert item.file == str(path) and item.reason
        else:
            assert ENGINE.audit(item).rule_errors == {}


@FAST
@given(st.lists(st.sampled_from([*PHRASES, "1", "3", "8", "-", " ", "X", "一", "@", "x.y"]),
                max_size=25).map("".join))
def test_redaction_leaves_no_number_and_keeps_the_length(text: str) -> None:
    masked = redact(text)
    assert len(masked) == len(text)
    assert find_pii(masked) == []
    assert redact(masked) == masked


VENDOR_KEYS = ["Transcript", "Participants", "results", "transcripts", "items", "Result",
               "Sentences", "SpeakerId", "BeginTime", "EndTime", "Text", "ChannelId", "segments",
               "start", "end", "text", "speaker", "sentence_info", "spk", "timestamp", "words",
               "lattice", "json_1best", "bg", "ed", "onebest", "status", "JobStatus",
               "ParticipantRole", "Content", "BeginOffsetMillis", "EndOffsetMillis", "utterances"]
VENDOR_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10, max_value=10**6) | st.floats()
    | st.text(max_size=6),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(VENDOR_KEYS), kids,
                                                              max_size=6),
    max_leaves=25)


@FAST
@given(st.sampled_from(["csqa", "aws-call-analytics", "aws-transcribe", "alibaba", "tencent",
                        "iflytek", "dashscope", "funasr", "whisper", "webvtt", "srt"]),
       VENDOR_JSON)
def test_every_forced_format_gives_calls_or_clean_problems(fmt: str, obj: Any) -> None:
    suffix = {"webvtt": ".vtt", "srt": ".srt"}.get(fmt, ".json")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"f{suffix}"
        path.write_text(json.dumps(obj), encoding="utf-8")
        items = list(load_all([path], fmt))
    assert items
    for item in items:
        if isinstance(item, InputProblem):
            assert "internal error" not in item.reason, item.reason
        else:
            assert all(0 <= u.start <= u.end for u in item.utterances)


# ---- fast paths give exactly what the plain paths give ----------------------------------------

def _plain_findings(t: Transcript, monkeypatch: Any) -> list[dict[str, Any]]:
    """The findings with the whole-call pass and the regex pre-filter switched off (every
    utterance folded and scanned on its own, every regex run on every utterance)."""
    from csqa import matching

    with monkeypatch.context() as m:
        m.setattr(matching.CallView, "whole_call", False)
        m.setattr(matching.PhraseBank, "regex_slot", lambda self, pattern: None)
        return [f.as_dict() for f in Engine(RULESET).audit(t).findings]


@FAST
@given(transcripts())
def test_whole_call_pass_and_regex_prefilter_change_nothing(t: Transcript) -> None:
    import pytest

    with pytest.MonkeyPatch.context() as monkeypatch:
        plain = _plain_findings(t, monkeypatch)
    assert [f.as_dict() for f in ENGINE.audit(t).findings] == plain


UTTERANCE = st.fixed_dictionaries(
    {"speaker": st.sampled_from(["agent", "坐席", "客户", "Customer ", "nobody", 3, None]),
     "start": st.one_of(TIME, st.integers(-2, 5), st.sampled_from([True, None, "1.5", float("nan"),
                                                                   float("inf")])),
     "end": st.one_of(TIME, st.integers(-2, 5000), st.just(None)),
     "text": st.one_of(TEXT, st.none(), st.integers(), st.text(max_size=3).map(lambda s: s + "\x1b"))})


@FAST
@given(st.lists(UTTERANCE, max_size=6), st.sampled_from([None, "none", "utterance"]))
def test_loader_fast_path_equals_the_checked_path(utts: list[dict[str, Any]],
                                                  timing: str | None) -> None:
    import pytest

    from csqa.loaders import common

    obj = {"call_id": "P", "agent_id": "A1", "utterances": utts, "timing": timing}

    def load() -> Transcript | str:
        try:
            return from_mapping(obj, "<p>", None)
        except LoadProblem as exc:
            return exc.reason

    fast = load()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(common, "_quick_call", lambda *args: None)
        m.setattr(common, "_quick_utterance", lambda u, limit, index: None)
        checked = load()
    assert fast == checked


@FAST
@given(st.text(alphabet="abcdefgh", min_size=1, max_size=9),
       st.text(alphabet="abcdefghij", max_size=40), st.floats(0.5, 1.0))
def test_alignment_bound_rules_out_nothing_that_would_match(key: str, sym: str,
                                                            similarity: float) -> None:
    import pytest

    from csqa import tolerant

    edits = tolerant.max_edits(len(key), similarity)
    got = (tolerant._align_all(key, sym, edits, similarity),
           tolerant._align_best(key, sym, max(1, len(key) // 2)))
    with pytest.MonkeyPatch.context() as m:
        m.setattr(tolerant, "_cannot_reach", lambda key, sym, cutoff: False)
        assert got == (tolerant._align_all(key, sym, edits, similarity),
                       tolerant._align_best(key, sym, max(1, len(key) // 2)))


@FAST
@given(st.lists(TEXT, max_size=5))
def test_pii_prefilter_never_hides_a_number(texts: list[str]) -> None:
    from csqa.redact import may_hold_pii

    if not may_hold_pii(texts):
        assert all(not find_pii(t) and redact(t) == t for t in texts)



@FAST
@given(st.lists(st.one_of(TEXT, st.lists(st.sampled_from(["1", "3", "8", "一", " ", "-", "@", "a.cn"]),
                                         max_size=14).map("".join)), max_size=6))
def test_texts_holding_pii_are_found_in_one_search(texts: list[str]) -> None:
    """The one search over a call's texts picks exactly the texts that can hold a number or an
    address; redaction leaves every other text as it is, and the call as a whole as redacting
    each text does."""
    from csqa.redact import _HAS_RUN, _holding_pii, redact_transcript

    holding = _holding_pii(texts)
    assert holding == [i for i, t in enumerate(texts) if "@" in t or _HAS_RUN.search(t)]
    assert all(redact(t) == t for i, t in enumerate(texts) if i not in holding)
    call = Transcript(call_id="P", agent_id="A1",
                      utterances=[Utterance(i, "agent", i, i + 1, t) for i, t in enumerate(texts)])
    masked = redact_transcript(call)
    assert [u.text for u in masked.utterances] == [redact(t) for t in texts]
    assert (masked is call) == all(redact(t) == t for t in texts)

@FAST
@given(st.lists(st.sampled_from(["1", "8", "一", "幺", "０", "+", "＋", "-", " ", "\u3000", "X", "x",
                                 "号", "a", "尾号5678", "13812345678"]), max_size=30).map("".join))
def test_the_number_run_check_agrees_with_the_run_search(text: str) -> None:
    """redact's quick check (a run without its optional + and X) finds a candidate exactly when
    the full candidate pattern does."""
    from csqa.redact import _HAS_RUN, _RUN

    assert (_HAS_RUN.search(text) is None) == (_RUN.search(text) is None)

# Words of the default ruleset's tolerant (pinyin) phrases, and homophones/near misses of them.
TOLERANT_BITS = ["您好", "你好", "我是", "工号", "感谢您的来电", "感谢来电", "再见", "在见",
                 "是否满意", "是否蛮意", "还有其他需要", "还有其它须要", "还有什么可以帮您",
                 "请问有什么可以帮您", "对本次服务", "祝您生活愉快", "住您生活愉快", "好的", "嗯"]


@FAST
@given(st.lists(st.one_of(st.sampled_from(TOLERANT_BITS), st.text(max_size=3)), max_size=8)
       .map("".join))
def test_tolerant_occurrences_of_one_set_are_that_sets_share_of_the_full_scan(text: str) -> None:
    """Aligning only the set asked about gives exactly that set's part of the full scan."""
    from csqa.tolerant import to_space

    bank = ENGINE.bank
    for space in ("pinyin", "fuzzy"):
        try:
            index = bank.tolerant(space)
        except KeyError:
            continue
        sym = to_space(bank.normalizer.text(text), space)
        full = index.scan(sym)
        first = index.first_pass(sym)
        sets = {e.set_id for e in index._entries}
        assert sets, "the default ruleset has tolerant phrase sets"
        for set_id in sets:
            assert index.occurrences(sym, first, set_id).get(set_id, []) == full.get(set_id, [])


# Text for folding: the punctuation folding deletes with str.replace, other characters it
# changes (traditional, full-width, upper-case, Latin-1 punctuation), the separator, astral ones.
FOLD_TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from([*",.?!:; ，。？！、：；", "很高興為您服務", "ＡＰＰ", "SF", "\u00a0", "·",
                              "\ue000", "😀", "您好", "\t"]), max_size=20).map("".join))


@FAST
@given(FOLD_TEXT)
def test_fold_is_the_translate_table(text: str) -> None:
    """fold's str.replace + changed-runs path gives exactly the per-character table."""
    from csqa.normalize import _FOLD_TABLE, fold

    assert fold(text) == text.translate(_FOLD_TABLE)


@FAST
@given(transcripts())
def test_whole_call_pass_gives_each_utterances_own_hits(t: Transcript) -> None:
    """What the whole-call pass answers (normalised texts, the utterances
    holding each set, contains/contains_any from those) is exactly what scanning each
    utterance on its own gives."""
    from csqa.matching import CallView

    class Plain(CallView):
        whole_call = False

    bank = ENGINE.bank
    whole = CallView(t, bank)
    plain = Plain(t, bank)
    sets = range(len(bank._sets))
    for u in t.utterances:
        own = bank.scan(bank.normalizer.text(u.text))
        assert whole._scan(u.index) == own
        assert whole.norm_text(u.index) == plain.norm_text(u.index)
        assert whole.folded(u.index) == plain.folded(u.index)
    for speaker in (None, "agent", "customer"):
        mine = [u.index for u in t.utterances if speaker is None or u.speaker == speaker]
        for set_id in sets:
            if bank.space(set_id) is None:
                assert whole.having(set_id, speaker) == plain.having(set_id, speaker)
            assert whole.contains_any(set_id, iter(mine)) == plain.contains_any(set_id, mine)
    for set_id in sets:
        for i in range(len(t.utterances)):
            assert whole.contains(set_id, i) == plain.contains(set_id, i)


@FAST
@given(st.lists(st.sampled_from([*",.?!:; ，。？！、", "呃", "嗯", "那个", "那,个", "很高興", "ＡＰＰ", "SF",
                                 "您好", "\u00a0", "😀", "\t", "a"]), max_size=14).map("".join),
       st.data())
def test_match_offsets_map_back_as_the_per_character_positions_do(text: str, data: Any) -> None:
    """Mapping only a match's two offsets (through where deleted characters are and the
    filler-kept indexes) gives the offsets the full per-character position lists give."""
    from csqa.matching import CallView, _to_original
    from csqa.normalize import folded_positions

    t = Transcript(call_id="P", agent_id="A1", utterances=[Utterance(0, "agent", 0, 1, text)])
    call = CallView(t, ENGINE.bank)
    norm, positions = ENGINE.bank.normalizer.normalize(text)
    folded = call.folded(0)
    for length, plain, mapped in ((len(norm), positions, call._from_norm),
                                  (len(folded), folded_positions(text), call._to_original)):
        start = data.draw(st.integers(0, length))
        end = data.draw(st.integers(start, length))
        assert mapped(0, start, end, "p") == _to_original(plain, start, end, "p")


@FAST
@given(st.lists(st.sampled_from([*",.?!:; ，。？！、", "呃", "嗯", "那个", "您好", "很高興", "再见", "抱歉",
                                 "感谢您的来电", "投诉", "ＡＰＰ", "\u00a0", "😀", "a"]), max_size=14).map("".join))
def test_find_places_matches_as_the_per_character_positions_do(text: str) -> None:
    """``CallView.find`` (which maps back inline when no filler was removed) places every
    exact set's matches where the full per-character position list does."""
    from csqa.matching import CallView, _to_original

    t = Transcript(call_id="P", agent_id="A1", utterances=[Utterance(0, "agent", 0, 1, text)])
    call = CallView(t, ENGINE.bank)
    norm, positions = ENGINE.bank.normalizer.normalize(text)
    for set_id, raw in ENGINE.bank.scan(norm).items():
        if ENGINE.bank.space(set_id) is None:
            assert call.find(set_id, 0) == [_to_original(positions, s, e, p) for s, e, p in raw]


def _occurrences(keys: list[str], text: str) -> list[tuple[str, int, int]]:
    """Every occurrence of every key in ``text``, overlapping ones too, by end then longest
    first: what a phrase pass must give, found the slow way."""
    found = [(k, i, i + len(k)) for k in set(keys) for i in range(len(text) - len(k) + 1)
             if text.startswith(k, i)]
    return sorted(found, key=lambda f: (f[2], f[1] - f[2]))


AC_BITS = ["a", "ab", "aba", "b", "您好", "好", "您", "😀", "😀a", "〇"]


@FAST
@given(st.lists(st.lists(st.sampled_from(AC_BITS), min_size=1, max_size=3).map("".join),
                min_size=1, max_size=6, unique=True),
       st.lists(st.sampled_from([*AC_BITS, "x", "\u00a0"]), max_size=14).map("".join))
def test_phrase_pass_finds_every_occurrence_in_order(phrases: list[str], text: str) -> None:
    """The automaton pass gives every occurrence of every phrase, overlapping ones included, by
    end and longest first, in character offsets (also after characters outside the BMP)."""
    from csqa.matching import PhraseBank
    from csqa.normalize import Normalizer
    from csqa.tolerant import TolerantIndex

    bank = PhraseBank(Normalizer([]))
    first = bank.add(phrases[: len(phrases) // 2 + 1])
    second = bank.add(phrases[len(phrases) // 2 :])
    bank.build()
    got = [(text[s:e], s, e) for s, e, _ in sorted(
        (h for sid in (first, second) for h in bank.scan(text).get(sid, [])),
        key=lambda h: (h[1], h[0] - h[1]))]
    want = [f for f in _occurrences(phrases, text)
            for _ in range((f[0] in phrases[: len(phrases) // 2 + 1])
                           + (f[0] in phrases[len(phrases) // 2 :]))]
    assert got == want
    for hits in bank.scan(text).values():
        ends = [(e, s - e) for s, e, _ in hits]
        assert ends == sorted(ends)
        assert all(text[s:e] == bank.normalizer.key(p) for s, e, p in hits)
    index = TolerantIndex("fuzzy")
    index.add(0, [(p, p) for p in phrases], 0.8)
    index.build()
    exact = index.first_pass(text)[0]
    keys = [e.key for e in index._entries]
    assert sorted({(keys[i], s, e) for i, s, e in exact},
                  key=lambda f: (f[2], f[1] - f[2])) == _occurrences(phrases, text)
