"""The browser workspace's reading and review pages: signing in, tenders, claims, the review page and its decisions.

Every page needs a signed-in user (``api.web.session``); what a page shows comes from the same scoped queries as the
JSON routes (``ServiceRepo.owners``, ``claim_owner``, ``document_access``), so a page of another supplier's claim
answers 404 and the attempt is audited, exactly as the API does. Forms post with a CSRF token; a decision is saved
only when the evaluator submits it, and the next pending claim then opens. Pages read without JavaScript; the one
script (``static/review.js``) adds the review keys.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.errors import InvalidRequestError, not_found
from api.store.service import Principal
from api.views import ClaimView, filter_views, link_bodies, verdict_reason, view_owner
from api.web import render
from api.web.common import APART, DOMAIN_NAMES, REVIEW_WORDS, VERDICT_TAGS, VERDICT_WORDS, PageUser, render_page, templates
from api.web.session import PREFIX, SESSION_COOKIE, SIGNIN_CSRF_COOKIE, check_csrf, safe_next, set_signin_csrf, sign_in, sign_out, signin_csrf
from extractor.schema import ClaimCategory, Decision, Direction, EvidenceLevel, VBPDomain

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PDF = "application/pdf"
"""The media type the store records for a PDF source: the only kind drawn as page images."""
security_log = logging.getLogger("vbp.security")


# --- signing in -----------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    services = request.app.state.services
    if services.repo.web_session(request.cookies.get(SESSION_COOKIE, "")) is None:
        return RedirectResponse(f"{PREFIX}/signin", status_code=303)
    return RedirectResponse(f"{PREFIX}/tenders", status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: str | None = None) -> Response:
    token = signin_csrf(request)
    response = render_page(request, "signin.html", None, token, next=safe_next(next), error=None)
    set_signin_csrf(request, response, token)
    return response


@router.post("/signin", response_class=HTMLResponse)
def signin_submit(request: Request, api_key: Annotated[str, Form(max_length=200)] = "", csrf_token: Annotated[str, Form()] = "",
                  next: Annotated[str, Form()] = "") -> Response:
    check_csrf(request.cookies.get(SIGNIN_CSRF_COOKIE, ""), csrf_token)
    if api_key.strip():
        response = sign_in(request, api_key, next)
        if response is not None:
            return response
    client = request.client.host if request.client else "?"
    security_log.warning("rejected workspace sign-in with key %s… from %s", api_key.strip()[:16], client)
    token = signin_csrf(request)
    response = render_page(request, "signin.html", None, token, status=401, next=safe_next(next),
                       error="That API key was not accepted: it is unknown, revoked or mistyped. Check it and try again, or ask an "
                             "administrator for a new key.")
    set_signin_csrf(request, response, token)
    return response


@router.post("/signout")
def signout(request: Request, session: PageUser, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(session[1], csrf_token)
    return sign_out(request)


# --- tenders ---------------------------------------------------------------------------------------------


@router.get("/tenders", response_class=HTMLResponse)
def tenders_page(request: Request, session: PageUser) -> Response:
    user, csrf = session
    tenders = request.app.state.services.repo.list_tenders(user)
    return render_page(request, "tenders.html", user, csrf, tenders=tenders)


def _views(request: Request, user: Principal, tender_id: str, supplier: str | None = None, *, checked: bool = False) -> list[ClaimView]:
    """The current claims of a tender's submissions (a supplier: its own documents, as extracted); ``checked``: the
    caller has already checked that the user may see the tender."""
    services = request.app.state.services
    if not checked:
        services.repo.check_tender(user, tender_id)
    roles = ["submission", "draft"] if user.role == "supplier" else ["submission"]
    owners = services.repo.owners(user, tender_id=tender_id, supplier_id=supplier, roles=roles)
    in_tender = tender_id if user.role != "supplier" else None
    return services.views.views(owners, tender_id=in_tender)


@router.get("/tenders/{tender_id}", response_class=HTMLResponse)
def tender_page(request: Request, tender_id: str, session: PageUser) -> Response:
    """Suppliers x value domains: claims, their verdicts and how far review has got."""
    user, csrf = session
    services = request.app.state.services
    tender = services.repo.get_tender(user, tender_id)
    views = _views(request, user, tender_id)
    names = services.repo.supplier_names({v.supplier_id for v in views})
    grid: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    totals: dict[str, Counter] = defaultdict(Counter)
    for v in views:
        cell = grid[v.supplier_id][v.claim.domain.value]
        cell["claims"] += 1
        cell[v.verdict] += 1
        state = v.review_state or "pending"
        cell["reviewed"] += state != "pending"
        totals[v.supplier_id]["claims"] += 1
        totals[v.supplier_id]["reviewed"] += state != "pending"
        totals[v.supplier_id][v.verdict] += 1
    suppliers = sorted(grid, key=lambda s: names.get(s, s))
    return render_page(request, "tender.html", user, csrf, tender=tender, suppliers=suppliers, names=names, grid=grid, totals=totals,
                   domains=list(DOMAIN_NAMES))


FILTERS = ("supplier", "domain", "category", "verdict", "review", "evidence", "hedged")


def _filtered(request: Request, user: Principal, tender_id: str, params: dict[str, str | None],
              every: list[ClaimView] | None = None) -> list[ClaimView]:
    """The claims matching the list's filters, in the list's order (``every``: the tender's views, when already read)."""
    for name, allowed in (("domain", {d.value for d in VBPDomain}), ("category", {c.value for c in ClaimCategory}),
                          ("verdict", set(VERDICT_WORDS)), ("review", set(REVIEW_WORDS)), ("hedged", {"yes", "no"}),
                          ("evidence", {e.value for e in EvidenceLevel})):
        if params.get(name) and params[name] not in allowed:
            raise InvalidRequestError(f"'{params[name]}' is not a {name} this list can be filtered by.",
                                      hint=f"Use one of: {', '.join(sorted(allowed))}.", field=name)
    supplier = params.get("supplier") or None
    if every is None:
        every = _views(request, user, tender_id, supplier)
    elif supplier is not None:
        every = [v for v in every if v.supplier_id == supplier]
    views = filter_views(every, domain=params.get("domain") or None,
                         category=params.get("category") or None,
                         review=(params.get("review") or None) if user.role != "supplier" else None)
    if params.get("verdict"):
        views = [v for v in views if v.verdict == params["verdict"]]  # (only when filtering by it)
    if params.get("evidence"):
        views = [v for v in views if v.claim.evidence_level.value == params["evidence"]]
    if params.get("hedged"):
        views = [v for v in views if v.claim.hedged == (params["hedged"] == "yes")]
    order = {d: i for i, d in enumerate(DOMAIN_NAMES)}
    return sorted(views, key=lambda v: (order.get(v.claim.domain.value, 99), v.claim.category.value, v.claim.doc_id, v.claim.span.start))


@router.get("/tenders/{tender_id}/claims", response_class=HTMLResponse)
def claims_page(request: Request, tender_id: str, session: PageUser, supplier: str | None = None, domain: str | None = None,
                category: str | None = None, verdict: str | None = None, review: str | None = None, evidence: str | None = None,
                hedged: str | None = None) -> Response:
    """A tender's claims grouped by domain and category, filterable; claims that could not be checked listed apart."""
    user, csrf = session
    services = request.app.state.services
    tender = services.repo.get_tender(user, tender_id)
    params = {"supplier": supplier, "domain": domain, "category": category, "verdict": verdict, "review": review,
              "evidence": evidence, "hedged": hedged}
    views = _filtered(request, user, tender_id, params)
    verdicts = {id(v): v.verdict for v in views}  # a view's verdict is worked out from its links on every reading: once here
    groups: dict[tuple[str, str], list[ClaimView]] = defaultdict(list)
    for v in views:
        if verdicts[id(v)] not in APART:
            groups[(v.claim.domain.value, v.claim.category.value)].append(v)
    names = services.repo.supplier_names({v.supplier_id for v in views} | ({supplier} if supplier else set()))
    query = urlencode({k: v for k, v in params.items() if v})
    return render_page(request, "claims.html", user, csrf, tender=tender, groups=groups, verdicts=verdicts,
                   apart=[v for v in views if verdicts[id(v)] in APART],
                   count=len(views), names=names, params=params, query=query,
                   suppliers=sorted(services.repo.tender_supplier_ids(tender_id)) if user.role != "supplier" else [user.supplier_id],
                   domains=list(DOMAIN_NAMES), categories=[c.value for c in ClaimCategory], evidence_levels=[e.value for e in EvidenceLevel])


# --- the review page --------------------------------------------------------------------------------------


def _claim(request: Request, user: Principal, tender_id: str, claim_id: str, supplier: str | None) -> tuple[ClaimView, dict]:
    """A claim the caller may see, from the views the API keeps current (read afresh if they do not hold it)."""
    from api.views import claim_view

    services = request.app.state.services
    services.repo.check_tender(user, tender_id)
    owner = services.repo.claim_owner(user, claim_id, tender_id=tender_id, supplier_id=supplier)
    in_tender = tender_id if user.role != "supplier" else None
    view = services.views.claim(owner, claim_id, tender_id=in_tender)
    return (view if view is not None else claim_view(services, owner, claim_id, tender_id=in_tender)), owner


def _source(request: Request, doc_id: str, page: int, quote: str, start: int, end: int) -> dict:
    """How to show where a quote lies: the page image with boxes over the quote (PDF), or its text with the quote marked.
    A stored document never changes, so what is found is kept (``_SOURCES``, bounded)."""
    key = (doc_id, page, quote, start, end)
    with _SOURCES_LOCK:
        found = _SOURCES.get(key)
    if found is not None:
        return found
    found = _locate(request, doc_id, page, quote, start, end)
    with _SOURCES_LOCK:
        _SOURCES[key] = found
        while len(_SOURCES) > 4096:
            _SOURCES.pop(next(iter(_SOURCES)))
    return found


_SOURCES: dict[tuple, dict] = {}
_SOURCES_LOCK = threading.Lock()


def _locate(request: Request, doc_id: str, page: int, quote: str, start: int, end: int) -> dict:
    services = request.app.state.services
    path, media_type = services.store.source_file(doc_id)
    if path is not None and media_type == PDF:
        boxes = render.quote_boxes(path, page, quote)
        if not boxes:
            doc = services.store.get_document(doc_id)
            size = render.page_size(path, page)
            boxes = render.ocr_boxes(doc, start, end, page, size) if doc.text_boxes and size else []
        return {"kind": "pdf", "image": f"{PREFIX}/documents/{doc_id}/pages/{page}.png", "boxes": boxes, "page": page}
    doc = services.store.get_document(doc_id)
    lo, hi = max(0, start - 600), min(len(doc.text), end + 600)
    return {"kind": "text", "before": doc.text[lo:start], "quote": doc.text[start:end], "after": doc.text[end:hi], "page": page}


def _queue(request: Request, user: Principal, tender_id: str, query: str, every: list[ClaimView] | None = None) -> list[ClaimView]:
    """The list a claim was opened from (its filters kept in ``q``), for previous, next and the next pending claim."""
    from urllib.parse import parse_qs

    params = {k: v[0] for k, v in parse_qs(query).items() if k in FILTERS}
    return _filtered(request, user, tender_id, params, every)


@router.get("/tenders/{tender_id}/claims/{claim_id}", response_class=HTMLResponse)
def review_page(request: Request, tender_id: str, claim_id: str, session: PageUser, supplier: str | None = None,
                q: Annotated[str, Query(max_length=500)] = "", saved: str | None = None) -> Response:
    """The claim beside its highlighted source: fields, verdict and reason, support links, numbers, history, decision."""
    user, csrf = session
    services = request.app.state.services
    services.repo.check_tender(user, tender_id)
    owner = services.repo.claim_owner(user, claim_id, tender_id=tender_id, supplier_id=supplier)  # 404 (audited) unless theirs
    every = _views(request, user, tender_id, checked=True)
    view = next((v for v in every if v.claim.id == claim_id and v.supplier_id == owner["supplier_id"]), None)
    if view is None:  # not a submission's claim in this tender's list (a draft's, for its supplier): read on its own
        view, _ = _claim(request, user, tender_id, claim_id, supplier)
    claim = view.claim
    audience = "supplier" if user.role == "supplier" else "staff"
    source_html, panel_html = _fragments(request, view, tender_id, claim_id, audience)
    reviews = services.repo.review_rows(tender_id, claim_id, view.supplier_id) if user.role != "supplier" else []
    history = services.repo.list_audit(user, tender_id=tender_id, target_id=claim_id, limit=50)[0] if user.role != "supplier" else []
    queue = _queue(request, user, tender_id, q, every)
    ids = [(v.claim.id, v.supplier_id) for v in queue]
    here = ids.index((claim_id, view.supplier_id)) if (claim_id, view.supplier_id) in ids else None
    prev_id = ids[here - 1] if here is not None and here > 0 else None
    next_id = ids[here + 1] if here is not None and here + 1 < len(ids) else None
    return render_page(request, "review.html", user, csrf, tender_id=tender_id, view=view, claim=claim, reviews=reviews, history=history,
                   source_html=source_html, panel_html=panel_html,
                   supplier_name=services.repo.supplier_names([view.supplier_id]).get(view.supplier_id, view.supplier_id),
                   q=q, position=(here + 1 if here is not None else None), total=len(ids), prev_id=prev_id, next_id=next_id,
                   saved=saved, can_review=user.role in ("admin", "evaluator"), decisions=[d.value for d in Decision],
                   categories=[c.value for c in ClaimCategory], domains=list(DOMAIN_NAMES), directions=[d.value for d in Direction])


def _fragments(request: Request, view: ClaimView, tender_id: str, claim_id: str, audience: str) -> tuple[str, str]:
    """The review page's source and claim panels. They depend only on the claim, its links and its reviews, so they are
    kept on the claim's view, which the view cache replaces whenever any of those changes (as the API keeps its bodies)."""
    key = f"page:{audience}:{tender_id}"
    cached = view.detail_json.get(key)
    if cached is not None:
        source_html, _, panel_html = cached.decode("utf-8").partition("\x00")
        return source_html, panel_html
    services = request.app.state.services
    claim = view.claim
    bodies = link_bodies(services, view.links, view_owner(view))
    links = []
    for body in bodies:
        link, passage = body["link"], body["passage"]
        links.append({"link": link, "passage": passage, "document": body["document"],
                      "href": (f"{PREFIX}/tenders/{tender_id}/passages/{passage.id}?" + urlencode({"claim": claim_id, "supplier": view.supplier_id}))
                      if passage is not None else None})
    context = {"prefix": PREFIX, "domain_names": DOMAIN_NAMES, "verdict_words": VERDICT_WORDS, "verdict_tags": VERDICT_TAGS,
               "view": view, "claim": claim, "links": links,
               "reason": verdict_reason(view.links, bodies, claim, pending=view.pending),
               "source": _source(request, claim.doc_id, claim.page, claim.quote, claim.span.start, claim.span.end)}
    source_html = templates.get_template("_claim_source.html").render(context)
    panel_html = templates.get_template("_claim_panel.html").render(context)
    view.detail_json[key] = (source_html + "\x00" + panel_html).encode("utf-8")
    return source_html, panel_html


CORRECTABLE = ("category", "domain", "direction", "outcome", "intervention", "comparator", "population", "timepoint")


@router.post("/tenders/{tender_id}/claims/{claim_id}/decision")
async def decide(request: Request, tender_id: str, claim_id: str, session: PageUser, supplier: str | None = None) -> Response:
    """Record an accept, reject or correct decision (with its reason), then open the next pending claim of the queue."""
    user, csrf = session
    form = await request.form()
    check_csrf(csrf, form.get("csrf_token"))
    if user.role not in ("admin", "evaluator"):
        raise not_found("claim", claim_id)
    decision = str(form.get("decision") or "")
    reason = str(form.get("reason") or "").strip()
    q = str(form.get("q") or "")[:500]
    if decision not in {d.value for d in Decision}:
        raise InvalidRequestError("choose accept, reject or correct before saving.", hint="Pick a decision and give its reason.",
                                  field="decision")
    if not reason:
        raise InvalidRequestError("every decision needs a reason.", hint="Write why in the reason box, then save.", field="reason")
    corrections = {}
    if decision == "corrected":
        for name in CORRECTABLE:
            value = str(form.get(f"fix_{name}") or "").strip()
            if value:
                corrections[name] = value
        if not corrections:
            raise InvalidRequestError("a correction needs at least one changed field.", hint="Change a field, or accept or reject instead.",
                                      field="corrections")
    from starlette.concurrency import run_in_threadpool

    def save():
        view, owner = _claim(request, user, tender_id, claim_id, supplier)
        request.app.state.services.repo.add_review(user, tender_id, claim_id, supplier_id=owner["supplier_id"],
                                                   decision=Decision(decision), reason=reason, corrections=corrections)
        queue = _queue(request, user, tender_id, q)
        ids = [(v.claim.id, v.supplier_id, v.review_state) for v in queue]
        here = next((i for i, (c, s, _) in enumerate(ids) if (c, s) == (claim_id, owner["supplier_id"])), -1)
        following = [x for x in ids[here + 1 :] + ids[: max(here, 0)] if x[2] == "pending"]
        return following[0] if following else None, owner["supplier_id"]

    nxt, supplier_id = await run_in_threadpool(save)
    target, who = (nxt[0], nxt[1]) if nxt is not None else (claim_id, supplier_id)  # none left: stay, and say so
    return RedirectResponse(f"{PREFIX}/tenders/{tender_id}/claims/{target}?"
                            + urlencode({"supplier": who, "q": q, "saved": decision if nxt is not None else f"{decision}-last"}),
                            status_code=303)


@router.get("/tenders/{tender_id}/passages/{passage_id}", response_class=HTMLResponse)
def passage_page(request: Request, tender_id: str, passage_id: str, session: PageUser, claim: str, supplier: str | None = None) -> Response:
    """A support link's passage highlighted on its own page of the cited paper."""
    user, csrf = session
    services = request.app.state.services
    view, _ = _claim(request, user, tender_id, claim, supplier)
    if passage_id not in {lk.passage_id for lk in view.links}:
        raise not_found("passage", passage_id)
    passage = services.store.get_passages([passage_id]).get(passage_id)
    if passage is None:
        raise not_found("passage", passage_id)
    title = link_bodies(services, [lk for lk in view.links if lk.passage_id == passage_id], view_owner(view))[0]["document"]
    return render_page(request, "passage.html", user, csrf, tender_id=tender_id, view=view, passage=passage, title=title,
                   source=_source(request, passage.doc_id, passage.page, passage.text, passage.span.start, passage.span.end))


@router.get("/documents/{doc_id}/pages/{page}.png")
def page_png(request: Request, doc_id: str, page: int, session: PageUser) -> Response:
    """One page of a stored PDF as an image (rendered once, then cached), for a user who may see the document."""
    user, _ = session
    services = request.app.state.services
    services.repo.document_access(user, doc_id)
    path, media_type = services.store.source_file(doc_id)
    if path is None or media_type != PDF:
        raise not_found("page image", f"{doc_id}/{page}")
    try:
        image = render.page_image(path, page, services.settings.data_dir / "page-images")
    except ValueError as e:
        raise InvalidRequestError(str(e), hint="Pick a page of the document.", field="page") from e
    return FileResponse(image, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


