"""The browser workspace in a real browser (slow tier): Debian's chromium driven by Playwright against a live server on
a loopback port, with the real SQLite store, Chroma index, embedder and stance classifier.

Every request the browser makes must go to the server under test; screenshots of each page are saved under the
test's temporary folder (``screenshots/``).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.api.service_kit import OTHER_SUBMISSION, PAPER, SUBMISSION, World

pytestmark = pytest.mark.slow

CORPUS_PDF = Path(__file__).resolve().parents[2] / "corpus" / "submissions" / "ashgrove-crp-point-of-care-test.pdf"


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Debian's chromium is not installed: `make install` installs it when run as root (apt-get install chromium)")
    return path


@pytest.fixture()
def live(tmp_path: Path):
    """The app on a loopback port, with a tender holding two suppliers' submissions, a cited paper and a corpus PDF."""
    import uvicorn

    world = World(tmp_path, real=True)
    world.standard_tender()
    world.upload("eva", "acme-trial.md", PAPER, role="paper", supplier="acme")
    world.upload("eva", "acme-submission.md", SUBMISSION, role="submission", supplier="acme")
    world.upload("eva", "ashgrove.pdf", CORPUS_PDF, role="submission", supplier="acme")
    world.upload("eva", "globex-submission.md", OTHER_SUBMISSION, role="submission", supplier="globex")
    assert world.drain() == 4
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the live server did not start"
    world.base = f"http://127.0.0.1:{port}"
    yield world
    server.should_exit = True
    thread.join(timeout=10)
    world.close()


@pytest.fixture()
def browser(live: World):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield b
        b.close()


AXE = Path(__file__).resolve().parents[1] / "assets" / "axe-core" / "axe.min.js"


AXE_URL = "/__test__/axe.min.js"
"""Where the browser fetches axe-core from: answered by the test itself (see ``_context``), never by the server, so
that it comes from the page's own origin and the pages' content security policy (no inline script) stays on."""


def _accessible(page, name: str) -> None:
    """axe-core over the page as it is: no serious or critical violation of the WCAG 2 A/AA rules."""
    page.add_script_tag(url=page.url.split("/ui/", 1)[0] + AXE_URL)
    result = page.evaluate("""async () => await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}, resultTypes: ['violations']})""")
    assert result["testEngine"]["name"] == "axe-core"
    bad = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: {bad}"


