"""Request and response models of the HTTP API (``XCreate`` / ``XPublic`` / ``XsPublic(data, count)``).

Domain types (``Claim``, ``Passage``, ``SupportLink``, ``ReviewDecision``) come from ``extractor.schema`` and are
wrapped here, never redefined.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from extractor.schema import Claim, Decision, Passage, SupportLink
from retrieval.base import Hit


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands datetimes back without a zone; every stored time is UTC
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


UTCDatetime = Annotated[datetime, AfterValidator(_utc)]
T = TypeVar("T")


class _Public(BaseModel):
    """A response body: keys the model does not name are dropped (internal fields never leak)."""

    model_config = ConfigDict(extra="ignore")


class _In(BaseModel):
    """A request body: unknown keys are an error, so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")


class Page(_Public, Generic[T]):
    data: list[T] = Field(description="The items of this page.")
    count: int = Field(description="How many items match in all (for paging with limit and offset).")


# --- errors ---------------------------------------------------------------------------------------


class ErrorDetail(_Public):
    field: str | None = Field(default=None, description="Where the problem is, e.g. 'body.decision' or 'query.limit'.")
    message: str = Field(description="What is wrong there.")


class ErrorInfo(_Public):
    code: str = Field(description="Stable machine-readable code, e.g. 'not_found', 'password_required', 'validation_error'.")
    message: str = Field(description="What went wrong, naming the input.")
    hint: str = Field(description="What to do about it.")
    details: list[ErrorDetail] = Field(description="Per-field problems (validation errors); empty otherwise.")


class ErrorPublic(_Public):
    """The one error shape of every failure."""

    error: ErrorInfo = Field(description="The error.")
    request_id: str | None = Field(description="Id of the request (also in the X-Request-ID header); quote it when reporting a problem.")


# --- people ---------------------------------------------------------------------------------------


Role = Literal["admin", "evaluator", "supplier"]


class MePublic(_Public):
    id: int = Field(description="User id.")
    name: str = Field(description="User name.")
    role: Role = Field(description="admin, evaluator or supplier.")
    supplier_id: str | None = Field(description="The supplier a supplier user belongs to.")


class UserCreate(_In):
    name: str = Field(min_length=1, max_length=200, description="Unique user name.")
    role: Role = Field(description="admin (manages users and tenders), evaluator (reviews assigned tenders) or supplier.")
    supplier: str | None = Field(default=None, description="For supplier users: the supplier's id (a slug such as 'ashgrove').")
    supplier_name: str | None = Field(default=None, description="Display name of a supplier created with this user.")


class UserPublic(_Public):
    id: int = Field(description="User id.")
    name: str = Field(description="User name.")
    role: Role = Field(description="The user's role.")
    supplier_id: str | None = Field(description="The supplier a supplier user belongs to.")
    active: bool = Field(description="False once revoked.")
    created_at: UTCDatetime = Field(description="When the user was created.")
    revoked_at: UTCDatetime | None = Field(description="When the user was revoked.")


class UserCreated(_Public):
    user: UserPublic = Field(description="The new user.")
    key: str = Field(description="The user's API key. Shown this once: only its hash is stored.")


# --- tenders --------------------------------------------------------------------------------------


class TenderCreate(_In):
    title: str = Field(min_length=1, max_length=500, description="Name of the procurement.")
    reference: str = Field(default="", max_length=200, description="The buyer's reference, e.g. 'NHSSC-2026-041'.")


class Ref(_Public):
    id: str | int = Field(description="Id.")
    name: str = Field(description="Display name.")


class TenderPublic(_Public):
    id: str = Field(description="Tender id.")
    title: str = Field(description="Name of the procurement.")
    reference: str = Field(description="The buyer's reference.")
    created_by: str = Field(description="Who created it.")
    created_at: UTCDatetime = Field(description="When it was created.")
    suppliers: list[Ref] = Field(description="Suppliers bidding (a supplier sees only itself).")
    evaluators: list[Ref] = Field(description="Evaluators assigned (not shown to suppliers).")


