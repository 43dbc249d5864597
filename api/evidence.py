"""Keep the passage index in step with the database, and check claims against their sources.

The plain functions here are what the CLI (`vbp ingest`, `vbp check-claim`, `vbp support`) and the HTTP
service call: indexing a stored document, deleting one from both stores, and checking a claim — find
candidate passages (first in the papers it cites, then across the collection), label each with the stance
classifier, and compare the numbers (stated ones in the passage, and effects recomputed from the cited
trial's arm-level numbers).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from extractor.schema import (
    Claim,
    Document,
    DocumentKind,
    EvidenceLevel,
    NumericCheck,
    NumericVerdict,
    Quantity,
    QuantityKind,
    SupportLink,
)
from retrieval.citations import CitedCandidate, resolve_citations

log = logging.getLogger(__name__)

EVIDENCE_KINDS = (DocumentKind.clinical_paper.value, DocumentKind.other.value)
"""Kinds of document searched across the collection: another supplier's submission is never evidence."""
CITED_K = 4
"""Passages taken from the papers a claim cites."""
OTHER_K = 4
"""Passages taken from the rest of the collection."""
MIN_ARM_SCORE = 0.5
"""Arm numbers read from a cited trial are used for the numeric check only when their outcome matched this well."""

_MARKER = re.compile(r"\s*(\[\s*\d+(?:\s*[-–,]\s*\d+)*\s*\]|\(\s*[A-Z][A-Za-z'-]+(?: et al\.?)?,? \d{4}[a-z]?\s*\))")


# --- the index, kept in step with the database -------------------------------------------------------


def open_index(settings, store, *, check: bool = True):
    """Open the configured passage index and compare it with the database.

    Args:
        settings: ``api.settings.Settings``.
        store: The repository.
        check: Compare the index with the database (cheap: counts per document).

    Returns:
        ``(searcher, report)``: the report is None when not checked; ``report.ok`` is False when the index
        is out of step (the caller warns and points at `vbp reindex`).

    Raises:
        IndexCorruptError / IndexMismatchError / IndexUnavailableError: the index cannot be opened.
    """
    from retrieval.search import check_consistency, open_searcher

    searcher = open_searcher(settings.retrieval, data_dir=settings.data_dir)
    report = check_consistency(searcher, store.passage_counts()) if check else None
    if report is not None and not report.ok:
        log.warning("the passage index is out of step with the database (%s); run `vbp reindex`", report.summary())
    return searcher, report


def index_document(searcher, store, doc_id: str, *, embed=None) -> int:
    """(Re-)index one stored document's passages in both indexes; returns how many were written.

    ``embed`` (texts -> vectors, the index's own embedder run elsewhere, e.g. ``api.compute``) computes the passage
    vectors instead of the index.

    Raises:
        NotFoundError: no such document. IndexCorruptError: the index cannot be written.
    """
    doc = store.get_document(doc_id)
    searcher.delete_document(doc.id)
    if not doc.passages:
        return 0
    vectors = embed([p.text for p in doc.passages]) if embed is not None else None
    return searcher.add(doc.passages, kinds={doc.id: doc.kind.value}, vectors=vectors)


def delete_document(store, searcher, doc_id: str) -> str:
    """Delete a document from the database and then from the index; returns its full id.

    The database goes first: if the index cannot be updated, the start-up check reports the stale passages and
    `vbp reindex` removes them, while search results are filtered to stored documents meanwhile.
    """
    full_id = store.get_document(doc_id).id
    store.delete_document(full_id)
    if searcher is not None:
        searcher.delete_document(full_id)
    return full_id


# --- checking claims against their sources -----------------------------------------------------------


@dataclass(slots=True)
class ClaimCheck:
    """The outcome of checking one claim."""

    claim: Claim
    links: list[SupportLink] = field(default_factory=list)
    cited_doc_ids: list[str] = field(default_factory=list)
    unresolved_keys: list[str] = field(default_factory=list)  # reference keys whose paper is not ingested
    evidence_level: EvidenceLevel | None = None  # the strongest design of the claim's own reading and the cited papers

    @property
    def best(self) -> SupportLink | None:
        """The strongest link that takes a side (supports or contradicts), else the first link."""
        sided = [lk for lk in self.links if lk.stance.value != "not_enough_info"]
        return max(sided, key=lambda lk: (lk.cited, lk.score), default=self.links[0] if self.links else None)


def claim_query(claim: Claim) -> str:
    """The claim's quote with its citation markers taken out (they only add noise to a search)."""
    return _MARKER.sub("", claim.quote).strip() or claim.quote


def candidates_for(store, *, scope: Collection[str] | None = None) -> list[CitedCandidate]:
    """Stored documents a reference may name (every one, or those in ``scope``), with their titles and DOIs."""
    return [CitedCandidate.from_head(doc_id, title, head) for doc_id, title, head in store.document_heads(doc_ids=scope)]


