"""Agreement between two independent annotations of the same documents (the writer's and a second annotator's).

``python -m eval.corpus_agreement A.jsonl B.jsonl [--out DISAGREEMENTS.json]`` reads two files in the SPEC gold format,
pairs their documents by ``doc_id`` and their claims as ``vbp eval`` does (one quote contains the other, or token F1
of at least 0.5, one to one, best first), and prints per document and in all: claims only in A, only in B, matched;
on matched claims the agreement of category, direction and hedging (with Cohen's kappa for category), and the token F1
of outcome, intervention and comparator. ``--out`` writes every disagreement (a claim found by one annotator only, or a
matched claim whose category, direction or hedging differ) for the resolution pass.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from eval.metrics import match_pairs, token_f1

FIELDS = ("category", "direction", "hedged")
TEXT_FIELDS = ("outcome", "intervention", "comparator")


def _load(path: Path) -> dict[str, dict]:
    docs = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}, line {n}: not JSON ({e.msg}). Fix the line and run again.") from e
            docs[doc["doc_id"]] = doc
    return docs


def _label(claim: dict, field: str) -> str:
    return str(bool(claim.get(field, False))) if field == "hedged" else str(claim.get(field, ""))


def kappa(pairs: list[tuple[str, str]]) -> float:
    """Cohen's kappa of two raters' labels on the same items (1.0 when both use one label throughout)."""
    if not pairs:
        return 0.0
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return 1.0 if expected >= 1 else (observed - expected) / (1 - expected)


def compare(a: dict[str, dict], b: dict[str, dict]) -> tuple[dict, list[dict]]:
    """The agreement figures and the list of disagreements."""
    totals: Counter = Counter()
    field_pairs: dict[str, list[tuple[str, str]]] = {f: [] for f in FIELDS}
    text_f1: dict[str, list[float]] = {f: [] for f in TEXT_FIELDS}
    per_doc, disagreements = {}, []
    for doc_id in sorted(set(a) | set(b)):
        ca, cb = (a.get(doc_id) or {}).get("claims", []), (b.get(doc_id) or {}).get("claims", [])
        pairs = match_pairs([c["quote"] for c in ca], [c["quote"] for c in cb])
        matched_a, matched_b = {i for i, _, _ in pairs}, {j for _, j, _ in pairs}
        doc = Counter(a_only=len(ca) - len(matched_a), b_only=len(cb) - len(matched_b), matched=len(pairs))
        for i, j, _ in pairs:
            differ = {}
            for f in FIELDS:
                va, vb = _label(ca[i], f), _label(cb[j], f)
                field_pairs[f].append((va, vb))
                if va != vb:
                    differ[f] = {"a": va, "b": vb}
                    doc[f"{f}_differ"] += 1
            for f in TEXT_FIELDS:
                text_f1[f].append(token_f1(ca[i].get(f, "") or "", cb[j].get(f, "") or "") if (ca[i].get(f) or cb[j].get(f)) else 1.0)
            if differ:
                disagreements.append({"doc_id": doc_id, "kind": "labels", "quote_a": ca[i]["quote"], "quote_b": cb[j]["quote"],
                                      "page": ca[i].get("page"), "differ": differ})
        for i, c in enumerate(ca):
            if i not in matched_a:
                disagreements.append({"doc_id": doc_id, "kind": "only_a", "quote_a": c["quote"], "page": c.get("page"),
                                      "category": c.get("category")})
        for j, c in enumerate(cb):
            if j not in matched_b:
                disagreements.append({"doc_id": doc_id, "kind": "only_b", "quote_b": c["quote"], "page": c.get("page"),
                                      "category": c.get("category")})
        per_doc[doc_id] = dict(doc)
        totals.update(doc)
    matched = totals["matched"]
    claims_a, claims_b = matched + totals["a_only"], matched + totals["b_only"]
    result = {
        "documents": len(per_doc),
        "claims_a": claims_a,
        "claims_b": claims_b,
        "matched": matched,
        "claim_f1": round(2 * matched / (claims_a + claims_b), 4) if claims_a + claims_b else 0.0,
        **{f"{f}_agreement": round(sum(x == y for x, y in field_pairs[f]) / matched, 4) if matched else 0.0 for f in FIELDS},
        "category_kappa": round(kappa(field_pairs["category"]), 4),
        **{f"{f}_token_f1": round(sum(v) / len(v), 4) if v else 0.0 for f, v in text_f1.items()},
        "disagreements": len(disagreements),
        "per_document": per_doc,
    }
    return result, disagreements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path, help="The first annotation (gold format JSONL).")
    parser.add_argument("b", type=Path, help="The second annotation of the same documents.")
    parser.add_argument("--out", type=Path, default=None, help="Write the disagreements here (JSON).")
    args = parser.parse_args(argv)
    for path in (args.a, args.b):
        if not path.is_file():
            print(f"{path} does not exist. Give two gold-format JSONL files.", file=sys.stderr)
            return 2
    result, disagreements = compare(_load(args.a), _load(args.b))
    print(json.dumps(result, indent=1))
    if args.out is not None:
        args.out.write_text(json.dumps(disagreements, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{len(disagreements)} disagreements written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
