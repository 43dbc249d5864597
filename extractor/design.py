"""Study design (evidence level) of a document or of a reference-list entry, from its wording."""

from __future__ import annotations

import re

from extractor.schema import Document, DocumentKind, EvidenceLevel, SourceType

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


# Who is behind a reference, checked in this order: the supplier's own material first (a "data on file" report of a
# trial is still the supplier's), then national bodies, then the marks of a journal article.
_SOURCES: list[tuple[SourceType, re.Pattern[str]]] = [
    (SourceType.supplier_commissioned, re.compile(r"(?:supplier|manufacturer|industry|company)[- ](?:commissioned|funded|sponsored)|commissioned by (?:the )?(?:supplier|manufacturer|company)|"
                                                  r"(?:funded|sponsored) by (?:the )?(?:supplier|manufacturer|company)", re.I)),
    (SourceType.own_survey, re.compile(r"\b(?:surveys?|questionnaires?)\b.*\bdata on file\b|\bdata on file\b.*\b(?:surveys?|questionnaires?)\b|\b(?:user|customer|nurse|staff|patient) "
                                       r"(?:experience |satisfaction |preference )?surveys?\b", re.I)),
    (SourceType.data_on_file, re.compile(r"\bdata on file\b|\binternal (?:report|analysis|data)\b|\bunpublished\b", re.I)),
    (SourceType.regulatory_or_statistic, re.compile(
        r"\b(?:MHRA|NICE|NHS England|NHS Digital|NHS Supply Chain|UKHSA|Public Health England|Office for National Statistics|ONS|"
        r"GIRFT|Getting It Right First Time|Care Quality Commission|CQC|FDA|EMA|WHO|World Health Organization|Department of Health|"
        r"National Audit Office|NHS Resolution)\b|national (?:statistics|audit|survey|prevalence)|\bguideline\b", re.I)),
    (SourceType.expert_opinion, re.compile(r"expert opinion|consensus statement|position statement|editorial", re.I)),
    (SourceType.peer_reviewed, re.compile(r"\b(?:19|20)\d{2}\s*[;,]\s*\d+\s*(?:\(\d+\))?\s*:\s*[A-Za-z]?\d+|\bdoi\b|10\.\d{4,9}/|"
                                          r"\b(?:J|Journal|Lancet|BMJ|JAMA|N Engl J Med|PLoS|BMC|Ann|Am J|Br J|Eur J)\b.*\b(?:19|20)\d{2}\b", re.I)),
]
_SOURCE_RANK = {t: i for i, t in enumerate(SourceType)}  # the enum lists sources most independent first


def source_of_text(text: str) -> SourceType:
    """Who is behind a reference-list entry, from its wording; ``unknown`` when it does not say."""
    for kind, pattern in _SOURCES:
        if pattern.search(text):
            return kind
    return SourceType.unknown


def best_source(types: list[SourceType]) -> SourceType:
    """The most independent of the sources a claim cites (``none`` when it cites nothing)."""
    return min(types, key=_SOURCE_RANK.__getitem__, default=SourceType.none)
