"""What every page of the browser workspace shares: the templates, how a page is rendered, the signed-in user, the
words for verdicts and review states, and the HTML error page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.store.service import Principal
from api.web.session import PREFIX, page_user

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["id"] = id

PageUser = Annotated[tuple[Principal, str], Depends(page_user)]

DOMAIN_NAMES = {
    "patient_and_staff": "Patient and staff", "efficiency": "Efficiency", "supply_chain": "Supply chain",
    "social_value": "Social value", "purpose": "Purpose", "whole_life_cost": "Whole-life cost",
}
VERDICT_WORDS = {
    "supported": "Supported", "contradicted": "Contradicted", "numbers_differ": "Numbers differ",
    "not_enough_info": "Not enough information", "not_checked": "Not checked", "pending": "Being checked",
}
VERDICT_TAGS = {"supported": "green", "contradicted": "red", "numbers_differ": "orange", "not_enough_info": "grey",
                "not_checked": "white", "pending": "blue"}
REVIEW_WORDS = {"pending": "To review", "accepted": "Accepted", "rejected": "Rejected", "corrected": "Corrected"}
APART = ("not_checked",)
"""Verdicts listed apart from the rest: claims that could not be checked are shown, never hidden."""


def render_page(request: Request, name: str, user: Principal | None, csrf: str | None, status: int = 200, **context) -> HTMLResponse:
    """A page from its template, with what every page needs (the user, the CSRF token for its forms, the words)."""
    return templates.TemplateResponse(request, name, {"user": user, "csrf": csrf, "prefix": PREFIX, "domain_names": DOMAIN_NAMES,
                                                      "verdict_words": VERDICT_WORDS, "verdict_tags": VERDICT_TAGS,
                                                      "review_words": REVIEW_WORDS, **context}, status_code=status)


def error_page(request: Request, status: int, message: str, hint: str = "") -> HTMLResponse:
    """The HTML answer to a failed page request: what went wrong and what to do, never a traceback."""
    user = getattr(request.state, "principal", None)
    return render_page(request, "error.html", user, None, status=status, status_code=status, message=message, hint=hint,
                   request_id=(request.scope.get("state") or {}).get("request_id"))
