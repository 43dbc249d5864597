"""Evidence per question: a supplier's claims that bear on each question of a scheme, ranked, with the reasons.

A claim bears on a question when its category is one the question names, one of the question's keywords occurs in
it (stemmed: "readmissions" matches "readmission"), or its text is similar enough to the question's wording,
guidance and keywords. Its score, from 0 to 1, adds these up (the weights are in :class:`EvidenceSettings`), with a
match on the question's claim domains adding a little more; the evaluator links or unlinks claims from there.

A question with nothing bearing on it is flagged ``no_evidence``. A question that needs real-world evidence
(``rwe_required``: productivity, ../shared/VBP.md "efficiency") is flagged ``no_real_world_evidence`` when none of
its claims is a measured resource-use figure (length of stay, procedure time, readmissions, …) with a study behind
it (an evidence level other than none, bench or expert opinion).
"""

from __future__ import annotations

from dataclasses import dataclass

from extractor.schema import Claim, ClaimCategory, EvidenceLevel
from extractor.scoring.errors import ScoringError
from extractor.scoring.models import EvidenceFlag, EvidenceMatch, Question, QuestionEvidence, Scheme
from extractor.scoring.similarity import EmbedFn, contains_phrase, embedding_similarity, lexical_similarity, stem_tokens

_NOT_RWE = frozenset({EvidenceLevel.none, EvidenceLevel.bench, EvidenceLevel.expert_opinion})


@dataclass(frozen=True, slots=True)
class EvidenceSettings:
    """How claims are matched to questions.

    Attributes:
        category_weight: Score for a claim whose category the question names.
        domain_weight: Score for a claim whose VBP domain the question names.
        keyword_weight: Score for keywords found (full at ``keywords_for_full`` keywords).
        similarity_weight: Score for text similarity (times the similarity, 0 to 1).
        keywords_for_full: How many keywords earn the full keyword score.
        similarity_floor: Similarity at which text alone makes a claim bear on a question. None: 0.15 for the lexical
            similarity, 0.35 for an embedding (MiniLM cosines of related sentences lie higher).
        limit: At most this many claims per question (None: all).
    """

    category_weight: float = 0.35
    domain_weight: float = 0.15
    keyword_weight: float = 0.25
    similarity_weight: float = 0.25
    keywords_for_full: int = 2
    similarity_floor: float | None = None
    limit: int | None = None


def claim_key(claim: Claim) -> str:
    """A claim's id, or ``<doc_id>:<start>-<end>`` for a claim not yet stored (the ``vbp check-claim`` form)."""
    return claim.id or f"{claim.doc_id}:{claim.span.start}-{claim.span.end}"


def question_text(question: Question) -> str:
    """The text a question is compared by: its theme, wording, guidance and keywords."""
    return " ".join([question.theme, question.wording, question.guidance, "; ".join(question.keywords)])


def claim_text(claim: Claim) -> str:
    """The text a claim is compared by: its quote and its outcome."""
    return f"{claim.quote} {claim.outcome}".strip()


def is_real_world_evidence(claim: Claim) -> bool:
    """A measured resource-use figure with a study behind it (what a productivity question requires)."""
    return claim.category is ClaimCategory.resource_use and bool(claim.quantities) and claim.evidence_level not in _NOT_RWE


