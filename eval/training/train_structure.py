"""Train the structure judge (``retrieval/heads/structure.v1.json``) on claims built from Evidence Inference train prompts.

For every prompt (intervention, comparator, outcome, the trial's finding) of a train article, claims are built the way
suppliers state them: one per direction (increase, decrease, no difference), labelled supports when it is the trial's
finding and contradicts otherwise; and two not-enough-info claims: this prompt's arms with an outcome from another
article that the article never mentions, and a whole prompt of another article. Each claim's features come from
``retrieval.checking.structure`` over the parsed article (the same code the claim check runs). A multinomial logistic
regression is fitted; its thresholds are chosen on article-grouped 5-fold out-of-fold probabilities, for precision:
``contradicts`` is said only where it was right at least ``--contradicts-precision`` of the time, ``supports`` likewise.
Evidence Inference validation and the claim_check set are never read.

    python -m eval.training.train_structure --data ../shared/data/evidence_inference
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from eval.training.train_direction import article_path, load_prompts
from extractor.schema import Direction
from retrieval.checking.structure import CLASSES, FEATURES, NAME, WEIGHTS_PATH, content_terms, features, read_findings

SEED = 13
DIRECTIONS = (Direction.increase, Direction.decrease, Direction.no_difference)


def build_examples(data: Path, *, articles: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
    """``(X, y, groups, claimed, counts)``: features, class indices (of ``CLASSES``), article ids and the claimed
    direction's index in ``DIRECTIONS`` (what a claim-only baseline sees)."""
    from extractor.pipeline import parse_file
    from extractor.schema import DocumentKind

    prompts, _ = load_prompts(data, "train")
    by_article: dict[str, list] = defaultdict(list)
    for p in prompts:
        by_article[p.pmcid].append(p)
    rng = random.Random(seed)
    ids = sorted(by_article)
    rng.shuffle(ids)
    ids = ids[:articles]
    outcomes = [p for a in sorted(by_article) for p in by_article[a]]
    X, y, groups, claimed = [], [], [], []
    counts = defaultdict(int)
    for n, pmcid in enumerate(ids, start=1):
        doc = parse_file(article_path(data, pmcid), kind=DocumentKind.clinical_paper)
        lower = doc.text.lower()
        for p in by_article[pmcid]:
            findings = read_findings(doc, intervention=p.intervention, comparator=p.comparator, outcome=p.outcome)
            for d in DIRECTIONS:
                x = features(d, findings)
                if x is not None:
                    X.append(x), y.append(0 if d is p.label else 1), groups.append(pmcid), claimed.append(DIRECTIONS.index(d))
                    counts["supports" if d is p.label else "contradicts"] += 1
            for _ in range(20):  # an outcome this article never mentions, with this prompt's arms
                other = rng.choice(outcomes)
                words = content_terms(other.outcome)
                if other.pmcid != pmcid and words and not any(w in lower for w in words):
                    d = rng.choice(DIRECTIONS)
                    x = features(d, read_findings(doc, intervention=p.intervention, comparator=p.comparator, outcome=other.outcome))
                    if x is not None:
                        X.append(x), y.append(2), groups.append(pmcid), claimed.append(DIRECTIONS.index(d))
                        counts["nei_outcome"] += 1
                    break
            other = rng.choice(outcomes)
            if other.pmcid != pmcid:  # a claim about another trial altogether
                x = features(other.label, read_findings(doc, intervention=other.intervention, comparator=other.comparator,
                                                        outcome=other.outcome))
                if x is not None:
                    X.append(x), y.append(2), groups.append(pmcid), claimed.append(DIRECTIONS.index(other.label))
                    counts["nei_other"] += 1
        if n % 50 == 0:
            print(f"  {n}/{len(ids)} articles, {len(y)} examples", flush=True)
    return np.array(X), np.array(y), np.array(groups), np.array(claimed), dict(counts)


