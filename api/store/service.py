"""The service's repository: users and API keys, tenders, document ownership, jobs, reviews, claim versions, audit.

Access control lives here, in the queries: every read that can return a tender's data takes the caller
(a ``Principal``) and is scoped by it, so a route cannot forget a check. A caller asking for something that
exists but is not theirs gets exactly the error a missing id gets (``api.errors.not_found``), and the attempt
is written to the audit trail as ``access.denied``.

Every change is written in one transaction together with its audit event: an action is either stored and
audited, or neither.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import and_, false, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import ConflictError, InvalidRequestError, not_found
from api.store.models import (
    ApiKeyRow,
    AuditEventRow,
    ClaimRow,
    ClaimVersionRow,
    DocumentRow,
    JobRow,
    ReviewDecisionRow,
    RevisionRow,
    SupplierRow,
    TenderDocumentRow,
    TenderEvaluatorRow,
    TenderRow,
    TenderSupplierRow,
    UserRow,
    WebSessionRow,
)
from extractor.errors import NotFoundError
from extractor.schema import Claim, Decision, ReviewDecision

log = logging.getLogger(__name__)
security_log = logging.getLogger("vbp.security")

ROLES = ("admin", "evaluator", "supplier")
DOCUMENT_ROLES = ("submission", "paper", "draft")
"""What an upload is: a supplier's submission, a paper it cites, or a supplier's private draft (pre-check only)."""
JOB_STATES = ("queued", "running", "done", "failed")
CORRECTABLE = ("category", "domain", "direction", "outcome", "intervention", "comparator", "population", "timepoint",
               "quantities", "hedged", "evidence_level")
"""Claim fields a reviewer may correct. The quote, page and span are the claim's grounding in the source and never change."""

