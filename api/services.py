"""What the service runs on, opened once per process: settings, the stores, the passage index, the job runner."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


class IndexHolder:
    """The passage index (``retrieval.search.HybridSearcher``), opened at first use.

    Opening loads the embedder (and, on a machine's first run, exports it to ONNX), so the service starts at once
    and pays that cost on the first search or ingest job. Tests hand in an in-memory searcher instead.
    """

    def __init__(self, settings, store, searcher=None) -> None:
        self._settings = settings
        self._store = store
        self._searcher = searcher
        self._lock = threading.Lock()

    def get(self, *, check: bool = False):
        """The open searcher; with ``check``, a first opening compares it with the database and logs a warning when they differ
        (the job runner does this once at start, before any job writes to either).

        Raises:
            RetrievalError: the index cannot be opened (corrupt, built with another embedder, server unreachable).
        """
        with self._lock:
            if self._searcher is None:
                from api.evidence import open_index

                self._searcher, _report = open_index(self._settings, self._store, check=check)
            return self._searcher

    @property
    def is_open(self) -> bool:
        return self._searcher is not None

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                close = getattr(self._searcher, "close", None)
                if close is not None:
                    close()
                self._searcher = None


@dataclass
class Services:
    """Everything a request handler needs; one instance per app, on ``app.state.services``."""

    settings: object  # api.settings.Settings
    store: object  # api.store.repository.Store
    repo: object  # api.store.service.ServiceRepo
    index: IndexHolder
    jobs: object = field(default=None)  # api.jobs.JobRunner
    classifier: object = field(default=None)  # stance classifier for support checks; None: the shipped one
    views: object = field(default=None)  # api.viewcache.ClaimViewCache
    compute: object = field(default=None)  # api.compute.ComputeProcess, or None: the jobs' heavy steps run in this process

    def close(self) -> None:
        if self.compute is not None:
            self.compute.close()
        self.index.close()
        self.store.close()
