"""Batch ingest: parse files (in worker processes), store each in one transaction.

One bad file never stops a batch: its error is recorded and the next file goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from extractor.batch import parse_many
from extractor.errors import DocumentError, EvidenceError
from extractor.pipeline import OFFICE_SUFFIXES, TEXT_SUFFIXES
from extractor.schema import Document, DocumentKind, IngestStatus
from extractor.settings import ParsingSettings

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".pdf", *OFFICE_SUFFIXES, *TEXT_SUFFIXES}


@dataclass(slots=True)
class IngestResult:
    """What happened to one file."""

    path: Path
    status: IngestStatus
    doc_id: str | None = None
    pages: int = 0
    kind: str | None = None
    message: str = ""
    error_code: str | None = None
    seconds: float = 0.0
    warnings: int = 0
    indexed: int | None = None  # passages written to the index; None when not indexed


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus every supported file under the folders named (sorted, recursive).

    Raises:
        DocumentError: a named path does not exist.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES))
        elif p.exists():
            out.append(p)
        else:
            raise DocumentError(str(p), "no such file or folder.", hint="Check the path.")
    return out


def ingest_paths(
    paths: Iterable[str | Path],
    *,
    store,
    settings: ParsingSettings,
    workers: int,
    password: str | None = None,
    kind: DocumentKind | str | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
    searcher=None,
) -> list[IngestResult]:
    """Parse and store every file; return one result per file, in the order they finished.

    Args:
        paths: Files and folders.
        store: The repository (``api.store.repository.Store``).
        settings: Parsing settings.
        workers: Parser processes (0: parse in this process).
        password: Password for encrypted PDFs.
        kind: Force the document kind for every file.
        on_result: Called after each file, e.g. to advance a progress bar.
        searcher: The passage index (``retrieval.search.HybridSearcher``): each stored document's passages are
            indexed right after it is stored, and an unchanged one is indexed if the index lacks it.
    """
    files = expand_paths(paths)
    results: list[IngestResult] = []
    for path, outcome, seconds in parse_many(files, settings=settings, workers=workers, password=password, kind=kind):
        result = _store_one(store, path, outcome, seconds)
        if searcher is not None and result.doc_id and result.status is not IngestStatus.failed:
            index_stored(result, store=store, searcher=searcher)
        results.append(result)
        if on_result:
            on_result(result)
    return results


def _store_one(store, path: Path, outcome: Document | EvidenceError, seconds: float) -> IngestResult:
    if isinstance(outcome, EvidenceError):
        code = getattr(outcome, "code", "error")
        store.record_ingest(path.name, IngestStatus.failed, error_code=code, message=str(outcome))
        return IngestResult(path, IngestStatus.failed, message=str(outcome), error_code=code, seconds=seconds)
    try:
        status = store.save_document(outcome, path)
    except Exception as e:  # noqa: BLE001 - a storage failure fails this file only; the transaction rolled back
        log.exception("storing %s failed", path)
        message = f"{path.name}: could not be stored ({type(e).__name__}: {e}); nothing was written."
        store.record_ingest(path.name, IngestStatus.failed, doc_id=outcome.id, error_code="storage_error", message=message)
        return IngestResult(path, IngestStatus.failed, doc_id=outcome.id, message=message, error_code="storage_error", seconds=seconds)
    store.record_ingest(path.name, status, doc_id=outcome.id, message="; ".join(outcome.warnings))
    return IngestResult(path, status, doc_id=outcome.id, pages=outcome.page_count, kind=outcome.kind.value,
                        message="; ".join(outcome.warnings), seconds=seconds, warnings=len(outcome.warnings))


def index_stored(result: IngestResult, *, store, searcher) -> None:
    """Index a stored document's passages; a failure keeps the document and says how to catch the index up."""
    from api.evidence import index_document

    if result.status is IngestStatus.unchanged and searcher.has_document(result.doc_id):
        return
    try:
        result.indexed = index_document(searcher, store, result.doc_id)
    except EvidenceError as e:
        note = f"stored, but not indexed ({e}); run `vbp reindex` to catch the index up."
        log.warning("%s: %s", result.path, note)
        result.message = "; ".join(filter(None, [result.message, note]))
        result.warnings += 1


def extract_and_store(target: str | Path, *, store, settings: ParsingSettings, password: str | None = None,
                      kind: DocumentKind | str | None = None, searcher=None):
    """Parse a file (or load a stored document by id), extract its claims and store both.

    Returns:
        ``(document, extraction result, claims added, claims already stored)``.

    Raises:
        DocumentError: the file cannot be parsed. NotFoundError: no such stored document.
    """
    from extractor.claims import extract_claims
    from extractor.pipeline import parse_file

    path = Path(target)
    if path.exists():
        doc = parse_file(path, settings=settings, password=password, kind=kind)
        status = store.save_document(doc, path)
        doc = store.get_document(doc.id)  # a user-set kind from an earlier ingest wins
        if searcher is not None:
            index_stored(IngestResult(path, status, doc_id=doc.id), store=store, searcher=searcher)
    else:
        doc = store.get_document(str(target))
    result = extract_claims(doc)
    added, kept = store.save_claims(result.claims)
    return doc, result, added, kept
