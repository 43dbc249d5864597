"""A BM25 index (bm25s) over the same passages as the dense index, persisted beside the Chroma folder.

Layout of ``<index folder>/bm25/``: ``passages.sqlite3`` holds every passage with its metadata and its tokens, and
a write counter; ``model/`` holds the bm25s matrices built from them and ``model/stamp.json`` the counter they were
built at. Writes go to SQLite (one transaction each); the matrices are rebuilt from the stored tokens at the next
search when the counter has moved, or when they are missing or unreadable, and saved again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from extractor.schema import Passage
from retrieval.base import Hit, SearchFilters, check_k, check_known_documents, hit_from, passage_metadata, prepare_query
from retrieval.errors import IndexCorruptError

log = logging.getLogger(__name__)

TOKENIZER_VERSION = 1  # a change to tokenise() must bump this: stored tokens are then redone
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS passages (
    id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, idx INTEGER NOT NULL, page INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, section TEXT NOT NULL, kind TEXT NOT NULL,
    text TEXT NOT NULL, tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages (doc_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@lru_cache(maxsize=1)
def bm25s_module():
    """The bm25s package, imported on first use (also for ``retrieval.checking.structure``'s per-paper scoring)."""
    import bm25s

    # bm25s sets its own logger to DEBUG, which would print "Building index from tokens" through any root handler.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


@lru_cache(maxsize=1)
def _stemmer_and_stopwords():
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    return Stemmer.Stemmer("english"), frozenset(STOPWORDS_EN)


def tokenise(text: str) -> list[str]:
    """Lower-case word tokens, Lucene's 33 English stop words dropped, Snowball-stemmed (numbers kept as they are)."""
    stemmer, stop = _stemmer_and_stopwords()
    words = [w for w in _WORD.findall(text.lower()) if w not in stop]
    return stemmer.stemWords(words)


class BM25Index:
    """Okapi BM25 (Lucene variant) over passages; in memory when ``folder`` is None, else persisted there."""

    name = "index.bm25.v1"

    def __init__(self, folder: Path | None = None, *, k1: float = 0.9, b: float = 0.4, max_query_chars: int = 2000) -> None:
        """Open (creating when absent) the BM25 index.

        Raises:
            IndexCorruptError: the stored passages cannot be read.
        """
        self.folder = Path(folder) if folder is not None else None
        self.k1, self.b = k1, b
        self.max_query_chars = max_query_chars
        self._lock = threading.RLock()
        self._model = None
        self._built_at: int | None = None
        self._rows: list[tuple[str, str, dict[str, object]]] = []  # (id, text, meta) in model order
        self._columns: dict[str, np.ndarray] = {}
        self._doc_set: set[str] = set()
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        with self._guard("opening"):
            self._db = sqlite3.connect(":memory:" if self.folder is None else str(self.folder / "passages.sqlite3"),
                                       check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL" if self.folder is not None else "PRAGMA journal_mode=MEMORY")
            self._db.executescript(_SCHEMA)
            stored = self._meta("tokenizer")
            if stored is not None and int(stored) != TOKENIZER_VERSION:
                self._retokenise()
            self._set_meta("tokenizer", str(TOKENIZER_VERSION))

    # --- storage ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            with self._lock:
                yield
        except sqlite3.Error as e:
            raise IndexCorruptError(self.folder or "memory", f"BM25 {action}: {type(e).__name__}: {e}", original=e) from e

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'")
        self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('version', '1')")
        self._db.execute("COMMIT")

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _version(self) -> int:
        return int(self._meta("version") or 0)

    def _retokenise(self) -> None:
        rows = self._db.execute("SELECT id, text FROM passages").fetchall()
        with self._transaction() as db:
            db.executemany("UPDATE passages SET tokens = ? WHERE id = ?", [(" ".join(tokenise(t)), pid) for pid, t in rows])

    # --- writing ------------------------------------------------------------------------------

    def add(self, passages: Sequence[Passage], *, kinds: Mapping[str, str] | None = None) -> int:
        """Add or replace passages (by id); ``kinds`` maps doc id to document kind. Returns how many were written.

        Raises:
            IndexCorruptError: the BM25 store cannot be written.
        """
        kinds = kinds or {}
        rows = []
        for p in passages:
            m = passage_metadata(p, kinds.get(p.doc_id))
            rows.append((p.id, p.doc_id, p.index, p.page, p.span.start, p.span.end, m["section"], m["kind"], p.text,
                         " ".join(tokenise(p.text))))
        with self._guard("writing"), self._transaction() as db:
            db.executemany('INSERT OR REPLACE INTO passages (id, doc_id, idx, page, start, "end", section, kind, text, tokens) '
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def delete_document(self, doc_id: str) -> int:
        """Remove every passage of a document; returns how many were removed (0 when none)."""
        with self._guard("deleting"), self._transaction() as db:
            return db.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,)).rowcount

    def clear(self) -> None:
        """Remove every passage."""
        with self._guard("clearing"), self._transaction() as db:
            db.execute("DELETE FROM passages")

    # --- reading ------------------------------------------------------------------------------

    def count(self) -> int:
        """Number of passages held."""
        with self._guard("counting"):
            return self._db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]

    def doc_counts(self) -> dict[str, int]:
        """Passages held per document."""
        with self._guard("reading"):
            return dict(self._db.execute("SELECT doc_id, COUNT(*) FROM passages GROUP BY doc_id").fetchall())

    def doc_ids(self) -> set[str]:
        """Ids of the documents held."""
        with self._guard("reading"):
            return {r[0] for r in self._db.execute("SELECT DISTINCT doc_id FROM passages")}

    def has_document(self, doc_id: str) -> bool:
        """Whether the document has passages here."""
        with self._guard("reading"):
            return self._db.execute("SELECT 1 FROM passages WHERE doc_id = ? LIMIT 1", (doc_id,)).fetchone() is not None

    def search(self, query: str, k: int = 10, *, filters: SearchFilters | None = None) -> list[Hit]:
        """The ``k`` passages with the highest BM25 score (passages sharing no term with the query are left out).

        Raises:
            InvalidQueryError: empty query or bad ``k``.
            UnknownDocumentError: the filters name documents not in the index.
            IndexCorruptError: the BM25 store cannot be read.
        """
        text = prepare_query(query, max_chars=self.max_query_chars)
        check_k(k)
        with self._guard("searching"):
            self._ensure_model()
            if filters is not None and filters.doc_ids is not None:
                check_known_documents(filters, self._doc_set)
            if not self._rows:
                return []
            ids = self._model.get_tokens_ids(tokenise(text))
            if not ids:
                return []
            scores = self._model.get_scores_from_ids(ids)
            mask = scores > 0
            if filters is not None and not filters.is_empty():
                mask &= self._filter_mask(filters)
            candidates = np.flatnonzero(mask)
            if candidates.size > k:
                candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
            order = candidates[np.lexsort((candidates, -scores[candidates]))]
        return [hit_from(self._rows[i][0], self._rows[i][1], self._rows[i][2], score=float(scores[i]), bm25_rank=r + 1,
                         bm25_score=float(scores[i])) for r, i in enumerate(order)]

    def _filter_mask(self, filters: SearchFilters) -> np.ndarray:
        mask = np.ones(len(self._rows), dtype=bool)
        for field, column in (("doc_ids", "doc_id"), ("kinds", "kind"), ("sections", "section"), ("pages", "page")):
            values = getattr(filters, field)
            if values is not None:
                mask &= np.isin(self._columns[column], np.asarray(list(values), dtype=self._columns[column].dtype))
        return mask

    # --- the bm25s model ----------------------------------------------------------------------

    def _ensure_model(self) -> None:
        version = self._version()
        if self._model is not None and self._built_at == version:
            return
        if not (self._model is None and self._load_model(version)):
            self._build_model(version)

    def _load_rows(self) -> list[tuple[str, str, str, dict[str, object]]]:
        rows = self._db.execute(
            'SELECT id, doc_id, idx, page, start, "end", section, kind, text, tokens FROM passages ORDER BY id'
        ).fetchall()
        return [(r[0], r[8], r[9], {"doc_id": r[1], "index": r[2], "page": r[3], "start": r[4], "end": r[5], "section": r[6],
                                    "kind": r[7]}) for r in rows]

    def _set_rows(self, rows) -> None:
        self._rows = [(pid, text, meta) for pid, text, _, meta in rows]
        metas = [meta for _, _, meta in self._rows]
        self._columns = {
            "doc_id": np.array([m["doc_id"] for m in metas], dtype=object),
            "kind": np.array([m["kind"] for m in metas], dtype=object),
            "section": np.array([m["section"] for m in metas], dtype=object),
            "page": np.array([m["page"] for m in metas], dtype=np.int64),
        }
        self._doc_set = {str(m["doc_id"]) for m in metas}

    def _build_model(self, version: int) -> None:
        bm25s = bm25s_module()
        rows = self._load_rows()
        self._set_rows(rows)
        model = bm25s.BM25(k1=self.k1, b=self.b, method="lucene")
        if rows:
            # Every passage gets at least one token so that row i of the matrix is passage i.
            model.index([tokens.split() or [""] for _, _, tokens, _ in rows], show_progress=False)
        self._model, self._built_at = model, version
        if self.folder is not None and rows:
            self._save_model(version, len(rows))

    def _model_dir(self) -> Path:
        return self.folder / "model"  # type: ignore[operator]

    def _stamp(self, version: int, n: int) -> dict[str, object]:
        return {"version": version, "passages": n, "k1": self.k1, "b": self.b, "tokenizer": TOKENIZER_VERSION}

    def _save_model(self, version: int, n: int) -> None:
        target = self._model_dir()
        tmp = target.with_name("model.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            self._model.save(str(tmp))
            (tmp / "stamp.json").write_text(json.dumps(self._stamp(version, n)))
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
        except OSError as e:  # a read-only folder: the model still works from memory
            log.warning("could not save the BM25 model to %s: %s", target, e)

    def _load_model(self, version: int) -> bool:
        if self.folder is None:
            return False
        target = self._model_dir()
        try:
            stamp = json.loads((target / "stamp.json").read_text())
        except (OSError, ValueError):
            return False
        rows = self._load_rows()
        if stamp != self._stamp(version, len(rows)):
            return False
        try:
            model = bm25s_module().BM25.load(str(target), load_corpus=False)
        except Exception as e:  # noqa: BLE001 - a damaged model is rebuilt from the stored tokens
            log.warning("the BM25 model in %s is unreadable (%s); rebuilding it", target, e)
            return False
        self._set_rows(rows)
        self._model, self._built_at = model, version
        return True

    def close(self) -> None:
        """Close the SQLite connection."""
        with contextlib.suppress(Exception):
            self._db.close()
