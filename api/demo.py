"""`vbp serve --demo`: a demo tender built from the bundled corpus on first start, and fresh demo keys on every start.

The first start creates the tender "Demo: bundled corpus", one supplier per corpus submission (from the front
matter of the manifest row's Markdown ``source``, so that a supplier's several files share one supplier), queues
each of the manifest's submissions whose ``demo`` column is not ``no`` and the papers it cites for ingest, and creates
three demo users: an admin, an evaluator assigned to the tender, and one supplier. A cited paper is either a path
relative to ``corpus/`` (the project's fictional trial reports, ``papers/<id>.pdf``: manifest rows of kind
``clinical_paper``, staged only as papers of the suppliers that cite them), or the name of a public paper in
``papers`` (``../shared/data/pdfs``), staged when that folder is beside the repo. A Word or PDF version of the same
submission must not both be in the demo (duplicate claims): the manifest marks one of them ``demo=no``. Every start
issues new keys for those users and revokes their old ones: no key is fixed, none is stored in clear.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from api.store.service import SYSTEM

log = logging.getLogger(__name__)

DEMO_REFERENCE = "DEMO-CORPUS"
DEMO_USERS = ("demo-admin", "demo-evaluator")
PAPER_KIND = "clinical_paper"
"""The manifest ``kind`` of the project's fictional trial reports: staged as papers of the suppliers that cite them."""


@dataclass
class DemoInfo:
    tender_id: str
    created: bool
    keys: dict[str, str] = field(default_factory=dict)  # user name -> key, fresh this start
    supplier: str = ""
    queued: int = 0
    skipped: list[str] = field(default_factory=list)


def _supplier(md: Path) -> tuple[str, str]:
    """``(slug, name)`` from a corpus submission's front matter (``supplier: Ashgrove Diagnostics Ltd``)."""
    name = md.stem
    if md.exists():
        m = re.search(r"^supplier:\s*(.+)$", md.read_text(encoding="utf-8"), re.MULTILINE)
        if m:
            name = m.group(1).strip()
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"\b(ltd|limited|plc)\b\.?", "", name.lower())).strip("-")[:63] or md.stem[:63]
    return slug, name


def _cited_paper(cited: str, *, corpus: Path, papers: Path | None) -> Path | None:
    """The file of a manifest ``cites`` entry: a path relative to ``corpus`` (the project's own fictional trial reports),
    else a public paper's name in ``papers``; None when neither exists."""
    own = corpus / cited
    if own.is_file():
        return own
    if papers is not None and (papers / cited).is_file():
        return papers / cited
    return None


def seed_demo(services, *, corpus: Path, papers: Path | None = None) -> DemoInfo:
    """Create the demo tender and queue the corpus on first start; issue fresh demo keys on every start.

    Args:
        services: The app's services.
        corpus: The ``corpus/`` folder (with ``manifest.csv``, ``submissions/`` and ``papers/``).
        papers: Folder holding the public papers the submissions cite (``../shared/data/pdfs``), if present; a cited
            paper that lies in ``corpus`` (``papers/<id>.pdf``) is staged from there.
    """
    from api.uploads import stage_file

    repo = services.repo
    existing = [t for t in repo.list_tenders(SYSTEM) if t["reference"] == DEMO_REFERENCE]
    with (corpus / "manifest.csv").open(encoding="utf-8") as fh:
        rows = [row for row in csv.DictReader(fh) if (row.get("demo") or "yes").strip().lower() != "no"
                and (row.get("kind") or "").strip() != PAPER_KIND]  # a paper is staged for the suppliers citing it
    suppliers = [(row, *_supplier(corpus / (row.get("source") or Path(row["path"]).with_suffix(".md")))) for row in rows]
    if existing:
        info = DemoInfo(tender_id=existing[0]["id"], created=False)
    else:
        tender = repo.create_tender("Demo: bundled corpus", reference=DEMO_REFERENCE, actor=SYSTEM)
        info = DemoInfo(tender_id=tender["id"], created=True)
        staged: set[tuple[str, Path]] = set()
        for row, slug, name in suppliers:
            repo.add_tender_supplier(info.tender_id, slug, name=name, actor=SYSTEM)
            stage_file(services, SYSTEM, corpus / row["path"], tender_id=info.tender_id, supplier_id=slug, role="submission")
            info.queued += 1
            for cited in filter(None, (c.strip() for c in (row.get("cites") or "").split(";"))):
                source = _cited_paper(cited, corpus=corpus, papers=papers)
                if source is None:
                    info.skipped.append(cited)
                    continue
                if (slug, source) in staged:  # a supplier's two files citing one paper: the paper is staged once
                    continue
                stage_file(services, SYSTEM, source, tender_id=info.tender_id, supplier_id=slug, role="paper")
                staged.add((slug, source))
                info.queued += 1
    supplier_slug = next((slug for row, slug, _ in suppliers if row.get("cites")), suppliers[0][1] if suppliers else "")
    info.supplier = supplier_slug
    known = {u["name"]: u for u in repo.list_users()}
    wanted = {"demo-admin": ("admin", None), "demo-evaluator": ("evaluator", None), f"demo-{supplier_slug}": ("supplier", supplier_slug)}
    for name, (role, supplier) in wanted.items():
        user = known.get(name)
        if user is None or not user["active"]:
            if user is not None:  # revoked since the last start: a new name keeps the audit trail unambiguous
                continue
            _, key = repo.create_user(name, role, supplier_id=supplier, actor=SYSTEM)
        else:
            key = repo.issue_key(user["id"], actor=SYSTEM, revoke_others=True)
        info.keys[name] = key
        if role == "evaluator":
            repo.assign_evaluator(info.tender_id, name, actor=SYSTEM)
    return info
