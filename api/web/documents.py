"""The workspace's documents pages: uploads with their live progress, a draft's pre-check, and the downloads
(worksheets, the audit trail), each through the same checks and reports as the API."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.errors import InvalidRequestError, not_found
from api.store.service import Principal
from api.web.common import PageUser, render_page
from api.web.session import PREFIX, check_csrf

router = APIRouter(prefix=PREFIX, include_in_schema=False)


# --- uploads and their progress --------------------------------------------------------------------------

STAGES = ("parse", "store", "extract", "index", "support")
STAGE_WORDS = {"parse": "reading the file", "store": "storing it", "extract": "finding claims", "index": "indexing passages",
               "support": "checking claims against the cited papers"}


SHOWN_JOBS = 200


def _jobs(request: Request, user: Principal, tender_id: str) -> list[dict]:
    """The tender's latest jobs the user may see, newest first (the list keeps them oldest first)."""
    repo = request.app.state.services.repo
    jobs, total = repo.list_jobs(user, tender_id=tender_id, limit=SHOWN_JOBS)
    if total > SHOWN_JOBS:
        jobs, _ = repo.list_jobs(user, tender_id=tender_id, limit=SHOWN_JOBS, offset=total - SHOWN_JOBS)
    return list(reversed(jobs))


def _upload_roles(user: Principal) -> list[tuple[str, str]]:
    if user.role == "supplier":
        return [("draft", "Draft, for a private pre-check"), ("submission", "Submission"), ("paper", "Paper the submission cites")]
    return [("submission", "A supplier's submission"), ("paper", "A paper a submission cites")]


@router.get("/tenders/{tender_id}/documents", response_class=HTMLResponse)
def documents_page(request: Request, tender_id: str, session: PageUser, uploaded: str | None = None) -> Response:
    """Upload submissions, papers or drafts, and watch each one's job go through its stages."""
    user, csrf = session
    return render_page(request, "documents.html", user, csrf, roles=_upload_roles(user), uploaded=uploaded,
                   max_mb=request.app.state.services.settings.parsing.max_file_mb, **_jobs_context(request, user, tender_id))


@router.get("/tenders/{tender_id}/documents/status", response_class=HTMLResponse)
def documents_status(request: Request, tender_id: str, session: PageUser) -> Response:
    """The jobs table alone, for the page to poll while a job is queued or running (htmx); the full page works without it."""
    user, csrf = session
    return render_page(request, "_jobs.html", user, csrf, **_jobs_context(request, user, tender_id))


def _jobs_context(request: Request, user: Principal, tender_id: str) -> dict:
    """What the jobs table needs: the tender, its jobs newest first, whether any is in progress, supplier names."""
    services = request.app.state.services
    tender = services.repo.get_tender(user, tender_id)
    jobs = _jobs(request, user, tender_id)
    return {"tender": tender, "jobs": jobs, "stages": STAGES, "stage_words": STAGE_WORDS,
            "active": any(j["status"] in ("queued", "running") for j in jobs),
            "names": services.repo.supplier_names({s["id"] for s in tender["suppliers"]})}


@router.post("/tenders/{tender_id}/documents")
async def upload(request: Request, tender_id: str, session: PageUser) -> Response:
    """The upload form: the file streams in and is checked as the API's upload is; then its job is shown in progress."""
    from api.routes.uploads import take_upload

    user, csrf = session
    allowed = {r for r, _ in _upload_roles(user)}

    def check(fields: dict[str, str]) -> tuple[str, str | None]:
        check_csrf(csrf, fields.get("csrf_token"))
        role = fields.get("role", "")
        if role not in allowed:
            raise InvalidRequestError(f"'{role}' is not a kind of document you can upload here.",
                                      hint=f"Choose one of: {', '.join(sorted(allowed))}.", field="role")
        return role, (fields.get("supplier") or None) if user.role != "supplier" else None

    job = await take_upload(request, user, request.app.state.services, tender_id, role=None, supplier=None,
                            extra_fields=frozenset({"csrf_token", "role", "supplier"}), check=check)
    return RedirectResponse(f"{PREFIX}/tenders/{tender_id}/documents?" + urlencode({"uploaded": job["id"]}), status_code=303)


# --- the supplier's pre-check and the evaluator's exports ----------------------------------------------------


@router.get("/tenders/{tender_id}/documents/{doc_id}/precheck", response_class=HTMLResponse)
def precheck_page(request: Request, tender_id: str, doc_id: str, session: PageUser) -> Response:
    """A draft's (or submission's) pre-check: each finding with its quote and a link to its highlighted place."""
    import json

    from api.routes.reports import precheck

    user, csrf = session
    services = request.app.state.services
    report = json.loads(precheck(tender_id, doc_id, user, services, format="json").body)
    owners = [o for o in services.repo.document_access(user, doc_id) if o["tender_id"] == tender_id]
    return render_page(request, "precheck.html", user, csrf, tender_id=tender_id, doc_id=doc_id, report=report,
                   supplier=owners[0]["supplier_id"] if owners else None)


@router.get("/tenders/{tender_id}/documents/{doc_id}/precheck.html")
def precheck_download(request: Request, tender_id: str, doc_id: str, session: PageUser) -> Response:
    from api.routes.reports import precheck

    response = precheck(tender_id, doc_id, session[0], request.app.state.services, format="html")
    response.headers["Content-Disposition"] = f'attachment; filename="precheck-{doc_id[:12]}.html"'
    return response


@router.get("/tenders/{tender_id}/worksheet.{fmt}")
def worksheet_download(request: Request, tender_id: str, fmt: str, session: PageUser, supplier: str) -> Response:
    """The worksheet of one supplier as HTML, CSV or JSON, exactly as the API gives it (evaluators and admins)."""
    from api.routes.reports import worksheet

    user, _ = session
    if user.role not in ("admin", "evaluator"):
        raise not_found("worksheet", tender_id)
    if fmt not in ("html", "csv", "json"):
        raise not_found("worksheet format", fmt)
    response = worksheet(tender_id, user, request.app.state.services, supplier=supplier, format=fmt)
    if fmt != "csv":
        response.headers["Content-Disposition"] = f'attachment; filename="worksheet-{tender_id}-{supplier}.{fmt}"'
    return response


@router.get("/tenders/{tender_id}/audit.{fmt}")
def audit_download(request: Request, tender_id: str, fmt: str, session: PageUser) -> Response:
    """The tender's audit trail as CSV or JSON Lines (evaluators and admins); the export is itself audited."""
    from api.routes.audit import export_events

    user, _ = session
    if user.role not in ("admin", "evaluator"):
        raise not_found("audit trail", tender_id)
    if fmt not in ("csv", "jsonl"):
        raise not_found("audit format", fmt)
    request.app.state.services.repo.check_tender(user, tender_id)
    return export_events(user, request.app.state.services, format=fmt, tender_id=tender_id)


