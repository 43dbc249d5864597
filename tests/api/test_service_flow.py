"""The evaluator flow and the supplier pre-check flow, end to end through the HTTP API (fast tier: Markdown documents)."""

from __future__ import annotations

import csv
import io

from tests.api.service_kit import OTHER_SUBMISSION, PAPER, SUBMISSION, World


def test_service_flow_evaluator(service: World) -> None:
    tender = service.standard_tender()
    # upload a submission and the paper it cites; the answer is a job to poll
    paper = service.upload("eva", "acme-trial.md", PAPER, role="paper", supplier="acme")
    sub = service.upload("eva", "acme-submission.md", SUBMISSION, role="submission", supplier="acme")
    assert paper.status_code == sub.status_code == 202
    assert sub.headers["location"] == f"/jobs/{sub.json()['id']}"
    assert sub.json()["status"] == "queued"
    docs = service.get("eva", f"/documents?tender_id={tender}").json()
    assert {d["status"] for d in docs["data"]} == {"processing"}
    assert service.drain() == 2
    job = service.get("eva", f"/jobs/{sub.json()['id']}").json()
    assert job["status"] == "done" and job["stage"] == "support" and job["result"]["claims"] >= 3 and job["result"]["links"] > 0
    assert not list(service.settings.uploads_dir.iterdir())  # finished uploads leave the upload folder

    # claims appear, grouped by domain, with quote, page, numbers and support
    claims = service.get("eva", f"/tenders/{tender}/claims").json()
    assert claims["count"] == job["result"]["claims"]
    by_quote = {c["claim"]["quote"]: c for c in claims["data"]}
    infection = next(c for q, c in by_quote.items() if "surgical site infection" in q)
    assert infection["review_state"] == "pending" and infection["support_status"] == "supported"
    assert infection["claim"]["page"] == 1 and {q["text"] for q in infection["claim"]["quantities"]} >= {"11%", "6%"}
    assert service.get("eva", f"/tenders/{tender}/claims?domain=whole_life_cost").json()["count"] == 1
    assert service.get("eva", f"/tenders/{tender}/claims?stance=supports").json()["count"] >= 1
    detail = service.get("eva", f"/tenders/{tender}/claims/{infection['claim']['id']}").json()
    assert detail["links"][0]["passage"]["doc_id"] == paper.json()["doc_id"] and detail["links"][0]["document"].startswith("Acme foam")

    # review: accept, reject, correct (a new version; the original stays)
    cid = infection["claim"]["id"]
    accepted = service.post("eva", f"/tenders/{tender}/claims/{cid}/reviews", json={"decision": "accepted", "reason": "Table 2 agrees"})
    assert accepted.status_code == 201 and accepted.json()["version"] is None
    marketing = next(c for q, c in by_quote.items() if "innovative" in q)["claim"]["id"]
    rejected = service.post("eva", f"/tenders/{tender}/claims/{marketing}/reviews", json={"decision": "rejected", "reason": "marketing"})
    assert rejected.status_code == 201
    stay = next(c for q, c in by_quote.items() if "stayed" in q)["claim"]
    corrected = service.post("eva", f"/tenders/{tender}/claims/{stay['id']}/reviews",
                             json={"decision": "corrected", "reason": "resource use, not an outcome",
                                   "corrections": {"category": "resource_use", "domain": "efficiency"}})
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["version"] == 1 and corrected.json()["corrections"] == {"category": "resource_use", "domain": "efficiency"}
    again = service.post("eva", f"/tenders/{tender}/claims/{stay['id']}/reviews",
                         json={"decision": "corrected", "reason": "timepoint", "corrections": {"timepoint": "index admission"}})
    assert again.json()["version"] == 2, again.text
    detail = service.get("eva", f"/tenders/{tender}/claims/{stay['id']}").json()
    assert detail["version"] == 2 and detail["claim"]["category"] == "resource_use" and detail["claim"]["timepoint"] == "index admission"
    assert detail["original"] == stay  # never overwritten
    assert [v["version"] for v in detail["versions"]] == [0, 1, 2] and detail["versions"][0]["claim"] == stay
    assert [r["decision"] for r in detail["reviews"]] == ["corrected", "corrected"]
    assert service.get("eva", f"/claims/{stay['id']}").json()["claim"] == stay  # the extracted claim, outside the tender
    assert service.get("eva", f"/tenders/{tender}/claims?review=pending").json()["count"] == claims["count"] - 3
    assert service.get("eva", f"/tenders/{tender}/claims?review=corrected&domain=efficiency").json()["count"] == 1

    # worksheet: JSON, CSV, HTML
    ws = service.get("eva", f"/tenders/{tender}/worksheet?supplier=acme").json()
    assert ws["report"] == "worksheet" and ws["supplier"] == "Acme" and ws["tender"] == "Wound care 2026 (NHSSC-2026-041)"
    assert ws["summary"]["claims"] == claims["count"]
    assert ws["summary"]["by_review_state"]["accepted"] == 1 and ws["summary"]["by_review_state"]["corrected"] == 1
    assert [d["domain"] for d in ws["domains"]][:1] and ws["submissions"] == ["Acme foam dressing: value proposition"]
    rows = list(csv.DictReader(io.StringIO(service.get("eva", f"/tenders/{tender}/worksheet?supplier=acme&format=csv").text)))
    assert len(rows) == claims["count"]
    html = service.get("eva", f"/tenders/{tender}/worksheet?supplier=acme&format=html")
    assert html.headers["content-type"].startswith("text/html") and "Acme" in html.text and "<script" not in html.text
    assert service.get("eva", f"/tenders/{tender}/worksheet?supplier=initech").status_code == 422


