"""RCT numeric adapter: per-arm numbers (events, group sizes, means, SDs) read from the real PDFs or the article Markdown."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from extractor.errors import ConfigError, DocumentError

SOURCES = ("pdf", "markdown")
"""Where the article text comes from: the journal PDF (default) or the dataset's Markdown rendering."""

_DEV_NAMES = ("dev", "validation", "val", "valid")
RR_TOLERANCE = 0.01
"""A recomputed risk ratio agrees with the gold one when it is within 1% of it."""
RD_TOLERANCE = 0.005
"""A recomputed risk difference agrees with the gold one when it is within half a percentage point."""


def _annotations(data: Path) -> list[dict[str, Any]]:
    path = Path(data) / "annotations.json"
    if not path.is_file():
        raise ConfigError(
            f"no annotations.json in {data}.", hint="Point --data at the rct_numeric folder (annotations.json, pdfs/, markdown/)."
        )
    records = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(records, list):
        raise ConfigError(f"{path} does not hold a list of records.", hint="Use the rct_numeric annotations.json as shipped.")
    return records


def default_split(data: Path) -> str:
    """The split to score: the dev/validation-like split when several are present, else the only one.

    Splits are the ``split`` values of ``annotations.json`` (e.g. ``DEV``, ``TEST``); a name such as
    ``dev`` or ``validation`` (any case) is preferred, then the first in sorted order.
    """
    splits = sorted({str(r.get("split", "")) for r in _annotations(data)} - {""})
    if not splits:
        raise ConfigError(f"the records in {data}/annotations.json have no 'split' field.", hint="Give --split explicitly.")
    for name in splits:
        if name.lower() in _DEV_NAMES:
            return name
    return splits[0]