def map_evidence(
    questions: Scheme | list[Question], claims: list[Claim], *, embed: EmbedFn | None = None,
    settings: EvidenceSettings = EvidenceSettings(),
) -> list[QuestionEvidence]:
    """Rank one supplier's claims under each question they bear on.

    Args:
        questions: The scheme, or its questions.
        claims: The supplier's claims (call once per supplier: claims of different suppliers are never mixed here).
        embed: An embedding function (``list[str] -> array (n, d)``), e.g. the offline MiniLM; None compares texts by
            the lexical TF-IDF cosine.
        settings: The matching weights and thresholds.

    Returns:
        One :class:`QuestionEvidence` per question, in scheme order: the claims that bear on it, best first (ties by
        claim id), each with its score and reasons, and the question's flags.

    Raises:
        ScoringError: two claims share an id, or the embedding function returns the wrong shape.
    """
    qs = questions.questions if isinstance(questions, Scheme) else list(questions)
    keys = [claim_key(c) for c in claims]
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise ScoringError(f"claim {key!r} is given twice.", hint="Pass each claim once (its current version).")
        seen.add(key)
    q_texts = [question_text(q) for q in qs]
    c_texts = [claim_text(c) for c in claims]
    if embed is None:
        sims = lexical_similarity(q_texts, c_texts)
        floor = 0.15 if settings.similarity_floor is None else settings.similarity_floor
        kind = "lexical"
    else:
        sims = embedding_similarity(embed, q_texts, c_texts)
        floor = 0.35 if settings.similarity_floor is None else settings.similarity_floor
        kind = "embedding"
    claim_tokens = [stem_tokens(t) for t in c_texts]
    out = []
    for qi, q in enumerate(qs):
        phrases = [(k, stem_tokens(k)) for k in q.keywords]
        matches = []
        for ci, claim in enumerate(claims):
            match = _match(q, claim, keys[ci], claim_tokens[ci], phrases, float(sims[qi, ci]), floor, kind, settings)
            if match is not None:
                matches.append(match)
        matches.sort(key=lambda m: (-m.score, m.claim_id))
        if settings.limit is not None:
            matches = matches[: settings.limit]
        out.append(QuestionEvidence(question_id=q.id, matches=matches, flags=_flags(q, matches, claims, keys)))
    return out


def _match(
    q: Question, claim: Claim, key: str, tokens: list[str], phrases: list[tuple[str, list[str]]], sim: float, floor: float,
    kind: str, s: EvidenceSettings,
) -> EvidenceMatch | None:
    category = claim.category in q.categories
    domain = claim.domain in q.claim_domains
    found = _found_keywords(tokens, phrases)
    similar = sim >= floor
    if not (category or found or similar):
        return None
    keyword_part = min(1.0, len(found) / max(1, s.keywords_for_full))
    score = s.category_weight * category + s.domain_weight * domain + s.keyword_weight * keyword_part + s.similarity_weight * sim
    reasons = []
    if category:
        reasons.append(f"category match ({claim.category.value})")
    if found:
        reasons.append("keywords: " + ", ".join(found))
    if similar:
        reasons.append(f"{kind} similarity {sim:.2f}")
    if domain:
        reasons.append(f"domain match ({claim.domain.value})")
    return EvidenceMatch(claim_id=key, score=round(min(1.0, score), 4), category_match=category, domain_match=domain,
                         keywords=found, similarity=round(sim, 4), reasons=reasons)


def _found_keywords(tokens: list[str], phrases: list[tuple[str, list[str]]]) -> list[str]:
    """The keywords found, each counted once: "lead times" adds nothing to "lead time", nor "price" to "unit price"."""
    hits = [(k, tuple(p)) for k, p in phrases if contains_phrase(tokens, p)]
    out, kept = [], []
    for k, p in sorted(hits, key=lambda h: -len(h[1])):
        if any(contains_phrase(longer, p) for longer in kept):
            continue
        kept.append(p)
        out.append(k)
    order = [k for k, _ in phrases]
    return sorted(out, key=order.index)


def _flags(q: Question, matches: list[EvidenceMatch], claims: list[Claim], keys: list[str]) -> list[EvidenceFlag]:
    if not matches:
        return [EvidenceFlag(code="no_evidence", message=f"No claim in the submission bears on {q.id} ({q.theme or q.wording}).")]
    if q.rwe_required:
        by_key = dict(zip(keys, claims))
        if not any(is_real_world_evidence(by_key[m.claim_id]) for m in matches):
            return [EvidenceFlag(
                code="no_real_world_evidence",
                message=(f"{q.id} needs real-world evidence on length of stay, procedure time or readmissions; none of its "
                         f"{len(matches)} claims is a measured resource-use figure with a study behind it."),
            )]
    return []
