"""The two reports of the service, as pure functions: the evaluator worksheet and the supplier pre-check.

Both reports are built from plain inputs (one ``ClaimEvidence`` per claim) into a plain, JSON-serialisable
dict, and every rendering (JSON, CSV, HTML) reads only that dict. The HTTP routes, the ``vbp check`` CLI
and the tests therefore all call the same code, and a report saved as JSON renders the same later.

Two derived verdicts are shared by both reports; they are domain rules and live with the claim check
(``retrieval.checking.verdicts``): a claim's **support status** from its support links, and its **numeric status**
from the numeric checks on those links.

Supplier text (quotes, titles, reviewer reasons) is untrusted: the HTML escapes every piece of it and the
CSV neutralises cells a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum

from extractor.claims import SUPERLATIVE
from extractor.schema import (
    NumericStatus,
    SupportStatus,
    SCHEMA_VERSION,
    Claim,
    ClaimCategory,
    ClaimVerdict,
    Decision,
    EvidenceLevel,
    NumericCheck,
    NumericVerdict,
    Passage,
    Quantity,
    ReviewDecision,
    SourceType,
    Stance,
    SupportLink,
    TotalMismatch,
    VBPDomain,
)
from retrieval.checking.verdicts import (
    NUMERIC_LABELS,
    SUPPORT_LABELS,
    SUPPORT_THRESHOLD,
    VERDICT_LABELS,
    best_link,
    claim_verdict,
    excerpt,
    numeric_status,
    support_status,
)

WORKSHEET_SCHEMA = "vbp.worksheet.v1"
PRECHECK_SCHEMA = "vbp.precheck.v1"
COMPARISON_SCHEMA = "vbp.comparison.v1"

"""A link counts towards a claim's support status only when its stance score is at least this."""
EXCERPT_CHARS = 500
"""Longest source excerpt quoted in a report; longer passages are cut at a word boundary."""

# --- labels ---------------------------------------------------------------------------------------

DOMAIN_ORDER: tuple[VBPDomain, ...] = tuple(VBPDomain)
"""Every report lists all six domains, in this fixed order, even those with no claims."""

DOMAIN_LABELS: dict[VBPDomain, str] = {
    VBPDomain.efficiency: "Efficiency and productivity",
    VBPDomain.patient_and_staff: "Patient and staff outcomes and experience",
    VBPDomain.supply_chain: "Supply chain resilience",
    VBPDomain.social_value: "Social value and environment",
    VBPDomain.purpose: "Purpose and fit with NHS priorities",
    VBPDomain.whole_life_cost: "Whole-life cost",
}

# What evidence each domain expects: the pre-check's advice for a domain with no claims.
DOMAIN_HINTS: dict[VBPDomain, str] = {
    VBPDomain.efficiency: "real-world evidence on length of stay, procedure time, readmissions or staff time released",
    VBPDomain.patient_and_staff: "clinical outcomes, safety record and patient or staff experience, with the studies behind them",
    VBPDomain.supply_chain: "lead times, stock levels, manufacturing capacity and continuity plans",
    VBPDomain.social_value: "jobs, skills and training, modern-slavery risk in the supply chain, and carbon or waste reductions",
    VBPDomain.purpose: "how the product serves NHS priorities (e.g. the NHS Long Term Plan, health inequalities, NICE guidance)",
    VBPDomain.whole_life_cost: "whole-life costs with their price year: purchase, consumables, training, maintenance, disposal, and savings",
}

CATEGORY_LABELS: dict[ClaimCategory, str] = {
    ClaimCategory.outcome: "Outcome",
    ClaimCategory.cost: "Cost",
    ClaimCategory.safety: "Safety",
    ClaimCategory.resource_use: "Resource use",
    ClaimCategory.experience: "Experience",
    ClaimCategory.environmental: "Environmental",
    ClaimCategory.social: "Social",
    ClaimCategory.supply: "Supply",
}

EVIDENCE_LABELS: dict[EvidenceLevel, str] = {
    EvidenceLevel.systematic_review: "Systematic review / meta-analysis",
    EvidenceLevel.rct: "Randomised controlled trial",
    EvidenceLevel.cohort: "Cohort / observational study",
    EvidenceLevel.case_series: "Case series / case report",
    EvidenceLevel.economic_evaluation: "Economic evaluation",
    EvidenceLevel.audit: "Audit / service evaluation",
    EvidenceLevel.bench: "Bench / laboratory test",
    EvidenceLevel.expert_opinion: "Expert opinion / survey",
    EvidenceLevel.none: "No study design stated",
}

SOURCE_LABELS: dict[SourceType, str] = {
    SourceType.peer_reviewed: "Peer-reviewed publication",
    SourceType.regulatory_or_statistic: "Regulator, NICE or national statistic",
    SourceType.supplier_commissioned: "Supplier-commissioned evaluation",
    SourceType.own_survey: "Supplier's own survey",
    SourceType.data_on_file: "Data on file (unpublished, the supplier's)",
    SourceType.expert_opinion: "Expert opinion",
    SourceType.unknown: "Source of unknown standing",
    SourceType.none: "No source cited",
}
SUPPLIER_SOURCES: frozenset[SourceType] = frozenset({SourceType.supplier_commissioned, SourceType.own_survey, SourceType.data_on_file})
"""Sources the supplier itself stands behind: evidence an evaluator cannot check independently."""

WEAK_EVIDENCE: frozenset[EvidenceLevel] = frozenset(
    {EvidenceLevel.case_series, EvidenceLevel.bench, EvidenceLevel.expert_opinion, EvidenceLevel.none}
)
"""Study designs too weak to carry a claim about patients: no comparison group, or no patients at all."""
WEAK_EVIDENCE_CATEGORIES: frozenset[ClaimCategory] = frozenset({ClaimCategory.outcome, ClaimCategory.safety, ClaimCategory.resource_use})
"""Claims whose evidence level the pre-check judges: outcomes, safety, and resource use (VBP productivity
answers must bring real-world evidence on length of stay, procedure time or readmissions)."""


class ReviewState(str, Enum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    corrected = "corrected"


class FindingKind(str, Enum):
    """What a pre-check finding is about, in the order the report lists them."""

    numeric_mismatch = "numeric_mismatch"
    total_mismatch = "total_mismatch"
    contradicted = "contradicted"
    no_source = "no_source"
    empty_domain = "empty_domain"
    marketing_only = "marketing_only"
    unresolved_citation = "unresolved_citation"
    source_not_supplied = "source_not_supplied"
    weak_evidence = "weak_evidence"
    unevidenced_domain = "unevidenced_domain"
    hedged = "hedged"


class Severity(str, Enum):
    high = "high"
    medium = "medium"
    low = "low"


class Readiness(str, Enum):
    ready = "ready"
    ready_with_warnings = "ready_with_warnings"
    not_ready = "not_ready"


FINDING_TITLES: dict[FindingKind, tuple[str, str]] = {
    FindingKind.numeric_mismatch: (
        "Numbers that do not match their source",
        "The number in the claim differs from the one in (or recomputed from) the paper it rests on.",
    ),
    FindingKind.total_mismatch: (
        "Figures that do not add up",
        "A total in the submission's own table or cost model differs from the sum of the figures it totals, or a "
        "percentage differs from its own count over its denominator.",
    ),
    FindingKind.contradicted: ("Claims the source contradicts", "A passage of the evidence says the opposite of the claim."),
    FindingKind.no_source: ("Claims with no source", "The claim cites nothing, so an evaluator cannot check it."),
    FindingKind.unresolved_citation: (
        "Citations that match no reference",
        "The claim has a citation marker, but no entry of the reference list answers to it.",
    ),
    FindingKind.source_not_supplied: (
        "Cited sources that were not supplied",
        "The claim cites a reference whose paper was not uploaded with the submission, so the claim could not be "
        "checked against it: an evaluator cannot verify it either.",
    ),
    FindingKind.marketing_only: (
        "Claims that are only marketing",
        "No number, no source and no study behind it, only promotional wording.",
    ),
    FindingKind.weak_evidence: (
        "Weak evidence for claims about patients",
        "Outcome, safety or resource-use claims resting on expert opinion, case series, bench tests or no stated design.",
    ),
    FindingKind.hedged: ("Hedged claims", "'Up to', 'may', 'could': evaluators score what was shown, not what might happen."),
    FindingKind.empty_domain: ("VBP domains with no evidence", "Questions in these domains would be scored as no response."),
    FindingKind.unevidenced_domain: ("VBP domains with claims but no sources", "Every claim in these domains lacks a source."),
}

# The marketing rule's wording test: the extractor's superlatives plus promotional stock phrases.
PROMOTIONAL = re.compile(
    r"\b(innovative|cutting[- ]edge|state[- ]of[- ]the[- ]art|game[- ]chang\w+|next[- ]generation|best[- ]in[- ]class|"
    r"industry[- ]leading|award[- ]winning|unparall?ell?ed|unbeatable|unrivall?ed|superior|seamless(?:ly)?|effortless(?:ly)?|"
    r"(?:clinically )?proven|trusted|premium|excellent|ideal|perfect|transformational|transformative|revolutionis\w+|"
    r"revolutioniz\w+|breakthrough|world[- ]leading|unique)\b",
    re.IGNORECASE,
)
_UP_TO = re.compile(r"\b(up to|as much as)\b", re.IGNORECASE)


# --- inputs ---------------------------------------------------------------------------------------


@dataclass
class ClaimEvidence:
    """Everything known about one claim, as the reports need it.

    Attributes:
        claim: The current version of the claim (after any accepted correction).
        links: Support links found for it; empty when not checked yet or nothing was found.
        review: The latest review decision; None means the claim is pending review.
        passages: passage_id -> Passage for the links, to quote the source text, page and document.
        documents: doc_id -> display title or filename of the claim's own and the cited documents.
        pending: Its document, or a paper of the same party, is still being processed (its verdict may yet come).
    """

    claim: Claim
    links: list[SupportLink] = field(default_factory=list)
    review: ReviewDecision | None = None
    passages: dict[str, Passage] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)
    pending: bool = False


