"""Claims of a tender with their review state, and review decisions: accept, reject or correct, always with a reason.

Decisions are appended, never edited; a correction is stored as a new version of the claim (version 0 is the
extracted one), and every decision is written to the audit trail with the state before and after.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import TypeAdapter

from api.deps import CurrentUser, ServicesDep, StaffUser
from api.routes.documents import CategoryQ, DomainQ, LimitQ, OffsetQ, StanceQ, SupplierQ, _v
from api.schemas import ClaimDetail, ClaimItem, Page, ReviewCreate, ReviewPublic, ReviewState
from api.viewcache import JSONBytes, page_json
from api.views import claim_view, filter_views, link_bodies, verdict_reason, view_owner

router = APIRouter(prefix="/tenders/{tender_id}", tags=["review"])


@router.get("/claims", response_model=Page[ClaimItem])
def list_tender_claims(
    tender_id: str,
    user: CurrentUser,
    services: ServicesDep,
    supplier: Annotated[str | None, Query(description="Only this supplier's documents.")] = None,
    doc_id: Annotated[str | None, Query(description="Only this document.")] = None,
    role: Annotated[str, Query(pattern="^(submission|paper|draft|any)$",
                               description="Claims of submissions (default), papers, drafts (suppliers only) or any.")] = "submission",
    domain: DomainQ = None,
    category: CategoryQ = None,
    stance: StanceQ = None,
    review: Annotated[ReviewState | None, Query(description="Only claims in this review state.")] = None,
    support: Annotated[str | None, Query(pattern="^(supported|supported_other_source|contradicted|unsupported|not_checked)$",
                                         description="Only claims with this support status.")] = None,
    limit: LimitQ = 200,
    offset: OffsetQ = 0,
) -> JSONBytes:
    """The claims of a tender's documents (current versions), with review state and support status; filter to build a queue."""
    if doc_id is not None:
        services.repo.check_tender(user, tender_id)
        services.repo.document_access(user, doc_id)
    owners = services.repo.owners(user, tender_id=tender_id, supplier_id=supplier, doc_ids=[doc_id] if doc_id else None,
                                  roles=None if role == "any" else [role])
    if not owners:  # ownership rows are scoped by tender access: any row proves it; none may mean no access
        services.repo.check_tender(user, tender_id)
    # review work is the evaluators': a supplier sees its claims as extracted, without review state or corrections
    in_tender = tender_id if user.role != "supplier" else None
    views = filter_views(services.views.views(owners, tender_id=in_tender), domain=_v(domain), category=_v(category), stance=_v(stance),
                         review=review if in_tender else None, support=support)
    return JSONBytes(page_json(views[offset: offset + limit], len(views)))


@router.get("/claims/{claim_id}", response_model=ClaimDetail)
def get_tender_claim(tender_id: str, claim_id: str, user: CurrentUser, services: ServicesDep, supplier: SupplierQ = None) -> JSONBytes:
    """One claim in a tender: current version, original, support links, review decisions and every version."""
    services.repo.check_tender(user, tender_id)
    owner = services.repo.claim_owner(user, claim_id, tender_id=tender_id, supplier_id=supplier)
    view = services.views.claim(owner, claim_id, tender_id=tender_id)
    audience = "supplier" if user.role == "supplier" else "staff"
    if view is None:  # not in the cached views (cannot happen unless the document went meanwhile): read it afresh
        view = claim_view(services, owner, claim_id, tender_id=tender_id)
    elif audience in view.detail_json:  # the cached view is replaced whenever the claim, its links or its reviews change
        return JSONBytes(view.detail_json[audience])
    body = _DETAIL.dump_json(_DETAIL.validate_python(_claim_detail(services, view, tender_id, claim_id, user)), by_alias=True)
    view.detail_json[audience] = body
    return JSONBytes(body)


_DETAIL = TypeAdapter(ClaimDetail)


def _claim_detail(services, view, tender_id: str, claim_id: str, user) -> dict:
    reviews = services.repo.review_rows(tender_id, claim_id, view.supplier_id) if user.role != "supplier" else []
    versions = services.repo.versions(tender_id, view.original, view.supplier_id) if user.role != "supplier" else []
    body = view.item()
    if user.role == "supplier":  # review work is the evaluators'; a supplier sees its claim as extracted
        body.update(claim=view.original, version=0, review_state=None)
    bodies = link_bodies(services, view.links, view_owner(view))
    return {**body, "original": view.original, "links": bodies, "verdict_reason": verdict_reason(view.links, bodies, view.claim, pending=view.pending),
            "reviews": reviews,
            "versions": versions}


@router.post("/claims/{claim_id}/reviews", response_model=ReviewPublic, status_code=201)
def review_claim(tender_id: str, claim_id: str, body: ReviewCreate, user: StaffUser, services: ServicesDep,
                 supplier: SupplierQ = None) -> dict:
    """Accept, reject or correct a claim, with a reason. A correction creates a new version of the claim; nothing is overwritten."""
    services.repo.check_tender(user, tender_id)
    owner = services.repo.claim_owner(user, claim_id, tender_id=tender_id, supplier_id=supplier)
    return services.repo.add_review(user, tender_id, claim_id, supplier_id=owner["supplier_id"], decision=body.decision,
                                    reason=body.reason, corrections=body.corrections)


@router.get("/claims/{claim_id}/reviews", response_model=Page[ReviewPublic])
def list_reviews(tender_id: str, claim_id: str, user: StaffUser, services: ServicesDep, supplier: SupplierQ = None) -> dict:
    """Every decision on a claim in this tender, oldest first."""
    services.repo.check_tender(user, tender_id)
    owner = services.repo.claim_owner(user, claim_id, tender_id=tender_id, supplier_id=supplier)
    rows = services.repo.review_rows(tender_id, claim_id, owner["supplier_id"])
    return {"data": rows, "count": len(rows)}
