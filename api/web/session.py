"""Signing in to the browser workspace: an API key exchanged for a session cookie, and CSRF tokens on every form.

The cookie holds a random token (its SHA-256 is stored, ``web_sessions``); it is HttpOnly, SameSite=Strict, Secure
when the request came over TLS, and lasts ``service.web_session_hours``. A session ends at sign-out, at expiry, or
when its key or user is revoked. Every form posts a CSRF token: the session's own once signed in, and before that
(the sign-in form) a token that must equal the one set in a short-lived cookie beside the form.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.errors import PermissionDeniedError
from api.store.service import Principal

SESSION_COOKIE = "vbp_session"
SIGNIN_CSRF_COOKIE = "vbp_signin_csrf"
PREFIX = "/ui"


class SignInRequired(Exception):
    """The page needs a signed-in user; the handler answers with a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def page_user(request: Request) -> tuple[Principal, str]:
    """The signed-in user of a page request and the session's CSRF token.

    Raises:
        SignInRequired: no live session (none, ended, expired, or its key revoked).
    """
    services = request.app.state.services
    found = services.repo.web_session(request.cookies.get(SESSION_COOKIE, ""))
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    request.state.principal = found[0]
    return found


def check_csrf(expected: str, sent: str | None) -> None:
    """Refuse a form whose CSRF token is missing or not this session's.

    Raises:
        PermissionDeniedError: the token is missing or wrong.
    """
    if not sent or not expected or not hmac.compare_digest(expected, sent):
        raise PermissionDeniedError("the form's security token is missing or out of date.",
                                    hint="Reload the page and submit the form again.")


def sign_in(request: Request, key: str, next_url: str) -> Response | None:
    """A redirect carrying a new session cookie, or None when the key is not valid."""
    services = request.app.state.services
    hours = services.settings.service.web_session_hours
    opened = services.repo.open_web_session(key.strip(), lifetime=timedelta(hours=hours))
    if opened is None:
        return None
    token, _, _ = opened
    response = RedirectResponse(safe_next(next_url), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(hours * 3600), httponly=True, samesite="strict", secure=_secure(request),
                        path="/")
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path=PREFIX)
    return response


def sign_out(request: Request) -> Response:
    request.app.state.services.repo.close_web_session(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse(f"{PREFIX}/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def signin_csrf(request: Request) -> str:
    """The sign-in form's token: the one already in its cookie, or a new one."""
    current = request.cookies.get(SIGNIN_CSRF_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)


def set_signin_csrf(request: Request, response: Response, token: str) -> None:
    response.set_cookie(SIGNIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict", secure=_secure(request), path=PREFIX)


def safe_next(url: str | None) -> str:
    """Where to go after signing in: a path of this workspace only (never another host)."""
    if not url or not url.startswith(PREFIX + "/") or url.startswith("//") or "\\" in url or "\n" in url or "\r" in url:
        return f"{PREFIX}/tenders"
    return url


def signin_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/signin?next={quote(next_url, safe='')}", status_code=303)
