"""Supplier isolation: every endpoint, tried with another supplier's key, reveals nothing of the first supplier's bid.

Asking for something that exists but belongs to another supplier answers exactly like asking for something that
does not exist (404, same message), and the attempt is written to the audit trail.
"""

from __future__ import annotations

import pytest

from tests.api.service_kit import PAPER, SUBMISSION, World


@pytest.fixture()
def bid(service: World) -> dict:
    """Acme's submission and paper (ingested); ids of everything a request could name."""
    service.standard_tender()
    paper = service.ingest("acme-user", "acme-trial.md", PAPER, role="paper")
    sub = service.ingest("acme-user", "acme-submission.md", SUBMISSION, role="submission")
    claims = service.get("acme-user", f"/documents/{sub['doc_id']}/claims").json()["data"]
    passage = service.get("acme-user", f"/documents/{sub['doc_id']}/passages").json()["data"][0]
    return {"tender_id": service.tender, "doc_id": sub["doc_id"], "paper_id": paper["doc_id"], "claim_id": claims[0]["claim"]["id"],
            "passage_id": passage["id"], "job_id": sub["id"], "user_id": service.users["acme-user"]["id"],
            "quote": claims[0]["claim"]["quote"]}


def _secrets(bid: dict) -> list[str]:
    return [bid["doc_id"], bid["paper_id"], bid["claim_id"], bid["passage_id"], bid["job_id"], bid["quote"][:40]]


def _call(service: World, who: str, method: str, path: str, bid: dict):
    url = path.format(**bid)
    params = {"supplier": "acme", "doc_id": bid["doc_id"], "tender_id": bid["tender_id"], "q": "surgical site infection",
              "role": "submission"}
    if path.endswith("/documents") and method == "POST":
        return service.upload(who, "x.md", "The Acme dressing cut infection by 30%.", role="submission", supplier="acme")
    body = {"decision": "accepted", "reason": "looks fine"} if path.endswith("/reviews") else {"title": "x", "supplier": "acme", "user": "eva",
                                                                                                "name": "x", "role": "admin"}
    return service.client.request(method, url, params=params, headers=service.h(who), json=body if method == "POST" else None)


def test_service_isolation_every_endpoint_with_another_suppliers_key(service: World, bid: dict) -> None:
    paths = service.client.get("/openapi.json").json()["paths"]
    routes = [(m.upper(), path) for path, ops in paths.items() for m in ops]
    assert len(routes) >= 25
    tried = 0
    for method, path in routes:
        r = _call(service, "globex-user", method, path, bid)
        tried += 1
        leaked = [s for s in _secrets(bid) if s in r.text]
        if any(name in path for name in ("{doc_id}", "{claim_id}", "{passage_id}", "{job_id}")):
            assert r.status_code in (403, 404), (method, path, r.status_code, r.text)
        assert r.status_code != 500, (method, path, r.text)
        # the only acme id globex may see is one it named itself (echoed back in a 404 message)
        if r.status_code < 400:
            assert not leaked, (method, path, leaked)
        else:
            assert set(leaked) <= {bid["doc_id"], bid["claim_id"], bid["passage_id"], bid["job_id"]}, (method, path, leaked)
    assert tried == len(routes)
    # and the owner can do what globex could not
    assert service.get("acme-user", f"/documents/{bid['doc_id']}").status_code == 200
    assert service.get("acme-user", f"/tenders/{bid['tender_id']}/documents/{bid['doc_id']}/precheck").status_code == 200


@pytest.mark.parametrize(("kind", "path", "fake"), [
    ("document", "/documents/{}", "f" * 64),
    ("document", "/documents/{}/claims", "f" * 64),
    ("document", "/documents/{}/passages", "f" * 64),
    ("claim", "/claims/{}", "f" * 64 + ":c9"),
    ("claim", "/claims/{}/links", "f" * 64 + ":c9"),
    ("passage", "/passages/{}", "f" * 64 + ":0"),
    ("job", "/jobs/{}", "job-ffffffffffffffff"),
])
def test_service_isolation_hidden_looks_exactly_like_missing(service: World, bid: dict, kind: str, path: str, fake: str) -> None:
    real = {"document": bid["doc_id"], "claim": bid["claim_id"], "passage": bid["passage_id"], "job": bid["job_id"]}[kind]
    hidden = service.get("globex-user", path.format(real))
    missing = service.get("globex-user", path.format(fake))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == {**missing.json()["error"], "message": missing.json()["error"]["message"].replace(fake, real)}
    assert set(hidden.headers) - {"x-request-id"} == set(missing.headers) - {"x-request-id"}


def test_service_isolation_denials_are_audited(service: World, bid: dict) -> None:
    service.get("globex-user", f"/documents/{bid['doc_id']}")
    service.get("globex-user", f"/claims/{bid['claim_id']}")
    service.get("globex-user", f"/jobs/{bid['job_id']}")
    service.get("globex-user", f"/documents/{'e' * 64}")  # a genuinely missing id is not an access attempt
    events = service.get("admin", "/audit?action=access.denied&actor=globex-user").json()["data"]
    assert [(e["target_type"], e["target_id"]) for e in events] == [("document", bid["doc_id"]), ("claim", bid["claim_id"]),
                                                                     ("job", bid["job_id"])]
    assert all(e["actor_role"] == "supplier" and e["request_id"] for e in events)


def test_service_isolation_lists_show_only_your_own(service: World, bid: dict) -> None:
    service.ingest("globex-user", "g.md", "# Globex\n\nThe Globex catheter reduced phlebitis by 30% in an audit.\n", role="submission")
    for url in ("/documents", f"/documents?tender_id={bid['tender_id']}&supplier=acme", "/jobs", f"/tenders/{bid['tender_id']}/claims",
                f"/tenders/{bid['tender_id']}/claims?supplier=acme&role=any", "/tenders"):
        r = service.get("globex-user", url)
        assert r.status_code == 200, (url, r.text)
        assert not [s for s in _secrets(bid) if s in r.text], url
    mine = service.get("globex-user", "/documents").json()["data"]
    assert len(mine) == 1 and mine[0]["owners"][0]["supplier_id"] == "globex"


def test_service_isolation_a_supplier_outside_the_tender_sees_nothing(service: World, bid: dict) -> None:
    service.add_user("initech-user", "supplier", "initech")
    assert service.get("initech-user", f"/tenders/{bid['tender_id']}").status_code == 404
    assert service.get("initech-user", "/tenders").json()["data"] == []
    assert service.upload("initech-user", "x.md", "Text with a claim: costs fell by 10%.", role="submission",
                          tender=bid["tender_id"]).status_code == 404