class TenderSupplierAdd(_In):
    supplier: str = Field(min_length=2, max_length=63, description="Supplier id (a slug); created when new.")
    name: str | None = Field(default=None, max_length=300, description="Display name of a new supplier.")


class TenderEvaluatorAdd(_In):
    user: str = Field(min_length=1, description="Name or id of an evaluator user.")


# --- jobs and documents ---------------------------------------------------------------------------


DocumentRole = Literal["submission", "paper", "draft"]
JobStatus = Literal["queued", "running", "done", "failed"]


class JobPublic(_Public):
    id: str = Field(description="Job id; poll GET /jobs/{id} until status is done or failed.")
    status: JobStatus = Field(description="queued, running, done or failed.")
    stage: str | None = Field(description="Step running or last run: parse, store, extract, index, support.")
    tender_id: str = Field(description="Tender of the upload.")
    supplier_id: str = Field(description="Supplier the document belongs to.")
    doc_id: str = Field(description="Document id (SHA-256 of the file).")
    role: DocumentRole = Field(description="submission, paper or draft.")
    filename: str = Field(description="Name of the uploaded file.")
    size_bytes: int = Field(description="Size of the upload.")
    attempts: int = Field(description="How many times the job has started (a restart resumes it).")
    error_code: str | None = Field(description="For failed jobs: a stable code, e.g. 'password_required'.")
    reason: str = Field(description="For failed jobs: what went wrong and what to do; for resumed ones, why.")
    result: dict[str, Any] = Field(description="For finished jobs: pages, passages, claims, links, warnings.")
    created_at: UTCDatetime = Field(description="When the upload was accepted.")
    started_at: UTCDatetime | None = Field(description="When the last attempt started.")
    finished_at: UTCDatetime | None = Field(description="When the job ended.")


class OwnerPublic(_Public):
    tender_id: str = Field(description="Tender.")
    supplier_id: str = Field(description="Supplier the document belongs to there.")
    role: DocumentRole = Field(description="submission, paper or draft.")
    filename: str = Field(description="Name it was uploaded under.")
    job_id: str | None = Field(description="Its latest ingest job.")


class DocumentPublic(_Public):
    id: str = Field(description="Document id (SHA-256 of the file).")
    status: Literal["stored", "processing", "failed"] = Field(description="stored once parsed; processing while its job runs.")
    filename: str = Field(description="File name.")
    title: str | None = Field(default=None, description="Title, when found.")
    kind: str | None = Field(default=None, description="supplier_submission, clinical_paper or other.")
    page_count: int | None = Field(default=None, description="Pages.")
    warnings: list[str] = Field(default_factory=list, description="Quality warnings from parsing.")
    claims: int | None = Field(default=None, description="Stored claims.")
    owners: list[OwnerPublic] = Field(description="Where the document is uploaded (only the caller's visible uploads).")


class DocumentPagePublic(_Public):
    number: int = Field(description="1-based page number (a Word page, an Excel sheet).")
    text: str = Field(description="Normalised text of the page.")
    ocr_confidence: float | None = Field(default=None, description="Mean OCR word confidence (0-1) of a page read from its image; "
                                                                   "null for a text layer.")


class DocumentDetail(DocumentPublic):
    pages: list[DocumentPagePublic] = Field(description="Pages and their text.")
    sections: list[dict[str, Any]] = Field(description="Headings and their extents.")
    references: list[dict[str, Any]] = Field(description="Entries of the reference list.")
    total_mismatches: list[dict[str, Any]] = Field(default_factory=list, description="Totals that do not equal the sum of their "
                                                                                     "parts, with both figures and where each was read.")


# --- claims, passages, links ----------------------------------------------------------------------


ReviewState = Literal["pending", "accepted", "rejected", "corrected"]


class LinkPublic(_Public):
    link: SupportLink = Field(description="The passage judged against the claim: stance, score, numeric check.")
    passage: Passage | None = Field(description="The passage (its text, page and span).")
    document: str | None = Field(description="Title or file name of the passage's document.")


