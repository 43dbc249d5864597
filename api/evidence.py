"""Keep the passage index in step with the database, and store claim checks for the party they were made for.

The plain functions here are what the CLI (`vbp ingest`, `vbp check-claim`, `vbp support`) and the HTTP service
call: indexing a stored document, deleting one from both stores, and checking claims and storing their links. The
checking itself (candidate passages, stance, numeric check) is domain logic in ``retrieval.checking``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence

from extractor.schema import Claim
from retrieval.checking.check import ClaimCheck, claim_query

log = logging.getLogger(__name__)


# --- the index, kept in step with the database -------------------------------------------------------


def open_index(settings, store, *, check: bool = True):
    """Open the configured passage index and compare it with the database.

    Args:
        settings: ``api.settings.Settings``.
        store: The repository.
        check: Compare the index with the database (cheap: counts per document).

    Returns:
        ``(searcher, report)``: the report is None when not checked; ``report.ok`` is False when the index
        is out of step (the caller warns and points at `vbp reindex`).

    Raises:
        IndexCorruptError / IndexMismatchError / IndexUnavailableError: the index cannot be opened.
    """
    from retrieval.search import check_consistency, open_searcher

    searcher = open_searcher(settings.retrieval, data_dir=settings.data_dir)
    report = check_consistency(searcher, store.passage_counts()) if check else None
    if report is not None and not report.ok:
        log.warning("the passage index is out of step with the database (%s); run `vbp reindex`", report.summary())
    return searcher, report


def index_document(searcher, store, doc_id: str, *, embed=None) -> int:
    """(Re-)index one stored document's passages in both indexes; returns how many were written.

    ``embed`` (texts -> vectors, the index's own embedder run elsewhere, e.g. ``api.compute``) computes the passage
    vectors instead of the index.

    Raises:
        NotFoundError: no such document. IndexCorruptError: the index cannot be written.
    """
    doc = store.get_document(doc_id)
    searcher.delete_document(doc.id)
    if not doc.passages:
        return 0
    vectors = embed([p.text for p in doc.passages]) if embed is not None else None
    return searcher.add(doc.passages, kinds={doc.id: doc.kind.value}, vectors=vectors)


def delete_document(store, searcher, doc_id: str) -> str:
    """Delete a document from the database and then from the index; returns its full id.

    The database goes first: if the index cannot be updated, the start-up check reports the stale passages and
    `vbp reindex` removes them, while search results are filtered to stored documents meanwhile.
    """
    full_id = store.get_document(doc_id).id
    store.delete_document(full_id)
    if searcher is not None:
        searcher.delete_document(full_id)
    return full_id


# --- checking claims, stored for the party they were checked for ------------------------------------


def check_claims(
    claims: Sequence[Claim],
    *,
    store,
    searcher,
    classifier=None,
    scope: Collection[str] | None = None,
    cited_k: int | None = None,
    other_k: int | None = None,
    settings=None,
    save: bool = True,
    context: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> list[ClaimCheck]:
    """Check claims (``retrieval.checking.check.check_claims``) and store each claim's links in ``context`` (replacing
    that context's earlier ones, and no other's) when ``save``.

    Args:
        claims: Stored claims.
        store: The repository. searcher: The open hybrid index. classifier: A stance classifier (default: the shipped one).
        scope: Only these documents may serve as evidence; None: every stored document.
        cited_k / other_k: Override ``settings.cited_k`` / ``settings.other_k`` (passages from the cited papers / the rest).
        settings: ``retrieval.settings.CheckSettings`` (default: its defaults).
        save: Store the links.
        context: The party the check is made for (``api.store.service.evidence_context``; ``''``: the command line). It
            should match ``scope``: the links of one party's context are checked against that party's papers only.
        progress: Called after each claim with (done, total).
    """
    from retrieval.checking.check import check_claims as check
    from retrieval.settings import CheckSettings

    settings = settings or CheckSettings()
    overrides = {k: v for k, v in (("cited_k", cited_k), ("other_k", other_k)) if v is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)
    results = check(claims, source=store, searcher=searcher, classifier=classifier, scope=scope, settings=settings, progress=progress)
    if save:
        for result in results:
            store.save_support_links(result.claim.id, result.links, context=context)
    return results


def support_document(store, searcher, doc_id: str, **options) -> list[ClaimCheck]:
    """Check every stored claim of a document (a supplier submission) against its cited papers and the collection.

    Options are those of :func:`check_claims`.

    Raises:
        NotFoundError: no such document.
    """
    return check_claims(store.list_claims(doc_id), store=store, searcher=searcher, **options)


def evidence_items(checks: Sequence[ClaimCheck], store) -> list:
    """The reports' input (``api.reports.ClaimEvidence``) for checked claims, with the passages and titles their links need."""
    from api.reports import ClaimEvidence

    passages = store.get_passages([lk.passage_id for c in checks for lk in c.links])
    titles = {r["id"]: (r["title"] or r["filename"]) for r in store.list_documents()}
    items = []
    for c in checks:
        mine = {lk.passage_id: passages[lk.passage_id] for lk in c.links if lk.passage_id in passages}
        docs = {d: titles[d] for d in {c.claim.doc_id, *(p.doc_id for p in mine.values())} if d in titles}
        claim = c.claim
        if c.evidence_level is not None and c.evidence_level is not claim.evidence_level:
            claim = claim.model_copy(update={"evidence_level": c.evidence_level})
        items.append(ClaimEvidence(claim=claim, links=list(c.links), review=None, passages=mine, documents=docs))
    return items
