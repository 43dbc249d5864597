"""Check claims against the indexed documents: candidate passages, their stance, and their numbers.

For each claim: resolve its citation markers to the stored papers it cites, take the passages of those papers that
best match it (``CheckSettings.cited_k``), then the best of the rest of the evidence (``other_k``; never another
supplier's submission), and compare the numbers (those stated in the passage, and effects recomputed from a cited
trial's arm-level numbers). A claim that states a direction for an outcome and cites a paper is judged by structure
(``retrieval.checking.structure``: its direction against the finding sentence of the cited trial); the others' passages
are labelled by the stance classifier. The result is a ``ClaimCheck`` per claim; storing
its links is the caller's (``api.evidence`` stores them for the party the check was made for).

``source`` is anything with the read side of the document store: ``get_document(doc_id)``,
``document_heads(doc_ids=...)``, ``document_kinds()`` and ``get_passages(ids)`` (``api.store.repository.Store``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
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
    Stance,
    SupportLink,
)
from retrieval.checking.structure import NAME as STRUCTURE
from retrieval.citations import CitedCandidate, resolve_citations

EVIDENCE_KINDS = (DocumentKind.clinical_paper.value, DocumentKind.other.value)
"""Kinds of document searched across the collection: another supplier's submission is never evidence."""
RETRIEVED = "retrieval"
"""The ``SupportLink.method`` of a passage retrieved for a claim the structure judge decided, shown for its place and
numbers but not judged (``CheckSettings.classify_judged`` off): stance not_enough_info, score 0."""

_MARKER = re.compile(r"\s*(\[\s*\d+(?:\s*[-–,]\s*\d+)*\s*\]|\(\s*[A-Z][A-Za-z'-]+(?: et al\.?)?,? \d{4}[a-z]?\s*\))")


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


def candidates_for(source, *, scope: Collection[str] | None = None) -> list[CitedCandidate]:
    """Stored documents a reference may name (every one, or those in ``scope``), with their titles and DOIs."""
    return [CitedCandidate.from_head(doc_id, title, head) for doc_id, title, head in source.document_heads(doc_ids=scope)]


