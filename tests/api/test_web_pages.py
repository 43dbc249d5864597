"""The browser workspace's pages, through TestClient on a real app and SQLite: sign-in sessions, CSRF, the claim list,
the review page and its decisions, supplier isolation, and no asset from another host (issue 12).

A real browser drives the same pages in ``tests/api/test_web_browser.py`` (slow tier).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.api.service_kit import OTHER_SUBMISSION, PAPER, SUBMISSION, World

CORPUS_PDF = Path(__file__).resolve().parents[2] / "corpus" / "submissions" / "ashgrove-crp-point-of-care-test.pdf"


def _form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _sign_in(client: TestClient, key: str, next_url: str = "/ui/tenders"):
    page = client.get("/ui/signin")
    return client.post("/ui/signin", data={"api_key": key, "csrf_token": _form_token(page.text), "next": next_url}, follow_redirects=False)


def _claim_links(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="(/ui/tenders/[^"]+/claims/[^"?]+\?[^"]+)"', html)]


@pytest.fixture()
def world(service: World) -> World:
    service.standard_tender()
    service.upload("eva", "acme-trial.md", PAPER, role="paper", supplier="acme")
    service.upload("eva", "acme-submission.md", SUBMISSION, role="submission", supplier="acme")
    service.upload("eva", "globex-submission.md", OTHER_SUBMISSION, role="submission", supplier="globex")
    assert service.drain() == 3
    return service


def test_pages_need_a_session_and_say_where_to_sign_in(world: World) -> None:
    answer = world.client.get(f"/ui/tenders/{world.tender}/claims", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/ui/signin?next=%2Fui%2Ftenders%2F{world.tender}%2Fclaims"
    assert world.client.get("/ui", follow_redirects=False).headers["location"] == "/ui/signin"
    # an API key sent as a header opens no page: pages take the session cookie only
    assert world.client.get("/ui/tenders", headers=world.h("eva"), follow_redirects=False).status_code == 303


def test_sign_in_sets_a_strict_http_only_cookie_and_returns_to_the_page_asked_for(world: World) -> None:
    answer = _sign_in(world.client, world.keys["eva"], f"/ui/tenders/{world.tender}")
    assert answer.status_code == 303 and answer.headers["location"] == f"/ui/tenders/{world.tender}"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("vbp_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie and "Secure" not in cookie
    assert world.client.get(f"/ui/tenders/{world.tender}").status_code == 200
    events = world.get("admin", "/audit?action=session.open").json()["data"]
    assert [e["actor"] for e in events] == ["eva"]


def test_sign_in_over_tls_marks_the_cookie_secure(world: World) -> None:
    with TestClient(world.app, base_url="https://testserver") as client:
        answer = _sign_in(client, world.keys["eva"])
    assert "Secure" in next(c for c in answer.headers.get_list("set-cookie") if c.startswith("vbp_session="))


def test_sign_in_refuses_a_wrong_key_a_missing_token_and_a_foreign_next(world: World) -> None:
    wrong = _sign_in(world.client, "vbp_000000000000_" + "x" * 43)
    assert wrong.status_code == 401 and "was not accepted" in wrong.text and "vbp_session" not in wrong.headers.get("set-cookie", "")
    page = world.client.get("/ui/signin")
    no_token = world.client.post("/ui/signin", data={"api_key": world.keys["eva"], "next": "/ui/tenders"}, follow_redirects=False)
    assert no_token.status_code == 403 and "security token" in no_token.text and "Traceback" not in no_token.text
    foreign = world.client.post("/ui/signin", data={"api_key": world.keys["eva"], "csrf_token": _form_token(page.text),
                                                   "next": "https://elsewhere.example/ui/x"}, follow_redirects=False)
    assert foreign.status_code == 303 and foreign.headers["location"] == "/ui/tenders"


def test_sign_out_ends_the_session_on_the_server(world: World) -> None:
    _sign_in(world.client, world.keys["eva"])
    token = world.client.cookies.get("vbp_session")
    page = world.client.get("/ui/tenders")
    assert world.client.post("/ui/signout", data={"csrf_token": _form_token(page.text)}, follow_redirects=False).status_code == 303
    replay = TestClient(world.app)
    replay.cookies.set("vbp_session", token)
    assert replay.get("/ui/tenders", follow_redirects=False).status_code == 303  # the old cookie opens nothing


def test_revoking_the_key_ends_its_sessions(world: World) -> None:
    _sign_in(world.client, world.keys["eva"])
    assert world.client.get("/ui/tenders").status_code == 200
    world.services.repo.revoke_user("eva")
    assert world.client.get("/ui/tenders", follow_redirects=False).status_code == 303


def test_overview_and_claim_list_group_and_filter(world: World) -> None:
    _sign_in(world.client, world.keys["eva"])
    overview = world.client.get(f"/ui/tenders/{world.tender}")
    assert overview.status_code == 200 and "Acme" in overview.text and "Globex" in overview.text
    assert "No evidence" in overview.text  # a domain a supplier has no claim in is flagged
    listing = world.client.get(f"/ui/tenders/{world.tender}/claims?supplier=acme")
    quotes = re.findall(r"“([^”]+)”</a>", listing.text)
    assert any("surgical site infection" in q for q in quotes) and not any("Globex" in q for q in quotes)
    assert "Supported" in listing.text  # verdicts carry words, not colour alone
    costs = world.client.get(f"/ui/tenders/{world.tender}/claims?supplier=acme&domain=whole_life_cost")
    assert [q for q in re.findall(r"“([^”]+)”</a>", costs.text)] == [q for q in quotes if "£120" in q]
    rct = world.client.get(f"/ui/tenders/{world.tender}/claims?supplier=acme&evidence=rct").text
    assert any("surgical site infection" in q for q in re.findall(r"“([^”]+)”</a>", rct))  # "In a randomised trial, ..."
    assert "innovative" not in rct
    bad = world.client.get(f"/ui/tenders/{world.tender}/claims?domain=wellbeing")
    assert bad.status_code == 422 and "domain" in bad.text and "whole_life_cost" in bad.text


def test_claims_that_cannot_be_checked_are_listed_apart(world: World) -> None:
    _sign_in(world.client, world.keys["eva"])
    listing = world.client.get(f"/ui/tenders/{world.tender}/claims?supplier=globex").text
    apart = listing.split('id="not-checked"', 1)
    assert len(apart) == 2 and "phlebitis" in apart[1]  # Globex cites no paper the tender holds


def test_review_page_shows_the_claim_its_source_and_evidence(world: World) -> None:
    _sign_in(world.client, world.keys["eva"])
    listing = world.client.get(f"/ui/tenders/{world.tender}/claims?supplier=acme").text
    links = _claim_links(listing)
    pages = {h: world.client.get(h).text for h in links}
    infection = next(h for h, text in pages.items() if "reduced surgical site infection" in text.split('class="vbp-quote"')[1][:300])
    page = pages[infection]
    assert "<mark>" in page  # a text source: the quote marked in its context
    assert "Surgical site infection occurred in 12 of 200 patients" in page  # the cited trial's passage
    assert "Supported" in page and "Your decision" in page
    passage = re.search(r'href="(/ui/tenders/[^"]+/passages/[^"]+)"', page).group(1).replace("&amp;", "&")
    shown = world.client.get(passage)
    assert shown.status_code == 200 and "Surgical site infection occurred" in shown.text


def test_a_decision_needs_its_token_and_reason_then_the_next_pending_claim_opens(world: World) -> None:
    _sign_in(world.client, world.keys["eva"])
    queue = "review=pending&supplier=acme"
    listing = world.client.get(f"/ui/tenders/{world.tender}/claims?{queue}").text
    first, second = _claim_links(listing)[:2]
    page = world.client.get(first).text
    action = re.search(r'action="([^"]+/decision[^"]*)"', page).group(1).replace("&amp;", "&")
    token = _form_token(page)
    claim_id = urlsplit(first).path.rsplit("/", 1)[1]

    forged = world.client.post(action, data={"decision": "accepted", "reason": "looks fine", "q": queue})
    assert forged.status_code == 403
    no_reason = world.client.post(action, data={"csrf_token": token, "decision": "accepted", "reason": " ", "q": queue})
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    assert world.get("eva", f"/tenders/{world.tender}/claims/{claim_id}/reviews?supplier=acme").json()["count"] == 0

    saved = world.client.post(action, data={"csrf_token": token, "decision": "accepted", "reason": "the trial agrees", "q": queue},
                              follow_redirects=False)
    assert saved.status_code == 303
    assert urlsplit(saved.headers["location"]).path == urlsplit(second).path  # the next pending claim
    assert parse_qs(urlsplit(saved.headers["location"]).query)["saved"] == ["accepted"]
    reviews = world.get("eva", f"/tenders/{world.tender}/claims/{claim_id}/reviews?supplier=acme").json()["data"]
    assert [(r["decision"], r["reason"], r["reviewer"]) for r in reviews] == [("accepted", "the trial agrees", "eva")]
    audit = world.get("admin", "/audit?action=claim.review").json()["data"]
    assert [e["target_id"] for e in audit] == [claim_id]
    assert "the trial agrees" in world.client.get(first).text  # the claim's history


def test_a_correction_is_a_new_version_and_needs_a_changed_field(world: World) -> None:
    _sign_in(world.client, world.keys["eva"])
    listing = world.client.get(f"/ui/tenders/{world.tender}/claims?supplier=acme").text
    stay = next(h for h in _claim_links(listing) if "stayed" in world.client.get(h).text.split('class="vbp-quote"')[1][:200])
    page = world.client.get(stay).text
    action = re.search(r'action="([^"]+/decision[^"]*)"', page).group(1).replace("&amp;", "&")
    empty = world.client.post(action, data={"csrf_token": _form_token(page), "decision": "corrected", "reason": "resource use"})
    assert empty.status_code == 422 and "changed field" in empty.text
    done = world.client.post(action, data={"csrf_token": _form_token(page), "decision": "corrected", "reason": "resource use",
                                           "fix_category": "resource_use", "fix_domain": "efficiency"}, follow_redirects=False)
    assert done.status_code == 303
    claim_id = urlsplit(stay).path.rsplit("/", 1)[1]
    detail = world.get("eva", f"/tenders/{world.tender}/claims/{claim_id}?supplier=acme").json()
    assert detail["version"] == 1 and detail["claim"]["category"] == "resource_use" and detail["original"]["category"] != "resource_use"


def test_a_supplier_never_reaches_another_suppliers_claim_and_the_attempt_is_audited(world: World) -> None:
    _sign_in(world.client, world.keys["eva"])
    acme_claim = _claim_links(world.client.get(f"/ui/tenders/{world.tender}/claims?supplier=acme").text)[0]
    other = TestClient(world.app)
    _sign_in(other, world.keys["globex-user"])
    answer = other.get(acme_claim)
    assert answer.status_code == 404 and "Page not found" in answer.text and "acme" not in answer.text.lower()
    own = other.get(f"/ui/tenders/{world.tender}/claims").text
    assert "phlebitis" in own and "surgical site infection" not in own and "Your decision" not in own
    denied = world.get("admin", "/audit?action=access.denied").json()["data"]
    assert denied and denied[-1]["actor"] == "globex-user"


def test_pages_load_nothing_from_another_host(world: World) -> None:
    _sign_in(world.client, world.keys["eva"])
    answer = world.client.get(f"/ui/tenders/{world.tender}/claims")
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["x-frame-options"] == "DENY" and "content-security-policy" not in world.get("eva", "/tenders").headers
    listing = answer.text
    pages = [world.client.get("/ui/signin").text, listing, world.client.get(_claim_links(listing)[0]).text]
    assets = set()
    for html in pages:
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"^(?:[a-z]+:)?//", url), url  # no absolute URL to any host
            if url.startswith("/static/"):
                assets.add(url)
    assert {"/static/vendor/nhsuk-frontend/nhsuk-frontend.min.css", "/static/app.js", "/static/review.js"} <= assets
    for url in assets:
        served = world.client.get(url)
        assert served.status_code == 200, url
        if url.endswith(".css"):
            assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", served.text), url
    assert not re.search(r"from\s+['\"]https?://|import\s*\(\s*['\"]https?://", world.client.get("/static/app.js").text)


@pytest.mark.slow
def test_a_pdf_claim_is_highlighted_on_its_page_image(world: World) -> None:
    world.upload("eva", "ashgrove.pdf", CORPUS_PDF, role="submission", supplier="acme")
    assert world.drain() == 1
    _sign_in(world.client, world.keys["eva"])
    listing = world.client.get(f"/ui/tenders/{world.tender}/claims?supplier=acme").text
    pdf_pages = [world.client.get(h).text for h in _claim_links(listing)]
    pdf_pages = [p for p in pdf_pages if 'class="vbp-page"' in p]
    assert pdf_pages
    highlighted = [p for p in pdf_pages if 'class="vbp-highlight"' in p]
    assert len(highlighted) >= 0.9 * len(pdf_pages)
    for style in re.findall(r'class="vbp-highlight" style="([^"]+)"', highlighted[0]):
        left, top, width, height = (float(v) for v in re.findall(r"([\d.]+)%", style))
        assert 0 <= left < 100 and 0 <= top < 100 and 0 < width <= 100 and 0 < height < 20
    image = re.search(r'<img src="([^"]+)"', highlighted[0]).group(1)
    png = world.client.get(image)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    other = TestClient(world.app)
    _sign_in(other, world.keys["globex-user"])
    assert other.get(image).status_code == 404  # another supplier's page image is not theirs to see


def test_a_supplier_uploads_a_draft_watches_it_and_reads_its_precheck(service: World) -> None:
    service.standard_tender()
    _sign_in(service.client, service.keys["acme-user"])
    page = service.client.get(f"/ui/tenders/{service.tender}/documents").text
    sent = service.client.post(f"/ui/tenders/{service.tender}/documents", data={"csrf_token": _form_token(page), "role": "draft"},
                               files={"file": ("draft.md", SUBMISSION.encode(), "text/markdown")}, follow_redirects=False)
    assert sent.status_code == 303
    waiting = service.client.get(sent.headers["location"]).text
    assert "Waiting" in waiting and 'hx-trigger="every 2s"' in waiting  # polled while the job is queued
    assert service.drain() == 1
    status = service.client.get(f"/ui/tenders/{service.tender}/documents/status").text
    assert "Done" in status and "hx-trigger" not in status  # polling stops once nothing is in progress
    precheck = re.search(r'href="(/ui/tenders/[^"]+/precheck)"', status).group(1)
    report = service.client.get(precheck).text
    assert "Not ready" in report or "Ready" in report
    assert "innovative" in report  # the marketing-only claim is a finding, with its quote
    highlighted = re.search(r'href="(/ui/tenders/[^"]+/claims/[^"]+)">See it highlighted', report).group(1).replace("&amp;", "&")
    claim = service.client.get(highlighted).text
    assert "<mark>" in claim and "Your decision" not in claim  # suppliers read, they do not review
    download = service.client.get(precheck + ".html")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"] and "<html" in download.text
    assert service.get("eva", f"/tenders/{service.tender}/claims").json()["count"] == 0  # evaluators never see a draft


def test_a_refused_upload_says_why_and_keeps_nothing(service: World) -> None:
    service.standard_tender()
    _sign_in(service.client, service.keys["eva"])
    token = _form_token(service.client.get(f"/ui/tenders/{service.tender}/documents").text)
    empty = service.client.post(f"/ui/tenders/{service.tender}/documents", data={"csrf_token": token, "role": "submission", "supplier": "acme"},
                                files={"file": ("empty.pdf", b"", "application/pdf")})
    assert empty.status_code == 422 and "empty.pdf" in empty.text and "empty" in empty.text.lower() and "Traceback" not in empty.text
    forged = service.client.post(f"/ui/tenders/{service.tender}/documents", data={"csrf_token": "forged", "role": "submission", "supplier": "acme"},
                                 files={"file": ("a.md", b"# A\n\nThe dressing reduced infection by 40%.", "text/markdown")})
    assert forged.status_code == 403
    draft = service.client.post(f"/ui/tenders/{service.tender}/documents", data={"csrf_token": token, "role": "draft", "supplier": "acme"},
                                files={"file": ("a.md", b"# A\n\nThe dressing reduced infection by 40%.", "text/markdown")})
    assert draft.status_code == 422 and "role" in draft.text  # drafts are the suppliers' own
    assert not any(service.settings.uploads_dir.iterdir())
    assert service.get("eva", f"/jobs?tender_id={service.tender}").json()["count"] == 0
    rejected = service.get("admin", "/audit?action=document.upload_rejected").json()["data"]
    assert len(rejected) == 3 and "empty" in rejected[0]["detail"]


def test_worksheet_and_audit_downloads_from_the_pages(world: World) -> None:
    _sign_in(world.client, world.keys["eva"])
    overview = world.client.get(f"/ui/tenders/{world.tender}").text
    for fmt in ("html", "csv", "json"):
        link = f"/ui/tenders/{world.tender}/worksheet.{fmt}?supplier=acme"
        assert link.replace("&", "&amp;") in overview or link in overview
        answer = world.client.get(link)
        assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    assert "surgical site infection" in world.client.get(f"/ui/tenders/{world.tender}/worksheet.csv?supplier=acme").text
    audit = world.client.get(f"/ui/tenders/{world.tender}/audit.csv")
    assert audit.status_code == 200 and "report.worksheet" in audit.text
    supplier = TestClient(world.app)
    _sign_in(supplier, world.keys["acme-user"])
    assert supplier.get(f"/ui/tenders/{world.tender}/worksheet.csv?supplier=acme").status_code == 404
    assert supplier.get(f"/ui/tenders/{world.tender}/audit.csv").status_code == 404


def test_admin_pages_create_a_user_whose_key_is_shown_once_and_assign_them(service: World) -> None:
    service.standard_tender()
    _sign_in(service.client, service.keys["admin"])
    page = service.client.get("/ui/admin").text
    created = service.client.post("/ui/admin/users", data={"csrf_token": _form_token(page), "name": "ida", "role": "evaluator"})
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    key = re.search(r'<code class="vbp-key-value">(vbp_[^<]+)</code>', created.text).group(1)
    assert service.services.repo.authenticate(key).name == "ida"
    assert key not in service.client.get("/ui/admin").text  # shown once, never again
    assigned = service.client.post(f"/ui/admin/tenders/{service.tender}/evaluators", data={"csrf_token": _form_token(page), "evaluator": "ida"},
                                   follow_redirects=False)
    assert assigned.status_code == 303
    ida = TestClient(service.app)
    _sign_in(ida, key)
    assert service.tender in ida.get("/ui/tenders").text
    actions = [(e["action"], e["actor"]) for e in service.get("admin", "/audit?limit=200").json()["data"]]
    assert ("user.create", "admin") in actions and ("tender.evaluator_add", "admin") in actions


def test_admin_pages_are_not_for_other_roles(world: World) -> None:
    _sign_in(world.client, world.keys["eva"])
    assert world.client.get("/ui/admin").status_code == 404
    token = _form_token(world.client.get("/ui/tenders").text)
    made = world.client.post("/ui/admin/users", data={"csrf_token": token, "name": "mallory", "role": "admin"})
    assert made.status_code == 404 and "mallory" not in {u["name"] for u in world.services.repo.list_users()}
