"""Train the claim category head and the outcome span scorer (``extractor/heads/labels.v1.npz``) on the project's gold.

Run ``python -m eval.training.train_labels`` (about a minute on two CPU cores). Every document of the gold files
(default: ``corpus/gold.jsonl``, the rules' development set, and ``corpus/labels/gold.jsonl``, fifteen submissions
written and annotated apart from the extractor) is parsed and its claims extracted with the rules alone; each claim
matched to a gold claim (``vbp eval``'s matching) is one example: the head's features (``extractor.labels``) and the
gold category; for a sentence, each candidate outcome phrase (``extractor.labels.outcome_candidates``) with its token
F1 against the gold outcome (a phrase at 0.5 or more is right). Never trained on: ``corpus/labels/heldout.jsonl`` and ``corpus/heldout/`` (the held-out estimates).

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

from extractor.labels import (
    CATEGORIES,
    N_BUCKETS,
    WEIGHTS_PATH,
    CategoryHead,
    OutcomeHead,
    category_features,
    hash_features,
    outcome_candidates,
    outcome_features,
)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_GOLD = (REPO / "corpus" / "gold.jsonl", REPO / "corpus" / "labels" / "gold.jsonl")
THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
C = 4.0


def examples(gold_docs: list[dict]) -> list[dict]:
    """One example per extracted claim matched to a gold claim: its document, features, rule and gold category; for a
    sentence (not a table row), also each candidate outcome phrase's features and its token F1 with the gold outcome."""
    from eval.metrics import match_pairs, token_f1
    from extractor.claims import section_category, extract_claims
    from extractor.pico import load_pipeline
    from extractor.pipeline import parse_file
    from extractor.schema import ClaimCategory

    nlp = load_pipeline("auto")
    out = []
    for g in gold_docs:
        doc = parse_file(g["_path"])
        claims = extract_claims(doc, label_head=None, outcome_head=None).claims
        rows = {s.span.start: s.in_table for s in doc.sentences}
        for i, j, _ in match_pairs([c["quote"] for c in g["claims"]], [c.quote for c in claims]):
            c, gold = claims[j], g["claims"][i]
            in_table = rows.get(c.span.start, False)
            feats = category_features(c.quote, rule=c.category, section_prior=section_category(c.section),
                                      in_table=in_table, quantities=c.quantities)
            spans = []
            if not in_table:
                tagged = nlp(c.quote)
                category = ClaimCategory(gold["category"])  # at run time the category comes first; here the gold one
                spans = [(outcome_features(tagged, a, b, k, intervention=c.intervention, category=category, rule_outcome=c.outcome),
                          token_f1(gold.get("outcome") or "", tagged[a:b].text), c.outcome)
                         for a, b, k in outcome_candidates(tagged)]
            out.append({"doc": g["doc_id"], "features": feats, "rule": c.category, "gold": ClaimCategory(gold["category"]),
                        "spans": spans, "rule_outcome_f1": token_f1(gold.get("outcome") or "", c.outcome or "")})
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


def fit_outcome(rows: list[dict]) -> OutcomeHead | None:
    """The outcome span scorer fitted on the candidate phrases of ``rows`` (a phrase is right at token F1 0.5 or more);
    None when the phrases are all right or all wrong (nothing to learn: the rules' outcome stays)."""
    from sklearn.linear_model import LogisticRegression

    spans = [(feats, f1) for r in rows for feats, f1, _ in r["spans"]]
    y = np.array([f1 >= 0.5 for _, f1 in spans])
    if len(set(y.tolist())) < 2:
        return None
    model = LogisticRegression(C=2.0, max_iter=5000).fit(_matrix([{"features": f} for f, _ in spans]), y)
    used = np.flatnonzero(np.abs(model.coef_[0]) > 1e-6)
    return OutcomeHead(rows=used.astype(np.int64), weights=model.coef_[0][used].astype(np.float32), bias=float(model.intercept_[0]))


def _outcome_f1(head: OutcomeHead | None, r: dict) -> float:
    if head is None or not r["spans"]:
        return r["rule_outcome_f1"]
    return max(r["spans"], key=lambda s: head.score(s[0]))[1]


def cross_validate(rows: list[dict], k: int) -> dict:
    """Document-level K-fold figures of the rules, of the head, and of the head gated at each threshold."""
    docs = sorted({r["doc"] for r in rows})
    fold = {d: i % k for i, d in enumerate(docs)}
    probs = np.zeros((len(rows), len(CATEGORIES)))
    outcome = np.zeros(len(rows))
    for f in range(k):
        train = [r for r in rows if fold[r["doc"]] != f]
        head, spans = fit(train), fit_outcome(train)
        for n, r in enumerate(rows):
            if fold[r["doc"]] == f:
                probs[n] = head.probabilities(r["features"])
                outcome[n] = _outcome_f1(spans, r)
    gold = np.array([CATEGORIES.index(r["gold"]) for r in rows])
    rule = np.array([CATEGORIES.index(r["rule"]) for r in rows])
    best = probs.argmax(axis=1)
    gated = {t: float(np.mean(np.where(probs.max(axis=1) >= t, best, rule) == gold)) for t in THRESHOLDS}
    threshold = max(THRESHOLDS, key=lambda t: (round(gated[t], 4), -t))
    return {"folds": k, "documents": len(docs), "examples": len(rows), "rules_accuracy": round(float(np.mean(rule == gold)), 4),
            "head_accuracy": round(float(np.mean(best == gold)), 4), "gated_accuracy": {str(t): round(a, 4) for t, a in gated.items()},
            "threshold": threshold, "outcome_token_f1_rules": round(float(np.mean([r["rule_outcome_f1"] for r in rows])), 4),
            "outcome_token_f1_head": round(float(np.mean(outcome)), 4)}


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
    head, outcome = fit(rows, figures["threshold"]), fit_outcome(rows)
    meta = {"name": "labels.linear.v1", "gold": [str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p) for p in args.gold],
            "C": C, "cv": figures, "seconds": round(time.perf_counter() - started, 1),
            "command": "python -m eval.training.train_labels", "never_trained_on": ["corpus/labels/heldout.jsonl", "corpus/heldout/gold.jsonl"]}
    head.save(args.out, json.dumps(meta), outcome)
    print(json.dumps(meta, indent=1))
    print(f"wrote {args.out} ({len(head.rows)} buckets)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