def latest_decision(decisions: Iterable[ReviewDecision]) -> ReviewDecision | None:
    """The most recent of a claim's review decisions (decisions are append-only), or None when there are none."""
    latest = None
    for d in decisions:
        if latest is None or d.at >= latest.at:
            latest = d
    return latest


def is_marketing_only(claim: Claim) -> bool:
    """True for a claim that is only marketing.

    The rule: the claim states no quantity, cites nothing, names no study design
    (``evidence_level`` is ``none``), and its wording is promotional (a superlative such as "the
    best", "market-leading", "unique", or a stock phrase such as "innovative", "clinically proven",
    "seamless"). A bare assertion without promotional wording is a claim with no source instead.
    """
    if claim.quantities or claim.citations or claim.evidence_level is not EvidenceLevel.none:
        return False
    return bool(SUPERLATIVE.search(claim.quote) or PROMOTIONAL.search(claim.quote))


# --- the evaluator worksheet ----------------------------------------------------------------------


def worksheet(
    supplier: str,
    tender: str | None,
    submission_titles: list[str],
    items: list[ClaimEvidence],
    *,
    generated_at: datetime,
    threshold: float = SUPPORT_THRESHOLD,
) -> dict:
    """The evaluator worksheet for one supplier, as a JSON-serialisable dict.

    Args:
        supplier: Supplier name shown on the report.
        tender: Tender name or reference, if any.
        submission_titles: Titles or filenames of the supplier's submission documents.
        items: One ClaimEvidence per claim of the submission.
        generated_at: When the report is generated (a naive datetime is taken as UTC).
        threshold: Stance score a link needs to count in the support status.

    Returns:
        ``{"schema", "report", "generated_at", "supplier", "tender", "submissions", "rules",
        "summary", "domains"}``; ``domains`` lists all six VBP domains in a fixed order, each with its
        claims (page order) and ``empty`` / ``note`` for a domain with no evidence submitted.
    """
    refs = readable_refs(items)
    rows = [{**_claim_row(item, threshold=threshold), "ref": refs[item.claim.id]} for item in _ordered(items)]
    by_domain: dict[str, list[dict]] = {d.value: [] for d in DOMAIN_ORDER}
    for row in rows:
        by_domain[row["domain"]].append(row)
    domains = []
    for d in DOMAIN_ORDER:
        claims = by_domain[d.value]
        domains.append({
            "domain": d.value,
            "label": DOMAIN_LABELS[d],
            "claim_count": len(claims),
            "empty": not claims,
            "note": "no evidence submitted" if not claims else None,
            "by_support_status": _count((r["support"]["status"] for r in claims), SupportStatus),
            "by_review_state": _count((r["review"]["state"] for r in claims), ReviewState),
            "numeric_mismatches": sum(r["numeric"]["verdict"] == NumericStatus.mismatch.value for r in claims),
            "claims": claims,
        })
    summary = {
        "claims": len(rows),
        "by_domain": {d["domain"]: d["claim_count"] for d in domains},
        "by_category": _count((r["category"] for r in rows), ClaimCategory),
        "by_evidence_level": _count((r["evidence_level"] for r in rows), EvidenceLevel),
        "by_support_status": _count((r["support"]["status"] for r in rows), SupportStatus),
        "by_numeric_status": _count((r["numeric"]["verdict"] for r in rows), NumericStatus),
        "by_review_state": _count((r["review"]["state"] for r in rows), ReviewState),
        "numeric_mismatches": sum(r["numeric"]["verdict"] == NumericStatus.mismatch.value for r in rows),
        "hedged": sum(r["hedged"] for r in rows),
        "uncited": sum(not r["citations"] for r in rows),
        "empty_domains": [d["domain"] for d in domains if d["empty"]],
    }
    return {
        "schema": WORKSHEET_SCHEMA,
        "evidence_schema_version": SCHEMA_VERSION,
        "report": "worksheet",
        "generated_at": _iso(generated_at),
        "supplier": supplier,
        "tender": tender,
        "submissions": list(submission_titles),
        "rules": _rules(threshold),
        "summary": summary,
        "domains": domains,
    }


def worksheet_json(report: dict) -> str:
    """A report (worksheet or pre-check) as indented JSON text."""
    return json.dumps(report, indent=2, ensure_ascii=False)


def _rules(threshold: float) -> dict:
    return {
        "support_threshold": threshold,
        "support_status": " ".join((support_status.__doc__ or "").split()),
        "numeric_status": " ".join((numeric_status.__doc__ or "").split()),
    }


def _ordered(items: list[ClaimEvidence]) -> list[ClaimEvidence]:
    """Claims in reading order: documents in the order first met, then page, then position."""
    doc_rank: dict[str, int] = {}
    for item in items:
        doc_rank.setdefault(item.claim.doc_id, len(doc_rank))
    return sorted(items, key=lambda i: (doc_rank[i.claim.doc_id], i.claim.page, i.claim.span.start, i.claim.id))


def _count(values: Iterable[str], enum: type[Enum]) -> dict[str, int]:
    counts = Counter(values)
    return {member.value: counts.get(member.value, 0) for member in enum}


_SHORT_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_STOP = {"the", "a", "an", "of", "and", "for", "to", "in", "on", "with", "ltd", "pdf", "docx", "xlsx", "md", "txt"}


def readable_refs(items: Iterable[ClaimEvidence]) -> dict[str, str]:
    """A name a person can say for each claim: its document's initials, its page and its number in that document
    ("HL-p3-#12"); the stable id stays beside it for machines. Documents whose initials collide get a digit."""
    by_doc: dict[str, list[ClaimEvidence]] = {}
    for item in items:
        by_doc.setdefault(item.claim.doc_id, []).append(item)
    shorts: dict[str, str] = {}
    taken: dict[str, int] = {}
    for doc_id in sorted(by_doc):
        name = by_doc[doc_id][0].documents.get(doc_id, doc_id)
        words = [w for w in _SHORT_WORDS.findall(name.replace("-", " ").replace("_", " ")) if w.lower() not in _STOP]
        short = "".join(w[0] for w in words[:2]).upper() or "D"
        taken[short] = taken.get(short, 0) + 1
        shorts[doc_id] = short if taken[short] == 1 else f"{short}{taken[short]}"
    refs: dict[str, str] = {}
    for doc_id, group in by_doc.items():
        for n, item in enumerate(sorted(group, key=lambda i: (i.claim.page, i.claim.span.start)), start=1):
            refs[item.claim.id] = f"{shorts[doc_id]}-p{item.claim.page}-#{n}"
    return refs


