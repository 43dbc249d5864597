"""Text similarity between questions and claims: an embedding function when one is given, else a lexical TF-IDF cosine.

The product passes its offline MiniLM (any callable ``list[str] -> array of shape (n, d)``); without one, texts are
compared by a deterministic TF-IDF cosine over stemmed words (Snowball through PyStemmer, as the BM25 index uses),
with IDF taken over the texts being compared.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from extractor.scoring.errors import ScoringError

#: An embedding function: texts in, one row per text out.
EmbedFn = Callable[[list[str]], "np.ndarray"]

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOPWORDS = frozenset(
    "a an and are as at be been being but by can could did do does for from had has have how if in into is it its "
    "may might more most no not of on or our over per so such than that the their them then there these they this "
    "those through to under up was we were what when where which while who will with would you your".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    import Stemmer  # PyStemmer, as the BM25 index uses

    return Stemmer.Stemmer("english").stemWord


def stem_tokens(text: str) -> list[str]:
    """Lower-cased words of ``text`` without stopwords, each stemmed ("Readmissions were reduced" -> readmiss, reduc)."""
    stem = _stemmer()
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


def contains_phrase(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    """True when ``phrase`` (stemmed tokens) occurs in ``tokens`` as a run."""
    n = len(phrase)
    if n == 0:
        return False
    return any(tuple(tokens[i:i + n]) == tuple(phrase) for i in range(len(tokens) - n + 1))


def lexical_similarity(queries: list[str], docs: list[str]) -> np.ndarray:
    """Cosine similarity of TF-IDF vectors (sublinear term frequency, smoothed IDF over queries and docs together).

    Returns:
        An array of shape (len(queries), len(docs)), each value in [0, 1].
    """
    tokens = [stem_tokens(t) for t in (*queries, *docs)]
    n = len(tokens)
    df = Counter(term for toks in tokens for term in set(toks))
    vocab = {term: i for i, term in enumerate(sorted(df))}
    matrix = np.zeros((n, len(vocab)))
    for row, toks in enumerate(tokens):
        for term, count in Counter(toks).items():
            matrix[row, vocab[term]] = (1 + math.log(count)) * (math.log((1 + n) / (1 + df[term])) + 1)
    return _cosine(matrix[: len(queries)], matrix[len(queries):])


def embedding_similarity(embed: EmbedFn, queries: list[str], docs: list[str]) -> np.ndarray:
    """Cosine similarity of the embeddings ``embed`` gives, negatives clipped to 0.

    Raises:
        ScoringError: the function does not return one finite row per text.
    """
    if not queries or not docs:
        return np.zeros((len(queries), len(docs)))
    vectors = np.asarray(embed([*queries, *docs]), dtype=float)
    if vectors.ndim != 2 or vectors.shape[0] != len(queries) + len(docs) or not np.isfinite(vectors).all():
        raise ScoringError(f"the embedding function returned an array of shape {vectors.shape} for {len(queries) + len(docs)} texts.",
                           hint="Pass a function that returns one finite vector per text, shape (n, d).")
    return _cosine(vectors[: len(queries)], vectors[len(queries):])


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.size == 0 or b.size == 0:
        return np.zeros((a.shape[0], b.shape[0]))
    norm_a = np.linalg.norm(a, axis=1, keepdims=True)
    norm_b = np.linalg.norm(b, axis=1, keepdims=True)
    a = np.divide(a, norm_a, out=np.zeros_like(a), where=norm_a > 0)
    b = np.divide(b, norm_b, out=np.zeros_like(b), where=norm_b > 0)
    return np.clip(a @ b.T, 0.0, 1.0)
