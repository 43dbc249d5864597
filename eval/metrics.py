"""Scoring functions shared by the dataset adapters: P/R/F1, macro F1, token F1, claim matching."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Sequence

_TOKEN = re.compile(r"\w+", re.UNICODE)
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})


def normalise(text: str) -> str:
    """Whitespace, case and ligature normalisation used when comparing quotes (SPEC)."""
    text = unicodedata.normalize("NFKC", text.translate(_LIGATURES))
    return " ".join(text.lower().split())


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


def token_f1(a: str, b: str) -> float:
    """Bag-of-tokens F1 between two strings (1.0 when both are empty)."""
    ta, tb = tokens(a), tokens(b)
    if not ta and not tb:
        return 1.0
    if not ta or not tb:
        return 0.0
    common = sum((Counter(ta) & Counter(tb)).values())
    if not common:
        return 0.0
    p, r = common / len(ta), common / len(tb)
    return 2 * p * r / (p + r)


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def macro_f1(gold: Sequence[Hashable], pred: Sequence[Hashable], labels: Sequence[Hashable] | None = None) -> dict[str, object]:
    """Macro-averaged F1 over labels, with per-label P/R/F1 and accuracy."""
    labels = list(labels) if labels is not None else sorted(set(gold) | set(pred), key=str)
    per = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred) if g == label and p != label)
        per[str(label)] = prf(tp, fp, fn)
    macro = sum(v["f1"] for v in per.values()) / len(per) if per else 0.0
    acc = sum(1 for g, p in zip(gold, pred) if g == p) / len(gold) if gold else 0.0
    return {"macro_f1": round(macro, 4), "accuracy": round(acc, 4), "per_label": per, "n": len(gold)}


def quotes_match(a: str, b: str) -> float:
    """Match score of two quotes (SPEC): 1.0 when one contains the other after normalisation,
    else their token F1; a pair counts as a match at 0.5 or more."""
    na, nb = normalise(a), normalise(b)
    if na and nb and (na in nb or nb in na):
        return 1.0
    return token_f1(a, b)


def match_pairs(gold: Sequence[str], pred: Sequence[str], threshold: float = 0.5) -> list[tuple[int, int, float]]:
    """One-to-one pairs (gold index, predicted index, score), best first, score >= threshold."""
    scored = []
    for i, g in enumerate(gold):
        for j, p in enumerate(pred):
            s = quotes_match(g, p)
            if s >= threshold:
                scored.append((s, i, j))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_g, used_p, pairs = set(), set(), []
    for s, i, j in scored:
        if i not in used_g and j not in used_p:
            used_g.add(i)
            used_p.add(j)
            pairs.append((i, j, s))
    return pairs


def quantity_matches(gold: Sequence[dict], pred: Sequence[dict], tolerance: float = 0.005) -> int:
    """Count one-to-one matches: same unit and value within 0.5% (SPEC)."""
    used = set()
    n = 0
    for g in gold:
        for j, p in enumerate(pred):
            if j in used or (g.get("unit") or "") != (p.get("unit") or ""):
                continue
            gv, pv = float(g["value"]), float(p["value"])
            if gv == pv or (gv and abs(gv - pv) / abs(gv) <= tolerance):
                used.add(j)
                n += 1
                break
    return n
