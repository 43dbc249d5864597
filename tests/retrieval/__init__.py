"""Tests of the retrieval package, with the small doubles they share (a hashing embedder, hand-made passages)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from extractor.schema import Passage, Span


class FakeEmbedder:
    """A deterministic bag-of-words embedder (hashed words, unit vectors): texts sharing words are close.

    Loads no model, so unit tests stay fast; the slow tier runs the real MiniLM embedders.
    """

    name = "fake.hashing.v1"
    dimensions = 64

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out


def make_passages(doc_id: str, texts: Sequence[str], *, section: str | None = None, first_page: int = 1) -> list[Passage]:
    """Passages of one document, one per text, on consecutive pages, with spans laid end to end."""
    passages, offset = [], 0
    for i, text in enumerate(texts):
        passages.append(Passage(id=f"{doc_id}:{i}", doc_id=doc_id, index=i, page=first_page + i,
                                span=Span(start=offset, end=offset + len(text)), section=section, text=text))
        offset += len(text) + 2
    return passages


CORPUS = {
    "trial": (
        "clinical_paper",
        "results",
        [
            "Surgical site infection occurred in 12 of 200 patients with the silver dressing and 22 of 200 with gauze.",
            "Length of hospital stay fell by 1.2 days in the intervention arm.",
            "Readmission within 30 days did not differ between the arms.",
        ],
    ),
    "bid": (
        "supplier_submission",
        "benefits",
        [
            "Our silver dressing reduces surgical site infection by 45 percent.",
            "The device saves nurses 20 minutes per procedure and costs 1200 pounds less per patient.",
        ],
    ),
    "guide": (
        "other",
        None,
        [
            "Hand hygiene before every procedure prevents infection.",
        ],
    ),
}


def corpus_passages() -> tuple[list[Passage], dict[str, str]]:
    """The hand-made corpus: its passages and the kind of each document."""
    passages, kinds = [], {}
    for doc_id, (kind, section, texts) in CORPUS.items():
        passages += make_passages(doc_id, texts, section=section)
        kinds[doc_id] = kind
    return passages, kinds
