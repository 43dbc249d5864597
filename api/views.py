"""Read models for the routes and reports: a claim with its current version, review state, support links and sources.

Built only from what the caller may see: the ownership rows handed in come from the scoped queries of
``api.store.service``; support links are those checked for that ownership row's party (``owner_context``) and only
ever point into the same supplier's papers (see ``evidence_scope``); a document without a title is named by the
file name its own party uploaded it under, never another party's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from api.reports import ClaimEvidence, latest_decision
from retrieval.checking.verdicts import claim_verdict, numeric_status, support_status
from api.store.service import owner_context
from extractor.schema import Claim, Passage, ReviewDecision, SupportLink


@dataclass(slots=True)
class ClaimView:
    """One claim of one uploaded document, as seen in one tender (or outside any tender: ``tender_id`` None)."""

    claim: Claim  # the current version
    original: Claim
    version: int
    tender_id: str | None
    supplier_id: str
    role: str
    upload_tender_id: str | None = None  # the tender of the ownership row the view was built from (its support links' party)
    reviews: list[ReviewDecision] = field(default_factory=list)
    links: list[SupportLink] = field(default_factory=list)
    pending: bool = False  # its document, or a paper of the same party, is still being processed
    item_json: bytes | None = None  # the item() body serialized, filled in by api.viewcache
    detail_json: dict[str, bytes] = field(default_factory=dict)  # ClaimDetail bodies by audience, filled in by the detail route

    @property
    def review_state(self) -> str | None:
        if self.tender_id is None:
            return None
        latest = latest_decision(self.reviews)
        return latest.decision.value if latest is not None else "pending"

    @property
    def support_status(self) -> str:
        return support_status(self.links)[0].value

    @property
    def numeric_status(self) -> str:
        return numeric_status(self.links)[0].value

    @property
    def verdict(self) -> str:
        return claim_verdict(self.links, pending=self.pending).status.value

    @property
    def stances(self) -> dict[str, int]:
        return dict(Counter(lk.stance.value for lk in self.links))

    def item(self) -> dict:
        """The ``ClaimItem`` response body."""
        return {"claim": self.claim, "version": self.version, "tender_id": self.tender_id, "supplier_id": self.supplier_id,
                "review_state": self.review_state, "support_status": self.support_status, "numeric_status": self.numeric_status,
                "verdict": self.verdict, "stances": self.stances}


def is_pending(owner: dict, processing: tuple[set[str], set[tuple[str, str]]]) -> bool:
    """Whether an ownership row's claims may yet be checked: its document, or a paper of its party, is being processed."""
    docs, parties = processing
    return owner["doc_id"] in docs or (owner["tender_id"], owner["supplier_id"]) in parties


def claim_views(services, owners: list[dict], *, tender_id: str | None,
                processing: tuple[set[str], set[tuple[str, str]]] | None = None) -> list[ClaimView]:
    """Every claim of the stored documents among ``owners`` (ownership rows), in document then reading order.

    In a tender (``tender_id``), each claim carries its current version and the tender's review decisions. A claim of a
    document still being processed, or of a party whose paper is, is ``pending`` (``processing``: the repository's
    :meth:`processing`, read when not given).
    """
    store, repo = services.store, services.repo
    processing = processing if processing is not None else repo.processing()
    stored = repo.document_summaries(o["doc_id"] for o in owners)
    views: list[ClaimView] = []
    seen: set[tuple[str, str]] = set()
    for owner in owners:
        doc_id = owner["doc_id"]
        if doc_id not in stored or (doc_id, owner["supplier_id"]) in seen:
            continue
        seen.add((doc_id, owner["supplier_id"]))
        claims = store.list_claims(doc_id)
        links: dict[str, list[SupportLink]] = defaultdict(list)
        for link in store.list_support_links(doc_id=doc_id, context=owner_context(owner)):
            links[link.claim_id].append(link)
        current = repo.current_claims(tender_id, claims, owner["supplier_id"]) if tender_id else {c.id: (0, c) for c in claims}
        reviews = repo.reviews(tender_id, [c.id for c in claims], owner["supplier_id"]) if tender_id else {}
        for c in claims:
            version, claim = current[c.id]
            views.append(ClaimView(claim=claim, original=c, version=version, tender_id=tender_id, supplier_id=owner["supplier_id"],
                                   role=owner["role"], upload_tender_id=owner["tender_id"], reviews=reviews.get(c.id, []),
                                   links=links.get(c.id, []), pending=is_pending(owner, processing)))
    return views