def _claim_row(item: ClaimEvidence, *, threshold: float) -> dict:
    c = item.claim
    status, deciding = support_status(item.links, threshold=threshold)
    counter = _counter_link(item.links, status, threshold)
    num_status, num_link = numeric_status(item.links)
    verdict = claim_verdict(item.links, item.passages, threshold=threshold, claim=c, pending=item.pending)
    return {
        "id": c.id,
        "doc_id": c.doc_id,
        "document": item.documents.get(c.doc_id, c.doc_id),
        "page": c.page,
        "location": c.location,
        "section": c.section,
        "quote": c.quote,
        "category": c.category.value,
        "domain": c.domain.value,
        "direction": c.direction.value,
        "outcome": c.outcome,
        "intervention": c.intervention,
        "comparator": c.comparator,
        "population": c.population,
        "timepoint": c.timepoint,
        "quantities": [_quantity(q) for q in c.quantities],
        "evidence_level": c.evidence_level.value,
        "evidence_label": EVIDENCE_LABELS[c.evidence_level],
        "source_type": c.source_type.value,
        "source_label": SOURCE_LABELS[c.source_type],
        "hedged": c.hedged,
        "offer_fact": c.offer_fact,
        "citations": [{"marker": cit.marker, "keys": list(cit.keys)} for cit in c.citations],
        "extractor": c.extractor,
        "confidence": c.confidence,
        "support": {
            "status": status.value,
            "label": SUPPORT_LABELS[status],
            "explanation": _explain_support(status, deciding, item),
            "links_checked": len(item.links),
            "evidence": _link_ref(deciding, item) if deciding is not None else None,
            "counter_evidence": _link_ref(counter, item) if counter is not None else None,
        },
        "numeric": _numeric(num_status, num_link, item),
        "verdict": {"status": verdict.status.value, "label": VERDICT_LABELS[verdict.status], "reason": verdict.reason},
        "review": _review(item.review),
        "total_mismatches": [{"location": t.location, "label": t.label, "stated": t.stated, "computed": t.computed, "note": t.note}
                             for t in c.total_mismatches],
    }


def _counter_link(links: list[SupportLink], status: SupportStatus, threshold: float) -> SupportLink | None:
    """The strongest passage with the opposite stance to the one the status rests on, if any."""
    if status is SupportStatus.contradicted:
        opposite = Stance.supports
    elif status in (SupportStatus.supported, SupportStatus.supported_other_source):
        opposite = Stance.contradicts
    else:
        return None
    return best_link([lk for lk in links if lk.stance is opposite and lk.score >= threshold])


def _quantity(q: Quantity) -> dict:
    return {
        "kind": q.kind.value,
        "text": q.text,
        "value": q.value,
        "low": q.low,
        "high": q.high,
        "unit": q.unit,
        "measure": q.measure.value if q.measure else None,
        "comparator_op": q.comparator_op,
        "price_year": q.price_year,
        "per": q.per,
    }


def _passage_doc(link: SupportLink, item: ClaimEvidence) -> tuple[Passage | None, str]:
    passage = item.passages.get(link.passage_id)
    doc_id = passage.doc_id if passage is not None else link.passage_id.rsplit(":", 1)[0]
    return passage, doc_id


def _link_ref(link: SupportLink, item: ClaimEvidence) -> dict:
    passage, doc_id = _passage_doc(link, item)
    return {
        "passage_id": link.passage_id,
        "doc_id": doc_id,
        "document": item.documents.get(doc_id, doc_id),
        "page": passage.page if passage is not None else None,
        "section": passage.section if passage is not None else None,
        "excerpt": excerpt(passage.text, EXCERPT_CHARS) if passage is not None else None,
        "stance": link.stance.value,
        "score": link.score,
        "retrieval_score": link.retrieval_score,
        "cited": link.cited,
        "method": link.method,
        "sentence": link.evidence,
    }


def _where(link: SupportLink, item: ClaimEvidence) -> str:
    passage, doc_id = _passage_doc(link, item)
    page = f", p. {passage.page}" if passage is not None else ""
    return f"{item.documents.get(doc_id, doc_id)}{page}"


def _explain_support(status: SupportStatus, link: SupportLink | None, item: ClaimEvidence) -> str:
    if link is None:
        return "No passage has been checked against this claim yet."
    where, score = _where(link, item), f"{link.score:.2f}"
    cited = "which the claim cites" if link.cited else "which the claim does not cite"
    if status is SupportStatus.contradicted:
        return f"A passage of {where} ({cited}) contradicts the claim (score {score}), and none supports it more strongly."
    if status is SupportStatus.supported:
        return f"A passage of {where}, which the claim cites, supports it (score {score})."
    if status is SupportStatus.supported_other_source:
        return f"A passage of {where}, which the claim does not cite, supports it (score {score}); no cited source does."
    if link.stance is Stance.not_enough_info:  # its score is the certainty that it settles nothing: not shown as a score
        return f"{len(item.links)} passage(s) checked, none supports or contradicts the claim; the closest is in {where}."
    return f"{len(item.links)} passage(s) checked, none supports the claim; the closest is in {where} ({link.stance.value}, score {score})."


def _numeric(status: NumericStatus, link: SupportLink | None, item: ClaimEvidence) -> dict:
    out: dict = {
        "verdict": status.value,
        "label": NUMERIC_LABELS[status],
        "claimed_text": None,
        "claimed_value": None,
        "claimed_unit": None,
        "found_text": None,
        "found_value": None,
        "found_unit": None,
        "recomputed_from": None,
        "note": "",
        "passage_id": None,
        "document": None,
        "page": None,
    }
    if link is None or link.numeric is None:
        return out
    check: NumericCheck = link.numeric
    passage, doc_id = _passage_doc(link, item)
    if check.claimed is not None:
        out.update(claimed_text=check.claimed.text, claimed_value=check.claimed.value, claimed_unit=check.claimed.unit)
    if check.found is not None:
        out.update(found_text=check.found.text, found_value=check.found.value, found_unit=check.found.unit)
    out.update(recomputed_from=check.recomputed_from, note=check.note, passage_id=link.passage_id,
               document=item.documents.get(doc_id, doc_id), page=passage.page if passage is not None else None)
    return out


def _review(review: ReviewDecision | None) -> dict:
    if review is None:
        return {"state": ReviewState.pending.value, "reviewer": None, "reason": "", "at": None, "corrections": {}}
    return {
        "state": ReviewState(review.decision.value).value,
        "reviewer": review.reviewer,
        "reason": review.reason,
        "at": _iso(review.at),
        "corrections": {str(k): _jsonable(v) for k, v in review.corrections.items()} if review.decision is Decision.corrected else {},
    }


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.isoformat()