class _Checker:
    def __init__(self, store, searcher, classifier, *, scope: Collection[str] | None, cited_k: int, other_k: int) -> None:
        self.store, self.searcher, self.classifier = store, searcher, classifier
        self.scope = set(scope) if scope is not None else None
        self.cited_k, self.other_k = cited_k, other_k
        self.indexed = searcher.bm25.doc_ids() if hasattr(searcher, "bm25") else searcher.doc_ids()
        self.candidates = candidates_for(store, scope=self.scope)
        self.kinds = store.document_kinds()
        self._docs: dict[str, Document] = {}
        self._designs: dict[str, EvidenceLevel] = {}

    def document(self, doc_id: str) -> Document:
        if doc_id not in self._docs:
            self._docs[doc_id] = self.store.get_document(doc_id)
        return self._docs[doc_id]

    def check(self, claim: Claim) -> ClaimCheck:
        from retrieval.numeric import check_numbers
        from retrieval.search import SearchFilters

        own = self.document(claim.doc_id)
        resolution = resolve_citations(claim, own, self.candidates)
        cited = [d for d in resolution.doc_ids if d in self.indexed]
        query = claim_query(claim)
        hits = []
        if cited:
            hits += [(h, True) for h in self.searcher.search(query, self.cited_k, filters=SearchFilters(doc_ids=cited))]
        pool = [d for d in self.indexed if d != own.id and d not in cited and self.kinds.get(d) in EVIDENCE_KINDS
                and (self.scope is None or d in self.scope)]
        if pool and self.other_k > 0:
            hits += [(h, False) for h in self.searcher.search(query, self.other_k, filters=SearchFilters(doc_ids=pool))]
        arm_links = self._arm_checks(claim, cited)
        texts = {h.passage_id: h.text for h, _ in hits}
        extra = [pid for pid in arm_links if pid not in texts]
        texts.update({pid: p.text for pid, p in self.store.get_passages(extra).items()})
        order = list(dict.fromkeys([h.passage_id for h, _ in hits] + extra))
        predictions = dict(zip(order, self.classifier.predict(query, [texts[pid] for pid in order]))) if order else {}
        retrieval = {h.passage_id: (h.score, c) for h, c in hits}
        links = []
        for pid in order:
            pred = predictions[pid]
            numeric = arm_links.get(pid) or check_numbers(claim, texts[pid])
            score, was_cited = retrieval.get(pid, (0.0, True))
            links.append(SupportLink(claim_id=claim.id, passage_id=pid, stance=pred.stance, score=round(pred.score, 4),
                                     retrieval_score=round(float(score), 4), numeric=numeric, cited=was_cited))
        links.sort(key=lambda lk: (lk.stance.value == "not_enough_info", not lk.cited, -lk.score))
        return ClaimCheck(claim=claim, links=links, cited_doc_ids=resolution.doc_ids, unresolved_keys=resolution.unresolved,
                          evidence_level=self._level(claim, resolution.doc_ids))

    def _level(self, claim: Claim, cited: Sequence[str]) -> EvidenceLevel:
        """The claim's evidence level read from its own reference entries, or the cited papers' design when stronger
        (a reference entry rarely says "randomised"; the paper does)."""
        from extractor.design import design_of_document, strongest

        if not cited:
            return claim.evidence_level
        for doc_id in cited:
            if doc_id not in self._designs:
                self._designs[doc_id] = design_of_document(self.document(doc_id))
        return strongest([claim.evidence_level, *(self._designs[d] for d in cited)])

    def _arm_checks(self, claim: Claim, cited: Sequence[str]) -> dict[str, NumericCheck]:
        """Numeric checks from arm-level numbers read out of each cited trial, keyed by the passage they came from."""
        wanted = [q for q in claim.quantities if (q.kind is QuantityKind.relative_change and q.unit == "%")
                  or q.kind is QuantityKind.mean_difference]
        if not wanted or not claim.outcome or not cited:
            return {}
        from extractor.arms import extract_arm_numbers, recompute_effect

        out: dict[str, NumericCheck] = {}
        for doc_id in cited:
            doc = self.document(doc_id)
            read: dict[str, tuple] = {}  # outcome type -> (arms, effects): each is read from the paper once per claim
            for q in wanted:
                outcome_type = "binary" if q.kind is QuantityKind.relative_change else "continuous"
                if outcome_type not in read:
                    arms = extract_arm_numbers(doc, intervention=claim.intervention or "intervention",
                                               comparator=claim.comparator or "control", outcome=claim.outcome,
                                               outcome_type=outcome_type)
                    read[outcome_type] = (arms, recompute_effect(arms))
                arms, effects = read[outcome_type]
                check = _arm_verdict(q, arms, effects) if arms.score >= MIN_ARM_SCORE else None
                source = next(iter(arms.sources.values()), None)
                if check is None or source is None:
                    continue
                pid = _passage_at(doc, source.context_span.start)
                if pid is not None and (pid not in out or out[pid].verdict is not NumericVerdict.match):
                    out[pid] = check
        return out


