"""Documents, their passages, claims and support links, and search, all limited to what the caller may see."""

from __future__ import annotations

import warnings
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ServicesDep
from api.store.service import owner_context
from api.schemas import ClaimDetail, ClaimItem, DocumentDetail, DocumentPublic, DocumentRole, LinkPublic, Page, SearchPublic
from api.viewcache import JSONBytes, page_json
from api.views import ClaimView, filter_views, is_pending, link_bodies, verdict_reason
from extractor.schema import ClaimCategory, Passage, Stance, VBPDomain

router = APIRouter(tags=["documents"])

DomainQ = Annotated[VBPDomain | None, Query(description="Only claims in this VBP domain.")]
CategoryQ = Annotated[ClaimCategory | None, Query(description="Only claims of this category.")]
StanceQ = Annotated[Stance | None, Query(description="Only claims with at least one support link of this stance.")]
LimitQ = Annotated[int, Query(ge=1, le=5000, description="Page size.")]
OffsetQ = Annotated[int, Query(ge=0, le=2**63 - 1, description="Items to skip.")]
TenderQ = Annotated[str | None, Query(description="As checked in this tender (default: the first upload you can see).")]
SupplierQ = Annotated[str | None, Query(description="As checked for this supplier, when the same file is in more than one "
                                        "supplier's documents (each one's checks are its own).")]


def document_bodies(services, owners: list[dict]) -> list[dict]:
    """``DocumentPublic`` bodies, one per document, with the caller's ownership rows."""
    summaries = services.repo.document_summaries(o["doc_id"] for o in owners)
    jobs = services.repo.job_states(o["job_id"] for o in owners)
    out: dict[str, dict] = {}
    for o in owners:
        body = out.get(o["doc_id"])
        if body is None:
            s = summaries.get(o["doc_id"])
            status = "stored" if s else ("failed" if jobs.get(o["job_id"]) == "failed" else "processing")
            body = out[o["doc_id"]] = {"id": o["doc_id"], "status": status, "filename": o["filename"], "owners": [],
                                       **({k: s[k] for k in ("title", "kind", "page_count", "warnings", "claims")} if s else {})}
        body["owners"].append(o)
    return list(out.values())


@router.get("/documents", response_model=Page[DocumentPublic])
def list_documents(
    user: CurrentUser,
    services: ServicesDep,
    tender_id: Annotated[str | None, Query(description="Only this tender's documents.")] = None,
    supplier: Annotated[str | None, Query(description="Only this supplier's documents.")] = None,
    role: Annotated[DocumentRole | None, Query(description="Only submissions, papers or drafts.")] = None,
) -> dict:
    """Documents you can see (suppliers: only their own), with their processing status."""
    if tender_id is not None:
        services.repo.check_tender(user, tender_id)
    owners = services.repo.owners(user, tender_id=tender_id, supplier_id=supplier, roles=[role] if role else None)
    docs = document_bodies(services, owners)
    return {"data": docs, "count": len(docs)}


@router.get("/documents/{doc_id}", response_model=DocumentDetail)
def get_document(doc_id: str, user: CurrentUser, services: ServicesDep) -> dict:
    """One document: summary, pages, sections and reference list."""
    owners = services.repo.document_access(user, doc_id)
    [body] = document_bodies(services, owners)
    if body["status"] != "stored":
        return {**body, "pages": [], "sections": [], "references": []}
    doc = services.store.get_document(doc_id)
    return {**body, "pages": [{"number": p.number, "text": p.text, "ocr_confidence": p.ocr_confidence} for p in doc.pages],
            "sections": [s.model_dump(mode="json") for s in doc.sections], "references": [r.model_dump(mode="json") for r in doc.references],
            "total_mismatches": [m.model_dump(mode="json") for m in doc.total_mismatches]}


@router.get("/documents/{doc_id}/passages", response_model=Page[Passage])
def list_passages(
    doc_id: str,
    user: CurrentUser,
    services: ServicesDep,
    page: Annotated[int | None, Query(ge=1, le=1_000_000, description="Only passages on this page.")] = None,
    limit: LimitQ = 500,
    offset: OffsetQ = 0,
) -> dict:
    """The retrieval units of a document, in order."""
    services.repo.document_access(user, doc_id)
    passages = [p for p in _stored(services, doc_id).passages if page is None or p.page == page]
    return {"data": passages[offset: offset + limit], "count": len(passages)}


def _stored(services, doc_id: str):
    from api.errors import not_found

    if not services.store.has_document(doc_id):
        raise not_found("document", doc_id, hint="The document is still being processed (or its job failed): see GET /jobs.")
    return services.store.get_document(doc_id)


