"""Parse many files in worker processes with a hard time limit per file.

Parsing runs in separate processes so that a hostile PDF that hangs or exhausts memory
inside the PDF library can be killed without taking the batch (or the service) down, and so
that both cores of a small machine are used.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import resource
import signal
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from extractor.errors import DocumentError, EvidenceError, LimitExceededError
from extractor.pipeline import parse_file
from extractor.schema import Document, DocumentKind
from extractor.settings import ParsingSettings

log = logging.getLogger(__name__)

HARD_TIMEOUT_GRACE_S = 30.0


@dataclass(slots=True)
class _Job:
    path: Path
    password: str | None
    kind: str | None
    extract: bool = False  # also extract claims, in the worker


def _parse_job(job: _Job, settings: ParsingSettings) -> Document | EvidenceError:
    """Runs in a worker: return the Document, or the EvidenceError (picklable) instead of raising it."""
    try:
        doc = parse_file(job.path, settings=settings, password=job.password, kind=job.kind)
        # the process's peak memory so far, for `vbp bench` (workers are not our direct children,
        # so RUSAGE_CHILDREN cannot see them)
        if job.extract:
            from extractor.claims import extract_claims

            claims = extract_claims(doc).claims
            doc.metadata["claims"] = str(len(claims))
        doc.metadata["process_peak_rss_mb"] = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}"
        return doc
    except EvidenceError as e:
        e.original = None  # third-party exceptions may not pickle
        return e


def parse_many(
    paths: list[Path],
    *,
    settings: ParsingSettings,
    workers: int,
    password: str | None = None,
    kind: DocumentKind | str | None = None,
    grace_s: float = HARD_TIMEOUT_GRACE_S,
    extract: bool = False,
    nice: int = 0,
) -> Iterator[tuple[Path, Document | EvidenceError, float]]:
    """Parse files, yielding ``(path, document or error, seconds)`` as each finishes.

    With ``workers == 0`` files are parsed in this process (no hard time limit beyond the
    parser's own per-page check). Otherwise a pool of worker processes parses them; a worker
    that runs past the time limit plus a grace period is killed and its file reported as failed.
    ``nice`` lowers the workers' CPU priority (the service parses uploads while it answers requests) and makes them
    ignore SIGINT and SIGTERM (the service stops them itself).
    """
    kind_value = DocumentKind(kind).value if kind is not None else None
    jobs = [_Job(p, password, kind_value, extract) for p in paths]
    if workers <= 0:
        for job in jobs:
            t0 = time.monotonic()
            yield job.path, _parse_job(job, settings), time.monotonic() - t0
        return
    limit = settings.timeout_s + grace_s
    queue = list(reversed(jobs))
    ctx = multiprocessing.get_context("forkserver")
    # workers fork from a server that has already imported the parser: a new worker starts in
    # milliseconds instead of re-importing pypdfium2 and pydantic models
    ctx.set_forkserver_preload(["extractor.pipeline", "pypdfium2", *(["extractor.preload"] if extract else [])])
    pool = _pool(ctx, workers, nice)
    running: dict[Future, tuple[_Job, float]] = {}
    try:
        while queue or running:
            while queue and len(running) < workers:
                job = queue.pop()
                running[pool.submit(_parse_job, job, settings)] = (job, time.monotonic())
            done, _ = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
            for fut in done:
                job, t0 = running.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool as e:
                    result = DocumentError(job.path.name, "the parser process crashed on this file (out of memory or a PDF library fault).",
                                           hint="Check the file; re-export it as PDF.")
                    result.__cause__ = e
                    pool = _restart(pool, ctx, workers, running, queue, nice)
                except Exception as e:  # noqa: BLE001 - an unexpected bug in the parser: report, keep going
                    log.exception("parser failed on %s", job.path)
                    result = DocumentError(job.path.name, f"internal parser error ({type(e).__name__}: {e}).", hint="Report this file.")
                yield job.path, result, time.monotonic() - t0
            now = time.monotonic()
            overdue = [f for f, (_, t0) in running.items() if now - t0 > limit]
            if overdue:
                for fut in overdue:
                    job, t0 = running.pop(fut)
                    yield job.path, LimitExceededError(
                        job.path.name, f"parsing did not finish within {limit:g} s and was stopped.",
                        hint="Check the file, or raise VBP_PARSING__TIMEOUT_S."), now - t0
                pool = _restart(pool, ctx, workers, running, queue, nice)
    finally:
        _kill(pool)


def _pool(ctx, workers: int, nice: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, max_tasks_per_child=50,
                               **({"initializer": _lower_priority, "initargs": (nice,)} if nice > 0 else {}))


def _lower_priority(nice: int) -> None:
    """Initializer of the service's parser processes: a lower CPU priority, and deaf to the stop signals that a terminal
    or a service manager sends to the whole group (the service stops them itself, after re-queuing the job)."""
    with contextlib.suppress(OSError):  # not fatal: the file is parsed at the caller's priority
        os.nice(nice)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def _restart(pool: ProcessPoolExecutor, ctx, workers: int, running: dict, queue: list, nice: int = 0) -> ProcessPoolExecutor:
    """Kill every worker and requeue the files that were in flight on the healthy ones."""
    for job, _ in running.values():
        queue.append(job)
    running.clear()
    _kill(pool)
    return _pool(ctx, workers, nice)


def _kill(pool: ProcessPoolExecutor) -> None:
    # SEE: https://github.com/python/cpython/issues/74163 - shutdown() cannot stop a running task,
    # so a hung worker is killed through the executor's process table.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for proc in processes:
        if proc.is_alive():
            proc.kill()
    pool.shutdown(wait=True, cancel_futures=True)
