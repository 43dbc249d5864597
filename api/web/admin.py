"""The workspace's administration pages: users and their keys, tenders, their suppliers and evaluators (admins only;
every other user gets the same 404 as a page that does not exist)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.errors import InvalidRequestError, not_found
from api.store.service import Principal
from api.web.common import PageUser, render_page
from api.web.session import PREFIX, check_csrf

router = APIRouter(prefix=PREFIX, include_in_schema=False)


# --- administration -----------------------------------------------------------------------------------------


def _admin(session: tuple[Principal, str]) -> tuple[Principal, str]:
    user, csrf = session
    if not user.is_admin:
        raise not_found("page", "admin")  # not theirs: the same 404 as a page that does not exist
    return user, csrf


def _admin_page(request: Request, session, *, new_key: tuple[str, str] | None = None, status: int = 200, done: str | None = None) -> Response:
    user, csrf = _admin(session)
    repo = request.app.state.services.repo
    tenders = repo.list_tenders(user)
    return render_page(request, "admin.html", user, csrf, status=status, users=repo.list_users(), tenders=tenders, new_key=new_key,
                   done=done, evaluators=[u for u in repo.list_users() if u["role"] == "evaluator" and u["active"]])


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, session: PageUser, done: str | None = None) -> Response:
    """Users and their keys, tenders, their suppliers and evaluators (admins only)."""
    return _admin_page(request, session, done=done)


@router.post("/admin/users", response_class=HTMLResponse)
def admin_create_user(request: Request, session: PageUser, csrf_token: Annotated[str, Form()] = "",
                      name: Annotated[str, Form(max_length=200)] = "", role: Annotated[str, Form(max_length=20)] = "",
                      supplier: Annotated[str, Form(max_length=63)] = "", supplier_name: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Create a user: the new key is shown on this page once, and never again."""
    user, csrf = _admin(session)
    check_csrf(csrf, csrf_token)
    created, key = request.app.state.services.repo.create_user(name, role, supplier_id=supplier or None, supplier_name=supplier_name or None,
                                                               actor=user)
    response = _admin_page(request, session, new_key=(created["name"], key), status=201)
    response.headers["Cache-Control"] = "no-store"  # the key is on this page: never keep it in a cache
    return response


@router.post("/admin/users/{user_id}/key", response_class=HTMLResponse)
def admin_issue_key(request: Request, user_id: int, session: PageUser, csrf_token: Annotated[str, Form()] = "",
                    revoke_others: Annotated[str, Form()] = "") -> Response:
    user, csrf = _admin(session)
    check_csrf(csrf, csrf_token)
    repo = request.app.state.services.repo
    key = repo.issue_key(user_id, actor=user, revoke_others=bool(revoke_others))
    response = _admin_page(request, session, new_key=(repo.find_user(user_id)["name"], key), status=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/users/{user_id}/revoke")
def admin_revoke_user(request: Request, user_id: int, session: PageUser, csrf_token: Annotated[str, Form()] = "") -> Response:
    user, csrf = _admin(session)
    check_csrf(csrf, csrf_token)
    revoked = request.app.state.services.repo.revoke_user(user_id, actor=user)
    return RedirectResponse(f"{PREFIX}/admin?" + urlencode({"done": f"{revoked['name']} was revoked, with every key of theirs."}),
                            status_code=303)


@router.post("/admin/tenders")
def admin_create_tender(request: Request, session: PageUser, csrf_token: Annotated[str, Form()] = "",
                        title: Annotated[str, Form(max_length=300)] = "", reference: Annotated[str, Form(max_length=100)] = "") -> Response:
    user, csrf = _admin(session)
    check_csrf(csrf, csrf_token)
    if not title.strip():
        raise InvalidRequestError("a tender needs a title.", hint="Give its title, e.g. 'Wound care 2026'.", field="title")
    tender = request.app.state.services.repo.create_tender(title, reference=reference, actor=user)
    return RedirectResponse(f"{PREFIX}/admin?" + urlencode({"done": f"Tender '{tender['title']}' was created."}), status_code=303)


@router.post("/admin/tenders/{tender_id}/suppliers")
def admin_add_supplier(request: Request, tender_id: str, session: PageUser, csrf_token: Annotated[str, Form()] = "",
                       supplier: Annotated[str, Form(max_length=63)] = "", name: Annotated[str, Form(max_length=200)] = "") -> Response:
    user, csrf = _admin(session)
    check_csrf(csrf, csrf_token)
    request.app.state.services.repo.add_tender_supplier(tender_id, supplier.strip(), name=name or None, actor=user)
    return RedirectResponse(f"{PREFIX}/admin?" + urlencode({"done": f"Supplier '{supplier.strip()}' now bids in the tender."}), status_code=303)


@router.post("/admin/tenders/{tender_id}/evaluators")
def admin_assign(request: Request, tender_id: str, session: PageUser, csrf_token: Annotated[str, Form()] = "",
                 evaluator: Annotated[str, Form(max_length=200)] = "") -> Response:
    user, csrf = _admin(session)
    check_csrf(csrf, csrf_token)
    request.app.state.services.repo.assign_evaluator(tender_id, evaluator, actor=user)
    return RedirectResponse(f"{PREFIX}/admin?" + urlencode({"done": f"{evaluator} is assigned to the tender."}), status_code=303)
