"""Claim views kept in memory between requests, so that listing a tender's claims does not rebuild every claim each time.

Listing a tender's claims is the service's most frequent read (an evaluator's work queue, re-filtered at every
click). Building one document's views reads its claims, support links, corrected versions and review decisions and
validates them all (about 25 ms for 170 claims on this project's 2-core machine); a cached document costs a lookup,
and its items are serialized once, not at every request.

When is an entry stale? Each remembers the stamp it was built at (``ServiceRepo.view_stamp``):

* its document's **revision**, which the database itself bumps (triggers, migration 0003) on any change to the
  document, its claims, their support links or its ownership, whoever makes it: a job of this service, another
  process, or a ``vbp`` command on the same database. When it moved, the entry is rebuilt (a job writing another
  document's links leaves it alone);
* the newest **review decision id** of its tender. When only that moved, the claims reviewed since are re-read one
  by one, on SQLite, where one writer at a time means review ids become visible in order. On a server database ids
  may commit out of order, so there the entry is rebuilt instead.

The stamp is read before an entry is built, so a change that lands during a build leaves the entry stale, never wrong.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from fastapi.responses import Response
from pydantic import TypeAdapter

from api.schemas import ClaimItem
from api.views import ClaimView, claim_view, claim_views, is_pending
from extractor.errors import NotFoundError

PATCH_LIMIT = 32
"""Above this many claims reviewed since an entry was built, rebuilding it is cheaper than re-reading each."""

_ITEM = TypeAdapter(ClaimItem)


def item_json(view: ClaimView) -> bytes:
    """The view's ``ClaimItem`` body as JSON, as the response model would serialize it."""
    return _ITEM.dump_json(_ITEM.validate_python(view.item()), by_alias=True)


def page_json(views: list[ClaimView], count: int) -> bytes:
    """A ``Page[ClaimItem]`` body from views whose items are serialized already."""
    items = b",".join(v.item_json if v.item_json is not None else item_json(v) for v in views)
    return b'{"data":[' + items + b'],"count":' + str(count).encode() + b"}"


class JSONBytes(Response):
    """A JSON body serialized already (the route's ``response_model`` still documents it in the OpenAPI schema)."""

    media_type = "application/json"


@dataclass(frozen=True, slots=True)
class _Entry:
    data_rev: int
    review_id: int
    views: tuple[ClaimView, ...]  # reading order; never mutated (a patch makes a new entry)


class ClaimViewCache:
    """Each document's claim views, per owner (document, supplier, role) and tender, with their items serialized.

    Args:
        services: ``api.services.Services``.
        max_entries: Entries kept (least recently used dropped first).
        incremental: Re-read only newly reviewed claims (default: on SQLite only, see the module docstring).
    """

    def __init__(self, services, *, max_entries: int = 1024, incremental: bool | None = None) -> None:
        self._services = services
        self._max = max_entries
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._incremental = (services.store.engine.dialect.name == "sqlite") if incremental is None else incremental
        self.stats = {"hits": 0, "patched": 0, "built": 0}

    def views(self, owners: list[dict], *, tender_id: str | None) -> list[ClaimView]:
        """Every claim of the stored documents among ``owners``, as :func:`api.views.claim_views` gives them, current."""
        if not owners:
            return []
        revisions, review_id = self._services.repo.view_stamp(tender_id, list(dict.fromkeys(o["doc_id"] for o in owners)))
        processing = self._services.repo.processing()  # a job that starts or ends changes no revision: it is in the key
        out: list[ClaimView] = []
        seen: set[tuple[str, str]] = set()
        for owner in owners:
            mine = (owner["doc_id"], owner["supplier_id"])
            if mine in seen:
                continue
            seen.add(mine)
            key = (owner["doc_id"], owner["supplier_id"], owner["role"], tender_id, is_pending(owner, processing))
            data_rev = revisions[owner["doc_id"]]
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
            if entry is None or entry.data_rev != data_rev:
                entry = self._build(owner, tender_id, data_rev, review_id, processing)
            elif entry.review_id != review_id:
                entry = self._patch(entry, owner, tender_id, data_rev, review_id)
            else:
                self.stats["hits"] += 1
            self._put(key, entry)
            out.extend(entry.views)
        return out

    def claim(self, owner: dict, claim_id: str, *, tender_id: str | None) -> ClaimView | None:
        """One claim's current view from its document's entry (built or brought up to date first); None if not there."""
        return next((v for v in self.views([owner], tender_id=tender_id) if v.claim.id == claim_id), None)

    def _put(self, key: tuple, entry: _Entry) -> None:
        with self._lock:
            held = self._entries.get(key)
            if held is not None and (held.data_rev, held.review_id) > (entry.data_rev, entry.review_id):
                return  # a concurrent request stored a newer one
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def _build(self, owner: dict, tender_id: str | None, data_rev: int, review_id: int,
               processing: tuple[set[str], set[tuple[str, str]]] | None = None) -> _Entry:
        self.stats["built"] += 1
        views = claim_views(self._services, [owner], tender_id=tender_id, processing=processing)
        for v in views:
            v.item_json = item_json(v)
        return _Entry(data_rev, review_id, tuple(views))

    def _patch(self, entry: _Entry, owner: dict, tender_id: str | None, data_rev: int, review_id: int) -> _Entry:
        if not self._incremental or tender_id is None:
            return self._build(owner, tender_id, data_rev, review_id)
        changed = self._services.repo.reviewed_since(tender_id, entry.review_id, review_id)
        positions = {v.claim.id: i for i, v in enumerate(entry.views) if v.claim.id in changed}
        if len(positions) > PATCH_LIMIT:
            return self._build(owner, tender_id, data_rev, review_id)
        views = list(entry.views)
        try:
            for claim_id, i in positions.items():
                fresh = claim_view(self._services, owner, claim_id, tender_id=tender_id)
                fresh.item_json = item_json(fresh)
                views[i] = fresh
        except NotFoundError:  # deleted meanwhile: the data revision moved too
            return self._build(owner, tender_id, data_rev, review_id)
        self.stats["patched"] += 1
        return _Entry(data_rev, review_id, tuple(views))