def claim_view(services, owner: dict, claim_id: str, *, tender_id: str | None) -> ClaimView:
    """One claim's view, reading only that claim, its links and its tender's decisions (not the whole document's).

    Raises:
        NotFoundError: the claim (or its document) is no longer stored.
    """
    store, repo = services.store, services.repo
    original = store.get_claim(claim_id)
    supplier = owner["supplier_id"]
    version, claim = repo.current_claims(tender_id, [original], supplier)[original.id] if tender_id else (0, original)
    reviews = repo.reviews(tender_id, [original.id], supplier).get(original.id, []) if tender_id else []
    return ClaimView(claim=claim, original=original, version=version, tender_id=tender_id, supplier_id=owner["supplier_id"],
                     role=owner["role"], upload_tender_id=owner["tender_id"], reviews=reviews,
                     links=store.list_support_links(claim_id=original.id, context=owner_context(owner)),
                     pending=is_pending(owner, repo.processing()))


def view_owner(view: ClaimView) -> dict:
    """The (tender, supplier, role) of the ownership row a view was built from, as :func:`link_bodies` takes it."""
    return {"tender_id": view.upload_tender_id, "supplier_id": view.supplier_id, "role": view.role}


def filter_views(views: list[ClaimView], *, domain: str | None = None, category: str | None = None, stance: str | None = None,
                 review: str | None = None, support: str | None = None) -> list[ClaimView]:
    """Claims matching every filter given (on the current version: a correction may move a claim to another domain).

    ``stance`` keeps claims with at least one link of that stance; ``stance='none'`` keeps claims with no links.
    """
    out = []
    for v in views:
        if domain is not None and v.claim.domain.value != domain:
            continue
        if category is not None and v.claim.category.value != category:
            continue
        if stance is not None and (bool(v.links) if stance == "none" else stance not in v.stances):
            continue
        if review is not None and v.review_state != review:
            continue
        if support is not None and v.support_status != support:
            continue
        out.append(v)
    return out


def verdict_reason(links: list[SupportLink], bodies: list[dict], claim: Claim | None = None, *, pending: bool = False) -> str:
    """The claim-level verdict's reason, with the pages of the passages in ``bodies`` (from :func:`link_bodies`)."""
    return claim_verdict(links, {b["link"].passage_id: b["passage"] for b in bodies if b["passage"] is not None}, claim=claim,
                         pending=pending).reason


def link_bodies(services, links: list[SupportLink], owner: dict) -> list[dict]:
    """``LinkPublic`` bodies: each link with its passage and the passage's document title (as ``owner``'s party names it)."""
    passages = services.store.get_passages([lk.passage_id for lk in links])
    titles = document_titles(services, {p.doc_id for p in passages.values()}, party=(owner["tender_id"], owner["supplier_id"]))
    return [{"link": lk, "passage": passages.get(lk.passage_id),
             "document": titles.get(passages[lk.passage_id].doc_id) if lk.passage_id in passages else None} for lk in links]


def document_titles(services, doc_ids, *, party: tuple[str | None, str] | None = None) -> dict[str, str]:
    """A display name for each stored document: its title, else the file name ``party`` (tender, supplier) uploaded it
    under, else its short id. Never the name another party gave the same bytes."""
    doc_ids = set(doc_ids)
    names = services.repo.upload_names(party[0], party[1], doc_ids) if party is not None and party[0] is not None else {}
    return {d: (s["title"] or names.get(d) or f"document {d[:12]}") for d, s in services.repo.document_summaries(doc_ids).items()}


def evidence_items(services, views: list[ClaimView], *, with_reviews: bool = True) -> list[ClaimEvidence]:
    """The reports' input: one ``ClaimEvidence`` per claim view, with the passages and titles its links need."""
    passages: dict[str, Passage] = services.store.get_passages([lk.passage_id for v in views for lk in v.links])
    titles: dict[tuple, dict[str, str]] = {}
    for party in {(v.upload_tender_id, v.supplier_id) for v in views}:
        mine = [v for v in views if (v.upload_tender_id, v.supplier_id) == party]
        titles[party] = document_titles(services, {v.claim.doc_id for v in mine} | {passages[lk.passage_id].doc_id for v in mine
                                                                                     for lk in v.links if lk.passage_id in passages},
                                        party=party)
    items = []
    for v in views:
        named = titles[(v.upload_tender_id, v.supplier_id)]
        mine = {lk.passage_id: passages[lk.passage_id] for lk in v.links if lk.passage_id in passages}
        docs = {d: named[d] for d in {v.claim.doc_id, *(p.doc_id for p in mine.values())} if d in named}
        items.append(ClaimEvidence(claim=v.claim, links=list(v.links), review=latest_decision(v.reviews) if with_reviews else None,
                                   passages=mine, documents=docs, pending=v.pending))
    return items
