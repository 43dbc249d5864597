"""The repository: opens the database, runs migrations, and stores and reads Documents.

Every write is one transaction: a document is stored whole (row, pages, passages) or not at
all, so a failure mid-ingest never leaves a half-written record.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, delete, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.store.models import ClaimRow, DocumentRow, IngestEventRow, PageRow, PassageRow, SupportLinkRow
from extractor.errors import ConfigError, NotFoundError
from extractor.schema import SCHEMA_VERSION, Claim, Document, IngestStatus, Page, Passage, Span, SupportLink

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - exercised by every test
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def upgrade(engine: Engine) -> None:
    """Bring the database schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """Documents and everything derived from them, in one SQL database plus a folder of source files."""

    def __init__(self, url: str, files_dir: Path | None = None, *, migrate: bool = True) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # SQLite connections are cheap to hold and costly to open (the pragmas): keep one per concurrent thread rather than
        # opening and closing overflow connections under load
        pool = {"pool_size": 32, "max_overflow": 32} if url.startswith("sqlite:///") and url != "sqlite:///:memory:" else {}
        try:
            self.engine = create_engine(url, future=True, **pool)
        except Exception as e:  # noqa: BLE001 - a malformed URL
            raise ConfigError(f"cannot open the database URL {url!r}: {e}", hint="Check VBP_DATABASE_URL.", original=e) from e
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.files_dir = files_dir
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            upgrade(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with self._sessions.begin() as s:
            yield s

    def close(self) -> None:
        self.engine.dispose()

    # --- documents ----------------------------------------------------------------------------

    def has_document(self, doc_id: str) -> bool:
        with self.session() as s:
            return s.get(DocumentRow, doc_id) is not None

    def save_document(self, doc: Document, source: Path | None = None) -> IngestStatus:
        """Store a parsed document with its pages and passages, once.

        Re-ingesting the same bytes (same id) changes nothing and returns ``unchanged``; a
        user-set kind on the new call is applied, though.
        """
        with self.session() as s:
            existing = s.get(DocumentRow, doc.id)
            if existing is not None:
                if doc.kind_source == "user" and existing.kind != doc.kind.value:
                    existing.kind, existing.kind_source = doc.kind.value, "user"
                return IngestStatus.unchanged
            stored_path = self._keep_file(doc.id, source) if source is not None else None
            try:
                s.add(_document_row(doc, stored_path, source))
                s.flush()  # parent first: pages and passages reference it
                s.add_all(PageRow(doc_id=doc.id, number=p.number, offset=p.offset, text=p.text,
                                  has_text_layer=p.has_text_layer, columns=p.columns, ocr_confidence=p.ocr_confidence)
                          for p in doc.pages)
                s.add_all(PassageRow(id=p.id, doc_id=doc.id, index=p.index, page=p.page, start=p.span.start,
                                     end=p.span.end, section=p.section, text=p.text) for p in doc.passages)
                s.flush()
            except BaseException:
                if stored_path:
                    Path(stored_path).unlink(missing_ok=True)
                raise
        return IngestStatus.stored

    def _keep_file(self, doc_id: str, source: Path) -> str | None:
        if self.files_dir is None:
            return None
        target = self.files_dir / doc_id[:2] / f"{doc_id}{source.suffix.lower()}"
        if target.exists():
            return str(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)  # atomic: a crash never leaves a half-copied file under its final name
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return str(target)

    def get_document(self, doc_id: str) -> Document:
        """Load a stored document by id or by a unique prefix of at least 6 characters.

        Raises:
            NotFoundError: no document, or several, match.
        """
        with self.session() as s:
            row = self._find(s, doc_id)
            pages = s.scalars(select(PageRow).where(PageRow.doc_id == row.id).order_by(PageRow.number)).all()
            passages = s.scalars(select(PassageRow).where(PassageRow.doc_id == row.id).order_by(PassageRow.index)).all()
            return Document(
                id=row.id, filename=row.filename, kind=row.kind, kind_source=row.kind_source, title=row.title,
                media_type=row.media_type, page_count=row.page_count, parser=row.parser, text=row.text,
                warnings=list(row.warnings), metadata=dict(row.doc_metadata),
                pages=[Page(number=p.number, offset=p.offset, text=p.text, has_text_layer=p.has_text_layer, columns=p.columns,
                            ocr_confidence=p.ocr_confidence) for p in pages],
                passages=[Passage(id=p.id, doc_id=p.doc_id, index=p.index, page=p.page, span=Span(start=p.start, end=p.end),
                                  section=p.section, text=p.text) for p in passages],
                **row.structure,
            )

    def source_file(self, doc_id: str) -> tuple[Path | None, str]:
        """The stored copy of a document's source file (None when none was kept, or it has gone) and its media type.

        Raises:
            NotFoundError: no such document.
        """
        with self.session() as s:
            row = s.get(DocumentRow, doc_id)
            if row is None:
                raise NotFoundError(f"no document with id {doc_id!r}.", hint="List the stored documents with `vbp show --list`.")
            path = Path(row.stored_path) if row.stored_path else None
            return (path if path is not None and path.is_file() else None), row.media_type

    def _find(self, s: Session, doc_id: str) -> DocumentRow:
        row = s.get(DocumentRow, doc_id)
        if row is not None:
            return row
        matches = []
        if len(doc_id) >= 6:
            matches = s.scalars(select(DocumentRow).where(DocumentRow.id.startswith(doc_id)).limit(2)).all()
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise NotFoundError(f"document id prefix {doc_id!r} matches several documents.", hint="Give more characters of the id.")
        raise NotFoundError(f"no document with id {doc_id!r}.", hint="List the stored documents with `vbp show --list`.")

    def list_documents(self) -> list[dict]:
        """Summary rows of every stored document, newest first."""
        with self.session() as s:
            rows = s.execute(
                select(DocumentRow.id, DocumentRow.filename, DocumentRow.kind, DocumentRow.page_count, DocumentRow.title,
                       DocumentRow.created_at).order_by(DocumentRow.created_at.desc())
            ).all()
            return [dict(r._mapping) for r in rows]

    def iter_passages(self) -> Iterator[Passage]:
        """Every stored passage, streamed in chunks (for rebuilding the index)."""
        with self.session() as s:
            for p in s.scalars(select(PassageRow).order_by(PassageRow.doc_id, PassageRow.index).execution_options(yield_per=1000)):
                yield Passage(id=p.id, doc_id=p.doc_id, index=p.index, page=p.page, span=Span(start=p.start, end=p.end),
                              section=p.section, text=p.text)

    def passage_counts(self) -> dict[str, int]:
        """Passages per document: what the index must hold."""
        with self.session() as s:
            return dict(s.execute(select(PassageRow.doc_id, func.count()).group_by(PassageRow.doc_id)).all())

    def document_heads(self, *, doc_ids=None, chars: int = 6000) -> list[tuple[str, str | None, str]]:
        """``(id, title, first characters of the text)`` of every stored document (or of ``doc_ids``), for
        matching a reference list against what has been ingested."""
        with self.session() as s:
            q = select(DocumentRow.id, DocumentRow.title, func.substr(DocumentRow.text, 1, chars))
            if doc_ids is not None:
                q = q.where(DocumentRow.id.in_(list(doc_ids)))
            return [tuple(r) for r in s.execute(q).all()]

    def document_kinds(self) -> dict[str, str]:
        with self.session() as s:
            return dict(s.execute(select(DocumentRow.id, DocumentRow.kind)).all())

    def delete_document(self, doc_id: str) -> None:
        """Delete a document and everything derived from it (pages, passages, claims, links)."""
        with self.session() as s:
            row = self._find(s, doc_id)
            path = row.stored_path
            s.execute(delete(DocumentRow).where(DocumentRow.id == row.id))
        if path:
            Path(path).unlink(missing_ok=True)

    def count(self, table) -> int:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(table)) or 0

    # --- claims -------------------------------------------------------------------------------

    def save_claims(self, claims: list[Claim]) -> tuple[int, int]:
        """Store claims in one transaction; a claim already stored (same id) is kept as it is.

        Returns:
            How many were added and how many were already there.
        """
        added = kept = 0
        with self.session() as s:
            for claim in claims:
                if s.get(ClaimRow, claim.id) is not None:
                    kept += 1
                    continue
                s.add(ClaimRow(id=claim.id, doc_id=claim.doc_id, page=claim.page, start=claim.span.start, end=claim.span.end,
                               quote=claim.quote, category=claim.category.value, domain=claim.domain.value,
                               direction=claim.direction.value, extractor=claim.extractor, confidence=claim.confidence,
                               data=claim.model_dump(mode="json")))
                added += 1
        return added, kept

    def list_claims(self, doc_id: str) -> list[Claim]:
        """Claims of one document in reading order."""
        with self.session() as s:
            row = self._find(s, doc_id)
            # the JSON column alone: building ORM objects for every row cost more than the query (service claim listings)
            data = s.scalars(select(ClaimRow.data).where(ClaimRow.doc_id == row.id).order_by(ClaimRow.start)).all()
            return [Claim.model_validate(d) for d in data]

    def get_claim(self, claim_id: str) -> Claim:
        """One stored claim by id.

        Raises:
            NotFoundError: no such claim.
        """
        with self.session() as s:
            row = s.get(ClaimRow, claim_id)
            if row is None:
                raise NotFoundError(f"no claim with id {claim_id!r}.", hint="List a document's claims with `vbp show DOC_ID`.")
            return Claim.model_validate(row.data)

    def get_passages(self, passage_ids: list[str]) -> dict[str, Passage]:
        """The stored passages with these ids (unknown ids are left out)."""
        with self.session() as s:
            rows = s.scalars(select(PassageRow).where(PassageRow.id.in_(passage_ids))).all() if passage_ids else []
            return {p.id: Passage(id=p.id, doc_id=p.doc_id, index=p.index, page=p.page, span=Span(start=p.start, end=p.end),
                                  section=p.section, text=p.text) for p in rows}

    # --- support links ------------------------------------------------------------------------

    def save_support_links(self, claim_id: str, links: list[SupportLink], *, context: str = "") -> int:
        """Replace the claim's support links in ``context`` with ``links`` in one transaction (a re-check supersedes the
        last); every other context's links stay as they are.

        Args:
            context: The party the check was made for (``api.store.service.evidence_context``); ``''``: the command line.

        Raises:
            NotFoundError: the claim is not stored.
        """
        with self.session() as s:
            if s.get(ClaimRow, claim_id) is None:
                raise NotFoundError(f"no claim with id {claim_id!r}.", hint="Extract the document's claims first: `vbp extract DOC_ID`.")
            s.execute(delete(SupportLinkRow).where(SupportLinkRow.claim_id == claim_id, SupportLinkRow.context == context))
            s.add_all(SupportLinkRow(claim_id=claim_id, context=context, passage_id=link.passage_id, stance=link.stance.value,
                                     score=link.score, data=link.model_dump(mode="json")) for link in links)
        return len(links)

    def list_support_links(self, *, claim_id: str | None = None, doc_id: str | None = None, context: str = "") -> list[SupportLink]:
        """Support links of one claim, or of every claim of one document, checked in ``context`` (claims in reading order,
        best link first)."""
        with self.session() as s:
            q = select(SupportLinkRow.data).join(ClaimRow, ClaimRow.id == SupportLinkRow.claim_id).where(SupportLinkRow.context == context)
            if claim_id is not None:
                q = q.where(SupportLinkRow.claim_id == claim_id)
            if doc_id is not None:
                q = q.where(ClaimRow.doc_id == self._find(s, doc_id).id)
            data = s.scalars(q.order_by(ClaimRow.start, SupportLinkRow.id)).all()
            return [SupportLink.model_validate(d) for d in data]

    # --- ingest events ------------------------------------------------------------------------

    def record_ingest(self, filename: str, status: IngestStatus, *, doc_id: str | None = None, error_code: str | None = None,
                      message: str = "") -> None:
        with self.session() as s:
            s.add(IngestEventRow(filename=filename, doc_id=doc_id, status=status.value, error_code=error_code, message=message))


def _document_row(doc: Document, stored_path: str | None, source: Path | None) -> DocumentRow:
    structure = doc.model_dump(mode="json", include={"sections", "sentences", "tables", "references", "locations", "total_mismatches", "text_boxes"})
    return DocumentRow(
        id=doc.id, filename=doc.filename, kind=doc.kind.value, kind_source=doc.kind_source, title=doc.title,
        media_type=doc.media_type, page_count=doc.page_count, parser=doc.parser, schema_version=SCHEMA_VERSION,
        text=doc.text, structure=structure, warnings=list(doc.warnings), doc_metadata=dict(doc.metadata),
        stored_path=stored_path, size_bytes=source.stat().st_size if source is not None else len(doc.text.encode()),
    )