class _Checker:
    def __init__(self, source, searcher, classifier, *, scope: Collection[str] | None, cited_k: int, other_k: int,
                 min_arm_score: float, structure: bool = True, classify_judged: bool = False) -> None:
        self.store, self.searcher, self.classifier = source, searcher, classifier
        self.min_arm_score, self.structure, self.classify_judged = min_arm_score, structure, classify_judged
        self.scope = set(scope) if scope is not None else None
        self.cited_k, self.other_k = cited_k, other_k
        self.indexed = searcher.bm25.doc_ids() if hasattr(searcher, "bm25") else searcher.doc_ids()
        self.candidates = candidates_for(source, scope=self.scope)
        self.kinds = source.document_kinds()
        self._docs: dict[str, Document] = {}
        self._designs: dict[str, EvidenceLevel] = {}

    def document(self, doc_id: str) -> Document:
        if doc_id not in self._docs:
            self._docs[doc_id] = self.store.get_document(doc_id)
        return self._docs[doc_id]

    def check(self, claim: Claim, *, cites: Sequence[str] = ()) -> ClaimCheck:
        from retrieval.search import SearchFilters

        own = self.document(claim.doc_id)
        resolution = resolve_citations(claim, own, self.candidates)
        resolution.doc_ids = list(dict.fromkeys([*resolution.doc_ids, *cites]))
        cited = [d for d in resolution.doc_ids if d in self.indexed]
        query = claim_query(claim)
        hits = []
        if cited:
            hits += [(h, True) for h in self.searcher.search(query, self.cited_k, filters=SearchFilters(doc_ids=cited))]
        pool = [d for d in self.indexed if d != own.id and d not in cited and self.kinds.get(d) in EVIDENCE_KINDS
                and (self.scope is None or d in self.scope)]
        if pool and self.other_k > 0:
            hits += [(h, False) for h in self.searcher.search(query, self.other_k, filters=SearchFilters(doc_ids=pool))]
        arm_links, doubtful = self._arm_checks(claim, cited)
        rows = self._row_checks(claim, cited)
        texts = {h.passage_id: h.text for h, _ in hits}
        extra = [pid for pid in [*arm_links, *rows] if pid not in texts]
        texts.update({pid: p.text for pid, p in self.store.get_passages(extra).items()})
        order = list(dict.fromkeys([h.passage_id for h, _ in hits] + extra))

        def numbers(pid: str) -> NumericCheck | None:
            return _with_rows(rows, pid, _numeric(arm_links.get(pid), claim, texts[pid], doubtful=doubtful))

        structural = self._structure(claim, cited, texts, numbers)
        judge_all = structural is None or self.classify_judged  # the judge's verdict decides; the classifier only where it cannot
        predictions = dict(zip(order, self._classify(query, [texts[pid] for pid in order]))) if order and judge_all else {}
        retrieval = {h.passage_id: (h.score, c) for h, c in hits}
        links = []
        for pid in order:
            numeric = numbers(pid)
            score, was_cited = retrieval.get(pid, (0.0, True))
            if pid in predictions:
                pred = predictions[pid]
                stance, stance_score, method = pred.stance, round(pred.score, 4), "stance.classifier"
            else:
                stance, stance_score, method = Stance.not_enough_info, 0.0, RETRIEVED
            links.append(SupportLink(claim_id=claim.id, passage_id=pid, stance=stance, score=stance_score, method=method,
                                     retrieval_score=round(float(score), 4), numeric=numeric, cited=was_cited))
        if structural is not None:
            links = [lk for lk in links if lk.passage_id != structural.passage_id]
            links.append(structural)
        links.sort(key=lambda lk: (lk.method == STRUCTURE, lk.stance.value != "not_enough_info", lk.cited, lk.score), reverse=True)
        return ClaimCheck(claim=claim, links=links, cited_doc_ids=resolution.doc_ids, unresolved_keys=resolution.unresolved,
                          evidence_level=self._level(claim, resolution.doc_ids))

    def _classify(self, query: str, passages: list[str]) -> list:
        """The pair classifier's stances as the product may say them: a side below its calibrated threshold (the
        classifier's ``thresholds``, chosen for precision on data it never trained on) is not enough information."""
        from retrieval.support import calibrated

        thresholds = getattr(self.classifier, "thresholds", {})
        return [calibrated(p, thresholds) for p in self.classifier.predict(query, passages)]

    def _structure(self, claim: Claim, cited: Sequence[str], texts: dict[str, str],
                   numbers: Callable[[str], NumericCheck | None]) -> SupportLink | None:
        """The structure judge's link: the claim's direction against the finding of the cited trial that reads clearest.

        None when the judge is not packaged, the claim states no direction or outcome, or no cited paper has a finding
        sentence to read.
        """
        from retrieval.checking.structure import get_structure_judge, read_findings

        judge = get_structure_judge() if self.structure else None
        if judge is None or not cited or not claim.outcome or claim.direction.value == "unspecified":
            return None
        best = None
        for doc_id in cited:
            doc = self.document(doc_id)
            findings = read_findings(doc, intervention=claim.intervention or "", comparator=claim.comparator or "", outcome=claim.outcome)
            verdict = judge.judge(claim.direction, findings, hedged=claim.hedged)
            if verdict is None or verdict.finding is None:
                continue
            sided = max(verdict.probabilities["supports"], verdict.probabilities["contradicts"]) if verdict.stance.value != \
                "not_enough_info" else 0.0
            if best is None or sided > best[0]:
                best = (sided, doc, verdict)
        if best is None:
            return None
        _, doc, verdict = best
        sentence = verdict.finding.sentence
        pid = _passage_at(doc, sentence.span.start)
        if pid is None:
            return None
        if pid not in texts:
            texts[pid] = self.store.get_passages([pid])[pid].text
        return SupportLink(claim_id=claim.id, passage_id=pid, stance=verdict.stance, score=round(verdict.probability, 4), cited=True,
                           numeric=numbers(pid), method=STRUCTURE,
                           evidence=sentence.text,
                           evidence_span=sentence.span)

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

    def _row_checks(self, claim: Claim, cited: Sequence[str]) -> dict[str, NumericCheck]:
        """The claim's two arm percentages against each cited trial's own sentences and table rows for its outcome
        (``retrieval.numeric.outcome_row_check``), keyed by the passage the row lies in; only decided checks."""
        from retrieval.numeric import outcome_row_check

        out: dict[str, NumericCheck] = {}
        for doc_id in cited:
            doc = self.document(doc_id)
            row = outcome_row_check(claim, doc)
            pid = _passage_at(doc, row.span_start) if row is not None else None
            if pid is not None and (pid not in out or _RANK[row.check.verdict] < _RANK[out[pid].verdict]):
                out[pid] = row.check
        return out

    def _arm_checks(self, claim: Claim, cited: Sequence[str]) -> tuple[dict[str, NumericCheck], list[float] | None]:
        """Numeric checks from arm-level numbers read out of each cited trial, keyed by the passage they came from; and,
        when every one of them is not_comparable for want of confidence, the effects the doubtful readings would give
        (None otherwise): see :func:`_numeric`."""
        wanted = [q for q in claim.quantities if (q.kind is QuantityKind.relative_change and q.unit == "%")
                  or q.kind is QuantityKind.mean_difference]
        if not wanted or not claim.outcome or not cited:
            return {}, None
        from extractor.arms import extract_arm_numbers, recompute_effect

        out: dict[str, NumericCheck] = {}
        doubtful: list[float] = []
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
                check = _arm_verdict(q, arms, effects) if arms.score >= self.min_arm_score else None
                source = _first_source(arms)
                if check is None or source is None:
                    continue
                if check.verdict is NumericVerdict.not_comparable:
                    doubtful.extend(_effect_values(q, recompute_effect(arms.model_copy(update=arms.withheld))))
                pid = _passage_at(doc, source.context_span.start)
                if pid is not None and (pid not in out or _RANK[check.verdict] < _RANK[out[pid].verdict]):
                    out[pid] = check
        decided = any(c.verdict is not NumericVerdict.not_comparable for c in out.values())
        return out, (None if decided or not out else doubtful)