def _threshold(p: np.ndarray, right: np.ndarray, precision: float) -> tuple[float, float, float]:
    """The lowest threshold whose verdicts are right at least ``precision`` of the time: ``(t, precision, coverage)``."""
    for t in np.arange(0.34, 0.991, 0.01):
        said = p >= t
        if said.sum() >= 20 and right[said].mean() >= precision:
            return round(float(t), 2), round(float(right[said].mean()), 4), round(float(said.mean()), 4)
    return 0.99, 0.0, 0.0


def claim_only_baseline(claimed: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """Article-grouped CV macro F1 of a model that sees only the claim's direction, never the paper.

    Far above a third, and the claims built from the prompts would carry their label in their wording (every finding
    mostly "no difference", say), which the judge could learn instead of reading the paper.
    """
    from sklearn.metrics import f1_score
    from sklearn.model_selection import GroupKFold

    one_hot = np.eye(len(DIRECTIONS))[claimed]
    pred = np.zeros(len(y), dtype=int)
    for train, test in GroupKFold(n_splits=5).split(one_hot, y, groups):
        model, mean, scale = fit(one_hot[train], y[train])
        pred[test] = model.predict((one_hot[test] - mean) / scale)
    return round(float(f1_score(y, pred, average="macro")), 4)


def fit(X: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    mean, scale = X.mean(0), X.std(0) + 1e-9
    model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
    model.fit((X - mean) / scale, y)
    return model, mean, scale


def main(argv: list[str] | None = None) -> int:
    from sklearn.model_selection import GroupKFold

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the evidence_inference folder")
    ap.add_argument("--articles", type=int, default=300, help="train articles to build claims from (default 300)")
    ap.add_argument("--contradicts-precision", type=float, default=0.9)
    ap.add_argument("--supports-precision", type=float, default=0.85)
    ap.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    X, y, groups, claimed, counts = build_examples(args.data, articles=args.articles)
    print(f"{len(y)} examples from {len(set(groups))} articles ({counts}) in {time.perf_counter() - started:.0f} s")
    oof = np.zeros((len(y), len(CLASSES)))
    for train, test in GroupKFold(n_splits=5).split(X, y, groups):
        model, mean, scale = fit(X[train], y[train])
        oof[test] = model.predict_proba((X[test] - mean) / scale)
    thresholds, cv = {}, {}
    for k, (name, precision) in enumerate((("supports", args.supports_precision), ("contradicts", args.contradicts_precision))):
        t, got, coverage = _threshold(oof[:, k], y == k, precision)
        thresholds[name] = t
        cv[name] = {"threshold": t, "precision": got, "share_said": coverage}
    pred = np.full(len(y), 2)
    pred[oof[:, 0] >= thresholds["supports"]] = 0
    pred[oof[:, 1] >= thresholds["contradicts"]] = 1  # contradicts is checked first at run time
    from sklearn.metrics import f1_score

    cv["macro_f1_with_abstention"] = round(float(f1_score(y, pred, average="macro")), 4)
    cv["macro_f1_argmax"] = round(float(f1_score(y, oof.argmax(1), average="macro")), 4)
    cv["claim_only_baseline_macro_f1"] = claim_only_baseline(claimed, y, groups)
    model, mean, scale = fit(X, y)
    out = {"name": NAME, "features": list(FEATURES), "classes": [c.value for c in CLASSES], "coef": model.coef_.tolist(),
           "intercept": model.intercept_.tolist(), "mean": mean.tolist(), "scale": scale.tolist(), "thresholds": thresholds,
           "info": {"trained_on": f"Evidence Inference train, {len(set(groups))} articles, {len(y)} claims {counts}",
                    "cross_validated": cv, "command": "python -m eval.training.train_structure --data ../shared/data/evidence_inference "
                               f"--articles {args.articles} --supports-precision {args.supports_precision} "
                               f"--contradicts-precision {args.contradicts_precision}"}}
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["info"], indent=1))
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