def _context(browser, live: World, shots: Path, who: str):
    """A browser context signed in as ``who``, failing any request to another host."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    foreign: list[str] = []

    def guard(route) -> None:
        if route.request.url == live.base + AXE_URL:
            route.fulfill(path=str(AXE), content_type="application/javascript")
        elif route.request.url.startswith(live.base + "/"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.goto(live.base + "/ui/tenders")
    assert "/ui/signin" in page.url
    _accessible(page, "sign-in")
    page.fill("#api_key", live.keys[who])
    page.keyboard.press("Enter")
    page.wait_for_url(live.base + "/ui/tenders")
    page.foreign = foreign
    return context, page


def test_an_evaluator_reviews_with_the_keyboard_only(browser, live: World, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    context, page = _context(browser, live, shots, "eva")
    page.screenshot(path=str(shots / "tenders.png"), full_page=True)
    _accessible(page, "tenders")
    page.goto(f"{live.base}/ui/tenders/{live.tender}")
    page.screenshot(path=str(shots / "tender.png"), full_page=True)
    _accessible(page, "tender overview")
    page.goto(f"{live.base}/ui/tenders/{live.tender}/documents")
    _accessible(page, "documents")
    page.goto(f"{live.base}/ui/tenders/{live.tender}/claims?supplier=acme&review=pending")
    page.screenshot(path=str(shots / "claims.png"), full_page=True)
    _accessible(page, "claims")
    page.locator("table.vbp-claims a").first.click()
    page.wait_for_load_state("networkidle")
    reviewed = []
    for n in range(3):
        url = page.url
        reviewed.append(url.split("/claims/", 1)[1].split("?", 1)[0])
        if n == 0:
            page.screenshot(path=str(shots / "review.png"), full_page=True)
            _accessible(page, "review")
        page.keyboard.press("?")
        assert page.locator("#keys-help").is_visible()
        page.keyboard.press("Escape")
        page.keyboard.press("a")  # accept: the radio is chosen and the reason box focused, nothing is sent
        assert page.locator("#decision-accepted").is_checked()
        assert page.evaluate("document.activeElement.id") == "reason"
        assert page.url == url
        page.keyboard.type(f"checked against the source, claim {n + 1}")
        page.keyboard.press("Tab")  # to the save button
        assert page.evaluate("document.activeElement.textContent").strip() == "Save decision"
        page.keyboard.press("Enter")
        page.wait_for_url(lambda u, before=url: u != before)
        assert "Decision saved" in page.content()
    events = live.get("admin", "/audit?action=claim.review").json()["data"]
    assert [(e["actor"], e["target_id"]) for e in events] == [("eva", cid) for cid in reviewed]
    # j/k move through the list without deciding anything
    here = page.url
    page.keyboard.press("j")
    page.wait_for_url(lambda u: u != here)
    page.keyboard.press("k")
    page.wait_for_url(lambda u: u.split("?")[0] == here.split("?")[0])
    assert live.get("admin", "/audit?action=claim.review").json()["count"] == 3
    assert page.foreign == []
    context.close()


def test_a_correction_and_a_support_link_in_the_browser(browser, live: World, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    context, page = _context(browser, live, shots, "eva")
    page.goto(f"{live.base}/ui/tenders/{live.tender}/claims?supplier=acme")
    page.get_by_role("link", name="stayed 1.2 days less", exact=False).first.click()
    page.wait_for_load_state("networkidle")
    page.keyboard.press("e")
    assert page.locator("#corrections").get_attribute("open") is not None
    page.select_option("#fix_category", "resource_use")
    page.fill("#reason", "length of stay is resource use")
    page.get_by_role("button", name="Save decision").click()
    page.wait_for_load_state("networkidle")
    claim_id = next(c for c in live.get("eva", f"/tenders/{live.tender}/claims?supplier=acme").json()["data"] if "stayed" in c["claim"]["quote"])
    assert claim_id["claim"]["category"] == "resource_use" and claim_id["version"] == 1

    page.goto(f"{live.base}/ui/tenders/{live.tender}/claims?supplier=acme")
    page.get_by_role("link", name="reduced surgical site infection", exact=False).first.click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="See the passage on its page").first.click()
    page.wait_for_load_state("networkidle")
    assert "Surgical site infection occurred in 12 of 200 patients" in page.content()
    assert page.locator("mark").first.is_visible()
    page.screenshot(path=str(shots / "passage.png"), full_page=True)
    _accessible(page, "passage")

    page.goto(f"{live.base}/ui/tenders/{live.tender}/claims?supplier=acme")
    page.get_by_role("link", name="trained staff rated the analyser", exact=False).first.click()
    page.wait_for_load_state("networkidle")
    image = page.locator(".vbp-page img")
    assert image.evaluate("img => img.complete && img.naturalWidth > 500")
    box = page.locator(".vbp-highlight").first.bounding_box()
    frame = image.bounding_box()
    assert box is not None and frame is not None
    assert frame["x"] <= box["x"] <= frame["x"] + frame["width"] and frame["y"] <= box["y"] <= frame["y"] + frame["height"]
    page.screenshot(path=str(shots / "review-pdf.png"), full_page=True)
    _accessible(page, "review of a PDF claim")
    assert page.foreign == []
    context.close()


def test_supplier_b_cannot_reach_supplier_a_pages(browser, live: World, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    acme = live.get("eva", f"/tenders/{live.tender}/claims?supplier=acme").json()["data"][0]["claim"]
    context, page = _context(browser, live, shots, "globex-user")
    answer = page.goto(f"{live.base}/ui/tenders/{live.tender}/claims/{acme['id']}?supplier=acme")
    assert answer.status == 404 and "Page not found" in page.content()
    image = page.goto(f"{live.base}/ui/documents/{acme['doc_id']}/pages/1.png")
    assert image.status == 404
    page.goto(f"{live.base}/ui/tenders/{live.tender}/claims")
    assert "phlebitis" in page.content() and "surgical site infection" not in page.content()
    page.screenshot(path=str(shots / "supplier-claims.png"), full_page=True)
    _accessible(page, "a supplier's claims")
    assert live.get("admin", "/audit?action=access.denied").json()["count"] >= 2
    assert page.foreign == []
    context.close()


def test_the_admin_page_in_the_browser(browser, live: World, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    context, page = _context(browser, live, shots, "admin")
    page.goto(f"{live.base}/ui/admin")
    page.fill("#new-name", "ida")
    page.get_by_role("button", name="Add user and show the key").click()
    key = page.locator(".vbp-key-value").inner_text()
    assert key.startswith("vbp_") and live.services.repo.authenticate(key).name == "ida"
    page.screenshot(path=str(shots / "admin.png"), full_page=True)
    _accessible(page, "administration")
    assert page.foreign == []
    context.close()


def test_a_supplier_uploads_a_draft_and_reads_its_precheck_in_the_browser(browser, live: World, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    draft = tmp_path / "acme-draft.md"
    draft.write_text(SUBMISSION, encoding="utf-8")
    context, page = _context(browser, live, shots, "acme-user")
    page.goto(f"{live.base}/ui/tenders/{live.tender}/documents")
    page.select_option("#upload-role", "draft")
    page.set_input_files("#upload-file", str(draft))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state("networkidle")
    assert "being processed" in page.content() and "acme-draft.md" in page.content(), page.inner_text("main")[:800]
    assert live.drain() == 1  # the job runs (jobs are drained by the test, not by background threads)
    page.reload()
    page.get_by_role("link", name="Pre-check").first.click()
    page.wait_for_load_state("networkidle")
    assert "Pre-check" in page.content() and ("Not ready" in page.content() or "Ready" in page.content())
    page.screenshot(path=str(shots / "precheck.png"), full_page=True)
    _accessible(page, "pre-check")
    page.get_by_role("link", name="See it highlighted in the document").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("mark").first.is_visible() and page.locator("#decision-form").count() == 0
    assert page.foreign == []
    context.close()