def _jsonable(value: object) -> object:
    """A correction's value as plain JSON: enums by value, times as ISO text, models as dicts."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(value)


# --- the worksheet as CSV -------------------------------------------------------------------------

CSV_COLUMNS: tuple[str, ...] = (
    "claim_id", "domain", "category", "document", "page", "section", "quote", "direction", "outcome", "intervention",
    "comparator", "population", "timepoint", "quantities", "evidence_level", "hedged", "citations",
    "support_status", "evidence_document", "evidence_page", "evidence_stance", "evidence_score", "evidence_cited", "evidence_excerpt",
    "numeric_verdict", "numeric_claimed", "numeric_claimed_value", "numeric_found", "numeric_found_value", "numeric_recomputed_from",
    "numeric_note", "review_state", "reviewer", "review_reason", "reviewed_at", "verdict", "verdict_reason",
    "location", "total_mismatch", "ref",
)
"""The worksheet CSV's columns, in order; a new column is only ever appended."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula.

    Supplier text is untrusted: a cell whose first character (or first non-blank one) is ``=``, ``+``,
    ``-``, ``@``, a tab, a carriage return, ``|`` or ``%`` gets a leading apostrophe, which spreadsheets
    show as text (OWASP's advice on CSV injection).
    """
    if text and (text[0] in _FORMULA_START or text.lstrip()[:1] in _FORMULA_START):
        return "'" + text
    return text


def _num(value: float | None) -> str:
    return "" if value is None else str(value)


def _text(value: str | None) -> str:
    return "" if value is None else safe_cell(str(value))


def worksheet_csv(report: dict) -> str:
    """The worksheet as CSV: a header row, then one row per claim in the worksheet's order.

    Columns are :data:`CSV_COLUMNS`; numbers are written unformatted (``str`` of the value, empty
    when missing), booleans as ``true`` / ``false``, and every text cell goes through :func:`safe_cell`.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for domain in report["domains"]:
        for r in domain["claims"]:
            ev = r["support"]["evidence"] or {}
            num = r["numeric"]
            rev = r["review"]
            row = {
                "claim_id": _text(r["id"]),
                "domain": r["domain"],
                "category": r["category"],
                "document": _text(r["document"]),
                "page": _num(r["page"]),
                "section": _text(r["section"]),
                "quote": _text(r["quote"]),
                "direction": r["direction"],
                "outcome": _text(r["outcome"]),
                "intervention": _text(r["intervention"]),
                "comparator": _text(r["comparator"]),
                "population": _text(r["population"]),
                "timepoint": _text(r["timepoint"]),
                "quantities": _text("; ".join(q["text"] for q in r["quantities"])),
                "evidence_level": r["evidence_level"],
                "hedged": "true" if r["hedged"] else "false",
                "citations": _text("; ".join(c["marker"] for c in r["citations"])),
                "support_status": r["support"]["status"],
                "evidence_document": _text(ev.get("document")),
                "evidence_page": _num(ev.get("page")),
                "evidence_stance": ev.get("stance") or "",
                "evidence_score": _num(ev.get("score")),
                "evidence_cited": "" if not ev else ("true" if ev["cited"] else "false"),
                "evidence_excerpt": _text(ev.get("excerpt")),
                "numeric_verdict": num["verdict"],
                "numeric_claimed": _text(num["claimed_text"]),
                "numeric_claimed_value": _num(num["claimed_value"]),
                "numeric_found": _text(num["found_text"]),
                "numeric_found_value": _num(num["found_value"]),
                "numeric_recomputed_from": _text(num["recomputed_from"]),
                "numeric_note": _text(num["note"]),
                "review_state": rev["state"],
                "reviewer": _text(rev["reviewer"]),
                "review_reason": _text(rev["reason"]),
                "reviewed_at": rev["at"] or "",
                "verdict": r["verdict"]["status"],
                "verdict_reason": _text(r["verdict"]["reason"]),
                "location": _text(r.get("location")),
                "total_mismatch": _text("; ".join(t["note"] for t in r.get("total_mismatches", []))),
                "ref": r.get("ref", ""),
            }
            writer.writerow([row[c] for c in CSV_COLUMNS])
    return out.getvalue()


# --- the supplier pre-check -----------------------------------------------------------------------

SEVERITY_OF: dict[FindingKind, Severity] = {
    FindingKind.numeric_mismatch: Severity.high,
    FindingKind.total_mismatch: Severity.high,
    FindingKind.contradicted: Severity.high,
    FindingKind.no_source: Severity.high,  # medium for a claim with no number about experience, environment, social value or supply
    FindingKind.unresolved_citation: Severity.medium,
    FindingKind.source_not_supplied: Severity.medium,
    FindingKind.marketing_only: Severity.medium,
    FindingKind.weak_evidence: Severity.medium,
    FindingKind.hedged: Severity.low,
    FindingKind.empty_domain: Severity.high,
    FindingKind.unevidenced_domain: Severity.medium,
}
_HARD_NUMBER_CATEGORIES = frozenset({ClaimCategory.outcome, ClaimCategory.safety, ClaimCategory.cost, ClaimCategory.resource_use})


def precheck(
    supplier: str,
    submission_titles: list[str],
    items: list[ClaimEvidence],
    *,
    generated_at: datetime,
    threshold: float = SUPPORT_THRESHOLD,
    references: Mapping[str, str] | None = None,
    figures: Sequence[tuple[str, TotalMismatch]] = (),
) -> dict:
    """The supplier pre-check of a draft submission, as a JSON-serialisable dict.

    ``figures`` are the submissions' own figures that do not add up, as (document name, finding): those that lie in no
    claim (an all-in price stated as a fact, a saving in a sentence that is not a claim) are reported on their own.

    Each claim is tested once per kind (:class:`FindingKind`); a claim may have several findings,
    except that the basic ones take precedence so a claim is not listed three times for one gap:
    ``marketing_only`` claims are not also ``no_source``, and ``weak_evidence`` is only reported for
    claims that cite something (an uncited claim is ``no_source`` or ``marketing_only``). Domains are
    checked too: ``empty_domain`` (no claims at all) and ``unevidenced_domain`` (claims, none cited
    and none supported by a source).

    Readiness: ``not_ready`` when any finding is of high severity, ``ready_with_warnings`` when there
    are only medium or low ones, ``ready`` when there are none. Review decisions are ignored: this
    report is for the supplier, before any evaluator sees the bid.

    Returns:
        ``{"schema", "report", "generated_at", "supplier", "submissions", "rules", "readiness",
        "summary", "groups"}``; ``groups`` lists every finding kind in a fixed order, each with its
        title, what it means, severity and findings (claim id, page, quote, message, fix, details).
    """
    findings: dict[FindingKind, list[dict]] = {k: [] for k in FindingKind}
    ordered = _ordered(items)
    refs = readable_refs(items)
    not_supplied: dict[str, str] = {}
    for item in ordered:
        for kind, finding in _claim_findings(item, threshold):
            findings[kind].append(finding)
        if references is not None:
            missing = _not_supplied(item, references)
            if missing:
                not_supplied.update(missing)
                listed = "; ".join(f"[{k}] {_short_ref(v)}" for k, v in missing.items())
                findings[FindingKind.source_not_supplied].append(_finding(
                    FindingKind.source_not_supplied, item, f"{listed} {'was' if len(missing) == 1 else 'were'} not supplied, "
                    "so the claim could not be checked against it.",
                    "Upload the cited paper with the submission (or cite one that is supplied).", {"references": list(missing)})[1])
    held = {(t.span.start, t.span.end) for i in items for t in i.claim.total_mismatches}
    for name, total in figures:
        if (total.span.start, total.span.end) not in held:
            findings[FindingKind.total_mismatch].append(_figure_finding(name, total))
    for d in DOMAIN_ORDER:
        in_domain = [i for i in ordered if i.claim.domain is d]
        if not in_domain:
            findings[FindingKind.empty_domain].append(_domain_finding(FindingKind.empty_domain, d, (
                f"No claim in the submission counts towards {DOMAIN_LABELS[d].lower()}.",
                f"Add evidence on {DOMAIN_HINTS[d]}.",
            )))
        elif not any(_has_source(i, threshold) for i in in_domain):
            findings[FindingKind.unevidenced_domain].append(_domain_finding(FindingKind.unevidenced_domain, d, (
                f"{len(in_domain)} claim(s) count towards {DOMAIN_LABELS[d].lower()}, but none cites a source.",
                f"Cite the study, audit or report behind at least the main claims on {DOMAIN_HINTS[d]}.",
            )))
    for kind_findings in findings.values():
        for f in kind_findings:
            f["ref"] = refs.get(f["claim_id"]) if f["claim_id"] is not None else None
    groups = []
    for kind in FindingKind:
        title, meaning = FINDING_TITLES[kind]
        groups.append({"kind": kind.value, "title": title, "what_it_means": meaning, "severity": SEVERITY_OF[kind].value,
                       "count": len(findings[kind]), "findings": findings[kind]})
    every = [f for k in FindingKind for f in findings[k]]
    severities = Counter(f["severity"] for f in every)
    if severities[Severity.high.value]:
        verdict = Readiness.not_ready
    elif every:
        verdict = Readiness.ready_with_warnings
    else:
        verdict = Readiness.ready
    flagged = {f["claim_id"] for f in every if f["claim_id"] is not None}
    summary = {
        "claims": len(items),
        "claims_with_findings": len(flagged),
        "offer_facts": sum(i.claim.offer_fact for i in items),
        "claims_without_findings": len(items) - len(flagged),
        "findings": len(every),
        "by_kind": {k.value: len(findings[k]) for k in FindingKind},
        "by_severity": {s.value: severities.get(s.value, 0) for s in Severity},
        "by_domain": {d.value: sum(i.claim.domain is d for i in items) for d in DOMAIN_ORDER},
        "domains_missing": [f["domain"] for f in findings[FindingKind.empty_domain]],
    }
    return {
        "schema": PRECHECK_SCHEMA,
        "evidence_schema_version": SCHEMA_VERSION,
        "report": "precheck",
        "generated_at": _iso(generated_at),
        "supplier": supplier,
        "submissions": list(submission_titles),
        "rules": {**_rules(threshold), "precheck": " ".join((precheck.__doc__ or "").split("Returns:")[0].split()),
                  "marketing_only": " ".join((is_marketing_only.__doc__ or "").split())},
        "readiness": {"verdict": verdict.value, "headline": _headline(verdict, findings, len(items))},
        "summary": summary,
        "groups": groups,
        "references_not_supplied": [{"key": k, "reference": v} for k, v in sorted(not_supplied.items(), key=lambda kv: _key_order(kv[0]))],
    }


def _not_supplied(item: ClaimEvidence, references: Mapping[str, str]) -> dict[str, str]:
    """The references a claim cites when none of its links reached a cited paper: what was not uploaded with it.

    A claim with a link into a cited paper was checked against it; with several references and one supplied, which
    one is missing cannot be told from the links, so nothing is said (precision first).
    """
    keys = [k for c in item.claim.citations for k in c.keys if k in references]
    if not keys or any(lk.cited for lk in item.links):
        return {}
    return {k: references[k] for k in dict.fromkeys(keys)}


def _short_ref(text: str, n: int = 90) -> str:
    text = re.sub(r"^\s*\[?\d{1,3}[\].)]?\s+", "", " ".join(text.split()))
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _key_order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (10**6, key)


def _has_source(item: ClaimEvidence, threshold: float) -> bool:
    status, _ = support_status(item.links, threshold=threshold)
    return bool(item.claim.citations) or status in (SupportStatus.supported, SupportStatus.supported_other_source)


_ARITHMETIC_FIX = {
    "total": "Correct the total or the figures it adds up (at {location}) so that the cost model is consistent.",
    "percent": "Correct the percentage or the count it is given for, so that they agree.",
    "saving": "State the saving your own cost figures give, or correct the cost table it comes from, so that they agree.",
    "unit_cost": "Correct the all-in price or the prices of its parts: an all-in price cannot be less than the parts it includes.",
    "restated": "Give the figure the same way in both places, or say why the two differ (another group, timepoint or analysis).",
}


def _finding(kind: FindingKind, item: ClaimEvidence, message: str, fix: str, details: dict | None = None,
             severity: Severity | None = None) -> tuple[FindingKind, dict]:
    c = item.claim
    return kind, {
        "kind": kind.value,
        "severity": (severity or SEVERITY_OF[kind]).value,
        "claim_id": c.id,
        "document": item.documents.get(c.doc_id, c.doc_id),
        "page": c.page,
        "quote": c.quote,
        "domain": c.domain.value,
        "category": c.category.value,
        "message": message,
        "fix": fix,
        "details": details or {},
    }


def _figure_finding(document: str, total: TotalMismatch) -> dict:
    """A figure of the submission that does not add up, found in no claim: reported with where it was read."""
    kind = FindingKind.total_mismatch
    return {
        "kind": kind.value, "severity": SEVERITY_OF[kind].value, "claim_id": None, "document": document, "page": total.page,
        "quote": total.label, "domain": None, "category": None, "message": total.note[:1].upper() + total.note[1:] + ".",
        "fix": _ARITHMETIC_FIX.get(total.kind, _ARITHMETIC_FIX["total"]).format(location=total.location),
        "details": {"location": total.location, "stated": total.stated, "computed": total.computed, "parts": total.parts},
    }


def _domain_finding(kind: FindingKind, domain: VBPDomain, text: tuple[str, str]) -> dict:
    return {
        "kind": kind.value, "severity": SEVERITY_OF[kind].value, "claim_id": None, "document": None, "page": None,
        "quote": None, "domain": domain.value, "category": None, "message": text[0], "fix": text[1],
        "details": {"label": DOMAIN_LABELS[domain]},
    }


def _claim_findings(item: ClaimEvidence, threshold: float) -> list[tuple[FindingKind, dict]]:
    c = item.claim
    out: list[tuple[FindingKind, dict]] = []
    num_status, num_link = numeric_status(item.links)
    if num_status is NumericStatus.mismatch and num_link is not None:
        n = _numeric(num_status, num_link, item)
        how = f", recomputed {n['recomputed_from']}" if n["recomputed_from"] else ""
        where = f"{n['document']}" + (f", p. {n['page']}" if n["page"] else "")
        out.append(_finding(
            FindingKind.numeric_mismatch, item,
            f"The claim says {n['claimed_text']}, but {where} gives {_fmt(n['found_value'])}{_unit(n['found_unit'])}{how}.",
            "Quote the figure exactly as the source reports it, or cite the source that gives your figure.",
            {key: n[key] for key in ("claimed_text", "claimed_value", "found_text", "found_value", "recomputed_from", "note",
                                     "document", "page", "passage_id")},
        ))
    for total in c.total_mismatches:
        out.append(_finding(
            FindingKind.total_mismatch, item, total.note + ".",
            _ARITHMETIC_FIX.get(total.kind, _ARITHMETIC_FIX["total"]).format(location=total.location),
            {"location": total.location, "stated": total.stated, "computed": total.computed, "parts": total.parts},
        ))
    status, link = support_status(item.links, threshold=threshold)
    if status is SupportStatus.contradicted and link is not None:
        ref = _link_ref(link, item)
        out.append(_finding(
            FindingKind.contradicted, item,
            f"A passage of {_where(link, item)} says the opposite (score {link.score:.2f}).",
            "Check the claim against the source; correct or withdraw it, or explain the difference in context.",
            {"document": ref["document"], "page": ref["page"], "excerpt": ref["excerpt"], "score": link.score,
             "passage_id": link.passage_id},
        ))
    marketing = is_marketing_only(c)
    if marketing:
        out.append(_finding(
            FindingKind.marketing_only, item,
            "Promotional wording with no number, no source and no study behind it.",
            "Back it with a measured result and cite the study, audit or report it comes from, or remove it: "
            "evaluators score evidence, not adjectives.",
        ))
    elif not c.citations and not c.offer_fact:  # a listed price is a fact of the offer, not an unsourced claim
        severity = Severity.high if (c.quantities or c.category in _HARD_NUMBER_CATEGORIES) else Severity.medium
        suggestion = ""
        if status is SupportStatus.supported_other_source and link is not None:
            suggestion = f" {_where(link, item)} appears to support it."
        out.append(_finding(
            FindingKind.no_source, item, "The claim cites no source.",
            "Add a citation to the study, audit or report behind it and include that paper with the submission." + suggestion,
            severity=severity,
        ))
    unresolved = [cit.marker for cit in c.citations if not cit.keys]
    if unresolved:
        out.append(_finding(
            FindingKind.unresolved_citation, item,
            f"Citation {', '.join(unresolved)} matches no entry of the reference list.",
            "Add the missing entry to the reference list, or correct the citation number.",
            {"markers": unresolved},
        ))
    if c.citations and c.category in WEAK_EVIDENCE_CATEGORIES and c.source_type in SUPPLIER_SOURCES:
        out.append(_finding(
            FindingKind.weak_evidence, item,
            f"The claim about {CATEGORY_LABELS[c.category].lower()} rests on the supplier's own material: "
            f"{SOURCE_LABELS[c.source_type].lower()}, which an evaluator cannot check independently.",
            "Cite independent evidence (a peer-reviewed study, a published or NHS audit), or supply the full report with its "
            "methods so that it can be appraised.",
            {"evidence_level": c.evidence_level.value, "source_type": c.source_type.value}))
    elif (c.citations and c.category in WEAK_EVIDENCE_CATEGORIES and c.evidence_level in WEAK_EVIDENCE
          and c.source_type is not SourceType.regulatory_or_statistic):  # a national statistic needs no study design
        if c.evidence_level is EvidenceLevel.none:
            message = "The study design behind this claim cannot be told from its source."
            fix = "Say what kind of study the source is (trial, cohort, audit) and cite the full paper or report."
        else:
            message = f"The claim about {CATEGORY_LABELS[c.category].lower()} rests on weak evidence: {EVIDENCE_LABELS[c.evidence_level].lower()}."
            fix = "Cite comparative evidence from patients (a trial, a cohort study or a real-world audit), or present the claim as preliminary."
        out.append(_finding(FindingKind.weak_evidence, item, message, fix, {"evidence_level": c.evidence_level.value}))
    if c.hedged:
        if _UP_TO.search(c.quote):
            fix = "Give the typical (mean or median) result with its range; 'up to' quotes only the best case."
        else:
            fix = "State what the evidence showed; if the figure is a projection, say so and give the model and its assumptions."
        out.append(_finding(FindingKind.hedged, item, "The claim is hedged, so it promises less than it seems to.", fix))
    return out


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.3g}" if value != int(value) else str(int(value))


