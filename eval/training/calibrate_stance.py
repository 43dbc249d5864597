"""Calibrate when the stance classifier may speak: the probability a passage needs before ``supports`` or
``contradicts`` is said, chosen for precision on pairs the classifier never saw in training.

Run ``python -m eval.training.calibrate_stance --data ../shared/data`` (about 10 minutes on two CPU cores). It scores
three sets the classifier was not trained on (``eval.training.train_stance`` says what it was trained on):

- HealthVer ``dev`` (never trained on): claim vs evidence, Supports / Refutes / Neutral;
- NLI4CT ``dev`` (never trained on): statement vs the trial section premise, Entailment / Contradiction;
- SciFact ``claims_train``'s held-out fold (``claim id % 5 == 0``): claim vs each cited abstract.

For each sided label it fits, per set and pooled, an isotonic curve of "the argmax label is right" against the
label's probability, and takes the lowest probability from which both the fitted precision and the precision of every
pair at or above it reach the label's target (``--contradicts-precision`` 0.9, ``--supports-precision`` 0.75: a false
"contradicts" accuses a supplier, a false "supports" lets a claim pass that a reviewer still reads). The threshold kept is the highest of those (a set too small to say anything,
fewer than ``MIN_SAID`` pairs above the threshold, is not allowed to lower it). A label whose precision never reaches
the target gets a threshold above 1: the classifier then never says it, and says ``not_enough_info`` instead.
The thresholds and the figures behind them go to ``retrieval/heads/stance.v1.calibration.json``, which
``retrieval.support`` reads.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from eval.datasets import stance_data as sd

MIN_SAID = 20
"""A set's threshold counts only when at least this many pairs lie above it."""
NEVER = 1.01


def held_out_pairs(data: Path, limit: int | None = None) -> dict[str, tuple[list[tuple[str, str]], list[str]]]:
    """Per set: (claim, passage) pairs and gold labels (``supports`` / ``contradicts`` / ``not_enough_info``)."""
    sets: dict[str, tuple[list[tuple[str, str]], list[str]]] = {}
    hv = sd.load_healthver(data / "healthver", "dev")[: limit or None]
    sets["healthver_dev"] = ([(e.claim, e.evidence) for e in hv], [e.label for e in hv])
    nli = [e for e in sd.load_nli4ct(data / "nli4ct", "dev") if e.label][: limit or None]
    sets["nli4ct_dev"] = ([(e.statement, e.premise) for e in nli], [e.label for e in nli])
    claims, corpus = sd.load_scifact(data / "scifact", "train")
    pairs, gold = [], []
    for c in [c for c in claims if sd.is_scifact_holdout(c["id"])][: limit or None]:
        for d in c.get("cited_doc_ids", []):
            if int(d) in corpus:
                pairs.append((c["claim"], sd.scifact_doc_text(corpus[int(d)])))
                gold.append(sd.scifact_pair_label(c, int(d)))
    sets["scifact_train_heldout_fold"] = (pairs, gold)
    return sets


def threshold_for(p: np.ndarray, correct: np.ndarray, target: float) -> tuple[float, dict[str, float]]:
    """The lowest probability from which the isotonic precision and the cumulative precision reach ``target``.

    ``p``: the label's probability on the pairs whose argmax is the label; ``correct``: whether the gold agrees.
    Returns the threshold (``NEVER`` when none) and the figures at it.
    """
    from sklearn.isotonic import IsotonicRegression

    if len(p) == 0:
        return NEVER, {"said": 0, "precision": 0.0}
    order = np.argsort(-p)
    p, correct = p[order], correct[order].astype(float)
    fitted = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(p, correct).predict(p)
    cumulative = np.cumsum(correct) / np.arange(1, len(p) + 1)
    best = None
    for k in range(len(p)):  # p descending: k+1 pairs at or above p[k]
        if fitted[k] >= target and cumulative[k] >= target:
            best = k
        elif fitted[k] < target:
            break
    if best is None:
        return NEVER, {"said": 0, "precision": 0.0, "max_probability": round(float(p[0]), 4)}
    return round(float(p[best]), 4), {"said": best + 1, "precision": round(float(cumulative[best]), 4), "of": len(p)}


def calibrate(probabilities: dict[str, np.ndarray], gold: dict[str, list[str]], labels: list[str], targets: dict[str, float]) -> dict:
    """Thresholds per sided label (each with its own precision target) from every set's probabilities (see the module
    docstring), with the figures."""
    out: dict[str, dict] = {"thresholds": {}, "sets": {}}
    pooled_p = np.concatenate([probabilities[s] for s in probabilities])
    pooled_g = [g for s in probabilities for g in gold[s]]
    every = {**{s: (probabilities[s], gold[s]) for s in probabilities}, "pooled": (pooled_p, pooled_g)}
    for label in ("supports", "contradicts"):
        k = labels.index(label)
        chosen, figures = [], {}
        for name, (probs, g) in every.items():
            g = np.asarray(g)
            said = probs.argmax(axis=1) == k
            t, fig = threshold_for(probs[said, k], g[said] == label, targets[label])
            fig["threshold"] = t
            fig["argmax_said"] = int(said.sum())
            fig["argmax_precision"] = round(float((g[said] == label).mean()), 4) if said.any() else 0.0
            figures[name] = fig
            if t >= NEVER and said.sum() >= MIN_SAID:
                chosen.append(NEVER)  # a set with enough say where precision never gets there: never said
            elif t < NEVER and fig["said"] >= MIN_SAID:
                chosen.append(t)
        out["thresholds"][label] = max(chosen) if chosen else NEVER
        out["sets"][label] = figures
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="The shared data folder (healthver/, nli4ct/, scifact/).")
    parser.add_argument("--contradicts-precision", type=float, default=0.9,
                        help="Precision 'contradicts' needs before it is said (a false accusation is the costliest error).")
    parser.add_argument("--supports-precision", type=float, default=0.75, help="Precision 'supports' needs before it is said.")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N examples of each set (a quick look).")
    parser.add_argument("--out", type=Path, default=None, help="Where to write the calibration (default: next to the weights).")
    args = parser.parse_args(argv)

    from retrieval.support import CALIBRATION_PATH, get_stance_classifier

    classifier = get_stance_classifier()
    labels = [s.value for s in classifier.labels]
    sets = held_out_pairs(args.data, args.limit)
    probabilities, gold, seconds = {}, {}, {}
    for name, (pairs, g) in sets.items():
        started = time.perf_counter()
        probabilities[name] = classifier.probabilities(pairs)
        seconds[name] = round(time.perf_counter() - started, 1)
        gold[name] = g
        print(f"{name}: {len(pairs)} pairs in {seconds[name]} s", flush=True)
    targets = {"supports": args.supports_precision, "contradicts": args.contradicts_precision}
    result = calibrate(probabilities, gold, labels, targets)
    result.update({
        "classifier": classifier.name,
        "target_precision": targets,
        "min_said": MIN_SAID,
        "pairs": {name: len(g) for name, g in gold.items()},
        "command": "python -m eval.training.calibrate_stance --data ../shared/data"
                   f" --supports-precision {args.supports_precision} --contradicts-precision {args.contradicts_precision}",
        "note": "Sets the classifier never trained on; thresholds on the sided label's probability when it is the argmax.",
    })
    out = args.out or CALIBRATION_PATH
    if args.limit is None or args.out is not None:
        out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    print(json.dumps({"thresholds": result["thresholds"], "sets": result["sets"]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