_RANK = {NumericVerdict.match: 0, NumericVerdict.mismatch: 1, NumericVerdict.not_comparable: 2}


def _effect_values(q: Quantity, effects: dict[str, float]) -> list[float]:
    """The effect a claimed quantity is compared with, in its units: a relative change in %, or a mean difference."""
    if q.kind is QuantityKind.relative_change and "rrr" in effects:
        return [abs(effects["rrr"]) * 100]
    if q.kind is QuantityKind.mean_difference and "md" in effects:
        return [abs(effects["md"])]
    return []


def _with_rows(rows: Mapping[str, NumericCheck], pid: str, numeric: NumericCheck | None) -> NumericCheck | None:
    """The trial's own row for the claim's outcome decides the claim's arm percentages: its passage carries that check,
    and another passage's reading of the same percentages (which may be another outcome's) no longer counts."""
    if pid in rows:
        return rows[pid]
    if rows and numeric is not None and numeric.verdict is not NumericVerdict.not_comparable and (
            numeric.claimed is None or numeric.claimed.kind is QuantityKind.percent):
        row = next(iter(rows.values()))
        return NumericCheck(verdict=NumericVerdict.not_comparable, claimed=numeric.claimed,
                            note=f"{numeric.note}; not counted: the cited trial's own figures for the outcome decide ({row.verdict.value})")
    return numeric


def _numeric(arm_check: NumericCheck | None, claim: Claim, text: str, *, doubtful: list[float] | None = None) -> NumericCheck | None:
    """The arm-number check when it decided; else the passage's own numbers.

    When the trial's arm numbers for the claim's outcome were found but could not be read with confidence,
    ``doubtful`` holds the effects those readings would give. A passage's numbers may then confirm the claim, but
    contradict it only when they give one of those same effects (two readings of the same numbers agree); otherwise
    they may be another outcome's, and the mismatch becomes not_comparable, saying why.
    """
    if arm_check is not None and arm_check.verdict is not NumericVerdict.not_comparable:
        return arm_check
    from retrieval.numeric import check_numbers

    own = check_numbers(claim, text)
    if own is not None and own.verdict is NumericVerdict.mismatch and doubtful is not None and not (
            own.found is not None and any(abs(abs(own.found.value) - v) <= max(0.5, 0.01 * v) for v in doubtful)):
        return NumericCheck(verdict=NumericVerdict.not_comparable, claimed=own.claimed,
                            note=f"{own.note}; not counted against the claim: {ARMS_NOT_CONFIDENT}, so these numbers may be "
                                 "another outcome's")
    if own is not None and own.verdict is not NumericVerdict.not_comparable:
        return own
    return arm_check or own


ARMS_NOT_CONFIDENT = "the trial's arm numbers could not be read with confidence"
"""The reason a claim's effect is not recomputed when a number it needs was read below its threshold."""

