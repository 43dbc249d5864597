"""The FastAPI application: ``create_app(settings)`` wires the stores, the job runner, the routes and the error handlers.

``vbp serve`` runs it with uvicorn. SIGTERM makes uvicorn stop accepting connections and finish the requests in
flight; the lifespan's shutdown then stops the job runner (re-queuing an unfinished job for the next start) and
closes the stores. Every failure answers with the one JSON error shape of ``api.errors.error_body``.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import InvalidRequestError, error_body, http_status
from api.services import IndexHolder, Services
from api.store.service import request_id_var
from extractor import __version__
from extractor.errors import EvidenceError

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               406: "not_acceptable", 409: "conflict", 413: "payload_too_large", 415: "unsupported_type", 422: "validation_error",
               429: "too_many_requests"}

DESCRIPTION = """
Evidence extraction and review for value-based procurement of medical technology.

**Authentication.** Every endpoint but `/health` needs an API key: `Authorization: Bearer vbp_…` (or `X-API-Key`).
An admin creates users and keys with `vbp user add NAME --role admin|evaluator|supplier [--supplier ID]` or `POST /users`.

**Roles.** Admins manage users and tenders and see everything. Evaluators see the tenders they are assigned to, upload
submissions and papers, review claims and export worksheets. Suppliers see only their own documents; they upload
drafts, submissions and the papers they cite, and pre-check them. Anything that is not yours answers 404, exactly like
an id that does not exist.

**Uploads** are accepted (202) once their size and type are checked; parsing, claim extraction, indexing and support
checks run in the background. Poll `GET /jobs/{id}`.

