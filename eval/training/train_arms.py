"""Train the arm-number heads (``extractor/heads/arms.v2.json``) on rct_numeric, with article-level cross-validation.

Every comparison of the chosen splits (TRAIN and DEV by default; the Markdown of every article, and the PDF where
the dataset has one: both renderings of an article always fall in the same fold) is read by the rules of
``extractor.arms.read`` into value candidates and group-size statements. Three kinds of head are fitted:

- a ranker per outcome type, a conditional logit over each comparison's candidates, on the comparisons that have
  both a right candidate (every value field it fills equals the gold one; a field whose gold is empty makes it wrong:
  the paper does not give that number) and a wrong one;
- a trust head per outcome type, a logistic head on the rankers' out-of-fold picks, labelled right or wrong;
- the size head on every group size an arm could have given those picks, labelled right when it equals the gold size.

Thresholds are chosen for precision on out-of-fold field predictions of the TRAIN articles only (DEV is the split
the rules were written against, so its readings are right more often than an unseen paper's): the lowest
probability at which the fields kept are right at least ``--precision`` of the time, counted on an isotonic fit.
A head whose fields never get there gets a threshold above 1, and its fields are never filled (the rankers have none:
they only order).
``cross_validate`` repeats the whole fit (thresholds included, chosen on inner folds) on K-1 article folds and
reads the held-out fold: that is what ``vbp eval rct-numeric --cv K`` reports.

    python -m eval.training.train_arms --data ../shared/data/rct_numeric
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from extractor.arms.score import (HEAD_NAME, SIZE_FEATURES, TRUST_FEATURES, TRUST_HEADS, VALUE_FEATURES, VALUE_HEADS, Head, assemble, pick,
                                  size_options, trust_head, value_features, value_head)
from extractor.schema import ARM_FIELDS

SEED = 13
PRECISION = 0.90
"""Out-of-fold precision the thresholds are chosen for (the bar on unseen papers is 0.85)."""
MIN_KEPT = 10
MIN_ARTICLES = 5
"""A threshold keeps fields from at least this many articles: a paper's comparisons are right or wrong together."""
C = 0.05
"""Inverse L2 strength of the logistic heads: strong, because right readings are few (about 100 in TRAIN and DEV)."""
"""A threshold keeps at least this many out-of-fold fields, so that a handful of lucky ones do not set it."""
WEIGHTS_PATH = Path(__file__).resolve().parents[2] / "extractor" / "heads" / f"{HEAD_NAME}.json"


@dataclass
class Example:
    """One comparison read from one rendering of its article: the rules' reading and the gold record."""

    record: dict[str, Any]
    reading: Any
    group: str
    source: str


def collect(data: Path, splits: tuple[str, ...], sources: tuple[str, ...] = ("markdown", "pdf"),
            records: list[dict[str, Any]] | None = None) -> list[Example]:
    """Read every comparison of ``splits`` (or of ``records``) from each available rendering of its article."""
    from eval.datasets.rct_numeric import _annotations, _source_path
    from extractor.arms.read import read_candidates
    from extractor.errors import DocumentError
    from extractor.pipeline import parse_file

    docs: dict[Path, Any] = {}
    out = []
    for record in (records if records is not None else _annotations(data)):
        if str(record.get("split", "")) not in splits:
            continue
        kind = str(record.get("outcome_type", "")).strip().lower()
        if kind not in ARM_FIELDS:
            continue
        for source in sources:
            path = _source_path(data, record, source)
            if not path.is_file():
                continue
            if path not in docs:
                try:
                    docs[path] = parse_file(path)
                except DocumentError:
                    docs[path] = None
            if docs[path] is None:
                continue
            reading = read_candidates(docs[path], intervention=str(record["intervention"]), comparator=str(record["comparator"]),
                                      outcome=str(record["outcome"]), outcome_type=kind)
            out.append(Example(record, reading, str(record["pmcid"]), source))
    return out


# --- labels ------------------------------------------------------------------------------------------


def _gold(record: dict[str, Any], name: str) -> float | None:
    from eval.datasets.rct_numeric import gold_number

    return gold_number(record.get(name, ""))


