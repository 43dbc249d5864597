"""The audit trail: read it (JSON, paged) or export it (JSON Lines or CSV). Admins see all; evaluators their tenders."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.deps import ServicesDep, StaffUser
from api.schemas import AuditEventPublic, Page

router = APIRouter(prefix="/audit", tags=["audit"])

COLUMNS = ["id", "at", "actor", "actor_id", "actor_role", "action", "target_type", "target_id", "tender_id", "before", "after", "detail",
           "request_id"]

TenderQ = Annotated[str | None, Query(description="Only this tender's events.")]
ActionQ = Annotated[str | None, Query(description="Only this action, e.g. claim.review or access.denied.")]
ActorQ = Annotated[str | None, Query(description="Only this actor (user name, or 'system').")]
TargetQ = Annotated[str | None, Query(description="Only events about this object id.")]
SinceQ = Annotated[datetime | None, Query(description="Only events at or after this time (ISO 8601).")]


def _filters(tender_id, action, actor, target_id, since) -> dict:
    if since is not None:  # stored times are UTC; a time without a zone is taken as UTC
        since = _utc(since)
    return {"tender_id": tender_id, "action": action, "actor_name": actor, "target_id": target_id, "since": since}


@router.get("", response_model=Page[AuditEventPublic])
def list_events(
    user: StaffUser,
    services: ServicesDep,
    tender_id: TenderQ = None,
    action: ActionQ = None,
    actor: ActorQ = None,
    target_id: TargetQ = None,
    since: SinceQ = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1, description="Events to skip.")] = 0,  # the database's integers are 64-bit
) -> dict:
    """Audit events, oldest first: who did what, when, to what, with the state before and after."""
    events, total = services.repo.list_audit(user, limit=limit, offset=offset, **_filters(tender_id, action, actor, target_id, since))
    return {"data": events, "count": total}


@router.get("/export", responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}, "description": "The events."}})
def export_events(
    user: StaffUser,
    services: ServicesDep,
    format: Annotated[Literal["jsonl", "csv"], Query(description="jsonl (one JSON event per line) or csv.")] = "jsonl",
    tender_id: TenderQ = None,
    action: ActionQ = None,
    actor: ActorQ = None,
    target_id: TargetQ = None,
    since: SinceQ = None,
) -> StreamingResponse:
    """Every audit event you may read, streamed as JSON Lines or CSV. The export itself is audited."""
    filters = _filters(tender_id, action, actor, target_id, since)
    services.repo.audit(user, "audit.export", "audit", tender_id or "*", tender_id=tender_id, after={"format": format, **filters})
    events = services.repo.iter_audit(user, **filters)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if format == "csv":
        return StreamingResponse(_csv(events), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})
    return StreamingResponse((json.dumps(_row(e), ensure_ascii=False) + "\n" for e in events), media_type="application/x-ndjson",
                             headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.jsonl"'})


def _utc(at: datetime) -> datetime:
    """A time in UTC; one whose UTC time falls outside years 1-9999 (0001-01-01T00:00+18:00) becomes the first or last time."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    try:
        return at.astimezone(UTC)
    except OverflowError:  # before 0001-01-01 or after 9999-12-31 in UTC: every event is after it, or none is
        return (datetime.min if at.year == 1 else datetime.max).replace(tzinfo=UTC)


def _row(e: dict) -> dict:
    at = e["at"]
    return {**e, "at": (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()}


def _csv(events) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for e in events:
        row = _row(e)
        writer.writerow([json.dumps(row[c], ensure_ascii=False) if isinstance(row[c], dict) else _cell(row[c]) for c in COLUMNS])
        if buf.tell() > 64 * 1024:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _cell(value) -> str:
    from api.reports import safe_cell

    return "" if value is None else safe_cell(str(value))
