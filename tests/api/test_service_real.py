"""The service on the real parts (slow tier): real PDFs, the real Chroma index and MiniLM embedder, the shipped stance
classifier, real SQLite, all in temp dirs, through TestClient."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.api.service_kit import World
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow

STENT = CORPUS / "submissions" / "harbour-lane-drug-eluting-stent.pdf"
GENOSS = "kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf"


@pytest.fixture()
def real(tmp_path: Path):
    from extractor.errors import ConfigError

    try:
        from retrieval.support import get_stance_classifier

        get_stance_classifier()
    except (ImportError, ConfigError) as e:
        pytest.skip(f"the shipped stance classifier is not available here: {e}")
    world = World(tmp_path, real=True, workers=1)  # parse in a worker process, as `vbp serve` does
    yield world
    world.close()


def test_service_real_evaluator_flow(real: World, shared_pdfs: Path) -> None:
    tender = real.standard_tender()
    paper = real.upload("eva", GENOSS, shared_pdfs / GENOSS, role="paper", supplier="acme")
    sub = real.upload("eva", STENT.name, STENT, role="submission", supplier="acme")
    assert paper.status_code == sub.status_code == 202, (paper.text, sub.text)
    assert real.drain() == 2
    job = real.get("eva", f"/jobs/{sub.json()['id']}").json()
    assert job["status"] == "done", job
    assert job["result"]["pages"] == 3 and job["result"]["claims"] >= 20 and job["result"]["links"] > 0

    claims = real.get("eva", f"/tenders/{tender}/claims").json()
    assert claims["count"] == job["result"]["claims"]
    cited = [c for c in claims["data"] if c["claim"]["citations"] and c["stances"]]
    assert cited, "claims citing the trial must be checked against it"
    detail = real.get("eva", f"/tenders/{tender}/claims/{cited[0]['claim']['id']}").json()
    assert any(lk["passage"]["doc_id"] == paper.json()["doc_id"] and lk["link"]["cited"] for lk in detail["links"])
    hits = real.get("eva", "/search", params={"q": "late lumen loss at 9 months", "tender_id": tender}).json()["data"]
    assert hits and hits[0]["doc_id"] in {paper.json()["doc_id"], job["doc_id"]}

    cid = cited[0]["claim"]["id"]
    assert real.post("eva", f"/tenders/{tender}/claims/{cid}/reviews", json={"decision": "accepted", "reason": "matches the trial"}).status_code == 201
    ws = real.get("eva", f"/tenders/{tender}/worksheet?supplier=acme").json()
    assert ws["summary"]["claims"] == claims["count"] and ws["summary"]["by_review_state"]["accepted"] == 1
    assert sum(ws["summary"]["by_support_status"].get(s, 0) for s in ("supported", "contradicted", "supported_other_source")) >= 1
    rows = list(csv.DictReader(io.StringIO(real.get("eva", f"/tenders/{tender}/worksheet?supplier=acme&format=csv").text)))
    assert len(rows) == claims["count"]
    assert "Genoss" in real.get("eva", f"/tenders/{tender}/worksheet?supplier=acme&format=html").text


def test_service_real_supplier_precheck(real: World, shared_pdfs: Path) -> None:
    tender = real.standard_tender()
    real.ingest("acme-user", GENOSS, shared_pdfs / GENOSS, role="paper")
    draft = real.ingest("acme-user", STENT.name, STENT, role="draft")
    report = real.get("acme-user", f"/tenders/{tender}/documents/{draft['doc_id']}/precheck").json()
    assert report["summary"]["claims"] == draft["result"]["claims"]
    assert report["readiness"]["verdict"] in ("not_ready", "ready_with_warnings")
    kinds = {g["kind"]: g["count"] for g in report["groups"]}
    assert kinds["empty_domain"] + kinds["no_source"] + kinds["marketing_only"] + kinds["numeric_mismatch"] > 0
    # the other supplier cannot pre-check (or even see) it
    assert real.get("globex-user", f"/tenders/{tender}/documents/{draft['doc_id']}/precheck").status_code == 404


@pytest.mark.issue(16)
def test_service_real_a_rivals_identical_draft_changes_no_claim_status(real: World, shared_pdfs: Path) -> None:
    """The incident of issue 16 on the real parts: a rival uploads a byte-identical copy of a submission as its private
    draft; the evaluator's view of the genuine supplier's claims (statuses, stances, links) stays exactly as it was."""
    tender = real.standard_tender()
    real.ingest("eva", GENOSS, shared_pdfs / GENOSS, role="paper", supplier="acme")
    sub = real.ingest("eva", STENT.name, STENT, role="submission", supplier="acme")

    def seen() -> tuple[bytes, dict[str, bytes]]:
        listing = real.get("eva", f"/tenders/{tender}/claims?supplier=acme")
        assert listing.status_code == 200
        links = {c["claim"]["id"]: real.get("eva", f"/claims/{c['claim']['id']}/links?tender_id={tender}&supplier=acme").content
                 for c in listing.json()["data"]}
        return listing.content, links

    before = seen()
    statuses = {c["support_status"] for c in real.get("eva", f"/tenders/{tender}/claims?supplier=acme").json()["data"]}
    assert statuses - {"not_checked"}, "the genuine submission must have been checked against its paper"
    rival = real.ingest("globex-user", "our-draft.pdf", STENT, role="draft")
    assert rival["doc_id"] == sub["doc_id"]
    assert seen() == before
    drafted = real.get("globex-user", f"/tenders/{tender}/claims?role=draft").json()["data"]
    assert drafted and {c["support_status"] for c in drafted} == {"not_checked"}  # the rival uploaded no paper