def candidate_right(cand, example: Example) -> bool:
    """Whether every value field the candidate fills is the gold one (a percentage against gold events / n)."""
    from eval.datasets.rct_numeric import values_match

    record, kind = example.record, example.reading.outcome_type
    for role in ("intervention", "comparator"):
        val = cand.values.get(role)
        if val is None:
            return False
        it = val.item
        if kind == "continuous":
            if not values_match(it.a, record.get(f"{role}_mean", "")):
                return False
            if it.b is not None and not values_match(it.b, record.get(f"{role}_standard_deviation", "")):
                return False
        elif it.kind == "pct":
            e, n = _gold(record, f"{role}_events"), _gold(record, f"{role}_group_size")
            if e is None or not n or abs(100 * e / n - (it.pct or 0)) > 0.55:
                return False
        elif not values_match(it.a, record.get(f"{role}_events", "")):
            return False
    return True


# --- fitting -----------------------------------------------------------------------------------------


def _matrix(rows: list[dict[str, float]], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[r.get(n, 0.0) for n in names] for r in rows], dtype=float).reshape(len(rows), len(names))


def _fit_head(rows: list[dict[str, float]], labels: list[int], names: tuple[str, ...], threshold: float = 0.5) -> Head:
    from sklearn.linear_model import LogisticRegression

    X, y = _matrix(rows, names), np.array(labels)
    mean = X.mean(axis=0) if len(X) else np.zeros(len(names))
    scale = X.std(axis=0) if len(X) else np.ones(len(names))
    mean[0], scale[0] = 0.0, 1.0  # the bias column stays a constant 1
    scale[scale < 1e-9] = 1.0
    if len(set(y.tolist())) < 2:
        weights = np.zeros(len(names))
        weights[0] = 10.0 if (len(y) and y[0] == 1) else -10.0
    else:
        model = LogisticRegression(C=C, max_iter=5000, fit_intercept=False)
        model.fit((X - mean) / scale, y)
        weights = model.coef_[0]
    return Head(names, tuple(float(v) for v in mean), tuple(float(v) for v in scale), tuple(float(v) for v in weights), threshold)


RANK_L2 = 0.1
"""L2 strength of the rankers' conditional logit (on standardised features)."""


def _fit_ranker(examples: list[Example]) -> Head:
    """A conditional logit over each comparison's candidates: the weights that make the right candidates' share of the
    softmax largest (comparisons with no right candidate, or only right ones, say nothing about the ranking)."""
    from scipy.optimize import minimize

    names = VALUE_FEATURES
    groups = []
    for ex in examples:
        if not ex.reading.candidates:
            continue
        X = _matrix(value_features(ex.reading), names)
        y = np.array([candidate_right(c, ex) for c in ex.reading.candidates], dtype=bool)
        groups.append((X, y))
    everything = np.vstack([X for X, _ in groups]) if groups else np.zeros((0, len(names)))
    mean = everything.mean(axis=0) if len(everything) else np.zeros(len(names))
    scale = everything.std(axis=0) if len(everything) else np.ones(len(names))
    mean[0], scale[0] = 0.0, 1.0
    scale[scale < 1e-9] = 1.0
    usable = [((X - mean) / scale, y) for X, y in groups if y.any() and not y.all()]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = RANK_L2 * float(w @ w), 2 * RANK_L2 * w
        for X, y in usable:
            z = X @ w
            e = np.exp(z - z.max())
            p = e / e.sum()
            right = p[y].sum()
            total -= float(np.log(right + 1e-12))
            grad = grad - (p[y] @ X[y]) / (right + 1e-12) + p @ X
        return total, grad

    weights = minimize(loss, np.zeros(len(names)), jac=True, method="L-BFGS-B").x if usable else np.zeros(len(names))
    weights[0] = 0.0  # a constant moves every candidate alike
    return Head(names, tuple(float(v) for v in mean), tuple(float(v) for v in scale), tuple(float(v) for v in weights), 0.0)


def _rankers(examples: list[Example]) -> dict[str, Head]:
    return {name: _fit_ranker([ex for ex in examples if value_head(ex.reading.outcome_type) == name]) for name in VALUE_HEADS}


def _pick(example: Example, heads: dict[str, Head]):
    """The candidate the ranker picks, its trust probability and the trust features (None, 0.0, {} without candidates)."""
    k, p, feats = pick(example.reading, heads)
    return (example.reading.candidates[k] if k is not None else None), p, feats


