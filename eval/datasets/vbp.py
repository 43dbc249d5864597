"""Adapter for our own gold format (SPEC): claims from documents, scored by quote matching."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from eval.metrics import match_pairs, prf, quantity_matches, token_f1
from extractor.claims import PACKAGED

TEXT_FIELDS = ("outcome", "intervention", "comparator")


def default_split(data: Path) -> str:
    return data.stem if data.is_file() else "gold"


def load_gold(path: Path) -> list[dict]:
    """Read a gold JSONL file; document paths are resolved against the file's folder."""
    docs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as e:
            from extractor.errors import ConfigError

            raise ConfigError(f"{path}: line {n} is not valid JSON ({e.msg}).", hint="Fix the gold file.") from e
        doc["_path"] = (path.parent / doc["path"]).resolve()
        docs.append(doc)
    return docs


def predict(doc_path: Path, label_head=PACKAGED, outcome_head=None) -> list[dict]:
    """Run the pipeline on one document and return its claims as plain dicts (``label_head``, ``outcome_head``: a fold's
    own category head and outcome scorer; as ``extract_claims`` takes them)."""
    from extractor.claims import extract_claims
    from extractor.pipeline import parse_file

    claims = extract_claims(parse_file(doc_path), label_head=label_head, outcome_head=outcome_head)
    return [c.model_dump(mode="json") for c in claims.claims]


def score(gold_docs: list[dict], predictions: dict[str, list[dict]]) -> dict[str, object]:
    """Score predicted claims against gold claims (SPEC matching), over all documents."""
    tp = fp = fn = 0
    cat_tp, cat_fp, cat_fn = Counter(), Counter(), Counter()
    cat_right = dir_right = strict = matched = 0
    confusion: Counter = Counter()
    field_f1 = {f: 0.0 for f in TEXT_FIELDS}
    q_gold = q_pred = q_match = 0
    errors: list[dict] = []
    for g in gold_docs:
        gold = g["claims"]
        pred = predictions.get(g["doc_id"], [])
        pairs = match_pairs([c["quote"] for c in gold], [c["quote"] for c in pred])
        got_g, got_p = {i for i, _, _ in pairs}, {j for _, j, _ in pairs}
        tp += len(pairs)
        fp += len(pred) - len(pairs)
        fn += len(gold) - len(pairs)
        for j, p in enumerate(pred):
            if j not in got_p:
                cat_fp[p["category"]] += 1
                errors.append({"doc": g["doc_id"], "type": "false_positive", "page": p.get("page"), "quote": p["quote"]})
        for i, c in enumerate(gold):
            if i not in got_g:
                cat_fn[c["category"]] += 1
                errors.append({"doc": g["doc_id"], "type": "missed", "page": c.get("page"), "quote": c["quote"]})
        for i, j, _ in pairs:
            gc, pc = gold[i], pred[j]
            matched += 1
            cat_tp[gc["category"]] += 1
            ok_cat = gc["category"] == pc["category"]
            confusion[(gc["category"], pc["category"])] += 1
            ok_dir = gc.get("direction", "unspecified") == pc["direction"]
            cat_right += ok_cat
            dir_right += ok_dir
            strict += ok_cat and ok_dir
            for f in TEXT_FIELDS:
                field_f1[f] += token_f1(gc.get(f, "") or "", pc.get(f, "") or "")
            gq, pq = gc.get("quantities", []), pc.get("quantities", [])
            q_gold += len(gq)
            q_pred += len(pq)
            q_match += quantity_matches(gq, pq)
            if not ok_cat or not ok_dir:
                errors.append({"doc": g["doc_id"], "type": "wrong_label", "quote": gc["quote"],
                               "gold": [gc["category"], gc.get("direction")], "predicted": [pc["category"], pc["direction"]]})
    claims = prf(tp, fp, fn)
    strict_prf = prf(strict, tp + fp - strict, fn + tp - strict)
    quantity = prf(q_match, q_pred - q_match, q_gold - q_match)
    per_category = {c: prf(cat_tp[c], cat_fp[c], cat_fn[c]) for c in sorted(set(cat_tp) | set(cat_fp) | set(cat_fn))}
    return {
        "claim_f1": claims["f1"],
        "claim_precision": claims["precision"],
        "claim_recall": claims["recall"],
        "strict_f1": strict_prf["f1"],
        "category_accuracy": round(cat_right / matched, 4) if matched else 0.0,
        "direction_accuracy": round(dir_right / matched, 4) if matched else 0.0,
        "quantity_f1": quantity["f1"],
        "quantity_precision": quantity["precision"],
        "quantity_recall": quantity["recall"],
        **{f"{f}_token_f1": round(field_f1[f] / matched, 4) if matched else 0.0 for f in TEXT_FIELDS},
        "per_category": per_category,
        "category_confusion": {g: {p: n for (gg, p), n in sorted(confusion.items()) if gg == g}
                               for g in sorted({g for g, _ in confusion})},
        "gold_claims": tp + fn,
        "predicted_claims": tp + fp,
        "errors": errors,
    }


def run(data: Path, split: str, *, limit: int | None = None, cv: int | None = None, outcome_spans: bool = False,
        **_: object) -> dict[str, object]:
    """Score claim extraction on a gold JSONL file (``data``).

    ``outcome_spans``: outcomes from the learned span scorer (off in the product, see ``extract_claims``).
    With ``cv`` K, the category head (and with ``outcome_spans`` the outcome scorer) is refitted K times on the file's own documents (document-level folds, no
    document on both sides) and each fold's documents are labelled by the head that never saw them: the
    cross-validated figures of this gold file (``eval.training.train_labels``).
    """
    gold_docs = load_gold(data)[: limit or None]
    if cv is None:
        spans = PACKAGED if outcome_spans else None
        predictions = {g["doc_id"]: predict(g["_path"], outcome_head=spans) for g in gold_docs}
        return {"examples": len(gold_docs), "outcome_spans": outcome_spans, **score(gold_docs, predictions)}
    from eval.training.train_labels import examples, fit, fit_outcome
    from extractor.errors import ConfigError

    if cv < 2 or cv > len(gold_docs):
        raise ConfigError(f"--cv {cv} needs between 2 and {len(gold_docs)} folds: the file has {len(gold_docs)} documents.",
                          hint="Choose a K no larger than the number of documents.")
    folds = [gold_docs[k::cv] for k in range(cv)]
    predictions = {}
    for k, held in enumerate(folds):
        rows = examples([g for j, f in enumerate(folds) if j != k for g in f])
        head, spans = fit(rows), (fit_outcome(rows) if outcome_spans else None)
        predictions.update({g["doc_id"]: predict(g["_path"], label_head=head, outcome_head=spans) for g in held})
    return {"examples": len(gold_docs), "cv_folds": cv,
            "cv_note": "category head (and with outcome_spans the outcome scorer) refitted per document fold on this file",
            "outcome_spans": outcome_spans,
            **score(gold_docs, predictions)}
