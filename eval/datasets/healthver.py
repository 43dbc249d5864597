"""HealthVer adapter: a health claim + an evidence text → supports / refutes / neutral (macro F1).

Each row's (claim, evidence) pair goes to ``retrieval.support``'s stance classifier; Supports = supports,
Refutes = contradicts, Neutral = not_enough_info. The classifier never saw HealthVer in training.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from eval.datasets._splits import split_from_files
from eval.metrics import macro_f1

LABELS = ("supports", "contradicts", "not_enough_info")


def default_split(data: Path) -> str:
    """``dev`` when ``dev.csv`` exists, else the one ``<split>.csv`` present."""
    return split_from_files(data, "csv", folder_hint="the healthver folder")


def run(data: Path, split: str, *, limit: int | None = None, batch_size: int = 16, **_: object) -> dict[str, object]:
    """Macro F1 over the three labels, with per-label precision / recall / F1.

    Raises:
        ConfigError: the split file is missing or has an unknown label, or the stance weights are missing.
    """
    from eval.datasets.stance_data import load_healthver
    from retrieval.support import get_stance_classifier

    examples = load_healthver(Path(data), split)[: limit or None]
    classifier = get_stance_classifier()
    started = time.perf_counter()
    predictions = classifier.predict_pairs([(e.claim, e.evidence) for e in examples], batch_size=batch_size)
    seconds = time.perf_counter() - started
    gold = [e.label for e in examples]
    pred = [p.stance.value for p in predictions]
    scores = macro_f1(gold, pred, LABELS)
    return {
        "examples": len(examples),
        "macro_f1": scores["macro_f1"],
        "accuracy": scores["accuracy"],
        "per_label": scores["per_label"],
        "classifier": classifier.name,
        "label_map": "Supports = supports, Refutes = contradicts, Neutral = not_enough_info",
        "gold": dict(Counter(gold)),
        "predicted": dict(Counter(pred)),
        "pairs_per_second": round(len(examples) / seconds, 2) if seconds > 0 else 0.0,
    }
