"""Train the search reranker (``retrieval/heads/rerank.v1.json``) on SciFact claims.

    python -m eval.training.train_rerank --data ../shared/data/scifact [--index-dir DIR] [--split train]

Every abstract of the corpus is indexed in the product's hybrid index (reused from ``--index-dir`` when it
already holds the corpus); for each claim with evidence the fused top ``--depth`` candidates are featurised
(``retrieval.rerank.features``) and labelled relevant when they hold evidence for the claim. Claims whose id
is divisible by 5 are held out: the logistic regression is fitted on the others, and the script prints
nDCG@10 on the held-out claims with and without reranking, plus a 5-fold cross-validated estimate over every
claim (folds by claim id). Deterministic (no random state involved).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from eval.datasets.scifact import open_index, corpus_passages, load_claims, load_corpus, ndcg_at
from eval.datasets.stance_data import SCIFACT_HOLDOUT, is_scifact_holdout
from retrieval.rerank import FEATURES, WEIGHTS, features


def _held_out(claim_id: int) -> bool:
    return is_scifact_holdout(claim_id)


def collect(data: Path, split: str, index_dir: Path, depth: int):
    """(features, labels, claim ids, per-claim candidate doc ids, per-claim relevant sets)."""
    corpus = load_corpus(data)
    searcher = open_index(index_dir)
    if searcher.count() != len(corpus) or searcher.bm25.count() != len(corpus):
        searcher.clear()
        searcher.add(corpus_passages(corpus))
    X, y, groups, ranked, relevant = [], [], [], [], []
    for claim in load_claims(data, split):
        rel = {str(d) for d in claim.get("evidence", {})}
        if not rel:
            continue
        hits = searcher.search(claim["claim"], depth)
        X.append(features(claim["claim"], hits))
        y.append(np.array([h.doc_id in rel for h in hits], dtype=np.int64))
        groups.append(int(claim["id"]))
        ranked.append([h.doc_id for h in hits])
        relevant.append(rel)
    searcher.close()
    return X, y, groups, ranked, relevant


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="The scifact folder (corpus.jsonl, claims_<split>.jsonl).")
    parser.add_argument("--split", default="train")
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/vbp-rerank-index"))
    parser.add_argument("--depth", type=int, default=30, help="Fused candidates reranked per query (HybridSearcher.rerank_depth).")
    parser.add_argument("--C", type=float, default=0.01, help="Inverse regularisation strength (0.01 was best in 5-fold CV).")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    from sklearn.linear_model import LogisticRegression

    X, y, groups, ranked, relevant = collect(args.data, args.split, args.index_dir, args.depth)

    def fit(idx: list[int]):
        Xtr, ytr = np.vstack([X[i] for i in idx]), np.concatenate([y[i] for i in idx])
        mean, scale = Xtr.mean(axis=0), Xtr.std(axis=0) + 1e-9
        return mean, scale, LogisticRegression(C=args.C, max_iter=3000, class_weight="balanced").fit((Xtr - mean) / scale, ytr)

    def rerank_ndcg(idx: list[int], mean, scale, model) -> tuple[list[float], list[float]]:
        before, after = [], []
        for i in idx:
            probs = model.predict_proba((X[i] - mean) / scale)[:, 1]
            order = sorted(range(len(ranked[i])), key=lambda j: (-probs[j], j))
            before.append(ndcg_at(ranked[i], relevant[i], 10))
            after.append(ndcg_at([ranked[i][j] for j in order], relevant[i], 10))
        return before, after

    cv_before, cv_after = [], []  # 5-fold cross-validation by claim id, for an estimate over every claim
    for fold in range(5):
        b, a = rerank_ndcg([i for i, g in enumerate(groups) if g % 5 == fold], *fit([i for i, g in enumerate(groups) if g % 5 != fold]))
        cv_before += b
        cv_after += a
    train = [i for i, g in enumerate(groups) if not _held_out(g)]
    test = [i for i, g in enumerate(groups) if _held_out(g)]
    mean, scale, model = fit(train)
    held = [float(np.mean(v)) for v in rerank_ndcg(test, mean, scale, model)]
    fit_scores = [float(np.mean(v)) for v in rerank_ndcg(train, mean, scale, model)]
    weights = {
        "name": "rerank.linear.v1",
        "features": list(FEATURES),
        "mean": mean.round(6).tolist(),
        "scale": scale.round(6).tolist(),
        "coef": model.coef_[0].round(6).tolist(),
        "intercept": round(float(model.intercept_[0]), 6),
        "trained_on": f"SciFact claims_{args.split}, claims not held out ({SCIFACT_HOLDOUT}: held out) ({len(train)} claims), top {args.depth} fused candidates",
        "held_out_ndcg_at_10": {"claims": len(test), "fused": round(held[0], 4), "reranked": round(held[1], 4)},
        "training_ndcg_at_10": {"claims": len(train), "fused": round(fit_scores[0], 4), "reranked": round(fit_scores[1], 4)},
        "cv5_ndcg_at_10": {"claims": len(groups), "fused": round(float(np.mean(cv_before)), 4), "reranked": round(float(np.mean(cv_after)), 4)},
        "C": args.C,
        "depth": args.depth,
    }
    args.out.write_text(json.dumps(weights, indent=2) + "\n")
    print(json.dumps({k: weights[k] for k in ("held_out_ndcg_at_10", "training_ndcg_at_10", "cv5_ndcg_at_10")}, indent=2))


if __name__ == "__main__":
    main()