KEY_PATTERN = re.compile(r"^vbp_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
SUPPLIER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")

request_id_var: ContextVar[str | None] = ContextVar("vbp_request_id", default=None)
"""The id of the HTTP request being served, stamped on the audit events it writes."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a user (through an API key) or the system itself (background jobs, the CLI)."""

    user_id: int | None
    name: str
    role: str  # admin | evaluator | supplier | system
    supplier_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role in ("admin", "system")


SYSTEM = Principal(None, "system", "system")


def evidence_context(tender_id: str, supplier_id: str, role: str) -> str:
    """The key of the party a claim check is made for: a supplier's document in one role in one tender.

    What may be shared between parties who uploaded the same bytes, and what may not:

    * shared: the stored document (text, pages, sections, passages), its passage embeddings and index entries, and
      its extracted claims. Each is a function of the bytes alone, so every uploader would get the same.
    * per party: everything that depends on who uploaded it. The support links, numeric checks and verdicts (they
      are checked against that party's own papers in that tender), hence the worksheet and pre-check built from them;
      the filename it was uploaded under (its ``tender_documents`` row); review decisions and corrections (per
      tender); and the job that processed its upload.

    ``''`` is the context of the command line (``vbp support``, ``vbp check-claim``), which checks outside any tender.
    """
    return f"{tender_id}/{supplier_id}/{role}"


def owner_context(owner: dict) -> str:
    """:func:`evidence_context` of an ownership row (as :meth:`ServiceRepo.owners` returns them)."""
    return evidence_context(owner["tender_id"], owner["supplier_id"], owner["role"])


# --- keys -----------------------------------------------------------------------------------------


def new_key() -> tuple[str, str, str]:
    """A fresh API key: ``(key, key_id, sha256 hex)``. The key is ``vbp_<12 hex>_<43 chars>`` (256 random bits)."""
    key_id = secrets.token_hex(6)
    key = f"vbp_{key_id}_{secrets.token_urlsafe(32)}"
    return key, key_id, hash_key(key)


def hash_key(key: str) -> str:
    """SHA-256 of the key. Enough for 256-bit random keys (no dictionary to guess from), and constant-time to check."""
    return hashlib.sha256(key.encode()).hexdigest()


def _user_dict(u: UserRow) -> dict:
    return {"id": u.id, "name": u.name, "role": u.role, "supplier_id": u.supplier_id, "created_at": u.created_at,
            "active": u.revoked_at is None, "revoked_at": u.revoked_at}


def _tender_dict(t: TenderRow) -> dict:
    return {"id": t.id, "title": t.title, "reference": t.reference, "created_by": t.created_by, "created_at": t.created_at}


def _job_dict(j: JobRow) -> dict:
    return {c: getattr(j, c) for c in ("id", "kind", "status", "stage", "tender_id", "supplier_id", "doc_id", "role", "filename",
                                       "size_bytes", "attempts", "error_code", "reason", "result", "created_at", "started_at",
                                       "finished_at", "file_path", "encrypted")}


def _owner_dict(o: TenderDocumentRow) -> dict:
    return {"tender_id": o.tender_id, "supplier_id": o.supplier_id, "doc_id": o.doc_id, "role": o.role, "filename": o.filename,
            "job_id": o.job_id, "created_at": o.created_at}


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class ServiceRepo:
    """The service tables, on the same database (and engine) as the document ``Store``."""

    def __init__(self, store) -> None:
        self.store = store
        self.session = store.session
        self._review_lock = threading.Lock()

    # --- audit ------------------------------------------------------------------------------------

    def _audit(self, s: Session, actor: Principal, action: str, target_type: str, target_id: str, *, tender_id: str | None = None,
               before: dict | None = None, after: dict | None = None, detail: str = "") -> None:
        s.add(AuditEventRow(actor=actor.name, actor_id=actor.user_id, actor_role=actor.role, action=action, target_type=target_type,
                            target_id=str(target_id), tender_id=tender_id, before=_jsonable(before), after=_jsonable(after),
                            detail=detail, request_id=request_id_var.get()))

    def audit(self, actor: Principal, action: str, target_type: str, target_id: str, **fields) -> None:
        """Append one audit event in its own transaction."""
        with self.session() as s:
            self._audit(s, actor, action, target_type, target_id, **fields)

    def _deny(self, actor: Principal, target_type: str, target_id: str, *, tender_id: str | None = None, detail: str = ""):
        """Record a request for something that exists but is not the caller's, and return the plain 404 error."""
        security_log.warning("access denied: %s (%s, supplier %s) asked for %s %s%s", actor.name, actor.role, actor.supplier_id,
                             target_type, target_id, f" ({detail})" if detail else "")
        self.audit(actor, "access.denied", target_type, target_id, tender_id=tender_id, detail=detail)
        return not_found(target_type, target_id)

    def list_audit(self, actor: Principal, *, tender_id: str | None = None, action: str | None = None, actor_name: str | None = None,
                   target_id: str | None = None, since: datetime | None = None, limit: int | None = 100, offset: int = 0
                   ) -> tuple[list[dict], int]:
        """Audit events the caller may read (admins: all; evaluators: those of their tenders), oldest first."""
        q = select(AuditEventRow)
        if actor.role == "evaluator":
            q = q.where(AuditEventRow.tender_id.in_(self._assigned(actor)))
        elif not actor.is_admin:
            q = q.where(false())
        for column, value in ((AuditEventRow.tender_id, tender_id), (AuditEventRow.action, action), (AuditEventRow.actor, actor_name),
                              (AuditEventRow.target_id, target_id)):
            if value is not None:
                q = q.where(column == value)
        if since is not None:
            q = q.where(AuditEventRow.at >= since)
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            q = q.order_by(AuditEventRow.id).offset(offset)
            if limit is not None:
                q = q.limit(limit)
            rows = s.scalars(q).all()
            return [self._event_dict(r) for r in rows], total

    def iter_audit(self, actor: Principal, **filters) -> Iterable[dict]:
        """Every audit event the caller may read, in pages (for exports)."""
        offset = 0
        while True:
            page, _ = self.list_audit(actor, limit=1000, offset=offset, **filters)
            yield from page
            if len(page) < 1000:
                return
            offset += 1000

    @staticmethod
    def _event_dict(r: AuditEventRow) -> dict:
        return {"id": r.id, "at": r.at, "actor": r.actor, "actor_id": r.actor_id, "actor_role": r.actor_role, "action": r.action,
                "target_type": r.target_type, "target_id": r.target_id, "tender_id": r.tender_id, "before": r.before,
                "after": r.after, "detail": r.detail, "request_id": r.request_id}

    # --- users and keys ---------------------------------------------------------------------------

    def create_user(self, name: str, role: str, *, supplier_id: str | None = None, supplier_name: str | None = None,
                    actor: Principal = SYSTEM) -> tuple[dict, str]:
        """Create a user with a fresh API key; returns ``(user, key)``. The key is shown once and only its hash is kept.

        Raises:
            InvalidRequestError: unknown role, or a supplier id missing (role supplier) or given (other roles).
            ConflictError: the name is taken.
        """
        name = name.strip()
        supplier_id = (supplier_id or "").strip() or None  # an empty supplier (a blank CLI flag) is no supplier
        if not name:
            raise InvalidRequestError("a user needs a name.", field="name")
        if role not in ROLES:
            raise InvalidRequestError(f"unknown role {role!r}.", hint=f"Use one of: {', '.join(ROLES)}.", field="role")
        if role == "supplier" and not supplier_id:
            raise InvalidRequestError("a supplier user needs the supplier it belongs to.", hint="Give the supplier's id, e.g. 'ashgrove'.",
                                      field="supplier")
        if role != "supplier" and supplier_id:
            raise InvalidRequestError(f"only supplier users belong to a supplier; a {role} does not.", field="supplier")
        with self.session() as s:
            if s.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise ConflictError(f"a user named {name!r} already exists.", hint="Pick another name, or revoke and re-issue its key.")
            if supplier_id:
                self._ensure_supplier(s, supplier_id, supplier_name, actor)
            user = UserRow(name=name, role=role, supplier_id=supplier_id)
            s.add(user)
            s.flush()
            key = self._issue(s, user)
            self._audit(s, actor, "user.create", "user", str(user.id), after=_user_dict(user))
            return _user_dict(user), key

    def _issue(self, s: Session, user: UserRow) -> str:
        key, key_id, digest = new_key()
        s.add(ApiKeyRow(user_id=user.id, key_id=key_id, key_hash=digest))
        return key

    def issue_key(self, user: int | str, *, actor: Principal = SYSTEM, revoke_others: bool = False) -> str:
        """A new key for an active user; older keys keep working unless ``revoke_others``."""
        with self.session() as s:
            row = self._user(s, user)
            if row.revoked_at is not None:
                raise InvalidRequestError(f"user {row.name!r} is revoked and gets no new keys.", hint="Create a new user instead.")
            if revoke_others:
                s.execute(update(ApiKeyRow).where(ApiKeyRow.user_id == row.id, ApiKeyRow.revoked_at.is_(None)).values(revoked_at=utcnow()))
            key = self._issue(s, row)
            self._audit(s, actor, "user.key_issued", "user", str(row.id),
                        detail="a new API key was issued" + ("; the older ones were revoked" if revoke_others else ""))
            return key

    def find_user(self, name_or_id: str | int) -> dict:
        with self.session() as s:
            user = self._user(s, name_or_id)
            return _user_dict(user)

    def _user(self, s: Session, name_or_id: str | int) -> UserRow:
        user = s.get(UserRow, int(name_or_id)) if str(name_or_id).isdigit() else None
        user = user or s.scalar(select(UserRow).where(UserRow.name == str(name_or_id)))
        if user is None:
            raise not_found("user", str(name_or_id), hint="List users with `vbp user list` or GET /users.")
        return user

    def list_users(self) -> list[dict]:
        with self.session() as s:
            return [_user_dict(u) for u in s.scalars(select(UserRow).order_by(UserRow.id))]

    def revoke_user(self, name_or_id: str | int, *, actor: Principal = SYSTEM) -> dict:
        """Revoke a user and every key of theirs; their past actions stay in the audit trail."""
        with self.session() as s:
            user = self._user(s, name_or_id)
            before = _user_dict(user)
            now = utcnow()
            if user.revoked_at is None:
                user.revoked_at = now
            s.execute(update(ApiKeyRow).where(ApiKeyRow.user_id == user.id, ApiKeyRow.revoked_at.is_(None)).values(revoked_at=now))
            self._audit(s, actor, "user.revoke", "user", str(user.id), before=before, after=_user_dict(user))
            return _user_dict(user)

    def authenticate(self, key: str) -> Principal | None:
        """The user a presented key belongs to, or None for an unknown, malformed or revoked key."""
        m = KEY_PATTERN.match(key or "")
        if m is None:
            return None
        with self.session() as s:
            row = s.execute(select(ApiKeyRow, UserRow).join(UserRow, UserRow.id == ApiKeyRow.user_id)
                            .where(ApiKeyRow.key_id == m.group(1))).first()
            if row is None:
                return None
            api_key, user = row
            if not hmac.compare_digest(api_key.key_hash, hash_key(key)) or api_key.revoked_at or user.revoked_at:
                return None
            return Principal(user.id, user.name, user.role, user.supplier_id)

    # --- browser sessions -------------------------------------------------------------------------

    def open_web_session(self, key: str, *, lifetime: timedelta) -> tuple[str, str, Principal] | None:
        """Exchange a valid API key for a browser session: ``(cookie token, CSRF token, user)``, or None for a key that
        is unknown, malformed or revoked. Only the token's hash is stored; signing in is audited."""
        principal = self.authenticate(key)
        m = KEY_PATTERN.match((key or "").strip())
        if principal is None or m is None:
            return None
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        with self.session() as s:
            s.add(WebSessionRow(token_hash=hash_key(token), user_id=principal.user_id, key_id=m.group(1), csrf=csrf, created_at=now,
                                expires_at=now + lifetime))
            self._audit(s, principal, "session.open", "user", str(principal.user_id), detail="signed in to the browser workspace")
        return token, csrf, principal

    def web_session(self, token: str) -> tuple[Principal, str] | None:
        """The user and CSRF token of a live browser session; None once it has ended, expired, or its key or user was
        revoked."""
        if not token or len(token) > 100:
            return None
        with self.session() as s:
            row = s.execute(select(WebSessionRow, ApiKeyRow, UserRow).join(UserRow, UserRow.id == WebSessionRow.user_id)
                            .join(ApiKeyRow, ApiKeyRow.key_id == WebSessionRow.key_id)
                            .where(WebSessionRow.token_hash == hash_key(token))).first()
        if row is None:
            return None
        session, api_key, user = row
        expires = session.expires_at if session.expires_at.tzinfo else session.expires_at.replace(tzinfo=UTC)
        if session.ended_at or expires <= utcnow() or api_key.revoked_at or user.revoked_at:
            return None
        return Principal(user.id, user.name, user.role, user.supplier_id), session.csrf

    def close_web_session(self, token: str) -> None:
        """End a browser session (sign-out); ending one that is already over does nothing."""
        with self.session() as s:
            row = s.execute(select(WebSessionRow, UserRow).join(UserRow, UserRow.id == WebSessionRow.user_id)
                            .where(WebSessionRow.token_hash == hash_key(token or ""), WebSessionRow.ended_at.is_(None))).first()
            if row is None:
                return
            session, user = row
            session.ended_at = utcnow()
            self._audit(s, Principal(user.id, user.name, user.role, user.supplier_id), "session.close", "user", str(user.id),
                        detail="signed out of the browser workspace")

    # --- suppliers and tenders --------------------------------------------------------------------

    def _ensure_supplier(self, s: Session, supplier_id: str, name: str | None, actor: Principal) -> SupplierRow:
        if not SUPPLIER_ID.match(supplier_id):
            raise InvalidRequestError(f"supplier id {supplier_id!r} is not valid.",
                                      hint="Use 2-63 lower-case letters, digits and hyphens, e.g. 'ashgrove'.", field="supplier")
        row = s.get(SupplierRow, supplier_id)
        if row is None:
            row = SupplierRow(id=supplier_id, name=(name or supplier_id).strip() or supplier_id)
            s.add(row)
            s.flush()
            self._audit(s, actor, "supplier.create", "supplier", supplier_id, after={"id": supplier_id, "name": row.name})
        return row

    def create_tender(self, title: str, *, reference: str = "", actor: Principal) -> dict:
        tender = TenderRow(id=f"t-{secrets.token_hex(5)}", title=title.strip(), reference=reference.strip(), created_by=actor.name)
        with self.session() as s:
            s.add(tender)
            s.flush()
            self._audit(s, actor, "tender.create", "tender", tender.id, tender_id=tender.id, after=_tender_dict(tender))
            return _tender_dict(tender)

    def add_tender_supplier(self, tender_id: str, supplier_id: str, *, name: str | None = None, actor: Principal) -> dict:
        with self.session() as s:
            tender = self._tender(s, actor, tender_id)
            supplier = self._ensure_supplier(s, supplier_id, name, actor)
            if s.get(TenderSupplierRow, (tender.id, supplier.id)) is None:
                s.add(TenderSupplierRow(tender_id=tender.id, supplier_id=supplier.id))
                self._audit(s, actor, "tender.supplier_add", "tender", tender.id, tender_id=tender.id,
                            after={"supplier_id": supplier.id, "name": supplier.name})
            return {"id": supplier.id, "name": supplier.name}

    def assign_evaluator(self, tender_id: str, user: str | int, *, actor: Principal) -> dict:
        with self.session() as s:
            tender = self._tender(s, actor, tender_id)
            row = self._user(s, user)
            if row.role != "evaluator" or row.revoked_at is not None:
                raise InvalidRequestError(f"user {row.name!r} is not an active evaluator (role {row.role}).",
                                          hint="Assign evaluators only; admins see every tender already.", field="user")
            if s.get(TenderEvaluatorRow, (tender.id, row.id)) is None:
                s.add(TenderEvaluatorRow(tender_id=tender.id, user_id=row.id))
                self._audit(s, actor, "tender.evaluator_add", "tender", tender.id, tender_id=tender.id,
                            after={"user_id": row.id, "name": row.name})
            return _user_dict(row)

    def _assigned(self, actor: Principal):
        return select(TenderEvaluatorRow.tender_id).where(TenderEvaluatorRow.user_id == actor.user_id)

    def _tender_clause(self, actor: Principal):
        if actor.is_admin:
            return true()
        if actor.role == "evaluator":
            return TenderRow.id.in_(self._assigned(actor))
        if actor.role == "supplier":
            return TenderRow.id.in_(select(TenderSupplierRow.tender_id).where(TenderSupplierRow.supplier_id == actor.supplier_id))
        return false()

    def _tender(self, s: Session, actor: Principal, tender_id: str) -> TenderRow:
        row = s.scalar(select(TenderRow).where(TenderRow.id == tender_id, self._tender_clause(actor)))
        if row is not None:
            return row
        if s.get(TenderRow, tender_id) is not None:
            raise self._deny(actor, "tender", tender_id, tender_id=tender_id, detail="not assigned to this tender")
        raise not_found("tender", tender_id)

    def list_tenders(self, actor: Principal) -> list[dict]:
        with self.session() as s:
            rows = s.scalars(select(TenderRow).where(self._tender_clause(actor)).order_by(TenderRow.created_at)).all()
            return [self._tender_view(s, actor, t) for t in rows]

    def check_tender(self, actor: Principal, tender_id: str) -> None:
        """Raise as :meth:`get_tender` does when the caller may not see the tender; one query when they may."""
        with self.session() as s:
            if s.scalar(select(TenderRow.id).where(TenderRow.id == tender_id, self._tender_clause(actor))) is None:
                self._tender(s, actor, tender_id)  # raises the right error (and audits a denial)

    def get_tender(self, actor: Principal, tender_id: str) -> dict:
        with self.session() as s:
            return self._tender_view(s, actor, self._tender(s, actor, tender_id))

    def _tender_view(self, s: Session, actor: Principal, t: TenderRow) -> dict:
        suppliers = select(SupplierRow).join(TenderSupplierRow, TenderSupplierRow.supplier_id == SupplierRow.id).where(
            TenderSupplierRow.tender_id == t.id)
        if actor.role == "supplier":  # a supplier never learns who else bids
            suppliers = suppliers.where(SupplierRow.id == actor.supplier_id)
        evaluators = []
        if actor.role != "supplier":
            evaluators = [{"id": u.id, "name": u.name} for u in s.scalars(
                select(UserRow).join(TenderEvaluatorRow, TenderEvaluatorRow.user_id == UserRow.id).where(TenderEvaluatorRow.tender_id == t.id)
                .order_by(UserRow.name))]
        return {**_tender_dict(t), "suppliers": [{"id": r.id, "name": r.name} for r in s.scalars(suppliers.order_by(SupplierRow.id))],
                "evaluators": evaluators}

    def supplier_names(self, supplier_ids: Iterable[str]) -> dict[str, str]:
        ids = list(set(supplier_ids))
        with self.session() as s:
            return dict(s.execute(select(SupplierRow.id, SupplierRow.name).where(SupplierRow.id.in_(ids))).all()) if ids else {}

    # --- document ownership -----------------------------------------------------------------------

    def _owner_clause(self, actor: Principal):
        """Which ownership rows the caller may see."""
        if actor.is_admin:
            return true()
        if actor.role == "evaluator":  # a supplier's private drafts are not for evaluators
            return and_(TenderDocumentRow.tender_id.in_(self._assigned(actor)), TenderDocumentRow.role != "draft")
        if actor.role == "supplier":
            return and_(TenderDocumentRow.supplier_id == actor.supplier_id,
                        TenderDocumentRow.tender_id.in_(select(TenderSupplierRow.tender_id)
                                                        .where(TenderSupplierRow.supplier_id == actor.supplier_id)))
        return false()

    def owners(self, actor: Principal, *, tender_id: str | None = None, supplier_id: str | None = None, doc_ids: Sequence[str] | None = None,
               roles: Sequence[str] | None = None) -> list[dict]:
        """Ownership rows the caller may see, filtered."""
        q = select(TenderDocumentRow).where(self._owner_clause(actor))
        if tender_id is not None:
            q = q.where(TenderDocumentRow.tender_id == tender_id)
        if supplier_id is not None:
            q = q.where(TenderDocumentRow.supplier_id == supplier_id)
        if doc_ids is not None:
            q = q.where(TenderDocumentRow.doc_id.in_(list(doc_ids)))
        if roles is not None:
            q = q.where(TenderDocumentRow.role.in_(list(roles)))
        with self.session() as s:
            return [_owner_dict(o) for o in s.scalars(q.order_by(TenderDocumentRow.id))]

    def visible_doc_ids(self, actor: Principal, **filters) -> set[str]:
        return {o["doc_id"] for o in self.owners(actor, **filters)}

    def document_access(self, actor: Principal, doc_id: str) -> list[dict]:
        """The caller's ownership rows of a document (at least one), or the plain 404.

        Raises:
            NotFoundError: no such document, or not one the caller may see (then the attempt is audited).
        """
        mine = self.owners(actor, doc_ids=[doc_id])
        if mine:
            return mine
        with self.session() as s:
            exists = s.scalar(select(TenderDocumentRow.id).where(TenderDocumentRow.doc_id == doc_id).limit(1)) is not None \
                or s.get(DocumentRow, doc_id) is not None
        if exists and not actor.is_admin:  # (an admin sees every upload; a document ingested outside any tender is not served)
            raise self._deny(actor, "document", doc_id, detail="the document belongs to another supplier or tender")
        raise not_found("document", doc_id)

    def claim_access(self, actor: Principal, claim_id: str, *, tender_id: str | None = None) -> list[dict]:
        """The caller's ownership rows of the claim's document (in ``tender_id`` when given), or the plain 404."""
        with self.session() as s:
            doc_id = s.scalar(select(ClaimRow.doc_id).where(ClaimRow.id == claim_id))
        if doc_id is None:
            raise not_found("claim", claim_id)
        mine = [o for o in self.owners(actor, doc_ids=[doc_id]) if tender_id is None or o["tender_id"] == tender_id]
        if not mine:
            if actor.is_admin:
                raise not_found("claim", claim_id)
            raise self._deny(actor, "claim", claim_id, tender_id=tender_id, detail="the claim's document is not the caller's")
        return mine

    def claim_owner(self, actor: Principal, claim_id: str, *, tender_id: str | None = None, supplier_id: str | None = None) -> dict:
        """The one ownership row a claim is read or reviewed through: the caller's, in ``tender_id`` when given.

        Two suppliers who uploaded the same bytes share the claim's id; their support links, reviews and corrections are
        each their own. When the caller sees the claim through more than one supplier, ``supplier_id`` must say which.

        Raises:
            NotFoundError: as :meth:`claim_access`; also when ``supplier_id`` is not one the caller sees the claim through.
            InvalidRequestError: several suppliers and no ``supplier_id``.
        """
        mine = self.claim_access(actor, claim_id, tender_id=tender_id)
        if supplier_id is not None:
            mine = [o for o in mine if o["supplier_id"] == supplier_id]
            if not mine:
                raise not_found("claim", claim_id)
        suppliers = sorted({o["supplier_id"] for o in mine})
        if len(suppliers) > 1:
            raise InvalidRequestError(f"claim {claim_id} is in the documents of more than one supplier ({', '.join(suppliers)}), "
                                      "and each one's checks and reviews are its own.",
                                      hint=f"Say whose with ?supplier=, e.g. ?supplier={suppliers[0]}.", field="supplier")
        return next((o for o in mine if o["role"] != "draft"), mine[0])

    def passage_access(self, actor: Principal, passage_id: str) -> list[dict]:
        doc_id = passage_id.rsplit(":", 1)[0]
        try:
            return self.document_access(actor, doc_id)
        except NotFoundError:
            raise not_found("passage", passage_id) from None

    def record_upload(self, actor: Principal, *, tender_id: str, supplier_id: str, role: str, doc_id: str, filename: str,
                      file_path: str, size_bytes: int, encrypted: bool, job_id: str) -> dict:
        """Record an accepted upload: its ownership row and its queued job, in one transaction with the audit event.

        Raises:
            ConflictError: the same file is being recorded for the same supplier and role at the same moment.
        """
        with self.session() as s:
            # one row per (tender, supplier, document, role): the same file in another role is another upload, never a
            # clash (a clash would tell an evaluator about a supplier's private draft)
            owner = s.scalar(select(TenderDocumentRow).where(TenderDocumentRow.tender_id == tender_id,
                                                             TenderDocumentRow.supplier_id == supplier_id,
                                                             TenderDocumentRow.doc_id == doc_id, TenderDocumentRow.role == role))
            job = JobRow(id=job_id, status="queued", tender_id=tender_id, supplier_id=supplier_id, doc_id=doc_id, role=role,
                         filename=filename, file_path=file_path, size_bytes=size_bytes, encrypted=encrypted, created_by=actor.user_id,
                         result={})
            s.add(job)
            if owner is None:
                owner = TenderDocumentRow(tender_id=tender_id, supplier_id=supplier_id, doc_id=doc_id, role=role, filename=filename,
                                          uploaded_by=actor.user_id, job_id=job_id)
                s.add(owner)
            else:
                owner.job_id = job_id
            try:
                s.flush()
            except IntegrityError:
                raise ConflictError(f"{filename}: the same file is being uploaded to this tender twice at once.",
                                    hint="Wait for the other upload to be accepted, then check GET /documents.") from None
            self._audit(s, actor, "document.upload", "document", doc_id, tender_id=tender_id,
                        after={"job_id": job_id, "supplier_id": supplier_id, "role": role, "filename": filename, "size_bytes": size_bytes})
            return _job_dict(job)

    def document_summaries(self, doc_ids: Iterable[str]) -> dict[str, dict]:
        """Summary of each stored document among ``doc_ids`` (the others are not stored yet): title, kind, pages, claims.

        Only what the bytes themselves give: the name a file was uploaded under belongs to its uploader (see
        :meth:`upload_names`), and the first uploader's is never shown to anyone else.
        """
        ids = list(set(doc_ids))
        if not ids:
            return {}
        with self.session() as s:
            claims = dict(s.execute(select(ClaimRow.doc_id, func.count()).where(ClaimRow.doc_id.in_(ids)).group_by(ClaimRow.doc_id)).all())
            rows = s.execute(select(DocumentRow.id, DocumentRow.title, DocumentRow.kind, DocumentRow.page_count,
                                    DocumentRow.warnings).where(DocumentRow.id.in_(ids))).all()
            return {r.id: {"title": r.title, "kind": r.kind, "page_count": r.page_count,
                           "warnings": list(r.warnings or []), "claims": claims.get(r.id, 0)} for r in rows}

    def upload_names(self, tender_id: str, supplier_id: str, doc_ids: Iterable[str]) -> dict[str, str]:
        """The names one supplier uploaded these documents under in one tender (its first upload of each)."""
        ids = list(set(doc_ids))
        if not ids:
            return {}
        with self.session() as s:
            rows = s.execute(select(TenderDocumentRow.doc_id, TenderDocumentRow.filename).where(
                TenderDocumentRow.tender_id == tender_id, TenderDocumentRow.supplier_id == supplier_id,
                TenderDocumentRow.doc_id.in_(ids)).order_by(TenderDocumentRow.id.desc())).all()
            return dict(rows)  # oldest last, so the first upload's name wins

    def job_states(self, job_ids: Iterable[str]) -> dict[str, str]:
        ids = [j for j in set(job_ids) if j]
        with self.session() as s:
            return dict(s.execute(select(JobRow.id, JobRow.status).where(JobRow.id.in_(ids))).all()) if ids else {}

    def tender_supplier_ids(self, tender_id: str) -> set[str]:
        with self.session() as s:
            return set(s.scalars(select(TenderSupplierRow.supplier_id).where(TenderSupplierRow.tender_id == tender_id)))

    # --- jobs -------------------------------------------------------------------------------------

    def _job_clause(self, actor: Principal):
        if actor.is_admin:
            return true()
        if actor.role == "evaluator":
            return and_(JobRow.tender_id.in_(self._assigned(actor)), JobRow.role != "draft")
        if actor.role == "supplier":
            return JobRow.supplier_id == actor.supplier_id
        return false()

    def get_job(self, actor: Principal, job_id: str) -> dict:
        with self.session() as s:
            job = s.scalar(select(JobRow).where(JobRow.id == job_id, self._job_clause(actor)))
            if job is not None:
                return _job_dict(job)
            exists = s.get(JobRow, job_id) is not None
        if exists:
            raise self._deny(actor, "job", job_id, detail="the job belongs to another supplier or tender")
        raise not_found("job", job_id)

    def list_jobs(self, actor: Principal, *, tender_id: str | None = None, status: str | None = None, limit: int = 100,
                  offset: int = 0) -> tuple[list[dict], int]:
        q = select(JobRow).where(self._job_clause(actor))
        if tender_id is not None:
            q = q.where(JobRow.tender_id == tender_id)
        if status is not None:
            q = q.where(JobRow.status == status)
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(q.order_by(JobRow.created_at, JobRow.id).offset(offset).limit(limit)).all()
            return [_job_dict(j) for j in rows], total

    def job(self, job_id: str) -> dict | None:
        with self.session() as s:
            row = s.get(JobRow, job_id)
            return _job_dict(row) if row is not None else None

    def start_job(self, job_id: str) -> dict | None:
        """Move a queued job to running (one attempt more); None when it is not queued (someone else took it)."""
        with self.session() as s:
            done = s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == "queued")
                             .values(status="running", attempts=JobRow.attempts + 1, started_at=utcnow(), stage=None))
            if done.rowcount != 1:
                return None
            return _job_dict(s.get(JobRow, job_id))

    def set_stage(self, job_id: str, stage: str) -> None:
        with self.session() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id).values(stage=stage))

    def finish_job(self, job_id: str, result: dict) -> bool:
        """Mark a running job done; False when it is no longer running (a stopping server re-queued it: it runs again)."""
        with self.session() as s:
            job = s.get(JobRow, job_id)
            if job is None or job.status != "running":
                return False
            job.status, job.result, job.finished_at, job.reason, job.error_code = "done", _jsonable(result), utcnow(), "", None
            self._audit(s, SYSTEM, "job.done", "job", job_id, tender_id=job.tender_id, after={"doc_id": job.doc_id, **_jsonable(result)})
            return True

    def fail_job(self, job_id: str, *, code: str, reason: str, result: dict | None = None, from_states: Sequence[str] = ("running",)) -> bool:
        """Mark a job failed with its reason; False when it is not in one of ``from_states`` (e.g. re-queued by a stop)."""
        with self.session() as s:
            job = s.get(JobRow, job_id)
            if job is None or job.status not in from_states:
                return False
            job.status, job.error_code, job.reason, job.finished_at = "failed", code, reason, utcnow()
            if result:
                job.result = _jsonable(result)
            self._audit(s, SYSTEM, "job.failed", "job", job_id, tender_id=job.tender_id,
                        after={"doc_id": job.doc_id, "stage": job.stage, "error_code": code, "reason": reason})
            return True

    def requeue_job(self, job_id: str, *, note: str, count_attempt: bool) -> bool:
        """Put a running job back in the queue (a clean stop does not count as an attempt)."""
        with self.session() as s:
            values: dict = {"status": "queued", "reason": note}
            if not count_attempt:
                values["attempts"] = JobRow.attempts - 1
            done = s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == "running").values(**values))
            return done.rowcount == 1

    def recover_jobs(self, *, max_attempts: int) -> tuple[list[str], list[str], list[str]]:
        """At start-up: jobs left running by a crash are re-queued, or failed once they have used up their attempts.

        Returns:
            ``(ids to run, in order; ids of those that were interrupted; ids failed now)``.
        """
        failed, resumed = [], []
        with self.session() as s:
            for job in s.scalars(select(JobRow).where(JobRow.status == "running")):
                if job.attempts >= max_attempts:
                    job.status, job.error_code, job.finished_at = "failed", "interrupted", utcnow()
                    job.reason = (f"the server stopped {job.attempts} times while this job was at the '{job.stage or 'start'}' step, "
                                  "so it is not tried again. Upload the file again; if it fails the same way, the file may "
                                  "exhaust the parser (split it or re-export it as PDF).")
                    self._audit(s, SYSTEM, "job.failed", "job", job.id, tender_id=job.tender_id,
                                after={"error_code": "interrupted", "reason": job.reason})
                    failed.append(job.id)
                else:
                    job.status, job.reason = "queued", f"resumed after the server stopped during the '{job.stage or 'start'}' step"
                    resumed.append(job.id)
            queued = list(s.scalars(select(JobRow.id).where(JobRow.status == "queued").order_by(JobRow.created_at, JobRow.id)))
        return queued, resumed, failed

    def job_counts(self) -> dict[str, int]:
        with self.session() as s:
            return dict(s.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all())

    def pending_doc_ids(self) -> set[str]:
        """Documents whose jobs are queued or running."""
        with self.session() as s:
            return set(s.scalars(select(JobRow.doc_id).where(JobRow.status.in_(("queued", "running")))))

    def processing(self) -> tuple[set[str], set[tuple[str, str]]]:
        """What is still being processed: the documents, and the (tender, supplier) parties, of queued or running jobs.
        A claim of such a document, or of a party whose paper is still coming in, may yet be checked: it is pending."""
        with self.session() as s:
            rows = s.execute(select(JobRow.doc_id, JobRow.tender_id, JobRow.supplier_id).where(JobRow.status.in_(("queued", "running")))).all()
        return {r[0] for r in rows}, {(r[1], r[2]) for r in rows}

    def live_upload_paths(self) -> set[str]:
        """Files of jobs that still need them (queued or running)."""
        with self.session() as s:
            return set(s.scalars(select(JobRow.file_path).where(JobRow.status.in_(("queued", "running")))))

    def evidence_scope(self, tender_id: str, supplier_id: str) -> set[str]:
        """Documents a supplier's claims may be checked against: its own papers in the same tender.

        Never another supplier's papers: the links a supplier sees would otherwise reveal a competitor's sources.
        """
        with self.session() as s:
            return set(s.scalars(select(TenderDocumentRow.doc_id).where(TenderDocumentRow.tender_id == tender_id,
                                                                        TenderDocumentRow.supplier_id == supplier_id,
                                                                        TenderDocumentRow.role == "paper")))

    def claimant_documents(self, tender_id: str, supplier_id: str) -> list[tuple[str, str]]:
        """``(document id, role)`` of the supplier's stored submissions and drafts in a tender (to re-check when a paper
        arrives)."""
        with self.session() as s:
            return [tuple(r) for r in s.execute(
                select(TenderDocumentRow.doc_id, TenderDocumentRow.role).join(DocumentRow, DocumentRow.id == TenderDocumentRow.doc_id)
                .where(TenderDocumentRow.tender_id == tender_id, TenderDocumentRow.supplier_id == supplier_id,
                       TenderDocumentRow.role.in_(("submission", "draft"))).order_by(TenderDocumentRow.id))]

    # --- reviews and claim versions ---------------------------------------------------------------

    def reviews(self, tender_id: str, claim_ids: Sequence[str], supplier_id: str) -> dict[str, list[ReviewDecision]]:
        """Review decisions per claim of one supplier's in a tender, oldest first.

        Claims are shared by everyone who uploaded the same bytes; decisions and corrections belong to one supplier's copy.
        """
        out: dict[str, list[ReviewDecision]] = {c: [] for c in claim_ids}
        if not claim_ids:
            return out
        with self.session() as s:
            for r in s.scalars(select(ReviewDecisionRow).where(ReviewDecisionRow.tender_id == tender_id,
                                                               ReviewDecisionRow.supplier_id == supplier_id,
                                                               ReviewDecisionRow.claim_id.in_(list(claim_ids)))
                               .order_by(ReviewDecisionRow.id)):
                out[r.claim_id].append(_review(r))
        return out

    def view_stamp(self, tender_id: str | None, doc_ids: Sequence[str]) -> tuple[dict[str, int], int]:
        """``({document id: revision}, newest review id in the tender)``: claim views built at the same stamp are current.

        A document's revision is bumped by the database itself on any change to the document, its claims, their support
        links or its ownership (migration 0003); 0 when it never changed. Review decisions are append-only, so the newest
        id says whether any came.
        """
        with self.session() as s:
            revisions = dict(s.execute(select(RevisionRow.scope, RevisionRow.value).where(RevisionRow.scope.in_(list(doc_ids)))).all())
            newest = s.scalar(select(func.max(ReviewDecisionRow.id)).where(ReviewDecisionRow.tender_id == tender_id)) if tender_id else None
        return {d: int(revisions.get(d, 0)) for d in doc_ids}, int(newest or 0)

    def reviewed_since(self, tender_id: str, after: int, upto: int) -> set[str]:
        """Ids of the claims with a review decision in the tender whose id is in ``(after, upto]``."""
        with self.session() as s:
            return set(s.scalars(select(ReviewDecisionRow.claim_id).where(ReviewDecisionRow.tender_id == tender_id,
                                                                          ReviewDecisionRow.id > after, ReviewDecisionRow.id <= upto)))

    def review_rows(self, tender_id: str, claim_id: str, supplier_id: str) -> list[dict]:
        with self.session() as s:
            versions = {v.review_id: v.version for v in s.scalars(select(ClaimVersionRow).where(
                ClaimVersionRow.claim_id == claim_id, ClaimVersionRow.tender_id == tender_id, ClaimVersionRow.supplier_id == supplier_id))}
            return [{"id": r.id, **_review(r).model_dump(), "tender_id": r.tender_id, "supplier_id": r.supplier_id,
                     "version": versions.get(r.id)}
                    for r in s.scalars(select(ReviewDecisionRow).where(ReviewDecisionRow.tender_id == tender_id,
                                                                       ReviewDecisionRow.supplier_id == supplier_id,
                                                                       ReviewDecisionRow.claim_id == claim_id)
                                       .order_by(ReviewDecisionRow.id))]

    def current_claims(self, tender_id: str, claims: Sequence[Claim], supplier_id: str) -> dict[str, tuple[int, Claim]]:
        """Each claim's current version in a tender, as one supplier's: ``(version, claim)``; version 0 is the extracted claim."""
        out = {c.id: (0, c) for c in claims}
        if not claims:
            return out
        with self.session() as s:
            rows = s.scalars(select(ClaimVersionRow).where(ClaimVersionRow.tender_id == tender_id,
                                                           ClaimVersionRow.supplier_id == supplier_id,
                                                           ClaimVersionRow.claim_id.in_(list(out)))
                             .order_by(ClaimVersionRow.version))
            for v in rows:
                out[v.claim_id] = (v.version, Claim.model_validate(v.data))
        return out

    def versions(self, tender_id: str, claim: Claim, supplier_id: str) -> list[dict]:
        """Every version of one supplier's claim in a tender, the extracted one (0) first."""
        with self.session() as s:
            rows = s.scalars(select(ClaimVersionRow).where(ClaimVersionRow.tender_id == tender_id, ClaimVersionRow.claim_id == claim.id,
                                                           ClaimVersionRow.supplier_id == supplier_id)
                             .order_by(ClaimVersionRow.version)).all()
            return [{"version": 0, "claim": claim, "review_id": None, "created_by": claim.extractor, "at": None}] + [
                {"version": v.version, "claim": Claim.model_validate(v.data), "review_id": v.review_id, "created_by": v.created_by,
                 "at": v.at} for v in rows]

    def add_review(self, actor: Principal, tender_id: str, claim_id: str, *, supplier_id: str, decision: Decision, reason: str,
                   corrections: dict | None = None) -> dict:
        """Append a review decision on one supplier's claim; a correction also appends a new version of it. Audited with
        before and after.

        Raises:
            InvalidRequestError: no reason, corrections with a decision other than 'corrected' (or none with it), a field that
                cannot be corrected, or a value the claim schema refuses.
        """
        reason = (reason or "").strip()
        corrections = dict(corrections or {})
        if not reason:
            raise InvalidRequestError("a review decision needs a reason.", hint="Say why, e.g. 'matches Table 2 of the cited trial'.",
                                      field="reason")
        if decision is not Decision.corrected and corrections:
            raise InvalidRequestError(f"corrections go only with the decision 'corrected', not {decision.value!r}.", field="corrections")
        if decision is Decision.corrected and not corrections:
            raise InvalidRequestError("a correction needs the corrected fields.",
                                      hint=f"Send e.g. {{\"corrections\": {{\"direction\": \"decrease\"}}}}; fields: {', '.join(CORRECTABLE)}.",
                                      field="corrections")
        # Read-then-append must not interleave with another decision on the same claim: two corrections would both take
        # version n+1 (a unique-key failure) and two decisions would both record the same "before". Decisions made in this
        # process queue on a lock; on PostgreSQL the claim row is locked too; a race lost to another process (the unique
        # key on the version catches it) is retried on the new state.
        for attempt in range(3):
            try:
                with self._review_lock:
                    return self._add_review(actor, tender_id, claim_id, supplier_id=supplier_id, decision=decision, reason=reason,
                                            corrections=corrections)
            except IntegrityError:
                if attempt == 2:
                    raise ConflictError(f"claim {claim_id} was reviewed by someone else at the same moment, three times in a row.",
                                        hint="Read the claim again and repeat the decision.") from None
        raise AssertionError("unreachable")

    def _add_review(self, actor: Principal, tender_id: str, claim_id: str, *, supplier_id: str, decision: Decision, reason: str,
                    corrections: dict) -> dict:
        with self.session() as s:
            base = s.get(ClaimRow, claim_id, with_for_update=True)
            latest = s.scalar(select(ClaimVersionRow).where(ClaimVersionRow.claim_id == claim_id, ClaimVersionRow.tender_id == tender_id,
                                                            ClaimVersionRow.supplier_id == supplier_id)
                              .order_by(ClaimVersionRow.version.desc()).limit(1))
            current = Claim.model_validate(latest.data if latest is not None else base.data)
            previous = s.scalar(select(ReviewDecisionRow).where(ReviewDecisionRow.claim_id == claim_id,
                                                                ReviewDecisionRow.tender_id == tender_id,
                                                                ReviewDecisionRow.supplier_id == supplier_id)
                                .order_by(ReviewDecisionRow.id.desc()).limit(1))
            corrected = apply_corrections(current, corrections) if decision is Decision.corrected else None
            row = ReviewDecisionRow(claim_id=claim_id, tender_id=tender_id, supplier_id=supplier_id, reviewer=actor.name,
                                    decision=decision.value,
                                    corrections=_jsonable(corrected.model_dump(mode="json", include=set(corrections))) if corrected else {},
                                    reason=reason)
            s.add(row)
            s.flush()
            version = latest.version if latest is not None else 0
            if corrected is not None:
                version += 1
                s.add(ClaimVersionRow(claim_id=claim_id, tender_id=tender_id, supplier_id=supplier_id, version=version,
                                      data=corrected.model_dump(mode="json"), review_id=row.id, created_by=actor.name))
            changed = sorted(corrections)
            before = {"review_state": previous.decision if previous is not None else "pending",
                      "version": latest.version if latest is not None else 0,
                      **({"fields": current.model_dump(mode="json", include=set(changed))} if changed else {})}
            after = {"review_state": decision.value, "version": version, "reason": reason, "supplier_id": supplier_id,
                     **({"fields": corrected.model_dump(mode="json", include=set(changed))} if corrected else {})}
            self._audit(s, actor, "claim.review", "claim", claim_id, tender_id=tender_id, before=before, after=after)
            return {"id": row.id, **_review(row).model_dump(), "tender_id": tender_id, "supplier_id": supplier_id,
                    "version": version if corrected else None}


