"""Study design (evidence level) of a document or of a reference-list entry, from its wording."""

from __future__ import annotations

import re

from extractor.schema import Document, DocumentKind, EvidenceLevel

# Strongest first: when a text names several designs, the first listed wins.
_DESIGNS: list[tuple[EvidenceLevel, re.Pattern[str]]] = [
    (EvidenceLevel.systematic_review, re.compile(r"systematic review|meta-?analys[ie]s|pooled analysis", re.I)),
    (EvidenceLevel.rct, re.compile(r"randomi[sz]ed|randomly (?:assigned|allocated)|\bRCT\b|controlled trial", re.I)),
    (EvidenceLevel.economic_evaluation, re.compile(r"cost[- ]effectiveness|cost[- ]utility|economic evaluation|budget impact|\bICER\b|\bQALYs?\b|cost model", re.I)),
    (EvidenceLevel.cohort, re.compile(r"\bcohort\b|prospective|retrospective|registry|observational|post-market surveillance|real-world", re.I)),
    (EvidenceLevel.audit, re.compile(r"\baudit\b|service evaluation|before[- ]and[- ]after|quality improvement|clinical evaluation", re.I)),
    (EvidenceLevel.case_series, re.compile(r"case series|case reports?\b", re.I)),
    (EvidenceLevel.bench, re.compile(r"in[- ]vitro|bench(?:top)? test|laboratory test|simulated[- ]use|test report|\bISO \d{3,5}\b testing", re.I)),
    (EvidenceLevel.expert_opinion, re.compile(r"expert opinion|consensus statement|position statement|\bsurvey\b", re.I)),
]

STRENGTH = {level: rank for rank, level in enumerate(EvidenceLevel)}  # lower is stronger


def design_of_text(text: str) -> EvidenceLevel:
    """The strongest study design a piece of text (a title, an abstract, a reference) names."""
    for level, pattern in _DESIGNS:
        if pattern.search(text):
            return level
    return EvidenceLevel.none


def design_of_document(doc: Document) -> EvidenceLevel:
    """Design of a clinical paper from its title and abstract; supplier documents report none themselves."""
    if doc.kind is not DocumentKind.clinical_paper:
        return EvidenceLevel.none
    head = (doc.title or "") + "\n" + doc.text[:4000]
    return design_of_text(head)


def strongest(levels: list[EvidenceLevel]) -> EvidenceLevel:
    """The strongest of several evidence levels (``none`` when the list is empty)."""
    return min(levels, key=STRENGTH.__getitem__, default=EvidenceLevel.none)
