"""Durability of the real server (slow tier): `vbp serve` in a subprocess, SIGTERM in the middle of ingesting, restart.

No accepted upload and no review decision may be lost; every job ends done, or failed with its reason.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.service_kit import SUBMISSION

pytestmark = pytest.mark.slow

PAPERS = ["bmcmed2014_LIMIT_antenatal_diet_lifestyle_RCT.pdf", "bmjopen2016_GoActive_pilot_cluster_RCT_adolescent_activity.pdf",
          "diabetescare2016_PMC5079604_metformin_sitagliptin_remission_RCT.pdf", "kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir, self.log, self.port = data_dir, log, _free_port()
        self.env = {**os.environ, "VBP_DATA_DIR": str(data_dir), "VBP_WORKERS": "1", "VBP_SERVICE__SHUTDOWN_GRACE_S": "2"}
        self.proc: subprocess.Popen | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, check=False, env=self.env, timeout=120)

    def start(self) -> httpx.Client:
        with self.log.open("ab") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(self.port)], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)
        client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if client.get("/health").status_code == 200:
                    return client
            except httpx.TransportError:
                time.sleep(0.2)
            assert self.proc.poll() is None, self.log.read_text()
        raise AssertionError("the server did not start:\n" + self.log.read_text())

    def terminate(self) -> None:
        """SIGTERM, and check the server shut down cleanly (uvicorn re-raises the signal once it has, hence -15)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=90)
        log = self.log.read_text()
        assert code in (0, -signal.SIGTERM), log[-3000:]
        assert log.count("Application shutdown complete.") == log.count("Application startup complete."), log[-3000:]

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def _wait_jobs(client: httpx.Client, headers: dict, timeout: float = 300) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = client.get("/jobs", headers=headers).json()["data"]
        if all(j["status"] in ("done", "failed") for j in jobs) or time.monotonic() > deadline:
            return jobs
        time.sleep(0.5)


def test_service_restart_sigterm_mid_ingest_loses_nothing(tmp_path: Path, shared_pdfs: Path) -> None:
    server = Server(tmp_path / "data", tmp_path / "server.log")
    admin = json.loads(server.cli("user", "add", "admin", "--role", "admin", "--json").stdout)["key"]
    h = {"Authorization": f"Bearer {admin}"}
    try:
        client = server.start()
        tender = client.post("/tenders", json={"title": "Restart"}, headers=h).json()["id"]
        client.post(f"/tenders/{tender}/suppliers", json={"supplier": "acme"}, headers=h)
        first = client.post(f"/tenders/{tender}/documents", params={"role": "submission", "supplier": "acme"}, headers=h,
                            files={"file": ("bid.md", SUBMISSION.encode())}).json()
        _wait_jobs(client, h)
        claims = client.get(f"/tenders/{tender}/claims", headers=h).json()["data"]
        assert claims, client.get(f"/jobs/{first['id']}", headers=h).json()
        review = client.post(f"/tenders/{tender}/claims/{claims[0]['claim']['id']}/reviews", headers=h,
                             json={"decision": "rejected", "reason": "no source for this figure"})
        assert review.status_code == 201
        accepted = []
        for name in PAPERS:
            r = client.post(f"/tenders/{tender}/documents", params={"role": "paper", "supplier": "acme"}, headers=h,
                            files={"file": (name, (shared_pdfs / name).read_bytes(), "application/pdf")})
            assert r.status_code == 202, r.text
            accepted.append(r.json()["id"])
        deadline = time.monotonic() + 120  # SIGTERM while a job is in the middle of its steps
        while not any(j["status"] == "running" and j["id"] in accepted for j in client.get("/jobs", headers=h).json()["data"]):
            assert time.monotonic() < deadline, "no job started"
            time.sleep(0.05)
        client.close()
        server.terminate()

        with sqlite3.connect(tmp_path / "data" / "vbp.sqlite3") as db:  # what the stopped server left behind
            states = dict(db.execute("SELECT id, status FROM jobs").fetchall())
        assert set(accepted) <= set(states)  # every accepted upload is recorded
        assert "running" not in states.values()  # a clean stop re-queues the running job
        assert any(states[j] == "queued" for j in accepted), "SIGTERM came after every job had finished; nothing was interrupted"
        for job_id in accepted:
            if states[job_id] == "queued":
                assert any((tmp_path / "data" / "uploads" / job_id).iterdir())  # its file waits for the next start

        client = server.start()
        jobs = {j["id"]: j for j in _wait_jobs(client, h)}
        for job_id in accepted:
            job = jobs[job_id]
            assert job["status"] in ("done", "failed"), job
            assert job["status"] == "done" or job["reason"], job
        reviews = client.get(f"/tenders/{tender}/claims/{claims[0]['claim']['id']}/reviews", headers=h).json()["data"]
        assert [(r["decision"], r["reason"]) for r in reviews] == [("rejected", "no source for this figure")]
        assert client.get("/audit?action=claim.review", headers=h).json()["count"] == 1
        client.close()
        server.terminate()
    finally:
        server.kill()
    log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]
