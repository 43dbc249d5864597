"""The claim views the service keeps in memory (``api.viewcache``): never stale, whoever changes the data, and the
listing they serve is the one built from scratch. Also: concurrent decisions on one claim all land, in order."""

from __future__ import annotations

import json
import threading

from api.views import claim_views
from tests.api.service_kit import World


def _fresh_items(service: World, tender: str) -> list[dict]:
    """The tender's claim items built from the database now, bypassing the cache, as the API serializes them."""
    from api.schemas import ClaimItem

    eva = service.services.repo.authenticate(service.keys["eva"])
    owners = service.services.repo.owners(eva, tender_id=tender, roles=["submission"])
    return [json.loads(ClaimItem.model_validate(v.item()).model_dump_json()) for v in claim_views(service.services, owners, tender_id=tender)]


def test_viewcache_listing_equals_a_fresh_build_after_reviews(service: World) -> None:
    docs = service.flow()
    tender = service.tender
    cache = service.services.views
    first = service.get("eva", f"/tenders/{tender}/claims").json()
    assert first["data"] == _fresh_items(service, tender) and first["count"] == len(first["data"]) >= 5
    built = cache.stats["built"]
    assert service.get("eva", f"/tenders/{tender}/claims").json() == first  # served from memory
    assert cache.stats["built"] == built and cache.stats["hits"] >= 2

    # a decision and a correction: only those claims are re-read, and the listing shows them at once
    claims = [c["claim"] for c in first["data"] if c["claim"]["doc_id"] == docs["submission"]]
    r = service.post("eva", f"/tenders/{tender}/claims/{claims[0]['id']}/reviews", json={"decision": "accepted", "reason": "ok"})
    assert r.status_code == 201, r.text
    r = service.post("eva", f"/tenders/{tender}/claims/{claims[1]['id']}/reviews",
                     json={"decision": "corrected", "reason": "domain", "corrections": {"domain": "efficiency"}})
    assert r.status_code == 201, r.text
    after = service.get("eva", f"/tenders/{tender}/claims").json()
    assert cache.stats["built"] == built and cache.stats["patched"] >= 1
    assert after["data"] == _fresh_items(service, tender)
    states = {c["claim"]["id"]: (c["review_state"], c["version"], c["claim"]["domain"]) for c in after["data"]}
    assert states[claims[0]["id"]][0] == "accepted"
    assert states[claims[1]["id"]] == ("corrected", 1, "efficiency")
    assert service.get("eva", f"/tenders/{tender}/claims?domain=efficiency").json()["count"] >= 1
    assert service.get("eva", f"/tenders/{tender}/claims?review=accepted").json()["count"] == 1


def test_viewcache_sees_changes_made_outside_the_service(service: World, tmp_path) -> None:
    """Another process (a `vbp` command on the same database) removes support links, then deletes a document: the
    database's own triggers move the data revision, so the next listing is rebuilt, not served stale."""
    from api.store.repository import Store
    from api.store.service import evidence_context

    docs = service.flow()
    tender = service.tender
    listed = service.get("eva", f"/tenders/{tender}/claims").json()
    supported = next(c for c in listed["data"] if c["support_status"] == "supported")
    other = Store(service.settings.db_url, service.settings.files_dir)
    try:
        other.save_support_links(supported["claim"]["id"], [], context=evidence_context(tender, "acme", "submission"))
        now = {c["claim"]["id"]: c for c in service.get("eva", f"/tenders/{tender}/claims").json()["data"]}
        assert now[supported["claim"]["id"]]["support_status"] == "not_checked" and now[supported["claim"]["id"]]["stances"] == {}
        other.delete_document(docs["other"])
    finally:
        other.close()
    after = service.get("eva", f"/tenders/{tender}/claims").json()
    assert {c["claim"]["doc_id"] for c in after["data"]} == {docs["submission"]}
    assert after["data"] == _fresh_items(service, tender)


