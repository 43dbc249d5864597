"""SQLAlchemy 2 table definitions. Portable types only, so SQLite and PostgreSQL both work."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    kind_source: Mapped[str] = mapped_column(String(20), default="detected")
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    media_type: Mapped[str] = mapped_column(String(120))  # Office types are up to 73 characters (revision 0005)
    page_count: Mapped[int] = mapped_column(Integer)
    parser: Mapped[str] = mapped_column(String(120))
    schema_version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    structure: Mapped[dict] = mapped_column(JSON)  # sections, sentences, tables, references
    warnings: Mapped[list] = mapped_column(JSON)
    doc_metadata: Mapped[dict] = mapped_column("metadata", JSON)
    stored_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PageRow(Base):
    __tablename__ = "pages"

    doc_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    has_text_layer: Mapped[bool] = mapped_column(default=True)
    columns: Mapped[int] = mapped_column(Integer, default=1)
    ocr_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)  # revision 0005


class PassageRow(Base):
    __tablename__ = "passages"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    doc_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    page: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    section: Mapped[str | None] = mapped_column(String(200), nullable=True)
    text: Mapped[str] = mapped_column(Text)


class ClaimRow(Base):
    __tablename__ = "claims"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    doc_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    page: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    quote: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40), index=True)
    domain: Mapped[str] = mapped_column(String(40), index=True)
    direction: Mapped[str] = mapped_column(String(20))
    extractor: Mapped[str] = mapped_column(String(120))
    confidence: Mapped[float] = mapped_column(Float)
    data: Mapped[dict] = mapped_column(JSON)  # the full Claim
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SupportLinkRow(Base):
    """A passage judged against a claim, for one party: links are derived from the papers that party uploaded, so each
    party's check has its own rows (revision 0004). ``context`` is ``<tender>/<supplier>/<role>`` in the service (see
    ``api.store.service.evidence_context``) and ``''`` for the command line."""

    __tablename__ = "support_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    context: Mapped[str] = mapped_column(String(200), default="", server_default="")
    passage_id: Mapped[str] = mapped_column(ForeignKey("passages.id", ondelete="CASCADE"), index=True)
    stance: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewDecisionRow(Base):
    """Append-only: rows are inserted, never updated or deleted by the application."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id", ondelete="RESTRICT"), index=True)
    tender_id: Mapped[str | None] = mapped_column(ForeignKey("tenders.id", name="fk_review_decisions_tender_id"), nullable=True,
                                                  index=True)  # the tender the decision was made in (service reviews)
    supplier_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # whose copy of the claim (revision 0004)
    reviewer: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(20))
    corrections: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IngestEventRow(Base):
    """One line per file ingest attempt, kept for the audit trail and batch reports."""

    __tablename__ = "ingest_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    filename: Mapped[str] = mapped_column(String(500))
    doc_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


Index("ix_claims_doc_page", ClaimRow.doc_id, ClaimRow.page)
Index("ix_support_links_claim_context", SupportLinkRow.claim_id, SupportLinkRow.context)


# --- the HTTP service (revision 0002): people, tenders, uploads, jobs, corrections, audit ------------------


class SupplierRow(Base):
    """A supplier organisation; its users see only its own documents."""

    __tablename__ = "suppliers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # a short slug, e.g. "ashgrove"
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # admin | evaluator | supplier
    supplier_id: Mapped[str | None] = mapped_column(ForeignKey("suppliers.id"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ApiKeyRow(Base):
    """An API key: only its SHA-256 is kept; ``key_id`` is the non-secret prefix used to find it."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSessionRow(Base):
    """A browser session, opened by signing in with an API key: only the SHA-256 of its cookie token is kept. It ends at
    sign-out, at its expiry, or when its key or user is revoked."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(32))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TenderRow(Base):
    __tablename__ = "tenders"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TenderSupplierRow(Base):
    __tablename__ = "tender_suppliers"

    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TenderEvaluatorRow(Base):
    __tablename__ = "tender_evaluators"

    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TenderDocumentRow(Base):
    """Who a document belongs to: one row per (tender, supplier, document).

    Documents are content-addressed, so the same PDF uploaded by two suppliers is one document with two
    rows here, each with the name its uploader gave it (the document's own ``filename`` is the first upload's and is
    never shown to anyone else). One supplier may hold the same file in two roles (a draft it then submits).
    ``doc_id`` has no foreign key: the row is written when the upload is accepted, before the background job has
    parsed and stored the document.
    """

    __tablename__ = "tender_documents"
    __table_args__ = (UniqueConstraint("tender_id", "supplier_id", "doc_id", "role", name="uq_tender_documents_owner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), index=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id"), index=True)
    doc_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(20))  # submission | paper | draft
    filename: Mapped[str] = mapped_column(String(500))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the latest ingest job of this upload
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobRow(Base):
    """A background ingest job; the row is the job's durable state, so a restart resumes it."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="ingest")
    status: Mapped[str] = mapped_column(String(20), index=True)  # queued | running | done | failed
    stage: Mapped[str | None] = mapped_column(String(20), nullable=True)  # parse | store | extract | index | support
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), index=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id"), index=True)
    doc_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(500))
    file_path: Mapped[str] = mapped_column(String(1000))
    size_bytes: Mapped[int] = mapped_column(Integer)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)  # a password was given; it is never stored
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ClaimVersionRow(Base):
    """A corrected version of one supplier's claim in one tender. Append-only: a correction adds a version, never edits one.

    Version 0 is the extracted claim in ``claims``; versions here count from 1. Two suppliers who uploaded the same bytes
    share the extracted claim, but each one's review and corrections are its own (``supplier_id``, revision 0004).
    """

    __tablename__ = "claim_versions"
    __table_args__ = (UniqueConstraint("claim_id", "tender_id", "supplier_id", "version", name="uq_claim_versions_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id", ondelete="RESTRICT"), index=True)
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), index=True)
    supplier_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)  # the full corrected Claim
    review_id: Mapped[int] = mapped_column(ForeignKey("review_decisions.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEventRow(Base):
    """Append-only audit trail: who did what, when, to what, with the state before and after."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))  # user name, or "system" for background jobs
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(200), index=True)
    tender_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RevisionRow(Base):
    """A counter per document that the database bumps (triggers, revision 0003) whenever the document, its claims, their
    support links or its ownership change; readers compare it to know whether what they hold in memory is stale."""

    __tablename__ = "revisions"

    scope: Mapped[str] = mapped_column(String(100), primary_key=True)  # a document id
    value: Mapped[int] = mapped_column(BigInteger)