def _unit(unit: str | None) -> str:
    if not unit:
        return ""
    return unit if unit == "%" else f" {unit}"


_PHRASES: dict[FindingKind, tuple[str, str]] = {
    FindingKind.numeric_mismatch: ("number does not match its source", "numbers do not match their source"),
    FindingKind.total_mismatch: ("figure does not add up", "figures do not add up"),
    FindingKind.source_not_supplied: ("cited source was not supplied", "cited sources were not supplied"),
    FindingKind.contradicted: ("claim is contradicted by its source", "claims are contradicted by their source"),
    FindingKind.no_source: ("claim has no source", "claims have no source"),
    FindingKind.empty_domain: ("VBP domain has no evidence", "VBP domains have no evidence"),
    FindingKind.marketing_only: ("claim is only marketing", "claims are only marketing"),
    FindingKind.unresolved_citation: ("citation matches no reference", "citations match no reference"),
    FindingKind.weak_evidence: ("claim rests on weak evidence", "claims rest on weak evidence"),
    FindingKind.unevidenced_domain: ("VBP domain has claims but no sources", "VBP domains have claims but no sources"),
    FindingKind.hedged: ("claim is hedged", "claims are hedged"),
}


def _phrase(kind: FindingKind, n: int) -> str:
    singular, plural = _PHRASES[kind]
    return f"{n} {singular if n == 1 else plural}"