def test_viewcache_entries_are_per_tender_and_per_role(service: World) -> None:
    """A supplier sees its claims as extracted (no review state, no correction), however often evaluators look."""
    service.flow()
    tender = service.tender
    cid = service.get("eva", f"/tenders/{tender}/claims?supplier=acme").json()["data"][0]["claim"]["id"]
    assert service.post("eva", f"/tenders/{tender}/claims/{cid}/reviews",
                        json={"decision": "corrected", "reason": "r", "corrections": {"outcome": "changed"}}).status_code == 201
    staff = {c["claim"]["id"]: c for c in service.get("eva", f"/tenders/{tender}/claims").json()["data"]}
    own = {c["claim"]["id"]: c for c in service.get("acme-user", f"/tenders/{tender}/claims").json()["data"]}
    assert staff[cid]["claim"]["outcome"] == "changed" and staff[cid]["review_state"] == "corrected"
    assert own[cid]["claim"]["outcome"] != "changed" and own[cid]["review_state"] is None and own[cid]["version"] == 0
    assert all(c["supplier_id"] == "acme" for c in own.values())


def test_concurrent_corrections_of_one_claim_all_land_as_successive_versions(service: World) -> None:
    service.flow()
    tender = service.tender
    cid = service.get("eva", f"/tenders/{tender}/claims?supplier=acme").json()["data"][0]["claim"]["id"]
    eva = service.services.repo.authenticate(service.keys["eva"])
    from extractor.schema import Decision

    results, errors = [], []

    def correct(n: int) -> None:
        try:
            results.append(service.services.repo.add_review(eva, tender, cid, supplier_id="acme", decision=Decision.corrected,
                                                           reason=f"r{n}", corrections={"timepoint": f"t{n}"}))
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=correct, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r["version"] for r in results) == list(range(1, 13))
    audit = [e for e in service.get("admin", f"/audit?target_id={cid}&limit=100").json()["data"] if e["action"] == "claim.review"]
    assert sorted(e["before"]["version"] for e in audit) == list(range(12))  # each decision saw the one before it


def test_viewcache_claim_detail_is_kept_per_audience_and_follows_reviews(service: World) -> None:
    service.flow()
    tender = service.tender
    cid = service.get("eva", f"/tenders/{tender}/claims?supplier=acme").json()["data"][0]["claim"]["id"]
    url = f"/tenders/{tender}/claims/{cid}"
    staff, supplier = service.get("eva", url).json(), service.get("acme-user", url).json()
    assert service.get("eva", url).json() == staff and service.get("acme-user", url).json() == supplier  # served again
    assert staff["review_state"] == "pending" and supplier["review_state"] is None and supplier["reviews"] == []
    assert service.post("eva", f"{url}/reviews", json={"decision": "corrected", "reason": "r", "corrections": {"outcome": "x"}}).status_code == 201
    after, theirs = service.get("eva", url).json(), service.get("acme-user", url).json()
    assert after["review_state"] == "corrected" and after["version"] == 1 and after["claim"]["outcome"] == "x"
    assert [r["decision"] for r in after["reviews"]] == ["corrected"] and [v["version"] for v in after["versions"]] == [0, 1]
    assert theirs == supplier  # a supplier never sees the evaluators' work


def test_document_revisions_move_only_for_the_document_written(service: World) -> None:
    docs = service.flow()
    repo, store = service.services.repo, service.services.store
    ids = [docs["submission"], docs["other"], docs["paper"]]
    before, _ = repo.view_stamp(None, ids)
    assert all(v > 0 for v in before.values())
    from api.store.service import evidence_context

    claim = store.list_claims(docs["submission"])[0]
    store.save_support_links(claim.id, [], context=evidence_context(service.tender, "acme", "submission"))
    after, _ = repo.view_stamp(None, ids)
    assert after[docs["submission"]] > before[docs["submission"]]
    assert after[docs["other"]] == before[docs["other"]] and after[docs["paper"]] == before[docs["paper"]]
    store.delete_document(docs["other"])  # the cascade (claims, then their links) must not trip the triggers
    gone, _ = repo.view_stamp(None, ids)
    assert gone[docs["other"]] > after[docs["other"]] and gone[docs["submission"]] == after[docs["submission"]]