def apply_corrections(claim: Claim, corrections: dict) -> Claim:
    """The claim with the corrected fields, validated by the claim schema.

    Raises:
        InvalidRequestError: a field that cannot be corrected, a value the schema refuses, or no change at all.
    """
    unknown = sorted(set(corrections) - set(CORRECTABLE))
    if unknown:
        raise InvalidRequestError(f"cannot correct {', '.join(map(repr, unknown))}.",
                                  hint=f"Correctable fields: {', '.join(CORRECTABLE)}. The quote, page and span are the claim's "
                                  "grounding in the source and never change.", field=f"corrections.{unknown[0]}")
    data = claim.model_dump(mode="json")
    data.update(corrections)
    try:
        corrected = Claim.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidRequestError(f"corrections.{where}: {first['msg']}.", hint="See the Claim schema in the API docs (/docs).",
                                  field=f"corrections.{where}") from None
    if corrected.model_dump(mode="json", include=set(corrections)) == claim.model_dump(mode="json", include=set(corrections)):
        raise InvalidRequestError("the corrections change nothing: every field already has that value.",
                                  hint="Send the decision 'accepted' to confirm a claim as it is.", field="corrections")
    return corrected


def _review(r: ReviewDecisionRow) -> ReviewDecision:
    return ReviewDecision(claim_id=r.claim_id, reviewer=r.reviewer, decision=r.decision, corrections=dict(r.corrections),
                          reason=r.reason, at=r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC))


__all__ = [
    "CORRECTABLE",
    "DOCUMENT_ROLES",
    "JOB_STATES",
    "ROLES",
    "SYSTEM",
    "Principal",
    "ServiceRepo",
    "apply_corrections",
    "evidence_context",
    "hash_key",
    "new_key",
    "owner_context",
    "request_id_var",
]
