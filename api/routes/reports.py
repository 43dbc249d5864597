"""The evaluator worksheet (JSON, CSV, HTML) and the supplier pre-check (JSON, HTML), built by ``api.reports``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api import reports
from api.deps import CurrentUser, ServicesDep, StaffUser
from api.errors import InvalidRequestError, not_found
from api.views import document_titles, evidence_items

router = APIRouter(prefix="/tenders/{tender_id}", tags=["reports"])

_REPORT_RESPONSES = {200: {"content": {"application/json": {}, "text/csv": {}, "text/html": {}},
                           "description": "The report in the format asked for."}}


@router.get("/worksheet", responses=_REPORT_RESPONSES)
def worksheet(
    tender_id: str,
    user: StaffUser,
    services: ServicesDep,
    supplier: Annotated[str, Query(description="The supplier whose submission the worksheet covers.")],
    format: Annotated[Literal["json", "csv", "html"], Query(description="json, csv or html.")] = "json",
) -> Response:
    """The scoring worksheet for one supplier: every claim of its submissions by VBP domain, with quote, page, numbers,
    evidence level, support status, numeric check and review decision."""
    tender = services.repo.get_tender(user, tender_id)
    if supplier not in {s["id"] for s in tender["suppliers"]}:
        raise InvalidRequestError(f"supplier {supplier!r} is not in tender {tender_id}.",
                                  hint=f"Suppliers: {', '.join(s['id'] for s in tender['suppliers']) or 'none'}.", field="supplier")
    owners = services.repo.owners(user, tender_id=tender_id, supplier_id=supplier, roles=["submission"])
    views = services.views.views(owners, tender_id=tender_id)
    titles = document_titles(services, {o["doc_id"] for o in owners}, party=(tender_id, supplier))
    name = services.repo.supplier_names([supplier]).get(supplier, supplier)
    tender_name = f"{tender['title']} ({tender['reference']})" if tender["reference"] else tender["title"]
    report = reports.worksheet(name, tender_name, [titles[d] for d in dict.fromkeys(o["doc_id"] for o in owners) if d in titles],
                               evidence_items(services, views), generated_at=datetime.now(UTC))
    services.repo.audit(user, "report.worksheet", "tender", tender_id, tender_id=tender_id,
                        after={"supplier_id": supplier, "format": format, "claims": len(views)})
    return _render(report, format, csv=reports.worksheet_csv, html=reports.worksheet_html, stem=f"worksheet-{tender_id}-{supplier}")


@router.get("/comparison", responses=_REPORT_RESPONSES)
def comparison(
    tender_id: str,
    user: StaffUser,
    services: ServicesDep,
    format: Annotated[Literal["json", "html"], Query(description="json or html.")] = "json",
) -> Response:
    """Every supplier of the tender side by side by VBP domain: claims, their verdicts, review progress and the figures
    that do not add up (evaluators assigned to the tender, and admins)."""
    tender = services.repo.get_tender(user, tender_id)
    ids = [s["id"] for s in tender["suppliers"]]
    names = services.repo.supplier_names(ids)
    suppliers = []
    for supplier in ids:
        owners = services.repo.owners(user, tender_id=tender_id, supplier_id=supplier, roles=["submission"])
        suppliers.append((supplier, names.get(supplier, supplier), evidence_items(services, services.views.views(owners, tender_id=tender_id))))
    tender_name = f"{tender['title']} ({tender['reference']})" if tender["reference"] else tender["title"]
    report = reports.comparison(tender_name, suppliers, generated_at=datetime.now(UTC))
    services.repo.audit(user, "report.comparison", "tender", tender_id, tender_id=tender_id, after={"format": format, "suppliers": len(ids)})
    return _render(report, format, csv=None, html=reports.comparison_html, stem=f"comparison-{tender_id}")


@router.get("/documents/{doc_id}/precheck", responses=_REPORT_RESPONSES)
def precheck(
    tender_id: str,
    doc_id: str,
    user: CurrentUser,
    services: ServicesDep,
    format: Annotated[Literal["json", "html"], Query(description="json or html.")] = "json",
) -> Response:
    """Pre-check a draft or submission before it is sent: claims with no source, numbers that do not match the cited
    paper, domains with no evidence, claims that are only marketing. Suppliers may pre-check only their own documents."""
    services.repo.check_tender(user, tender_id)
    owners = [o for o in services.repo.document_access(user, doc_id) if o["tender_id"] == tender_id]
    if not owners:
        raise not_found("document", doc_id)
    owner = owners[0]
    if not services.store.has_document(doc_id):
        raise not_found("document", doc_id, hint="The document is still being processed (or its job failed): see GET /jobs.")
    views = services.views.views([owner], tender_id=None)
    title = document_titles(services, [doc_id], party=(tender_id, owner["supplier_id"])).get(doc_id, owner["filename"])
    name = services.repo.supplier_names([owner["supplier_id"]]).get(owner["supplier_id"], owner["supplier_id"])
    doc = services.store.get_document(doc_id)
    report = reports.precheck(name, [title], evidence_items(services, views, with_reviews=False), generated_at=datetime.now(UTC),
                              references={r.key: r.text for r in doc.references},
                              figures=[(title, t) for t in doc.total_mismatches])
    services.repo.audit(user, "report.precheck", "document", doc_id, tender_id=tender_id,
                        after={"supplier_id": owner["supplier_id"], "format": format, "readiness": report["readiness"]["verdict"]})
    return _render(report, format, csv=None, html=reports.precheck_html, stem=f"precheck-{doc_id[:12]}")


def _render(report: dict, fmt: str, *, csv, html, stem: str) -> Response:
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", stem)
    if fmt == "csv":
        return Response(csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})
    if fmt == "html":
        return HTMLResponse(html(report), headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
    return JSONResponse(report)
