"""Background jobs and durability: interrupted jobs resume or fail with a reason; nothing accepted is lost on restart."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import update

from api.store.models import JobRow
from tests.api.service_kit import OTHER_SUBMISSION, PAPER, SUBMISSION, KeywordStance, World


def _set(world: World, job_id: str, **values) -> None:
    with world.services.store.session() as s:
        s.execute(update(JobRow).where(JobRow.id == job_id).values(**values))


def test_service_jobs_a_crashed_job_resumes_at_the_next_start(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.standard_tender()
    job = world.upload("eva", "bid.md", SUBMISSION, role="submission", supplier="acme").json()
    _set(world, job["id"], status="running", attempts=1, stage="extract")  # as a crash (SIGKILL) mid-job leaves it
    world.close()

    again = World(tmp_path, keys=world.keys)  # same data folder: a restart
    try:
        seen = again.get("admin", f"/jobs/{job['id']}").json()
        assert seen["status"] == "queued" and "resumed after the server stopped during the 'extract' step" in seen["reason"]
        assert again.drain() == 1
        done = again.get("admin", f"/jobs/{job['id']}").json()
        assert done["status"] == "done" and done["attempts"] == 2 and done["reason"] == ""
        assert again.get("admin", f"/documents/{job['doc_id']}/claims").json()["count"] >= 3
    finally:
        again.close()


def test_service_jobs_a_job_that_keeps_crashing_the_server_is_failed(tmp_path: Path) -> None:
    world = World(tmp_path, service={"max_job_attempts": 2})
    world.standard_tender()
    job = world.upload("eva", "bid.md", SUBMISSION, role="submission", supplier="acme").json()
    _set(world, job["id"], status="running", attempts=2, stage="parse")
    world.close()

    again = World(tmp_path, keys=world.keys, service={"max_job_attempts": 2})
    try:
        seen = again.get("admin", f"/jobs/{job['id']}").json()
        assert seen["status"] == "failed" and seen["error_code"] == "interrupted"
        assert "stopped 2 times" in seen["reason"] and "Upload the file again" in seen["reason"]
        assert again.drain() == 0
        assert not any(again.settings.uploads_dir.iterdir())
    finally:
        again.close()


def test_service_jobs_nothing_accepted_is_lost_and_reviews_persist_across_restarts(tmp_path: Path) -> None:
    world = World(tmp_path)
    ids = world.flow()
    claim = world.get("eva", f"/documents/{ids['submission']}/claims").json()["data"][0]["claim"]
    assert world.post("eva", f"/tenders/{world.tender}/claims/{claim['id']}/reviews", json={"decision": "accepted", "reason": "ok"}).status_code == 201
    queued = world.upload("globex-user", "later.md", PAPER, role="paper").json()  # accepted, not yet run
    world.close()

    again = World(tmp_path, keys=world.keys)
    try:
        assert again.get("eva", f"/tenders/{world.tender}/claims/{claim['id']}/reviews").json()["data"][0]["reason"] == "ok"
        assert again.get("admin", f"/jobs/{queued['id']}").json()["status"] == "queued"
        assert again.drain() == 1
        assert again.get("admin", f"/jobs/{queued['id']}").json()["status"] == "done"
    finally:
        again.close()


def test_service_jobs_an_encrypted_upload_does_not_outlive_its_password(tmp_path: Path) -> None:
    from tests.api.test_service_uploads import _pdf

    world = World(tmp_path)
    world.standard_tender()
    r = world.upload("eva", "locked.pdf", _pdf(text="Infections fell by 20%.", password="pw"), role="submission", supplier="acme",
                     password="pw")
    assert r.status_code == 202
    world.close()  # restart before the job ran: the password lived in memory only

    again = World(tmp_path, keys=world.keys)
    try:
        job = again.get("admin", f"/jobs/{r.json()['id']}").json()
        assert job["status"] == "failed" and job["error_code"] == "password_required" and "Upload the file again with its password" in job["reason"]
    finally:
        again.close()


def test_service_jobs_orphan_upload_files_are_removed_at_start(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.close()
    uploads = world.settings.uploads_dir
    (uploads / "job-deadbeefdeadbeef").mkdir(parents=True)
    (uploads / "job-deadbeefdeadbeef" / "a.pdf").write_bytes(b"%PDF-1.7")  # written, but the job was never recorded (a crash)
    (uploads / ".partial-0011223344556677").write_bytes(b"half an upl")
    again = World(tmp_path, keys=world.keys)
    try:
        assert list(uploads.iterdir()) == []
    finally:
        again.close()


class _Gate(KeywordStance):
    """A stance classifier that waits until released: holds a job in its 'support' step."""

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()

    def predict(self, claim, passages):
        self.entered.set()
        self.release.wait(10)
        return super().predict(claim, passages)


def test_service_jobs_a_clean_stop_requeues_the_running_job(tmp_path: Path) -> None:
    gate = _Gate()
    world = World(tmp_path, classifier=gate)
    world.standard_tender()
    world.ingest("eva", "paper.md", PAPER, role="paper", supplier="acme")
    job = world.upload("eva", "bid.md", SUBMISSION, role="submission", supplier="acme").json()
    runner = world.services.jobs
    runner.start()
    assert gate.entered.wait(10)
    requeued = runner.stop(grace_s=0.2)  # the step does not finish in time
    assert requeued == [job["id"]]
    seen = world.get("admin", f"/jobs/{job['id']}").json()
    assert seen["status"] == "queued" and seen["attempts"] == 0 and "stopped during the 'support' step" in seen["reason"]
    gate.release.set()  # the abandoned step ends; it must not mark the re-queued job done
    deadline = time.monotonic() + 10
    while runner._running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert world.get("admin", f"/jobs/{job['id']}").json()["status"] == "queued"
    assert (world.settings.uploads_dir / job["id"]).is_dir()  # its file waits for the next start
    world.close()

    again = World(tmp_path, keys=world.keys)
    try:
        assert again.drain() == 1
        assert again.get("admin", f"/jobs/{job['id']}").json()["status"] == "done"
    finally:
        again.close()


def test_service_jobs_run_on_worker_threads(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        world.standard_tender()
        world.services.jobs.start()
        job = world.upload("eva", "bid.md", SUBMISSION, role="submission", supplier="acme").json()
        deadline = time.monotonic() + 30
        while world.get("eva", f"/jobs/{job['id']}").json()["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert world.get("eva", f"/jobs/{job['id']}").json()["status"] == "done"
    finally:
        world.close()


class _DiesAtTheStop:
    """A stance step whose child process is ended by a stop: the stop re-queues the job, then the step raises."""

    name = "fake.dies"

    def __init__(self) -> None:
        self.world: World | None = None

    def predict(self, claim, passages):
        runner = self.world.services.jobs
        [job_id] = list(runner._running)
        assert self.world.services.repo.requeue_job(job_id, note="the server stopped", count_attempt=False)
        raise BrokenPipeError("the compute process was ended")


def test_service_jobs_a_step_cut_short_by_the_stop_is_not_logged_as_failed(tmp_path: Path, caplog) -> None:
    dies = _DiesAtTheStop()
    world = World(tmp_path, classifier=dies)
    dies.world = world
    try:
        world.standard_tender()
        world.ingest("eva", "paper.md", PAPER, role="paper", supplier="acme")
        job = world.upload("eva", "bid.md", SUBMISSION, role="submission", supplier="acme").json()
        with caplog.at_level("INFO", logger="api.jobs"):
            world.drain()
        assert world.get("admin", f"/jobs/{job['id']}").json()["status"] == "queued"
        said = [r.getMessage() for r in caplog.records if job["id"] in r.getMessage()]
        assert said and not [m for m in said if "failed" in m], said
        assert any("stays queued for the next start" in m for m in said)
    finally:
        world.close()


def test_service_jobs_claims_waiting_on_a_job_are_pending_until_it_has_run(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        world.standard_tender()
        sub = world.ingest("eva", "acme-submission.md", SUBMISSION, role="submission", supplier="acme")
        world.ingest("globex-user", "globex-submission.md", OTHER_SUBMISSION, role="submission")
        url = f"/tenders/{world.tender}/claims?supplier=acme"
        before = {c["verdict"] for c in world.get("eva", url).json()["data"]}
        assert "pending" not in before and "not_checked" in before  # the paper it cites was never supplied
        queued = world.upload("eva", "acme-trial.md", PAPER, role="paper", supplier="acme")
        assert queued.status_code == 202
        waiting = world.get("eva", url).json()["data"]
        unlinked = [c for c in waiting if c["verdict"] != "supported" and not c["stances"]]
        assert unlinked and all(c["verdict"] == "pending" for c in unlinked)  # a paper of acme's is on its way
        detail = world.get("eva", f"/tenders/{world.tender}/claims/{unlinked[0]['claim']['id']}").json()
        assert detail["verdict_reason"].startswith("Pending: still being processed")
        sheet = world.get("eva", f"/tenders/{world.tender}/worksheet?supplier=acme").json()
        assert "pending" in str(sheet)
        other = {c["verdict"] for c in world.get("globex-user", f"/tenders/{world.tender}/claims").json()["data"]}
        assert other and "pending" not in other  # another party's job says nothing about globex's claims
        world.drain()
        after = {c["verdict"] for c in world.get("eva", url).json()["data"]}
        assert "pending" not in after and sub["doc_id"]
    finally:
        world.close()
