"""Dense passage indexes: a persistent Chroma collection (embedded or a server) and an in-memory numpy one for tests."""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from extractor.errors import EvidenceError
from extractor.schema import Passage
from retrieval.base import (
    Embedder,
    Hit,
    PassageIndex,
    SearchFilters,
    check_k,
    check_known_documents,
    hit_from,
    passage_metadata,
    prepare_query,
)
from retrieval.errors import IndexCorruptError, IndexMismatchError, IndexUnavailableError, RetrievalError

log = logging.getLogger(__name__)

LAYOUT_VERSION = 1  # the metadata layout of a passage; a change needs `vbp reindex`
DEFAULT_MAX_QUERY_CHARS = 2000

__all__ = ["ChromaPassageIndex", "MemoryPassageIndex", "PassageIndex", "chroma_where"]


def _meta_matches(meta: Mapping[str, object], filters: SearchFilters) -> bool:
    """Whether a passage's metadata passes the filters other than documents (as :func:`chroma_where` filters them)."""
    return ((filters.kinds is None or meta.get("kind") in filters.kinds)
            and (filters.sections is None or meta.get("section") in filters.sections)
            and (filters.pages is None or meta.get("page") in filters.pages))


def chroma_where(filters: SearchFilters | None) -> dict | None:
    """Translate search filters into a Chroma ``where`` clause (None when nothing is filtered)."""
    if filters is None or filters.is_empty():
        return None
    clauses = []
    for field, key in (("doc_ids", "doc_id"), ("kinds", "kind"), ("sections", "section"), ("pages", "page")):
        values = getattr(filters, field)
        if values is not None:
            clauses.append({key: {"$in": list(values)}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class MemoryPassageIndex:
    """Exact cosine search over an in-memory matrix; for unit tests and small throwaway collections."""

    name = "index.memory.v1"

    def __init__(self, embedder: Embedder, *, batch_size: int = 32, max_query_chars: int = DEFAULT_MAX_QUERY_CHARS) -> None:
        self.embedder = embedder
        self.batch_size = batch_size
        self.max_query_chars = max_query_chars
        self._rows: dict[str, tuple[str, dict[str, object], np.ndarray]] = {}

    def add(self, passages: Sequence[Passage], *, kinds: Mapping[str, str] | None = None, vectors=None) -> int:
        """Add or replace passages (by id); ``kinds`` maps doc id to document kind; ``vectors``: their embeddings, when
        computed already. Returns how many were written."""
        passages = list(passages)
        vectors = self.embedder.embed([p.text for p in passages], batch_size=self.batch_size) if vectors is None else vectors
        for p, v in zip(passages, vectors, strict=True):
            self._rows[p.id] = (p.text, passage_metadata(p, (kinds or {}).get(p.doc_id)), v)
        return len(passages)

    def delete_document(self, doc_id: str) -> int:
        """Remove the passages of a document; returns how many were removed."""
        gone = [pid for pid, (_, meta, _) in self._rows.items() if meta["doc_id"] == doc_id]
        for pid in gone:
            del self._rows[pid]
        return len(gone)

    def search(self, query: str, k: int = 10, *, filters: SearchFilters | None = None) -> list[Hit]:
        """The ``k`` passages closest to the query by cosine similarity.

        Raises:
            InvalidQueryError: empty query or bad ``k``.
            UnknownDocumentError: the filters name documents not in the index.
        """
        text = prepare_query(query, max_chars=self.max_query_chars)
        check_k(k)
        check_known_documents(filters, self.doc_ids())
        return self.search_vector(self.embedder.embed([text])[0], k, filters=filters)

    def search_vector(self, vector: np.ndarray, k: int = 10, *, filters: SearchFilters | None = None) -> list[Hit]:
        """The ``k`` passages closest to an already embedded query."""
        rows = [(pid, row) for pid, row in self._rows.items() if filters is None or filters.matches(row[1])]
        if not rows:
            return []
        scores = np.stack([row[2] for _, row in rows]) @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return [hit_from(rows[i][0], rows[i][1][0], rows[i][1][1], score=float(scores[i]), dense_rank=r + 1,
                         dense_score=float(scores[i])) for r, i in enumerate(order)]

    def count(self) -> int:
        """Number of passages held."""
        return len(self._rows)

    def doc_ids(self) -> set[str]:
        """Ids of the documents held."""
        return {str(meta["doc_id"]) for _, meta, _ in self._rows.values()}

    def doc_counts(self) -> dict[str, int]:
        """Passages held per document."""
        return dict(Counter(str(meta["doc_id"]) for _, meta, _ in self._rows.values()))

    def has_document(self, doc_id: str) -> bool:
        """Whether the document has passages here."""
        return any(meta["doc_id"] == doc_id for _, meta, _ in self._rows.values())

    def clear(self) -> None:
        """Remove every passage."""
        self._rows.clear()


EXACT_MAX_DOCUMENTS = 200
EXACT_MAX_PASSAGES = 20_000
"""A search restricted to at most this many documents, holding at most this many passages, is answered exactly from memory."""
CACHED_MAX_PASSAGES = 100_000
"""Passage vectors kept in memory for such searches (about 150 MB at 384 dimensions); least recently used go first."""


@dataclass(frozen=True, slots=True)
class _DocVectors:
    """One document's passages as Chroma holds them, with unit-length vectors, for exact search in memory."""

    ids: list[str]
    texts: list[str]
    metas: list[dict]
    unit: np.ndarray  # (n, dimensions) float32


class ChromaPassageIndex:
    """Passages in a Chroma collection: embedded (``PersistentClient`` in ``folder``) or on a server (``HttpClient``).

    Embeddings are computed here with ``embedder`` and handed to Chroma; the collection also records a
    ``vbp.minilm`` embedding function (never Chroma's default, which downloads a model) so other clients
    opening it embed queries the same way. Telemetry is off. Every Chroma failure is raised as an
    ``IndexCorruptError`` naming the folder (or ``IndexUnavailableError`` for an unreachable server): a broken
    index never answers with silent empty results.

    A search restricted to a few documents (a tender's papers, one submission: the service's usual case) is answered
    exactly, by one matrix product over those documents' vectors read once from Chroma and kept in memory, instead of
    a filtered approximate search (which costs several times more per query). The copy is dropped whenever this index
    writes or deletes the document; with a Chroma server, which other processes may write to, it is never kept.
    """

    name = "index.chroma.v1"

    def __init__(
        self,
        folder: Path | None,
        *,
        embedder: Embedder,
        collection: str = "passages",
        url: str | None = None,
        cache_dir: Path | None = None,
        batch_size: int = 32,
        max_query_chars: int = DEFAULT_MAX_QUERY_CHARS,
        reset: bool = False,
    ) -> None:
        """Open (creating when absent) the collection.

        Args:
            folder: Folder of the embedded Chroma; ignored when ``url`` is set.
            embedder: Embeds passages and queries.
            collection: Collection name.
            url: ``http(s)://host[:port]`` of a Chroma server; None for the embedded Chroma in ``folder``.
            cache_dir: Folder recorded in the collection's embedding-function config (where the ONNX export lives).
            batch_size: Passages embedded and written per batch.
            max_query_chars: Longer queries are cut (with a warning).
            reset: Start from an empty collection: delete the folder's contents (embedded) or the collection (server)
                first. ``vbp reindex`` uses this to recover from a corrupted folder.

        Raises:
            IndexCorruptError: the folder cannot be read.
            IndexUnavailableError: the server cannot be reached.
            IndexMismatchError: the collection was built with another embedder or layout.
        """
        if folder is None and url is None:
            raise RetrievalError("a Chroma index needs a folder or a server URL.", hint="Set the data folder or VBP_RETRIEVAL__CHROMA_URL.")
        self.folder = Path(folder) if folder is not None else None
        self.url = url
        self.embedder = embedder
        self.collection_name = collection
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.max_query_chars = max_query_chars
        self._lock = threading.RLock()
        self._vectors: OrderedDict[str, _DocVectors] = OrderedDict()
        self._vectors_lock = threading.Lock()
        self._exact = url is None
        self.where = url or str(self.folder)
        if reset and url is None:
            _drop_folder(self.folder)  # type: ignore[arg-type]
        with self._guard("opening"):
            self._client = self._connect()
            if reset and url is not None:
                with contextlib.suppress(Exception):
                    self._client.delete_collection(collection)
            self._collection = self._open_collection()

    # --- opening --------------------------------------------------------------------------------

    def _settings(self):
        from chromadb.config import Settings

        # Always the same settings: Chroma refuses a second client for a folder with different ones in one process.
        return Settings(anonymized_telemetry=False, allow_reset=False)

    def _connect(self):
        import chromadb

        from retrieval.embedder import register_chroma_embedding_function

        register_chroma_embedding_function()  # register vbp.minilm before Chroma reads a collection's config
        if self.url is None:
            self.folder.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            return chromadb.PersistentClient(path=str(self.folder), settings=self._settings())
        parsed = urlparse(self.url)
        ssl = parsed.scheme == "https"
        return chromadb.HttpClient(host=parsed.hostname or "localhost", port=parsed.port or (443 if ssl else 8000), ssl=ssl,
                                   settings=self._settings())

    def _open_collection(self):
        from chromadb.errors import NotFoundError as ChromaNotFound

        try:
            col = self._client.get_collection(self.collection_name)
        except ChromaNotFound:
            col = None
        except ValueError as e:  # older servers say "does not exist" with a ValueError
            if "does not exist" not in str(e):
                raise
            col = None
        if col is None:
            return self._create_collection()
        meta = col.metadata or {}
        built_with, layout = meta.get("embedder"), meta.get("layout")
        if built_with != self.embedder.name or layout != LAYOUT_VERSION:
            raise IndexMismatchError(
                f"the passage index in {self.where} was built with embedder {built_with!r} (layout {layout!r}); "
                f"the settings ask for {self.embedder.name!r} (layout {LAYOUT_VERSION}).",
                hint="Run `vbp reindex` to rebuild it with the current settings, or set VBP_RETRIEVAL__EMBEDDER back.",
            )
        return col

    def _create_collection(self):
        from retrieval.embedder import chroma_embedding_function

        ef = chroma_embedding_function(self.embedder, cache_dir=self.cache_dir)
        return self._client.create_collection(
            self.collection_name,
            embedding_function=ef,
            metadata={"embedder": self.embedder.name, "layout": LAYOUT_VERSION, "dimensions": self.embedder.dimensions},
            configuration={"hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": 200}},
        )

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn any Chroma failure into our errors, naming the folder and the fix."""
        try:
            with self._lock:
                yield
        except EvidenceError:
            raise
        except (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError):
            raise
        except BaseException as e:  # noqa: BLE001 - Chroma's Rust core raises pyo3 PanicException (a BaseException)
            detail = f"{action}: {type(e).__name__}: {str(e)[:300]}"
            if self.url is not None:
                if _is_connection_error(e):
                    raise IndexUnavailableError(
                        f"the Chroma server at {self.url} cannot be reached ({detail}).",
                        hint="Start the server, or unset VBP_RETRIEVAL__CHROMA_URL to use the embedded index.",
                        original=e,
                    ) from e
                raise RetrievalError(f"the Chroma server at {self.url} failed ({detail}).",
                                     hint="Check the server's log; " + "run `vbp reindex` if the collection is damaged.",
                                     original=e) from e
            raise IndexCorruptError(self.folder, detail, original=e) from e

    # --- writing --------------------------------------------------------------------------------

    def add(self, passages: Sequence[Passage], *, kinds: Mapping[str, str] | None = None, vectors=None) -> int:
        """Add or replace passages (by id), embedding them in batches (``vectors``: their embeddings, when computed already
        by the same embedder).

        Raises:
            IndexCorruptError: Chroma cannot write to the folder.
        """
        passages = list(passages)
        kinds = kinds or {}
        step = max(1, self.batch_size * 8)
        for start in range(0, len(passages), step):
            chunk = passages[start : start + step]
            if vectors is None:
                chunk_vectors = self.embedder.embed([p.text for p in chunk], batch_size=self.batch_size)
            else:
                chunk_vectors = np.asarray(vectors[start : start + step], dtype=np.float32)
                if len(chunk_vectors) != len(chunk):
                    raise ValueError(f"{len(vectors)} vectors for {len(passages)} passages")
            self._forget({p.doc_id for p in chunk})
            with self._guard("writing"):
                self._collection.upsert(
                    ids=[p.id for p in chunk],
                    embeddings=chunk_vectors,
                    documents=[p.text for p in chunk],
                    metadatas=[passage_metadata(p, kinds.get(p.doc_id)) for p in chunk],
                )
        return len(passages)

    def delete_document(self, doc_id: str) -> int:
        """Remove every passage of a document; returns how many were removed (0 when none)."""
        self._forget({doc_id})
        with self._guard("deleting"):
            ids = self._collection.get(where={"doc_id": doc_id}, include=[])["ids"]
            if ids:
                self._collection.delete(ids=ids)
        self._forget({doc_id})  # a search between the two may have read it back
        return len(ids)

    def clear(self) -> None:
        """Remove every passage (drops and recreates the collection)."""
        with self._guard("clearing"):
            self._client.delete_collection(self.collection_name)
            self._collection = self._create_collection()
        with self._vectors_lock:
            self._vectors.clear()

    # --- reading --------------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, *, filters: SearchFilters | None = None) -> list[Hit]:
        """The ``k`` passages nearest to the query (cosine), best first.

        Raises:
            InvalidQueryError: empty query or bad ``k``.
            UnknownDocumentError: the filters name documents not in the index.
            IndexCorruptError: Chroma cannot read the folder.
        """
        text = prepare_query(query, max_chars=self.max_query_chars)
        check_k(k)
        if filters is not None and filters.doc_ids is not None:
            check_known_documents(filters, self.known(filters.doc_ids))
        return self.search_vector(self.embedder.embed([text])[0], k, filters=filters)

    def search_vector(self, vector: np.ndarray, k: int = 10, *, filters: SearchFilters | None = None) -> list[Hit]:
        """The ``k`` passages nearest to an already embedded query."""
        if self._exact and filters is not None and filters.doc_ids is not None:
            hits = self._search_exact(np.asarray(vector, dtype=np.float32), k, filters)
            if hits is not None:
                return hits
        with self._guard("searching"):
            res = self._collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k,
                                         where=chroma_where(filters), include=["documents", "metadatas", "distances"])
        hits = []
        for rank, (pid, doc, meta, dist) in enumerate(zip(res["ids"][0], res["documents"][0], res["metadatas"][0],
                                                           res["distances"][0], strict=True), start=1):
            similarity = 1.0 - float(dist)
            hits.append(hit_from(pid, doc or "", meta or {}, score=similarity, dense_rank=rank, dense_score=similarity))
        return hits

    def _forget(self, doc_ids: set[str]) -> None:
        with self._vectors_lock:
            for d in doc_ids:
                self._vectors.pop(d, None)

    def _doc_vectors(self, doc_id: str) -> _DocVectors:
        with self._vectors_lock:
            held = self._vectors.get(doc_id)
            if held is not None:
                self._vectors.move_to_end(doc_id)
                return held
        with self._guard("searching"):
            got = self._collection.get(where={"doc_id": doc_id}, include=["embeddings", "documents", "metadatas"])
        dims = getattr(self.embedder, "dimensions", None) or 0
        matrix = (np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1) if len(got["ids"])
                  else np.zeros((0, dims), dtype=np.float32))
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        block = _DocVectors(list(got["ids"]), [t or "" for t in got["documents"]], [m or {} for m in got["metadatas"]],
                            matrix / np.where(norms > 0, norms, 1.0))
        with self._vectors_lock:
            self._vectors[doc_id] = block
            held = sum(len(b.ids) for b in self._vectors.values())
            while held > CACHED_MAX_PASSAGES and len(self._vectors) > 1:
                _, dropped = self._vectors.popitem(last=False)
                held -= len(dropped.ids)
        return block

    def _search_exact(self, vector: np.ndarray, k: int, filters: SearchFilters) -> list[Hit] | None:
        """Cosine search over the filter's documents in memory; None when they are too many for it."""
        if len(filters.doc_ids) > EXACT_MAX_DOCUMENTS:
            return None
        blocks = [self._doc_vectors(d) for d in filters.doc_ids]
        if sum(len(b.ids) for b in blocks) > EXACT_MAX_PASSAGES:
            return None
        query = vector / (float(np.linalg.norm(vector)) or 1.0)
        rows: list[tuple[_DocVectors, int]] = []
        parts = []
        plain = filters.kinds is None and filters.sections is None and filters.pages is None
        for b in blocks:
            keep = range(len(b.ids)) if plain else [i for i, meta in enumerate(b.metas) if _meta_matches(meta, filters)]
            if len(keep):
                rows += [(b, i) for i in keep]
                parts.append((b.unit if plain else b.unit[list(keep)]) @ query)
        if not rows:
            return []
        sims = np.concatenate(parts)
        hits = []
        for rank, j in enumerate(np.argsort(-sims, kind="stable")[:k], start=1):
            b, i = rows[int(j)]
            similarity = float(sims[j])
            hits.append(hit_from(b.ids[i], b.texts[i], b.metas[i], score=similarity, dense_rank=rank, dense_score=similarity))
        return hits

    def known(self, doc_ids: Sequence[str]) -> set[str]:
        """Which of ``doc_ids`` have passages in the index (one small query per id)."""
        found = set()
        with self._guard("searching"):
            for d in doc_ids:
                if self._collection.get(where={"doc_id": d}, limit=1, include=[])["ids"]:
                    found.add(d)
        return found

    def has_document(self, doc_id: str) -> bool:
        """Whether the document has passages here (one small query)."""
        return bool(self.known([doc_id]))

    def count(self) -> int:
        """Number of passages held."""
        with self._guard("counting"):
            return self._collection.count()

    def doc_ids(self) -> set[str]:
        """Ids of the documents held (reads every passage's metadata)."""
        return set(self.doc_counts())

    def doc_counts(self) -> dict[str, int]:
        """Passages held per document (reads every passage's metadata, in pages)."""
        counts: Counter[str] = Counter()
        page = 5000
        with self._guard("reading"):
            total = self._collection.count()
            for offset in range(0, total, page):
                metas = self._collection.get(include=["metadatas"], limit=page, offset=offset)["metadatas"] or []
                counts.update(str(m.get("doc_id")) for m in metas if m)
        return dict(counts)

    def close(self) -> None:
        """Release the client (an embedded Chroma keeps one system per folder per process until its last client closes)."""
        client, self._client, self._collection = getattr(self, "_client", None), None, None
        if client is not None and hasattr(client, "close"):
            with contextlib.suppress(Exception):
                client.close()


def _is_connection_error(e: BaseException) -> bool:
    import httpx

    text = str(e).lower()
    return isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout, ConnectionError)) or "could not connect" in text


def _drop_folder(folder: Path) -> None:
    """Delete an embedded Chroma folder and forget Chroma's cached system for it, so that it can be recreated."""
    from chromadb.api.shared_system_client import SharedSystemClient

    # Chroma caches one System per path in the process; after the folder is deleted a cached System writes to a
    # database that no longer exists ("attempt to write a readonly database").
    # SEE: https://github.com/chroma-core/chroma/issues/6499
    try:
        system = SharedSystemClient._identifier_to_system.pop(str(folder), None)
        SharedSystemClient._identifier_to_refcount.pop(str(folder), None)
        if system is not None:
            with contextlib.suppress(Exception):
                system.stop()
    except AttributeError:  # pragma: no cover - a Chroma without these internals
        SharedSystemClient.clear_system_cache()
    if folder.exists():
        shutil.rmtree(folder)