class ClaimItem(_Public):
    claim: Claim = Field(description="The claim (in a tender: its current version, after corrections).")
    version: int = Field(description="0 for the extracted claim; n after n corrections.")
    tender_id: str | None = Field(default=None, description="Tender the review state and version refer to.")
    supplier_id: str | None = Field(default=None, description="Supplier the claim's document belongs to.")
    review_state: ReviewState | None = Field(default=None, description="pending, accepted, rejected or corrected (tender views only).")
    support_status: str = Field(description="supported, supported_other_source, contradicted, unsupported or not_checked.")
    numeric_status: str = Field(description="match, mismatch, not_comparable or not_checked.")
    verdict: str = Field(description="The one claim-level verdict: supported, contradicted, numbers_differ, not_enough_info or "
                         "not_checked (retrieval.checking.verdicts.claim_verdict).")
    stances: dict[str, int] = Field(description="Links per stance.")


class ReviewCreate(_In):
    decision: Decision = Field(description="accepted, rejected or corrected.")
    reason: str = Field(min_length=1, max_length=5000, description="Why; required for every decision.")
    corrections: dict[str, Any] = Field(default_factory=dict,
                                        description="For 'corrected' only: the claim fields changed and their new values, e.g. "
                                        "{\"direction\": \"decrease\"}. The quote, page and span never change.")


class ReviewPublic(_Public):
    id: int = Field(description="Decision id.")
    claim_id: str = Field(description="Claim.")
    tender_id: str | None = Field(description="Tender the decision was made in.")
    supplier_id: str | None = Field(default=None, description="The supplier whose claim was judged (two suppliers may share a "
                                    "claim by uploading the same file; each one's review is its own).")
    reviewer: str = Field(description="Who decided.")
    decision: Decision = Field(description="accepted, rejected or corrected.")
    corrections: dict[str, Any] = Field(description="For 'corrected': the fields changed and their new values.")
    reason: str = Field(description="Why.")
    at: UTCDatetime = Field(description="When (UTC).")
    version: int | None = Field(description="For 'corrected': the claim version the correction created.")


class ClaimVersionPublic(_Public):
    version: int = Field(description="0 for the extracted claim.")
    claim: Claim = Field(description="The claim as of this version.")
    review_id: int | None = Field(description="The correcting decision.")
    created_by: str = Field(description="The reviewer (or the extractor, for version 0).")
    at: UTCDatetime | None = Field(description="When.")


class ClaimDetail(ClaimItem):
    original: Claim = Field(description="The claim as extracted (version 0).")
    links: list[LinkPublic] = Field(description="Support links, best first.")
    verdict_reason: str = Field(default="", description="Why the verdict is what it is, in words, quoting the sentence it rests "
                                "on and its page.")
    reviews: list[ReviewPublic] = Field(default_factory=list, description="Review decisions in this tender, oldest first.")
    versions: list[ClaimVersionPublic] = Field(default_factory=list, description="Every version in this tender, oldest first.")


class SearchPublic(_Public):
    query: str = Field(description="The query.")
    data: list[Hit] = Field(description="Passages found, best first (only in documents the caller may see).")
    count: int = Field(description="How many were returned.")


# --- audit ----------------------------------------------------------------------------------------


class AuditEventPublic(_Public):
    id: int = Field(description="Sequence number; events are never changed or deleted.")
    at: UTCDatetime = Field(description="When (UTC).")
    actor: str = Field(description="Who: a user name, or 'system' for background jobs.")
    actor_id: int | None = Field(description="The user's id.")
    actor_role: str | None = Field(description="The user's role then.")
    action: str = Field(description="What, e.g. 'claim.review', 'document.upload', 'access.denied'.")
    target_type: str = Field(description="Kind of object acted on.")
    target_id: str = Field(description="Its id.")
    tender_id: str | None = Field(description="Tender, when the action belongs to one.")
    before: dict[str, Any] | None = Field(description="State before.")
    after: dict[str, Any] | None = Field(description="State after.")
    detail: str = Field(description="Extra words, e.g. why access was denied.")
    request_id: str | None = Field(description="The HTTP request that did it.")


class HealthPublic(_Public):
    status: Literal["ok"] = Field(description="'ok' when the service answers.")
    version: str = Field(description="Version of vbp-evidence.")