def _size_rows(examples: list[Example], picks: list[tuple[Any, float]]) -> tuple[list[dict[str, float]], list[int]]:
    rows, labels = [], []
    for ex, (cand, p) in zip(examples, picks):
        for role, options in size_options(ex.reading, cand, p).items():
            gold = _gold(ex.record, f"{role}_group_size")
            for sc, f in options:
                rows.append(f)
                labels.append(int(gold is not None and sc.n == gold))
    return rows, labels


def _folds(examples: list[Example], k: int, seed: int = SEED) -> list[int]:
    """Fold of each example, by article (both renderings of an article in the same fold)."""
    groups = sorted({ex.group for ex in examples})
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(groups))
    fold_of = {groups[i]: r % k for r, i in enumerate(order)}
    return [fold_of[ex.group] for ex in examples]


def _fit_unthresholded(examples: list[Example], pick_folds: int = 3) -> dict[str, Head]:
    """Rankers, trust heads and the size head, thresholds not chosen. The trust heads learn whether the rankers'
    out-of-fold picks were right (so they learn the rankers' real mistakes), the size head from those same picks."""
    placeholder = {name: Head(TRUST_FEATURES, (0.0,) * len(TRUST_FEATURES), (1.0,) * len(TRUST_FEATURES),
                              (0.0,) * len(TRUST_FEATURES), 0.0) for name in TRUST_HEADS}
    folds = _folds(examples, pick_folds, seed=SEED + 2)
    picked: list[tuple[Any, dict[str, float]]] = [(None, {})] * len(examples)
    for f in range(pick_folds):
        held = _rankers([ex for ex, g in zip(examples, folds) if g != f]) | placeholder
        for i, g in enumerate(folds):
            if g == f:
                cand, _, feats = _pick(examples[i], held)
                picked[i] = (cand, feats)
    heads = _rankers(examples)
    for name in TRUST_HEADS:
        rows, labels = [], []
        for ex, (cand, feats) in zip(examples, picked):
            if cand is not None and trust_head(ex.reading.outcome_type) == name:
                rows.append(feats)
                labels.append(int(candidate_right(cand, ex)))
        heads[name] = _fit_head(rows, labels, TRUST_FEATURES)
    picks = [(cand, heads[trust_head(ex.reading.outcome_type)].probability(feats) if cand is not None else 0.0)
             for ex, (cand, feats) in zip(examples, picked)]
    heads["size"] = _fit_head(*_size_rows(examples, picks), SIZE_FEATURES)
    return heads


def _choose(scored: list[tuple[float, bool, str]], precision: float) -> float:
    """The lowest probability whose kept fields (all at or above it) are right at least ``precision`` of the time, both
    counted on an isotonic fit of rightness on probability (monotone, so a lucky run of a few fields does not set it)
    and averaged article by article (so that one article's many comparisons, right or wrong together, do not set it),
    and that keeps at least ``MIN_KEPT`` fields from at least ``MIN_ARTICLES`` articles; 1.01 (nothing is ever
    filled) when no probability gets there."""
    from sklearn.isotonic import IsotonicRegression

    if len(scored) < MIN_KEPT:
        return 1.01
    p = np.array([t[0] for t in scored])
    ok = np.array([float(t[1]) for t in scored])
    fitted = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, ok).predict(p)
    order = np.argsort(-p)
    kept_precision = np.cumsum(fitted[order]) / np.arange(1, len(p) + 1)  # smoothed precision of the top i fields
    passing = []
    per_article: dict[str, list[float]] = {}
    for i in range(len(p)):
        per_article.setdefault(scored[order[i]][2], []).append(ok[order[i]])
        if i + 1 < len(p) and p[order[i + 1]] >= p[order[i]]:
            continue  # a tie: the threshold keeps the next field too
        macro = sum(sum(v) / len(v) for v in per_article.values()) / len(per_article)
        if i + 1 >= MIN_KEPT and len(per_article) >= MIN_ARTICLES and kept_precision[i] >= precision and macro >= precision:
            passing.append(i)
    return float(p[order[passing[-1]]]) if passing else 1.01


def _field_scores(examples: list[Example], heads_per_example: list[dict[str, Head]]) -> dict[str, list[tuple[float, bool, str]]]:
    """(probability, right, article) of every field read, out of fold, by kind ('value', 'size')."""
    from eval.datasets.rct_numeric import values_match

    out: dict[str, list[tuple[float, bool, str]]] = {name: [] for name in (*TRUST_HEADS, "size")}
    for ex, heads in zip(examples, heads_per_example):
        loose = {k: Head(h.features, h.mean, h.scale, h.weights, 0.0) for k, h in heads.items()}
        arms = assemble(ex.reading, loose)
        for name, p in arms.confidence.items():
            value = getattr(arms, name)
            head = "size" if name.endswith("group_size") else trust_head(ex.reading.outcome_type)
            out[head].append((p, values_match(value, ex.record.get(name, "")), ex.group))
    return out