def _headline(verdict: Readiness, findings: dict[FindingKind, list[dict]], n_claims: int) -> str:
    """One sentence for the top of the pre-check: the high-severity findings by kind, then how many warnings."""
    if verdict is Readiness.ready:
        return f"Ready: no issues found in {n_claims} claim{'' if n_claims == 1 else 's'}."
    high = Severity.high.value
    if verdict is Readiness.not_ready:
        counts = {k: sum(f["severity"] == high for f in findings[k]) for k in FindingKind}
        parts = [_phrase(k, n) for k, n in counts.items() if n]
        rest = sum(len(v) for v in findings.values()) - sum(counts.values())
        tail = f" Also {rest} warning{'' if rest == 1 else 's'}." if rest else ""
        return "Not ready: " + "; ".join(parts) + "." + tail
    parts = [_phrase(k, len(findings[k])) for k in FindingKind if findings[k]]
    return "Ready, with warnings: " + "; ".join(parts) + "."


# --- HTML -----------------------------------------------------------------------------------------

_CSS = """
:root { --ink:#1d2327; --muted:#5b6670; --line:#d5dade; --bg:#f6f7f8; --ok:#1e6b3a; --bad:#a3231f; --warn:#8a5a00; --info:#235a97; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Arial, Helvetica, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 24px; margin: 4px 0 12px; } h2 { font-size: 19px; margin: 28px 0 10px; border-bottom: 2px solid var(--ink); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0; } .kicker { color: var(--muted); text-transform: uppercase; letter-spacing: .06em; font-size: 12px; margin: 0; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 16px; } dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; } th, td { border: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: var(--bg); font-weight: 600; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 0 18px; }
.claim { border: 1px solid var(--line); border-left: 5px solid var(--line); border-radius: 3px; padding: 10px 12px; margin: 0 0 12px; }
.claim.s-supported { border-left-color: var(--ok); } .claim.s-contradicted { border-left-color: var(--bad); }
.claim.s-unsupported, .claim.s-supported_other_source { border-left-color: var(--warn); }
.claim header { display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; margin-bottom: 6px; }
.cid { font-family: ui-monospace, Consolas, monospace; font-size: 12px; color: var(--muted); }
.badge { display: inline-block; font-size: 11.5px; border: 1px solid currentColor; border-radius: 10px; padding: 0 7px; white-space: nowrap; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); } .info { color: var(--info); } .muted { color: var(--muted); }
blockquote { margin: 6px 0; padding: 4px 10px; border-left: 3px solid var(--line); background: var(--bg); white-space: pre-wrap; }
blockquote.source { background: #fff; font-size: 13px; }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 1px 12px; margin: 6px 0; font-size: 13px; }
dl.fields dt { color: var(--muted); } dl.fields dd { margin: 0; }
.block { margin-top: 8px; font-size: 13px; } .block h4 { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 2px; }
.empty { color: var(--muted); font-style: italic; border: 1px dashed var(--line); padding: 10px; }
.notes { display: none; }
.banner { padding: 12px 14px; border: 2px solid currentColor; border-radius: 4px; font-size: 16px; font-weight: 600; margin: 8px 0 16px; }
nav ol { columns: 2; margin: 0; } footer { margin-top: 30px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 6px; }
.rules p { font-size: 13px; color: var(--muted); }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  h2 { break-after: avoid; } section.domain { break-before: page; }
  .claim, tr, .banner { break-inside: avoid; }
  .notes { display: block; border: 1px solid var(--line); height: 22mm; margin-top: 8px; padding: 3px 6px; color: var(--muted); font-size: 9pt; }
  a { color: inherit; text-decoration: none; }
  blockquote { background: none; }
}
"""


def _e(value: object) -> str:
    """HTML-escaped text; None becomes an em dash."""
    if value is None or value == "":
        return "—"
    return html.escape(str(value), quote=True)


def _page(title: str, body: list[str], report: dict) -> str:
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        *body,
        (f"<footer>Generated by vbp-evidence on {_e(_human_time(report['generated_at']))} · report schema {_e(report['schema'])}. "
         "Claims, quotes and figures are extracted automatically and must be checked against the documents before scoring.</footer>"),
        "</body>",
        "</html>",
    ])


def _human_time(iso: str | None) -> str:
    if not iso:
        return "—"
    when = datetime.fromisoformat(iso)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
        return when.strftime("%d %b %Y %H:%M UTC")
    return when.strftime("%d %b %Y %H:%M")


def _badge(text: str, tone: str) -> str:
    return f'<span class="badge {tone}">{_e(text)}</span>'


_SUPPORT_TONE = {"supported": "ok", "supported_other_source": "warn", "contradicted": "bad", "unsupported": "warn", "not_checked": "muted"}
_NUMERIC_TONE = {"match": "ok", "mismatch": "bad", "not_comparable": "muted", "not_checked": "muted"}
_REVIEW_TONE = {"pending": "muted", "accepted": "ok", "rejected": "bad", "corrected": "info"}
_SEVERITY_TONE = {"high": "bad", "medium": "warn", "low": "info"}
_READY_TONE = {"ready": "ok", "ready_with_warnings": "warn", "not_ready": "bad"}


def _meta(rows: list[tuple[str, str]]) -> str:
    return '<dl class="meta">' + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _count_table(title: str, counts: dict[str, int], labels: Mapping[str, str] | None = None) -> str:
    rows = "".join(
        f'<tr><td>{_e((labels or {}).get(k, k.replace("_", " ")))}</td><td class="n">{v}</td></tr>' for k, v in counts.items()
    )
    return f'<table><thead><tr><th>{_e(title)}</th><th class="n">Claims</th></tr></thead><tbody>{rows}</tbody></table>'


_DECIDED = {SupportStatus.supported.value, SupportStatus.supported_other_source.value, SupportStatus.contradicted.value}


