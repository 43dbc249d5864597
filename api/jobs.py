"""Background ingest: an accepted upload becomes a stored, extracted, indexed and checked document.

The ``jobs`` table is the durable state; the in-memory queue only orders the work. A job runs its steps in
order (parse → store → extract → index → support), each one idempotent and committed on its own, so a job
that is interrupted is simply run again from the start and skips what is already stored:

* a clean stop (SIGTERM: uvicorn drains requests, then the app's lifespan calls :meth:`JobRunner.stop`)
  lets the running step finish for up to ``service.shutdown_grace_s`` and re-queues the job without
  counting an attempt;
* a crash leaves the job ``running``; the next start re-queues it (:meth:`JobRunner.recover`), or marks it
  failed with its reason once it has been interrupted ``service.max_job_attempts`` times (a file that kills
  the server every time must not do so forever).

A failure inside a step marks the job failed with the step and the reason; what earlier steps stored stays.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
from pathlib import Path

from extractor.errors import DocumentError, EvidenceError, InternalError, PasswordRequiredError
from extractor.schema import DocumentKind

log = logging.getLogger(__name__)

PDFIUM_LOCK = threading.Lock()
"""pdfium is not thread-safe: every in-process use (upload pre-flight, in-process parsing) holds this lock."""

KIND_OF_ROLE = {
    "submission": DocumentKind.supplier_submission,
    "draft": DocumentKind.supplier_submission,
    "paper": DocumentKind.clinical_paper,
}


class _Stopping(Exception):
    """The runner is stopping: leave the job for the next start."""


class JobRunner:
    """Runs ingest jobs on worker threads (or synchronously, with :meth:`drain`, in tests).

    Args:
        services: ``api.services.Services`` (settings, store, repo, index).
        threads: Worker threads; default ``settings.service.job_workers``.
    """

    def __init__(self, services, *, threads: int | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.threads = threads or self.settings.service.job_workers
        self._queue: queue.Queue[str] = queue.Queue()
        self._passwords: dict[str, str] = {}  # job id -> password, in memory only: never written to disk
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._running: dict[str, str] = {}  # job id -> stage
        self._lock = threading.Lock()
        self._evidence_lock = threading.Lock()  # index + support steps: a paper and a submission never miss each other
        self._warmed = False

    # --- lifecycle --------------------------------------------------------------------------------

    def recover(self) -> dict[str, list[str]]:
        """Re-queue the jobs a previous run left unfinished (or fail them, see the module docstring); drop orphan files.

        Returns:
            ``{"queued": [...], "resumed": [...], "failed": [...]}``: jobs to run (in order), those of them a stop
            interrupted, and those failed now.
        """
        repo = self.services.repo
        queued, resumed, failed = repo.recover_jobs(max_attempts=self.settings.service.max_job_attempts)
        for job_id in failed:
            self._discard_file(repo.job(job_id))
        runnable = []
        for job_id in queued:
            job = repo.job(job_id)
            if job["encrypted"] and job_id not in self._passwords:
                repo.fail_job(job_id, code=PasswordRequiredError.code, from_states=("queued",),
                              reason=f"{job['filename']}: the server restarted before this encrypted PDF was parsed, and its password "
                              "is never stored. Upload the file again with its password.")
                self._discard_file(job)
                failed.append(job_id)
                continue
            runnable.append(job_id)
            self._queue.put(job_id)
        self._remove_orphans()
        if resumed or failed:
            log.warning("jobs interrupted by the last stop: %d resumed, %d failed", len([j for j in resumed if j in runnable]), len(failed))
        if runnable:
            log.info("%d queued job(s) to run", len(runnable))
        return {"queued": runnable, "resumed": [j for j in resumed if j in runnable], "failed": failed}

    def start(self) -> None:
        """Start the worker threads."""
        self._stop.clear()
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"vbp-job-{i}", daemon=True)
            t.start()
            self._workers.append(t)

    def stop(self, grace_s: float | None = None) -> list[str]:
        """Stop taking jobs; wait up to ``grace_s`` for the running steps, then re-queue what is still running.

        Returns:
            Ids of the jobs re-queued for the next start.
        """
        grace_s = self.settings.service.shutdown_grace_s if grace_s is None else grace_s
        self._stop.set()
        deadline = time.monotonic() + grace_s
        for t in self._workers:
            t.join(max(0.0, deadline - time.monotonic()))
        self._workers = [t for t in self._workers if t.is_alive()]
        with self._lock:
            left = dict(self._running)
        requeued = []
        for job_id, stage in left.items():
            if self.services.repo.requeue_job(job_id, note=f"the server stopped during the '{stage}' step; resumed at the next start",
                                              count_attempt=False):
                requeued.append(job_id)
        if requeued:
            log.warning("stopping: %d running job(s) re-queued for the next start: %s", len(requeued), ", ".join(requeued))
        return requeued

    def submit(self, job_id: str, *, password: str | None = None) -> None:
        """Queue a recorded job (its row must already be committed)."""
        if password:
            self._passwords[job_id] = password
        self._queue.put(job_id)

    def drain(self) -> int:
        """Run every queued job now, in the calling thread (tests and the demo seeding); returns how many ran."""
        n = 0
        while True:
            try:
                job_id = self._queue.get_nowait()
            except queue.Empty:
                return n
            self.run(job_id)
            n += 1

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def warm_up(self) -> None:
        """Open the passage index and compare it with the database, before any job writes to either.

        Documents whose jobs are still to run are left out of the comparison: their jobs index them.
        """
        from retrieval.search import check_consistency

        try:
            searcher = self.services.index.get()
            pending = self.services.repo.pending_doc_ids()
            expected = {d: n for d, n in self.services.store.passage_counts().items() if d not in pending}
            report = check_consistency(searcher, expected)
            for part in [report, *report.components.values()]:
                for d in pending:
                    part.extra.pop(d, None)
            if not report.ok:
                log.warning("the passage index is out of step with the database (%s); run `vbp reindex` while the service is stopped",
                            report.summary())
        except Exception as e:  # noqa: BLE001 - jobs will report it at their index step
            log.warning("the passage index cannot be opened: %s", e)

    def _loop(self) -> None:
        with self._lock:
            first, self._warmed = not self._warmed, True
        if first:
            self.warm_up()
        while not self._stop.is_set():
            try:
                job_id = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if self._stop.is_set():
                return  # left queued in the database: the next start picks it up
            try:
                self.run(job_id)
            except Exception:  # never let a worker thread die
                log.exception("job %s: unexpected error in the runner", job_id)

    # --- one job ----------------------------------------------------------------------------------

    def run(self, job_id: str) -> dict | None:
        """Run one queued job to its end (done or failed); returns the job, or None when it was not queued."""
        repo = self.services.repo
        job = repo.start_job(job_id)
        if job is None:
            return None
        with self._lock:
            self._running[job_id] = "start"
        finished = False  # True once the job is marked done or failed (not when a stop re-queued it)
        result: dict = {}
        try:
            self._process(job, result)
            finished = repo.finish_job(job_id, result)
        except _Stopping:
            stage = self._running.get(job_id)
            log.warning("job %s (%s): stopping after the '%s' step; it resumes at the next start", job_id, job["filename"], stage)
            repo.requeue_job(job_id, note=f"the server stopped during the '{stage}' step; resumed at the next start", count_attempt=False)
        except EvidenceError as e:
            stage = self._running.get(job_id, "start")
            finished = repo.fail_job(job_id, code=e.code, reason=_reason(stage, str(e)), result=result)
            if finished:
                log.warning("job %s (%s) failed at %s: %s", job_id, job["filename"], stage, e)
            else:
                self._log_requeued(job, stage, e)
        except Exception as e:  # a bug or an outside failure: the job fails, the service goes on
            stage = self._running.get(job_id, "start")
            finished = repo.fail_job(job_id, code="internal_error", reason=_reason(stage, f"{type(e).__name__}: {e}"), result=result)
            if finished:
                log.exception("job %s (%s) failed at %s", job_id, job["filename"], stage)
            else:
                self._log_requeued(job, stage, e)
        finally:
            with self._lock:
                self._running.pop(job_id, None)
            if finished:
                self._passwords.pop(job_id, None)
                self._discard_file(job)
        return repo.job(job_id)

    @staticmethod
    def _log_requeued(job: dict, stage: str, error: Exception) -> None:
        """A step broke because the server is stopping (its child process was ended), after the stop re-queued the job:
        the job is not failed, and the log must not say it was."""
        log.info("job %s (%s): the '%s' step was cut short by the stop (%s); it stays queued for the next start",
                 job["id"], job["filename"], stage, type(error).__name__)

    def _step(self, job: dict, stage: str) -> None:
        if self._stop.is_set():
            raise _Stopping
        with self._lock:
            self._running[job["id"]] = stage
        self.services.repo.set_stage(job["id"], stage)

    def _process(self, job: dict, result: dict) -> None:
        """Run the steps, filling ``result`` as they go (a failed job keeps what its finished steps did)."""
        store, repo = self.services.store, self.services.repo
        path = Path(job["file_path"])
        compute = self.services.compute
        options = {"classifier": self.services.classifier} if self.services.classifier is not None else {}
        if compute is not None and not options:
            options = {"classifier": compute.classifier()}
        options["settings"] = self.settings.retrieval.check
        self._step(job, "parse")
        # the result is the uploader's to read: it says nothing of whether these bytes were uploaded before by anyone
        if not store.has_document(job["doc_id"]):
            if not path.exists():
                raise DocumentError(job["filename"], "the uploaded file is no longer in the data folder.", hint="Upload it again.")
            password = self._passwords.get(job["id"])
            if job["encrypted"] and password is None:
                raise PasswordRequiredError(job["filename"], "the password of this encrypted PDF is no longer known (it is never stored).",
                                            hint="Upload the file again with its password.")
            doc = self._parse(path, password=password, kind=KIND_OF_ROLE[job["role"]])
            if doc.id != job["doc_id"]:
                raise InternalError(f"{job['filename']}: the parsed document's id {doc.id[:12]} is not the upload's {job['doc_id'][:12]}.")
            self._step(job, "store")
            store.save_document(doc, path)
        else:  # the same bytes are stored (maybe someone else's upload): the parse, passages and claims are shared
            log.info("job %s: document %s is stored already; reusing its parse", job["id"], job["doc_id"][:12])
        doc = store.get_document(job["doc_id"])
        result.update(pages=doc.page_count, passages=len(doc.passages), warnings=list(doc.warnings), title=doc.title)

        self._step(job, "extract")
        from extractor.claims import extract_claims

        extraction = compute.extract(doc) if compute is not None else extract_claims(doc)
        store.save_claims(extraction.claims)
        result.update(claims=len(extraction.claims))

        self._step(job, "index")
        with self._evidence_lock:
            from api.evidence import index_document, support_document
            from api.store.service import evidence_context

            searcher = self.services.index.get()
            if not searcher.has_document(doc.id):
                index_document(searcher, store, doc.id, embed=compute.embed if compute is not None else None)
            self._step(job, "support")
            # each party's links are its own: checked against its own papers in this tender, stored under its context,
            # and no other party's links are read or written (api.store.service.evidence_context)
            scope = repo.evidence_scope(job["tender_id"], job["supplier_id"])
            if job["role"] in ("submission", "draft"):
                checks = support_document(store, searcher, doc.id, scope=scope,
                                          context=evidence_context(job["tender_id"], job["supplier_id"], job["role"]), **options)
                result["links"] = sum(len(c.links) for c in checks)
                result["evidence_documents"] = len(scope)
            else:  # a new paper: re-check the supplier's submissions and drafts in this tender that may cite it
                rechecked = 0
                for claimant, role in repo.claimant_documents(job["tender_id"], job["supplier_id"]):
                    support_document(store, searcher, claimant, scope=scope,
                                     context=evidence_context(job["tender_id"], job["supplier_id"], role), **options)
                    rechecked += 1
                result["rechecked_documents"] = rechecked

    def _parse(self, path: Path, *, password: str | None, kind: DocumentKind):
        """Parse in a worker process (``settings.workers`` > 0: a file that hangs the PDF library is killed) or in this one."""
        from extractor.batch import parse_many

        settings = self.settings
        if settings.workers > 0:
            nice = settings.service.compute_nice if settings.service.compute_process else 0  # requests first, as for api.compute
            [(_, outcome, _)] = list(parse_many([path], settings=settings.parsing, workers=1, password=password, kind=kind, nice=nice))
        else:
            with PDFIUM_LOCK:
                [(_, outcome, _)] = list(parse_many([path], settings=settings.parsing, workers=0, password=password, kind=kind))
        if isinstance(outcome, EvidenceError):
            raise outcome
        return outcome

    # --- upload files -----------------------------------------------------------------------------

    def _discard_file(self, job: dict | None) -> None:
        """Remove a finished job's upload (the stored copy lives in the files folder)."""
        if not job:
            return
        folder = Path(job["file_path"]).parent
        uploads = self.settings.uploads_dir
        if folder.parent == uploads and folder.name == job["id"]:
            shutil.rmtree(folder, ignore_errors=True)

    def _remove_orphans(self) -> None:
        """Remove upload folders no live job needs: a crash between writing a file and recording its job."""
        uploads = self.settings.uploads_dir
        if not uploads.is_dir():
            return
        live = {Path(p).parent.name for p in self.services.repo.live_upload_paths()}
        for entry in uploads.iterdir():
            if entry.name not in live:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


def _reason(stage: str, message: str) -> str:
    kept = {
        "start": "", "parse": "",
        "store": " Nothing of this document was stored.",
        "extract": " The parsed document is stored; its claims are not.",
        "index": " The document and its claims are stored; it is not searchable yet (run `vbp reindex`).",
        "support": " The document, its claims and its passages are stored; the support check did not finish.",
    }.get(stage, "")
    message = message.strip()
    return f"{stage}: {message}{'' if message.endswith(('.', '!', '?')) else '.'}{kept}"
