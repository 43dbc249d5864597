"""The second search stage: a small learned reranker over the fused candidates.

No cross-encoder can be had offline, and running the MiniLM stance model over 50 candidates would cost a
second per query on a laptop. So the reranker scores each fused candidate with a logistic regression over
features the first stage already has or can compute in microseconds: how each retriever ranked and scored
it, how much of the query (stems and stem bigrams) it covers, whether it repeats the query's numbers, and
its length. The weights (``retrieval/heads/rerank.v1.json``, a few hundred bytes) are trained on SciFact
claims by ``python -m eval.training.train_rerank``, holding out a fixed fold of claims for the figure.
"""

from __future__ import annotations

import json
import math
from itertools import pairwise
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from extractor.errors import ConfigError
from retrieval.base import Hit

WEIGHTS = Path(__file__).resolve().parent / "heads" / "rerank.v1.json"
FEATURES = (
    "fused", "bm25_norm", "dense", "bm25_rrank", "dense_rrank", "both", "coverage", "bigram_coverage", "numbers", "log_chars",
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@lru_cache(maxsize=20_000)
def _passage_terms(text: str) -> tuple[frozenset, frozenset, frozenset]:
    """A passage's stems, stem bigrams and numbers: the same passages come back query after query, so they are kept."""
    from retrieval.bm25 import tokenise

    stems = tokenise(text)
    return frozenset(stems), frozenset(pairwise(stems)), frozenset(_NUMBER.findall(text))


def features(query: str, hits: list[Hit]) -> np.ndarray:
    """One row of :data:`FEATURES` per hit (the fused candidates of one query, best first)."""
    from retrieval.bm25 import tokenise

    q_stems = tokenise(query)
    q_set = set(q_stems)
    q_bigrams = set(pairwise(q_stems))
    q_numbers = set(_NUMBER.findall(query))
    top_fused = max((h.score for h in hits), default=0.0) or 1.0
    top_bm25 = max((h.bm25_score or 0.0 for h in hits), default=0.0) or 1.0
    rows = []
    for h in hits:
        s_set, bigrams, numbers = _passage_terms(h.text)
        rows.append((
            h.score / top_fused,
            (h.bm25_score or 0.0) / top_bm25,
            h.dense_score or 0.0,
            1.0 / h.bm25_rank if h.bm25_rank else 0.0,
            1.0 / h.dense_rank if h.dense_rank else 0.0,
            1.0 if h.bm25_rank and h.dense_rank else 0.0,
            len(q_set & s_set) / len(q_set) if q_set else 0.0,
            len(q_bigrams & bigrams) / len(q_bigrams) if q_bigrams else 0.0,
            len(q_numbers & numbers) / len(q_numbers) if q_numbers else 0.0,
            math.log1p(len(h.text)) / 10,
        ))
    return np.asarray(rows, dtype=np.float64).reshape(len(hits), len(FEATURES))


class LinearReranker:
    """Logistic-regression reranker over :func:`features` (see the module docstring)."""

    name = "rerank.linear.v1"

    def __init__(self, weights: dict) -> None:
        if list(weights.get("features", [])) != list(FEATURES):
            raise ConfigError(f"the reranker weights name features {weights.get('features')}, not {list(FEATURES)}.",
                              hint="Retrain them: python -m eval.training.train_rerank --data ../shared/data/scifact")
        self.mean = np.asarray(weights["mean"], dtype=np.float64)
        self.scale = np.asarray(weights["scale"], dtype=np.float64)
        self.coef = np.asarray(weights["coef"], dtype=np.float64)
        self.intercept = float(weights["intercept"])

    def scores(self, query: str, hits: list[Hit]) -> np.ndarray:
        if not hits:
            return np.zeros(0)
        z = (features(query, hits) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.coef + self.intercept)))

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        """The hits re-ordered by the model's probability of relevance (ties keep the fused order)."""
        probs = self.scores(query, hits)
        order = sorted(range(len(hits)), key=lambda i: (-probs[i], i))
        return [hits[i].model_copy(update={"score": float(probs[i])}) for i in order]


@lru_cache(maxsize=1)
def get_reranker(path: str | None = None) -> LinearReranker:
    """The shipped reranker (cached).

    Raises:
        ConfigError: the weights file is missing or unreadable.
    """
    file = Path(path) if path else WEIGHTS
    try:
        weights = json.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read the reranker weights {file} ({e}).",
                          hint="Reinstall the package, or retrain: python -m eval.training.train_rerank --data ../shared/data/scifact",
                          original=e) from e
    return LinearReranker(weights)