def _link_html(title: str, ref: dict | None) -> str:
    if ref is None:
        return ""
    where = _e(ref["document"]) + (f", p. {_e(ref['page'])}" if ref.get("page") else "")
    cited = "cited by the claim" if ref["cited"] else "not cited by the claim"
    excerpt = f'<blockquote class="source">{_e(ref["excerpt"])}</blockquote>' if ref.get("excerpt") else ""
    # a "not enough information" score is sure the passage settles nothing: printed, it would read as certainty
    judged = "does not settle the claim" if ref["stance"] == Stance.not_enough_info.value else \
        f'{_e(ref["stance"].replace("_", " "))}, score {ref["score"]:.2f}'
    return f'<div class="block"><h4>{_e(title)}</h4><div>{where} · {judged} · {cited}</div>{excerpt}</div>'


def _claim_html(r: dict) -> str:
    s, n, rev = r["support"], r["numeric"], r["review"]
    badges = [
        _badge(s["label"], _SUPPORT_TONE[s["status"]]),
        _badge(n["label"], _NUMERIC_TONE[n["verdict"]]),
        _badge(f"Review: {rev['state']}", _REVIEW_TONE[rev["state"]]),
    ]
    if r["hedged"]:
        badges.append(_badge("Hedged", "warn"))
    quantities = "; ".join(q["text"] for q in r["quantities"])
    citations = "; ".join(c["marker"] + (f" → {', '.join(c['keys'])}" if c["keys"] else " (unresolved)") for c in r["citations"])
    fields = [
        ("Category", CATEGORY_LABELS[ClaimCategory(r["category"])]),
        ("Direction", r["direction"].replace("_", " ")),
        ("Outcome", r["outcome"]), ("Intervention", r["intervention"]), ("Comparator", r["comparator"]),
        ("Population", r["population"]), ("Timepoint", r["timepoint"]),
        ("Quantities", quantities), ("Evidence level", r["evidence_label"]), ("Citations", citations),
    ]
    parts = [
        f'<article class="claim s-{_e(s["status"])}" id="claim-{_e(r["id"])}">',
        f'<header><span class="cid" title="{_e(r["id"])}">{_e(r.get("ref") or r["id"])}</span><h3>{_e(r["document"])}, p. {_e(r["page"])}'
        + (f" · {_e(r['location'])}" if r.get("location") else "") + f'</h3>{"".join(badges)}</header>',
        f"<blockquote>{_e(r['quote'])}</blockquote>",
        '<dl class="fields">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in fields) + "</dl>",
        f'<div class="block"><h4>Verdict: {_e(r["verdict"]["label"])}</h4><div>{_e(r["verdict"]["reason"])}</div></div>',
        f'<div class="block"><h4>Support</h4><div>{_e(s["explanation"])}</div></div>',
        _link_html("Source passage" if s["status"] in _DECIDED else "Closest passage checked", s["evidence"]),
        _link_html("Counter-evidence", s["counter_evidence"]),
    ]
    for t in r.get("total_mismatches", []):
        parts.append(f'<div class="block"><h4>Figure does not add up</h4><div class="bad">{_e(t["note"])}.</div></div>')
    if n["verdict"] in ("match", "mismatch"):
        how = f" · recomputed {_e(n['recomputed_from'])}" if n["recomputed_from"] else ""
        where = _e(n["document"]) + (f", p. {_e(n['page'])}" if n["page"] else "")
        parts.append(
            f'<div class="block"><h4>Numeric check</h4><div class="{_NUMERIC_TONE[n["verdict"]]}">{_e(n["label"])}: '
            f"claimed <strong>{_e(n['claimed_text'])}</strong>, source <strong>{_e(_fmt(n['found_value']))}"
            f"{_e(_unit(n['found_unit']))}</strong> ({_e(n['found_text'])}) in {where}{how}</div>"
            f'<div class="muted">{_e(n["note"])}</div></div>'
        )
    review = f"{_e(rev['state'])}"
    if rev["reviewer"]:
        review += f" by {_e(rev['reviewer'])} on {_e(_human_time(rev['at']))}"
    if rev["reason"]:
        review += f": {_e(rev['reason'])}"
    if rev["corrections"]:
        review += " · corrected " + ", ".join(f"{_e(k)} → {_e(json.dumps(v, ensure_ascii=False))}" for k, v in rev["corrections"].items())
    parts.append(f'<div class="block"><h4>Review</h4><div>{review}</div></div>')
    parts.append('<div class="notes">Evaluator notes / score:</div>')
    parts.append("</article>")
    return "\n".join(p for p in parts if p)


def worksheet_html(report: dict) -> str:
    """The worksheet as one self-contained, printable HTML page: inline CSS, no script, no external
    assets, every piece of report text escaped. Each domain starts a new printed page."""
    sm = report["summary"]
    title = f"VBP evaluator worksheet: {report['supplier']}"
    domain_labels = {d["domain"]: d["label"] for d in report["domains"]}
    body = [
        "<header>",
        '<p class="kicker">NHS value-based procurement · evaluator worksheet</p>',
        f"<h1>{_e(report['supplier'])}</h1>",
        _meta([
            ("Tender", _e(report["tender"])),
            ("Submission", _e("; ".join(report["submissions"]) or None)),
            ("Generated", _e(_human_time(report["generated_at"]))),
            ("Claims", str(sm["claims"])),
        ]),
        "</header>",
        '<section class="summary"><h2>Summary</h2>',
        ('<table><thead><tr><th>VBP domain</th><th class="n">Claims</th><th class="n">Supported</th><th class="n">Contradicted</th>'
         '<th class="n">Numeric mismatches</th><th class="n">Pending review</th></tr></thead><tbody>'),
    ]
    for d in report["domains"]:
        st = d["by_support_status"]
        body.append(
            f'<tr><td><a href="#domain-{_e(d["domain"])}">{_e(d["label"])}</a></td><td class="n">{d["claim_count"]}</td>'
            f'<td class="n">{st["supported"] + st["supported_other_source"]}</td><td class="n">{st["contradicted"]}</td>'
            f'<td class="n">{d["numeric_mismatches"]}</td><td class="n">{d["by_review_state"]["pending"]}</td></tr>'
        )
    body.append(
        f'<tr><th>All domains</th><th class="n">{sm["claims"]}</th>'
        f'<th class="n">{sm["by_support_status"]["supported"] + sm["by_support_status"]["supported_other_source"]}</th>'
        f'<th class="n">{sm["by_support_status"]["contradicted"]}</th><th class="n">{sm["numeric_mismatches"]}</th>'
        f'<th class="n">{sm["by_review_state"]["pending"]}</th></tr></tbody></table>'
    )
    body.append('<div class="grid">')
    body.append(_count_table("Support status", sm["by_support_status"], {k.value: v for k, v in SUPPORT_LABELS.items()}))
    body.append(_count_table("Numeric check", sm["by_numeric_status"], {k.value: v for k, v in NUMERIC_LABELS.items()}))
    body.append(_count_table("Review state", sm["by_review_state"]))
    body.append(_count_table("Category", sm["by_category"], {k.value: v for k, v in CATEGORY_LABELS.items()}))
    body.append(_count_table("Evidence level", sm["by_evidence_level"], {k.value: v for k, v in EVIDENCE_LABELS.items()}))
    body.append("</div>")
    if sm["empty_domains"]:
        body.append('<p class="bad">No evidence submitted for: '
                    + _e(", ".join(domain_labels[d] for d in sm["empty_domains"])) + ".</p>")
    body.append("</section>")
    body.append('<nav><h2>Contents</h2><ol>' + "".join(
        f'<li><a href="#domain-{_e(d["domain"])}">{_e(d["label"])}</a> ({d["claim_count"]})</li>' for d in report["domains"]
    ) + "</ol></nav>")
    for d in report["domains"]:
        body.append(f'<section class="domain" id="domain-{_e(d["domain"])}">')
        body.append(f"<h2>{_e(d['label'])} <span class=\"muted\">· {d['claim_count']} claim(s)</span></h2>")
        if d["empty"]:
            body.append('<p class="empty">No evidence submitted for this domain.</p>')
        body.extend(_claim_html(r) for r in d["claims"])
        body.append("</section>")
    rules = report["rules"]
    body.append('<section class="rules"><h2>How to read this worksheet</h2>')
    body.append(f"<p><strong>Support status.</strong> {_e(rules['support_status'])}</p>")
    body.append(f"<p><strong>Numeric check.</strong> {_e(rules['numeric_status'])}</p>")
    body.append(f"<p>Stance threshold: {_e(rules['support_threshold'])}.</p></section>")
    return _page(title, body, report)


