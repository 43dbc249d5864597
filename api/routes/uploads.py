"""Uploads (submissions, drafts, cited papers) and the background jobs that ingest them."""

from __future__ import annotations

import secrets
import shutil
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, ServicesDep
from api.errors import InvalidRequestError, not_found
from api.schemas import DocumentRole, JobPublic, JobStatus, Page
from api.uploads import MULTIPART_SCHEMA, accept, preflight, receive
from extractor.errors import EvidenceError

router = APIRouter(tags=["uploads"])


@router.post("/tenders/{tender_id}/documents", response_model=JobPublic, status_code=202,
             openapi_extra={"requestBody": MULTIPART_SCHEMA},
             responses={413: {"description": "The file is over the size limit."},
                        415: {"description": "The file is not a PDF, Word, Excel, .txt or .md file."},
                        422: {"description": "Empty, encrypted (no or wrong password), scanned without a text layer, or damaged."}})
async def upload_document(
    tender_id: str,
    request: Request,
    response: Response,
    user: CurrentUser,
    services: ServicesDep,
    role: Annotated[DocumentRole, Query(description="submission (the bid), paper (a source it cites) or draft (a supplier's "
                                                    "private draft, for pre-checking; evaluators never see it).")],
    supplier: Annotated[str | None, Query(description="The supplier the document belongs to; evaluators and admins must give it, "
                                                      "suppliers may leave it out.")] = None,
) -> dict:
    """Upload a document (multipart field `file`; `password` for an encrypted PDF).

    Size and type are checked while the file streams in; the answer is 202 with a job to poll. Parsing, claim
    extraction, indexing and the support check run in the background.
    """
    job = await take_upload(request, user, services, tender_id, role=role, supplier=supplier)
    response.headers["Location"] = f"/jobs/{job['id']}"
    return job


async def take_upload(request: Request, user, services, tender_id: str, *, role: str | None, supplier: str | None,
                      extra_fields: frozenset[str] = frozenset(), check=None) -> dict:
    """Receive, pre-flight and accept one uploaded document and queue its job; the API route and the workspace's upload
    form both come here. The API names the role and supplier in the query, checked before a byte of the body is read;
    the form sends them in its body (``role=None``): ``check``, given the form's extra fields, then checks its CSRF token
    and returns them, before anything is kept. A refused file is audited and leaves nothing behind.
    """
    repo, settings = services.repo, services.settings
    tender = await run_in_threadpool(repo.get_tender, user, tender_id)  # 404 unless the caller may see it
    members = {s["id"] for s in tender["suppliers"]}
    supplier_id = _owner(user, supplier, role, members, tender_id) if role is not None else None
    received = None
    try:
        received = await receive(request, folder=settings.uploads_dir, max_bytes=int(settings.parsing.max_file_mb * 1024 * 1024),
                                 extra_fields=extra_fields)
        if check is not None:
            role, supplier = check(received.fields) or (role, supplier)
            supplier_id = _owner(user, supplier, role, members, tender_id)
        await run_in_threadpool(preflight, received, settings=settings)
        job_id = f"job-{secrets.token_hex(8)}"
        await run_in_threadpool(accept, received, uploads_dir=settings.uploads_dir, job_id=job_id)
        job = await run_in_threadpool(
            lambda: repo.record_upload(user, tender_id=tender_id, supplier_id=supplier_id, role=role, doc_id=received.sha256,
                                       filename=received.filename, file_path=str(received.path), size_bytes=received.size,
                                       encrypted=bool(received.password), job_id=job_id))
    except EvidenceError as e:
        _discard(received, settings)
        detail = f"{e.code}: {e.message}"
        await run_in_threadpool(lambda: repo.audit(user, "document.upload_rejected", "tender", tender_id, tender_id=tender_id,
                                                   after={"supplier_id": supplier_id, "role": role}, detail=detail))
        raise
    except BaseException:
        _discard(received, settings)
        raise
    services.jobs.submit(job["id"], password=received.password)
    return job


def _owner(user, supplier: str | None, role: str, tender_suppliers: set[str], tender_id: str) -> str:
    """Whose document an upload is, checked before a byte of the body is read."""
    if user.role == "supplier":
        if supplier is not None and supplier != user.supplier_id:
            raise not_found("supplier", supplier, hint="Suppliers upload their own documents: leave out `supplier`.")
        return user.supplier_id
    if role == "draft":
        raise InvalidRequestError("drafts are a supplier's private pre-check uploads; evaluators and admins upload submissions and papers.",
                                  hint="Use role=submission or role=paper.", field="role")
    if supplier is None:
        raise InvalidRequestError("say whose document this is: the `supplier` query parameter is required.",
                                  hint=f"Suppliers in this tender: {', '.join(sorted(tender_suppliers)) or 'none yet (add one first)'}.",
                                  field="supplier")
    if supplier not in tender_suppliers:
        raise InvalidRequestError(f"supplier {supplier!r} is not in tender {tender_id}.",
                                  hint=f"Suppliers in this tender: {', '.join(sorted(tender_suppliers)) or 'none'}; an admin adds "
                                  "suppliers with POST /tenders/{id}/suppliers.", field="supplier")
    return supplier


def _discard(received, settings) -> None:
    if received is None:
        return
    path = received.path
    if path.parent.parent == settings.uploads_dir:  # moved into its job folder, but the job was not recorded
        shutil.rmtree(path.parent, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@router.get("/jobs", response_model=Page[JobPublic])
def list_jobs(
    user: CurrentUser,
    services: ServicesDep,
    tender_id: Annotated[str | None, Query(description="Only this tender's jobs.")] = None,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1, description="Items to skip.")] = 0,
) -> dict:
    """Ingest jobs you can see, oldest first."""
    if tender_id is not None:
        services.repo.check_tender(user, tender_id)
    jobs, total = services.repo.list_jobs(user, tender_id=tender_id, status=status, limit=limit, offset=offset)
    return {"data": jobs, "count": total}


@router.get("/jobs/{job_id}", response_model=JobPublic)
def get_job(job_id: str, user: CurrentUser, services: ServicesDep) -> dict:
    """One job: poll until `status` is `done` (see `result`) or `failed` (see `reason`)."""
    return services.repo.get_job(user, job_id)
