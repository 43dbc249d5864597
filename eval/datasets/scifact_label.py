"""SciFact label task: a claim and each abstract it cites → SUPPORT / CONTRADICT / NOT ENOUGH INFO (macro F1).

The standard label task given the cited abstracts: every (claim, cited abstract) pair is scored, the gold
label being the abstract's evidence label (no evidence = not enough info). The passage is the title and the
abstract (cut to what the model reads). ``retrieval.support``'s classifier was trained on ``claims_train``
except the claims with ``id % 5 == 0``; on that split only those held-out claims are scored, and the result
says so. ``eval.datasets.scifact`` (retrieval) merges this into its result.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from eval.metrics import macro_f1

LABELS = ("supports", "contradicts", "not_enough_info")
TRAINED_SPLIT = "train"
"""The split the stance classifier was trained on (all but its held-out fold)."""


def label_scores(data: Path, split: str, *, limit: int | None = None, batch_size: int = 16) -> dict[str, object]:
    """Label macro F1 over (claim, cited abstract) pairs, with per-label scores.

    Args:
        data: The scifact folder (``corpus.jsonl``, ``claims_<split>.jsonl``).
        split: The claims file to score; on ``train`` only the held-out fold is scored.
        limit: Score only the first N claims (after the fold filter).
        batch_size: Pairs per forward pass.

    Returns:
        ``label_macro_f1``, ``label_accuracy``, ``label_per_label``, ``label_examples`` (pairs scored),
        ``label_claims``, ``label_scored_on``, ``label_classifier`` and ``label_pairs_per_second``.

    Raises:
        ConfigError: the split or the corpus is missing, or the stance weights are.
    """
    from eval.datasets.stance_data import SCIFACT_HOLDOUT, is_scifact_holdout, load_scifact, scifact_doc_text, scifact_pair_label
    from retrieval.support import get_stance_classifier

    claims, corpus = load_scifact(Path(data), split)
    if split == TRAINED_SPLIT:
        claims = [c for c in claims if is_scifact_holdout(c["id"])]
        n = len(claims[: limit or None])
        scored_on = f"held-out fold ({SCIFACT_HOLDOUT}), {n} claims; the other claims of this split were trained on"
    else:
        scored_on = f"all {len(claims[: limit or None])} claims of {split}"
    claims = claims[: limit or None]
    pairs, gold, missing = [], [], 0
    for c in claims:
        for d in c.get("cited_doc_ids", []):
            if int(d) not in corpus:
                missing += 1
                continue
            pairs.append((c["claim"], scifact_doc_text(corpus[int(d)])))
            gold.append(scifact_pair_label(c, int(d)))
    classifier = get_stance_classifier()
    started = time.perf_counter()
    pred = [p.stance.value for p in classifier.predict_pairs(pairs, batch_size=batch_size)]
    seconds = time.perf_counter() - started
    scores = macro_f1(gold, pred, LABELS)
    return {
        "label_macro_f1": scores["macro_f1"],
        "label_accuracy": scores["accuracy"],
        "label_per_label": scores["per_label"],
        "label_examples": len(pairs),
        "label_claims": len(claims),
        "label_scored_on": scored_on,
        "label_classifier": classifier.name,
        "label_gold": dict(Counter(gold)),
        "label_predicted": dict(Counter(pred)),
        "label_cited_docs_missing": missing,
        "label_pairs_per_second": round(len(pairs) / seconds, 2) if seconds > 0 else 0.0,
    }