def gold_number(value: object) -> float | None:
    """A gold field as a number; the dataset writes a missing value as an empty string."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return None if math.isnan(number) else number


def _decimals(value: object) -> int:
    text = str(value).strip()
    if "e" in text.lower() or "." not in text:
        return 0
    return len(text.split(".", 1)[1])


def values_match(predicted: float | None, gold: object) -> bool:
    """True when both are missing, or the prediction equals the gold value after rounding to the gold's decimals.

    Args:
        predicted: The extracted number, or None.
        gold: The gold field as written in annotations.json ("" when missing).
    """
    want = gold_number(gold)
    if want is None or predicted is None:
        return want is None and predicted is None
    decimals = _decimals(gold)
    return abs(round(float(predicted), decimals) - want) < 10 ** -(decimals + 3) or abs(float(predicted) - want) < 1e-9


def _as_arm_fields(record: dict[str, Any], fields: tuple[str, ...]) -> dict[str, int | None]:
    out = {}
    for f in fields:
        value = gold_number(record.get(f, ""))
        out[f] = int(value) if value is not None and value == int(value) else None
    return out


def _source_path(data: Path, record: dict[str, Any], source: str) -> Path:
    pmcid = str(record["pmcid"]).removeprefix("PMC")
    if source == "pdf":
        return Path(data) / "pdfs" / f"PMC{pmcid}.pdf"
    return Path(data) / "markdown" / f"PMC{pmcid}.md"


def effects_agree(gold: dict[str, float], predicted: dict[str, float]) -> bool | None:
    """Whether effects recomputed from the extracted arm numbers agree with those from the gold numbers.

    Compared on the risk ratio (within 1%) when the gold numbers give one, else on the risk difference
    (within half a percentage point, e.g. when the comparator arm has no events). None: no gold effect.
    """
    if "rr" in gold:
        return "rr" in predicted and abs(predicted["rr"] - gold["rr"]) <= RR_TOLERANCE * abs(gold["rr"])
    if "rd" in gold:
        return "rd" in predicted and abs(predicted["rd"] - gold["rd"]) <= RD_TOLERANCE
    return None


def run(data: Path, split: str, *, limit: int | None = None, source: str = "pdf", cv: int | None = None,
        heads: dict[str, Any] | None = None, **options: object) -> dict[str, object]:
    """Extract the arm numbers of every comparison of ``split`` and score them against the gold numbers.

    Args:
        data: The rct_numeric folder (``annotations.json``, ``pdfs/``, ``markdown/``).
        split: The ``split`` value of the records to score.
        limit: Score only the first N usable records.
        source: ``"pdf"`` (records whose PDF is present) or ``"markdown"`` (every record).
        cv: Cross-validate instead of using the shipped heads: K article-level folds over the split's records,
            the heads (thresholds included) fitted on K-1 folds by ``eval.training.train_arms`` and read on the
            held-out one; no article is on both sides.
        heads: The arm heads to read with (default: the shipped ones; tests pass others).

    Returns:
        ``binary_exact_match`` (all four numbers right), ``continuous_exact_match`` (all six right),
        ``field_accuracy`` (share of single fields right, an empty field right when the gold is empty),
        ``field_precision`` (right among the fields filled), ``field_coverage`` (share of fields filled),
        ``per_field`` (precision, coverage and accuracy of each field), ``rr_agreement`` (binary records
        whose effect recomputed from the extracted numbers by ``extractor.arms.recompute_effect`` agrees with
        the one from the gold numbers: see :func:`effects_agree`), ``read_*`` (the same figures for what the reader
        read, its withheld readings included: how good its picks are, whatever their trust), ``seconds_per_article`` (reading the arm
        numbers of all an article's comparisons, parsing left out) and ``slowest_comparison_seconds``, counts and
        per-record results.

    Raises:
        ConfigError: unknown source or split, a bad ``cv``, or a folder without annotations.json.
    """
    from extractor.arms import ARM_FIELDS, EXTRACTOR_NAME, ArmNumbers, extract_arm_numbers, recompute_effect
    from extractor.pipeline import parse_file

    if options:
        raise ConfigError(f"unknown option(s) for rct-numeric: {', '.join(sorted(options))}.", hint="Use --source, --limit and --cv.")
    if source not in SOURCES:
        raise ConfigError(f"unknown source {source!r} for rct-numeric.", hint=f"Use one of: {', '.join(SOURCES)}.")
    if cv is not None and cv < 2:
        raise ConfigError(f"--cv must be at least 2 folds, not {cv}.", hint="Use e.g. --cv 5.")
    records = _annotations(data)
    present = sorted({str(r.get("split", "")) for r in records})
    in_split = [r for r in records if str(r.get("split", "")) == split]
    if not in_split:
        raise ConfigError(f"no record of split {split!r} in {data}/annotations.json.", hint=f"Use one of: {', '.join(present)}.")
    with_pdf = [r for r in in_split if _source_path(data, r, "pdf").is_file()]
    usable = [r for r in in_split if _source_path(data, r, source).is_file()]
    if limit is not None:
        usable = usable[: max(0, limit)]

    failures: dict[str, str] = {}
    predicted_arms: dict[int, Any] = {}
    read_seconds: dict[Path, float] = {}
    per_comparison: list[float] = []
    if cv is not None:
        from eval.training.train_arms import collect, cross_validate
        from extractor.arms.score import assemble

        examples = collect(data, (split,), sources=(source,), records=usable)
        if len({ex.group for ex in examples}) < cv:
            raise ConfigError(f"--cv {cv} needs at least {cv} articles; split {split!r} has {len({ex.group for ex in examples})}.",
                              hint="Use fewer folds or a larger split.")
        scored = {ex.group for ex in examples}
        others = tuple(s for s in present if s and s != split)
        always = [ex for ex in collect(data, others) if ex.group not in scored] if others else []
        for ex, heads in zip(examples, cross_validate(examples, cv, always=always)):
            predicted_arms[id(ex.record)] = assemble(ex.reading, heads)
    else:
        docs: dict[Path, Any] = {}
        for record in usable:
            kind = str(record.get("outcome_type", "")).strip().lower()
            path = _source_path(data, record, source)
            if kind not in ARM_FIELDS:
                continue
            if path not in docs:
                try:
                    docs[path] = parse_file(path)
                except DocumentError as e:
                    docs[path] = None
                    failures[path.name] = e.message
            if docs[path] is None:
                continue
            started = time.perf_counter()
            predicted_arms[id(record)] = extract_arm_numbers(docs[path], intervention=str(record["intervention"]),
                                                             comparator=str(record["comparator"]), outcome=str(record["outcome"]),
                                                             outcome_type=kind, heads=heads)
            took = time.perf_counter() - started
            read_seconds[path] = read_seconds.get(path, 0.0) + took
            per_comparison.append(took)

    exact: dict[str, list[bool]] = {"binary": [], "continuous": []}
    read_exact: dict[str, list[bool]] = {"binary": [], "continuous": []}
    read_right: list[bool] = []
    read_made: list[bool] = []
    field_right: dict[str, list[bool]] = {}
    field_filled: dict[str, list[bool]] = {}
    rr_pairs: list[bool] = []
    results = []
    for record in usable:
        kind = str(record.get("outcome_type", "")).strip().lower()
        if kind not in ARM_FIELDS:
            failures[str(record.get("id"))] = f"unknown outcome_type {record.get('outcome_type')!r}"
            continue
        arms = predicted_arms.get(id(record))
        fields = ARM_FIELDS[kind]
        predicted = {f: (getattr(arms, f) if arms is not None else None) for f in fields}
        right = {f: values_match(predicted[f], record.get(f, "")) for f in fields}
        for f, ok in right.items():
            field_right.setdefault(f, []).append(ok)
            field_filled.setdefault(f, []).append(predicted[f] is not None)
        exact[kind].append(all(right.values()))
        # what the reader read, whether or not it was trusted enough to fill the field (the withheld readings included)
        read = {f: (predicted[f] if predicted[f] is not None else (arms.withheld.get(f) if arms is not None else None)) for f in fields}
        read_ok = {f: values_match(read[f], record.get(f, "")) for f in fields}
        read_exact[kind].append(all(read_ok.values()))
        read_right.extend(read_ok[f] for f in fields if read[f] is not None)
        read_made.extend(read[f] is not None for f in fields)
        if kind == "binary":
            gold_effects = recompute_effect(ArmNumbers(outcome_type=kind, **_as_arm_fields(record, fields)))
            agree = effects_agree(gold_effects, recompute_effect(arms) if arms is not None else {})
            if agree is not None:
                rr_pairs.append(agree)
        results.append({
            "id": record.get("id"), "pmcid": record.get("pmcid"), "outcome_type": kind, "outcome": record.get("outcome"),
            "exact": all(right.values()),
            "fields": {f: {"gold": gold_number(record.get(f, "")), "predicted": predicted[f], "right": right[f],
                           "confidence": arms.confidence.get(f) if arms is not None else None,
                           "withheld": arms.withheld.get(f) if arms is not None else None} for f in fields},
            "sources": {f: s.context[:200] for f, s in (arms.sources.items() if arms is not None else []) if f in arms.values()
                        and getattr(arms, f) is not None},
        })

    def share(xs: list[bool]) -> float:
        return round(sum(xs) / len(xs), 4) if xs else 0.0

    def precision(oks: list[bool], filled: list[bool]) -> float | None:
        kept = [ok for ok, f in zip(oks, filled) if f]
        return round(sum(kept) / len(kept), 4) if kept else None

    all_fields = [ok for oks in field_right.values() for ok in oks]
    all_filled = [f for fs in field_filled.values() for f in fs]
    per_field = {f: {"precision": precision(field_right[f], field_filled[f]), "coverage": share(field_filled[f]),
                     "accuracy": share(field_right[f]), "filled": sum(field_filled[f]), "n": len(field_right[f])}
                 for f in field_right}
    return {
        "binary_exact_match": share(exact["binary"]),
        "continuous_exact_match": share(exact["continuous"]),
        "field_accuracy": share(all_fields),
        "field_precision": precision(all_fields, all_filled),
        "field_coverage": share(all_filled),
        "rr_agreement": share(rr_pairs),
        "read_binary_exact_match": share(read_exact["binary"]),
        "read_continuous_exact_match": share(read_exact["continuous"]),
        "read_field_precision": round(sum(read_right) / len(read_right), 4) if read_right else None,
        "read_field_coverage": share(read_made),
        "rr_agreement_n": len(rr_pairs),
        "examples": len(exact["binary"]) + len(exact["continuous"]),
        "source": source,
        "heads": (f"cross-validated: {cv} article folds of {split}, each fitted on the other folds and on "
                  f"{', '.join(s for s in present if s and s != split) or 'nothing else'}") if cv else "shipped",
        "records_in_split": len(in_split),
        "records_with_pdf": len(with_pdf),
        "skipped_no_source": len(in_split) - len([r for r in in_split if _source_path(data, r, source).is_file()]),
        "seconds_per_article": round(sum(read_seconds.values()) / len(read_seconds), 4) if read_seconds else None,
        "slowest_article_seconds": round(max(read_seconds.values()), 4) if read_seconds else None,
        "slowest_comparison_seconds": round(max(per_comparison), 4) if per_comparison else None,
        "per_outcome_type": {k: len(v) for k, v in exact.items()},
        "per_field_accuracy": {f: share(oks) for f, oks in field_right.items()},
        "per_field": per_field,
        "splits_present": present,
        "failures": failures,
        "extractor": EXTRACTOR_NAME,
        "predictions": results,
    }
