"""Tenders (procurements), their suppliers and their evaluators."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminUser, CurrentUser, ServicesDep
from api.schemas import Page, Ref, TenderCreate, TenderEvaluatorAdd, TenderPublic, TenderSupplierAdd

router = APIRouter(prefix="/tenders", tags=["tenders"])


@router.post("", response_model=TenderPublic, status_code=201)
def create_tender(body: TenderCreate, admin: AdminUser, services: ServicesDep) -> dict:
    """Create a tender (admins)."""
    tender = services.repo.create_tender(body.title, reference=body.reference, actor=admin)
    return services.repo.get_tender(admin, tender["id"])


@router.get("", response_model=Page[TenderPublic])
def list_tenders(user: CurrentUser, services: ServicesDep) -> dict:
    """The tenders you can see: all (admins), those you are assigned to (evaluators), those you bid in (suppliers)."""
    tenders = services.repo.list_tenders(user)
    return {"data": tenders, "count": len(tenders)}


@router.get("/{tender_id}", response_model=TenderPublic)
def get_tender(tender_id: str, user: CurrentUser, services: ServicesDep) -> dict:
    """One tender. A supplier sees only itself among the suppliers, and no evaluators."""
    return services.repo.get_tender(user, tender_id)


@router.post("/{tender_id}/suppliers", response_model=Ref, status_code=201)
def add_supplier(tender_id: str, body: TenderSupplierAdd, admin: AdminUser, services: ServicesDep) -> dict:
    """Add a supplier to a tender (created when new). Its users can then upload and pre-check there."""
    return services.repo.add_tender_supplier(tender_id, body.supplier, name=body.name, actor=admin)


@router.post("/{tender_id}/evaluators", response_model=Ref, status_code=201)
def assign_evaluator(tender_id: str, body: TenderEvaluatorAdd, admin: AdminUser, services: ServicesDep) -> dict:
    """Assign an evaluator to a tender."""
    user = services.repo.assign_evaluator(tender_id, body.user, actor=admin)
    return {"id": user["id"], "name": user["name"]}
