"""The CPU-heavy steps of ingest jobs, run in one separate process at a lower scheduling priority.

Claim extraction (spaCy), passage embedding (the ONNX MiniLM) and stance classification (the torch cross-encoder)
take seconds of CPU per document. Run on the server's job thread, they hold the interpreter lock between their
native calls and compete for the cores with the request handlers, so every read waits while a document is
processed. Here they run in a child process with a higher nice value (``service.compute_nice``): the operating
system gives the request handlers the CPU first and the job the rest. The job thread keeps the database, the index
and the order of the steps; only inputs and results cross the process boundary (a parsed document, passage texts,
claim/passage pairs), never a database handle or the index.

A child that dies (killed, out of memory) fails only the step it was running (``InternalError`` naming the step);
the next job starts a fresh one.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from extractor.errors import InternalError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ComputeConfig:
    """What the child needs to build the same models as the server (plain values: it is pickled)."""

    embedder: str
    cache_dir: str | None
    max_length: int
    batch_size: int
    nice: int
    torch_threads: int
    max_memory_mb: int | None = None  # the child's address-space cap (RLIMIT_AS); None: none


# --- in the child ---------------------------------------------------------------------------------------------------

_config: ComputeConfig | None = None
_models: dict[str, Any] = {}


def _init(config: ComputeConfig, server: int) -> None:
    global _config
    _config = config
    # Ctrl-C in a terminal, or a service manager stopping the whole group, signals this process too; the server decides
    # when it ends (a stop re-queues the running job, then ComputeProcess.close kills this process)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    # the server's pid comes from the server: a child that starts after the server died must not watch its new parent
    threading.Thread(target=_exit_with_parent, args=(server,), name="vbp-compute-parent-watch", daemon=True).start()
    if config.max_memory_mb is not None:
        try:
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            cap = config.max_memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
        except (OSError, ValueError) as e:  # not fatal: the step runs without the cap
            log.warning("could not cap the compute process's memory: %s", e)
    if config.nice > 0:
        try:
            os.nice(config.nice)
        except OSError as e:  # not fatal: the job runs at the server's priority
            log.warning("could not lower the compute process's priority: %s", e)


def _exit_with_parent(parent: int) -> None:
    """End this process once the server is gone (killed, crashed): an orphan would hold its models' memory for good."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _embedder():
    if "embedder" not in _models:
        from retrieval.embedder import make_embedder

        _models["embedder"] = make_embedder(_config.embedder, cache_dir=Path(_config.cache_dir) if _config.cache_dir else None,
                                            max_length=_config.max_length)
    return _models["embedder"]


def _classifier():
    if "classifier" not in _models:
        import torch

        torch.set_num_threads(max(1, _config.torch_threads))
        from retrieval.support import get_stance_classifier

        _models["classifier"] = get_stance_classifier()
    return _models["classifier"]


def _extract(doc):
    from extractor.claims import extract_claims

    return extract_claims(doc)


def _embed(texts: list[str]):
    return _embedder().embed(texts, batch_size=_config.batch_size)


def _classify(claim: str, passages: list[str]):
    return _classifier().predict(claim, passages)


# --- in the server --------------------------------------------------------------------------------------------------


class ComputeProcess:
    """A one-process pool for the heavy steps, started at first use and restarted after a crash.

    Args:
        config: The models to build and the child's priority.
    """

    def __init__(self, config: ComputeConfig) -> None:
        self.config = config
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_settings(cls, settings) -> ComputeProcess:
        r = settings.retrieval
        cache = r.model_cache_path()
        return cls(ComputeConfig(embedder=r.embedder, cache_dir=str(cache) if cache else None, max_length=r.max_length,
                                 batch_size=r.batch_size, nice=settings.service.compute_nice,
                                 torch_threads=settings.service.compute_threads,
                                 max_memory_mb=settings.service.compute_max_memory_mb))

    def _submit(self, step: str, fn, *args):
        with self._lock:
            if self._closed:  # the server is stopping: never start a child it would leave behind
                raise InternalError(f"the server is stopping; the '{step}' step was not run.", hint="The job resumes at the next start.")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"), initializer=_init,
                                                 initargs=(self.config, os.getpid()))
            pool = self._pool
        try:
            return pool.submit(fn, *args).result()
        except MemoryError as e:  # raised in the child at its address-space cap; the child lives on
            raise InternalError(f"the '{step}' step needed more than the compute process's {self.config.max_memory_mb} MiB memory limit.",
                                hint="Raise VBP_SERVICE__COMPUTE_MAX_MEMORY_MB if the server has the memory.") from e
        except BrokenProcessPool as e:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise InternalError(f"the compute process died during the '{step}' step (killed, or out of memory).",
                                hint="The job can be uploaded again; if it repeats, check the server's memory or raise "
                                     "VBP_SERVICE__COMPUTE_MAX_MEMORY_MB.") from e

    def extract(self, doc):
        """``extractor.claims.extract_claims(doc)``, in the child."""
        return self._submit("extract", _extract, doc)

    def embed(self, texts: list[str]):
        """Passage embeddings (the index's embedder), in the child."""
        return self._submit("index", _embed, list(texts))

    def classify(self, claim: str, passages) -> list:
        """``StanceClassifier.predict(claim, passages)``, in the child."""
        return self._submit("support", _classify, claim, list(passages))

    def classifier(self) -> RemoteStanceClassifier:
        """A stance classifier whose predictions are made in the child."""
        return RemoteStanceClassifier(self)

    def close(self) -> None:
        """Stop the child; a step still running there is abandoned (its job is re-queued by the runner)."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            for p in list(getattr(pool, "_processes", {}).values()):  # a step in progress would keep the child alive
                if p.is_alive():
                    p.kill()
            pool.shutdown(wait=True, cancel_futures=True)  # joins the child and releases the pool's queues


class RemoteStanceClassifier:
    """``retrieval.support.StanceClassifier.predict``, answered by the compute process."""

    def __init__(self, process: ComputeProcess) -> None:
        from retrieval.support import read_calibration

        self._process = process
        self.thresholds = read_calibration()  # the checker applies them, as it does to the classifier in process

    def predict(self, claim: str, passages) -> list:
        return self._process.classify(claim, passages)
