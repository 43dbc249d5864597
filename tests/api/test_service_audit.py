"""The audit trail: every action with who, what, when, before and after; append-only down to the database; exportable."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.api.service_kit import World


def test_service_audit_records_every_action(service: World) -> None:
    ids = service.flow()
    claim = service.get("eva", f"/documents/{ids['submission']}/claims").json()["data"][0]["claim"]
    service.post("eva", f"/tenders/{service.tender}/claims/{claim['id']}/reviews",
                 json={"decision": "corrected", "reason": "it is a cost claim", "corrections": {"category": "cost", "domain": "whole_life_cost"}})
    service.post("admin", f"/users/{service.users['otto']['id']}/revoke")
    events = service.get("admin", "/audit?limit=1000").json()["data"]
    actions = [e["action"] for e in events]
    for action in ("user.create", "tender.create", "supplier.create", "tender.supplier_add", "tender.evaluator_add", "document.upload",
                   "job.done", "claim.review", "user.revoke"):
        assert action in actions, action
    review = next(e for e in events if e["action"] == "claim.review")
    assert review["actor"] == "eva" and review["actor_role"] == "evaluator" and review["tender_id"] == service.tender
    assert review["target_type"] == "claim" and review["target_id"] == claim["id"] and review["request_id"]
    assert review["before"] == {"review_state": "pending", "version": 0,
                                "fields": {"category": claim["category"], "domain": claim["domain"]}}
    assert review["after"] == {"review_state": "corrected", "version": 1, "reason": "it is a cost claim", "supplier_id": "acme",
                               "fields": {"category": "cost", "domain": "whole_life_cost"}}
    revoke = next(e for e in events if e["action"] == "user.revoke")
    assert revoke["before"]["active"] is True and revoke["after"]["active"] is False
    upload = next(e for e in events if e["action"] == "document.upload")
    assert upload["after"]["filename"] == "acme-trial.md" and upload["after"]["role"] == "paper"
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert all(e["at"].endswith("Z") or e["at"].endswith("+00:00") for e in events)
    assert not any(service.keys[u] in json.dumps(events) for u in service.keys)  # keys never reach the trail


def test_service_audit_is_append_only_in_the_database(service: World) -> None:
    ids = service.flow()
    claim = service.get("eva", f"/documents/{ids['submission']}/claims").json()["data"][0]["claim"]
    service.post("eva", f"/tenders/{service.tender}/claims/{claim['id']}/reviews", json={"decision": "accepted", "reason": "ok"})
    service.post("eva", f"/tenders/{service.tender}/claims/{claim['id']}/reviews",
                 json={"decision": "corrected", "reason": "wording", "corrections": {"outcome": "infection"}})
    engine = service.services.store.engine
    for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events",
                      "UPDATE review_decisions SET decision = 'rejected'", "DELETE FROM review_decisions",
                      "UPDATE claim_versions SET version = 7", "DELETE FROM claim_versions"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert service.get("eva", f"/tenders/{service.tender}/claims/{claim['id']}/reviews").json()["count"] == 2


def test_service_audit_scopes_and_filters(service: World) -> None:
    service.flow()
    other = service.post("admin", "/tenders", json={"title": "Beds"}).json()["id"]
    mine = service.get("eva", "/audit?limit=1000").json()["data"]
    assert mine and {e["tender_id"] for e in mine} == {service.tender}
    assert not any(e["target_id"] == other for e in mine)
    assert service.get("otto", "/audit").json() == {"data": [], "count": 0}
    assert service.get("acme-user", "/audit").status_code == 403
    uploads = service.get("admin", "/audit?action=document.upload").json()
    assert uploads["count"] == 3 and {e["actor"] for e in uploads["data"]} == {"eva", "globex-user"}
    page = service.get("admin", "/audit?limit=2&offset=1").json()
    assert len(page["data"]) == 2 and page["count"] > 2
    assert service.get("admin", "/audit?since=2999-01-01T00:00:00Z").json()["count"] == 0
    first = page["data"][0]
    since = service.get("admin", "/audit", params={"since": first["at"]}).json()
    assert 0 < since["count"] < page["count"] + 1 and since["data"][0]["at"] >= first["at"]
    assert service.get("admin", "/audit", params={"since": "2000-01-01T01:00:00+01:00"}).json()["count"] == page["count"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_service_audit_export(service: World, fmt: str) -> None:
    service.flow()
    expected = service.get("admin", "/audit?limit=1000").json()["data"]
    r = service.get("admin", f"/audit/export?format={fmt}")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    if fmt == "jsonl":
        rows = [json.loads(line) for line in r.text.splitlines()]
        assert [row["action"] for row in rows] == [e["action"] for e in expected] + ["audit.export"]  # the export records itself first
        assert rows[0]["at"] == expected[0]["at"].replace("Z", "+00:00")
    else:
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [row["id"] for row in rows][:-1] == [str(e["id"]) for e in expected] and rows[-1]["action"] == "audit.export"
        assert json.loads(rows[-2]["after"] or "null") == expected[-1]["after"]
    exports = service.get("admin", "/audit?action=audit.export").json()["data"]
    assert exports and exports[-1]["after"]["format"] == fmt  # reading the trail out is itself recorded