CALIBRATE_ON = ("TRAIN",)
"""Splits whose out-of-fold fields choose the thresholds: not DEV, the split the rules were written against, whose
readings are right more often than an unseen paper's."""


def fit(examples: list[Example], *, precision: float = PRECISION, inner: int = 4) -> tuple[dict[str, Head], dict[str, Any]]:
    """Fit the heads on ``examples`` and choose their thresholds on ``inner``-fold out-of-fold predictions of the
    examples from ``CALIBRATE_ON`` splits (all of them when there are none)."""
    folds = _folds(examples, inner, seed=SEED + 1)
    oof: list[dict[str, Head] | None] = [None] * len(examples)
    for f in range(inner):
        train = [ex for ex, g in zip(examples, folds) if g != f]
        heads = _fit_unthresholded(train)
        for i, g in enumerate(folds):
            if g == f:
                oof[i] = heads
    calibrating = [i for i, ex in enumerate(examples) if str(ex.record.get("split", "")) in CALIBRATE_ON] or list(range(len(examples)))
    scores = _field_scores([examples[i] for i in calibrating], [oof[i] for i in calibrating])  # type: ignore[misc]
    heads = _fit_unthresholded(examples)
    thresholds = {kind: (_choose(scores[kind], precision) if kind in scores else 0.0) for kind in heads}
    out = {kind: Head(h.features, h.mean, h.scale, h.weights, thresholds[kind]) for kind, h in heads.items()}
    info = {}
    for kind, pairs in scores.items():
        kept = [ok for p, ok, _ in pairs if p >= thresholds[kind]]
        info[kind] = {"threshold": round(thresholds[kind], 4), "oof_fields": len(pairs), "oof_kept": len(kept),
                      "oof_precision": round(sum(kept) / len(kept), 4) if kept else None,
                      "oof_precision_all": round(sum(ok for _, ok, _ in pairs) / len(pairs), 4) if pairs else None}
    return out, info


def cross_validate(examples: list[Example], k: int, *, precision: float = PRECISION,
                   always: list[Example] = ()) -> list[dict[str, Head]]:
    """Heads for each example fitted without its article's fold (thresholds chosen inside the training folds).

    ``always``: examples of other articles that every fold also learns from (the shipped heads learn from DEV too);
    an article among them must not be among ``examples``.
    """
    folds = _folds(examples, k)
    per: list[dict[str, Head] | None] = [None] * len(examples)
    shared = {ex.group for ex in examples} & {ex.group for ex in always}
    if shared:
        raise ValueError(f"articles both scored and always learned from: {sorted(shared)[:5]}")
    for f in range(k):
        heads, _ = fit([ex for ex, g in zip(examples, folds) if g != f] + list(always), precision=precision)
        for i, g in enumerate(folds):
            if g == f:
                per[i] = heads
    return per  # type: ignore[return-value]


def write(heads: dict[str, Head], info: dict[str, Any], path: Path = WEIGHTS_PATH, **meta: Any) -> None:
    payload = {"name": HEAD_NAME, **meta, "calibrated_on": list(CALIBRATE_ON), "out_of_fold": info}
    for kind, h in heads.items():
        payload[kind] = {"features": list(h.features), "mean": [round(v, 6) for v in h.mean], "scale": [round(v, 6) for v in h.scale],
                         "weights": [round(v, 6) for v in h.weights], "threshold": round(h.threshold, 6)}
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="The rct_numeric folder.")
    ap.add_argument("--splits", default="TRAIN,DEV", help="Splits to learn from (comma-separated).")
    ap.add_argument("--precision", type=float, default=PRECISION)
    ap.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    splits = tuple(s.strip() for s in args.splits.split(",") if s.strip())
    examples = collect(args.data, splits)
    heads, info = fit(examples, precision=args.precision)
    write(heads, info, args.out, splits=list(splits), precision=args.precision, examples=len(examples),
          articles=len({ex.group for ex in examples}))
    print(json.dumps({"examples": len(examples), "seconds": round(time.perf_counter() - t0, 1), **info}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
