"""claim-check adapter: supplier-style claims checked against the one trial each cites (stance and numbers).

Each case's source (an Evidence Inference article text or an RCT-numeric PDF) is parsed once as a clinical paper,
and its passages are indexed with the product's own embedder, BM25 and reranker (in memory). Each claim is written
as a one-sentence supplier document that cites the paper the way a submission does (a marker, ``[1]``, and a
reference list naming the paper's title: :func:`claim_document`), goes through the product's claim extraction, then
through ``retrieval.checking.check.check_claims`` with that paper as the one it cites (and the only evidence). The
claim-level verdicts are the product's own rules (``retrieval.checking.verdicts``):

* stance: ``supported`` / ``supported_other_source`` -> supports, ``contradicted`` -> contradicts, anything else
  -> not_enough_info (the product's abstention);
* numbers: ``match`` / ``mismatch``; ``not_comparable`` and ``not_checked`` are abstentions.

A claim the extractor does not take as a claim is counted (``claims_not_extracted``) and scored as an abstention.
This folder is a measurement set only: nothing is trained or tuned on it.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from eval.metrics import macro_f1, prf
from extractor.errors import ConfigError

STANCES = ("supports", "contradicts", "not_enough_info")
NUMERIC = ("match", "mismatch")
_STANCE_OF = {"supported": "supports", "supported_other_source": "supports", "contradicted": "contradicts"}


def default_split(data: Path) -> str:
    """The folder holds one set, ``claim_check.jsonl``: its split is called ``dev``."""
    if not (Path(data) / "claim_check.jsonl").is_file():
        raise ConfigError(f"no claim_check.jsonl in {data}.", hint="Point --data at the claim_check folder (../shared/data/claim_check).")
    return "dev"


def load_cases(data: Path) -> list[dict]:
    path = Path(data) / "claim_check.jsonl"
    if not path.is_file():
        raise ConfigError(f"no claim_check.jsonl in {data}.", hint="Point --data at the claim_check folder (../shared/data/claim_check).")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class _Papers:
    """The read side of a document store over the parsed papers and claim documents (what the checker reads)."""

    def __init__(self) -> None:
        self.docs: dict = {}

    def add(self, doc) -> None:
        self.docs[doc.id] = doc

    def get_document(self, doc_id: str):
        return self.docs[doc_id]

    def document_heads(self, *, doc_ids=None, chars: int = 6000):
        ids = self.docs if doc_ids is None else [d for d in doc_ids if d in self.docs]
        return [(d, self.docs[d].title, self.docs[d].text[:chars]) for d in ids]

    def document_kinds(self) -> dict[str, str]:
        return {d: doc.kind.value for d, doc in self.docs.items()}

    def get_passages(self, passage_ids):
        wanted = set(passage_ids)
        return {p.id: p for doc in self.docs.values() for p in doc.passages if p.id in wanted}


def _searcher():
    from retrieval.bm25 import BM25Index
    from retrieval.embedder import make_embedder
    from retrieval.index import MemoryPassageIndex
    from retrieval.rerank import get_reranker
    from retrieval.search import HybridSearcher
    from retrieval.settings import RetrievalSettings

    settings = RetrievalSettings()
    embedder = make_embedder(settings.embedder, cache_dir=settings.model_cache_path(), max_length=settings.max_length)
    return HybridSearcher(dense=MemoryPassageIndex(embedder), bm25=BM25Index(None), settings=settings, reranker=get_reranker(),
                          rerank_depth=settings.rerank_depth)


def claim_document(claim: str, title: str | None) -> str:
    """A one-claim supplier document in Markdown whose claim cites the trial: its marker goes before the final full
    stop, as submissions write it, and the reference list names the trial by its title (or plainly, with none)."""
    sentence = claim.strip()
    cited = f"{sentence} [1]" if sentence[-1:] in ("?", "!") else f"{sentence.rstrip('.')} [1]."
    return (f"# Supplier claim\n\n## Outcomes\n\n{cited}\n\n## References\n\n"
            f"1. Trial Investigators. {(title or 'The cited randomised controlled trial').strip().rstrip('.')}. Trials. 2020;1:1-10.\n")


def run(data: Path, split: str, *, limit: int | None = None, **_: object) -> dict[str, object]:
    """Stance macro F1, precision of the verdicts that speak, coverage, and the numeric check's accuracy.

    Raises:
        ConfigError: the folder or a case's source is missing, or the stance weights are.
    """
    from extractor.claims import extract_claims
    from extractor.pipeline import parse_file
    from extractor.schema import DocumentKind
    from retrieval.checking.check import check_claims
    from retrieval.checking.verdicts import numeric_status, support_status
    from retrieval.support import get_stance_classifier

    data = Path(data)
    cases = load_cases(data)[: limit or None]
    classifier = get_stance_classifier()
    searcher = _searcher()
    papers = _Papers()
    paper_of: dict[str, str] = {}
    missing = Counter()
    rows = []
    parse_s = check_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(cases):
            source = (data / case["source"]).resolve()
            if str(source) not in paper_of:
                if not source.is_file():
                    raise ConfigError(f"{case['id']}: its source {case['source']} is not beside the claim_check folder.",
                                      hint="Keep claim_check inside ../shared/data with its sibling dataset folders.")
                started = time.perf_counter()
                paper = parse_file(source, kind=DocumentKind.clinical_paper)
                parse_s += time.perf_counter() - started
                papers.add(paper)
                searcher.add(paper.passages, kinds={paper.id: paper.kind.value})
                paper_of[str(source)] = paper.id
            paper_id = paper_of[str(source)]
            path = Path(tmp) / f"claim-{i}.md"
            path.write_text(claim_document(case["claim"], papers.get_document(paper_id).title), encoding="utf-8")
            own = parse_file(path, kind=DocumentKind.supplier_submission)
            papers.add(own)
            extracted = extract_claims(own).claims
            row = {"id": case["id"], "task": case["task"], "gold": case["stance"] or case["numeric"], "extracted": bool(extracted)}
            if not extracted:
                missing[case["task"]] += 1
                row.update(stance="not_enough_info", numeric="not_checked", seconds=0.0)
                rows.append(row)
                continue
            claim = extracted[0]
            started = time.perf_counter()
            [check] = check_claims([claim], source=papers, searcher=searcher, classifier=classifier, scope={paper_id},
                                   cites={claim.id: [paper_id]})
            row["seconds"] = time.perf_counter() - started
            check_s += row["seconds"]
            status, link = support_status(check.links)
            row["stance"] = _STANCE_OF.get(status.value, "not_enough_info")
            row["numeric"] = numeric_status(check.links)[0].value
            row["evidence"] = link.passage_id if link is not None else None
            row["decided_by"] = link.method if link is not None else None
            row["direction"], row["sentence"] = claim.direction.value, link.evidence if link is not None else None
            rows.append(row)
    return _score(rows, missing, parse_s=parse_s, check_s=check_s, classifier=classifier.name)


def _score(rows: list[dict], missing: Counter, *, parse_s: float, check_s: float, classifier: str) -> dict[str, object]:
    stance = [r for r in rows if r["task"] == "stance"]
    numeric = [r for r in rows if r["task"] == "numeric"]
    gold, pred = [r["gold"] for r in stance], [r["stance"] for r in stance]
    scores = macro_f1(gold, pred, STANCES)

    def precision(label: str, rs: list[dict], key: str) -> float:
        said = [r for r in rs if r[key] == label]
        return round(sum(r["gold"] == label for r in said) / len(said), 4) if said else 0.0

    spoke = [r for r in numeric if r["numeric"] in NUMERIC]
    per_numeric = {label: prf(sum(1 for r in numeric if r["gold"] == label and r["numeric"] == label),
                              sum(1 for r in numeric if r["gold"] != label and r["numeric"] == label),
                              sum(1 for r in numeric if r["gold"] == label and r["numeric"] != label)) for label in NUMERIC}
    timed = sorted(r["seconds"] for r in rows if r.get("seconds"))
    by_variant = {}
    for variant in ("nei-from", "nei-outcome-from"):
        idx = [r for r in stance if f"-{variant}-" in r["id"]]
        if idx:
            said = sum(r["stance"] == "not_enough_info" for r in idx)
            by_variant[variant] = {"n": len(idx), "said_not_enough_info": round(said / len(idx), 4)}
    return {
        "examples": len(rows),
        "stance_examples": len(stance),
        "numeric_examples": len(numeric),
        "stance_macro_f1": scores["macro_f1"],
        "stance_accuracy": scores["accuracy"],
        "supports_precision": precision("supports", stance, "stance"),
        "contradicts_precision": precision("contradicts", stance, "stance"),
        "stance_coverage": round(sum(r["stance"] != "not_enough_info" for r in stance) / len(stance), 4) if stance else 0.0,
        "numeric_accuracy": round(sum(r["numeric"] == r["gold"] for r in numeric) / len(numeric), 4) if numeric else 0.0,
        "mismatch_precision": precision("mismatch", numeric, "numeric"),
        "match_precision": precision("match", numeric, "numeric"),
        "numeric_coverage": round(len(spoke) / len(numeric), 4) if numeric else 0.0,
        "per_label": scores["per_label"],
        "per_numeric_label": per_numeric,
        "confusion": {g: dict(Counter(r["stance"] for r in stance if r["gold"] == g)) for g in STANCES},
        "decided_by": {method: {"n": sum(1 for r in stance if r.get("decided_by") == method),
                                "said": dict(Counter(r["stance"] for r in stance if r.get("decided_by") == method))}
                       for method in sorted({r["decided_by"] for r in stance if r.get("decided_by")})},
        "numeric_predicted": dict(Counter(r["numeric"] for r in numeric)),
        "not_enough_info_variants": by_variant,
        "claims_not_extracted": dict(missing),
        "seconds_per_claim_median": round(timed[len(timed) // 2], 4) if timed else 0.0,
        "seconds_per_claim_p95": round(timed[int(len(timed) * 0.95)], 4) if timed else 0.0,
        "parse_seconds": round(parse_s, 1),
        "check_seconds": round(check_s, 1),
        "classifier": classifier,
        "verdict_rule": "support status supported/supported_other_source = supports, contradicted = contradicts, else "
                        "not_enough_info; numeric status match/mismatch, else abstained",
    }