def precheck_html(report: dict) -> str:
    """The pre-check as one self-contained, printable HTML page: the readiness verdict, the counts,
    then each kind of finding with the quote and the fix; every piece of report text escaped."""
    sm, ready = report["summary"], report["readiness"]
    body = [
        "<header>",
        '<p class="kicker">NHS value-based procurement · supplier pre-check</p>',
        f"<h1>{_e(report['supplier'])}</h1>",
        _meta([
            ("Submission", _e("; ".join(report["submissions"]) or None)),
            ("Generated", _e(_human_time(report["generated_at"]))),
            ("Claims", str(sm["claims"])),
        ]),
        "</header>",
        f'<div class="banner {_READY_TONE[ready["verdict"]]}">{_e(ready["headline"])}</div>',
        '<section><h2>Summary</h2><div class="grid">',
        '<table><thead><tr><th>Finding</th><th>Severity</th><th class="n">Count</th></tr></thead><tbody>',
    ]
    for g in report["groups"]:
        body.append(f'<tr><td><a href="#{_e(g["kind"])}">{_e(g["title"])}</a></td>'
                    f'<td class="{_SEVERITY_TONE[g["severity"]]}">{_e(g["severity"])}</td><td class="n">{g["count"]}</td></tr>')
    body.append("</tbody></table>")
    body.append(_count_table("Claims per VBP domain", sm["by_domain"], {k.value: v for k, v in DOMAIN_LABELS.items()}))
    body.append("</div>")
    body.append(f"<p>{sm['claims_with_findings']} of {sm['claims']} claim(s) have at least one finding.</p></section>")
    for g in report["groups"]:
        body.append(f'<section id="{_e(g["kind"])}"><h2>{_e(g["title"])} <span class="muted">· {g["count"]}</span></h2>')
        body.append(f'<p class="muted">{_e(g["what_it_means"])}</p>')
        if not g["findings"]:
            body.append('<p class="ok">None found.</p></section>')
            continue
        if g["kind"] in (FindingKind.empty_domain.value, FindingKind.unevidenced_domain.value):
            body.append('<table><thead><tr><th>Domain</th><th>Issue</th><th>How to fix</th></tr></thead><tbody>')
            for f in g["findings"]:
                body.append(f"<tr><td>{_e(f['details'].get('label'))}</td><td>{_e(f['message'])}</td><td>{_e(f['fix'])}</td></tr>")
        else:
            body.append('<table><thead><tr><th>Claim</th><th>Quote</th><th>Issue</th><th>How to fix</th></tr></thead><tbody>')
            for f in g["findings"]:
                body.append(
                    f'<tr><td><span class="cid" title="{_e(f["claim_id"])}">{_e(f.get("ref") or f["claim_id"])}</span><br>p. {_e(f["page"])}<br>'
                    f'<span class="{_SEVERITY_TONE[f["severity"]]}">{_e(f["severity"])}</span></td>'
                    f"<td><blockquote>{_e(f['quote'])}</blockquote></td><td>{_e(f['message'])}</td><td>{_e(f['fix'])}</td></tr>"
                )
        body.append("</tbody></table></section>")
    missing = report.get("references_not_supplied") or []
    if missing:
        body.append('<section id="references-not-supplied"><h2>References not supplied</h2>'
                    '<p class="muted">Cited in the submission, but not uploaded with it: the claims that rest on them were not checked.</p><ul>')
        body.extend(f"<li>[{_e(r['key'])}] {_e(r['reference'])}</li>" for r in missing)
        body.append("</ul></section>")
    body.append('<section class="rules"><h2>How findings are made</h2>')
    body.append(f"<p>{_e(report['rules']['precheck'])}</p>")
    body.append(f"<p><strong>Marketing only.</strong> {_e(report['rules']['marketing_only'])}</p></section>")
    return _page(f"VBP pre-check: {report['supplier']}", body, report)


# --- the tender-wide comparison ---------------------------------------------------------------------

COMPARED_VERDICTS = (ClaimVerdict.supported, ClaimVerdict.contradicted, ClaimVerdict.numbers_differ,
                     ClaimVerdict.not_enough_info, ClaimVerdict.not_checked, ClaimVerdict.pending)


def comparison(tender: str, suppliers: list[tuple[str, str, list[ClaimEvidence]]], *, generated_at: datetime,
               threshold: float = SUPPORT_THRESHOLD) -> dict:
    """Every supplier of a tender side by side, by VBP domain: claims, their verdicts and how many were reviewed.

    Args:
        tender: The tender's name for the header.
        suppliers: ``(supplier id, name, claims of its submissions)`` for each supplier.

    Returns:
        ``{"schema", "report", "generated_at", "tender", "domains", "suppliers"}``; each supplier has its totals and, for
        every domain in a fixed order, ``claims``, ``reviewed``, ``verdicts`` (count per claim-level verdict) and
        ``figures_not_adding_up``. A domain with no claims is listed with zeros: it is a gap, not an omission.
    """
    rows = []
    for supplier_id, name, items in suppliers:
        domains = {}
        for d in DOMAIN_ORDER:
            mine = [i for i in items if i.claim.domain is d]
            verdicts = Counter(claim_verdict(i.links, i.passages, threshold=threshold, claim=i.claim, pending=i.pending).status for i in mine)
            domains[d.value] = {
                "claims": len(mine),
                "reviewed": sum(i.review is not None for i in mine),
                "verdicts": {v.value: verdicts.get(v, 0) for v in COMPARED_VERDICTS},
                "figures_not_adding_up": sum(len(i.claim.total_mismatches) for i in mine),
            }
        rows.append({
            "supplier": supplier_id, "name": name, "claims": len(items), "reviewed": sum(i.review is not None for i in items),
            "empty_domains": [d for d, v in domains.items() if not v["claims"]], "domains": domains,
        })
    return {
        "schema": COMPARISON_SCHEMA, "evidence_schema_version": SCHEMA_VERSION, "report": "comparison",
        "generated_at": _iso(generated_at), "tender": tender,
        "domains": [{"domain": d.value, "label": DOMAIN_LABELS[d]} for d in DOMAIN_ORDER],
        "suppliers": rows,
    }


def comparison_html(report: dict) -> str:
    """The comparison as one self-contained page: a row per supplier, a column per domain, verdicts in words."""
    head = "".join(f"<th>{_e(d['label'])}</th>" for d in report["domains"])
    body = [
        "<header>", '<p class="kicker">NHS value-based procurement · supplier comparison</p>', f"<h1>{_e(report['tender'])}</h1>",
        _meta([("Generated", _e(_human_time(report["generated_at"]))), ("Suppliers", str(len(report["suppliers"])))]), "</header>",
        '<section><table><thead><tr><th>Supplier</th><th class="n">Claims</th><th class="n">Reviewed</th>' + head + "</tr></thead><tbody>",
    ]
    for s in report["suppliers"]:
        cells = []
        for d in report["domains"]:
            v = s["domains"][d["domain"]]
            if not v["claims"]:
                cells.append('<td class="bad">no evidence</td>')
                continue
            parts = [f"{v['claims']} claim{'s' if v['claims'] != 1 else ''}"]
            parts += [f"{n} {VERDICT_LABELS[ClaimVerdict(k)].lower()}" for k, n in v["verdicts"].items() if n]
            if v["figures_not_adding_up"]:
                parts.append(f"{v['figures_not_adding_up']} figure(s) not adding up")
            cells.append("<td>" + "<br>".join(_e(p) for p in parts) + "</td>")
        body.append(f"<tr><td>{_e(s['name'])}</td><td class=\"n\">{s['claims']}</td><td class=\"n\">{s['reviewed']}</td>{''.join(cells)}</tr>")
    body.append("</tbody></table></section>")
    return _page(f"VBP supplier comparison: {report['tender']}", body, report)
