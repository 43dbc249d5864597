"""Check the demo corpus gold file against the rendered documents.

For every claim in ``corpus/gold.jsonl`` this opens the document, collapses all whitespace to single
spaces on both sides, and checks that the claim's ``quote`` occurs on the stated ``page``. A PDF's page
texts come from pypdfium2 (the raw text layer, running headers and footers included); a Word or Excel
file's from the project's own reader (``extractor.pipeline.parse_file``), whose pages are the Word
file's page breaks and the workbook's sheets. It also checks the record's shape (kind, categories,
directions, quantity kinds and units) and that each quantity's optional ``text`` lies inside its quote.
A document whose gold lists ``total_mismatches`` (``location``, ``stated``, ``computed``: the totals of
a workbook that do not add up) must be parsed with exactly those. It prints a summary (documents,
pages, claims per category) and exits non-zero on any miss. Run ``python -m eval.corpus_check [GOLD]``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pypdfium2 as pdfium

GOLD = Path(__file__).resolve().parent.parent / "corpus" / "gold.jsonl"
CATEGORIES = {"outcome", "cost", "safety", "resource_use", "experience", "environmental", "social", "supply"}
DIRECTIONS = {"increase", "decrease", "no_difference", "unspecified"}
KINDS = {"percent", "relative_change", "absolute_change", "ratio", "mean_difference", "ci", "p_value", "currency",
         "count", "sample_size", "duration", "rate"}
UNITS = {"", "%", "days", "hours", "minutes", "weeks", "months", "years"}
CLAIM_KEYS = {"quote", "page", "category", "direction", "outcome", "intervention", "comparator", "quantities"}


def norm(text: str) -> str:
    """Collapse every run of whitespace to one space and trim the ends."""
    return re.sub(r"\s+", " ", text).strip()


OFFICE_SUFFIXES = (".docx", ".docm", ".xlsx", ".xlsm")


def page_texts(path: Path) -> list[str]:
    """Whitespace-normalised text of each page, in order (a PDF's text layer; a Word or Excel file as parsed)."""
    if path.suffix.lower() in OFFICE_SUFFIXES:
        from extractor.pipeline import parse_file

        return [norm(page.text) for page in parse_file(path).pages]
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [norm(pdf[i].get_textpage().get_text_range()) for i in range(len(pdf))]
    finally:
        pdf.close()


def check_total_mismatches(expected: list[dict], path: Path) -> list[str]:
    """Problems with a workbook's flagged totals: each expected one found with its figures, and no others."""
    from extractor.pipeline import parse_file

    found = {m.location: m for m in parse_file(path).total_mismatches}
    problems = []
    for want in expected:
        got = found.pop(want["location"], None)
        if got is None:
            problems.append(f"total mismatch at {want['location']} not flagged")
        elif (got.stated, got.computed) != (want["stated"], want["computed"]):
            problems.append(f"total mismatch at {want['location']}: flagged {got.stated:g} vs {got.computed:g}, "
                            f"gold says {want['stated']:g} vs {want['computed']:g}")
    problems += [f"unexpected total mismatch flagged at {loc}: {m.note}" for loc, m in found.items()]
    return problems


def check_claim(claim: dict, pages: list[str]) -> list[str]:
    """Return the problems found with one gold claim (empty when it is fine)."""
    problems = [f"missing key {key!r}" for key in sorted(CLAIM_KEYS - claim.keys())]
    if problems:
        return problems
    if claim["category"] not in CATEGORIES:
        problems.append(f"unknown category {claim['category']!r}")
    if claim["direction"] not in DIRECTIONS:
        problems.append(f"unknown direction {claim['direction']!r}")
    for q in claim["quantities"]:
        unit_ok = q.get("unit") in UNITS or re.fullmatch(r"[A-Z]{3}", q.get("unit", "") or "")
        if q.get("kind") not in KINDS or not unit_ok or not isinstance(q.get("value"), (int, float)):
            problems.append(f"bad quantity {q}")
        if "text" in q and q["text"] not in claim["quote"]:
            problems.append(f"quantity text {q['text']!r} not in quote")
    page = claim["page"]
    quote = norm(claim["quote"])
    if not isinstance(page, int) or not 1 <= page <= len(pages):
        problems.append(f"page {page} out of range 1..{len(pages)}")
    elif quote not in pages[page - 1]:
        found = [i + 1 for i, text in enumerate(pages) if quote in text]
        where = f"found on page(s) {found}" if found else "not found on any page"
        problems.append(f"quote not on page {page} ({where})")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    gold_path = Path(args[0]) if args else GOLD
    docs = [json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    misses, total_pages, n_claims = 0, 0, 0
    categories: Counter[str] = Counter()
    print(f"{'document':42} {'pages':>5} {'claims':>6} {'misses':>6}")
    for doc in docs:
        pages = page_texts(gold_path.parent / doc["path"])
        doc_misses = 0
        if doc.get("kind") != "supplier_submission":
            print(f"  {doc['doc_id']}: kind is {doc.get('kind')!r}")
            doc_misses += 1
        if "total_mismatches" in doc:
            for problem in check_total_mismatches(doc["total_mismatches"], gold_path.parent / doc["path"]):
                print(f"  {doc['doc_id']}: {problem}")
                doc_misses += 1
        for i, claim in enumerate(doc["claims"]):
            for problem in check_claim(claim, pages):
                print(f"  {doc['doc_id']} claim {i}: {problem}: {claim.get('quote', '')[:80]!r}")
                doc_misses += 1
            categories[claim.get("category", "?")] += 1
        print(f"{doc['doc_id']:42} {len(pages):>5} {len(doc['claims']):>6} {doc_misses:>6}")
        misses += doc_misses
        total_pages += len(pages)
        n_claims += len(doc["claims"])
    print(f"\n{len(docs)} documents, {total_pages} pages, {n_claims} claims, {misses} misses")
    print("claims per category: " + ", ".join(f"{c} {n}" for c, n in sorted(categories.items())))
    mismatches = [(d["doc_id"], c["quote"]) for d in docs for c in d["claims"]
                  if c.get("source_check", {}).get("expected") == "mismatch"]
    checked = sum(1 for d in docs for c in d["claims"] if "source_check" in c)
    print(f"claims with a source check: {checked}, expected mismatches: {len(mismatches)}")
    totals = sum(len(d.get("total_mismatches", [])) for d in docs)
    print(f"expected total mismatches (workbooks): {totals}")
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
