"""Evidence state belongs to its context (issue 16): one party's upload never changes what another party sees.

Documents are stored once per content hash and their parse, passages and claims are shared; everything checked for a
party (support links, numeric checks, verdicts, the reports built from them) and the name it uploaded a file under are
that party's own. Each scenario here takes a snapshot of every other party's views, lets someone upload bytes that are
already stored, and asserts the snapshot is byte-for-byte the same afterwards.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from tests.api.service_kit import PAPER, SUBMISSION, World

DRAFT = """# Acme foam dressing: draft answer to question 4

## Outcomes

The Acme foam dressing reduced surgical site infection from 11% to 6% compared with gauze in a randomised trial [1].

Length of hospital stay was 1.2 days shorter with the Acme foam dressing [1].

## References

1. Smith J, Jones K. Acme foam dressing versus gauze for closed surgical wounds: a randomised controlled trial. BMJ 2021;372:n100.
"""


def _strip(body):
    """A report body without its generation time (the one thing that may differ between two identical reports)."""
    if isinstance(body, dict):
        return {k: _strip(v) for k, v in body.items() if k != "generated_at"}
    if isinstance(body, list):
        return [_strip(v) for v in body]
    return body


@pytest.fixture()
def bids(service: World) -> dict:
    """acme: a paper, a submission citing it (uploaded by the evaluator) and a private draft; globex: a submission."""
    docs = service.flow()
    draft = service.ingest("acme-user", "acme-draft-q4.md", DRAFT, role="draft")
    docs["draft"] = draft["doc_id"]
    listed = service.get("eva", f"/tenders/{service.tender}/claims?supplier=acme").json()["data"]
    assert any(c["support_status"] == "supported" for c in listed), "the setup must have checked links to protect"
    drafted = service.get("acme-user", f"/tenders/{service.tender}/claims?role=draft").json()["data"]
    assert any(c["support_status"].startswith("supported") for c in drafted)
    return docs


def snapshot(service: World, docs: dict, tender: str) -> dict[tuple[str, str], dict[str, bytes]]:
    """What each party sees of its own uploads, by (party, part): raw response bodies (reports without their time)."""
    def body(who: str, url: str) -> bytes:
        r = service.get(who, url)
        assert r.status_code == 200, (who, url, r.text)
        if r.headers["content-type"].startswith("application/json") and ("precheck" in url or "worksheet" in url):
            return json.dumps(_strip(r.json()), sort_keys=True).encode()
        return r.content

    def claim_parts(who: str, listing: str) -> dict[str, bytes]:
        out = {listing: body(who, listing)}
        for item in json.loads(out[listing])["data"]:
            cid, whose = item["claim"]["id"], f"supplier={item['supplier_id']}"  # a shared claim is read as one supplier's
            out[f"/tenders/{tender}/claims/{cid}"] = body(who, f"/tenders/{tender}/claims/{cid}?{whose}")
            out[f"/claims/{cid}/links"] = body(who, f"/claims/{cid}/links?tender_id={tender}&{whose}")
        return out

    t = tender
    return {
        ("acme", "submission"): {**claim_parts("eva", f"/tenders/{t}/claims?supplier=acme&doc_id={docs['submission']}"),
                                 "precheck": body("acme-user", f"/tenders/{t}/documents/{docs['submission']}/precheck"),
                                 "supplier-list": body("acme-user", f"/tenders/{t}/claims?doc_id={docs['submission']}")},
        ("acme", "draft"): {**claim_parts("acme-user", f"/tenders/{t}/claims?role=draft&doc_id={docs['draft']}"),
                            "precheck": body("acme-user", f"/tenders/{t}/documents/{docs['draft']}/precheck")},
        ("acme", "listings"): {"json": body("eva", f"/tenders/{t}/worksheet?supplier=acme"),
                            "csv": body("eva", f"/tenders/{t}/worksheet?supplier=acme&format=csv"),
                            "documents": body("eva", f"/documents?tender_id={t}&supplier=acme&role=submission"),
                            "papers": body("eva", f"/documents?tender_id={t}&supplier=acme&role=paper"),
                            "draft": body("acme-user", f"/documents/{docs['draft']}")},
        ("globex", "submission"): {**claim_parts("eva", f"/tenders/{t}/claims?supplier=globex&doc_id={docs['other']}"),
                                   "precheck": body("globex-user", f"/tenders/{t}/documents/{docs['other']}/precheck")},
        ("globex", "sheet"): {"json": body("eva", f"/tenders/{t}/worksheet?supplier=globex"),
                              "documents": body("globex-user", f"/documents?tender_id={t}&role=submission")},
    }


def _assert_unchanged(before: dict, after: dict, *, may_change: set[tuple[str, str]]) -> None:
    for part, bodies in before.items():
        if part in may_change:
            continue
        for key, value in bodies.items():
            assert after[part].get(key) == value, f"{part} {key} changed"


def _upload(service: World, who: str, name: str, content: str, *, role: str, supplier: str | None = None,
            tender: str | None = None) -> dict:
    r = service.upload(who, name, content, role=role, supplier=supplier, tender=tender)
    assert r.status_code == 202, r.text  # never a clash that tells of another party's file
    service.drain()
    job = service.get(who, f"/jobs/{r.json()['id']}").json()
    assert job["status"] == "done", job
    return job


@pytest.mark.issue(16)
def test_contexts_a_rivals_identical_draft_changes_nothing_of_anyone_else(service: World, bids: dict) -> None:
    before = snapshot(service, bids, service.tender)
    job = _upload(service, "globex-user", "our-own-draft.md", SUBMISSION, role="draft")
    assert job["doc_id"] == bids["submission"]  # the bytes are shared ...
    _assert_unchanged(before, snapshot(service, bids, service.tender), may_change=set())
    # ... the rival's check is its own: it has no papers, so nothing of its copy is checked, and it sees only its own name
    mine = service.get("globex-user", f"/tenders/{service.tender}/claims?role=draft").json()["data"]
    assert mine and {c["support_status"] for c in mine} == {"not_checked"}
    listed = service.get("globex-user", "/documents?role=draft").json()["data"]
    assert [d["filename"] for d in listed] == ["our-own-draft.md"]
    assert "acme" not in json.dumps(listed) and "acme-submission.md" not in service.get("globex-user", f"/jobs/{job['id']}").text


@pytest.mark.issue(16)
def test_contexts_a_rivals_identical_submission_and_paper_change_nothing_of_acme(service: World, bids: dict) -> None:
    before = snapshot(service, bids, service.tender)
    sub = _upload(service, "globex-user", "globex-copy.md", SUBMISSION, role="submission")
    paper = _upload(service, "globex-user", "globex-trial.md", PAPER, role="paper")  # re-checks globex's documents only
    after = snapshot(service, bids, service.tender)
    _assert_unchanged(before, after, may_change={("globex", "submission"), ("globex", "sheet")})
    # the evaluator sees the rival's copy under the rival's name, checked against the rival's (identical) paper
    rival = service.get("eva", f"/documents?tender_id={service.tender}&supplier=globex&role=submission").json()["data"]
    assert {d["filename"] for d in rival} == {"globex-copy.md", "globex-submission.md"}
    titles = [lk["document"] for c in service.get("globex-user", f"/tenders/{service.tender}/claims?doc_id={sub['doc_id']}").json()["data"]
              for lk in service.get("globex-user", f"/claims/{c['claim']['id']}/links").json()["data"]]
    assert paper["result"]["rechecked_documents"] == 2 and titles
    assert all("acme-trial.md" not in (t or "") for t in titles)


@pytest.mark.issue(16)
def test_contexts_the_same_bid_in_two_tenders_keeps_each_tenders_checks(service: World, bids: dict) -> None:
    first = service.tender
    before = snapshot(service, bids, first)
    t2 = service.post("admin", "/tenders", json={"title": "Wound care 2027"}).json()["id"]
    assert service.post("admin", f"/tenders/{t2}/suppliers", json={"supplier": "acme"}).status_code == 201
    assert service.post("admin", f"/tenders/{t2}/evaluators", json={"user": "eva"}).status_code == 201
    job = _upload(service, "acme-user", "resubmitted.md", SUBMISSION, role="submission", tender=t2)
    _assert_unchanged(before, snapshot(service, bids, first), may_change=set())
    # in the second tender acme uploaded no paper: nothing is checked there
    there = service.get("eva", f"/tenders/{t2}/claims").json()["data"]
    assert there and {c["support_status"] for c in there} == {"not_checked"} and job["result"]["evidence_documents"] == 0


@pytest.mark.issue(16)
def test_contexts_an_evaluator_uploading_a_suppliers_draft_learns_nothing_and_changes_nothing(service: World, bids: dict) -> None:
    before = snapshot(service, bids, service.tender)
    r = service.upload("eva", "acme-q4-final.md", DRAFT, role="submission", supplier="acme")
    assert r.status_code == 202 and "draft" not in r.text, r.text
    service.drain()
    after = snapshot(service, bids, service.tender)
    _assert_unchanged(before, after, may_change={("acme", "listings")})  # acme has one submission more: its listings show it
    seen = service.get("eva", f"/documents/{bids['draft']}").json()
    assert seen["filename"] == "acme-q4-final.md" and [o["role"] for o in seen["owners"]] == ["submission"]


@pytest.mark.issue(16)
def test_contexts_a_draft_identical_to_its_own_submission_changes_nothing(service: World, bids: dict) -> None:
    before = snapshot(service, bids, service.tender)
    job = _upload(service, "acme-user", "acme-submission-check.md", SUBMISSION, role="draft")
    assert job["doc_id"] == bids["submission"]
    _assert_unchanged(before, snapshot(service, bids, service.tender), may_change=set())
    # the draft has its own pre-check, built from the same papers: the same verdicts as the submission
    drafted = service.get("acme-user", f"/tenders/{service.tender}/claims?role=draft&doc_id={job['doc_id']}").json()["data"]
    submitted = service.get("acme-user", f"/tenders/{service.tender}/claims?role=submission&doc_id={job['doc_id']}").json()["data"]
    assert [c["support_status"] for c in drafted] == [c["support_status"] for c in submitted]


@pytest.mark.issue(16)
def test_contexts_the_command_line_check_is_its_own(service: World, bids: dict) -> None:
    """`vbp support` on the service's database checks outside any tender: it writes the command line's links only."""
    from api.evidence import support_document

    before = snapshot(service, bids, service.tender)
    checks = support_document(service.services.store, service.services.index.get(), bids["submission"],
                              classifier=service.services.classifier, scope=set())
    assert checks and service.services.store.list_support_links(doc_id=bids["submission"]) == [lk for c in checks for lk in c.links]
    _assert_unchanged(before, snapshot(service, bids, service.tender), may_change=set())


@pytest.mark.issue(16)
def test_contexts_migration_keeps_the_links_every_party_saw(tmp_path) -> None:
    """A database at revision 0003: after the upgrade each owner of a checked document has its links, the command line's
    are kept, a draft and a submission of one file may coexist, ownership changes still move the revision, and earlier
    review decisions belong to the supplier whose claim they judged."""
    from alembic import command
    from alembic.config import Config

    from api.store.repository import MIGRATIONS, Store

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    now = "2026-11-30 10:00:00"
    with engine.begin() as c:
        c.execute(text("INSERT INTO documents (id, filename, kind, kind_source, media_type, page_count, parser, schema_version, text, "
                       "structure, warnings, metadata, size_bytes, created_at) VALUES ('d1', 'bid.md', 'supplier_submission', "
                       "'detected', 'text/markdown', 1, 'p', 1, 'x', '{}', '[]', '{}', 1, :now)"), {"now": now})
        c.execute(text("INSERT INTO passages (id, doc_id, \"index\", page, start, \"end\", text) VALUES ('d1:0', 'd1', 0, 1, 0, 1, 'x')"))
        c.execute(text("INSERT INTO claims (id, doc_id, page, start, \"end\", quote, category, domain, direction, extractor, confidence, "
                       "data, created_at) VALUES ('d1:0-1', 'd1', 1, 0, 1, 'x', 'outcome', 'patient', 'decrease', 'r', 0.9, '{}', :now)"),
                  {"now": now})
        c.execute(text("INSERT INTO support_links (claim_id, passage_id, stance, score, data, created_at) "
                       "VALUES ('d1:0-1', 'd1:0', 'supports', 0.9, '{\"x\": 1}', :now)"), {"now": now})
        c.execute(text("INSERT INTO tenders (id, title, reference, created_by, created_at) VALUES ('t-1', 'T', '', 'a', :now)"), {"now": now})
        for supplier in ("acme", "globex"):
            c.execute(text("INSERT INTO suppliers (id, name, created_at) VALUES (:s, :s, :now)"), {"s": supplier, "now": now})
        for supplier, role in (("acme", "submission"), ("globex", "draft")):
            c.execute(text("INSERT INTO tender_documents (tender_id, supplier_id, doc_id, role, filename, created_at) "
                           "VALUES ('t-1', :s, 'd1', :r, 'f.md', :now)"), {"s": supplier, "r": role, "now": now})
        c.execute(text("INSERT INTO review_decisions (claim_id, tender_id, reviewer, decision, corrections, reason, at) "
                       "VALUES ('d1:0-1', 't-1', 'eva', 'corrected', '{}', 'r', :now)"), {"now": now})
        c.execute(text("INSERT INTO claim_versions (claim_id, tender_id, version, data, review_id, created_by, at) "
                       "VALUES ('d1:0-1', 't-1', 1, '{}', 1, 'eva', :now)"), {"now": now})
    engine.dispose()

    store = Store(url)  # migrates to the newest revision
    try:
        with store.engine.begin() as c:
            links = sorted(c.execute(text("SELECT context, stance, data FROM support_links")).all())
            assert links == [("", "supports", '{"x": 1}'), ("t-1/acme/submission", "supports", '{"x": 1}'),
                             ("t-1/globex/draft", "supports", '{"x": 1}')]
            rev = c.execute(text("SELECT value FROM revisions WHERE scope = 'd1'")).scalar()
            c.execute(text("INSERT INTO tender_documents (tender_id, supplier_id, doc_id, role, filename, created_at) "
                           "VALUES ('t-1', 'acme', 'd1', 'draft', 'g.md', :now)"), {"now": now})
            assert c.execute(text("SELECT value FROM revisions WHERE scope = 'd1'")).scalar() == rev + 1
            # the decision made before is acme's (the draft owner is not a reviewed party), and history stays append-only
            assert c.execute(text("SELECT supplier_id FROM review_decisions")).all() == [("acme",)]
            assert c.execute(text("SELECT supplier_id, version FROM claim_versions")).all() == [("acme", 1)]
        for table in ("review_decisions", "claim_versions"):
            with pytest.raises(Exception, match="append-only"), store.engine.begin() as c:
                c.execute(text(f"UPDATE {table} SET supplier_id = 'globex'"))
    finally:
        store.close()


@pytest.mark.issue(16)
def test_contexts_each_suppliers_copy_of_a_shared_claim_is_reviewed_on_its_own(service: World, bids: dict) -> None:
    t = service.tender
    cid = service.get("eva", f"/tenders/{t}/claims?supplier=acme&doc_id={bids['submission']}").json()["data"][0]["claim"]["id"]
    accepted = service.post("eva", f"/tenders/{t}/claims/{cid}/reviews", json={"decision": "accepted", "reason": "matches the trial"})
    assert accepted.status_code == 201 and accepted.json()["supplier_id"] == "acme"
    before = snapshot(service, bids, t)
    _upload(service, "globex-user", "globex-copy.md", SUBMISSION, role="submission")
    # the rival's copy does not inherit acme's decision ...
    copy = {c["claim"]["id"]: c for c in service.get("eva", f"/tenders/{t}/claims?supplier=globex").json()["data"]}
    assert copy[cid]["review_state"] == "pending"
    # ... a decision on the shared id must say whose claim it judges ...
    unsure = service.post("eva", f"/tenders/{t}/claims/{cid}/reviews", json={"decision": "rejected", "reason": "copied"})
    assert unsure.status_code == 422 and [d["field"] for d in unsure.json()["error"]["details"]] == ["supplier"], unsure.text
    # ... and rejecting the rival's copy leaves acme's accepted claim, and everything else of acme's, as it was
    rejected = service.post("eva", f"/tenders/{t}/claims/{cid}/reviews?supplier=globex", json={"decision": "rejected", "reason": "copied"})
    assert rejected.status_code == 201 and rejected.json()["supplier_id"] == "globex"
    corrected = service.post("eva", f"/tenders/{t}/claims/{cid}/reviews?supplier=globex",
                             json={"decision": "corrected", "reason": "a cost claim", "corrections": {"category": "cost"}})
    assert corrected.status_code == 201 and corrected.json()["version"] == 1  # globex's first version, beside none of acme's
    _assert_unchanged(before, snapshot(service, bids, t), may_change={("globex", "submission"), ("globex", "sheet")})
    mine = service.get("eva", f"/tenders/{t}/claims/{cid}?supplier=acme").json()
    assert mine["review_state"] == "accepted" and [r["decision"] for r in mine["reviews"]] == ["accepted"] and mine["version"] == 0
    theirs = service.get("eva", f"/tenders/{t}/claims/{cid}?supplier=globex").json()
    assert [r["decision"] for r in theirs["reviews"]] == ["rejected", "corrected"] and theirs["claim"]["category"] == "cost"