def test_service_flow_supplier_precheck(service: World) -> None:
    tender = service.standard_tender()
    service.ingest("acme-user", "acme-trial.md", PAPER, role="paper")
    draft = service.ingest("acme-user", "draft.md", SUBMISSION, role="draft")
    report = service.get("acme-user", f"/tenders/{tender}/documents/{draft['doc_id']}/precheck").json()
    assert report["report"] == "precheck" and report["supplier"] == "Acme"
    kinds = {g["kind"]: g["count"] for g in report["groups"]}
    assert kinds["marketing_only"] == 1  # "the most innovative dressing on the market"
    assert kinds["empty_domain"] >= 3  # supply chain, social value, purpose
    html = service.get("acme-user", f"/tenders/{tender}/documents/{draft['doc_id']}/precheck?format=html")
    assert html.status_code == 200 and "pre-check" in html.text
    # a draft is the supplier's alone: evaluators never see it, even in the tender they evaluate
    assert service.get("eva", f"/documents/{draft['doc_id']}").status_code == 404
    assert service.get("eva", f"/tenders/{tender}/claims?role=draft").json()["count"] == 0
    assert service.upload("eva", "d.md", "Some text.", role="draft", supplier="acme").status_code == 422


def test_service_flow_support_never_crosses_suppliers(service: World) -> None:
    """Globex uploads the same paper as Acme cites, and a submission citing it; Acme's claims are checked only against
    Acme's own papers, so no link of Acme's points into Globex's uploads (and the other way round)."""
    tender = service.standard_tender()
    service.ingest("globex-user", "trial.md", PAPER, role="paper")  # the same bytes as acme's paper: one document
    acme = service.ingest("acme-user", "s.md", SUBMISSION, role="submission")
    claims = service.get("acme-user", f"/documents/{acme['doc_id']}/claims").json()["data"]
    assert all(c["stances"] == {} for c in claims)  # acme has no paper of its own yet: nothing to check against
    paper = service.ingest("acme-user", "t.md", PAPER, role="paper")
    assert paper["result"]["rechecked_documents"] == 1  # the new paper re-checks acme's submission
    claims = service.get("acme-user", f"/documents/{acme['doc_id']}/claims").json()["data"]
    assert any(c["stances"] for c in claims)
    glob = service.ingest("globex-user", "g.md", OTHER_SUBMISSION, role="submission")
    own = {d["id"] for d in service.get("globex-user", "/documents").json()["data"]}
    for c in service.get("globex-user", f"/documents/{glob['doc_id']}/claims").json()["data"]:
        for link in service.get("globex-user", f"/claims/{c['claim']['id']}/links").json()["data"]:
            assert link["passage"]["doc_id"] in own
    assert service.get("eva", f"/tenders/{tender}/claims?supplier=globex").json()["count"] == 2


def test_service_flow_search_is_scoped(service: World) -> None:
    ids = service.flow()
    hits = service.get("acme-user", "/search", params={"q": "catheter phlebitis"}).json()["data"]
    assert all(h["doc_id"] in {ids["paper"], ids["submission"]} for h in hits)
    hits = service.get("globex-user", "/search", params={"q": "catheter phlebitis"}).json()["data"]
    assert hits and {h["doc_id"] for h in hits} == {ids["other"]}
    staff = service.get("eva", "/search", params={"q": "surgical site infection", "tender_id": service.tender}).json()["data"]
    assert staff and {h["doc_id"] for h in staff} <= set(ids.values())
    assert service.get("globex-user", "/search", params={"q": "infection", "doc_id": ids["submission"]}).status_code == 404
    assert service.get("otto", "/search", params={"q": "infection"}).json()["data"] == []


def test_service_flow_documents_passages_links(service: World) -> None:
    ids = service.flow()
    doc = service.get("eva", f"/documents/{ids['submission']}").json()
    assert doc["status"] == "stored" and doc["kind"] == "supplier_submission" and doc["pages"][0]["number"] == 1
    assert doc["owners"] == [{"tender_id": service.tender, "supplier_id": "acme", "role": "submission", "filename": "acme-submission.md",
                              "job_id": doc["owners"][0]["job_id"]}]
    passages = service.get("eva", f"/documents/{ids['paper']}/passages").json()
    assert passages["count"] >= 1
    first = passages["data"][0]
    assert service.get("eva", f"/passages/{first['id']}").json() == first
    claim = service.get("eva", f"/documents/{ids['submission']}/claims").json()["data"][0]["claim"]
    links = service.get("eva", f"/claims/{claim['id']}/links").json()
    assert links["count"] == len(links["data"]) and all(lk["passage"]["text"] for lk in links["data"])
    listed = service.get("eva", f"/documents?tender_id={service.tender}&role=paper").json()["data"]
    assert [d["id"] for d in listed] == [ids["paper"]]