@router.get("/passages/{passage_id}", response_model=Passage)
def get_passage(passage_id: str, user: CurrentUser, services: ServicesDep) -> Passage:
    """One passage by id ('<doc_id>:<index>')."""
    from api.errors import not_found

    services.repo.passage_access(user, passage_id)
    found = services.store.get_passages([passage_id])
    if passage_id not in found:
        raise not_found("passage", passage_id)
    return found[passage_id]


@router.get("/documents/{doc_id}/claims", response_model=Page[ClaimItem])
def list_document_claims(
    doc_id: str,
    user: CurrentUser,
    services: ServicesDep,
    domain: DomainQ = None,
    category: CategoryQ = None,
    stance: StanceQ = None,
    limit: LimitQ = 1000,
    offset: OffsetQ = 0,
) -> JSONBytes:
    """The claims of a document as extracted, with their support status. Review state and corrections live in a tender:
    see GET /tenders/{tender_id}/claims."""
    owners = services.repo.document_access(user, doc_id)
    _stored(services, doc_id)
    views = filter_views(services.views.views(owners[:1], tender_id=None), domain=_v(domain), category=_v(category), stance=_v(stance))
    return JSONBytes(page_json(views[offset: offset + limit], len(views)))


@router.get("/claims/{claim_id}", response_model=ClaimDetail)
def get_claim(claim_id: str, user: CurrentUser, services: ServicesDep, tender_id: TenderQ = None, supplier: SupplierQ = None) -> dict:
    """One claim as extracted, with its support links and their passages."""
    owner = services.repo.claim_owner(user, claim_id, tender_id=tender_id, supplier_id=supplier)
    claim = services.store.get_claim(claim_id)
    links = services.store.list_support_links(claim_id=claim_id, context=owner_context(owner))
    view = ClaimView(claim=claim, original=claim, version=0, tender_id=None, supplier_id=owner["supplier_id"], role=owner["role"],
                     upload_tender_id=owner["tender_id"], links=links, pending=is_pending(owner, services.repo.processing()))
    bodies = link_bodies(services, links, owner)
    return {**view.item(), "original": claim, "links": bodies, "verdict_reason": verdict_reason(links, bodies, claim, pending=view.pending)}


@router.get("/claims/{claim_id}/links", response_model=Page[LinkPublic])
def list_claim_links(claim_id: str, user: CurrentUser, services: ServicesDep, tender_id: TenderQ = None,
                     supplier: SupplierQ = None) -> dict:
    """The passages judged against a claim (best first): stance, score, numeric check, and the passage itself."""
    owner = services.repo.claim_owner(user, claim_id, tender_id=tender_id, supplier_id=supplier)
    links = services.store.list_support_links(claim_id=claim_id, context=owner_context(owner))
    return {"data": link_bodies(services, links, owner), "count": len(links)}


@router.get("/search", response_model=SearchPublic)
def search(
    user: CurrentUser,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="What to look for.")],
    tender_id: Annotated[str | None, Query(description="Only this tender's documents.")] = None,
    doc_id: Annotated[str | None, Query(description="Only this document.")] = None,
    kind: Annotated[str | None, Query(description="Only documents of this kind: supplier_submission, clinical_paper, other.")] = None,
    section: Annotated[str | None, Query(description="Only this section label, e.g. results.")] = None,
    page: Annotated[int | None, Query(ge=1, le=1_000_000, description="Only this page.")] = None,
    k: Annotated[int, Query(ge=1, le=100, description="How many passages.")] = 10,
) -> JSONBytes:
    """Hybrid search (BM25 + embeddings) over the passages of the documents you can see."""
    from retrieval.base import SearchFilters

    if doc_id is not None:
        if tender_id is not None:
            services.repo.check_tender(user, tender_id)
        services.repo.document_access(user, doc_id)
        allowed: set[str] | None = {doc_id}
    elif user.is_admin and tender_id is None:
        allowed = None
    else:
        allowed = services.repo.visible_doc_ids(user, tender_id=tender_id)
        if tender_id is not None and not allowed:  # ownership rows are scoped by tender access: none may mean no access
            services.repo.check_tender(user, tender_id)
    searcher = services.index.get()
    if allowed is not None:
        indexed = searcher.bm25.doc_ids() if hasattr(searcher, "bm25") else searcher.doc_ids()
        allowed &= indexed
        if not allowed:
            return JSONBytes(SearchPublic(query=q, data=[], count=0).model_dump_json(by_alias=True).encode())
    filters = SearchFilters(doc_ids=sorted(allowed) if allowed is not None else None, kinds=kind, sections=section, pages=page)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a cut query still answers; the limit is in the schema
        hits = searcher.search(q, k, filters=filters)
    # the hits are validated models already: serialize them once, without the response model's second validation
    return JSONBytes(SearchPublic(query=q, data=hits, count=len(hits)).model_dump_json(by_alias=True).encode())


def _v(value):
    return value.value if value is not None else None
