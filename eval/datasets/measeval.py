"""Adapter for MeasEval (SemEval-2021 task 8): quantities and their units in scientific text."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from eval.metrics import prf

_NUMBER = re.compile(r"[-−–+±~≈<>≤≥]?\s?\d[\d,]*(?:\.\d+)?(?:\s?[x×]\s?10\^?[-−]?\d+)?")


def default_split(data: Path) -> str:
    splits = sorted(p.name for p in data.iterdir() if (p / "text").is_dir())
    if not splits:
        from extractor.errors import ConfigError

        raise ConfigError(f"no split folders with text/ and tsv/ under {data}.", hint="Point --data at the measeval folder.")
    return "dev" if "dev" in splits else splits[0]


def load(data: Path, split: str) -> list[tuple[str, str, list[dict]]]:
    """(document id, text, gold quantities with start/end/text/unit) for every document of a split."""
    docs = []
    for txt in sorted((data / split / "text").glob("*.txt")):
        text = txt.read_text(encoding="utf-8")
        gold: list[dict] = []
        tsv = data / split / "tsv" / f"{txt.stem}.tsv"
        if tsv.exists():
            with tsv.open(encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    if row["annotType"] != "Quantity":
                        continue
                    other = json.loads(row["other"]) if row.get("other") else {}
                    gold.append({"start": int(row["startOffset"]), "end": int(row["endOffset"]), "text": row["text"],
                                 "unit": (other.get("unit") or "").strip()})
        docs.append((txt.stem, text, gold))
    return docs


def written_unit(quantity_text: str) -> str:
    """The unit as written in a quantity's text: what is left once the number is removed."""
    rest = _NUMBER.sub(" ", quantity_text, count=1)
    return " ".join(rest.split()).strip(" ()[],;")


def _norm_unit(unit: str) -> str:
    return unit.lower().replace(" ", "").replace("percent", "%").replace("percentage", "%")


def run(data: Path, split: str, *, limit: int | None = None, **_: object) -> dict[str, object]:
    """Quantity span F1 (overlap and exact) and unit accuracy on matched quantities."""
    from extractor.quantities import extract_quantities

    docs = load(data, split)[: limit or None]
    tp = fp = fn = exact = 0
    unit_right = unit_total = 0
    for _doc_id, text, gold in docs:
        pred = [q for q in extract_quantities(text) if q.span is not None]
        used: set[int] = set()
        matched = 0
        for g in gold:
            best = None
            for j, q in enumerate(pred):
                if j in used:
                    continue
                overlap = min(g["end"], q.span.end) - max(g["start"], q.span.start)
                if overlap > 0 and (best is None or overlap > best[1]):
                    best = (j, overlap)
            if best is None:
                continue
            j = best[0]
            used.add(j)
            matched += 1
            q = pred[j]
            exact += (q.span.start, q.span.end) == (g["start"], g["end"])
            if g["unit"]:
                unit_total += 1
                unit_right += _norm_unit(written_unit(q.text)) == _norm_unit(g["unit"])
        tp += matched
        fp += len(pred) - matched
        fn += len(gold) - matched
    overlap_prf = prf(tp, fp, fn)
    exact_prf = prf(exact, tp + fp - exact, fn + tp - exact)
    return {
        "examples": len(docs),
        "quantity_f1": overlap_prf["f1"],
        "quantity_precision": overlap_prf["precision"],
        "quantity_recall": overlap_prf["recall"],
        "quantity_exact_f1": exact_prf["f1"],
        "unit_accuracy": round(unit_right / unit_total, 4) if unit_total else 0.0,
        "units_scored": unit_total,
        "gold_quantities": tp + fn,
        "predicted_quantities": tp + fp,
        "matching": "a predicted quantity matches a gold one when their character spans overlap (one to one); "
                    "exact F1 needs identical spans; unit accuracy compares the unit as written, on matched pairs with a gold unit",
    }
