"""Train the claim category head (``extractor/heads/labels.v1.npz``) on the project's gold claims.

Run ``python -m eval.training.train_labels`` (about a minute on two CPU cores). Every document of the gold files
(default: ``corpus/gold.jsonl``, the rules' development set, and ``corpus/labels/gold.jsonl``, fifteen submissions
written and annotated apart from the extractor) is parsed and its claims extracted with the rules alone; each claim
matched to a gold claim (``vbp eval``'s matching) is one example: the head's features (``extractor.labels``) and the
gold category. Never trained on: ``corpus/labels/heldout.jsonl`` and ``corpus/heldout/`` (the held-out estimates).

A multinomial logistic regression (scikit-learn, balanced class weights) is scored by document-level K-fold
cross-validation (no document on both sides); the gate threshold (the head's probability needed to replace the rules'
category) is the one that gives the most right categories on the out-of-fold predictions, and the head that ships is
refitted on every document. The file's ``meta`` records the data, the folds and the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from extractor.labels import CATEGORIES, N_BUCKETS, WEIGHTS_PATH, CategoryHead, category_features, hash_features

REPO = Path(__file__).resolve().parents[2]
DEFAULT_GOLD = (REPO / "corpus" / "gold.jsonl", REPO / "corpus" / "labels" / "gold.jsonl")
THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
C = 4.0


def examples(gold_docs: list[dict]) -> list[dict]:
    """One example per extracted claim matched to a gold claim: its document, features, rule and gold category."""
    from eval.metrics import match_pairs
    from extractor.claims import _section_category, extract_claims
    from extractor.pipeline import parse_file
    from extractor.schema import ClaimCategory

    out = []
    for g in gold_docs:
        doc = parse_file(g["_path"])
        claims = extract_claims(doc, label_head=None).claims
        rows = {s.span.start: s.in_table for s in doc.sentences}
        for i, j, _ in match_pairs([c["quote"] for c in g["claims"]], [c.quote for c in claims]):
            c = claims[j]
            feats = category_features(c.quote, rule=c.category, section_prior=_section_category(c.section),
                                      in_table=rows.get(c.span.start, False), quantities=c.quantities)
            out.append({"doc": g["doc_id"], "features": feats, "rule": c.category, "gold": ClaimCategory(g["claims"][i]["category"])})
    return out


def _matrix(rows: list[dict]):
    from scipy.sparse import csr_matrix

    data, indices, indptr = [], [], [0]
    for r in rows:
        ids, vals = hash_features(r["features"])
        indices.extend(ids.tolist())
        data.extend(vals.tolist())
        indptr.append(len(indices))
    return csr_matrix((np.array(data, dtype=np.float32), np.array(indices), np.array(indptr)), shape=(len(rows), N_BUCKETS))


def fit(rows: list[dict], threshold: float = 0.5) -> CategoryHead:
    """A head fitted on ``rows`` (from :func:`examples`)."""
    from sklearn.linear_model import LogisticRegression

    y = np.array([CATEGORIES.index(r["gold"]) for r in rows])
    model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(_matrix(rows), y)
    weights = np.zeros((N_BUCKETS, len(CATEGORIES)), dtype=np.float32)
    weights[:, model.classes_] = model.coef_.T
    bias = np.full(len(CATEGORIES), -30.0, dtype=np.float32)  # a category never seen in training is never given
    bias[model.classes_] = model.intercept_
    used = np.flatnonzero(np.abs(weights).sum(axis=1) > 1e-6)
    return CategoryHead(rows=used.astype(np.int64), weights=weights[used], bias=bias, threshold=threshold)


def cross_validate(rows: list[dict], k: int) -> dict:
    """Document-level K-fold figures of the rules, of the head, and of the head gated at each threshold."""
    docs = sorted({r["doc"] for r in rows})
    fold = {d: i % k for i, d in enumerate(docs)}
    probs = np.zeros((len(rows), len(CATEGORIES)))
    for f in range(k):
        train = [r for r in rows if fold[r["doc"]] != f]
        head = fit(train)
        for n, r in enumerate(rows):
            if fold[r["doc"]] == f:
                probs[n] = head.probabilities(r["features"])
    gold = np.array([CATEGORIES.index(r["gold"]) for r in rows])
    rule = np.array([CATEGORIES.index(r["rule"]) for r in rows])
    best = probs.argmax(axis=1)
    gated = {t: float(np.mean(np.where(probs.max(axis=1) >= t, best, rule) == gold)) for t in THRESHOLDS}
    threshold = max(THRESHOLDS, key=lambda t: (round(gated[t], 4), -t))
    return {"folds": k, "documents": len(docs), "examples": len(rows), "rules_accuracy": round(float(np.mean(rule == gold)), 4),
            "head_accuracy": round(float(np.mean(best == gold)), 4), "gated_accuracy": {str(t): round(a, 4) for t, a in gated.items()},
            "threshold": threshold}


def main(argv: list[str] | None = None) -> int:
    from eval.datasets.vbp import load_gold

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, nargs="+", default=list(DEFAULT_GOLD), help="Gold files to learn from.")
    parser.add_argument("--cv", type=int, default=5, help="Document-level folds for the estimate and the gate threshold.")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    gold = [d for path in args.gold for d in load_gold(path)]
    rows = examples(gold)
    figures = cross_validate(rows, args.cv)
    head = fit(rows, figures["threshold"])
    meta = {"name": "labels.linear.v1", "gold": [str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p) for p in args.gold],
            "C": C, "cv": figures, "seconds": round(time.perf_counter() - started, 1),
            "command": "python -m eval.training.train_labels", "never_trained_on": ["corpus/labels/heldout.jsonl", "corpus/heldout/gold.jsonl"]}
    head.save(args.out, json.dumps(meta))
    print(json.dumps(meta, indent=1))
    print(f"wrote {args.out} ({len(head.rows)} buckets)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