_NEEDED = {QuantityKind.relative_change: ("intervention_events", "intervention_group_size", "comparator_events", "comparator_group_size"),
           QuantityKind.mean_difference: ("intervention_mean", "comparator_mean")}
_FIELD_WORDS = {"intervention_events": "intervention events", "intervention_group_size": "intervention group size",
                "comparator_events": "comparator events", "comparator_group_size": "comparator group size",
                "intervention_mean": "intervention mean", "comparator_mean": "comparator mean",
                "intervention_standard_deviation": "intervention SD", "comparator_standard_deviation": "comparator SD"}


def _first_source(arms):
    """The grounding of the first number the effect rests on (where its passage is looked up)."""
    for name in ("intervention_events", "intervention_mean", *arms.sources):
        if name in arms.sources:
            return arms.sources[name]
    return None


def _provenance(arms, fields: tuple[str, ...]) -> str:
    """Which numbers were read and where: 'intervention events 9 (p. 3, table row "Wound infection 9/200 ...")'."""
    parts = []
    for name in fields:
        src = arms.sources.get(name)
        value = getattr(arms, name)
        if src is None:
            continue
        shown = value if value is not None else arms.withheld.get(name)
        context = src.context if len(src.context) <= 80 else src.context[:77] + "..."
        conf = arms.confidence.get(name)
        state = "" if value is not None else f", withheld at confidence {conf:.2f}" if conf is not None else ", withheld"
        parts.append(f"{_FIELD_WORDS.get(name, name)} {shown:g} (p. {src.page}, {src.where or 'text'} \"{context}\"{state})")
    return "; ".join(parts)


def _arm_verdict(q: Quantity, arms, effects: dict[str, float]) -> NumericCheck | None:
    """Match or mismatch from the recomputed effect, only when every number it needs was read with confidence;
    ``not_comparable`` with the reason when one was read but withheld; None when the trial gave nothing to read."""
    from retrieval.numeric import ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE

    needed = _NEEDED.get(q.kind)
    if needed is None:
        return None
    if not arms.confident(needed):
        if not any(name in arms.sources for name in needed):
            return None
        where = _provenance(arms, needed)
        return NumericCheck(verdict=NumericVerdict.not_comparable, claimed=q,
                            note=f"claimed {q.text}; {ARMS_NOT_CONFIDENT}" + (f": {where}" if where else ""))
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
                        note=f"claimed {q.text}; recomputed from the trial's arm numbers {how}: {found:.3g}{unit} ({said}); "
                             f"read from {_provenance(arms, needed)}")


def _passage_at(doc: Document, offset: int) -> str | None:
    for p in doc.passages:
        if p.span.start <= offset < p.span.end:
            return p.id
    return None


def check_claims(
    claims: Sequence[Claim],
    *,
    source,
    searcher,
    classifier=None,
    scope: Collection[str] | None = None,
    settings=None,
    cites: Mapping[str, Sequence[str]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ClaimCheck]:
    """Check claims against the indexed documents (nothing is stored).

    Args:
        claims: Claims of stored documents.
        source: The document store's read side (see the module docstring). searcher: The open hybrid index.
        classifier: A stance classifier (default: the shipped one, ``retrieval.support.get_stance_classifier()``).
        scope: Only these documents may serve as evidence (the service passes the supplier's papers in the tender, so
            one supplier's uploads never show up in another's checks); None: every stored document.
        settings: ``retrieval.settings.CheckSettings`` (default: its defaults).
        cites: Claim id -> documents the claim cites besides those its own reference list names (the claim-check
            harness checks each claim against the paper it is said to cite).
        progress: Called after each claim with (done, total).
    """
    from retrieval.settings import CheckSettings

    settings = settings or CheckSettings()
    if classifier is None:
        from retrieval.support import get_stance_classifier

        classifier = get_stance_classifier()
    checker = _Checker(source, searcher, classifier, scope=scope, cited_k=settings.cited_k, other_k=settings.other_k,
                       min_arm_score=settings.min_arm_score, structure=settings.structure, classify_judged=settings.classify_judged)
    results = []
    for i, claim in enumerate(claims, start=1):
        results.append(checker.check(claim, cites=(cites or {}).get(claim.id, ())))
        if progress:
            progress(i, len(claims))
    return results


__all__ = ["EVIDENCE_KINDS", "ClaimCheck", "candidates_for", "check_claims", "claim_query"]
