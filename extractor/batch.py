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

from extractor.errors import DocumentError, EvidenceError, TooComplexError, too_complex
from extractor.pipeline import parse_file
from extractor.schema import Document, DocumentKind
from extractor.settings import ParsingSettings

log = logging.getLogger(__name__)

HARD_TIMEOUT_GRACE_S = 5.0  # a worker stuck inside the PDF library this long past settings.timeout_s is killed


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
        doc.metadata["process_peak_rss_mb"] = f"{_peak_rss_mb():.1f}"
        return doc
    except EvidenceError as e:
        e.original = None  # third-party exceptions may not pickle
        e.peak_rss_mb = _peak_rss_mb()
        return e
    except MemoryError:  # the worker's address-space limit (settings.max_memory_mb)
        e = too_complex(job.path.name, f"reading it needs more than the {settings.max_memory_mb} MiB memory limit", "max_memory_mb")
        e.peak_rss_mb = _peak_rss_mb()
        return e


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _limit_memory(max_memory_mb: int) -> None:
    """Cap this process's address space at what it holds now plus ``max_memory_mb`` (RLIMIT_AS).

    An allocation past the cap fails: Python raises MemoryError (reported as too complex), the PDF library
    aborts (the parent reports the crash). The rest of the machine is never pushed into swap.
    """
    with open("/proc/self/statm") as fh:  # Linux; elsewhere the limit is not set
        size = int(fh.read().split()[0]) * resource.getpagesize()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size + max_memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _init_worker(nice: int, max_memory_mb: int | None) -> None:
    """Initializer of every parser process: the memory cap, and for the service a lower priority (see _lower_priority)."""
    if max_memory_mb is not None:
        with contextlib.suppress(OSError, ValueError):  # not fatal: the time limit still holds
            _limit_memory(max_memory_mb)
    if nice > 0:
        _lower_priority(nice)


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
    parser's own per-page check, and no memory limit). Otherwise a pool of worker processes parses them, each
    with its address space capped at ``settings.max_memory_mb`` above its start-up size; a worker
    that runs past the time limit plus a grace period is killed and its file reported as too complex.
    Every outcome is a Document or an EvidenceError; no exception escapes for one bad file.
    ``nice`` lowers the workers' CPU priority (the service parses uploads while it answers requests) and makes them
    ignore SIGINT and SIGTERM (the service stops them itself).
    """
    kind_value = DocumentKind(kind).value if kind is not None else None
    jobs = [_Job(p, password, kind_value, extract) for p in paths]
    if workers <= 0:
        for job in jobs:
            t0 = time.monotonic()
            try:
                result = _parse_job(job, settings)
            except Exception as e:  # noqa: BLE001 - a bug in the parser: report it for this file, keep going
                result = _internal_error(job, e)
            yield job.path, result, time.monotonic() - t0
        return
    limit = settings.timeout_s + grace_s
    queue = list(reversed(jobs))
    ctx = multiprocessing.get_context("forkserver")
    # workers fork from a server that has already imported the parser: a new worker starts in
    # milliseconds instead of re-importing pypdfium2 and pydantic models
    ctx.set_forkserver_preload(["extractor.pipeline", "pypdfium2", *(["extractor.preload"] if extract else [])])
    pool = _pool(ctx, workers, nice, settings.max_memory_mb)
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
                    result = too_complex(job.path.name, f"the parser process died reading it (it needed more than the "
                                                        f"{settings.max_memory_mb} MiB memory limit, or the PDF library crashed on it)",
                                         "max_memory_mb")
                    result.__cause__ = e
                    pool = _restart(pool, ctx, workers, running, queue, nice, settings.max_memory_mb)
                except Exception as e:  # noqa: BLE001 - an unexpected bug in the parser: report, keep going
                    result = _internal_error(job, e)
                yield job.path, result, time.monotonic() - t0
            now = time.monotonic()
            overdue = [f for f, (_, t0) in running.items() if now - t0 > limit]
            if overdue:
                for fut in overdue:
                    job, t0 = running.pop(fut)
                    yield job.path, TooComplexError(
                        job.path.name, f"the PDF is too complex to read safely: parsing did not finish within {limit:g} s and was stopped.",
                        hint="If the file is trusted, raise VBP_PARSING__TIMEOUT_S; otherwise re-export it as PDF."), now - t0
                pool = _restart(pool, ctx, workers, running, queue, nice, settings.max_memory_mb)
    finally:
        _kill(pool)


def _internal_error(job: _Job, e: BaseException) -> DocumentError:
    """A bug in the parser, as one line for this file; the traceback goes to the debug log (`vbp --debug`)."""
    log.error("parser failed on %s: %s: %s", job.path.name, type(e).__name__, e)
    log.debug("parser traceback for %s", job.path, exc_info=e)
    return DocumentError(job.path.name, f"internal parser error ({type(e).__name__}: {e}).",
                         hint="Report this file (re-run with --debug for the traceback).")


def _pool(ctx, workers: int, nice: int, max_memory_mb: int | None = None) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, max_tasks_per_child=50, initializer=_init_worker,
                               initargs=(nice, max_memory_mb))


def _lower_priority(nice: int) -> None:
    """Initializer of the service's parser processes: a lower CPU priority, and deaf to the stop signals that a terminal
    or a service manager sends to the whole group (the service stops them itself, after re-queuing the job)."""
    with contextlib.suppress(OSError):  # not fatal: the file is parsed at the caller's priority
        os.nice(nice)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def _restart(pool: ProcessPoolExecutor, ctx, workers: int, running: dict, queue: list, nice: int = 0,
             max_memory_mb: int | None = None) -> ProcessPoolExecutor:
    """Kill every worker and requeue the files that were in flight on the healthy ones."""
    for job, _ in running.values():
        queue.append(job)
    running.clear()
    _kill(pool)
    return _pool(ctx, workers, nice, max_memory_mb)


def _kill(pool: ProcessPoolExecutor) -> None:
    # SEE: https://github.com/python/cpython/issues/74163 - shutdown() cannot stop a running task,
    # so a hung worker is killed through the executor's process table.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for proc in processes:
        if proc.is_alive():
            proc.kill()
    pool.shutdown(wait=True, cancel_futures=True)