def _arm_verdict(q: Quantity, arms, effects: dict[str, float]) -> NumericCheck | None:
    from retrieval.numeric import ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE

    if q.kind is QuantityKind.relative_change and "rrr" in effects:
        found = abs(effects["rrr"]) * 100
        how = (f"{arms.intervention_events}/{arms.intervention_group_size} vs {arms.comparator_events}/{arms.comparator_group_size}"
               f" (risk ratio {effects['rr']:.3f})")
        ok = abs(q.value - found) <= ABSOLUTE_TOLERANCE
        unit = "%"
    elif q.kind is QuantityKind.mean_difference and "md" in effects:
        found = effects["md"]
        how = f"means {arms.intervention_mean:g} vs {arms.comparator_mean:g}"
        ok = abs(abs(q.value) - abs(found)) <= max(RELATIVE_TOLERANCE * abs(q.value), 0.005)
        unit = q.unit or ""
    else:
        return None
    verdict = NumericVerdict.match if ok else NumericVerdict.mismatch
    said = "matches" if ok else "does not match"
    return NumericCheck(verdict=verdict, claimed=q, found=Quantity(kind=q.kind, value=round(found, 4), unit=q.unit, text=how),
                        recomputed_from=how,
                        note=f"claimed {q.text}; recomputed from the trial's arm numbers {how}: {found:.3g}{unit} ({said})")


def _passage_at(doc: Document, offset: int) -> str | None:
    for p in doc.passages:
        if p.span.start <= offset < p.span.end:
            return p.id
    return None


def check_claims(
    claims: Sequence[Claim],
    *,
    store,
    searcher,
    classifier=None,
    scope: Collection[str] | None = None,
    cited_k: int = CITED_K,
    other_k: int = OTHER_K,
    save: bool = True,
    context: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> list[ClaimCheck]:
    """Check claims against the indexed documents; store each claim's links in ``context`` (replacing that context's
    earlier ones, and no other's) when ``save``.

    Args:
        claims: Stored claims.
        store: The repository. searcher: The open hybrid index.
        classifier: A stance classifier (default: the shipped one, ``retrieval.support.get_stance_classifier()``).
        scope: Only these documents may serve as evidence (the service passes the tender's papers, so one
            supplier's uploads never show up in another's checks); None: every stored document.
        cited_k: Passages from the cited papers. other_k: Passages from the rest of the collection.
        save: Store the links.
        context: The party the check is made for (``api.store.service.evidence_context``; ``''``: the command line). It
            should match ``scope``: the links of one party's context are checked against that party's papers only.
        progress: Called after each claim with (done, total).
    """
    if classifier is None:
        from retrieval.support import get_stance_classifier

        classifier = get_stance_classifier()
    checker = _Checker(store, searcher, classifier, scope=scope, cited_k=cited_k, other_k=other_k)
    results = []
    for i, claim in enumerate(claims, start=1):
        result = checker.check(claim)
        if save:
            store.save_support_links(claim.id, result.links, context=context)
        results.append(result)
        if progress:
            progress(i, len(claims))
    return results


def support_document(store, searcher, doc_id: str, **options) -> list[ClaimCheck]:
    """Check every stored claim of a document (a supplier submission) against its cited papers and the collection.

    Options are those of :func:`check_claims`.

    Raises:
        NotFoundError: no such document.
    """
    return check_claims(store.list_claims(doc_id), store=store, searcher=searcher, **options)


def evidence_items(checks: Sequence[ClaimCheck], store) -> list:
    """The reports' input (``api.reports.ClaimEvidence``) for checked claims, with the passages and titles their links need."""
    from api.reports import ClaimEvidence

    passages = store.get_passages([lk.passage_id for c in checks for lk in c.links])
    titles = {r["id"]: (r["title"] or r["filename"]) for r in store.list_documents()}
    items = []
    for c in checks:
        mine = {lk.passage_id: passages[lk.passage_id] for lk in c.links if lk.passage_id in passages}
        docs = {d: titles[d] for d in {c.claim.doc_id, *(p.doc_id for p in mine.values())} if d in titles}
        claim = c.claim
        if c.evidence_level is not None and c.evidence_level is not claim.evidence_level:
            claim = claim.model_copy(update={"evidence_level": c.evidence_level})
        items.append(ClaimEvidence(claim=claim, links=list(c.links), review=None, passages=mine, documents=docs))
    return items