**Errors** all have one shape: `{"error": {"code", "message", "hint", "details"}, "request_id"}`, the server's own
refusals included: a request target over `service.max_request_line_bytes` answers 414, headers over
`service.max_header_bytes` 431. A caller without a key (401) or with the wrong role (403) learns that before anything
about its request's body or parameters.
"""

TAGS = [
    {"name": "tenders", "description": "Procurements, their suppliers and evaluators."},
    {"name": "uploads", "description": "Submissions, drafts and cited papers; background jobs."},
    {"name": "documents", "description": "Documents, passages, claims, support links and search."},
    {"name": "review", "description": "Claims of a tender with their review state; accept, reject or correct them."},
    {"name": "reports", "description": "Evaluator worksheet and supplier pre-check."},
    {"name": "audit", "description": "The append-only audit trail."},
    {"name": "users", "description": "Users and API keys (admins)."},
    {"name": "service", "description": "Health."},
]


def create_app(settings=None, *, searcher=None, classifier=None, start_jobs: bool = True) -> FastAPI:
    """Build the application.

    Args:
        settings: ``api.settings.Settings`` (default: from the environment).
        searcher: A passage index to use instead of opening the configured one (tests pass an in-memory one).
        classifier: A stance classifier for the support checks instead of the shipped one (tests pass a fake).
        start_jobs: Start the background job threads with the app. Tests pass False and run the queue with
            ``app.state.services.jobs.drain()``.
    """
    from api.jobs import JobRunner
    from api.settings import load_settings
    from api.store.repository import Store
    from api.store.service import ServiceRepo
    from api.viewcache import ClaimViewCache

    settings = settings or load_settings()
    store = Store(settings.db_url, settings.files_dir)
    services = Services(settings=settings, store=store, repo=ServiceRepo(store), index=IndexHolder(settings, store, searcher),
                        classifier=classifier)
    services.jobs = JobRunner(services)
    services.views = ClaimViewCache(services)
    if settings.service.compute_process and searcher is None and classifier is None:  # what tests hand in stays in-process
        from api.compute import ComputeProcess

        services.compute = ComputeProcess.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import anyio

        # handlers are mostly Python under one interpreter lock: a few threads finish requests sooner than many that
        # take the lock from each other (the rest wait their turn in the event loop)
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.service.request_threads or max(2, os.cpu_count() or 2)
        services.jobs.recover()
        if start_jobs:
            services.jobs.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(services.jobs.stop)
            services.close()

    app = FastAPI(title="vbp-evidence", version=__version__, description=DESCRIPTION, openapi_tags=TAGS, lifespan=lifespan,
                  responses={"default": {"model": _error_model(), "description": "Any failure: the one error shape."}})
    app.state.services = services
    app.add_middleware(RequestIdMiddleware)
    _install_error_handlers(app)

    from api.routes import audit, documents, reports, reviews, service, tenders, uploads, users

    for module in (service, users, tenders, uploads, documents, reviews, reports, audit):
        app.include_router(module.router)
    _install_workspace(app)
    return app


def _install_workspace(app: FastAPI) -> None:
    """The browser workspace (``api.web``): its pages under /ui and its vendored scripts, styles and icons under /static."""
    from pathlib import Path

    from fastapi.responses import RedirectResponse
    from fastapi.staticfiles import StaticFiles

    from api.web import admin, documents, pages
    from api.web.session import SignInRequired, signin_redirect

    app.mount("/static", StaticFiles(directory=str(Path(__file__).resolve().parent / "web" / "static")), name="static")
    for module in (pages, documents, admin):
        app.include_router(module.router)

    @app.middleware("http")
    async def _page_headers(request: Request, call_next):
        """Every workspace page may load only this server's own scripts, styles and images, cannot be framed by another
        site (the decision forms), and tells no other site where it came from."""
        response = await call_next(request)
        if _is_page(request):
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> RedirectResponse:
        return signin_redirect(exc.next_url)


PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
"""The workspace's content security policy: nothing from another host, no inline script (the highlight boxes' positions
are inline styles, and htmx adds its indicator style)."""


def _is_page(request: Request) -> bool:
    """A request for a page of the browser workspace: its failures answer as a page, not as JSON."""
    return request.url.path == "/ui" or request.url.path.startswith("/ui/")


def _page_error(request: Request, status: int, message: str, hint: str = ""):
    from api.web.common import error_page

    return error_page(request, status, message, hint)


def _error_model():
    from api.schemas import ErrorPublic

    return ErrorPublic


class RequestIdMiddleware:
    """Give every request an id (the client's ``X-Request-ID`` when sane), echo it in the response, stamp audit events."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def _request_id(request: Request) -> str | None:
    return (request.scope.get("state") or {}).get("request_id")


def _respond(request: Request, status: int, body: dict, headers: dict | None = None) -> JSONResponse:
    rid = _request_id(request)
    return JSONResponse(body, status_code=status, headers={**(headers or {}), **({"X-Request-ID": rid} if rid else {})})


def _not_json(request: Request) -> str | None:
    """Why a body sent to a route that takes JSON was not read as JSON (FastAPI reports it as an invalid body), if so."""
    from fastapi import params

    field = getattr(request.scope.get("route"), "body_field", None)
    if field is None or isinstance(field.field_info, params.Form):
        return None
    sent = request.headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in request.headers
    ctype = request.headers.get("content-type", "")
    kind = ctype.split(";", 1)[0].strip().lower()
    if not sent or kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json")):
        return None
    return f"{request.method} {request.url.path} takes a JSON body; this one was sent " + (
        f"as {kind}." if kind else "without a Content-Type.")


def _install_error_handlers(app: FastAPI) -> None:
    from api.deps import authorise_first

    async def authorised(request: Request) -> JSONResponse | None:
        """The 401/403 the route's own checks would give, for errors raised before they ran (the body is judged first)."""
        try:
            await authorise_first(request)
        except EvidenceError as e:
            return await _evidence(request, e)
        return None

    @app.exception_handler(EvidenceError)
    async def _evidence(request: Request, exc: EvidenceError) -> JSONResponse:
        status = http_status(exc)
        if status >= 500:
            log.error("request %s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
        if _is_page(request):
            return _page_error(request, status, exc.message, exc.hint or "")
        details = [{"field": exc.field, "message": exc.message}] if isinstance(exc, InvalidRequestError) and exc.field else []
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return _respond(request, status, error_body(exc.code, exc.message, hint=exc.hint, request_id=_request_id(request),
                                                    details=details), headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if (refused := await authorised(request)) is not None:
            return refused
        if (wrong_type := _not_json(request)) is not None:
            return _respond(request, 415, error_body("unsupported_type", wrong_type, hint="Send the body as JSON with "
                                                     "`Content-Type: application/json`.", request_id=_request_id(request)))
        details = [{"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()]
        first = details[0] if details else {"field": None, "message": "invalid request"}
        if _is_page(request):
            return _page_error(request, 400, f"the request is not valid: {first['field']}: {first['message']}.",
                               "Go back, check what you entered and try again.")
        message = f"the request is not valid: {first['field']}: {first['message']}" + (
            f" (and {len(details) - 1} more problem(s))" if len(details) > 1 else "")
        return _respond(request, 422, error_body("validation_error", message, hint="Check the request against the schema at /docs.",
                                                 request_id=_request_id(request), details=details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # a body that cannot be read or parsed (400), is too large (413) or of the wrong type (415) is judged before the
        # route's checks; 404 and 405 come from routing (no route, or one for another method) and answer as they are
        if exc.status_code in (400, 413, 415, 422) and (refused := await authorised(request)) is not None:
            return refused
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        if _is_page(request):
            message = "there is no page at this address." if exc.status_code == 404 else str(exc.detail)
            return _page_error(request, exc.status_code, message, "Check the address, or start again from your tenders.")
        if exc.status_code == 404 and exc.detail == "Not Found":
            message, hint = f"no endpoint at {request.url.path}.", "See the endpoints at /docs."
        elif exc.status_code == 405:
            message, hint = f"{request.method} is not allowed on {request.url.path}.", "See the endpoints at /docs."
        else:
            message, hint = str(exc.detail), ""
        return _respond(request, exc.status_code, error_body(code, message, hint=hint, request_id=_request_id(request)),
                        dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        rid = _request_id(request)
        log.error("request %s %s %s failed", rid, request.method, request.url.path, exc_info=exc)
        if _is_page(request):
            return _page_error(request, 500, "the server failed to show this page.",
                               "Try again; if it keeps failing, give the administrator the reference below.")
        return _respond(request, 500, error_body("internal_error", "the server failed to handle this request.",
                                                 hint=f"Try again; if it keeps failing, report request id {rid} to the administrator.",
                                                 request_id=rid))
