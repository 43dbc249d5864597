"""What the HTTP service tests share: a real app on a real SQLite database in a temp dir, driven through TestClient.

The fast tier swaps in an in-memory passage index (hashing embedder) and a keyword stance classifier, the way the
API tests are meant to (``create_app(searcher=..., classifier=...)``); the slow tier runs the real Chroma index,
embedder and classifier on real PDFs. Jobs run synchronously with ``World.drain()``: no sleeps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from extractor.schema import Stance

SUBMISSION = """# Acme foam dressing: value proposition

## Clinical outcomes

In a randomised trial, the Acme foam dressing reduced surgical site infection from 11% to 6% compared with gauze [1].

Patients treated with the Acme foam dressing stayed 1.2 days less in hospital than those treated with gauze [1].

The Acme dressing is the most innovative dressing on the market.

## Whole-life cost

The Acme dressing saves £120 per patient compared with gauze at 2024/25 prices.

## References

1. Smith J, Jones K. Acme foam dressing versus gauze for closed surgical wounds: a randomised controlled trial. BMJ 2021;372:n100.
2. Acme Medical. Dressing cost model, version 3. Data on file, 2025.
"""

PAPER = """# Acme foam dressing versus gauze for closed surgical wounds: a randomised controlled trial

## Abstract

We randomised 400 adults after elective surgery to the Acme foam dressing or gauze.

## Results

Surgical site infection occurred in 12 of 200 patients (6%) with the Acme foam dressing and 22 of 200 patients (11%) with gauze.

Length of hospital stay was 1.2 days shorter with the Acme foam dressing (95% CI 0.4 to 2.0).
"""

OTHER_SUBMISSION = """# Globex catheter: value proposition

## Outcomes

The Globex catheter reduced phlebitis by 30% compared with standard cannulas in a multicentre audit.

The Globex catheter cut insertion time by 2 minutes per patient.
"""


@dataclass
class _Prediction:
    stance: Stance
    score: float


class KeywordStance:
    """A stance classifier double: a passage sharing most of the claim's words supports it. Loads no model."""

    name = "fake.stance.v1"

    def predict(self, claim: str, passages: Sequence[str]) -> list[_Prediction]:
        words = set(re.findall(r"[a-z]{4,}", claim.lower()))
        out = []
        for text in passages:
            overlap = len(words & set(re.findall(r"[a-z]{4,}", text.lower()))) / max(1, len(words))
            out.append(_Prediction(Stance.supports if overlap >= 0.4 else Stance.not_enough_info, round(min(1.0, 0.3 + overlap), 3)))
        return out


def memory_searcher():
    from retrieval.bm25 import BM25Index
    from retrieval.index import MemoryPassageIndex
    from retrieval.search import HybridSearcher
    from tests.retrieval import FakeEmbedder

    return HybridSearcher(dense=MemoryPassageIndex(FakeEmbedder()), bm25=BM25Index(None))


class World:
    """A running app (lifespan entered), its services, and API keys by user name.

    Users made by :meth:`standard_tender`: ``admin``; ``eva`` (evaluator, assigned); ``otto`` (evaluator, not assigned);
    ``acme-user`` and ``globex-user`` (suppliers ``acme`` and ``globex``, both bidding in the tender).
    """

    def __init__(self, tmp_path: Path, *, real: bool = False, classifier=None, keys: dict[str, str] | None = None, **settings) -> None:
        from api.app import create_app
        from api.settings import Settings

        self.data_dir = tmp_path / "data"
        self.settings = Settings(data_dir=self.data_dir, **{"workers": 0, **settings})
        searcher = None if real else memory_searcher()
        classifier = classifier if classifier is not None or real else KeywordStance()
        self.app = create_app(self.settings, searcher=searcher, classifier=classifier, start_jobs=False)
        self.services = self.app.state.services
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.client.__enter__()
        self.keys: dict[str, str] = dict(keys or {})  # a restart on the same data folder keeps the keys it was given
        self.users: dict[str, dict] = {u["name"]: u for u in self.services.repo.list_users()}
        if "admin" not in self.users:
            self.add_user("admin", "admin")
        self.tender: str | None = None
        self.files = tmp_path / "files"
        self.files.mkdir(exist_ok=True)

    def close(self) -> None:
        self.client.__exit__(None, None, None)

    # --- people and tenders -------------------------------------------------------------------

    def add_user(self, name: str, role: str, supplier: str | None = None) -> str:
        user, key = self.services.repo.create_user(name, role, supplier_id=supplier)
        self.keys[name], self.users[name] = key, user
        return key

    def h(self, who: str | None) -> dict[str, str]:
        """Headers of a request made as ``who`` (None: no key)."""
        return {"Authorization": f"Bearer {self.keys[who]}"} if who else {}

    def get(self, who: str | None, url: str, **kw):
        return self.client.get(url, headers=self.h(who), **kw)

    def post(self, who: str | None, url: str, **kw):
        return self.client.post(url, headers={**self.h(who), **kw.pop("headers", {})}, **kw)

    def standard_tender(self) -> str:
        t = self.post("admin", "/tenders", json={"title": "Wound care 2026", "reference": "NHSSC-2026-041"})
        assert t.status_code == 201, t.text
        self.tender = t.json()["id"]
        for supplier in ("acme", "globex"):
            assert self.post("admin", f"/tenders/{self.tender}/suppliers", json={"supplier": supplier, "name": supplier.title()}).status_code == 201
            self.add_user(f"{supplier}-user", "supplier", supplier)
        self.add_user("eva", "evaluator")
        self.add_user("otto", "evaluator")
        assert self.post("admin", f"/tenders/{self.tender}/evaluators", json={"user": "eva"}).status_code == 201
        return self.tender

    # --- uploads and jobs ---------------------------------------------------------------------

    def upload(self, who: str, name: str, content: bytes | str | Path, *, role: str, supplier: str | None = None,
               tender: str | None = None, password: str | None = None, content_type: str = "application/octet-stream"):
        data = Path(content).read_bytes() if isinstance(content, Path) else content.encode() if isinstance(content, str) else content
        params = {"role": role, **({"supplier": supplier} if supplier else {})}
        form = {"password": password} if password else None
        return self.client.post(f"/tenders/{tender or self.tender}/documents", params=params, headers=self.h(who),
                                files={"file": (name, data, content_type)}, data=form)

    def drain(self) -> int:
        return self.services.jobs.drain()

    def ingest(self, who: str, name: str, content, *, role: str, supplier: str | None = None) -> dict:
        """Upload and run the job; return the finished job."""
        r = self.upload(who, name, content, role=role, supplier=supplier)
        assert r.status_code == 202, r.text
        self.drain()
        job = self.get("admin", f"/jobs/{r.json()['id']}").json()
        assert job["status"] == "done", job
        return job

    def flow(self) -> dict:
        """A tender with acme's submission and the paper it cites, and globex's submission, all ingested."""
        self.standard_tender()
        paper = self.ingest("eva", "acme-trial.md", PAPER, role="paper", supplier="acme")
        sub = self.ingest("eva", "acme-submission.md", SUBMISSION, role="submission", supplier="acme")
        other = self.ingest("globex-user", "globex-submission.md", OTHER_SUBMISSION, role="submission")
        return {"paper": paper["doc_id"], "submission": sub["doc_id"], "other": other["doc_id"]}
