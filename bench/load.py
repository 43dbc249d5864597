"""Load benchmark of the HTTP service (issue 5, point 6).

Drives a running ``vbp serve`` on loopback with concurrent clients doing searches, claim listings, claim details and
review decisions while a background task keeps uploading submissions, so that ingest jobs run throughout; reports
requests per second, p50/p95/max latency and errors per operation, and a pass/fail line against the target (no
errors, and p95 of the reads at most 200 ms).

    .venv/bin/python bench/load.py                          # its own server on a fresh data folder, 20 clients, 30 s
    .venv/bin/python bench/load.py --clients 3 --seconds 3 --json /tmp/load.json
    .venv/bin/python bench/load.py --pages                  # the workspace's claim list and review pages, target p95 <= 150 ms
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --key vbp_...   # an already-running server (admin key)

How it measures (and what it does not hide):

* latency is taken client-side with ``time.perf_counter`` around one whole request (sent, answered, body read);
  every request of the measured phase counts, failed ones included, and nothing is retried;
* an error is any answer that is not 2xx, or an exception (timeout, refused connection); the first few messages
  of each operation are kept;
* before the clock starts a warm-up (one search, one listing and one claim detail in turn, then ``--warmup``
  reads per client) is run and left out of the figures; its count and errors are reported;
* each client is one ``httpx.AsyncClient`` with one keep-alive connection, and issues its next request when the
  previous one has answered (closed loop); the phase ends after ``--seconds`` or ``--max-requests`` requests;
* the clients run in this process on the same machine as the server, so they compete with it for the CPU.

Review decisions are written to the benchmark's own tender only (with ``--url`` too): the benchmark creates a
tender, a supplier and an evaluator, uploads a submission and the paper it cites, and waits for their claims.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CORPUS = REPO / "corpus"
SUBMISSION = CORPUS / "submissions" / "harbour-lane-drug-eluting-stent.pdf"
PAPERS = REPO.parent / "shared" / "data" / "pdfs"
PAPER = PAPERS / "kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf"
SUPPLIER = "harbour-lane"

OPS = ("search", "list", "detail", "review", "page_list", "page_review")
READS = ("search", "list", "detail")
PAGES = ("page_list", "page_review")
"""The browser workspace's pages (issue 12): a claim list and a claim's review page, as a signed-in evaluator."""
BACKGROUND = ("upload", "poll")
DEFAULT_MIX = "search=30,list=30,detail=25,review=15"
PAGES_MIX = "page_list=40,page_review=60"
TARGET_P95_MS = 200.0
TARGET_PAGES_P95_MS = 150.0
MESSAGES_KEPT = 5
POLL_S = 0.5


class BenchError(Exception):
    """The benchmark could not run (the server did not start, setup failed): one clear line, exit code 2."""


# --- measuring ------------------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least p% of the values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class Recorder:
    """Latencies (ms), status codes and error messages per operation."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    errors: Counter = field(default_factory=Counter)
    messages: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, op: str, ms: float, status: int | None, error: str | None) -> None:
        self.latencies[op].append(ms)
        self.statuses[op]["exception" if status is None else str(status)] += 1
        if error is not None:
            self.errors[op] += 1
            if len(self.messages[op]) < MESSAGES_KEPT:
                self.messages[op].append(error)

    def count(self, ops=None) -> int:
        return sum(len(v) for k, v in self.latencies.items() if ops is None or k in ops)

    def summary(self, op: str, elapsed: float) -> dict:
        lat = self.latencies.get(op, [])
        statuses = dict(self.statuses.get(op, {}))
        return {"count": len(lat), "requests_per_s": round(len(lat) / elapsed, 2) if elapsed > 0 else None,
                "errors": self.errors.get(op, 0), "errors_5xx": sum(n for s, n in statuses.items() if s.startswith("5")),
                "statuses": statuses, "p50_ms": _ms(percentile(lat, 50)), "p95_ms": _ms(percentile(lat, 95)),
                "max_ms": _ms(max(lat) if lat else None), "mean_ms": _ms(statistics.fmean(lat) if lat else None),
                "first_errors": list(self.messages.get(op, []))}

    def combined(self, ops, elapsed: float) -> dict:
        lat = [ms for op in ops for ms in self.latencies.get(op, [])]
        return {"operations": list(ops), "count": len(lat), "requests_per_s": round(len(lat) / elapsed, 2) if elapsed > 0 else None,
                "errors": sum(self.errors.get(op, 0) for op in ops),
                "errors_5xx": sum(n for op in ops for s, n in self.statuses.get(op, {}).items() if s.startswith("5")),
                "p50_ms": _ms(percentile(lat, 50)), "p95_ms": _ms(percentile(lat, 95)), "max_ms": _ms(max(lat) if lat else None)}


def _describe(response: httpx.Response) -> str:
    try:
        err = response.json().get("error") or {}
        text = f"{err.get('code')}: {err.get('message')}"
    except (ValueError, AttributeError):
        text = response.text[:200]
    rid = response.headers.get("x-request-id")
    return f"{response.request.method} {response.request.url.path} -> {response.status_code} {text}" + (f" (request id {rid})" if rid else "")


async def timed(client: httpx.AsyncClient, rec: Recorder, op: str, method: str, url: str, **kwargs) -> httpx.Response | None:
    """One request, timed; recorded as an error unless it answers 2xx. Never retried. Returns the response when 2xx."""
    t0 = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)
    except Exception as e:  # noqa: BLE001 - every failure is a figure, not a crash
        rec.add(op, (time.perf_counter() - t0) * 1000, None, f"{method} {url.split('?')[0]} -> {type(e).__name__}: {e}"[:300])
        return None
    ms = (time.perf_counter() - t0) * 1000
    ok = 200 <= response.status_code < 300
    rec.add(op, ms, response.status_code, None if ok else _describe(response)[:300])
    return response if ok else None


# --- the server -----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """``vbp serve`` on a fresh data folder, in its own process group; :meth:`stop` always ends it."""

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / "server.log"
        self.env = {**os.environ, "VBP_DATA_DIR": str(data_dir), "VBP_SERVICE__SHUTDOWN_GRACE_S": "2", "PYTHONUNBUFFERED": "1"}
        self.proc: subprocess.Popen | None = None

    def add_admin(self) -> str:
        """An admin user and key, created with ``vbp user add NAME --role admin`` on the data folder."""
        done = subprocess.run([sys.executable, "-m", "api.cli", "user", "add", "bench-admin", "--role", "admin", "--json"],
                              cwd=REPO, env=self.env, capture_output=True, text=True, timeout=180, check=False)
        if done.returncode != 0:
            raise BenchError(f"`vbp user add` failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-500:]}")
        return json.loads(done.stdout)["key"]

    def start(self, timeout: float) -> None:
        with self.log.open("ab") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                         cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)  # Ctrl-C reaches the benchmark, which stops the server itself
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise BenchError(f"the server exited with {self.proc.returncode} before answering:\n{self.log_tail()}")
                try:
                    if client.get("/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise BenchError(f"the server did not answer /health within {timeout:.0f} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) of the server's process group: the server, its parser processes, and the children
        they have waited for (Linux only)."""
        if self.proc is None:
            return None
        total = 0
        found = False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # a process that ended meanwhile
            if len(fields) > 14 and fields[2] == str(self.proc.pid):  # process group id: the server's (start_new_session)
                total += sum(int(x) for x in fields[11:15])
                found = True
        return total / os.sysconf("SC_CLK_TCK") if found else None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM (uvicorn drains, the job runner re-queues), then SIGKILL to the process group after ``timeout``."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            print(f"note: the server did not stop within {timeout:.0f} s of SIGTERM; killing it", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # its own group (start_new_session): the server and its parser processes
            return proc.wait(timeout=30)


# --- setup ----------------------------------------------------------------------------------------------------------


def _check(response: httpx.Response, what: str, expect: int) -> dict:
    if response.status_code != expect:
        raise BenchError(f"{what} failed: {_describe(response)}")
    return response.json()


def _job_summary(job: dict, label: str) -> dict:
    seconds = None
    if job.get("created_at") and job.get("finished_at"):
        seconds = round((datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["created_at"])).total_seconds(), 1)
    return {"file": label, "job_id": job["id"], "status": job["status"], "stage": job.get("stage"), "error_code": job.get("error_code"),
            "reason": (job.get("reason") or "")[:300], "claims": (job.get("result") or {}).get("claims"), "seconds": seconds}


def setup(url: str, admin_key: str, *, with_paper: bool, timeout: float, request_timeout: float) -> dict:
    """A tender, a supplier and an evaluator; the submission and its cited paper uploaded and ingested; their claims."""
    tag = secrets.token_hex(3)
    notes: list[str] = []
    admin = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=url, timeout=request_timeout) as c:
        tender = _check(c.post("/tenders", headers=admin, json={"title": f"Load benchmark {tag}", "reference": f"BENCH-LOAD-{tag}"}),
                        "creating the tender", 201)["id"]
        _check(c.post(f"/tenders/{tender}/suppliers", headers=admin, json={"supplier": SUPPLIER, "name": "Harbour Lane (load benchmark)"}),
               "adding the supplier", 201)
        name = f"bench-evaluator-{tag}"
        key = _check(c.post("/users", headers=admin, json={"name": name, "role": "evaluator"}), "creating the evaluator", 201)["key"]
        _check(c.post(f"/tenders/{tender}/evaluators", headers=admin, json={"user": name}), "assigning the evaluator", 201)
        evaluator = {"Authorization": f"Bearer {key}"}

        uploads = [(SUBMISSION, "submission")]
        if not with_paper:
            notes.append("cited paper not uploaded (--no-paper)")
        elif PAPER.is_file():
            uploads.append((PAPER, "paper"))
        else:
            notes.append(f"cited paper not uploaded: {PAPER} is absent (clone ../shared beside the repo); claims have no source to check")
        jobs = {}
        t0 = time.monotonic()
        for path, role in uploads:
            job = _check(c.post(f"/tenders/{tender}/documents", params={"role": role, "supplier": SUPPLIER}, headers=evaluator,
                                files={"file": (path.name, path.read_bytes(), "application/pdf")}), f"uploading {path.name}", 202)
            jobs[job["id"]] = path.name
        states: dict[str, dict] = {}
        claims: list[dict] = []
        deadline = time.monotonic() + timeout
        while True:
            states = {j: _check(c.get(f"/jobs/{j}", headers=evaluator), "polling a job", 200) for j in jobs}
            finished = all(s["status"] in ("done", "failed") for s in states.values())
            if finished or time.monotonic() > deadline:
                claims = _check(c.get(f"/tenders/{tender}/claims", params={"limit": 5000}, headers=evaluator), "listing claims", 200)["data"]
                if finished or claims:
                    break
                raise BenchError(f"no claims after {timeout:.0f} s; jobs: " + "; ".join(f"{jobs[j]} {s['status']} {s.get('stage')}"
                                                                                        for j, s in states.items()))
            time.sleep(POLL_S)
        if not finished:
            notes.append(f"setup jobs still running after {timeout:.0f} s; measuring with the claims listed so far")
        if not claims:
            raise BenchError("the submission gave no claims; jobs: " + "; ".join(f"{jobs[j]} {s['status']} at {s.get('stage')}: "
                                                                               f"{s.get('reason')}" for j, s in states.items()))
    return {"tender_id": tender, "supplier": SUPPLIER, "evaluator_key": key, "evaluator": name, "claims": claims,
            "jobs": [_job_summary(s, jobs[j]) for j, s in states.items()], "seconds": round(time.monotonic() - t0, 1), "notes": notes}


# --- the workload ---------------------------------------------------------------------------------------------------


_WORD = re.compile(r"[A-Za-z][A-Za-z-]{2,}")


def queries_from(claims: list[dict], rng: random.Random) -> list[str]:
    """Search queries drawn from the claims' text: their outcomes, and every run of 3 to 7 words of their quotes (thousands
    of distinct queries, so that a search seldom repeats one asked before and caches do not flatter the figures)."""
    queries = []
    for item in claims:
        claim = item["claim"]
        if claim.get("outcome"):
            queries.append(claim["outcome"])
        words = _WORD.findall(claim.get("quote", ""))
        for n in range(3, min(7, len(words)) + 1):
            queries += [" ".join(words[start:start + n]) for start in range(len(words) - n + 1)]
    return sorted(set(queries)) or ["length of stay"]


def list_filters(claims: list[dict], supplier: str) -> list[dict]:
    """Query strings for claim listings: none, each domain, category and support status present, review states, paging."""
    filters: list[dict] = [{}, {"review": "pending"}, {"review": "accepted"}, {"supplier": supplier}, {"limit": 20, "offset": 10},
                           {"role": "any"}]
    for key, values in (("domain", {c["claim"]["domain"] for c in claims}), ("category", {c["claim"]["category"] for c in claims}),
                        ("support", {c["support_status"] for c in claims})):
        filters += [{key: v} for v in sorted(values)]
    return filters


def parse_mix(text: str) -> dict[str, float]:
    mix = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        if name not in OPS:
            raise argparse.ArgumentTypeError(f"unknown operation {name!r} in --mix (use {', '.join(OPS)})")
        try:
            mix[name] = float(weight)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--mix: {part!r} is not NAME=WEIGHT") from None
    if not mix or sum(mix.values()) <= 0 or min(mix.values()) < 0:
        raise argparse.ArgumentTypeError("--mix needs positive weights, e.g. " + DEFAULT_MIX)
    return mix


@dataclass
class Phase:
    """What the clients share during the measured phase."""

    tender: str
    queries: list[str]
    filters: list[dict]
    claim_ids: list[str]
    mix: dict[str, float]
    deadline: float = 0.0
    max_requests: int = 0
    issued: int = 0
    reviews_by_decision: Counter = field(default_factory=Counter)
    _known: set[str] = field(default_factory=set)

    def add_claims(self, ids) -> None:
        for claim_id in ids:
            if claim_id not in self._known:
                self._known.add(claim_id)
                self.claim_ids.append(claim_id)

    def take(self) -> bool:
        """Whether one more measured request may start (time and count bounds)."""
        if time.perf_counter() >= self.deadline or self.issued >= self.max_requests:
            return False
        self.issued += 1
        return True


async def one_request(client: httpx.AsyncClient, rec: Recorder, phase: Phase, op: str, rng: random.Random, tag: str) -> None:
    t = phase.tender
    if op == "search":
        await timed(client, rec, op, "GET", "/search", params={"q": rng.choice(phase.queries), "tender_id": t, "k": 10})
    elif op == "list":
        params = rng.choice(phase.filters)
        r = await timed(client, rec, op, "GET", f"/tenders/{t}/claims", params=params)
        if r is not None and "role" not in params:  # submissions' claims uploaded meanwhile join the pool for details and reviews
            phase.add_claims(i["claim"]["id"] for i in r.json()["data"])
    elif op == "detail":
        await timed(client, rec, op, "GET", f"/tenders/{t}/claims/{rng.choice(phase.claim_ids)}")
    elif op == "review":
        decision = rng.choices(("accepted", "rejected", "corrected"), weights=(4, 3, 3))[0]
        body: dict = {"decision": decision, "reason": f"load benchmark {tag}: {decision}"}
        if decision == "corrected":  # a value no other request sets, so the correction always changes something
            body["corrections"] = {"outcome": f"outcome as corrected by load benchmark {tag}"}
        phase.reviews_by_decision[decision] += 1
        await timed(client, rec, op, "POST", f"/tenders/{t}/claims/{rng.choice(phase.claim_ids)}/reviews", json=body)
    elif op == "page_list":
        params = {k: v for k, v in rng.choice(phase.filters).items() if k in ("supplier", "domain", "category", "review")}
        await timed(client, rec, op, "GET", f"/ui/tenders/{t}/claims", params=params)
    elif op == "page_review":
        await timed(client, rec, op, "GET", f"/ui/tenders/{t}/claims/{rng.choice(phase.claim_ids)}")


async def sign_in(client: httpx.AsyncClient, key: str) -> None:
    """Open a workspace session on this client (its cookie jar keeps it), as a browser does: the form, then the key."""
    form = await client.get("/ui/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if form.status_code != 200 or token is None:
        raise BenchError(f"the sign-in page answered {form.status_code}")
    answer = await client.post("/ui/signin", data={"api_key": key, "csrf_token": token.group(1), "next": "/ui/tenders"})
    if answer.status_code != 303 or "vbp_session" not in client.cookies:
        raise BenchError(f"signing in to the workspace failed ({answer.status_code})")


def _client(url: str, key: str, timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout,
                             limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))


async def client_loop(n: int, client: httpx.AsyncClient, rec: Recorder, phase: Phase, seed: int) -> None:
    rng = random.Random(seed * 1000 + n)
    ops, weights = list(phase.mix), list(phase.mix.values())
    i = 0
    while phase.take():
        i += 1
        await one_request(client, rec, phase, rng.choices(ops, weights=weights)[0], rng, f"c{n}-{i}")


async def warm_up(clients: list[httpx.AsyncClient], rec: Recorder, phase: Phase, per_client: int, seed: int) -> None:
    """Excluded from the figures: one of each read in turn (loads the embedder, fills caches), then reads per client."""
    rng = random.Random(seed)
    kinds = [op for op in (*READS, *PAGES) if op in phase.mix]
    for op in kinds:
        await one_request(clients[0], rec, phase, op, rng, "warmup")

    async def reads(n: int, client: httpx.AsyncClient) -> None:
        r = random.Random(seed + n)
        for _ in range(per_client):
            await one_request(client, rec, phase, r.choice(kinds), r, f"warmup-{n}")

    await asyncio.gather(*(reads(n, c) for n, c in enumerate(clients)))


def background_files() -> list[tuple[str, bytes, str]]:
    """The other corpus submissions, as PDFs; then endless distinct copies of their Markdown sources (new documents)."""
    return [(p.name, p.read_bytes(), "application/pdf") for p in sorted((CORPUS / "submissions").glob("*.pdf")) if p != SUBMISSION]


async def uploader(client: httpx.AsyncClient, rec: Recorder, phase: Phase, supplier: str, jobs: list[dict]) -> None:
    """Upload one more submission for the same supplier, poll its job until it ends, then the next, until the deadline."""
    pdfs = background_files()
    sources = [p for p in sorted((CORPUS / "submissions").glob("*.md")) if p.stem != SUBMISSION.stem]
    n = 0
    while time.perf_counter() < phase.deadline:
        if n < len(pdfs):
            name, data, ctype = pdfs[n]
        else:  # every PDF uploaded: a distinct copy of a source keeps jobs running (a new hash is a new document)
            src = sources[(n - len(pdfs)) % len(sources)] if sources else SUBMISSION.with_suffix(".md")
            name, ctype = f"{src.stem}-copy{n}.md", "text/markdown"
            data = src.read_bytes() + f"\n\nLoad benchmark copy {n}.\n".encode()
        n += 1
        r = await timed(client, rec, "upload", "POST", f"/tenders/{phase.tender}/documents", params={"role": "submission", "supplier": supplier},
                        files={"file": (name, data, ctype)})
        if r is None:
            await asyncio.sleep(POLL_S)  # a refused upload is counted; do not hammer
            continue
        job = {"file": name, "job_id": r.json()["id"]}
        jobs.append(job)
        while time.perf_counter() < phase.deadline:
            await asyncio.sleep(POLL_S)
            p = await timed(client, rec, "poll", "GET", f"/jobs/{job['job_id']}")
            if p is not None and p.json()["status"] in ("done", "failed"):
                break


async def measure(url: str, key: str, info: dict, args, server: LocalServer | None) -> dict:
    rng = random.Random(args.seed)
    claims = info["claims"]
    phase = Phase(tender=info["tender_id"], queries=queries_from(claims, rng), filters=list_filters(claims, info["supplier"]),
                  claim_ids=[], mix=args.mix)
    phase.add_claims(c["claim"]["id"] for c in claims)
    clients = [_client(url, key, args.timeout) for _ in range(args.clients)]
    upload_client = _client(url, key, max(args.timeout, 120))
    warm, rec = Recorder(), Recorder()
    jobs: list[dict] = []
    tasks: list[asyncio.Task] = []
    try:
        if any(op in phase.mix for op in PAGES):
            await asyncio.gather(*(sign_in(c, key) for c in clients))
        phase.deadline, phase.max_requests = math.inf, math.inf
        await warm_up(clients, warm, phase, args.warmup, args.seed)
        phase.issued = 0
        load_before = os.getloadavg()
        cpu_before = server.cpu_seconds() if server else None
        own_cpu = time.process_time()
        t0 = time.perf_counter()
        phase.deadline, phase.max_requests = t0 + args.seconds, args.max_requests
        if not args.no_uploads:
            tasks.append(asyncio.create_task(uploader(upload_client, rec, phase, info["supplier"], jobs)))
        loops = [asyncio.create_task(client_loop(n, c, rec, phase, args.seed)) for n, c in enumerate(clients)]
        tasks += loops
        hard_limit = args.seconds + args.timeout + 10  # a request in flight at the deadline may still answer (or time out)
        done, pending = await asyncio.wait(loops, timeout=hard_limit)
        if pending:
            print(f"note: {len(pending)} client(s) still busy {hard_limit:.0f} s after the start; stopped", file=sys.stderr)
        elapsed = time.perf_counter() - t0
        phase.deadline = 0.0
        cpu_after = server.cpu_seconds() if server else None
        own_cpu = time.process_time() - own_cpu
        load_after = os.getloadavg()
        for task in done:
            task.result()  # a bug in the benchmark itself is raised, not hidden
        if not args.no_uploads:  # the uploader stops at the deadline; let its last request answer
            await asyncio.wait(tasks[:1], timeout=args.timeout)
        # the outcome of every upload of the phase, as it stands now (one unrecorded look per job)
        for job in jobs:
            with contextlib.suppress(Exception):
                r = await upload_client.get(f"/jobs/{job['job_id']}")
                if r.status_code == 200:
                    job.update(_job_summary(r.json(), job["file"]))
        # every review answered 201 must be in the audit trail, and no more (one unrecorded request)
        audited = None
        with contextlib.suppress(Exception):
            r = await upload_client.get("/audit", params={"tender_id": phase.tender, "action": "claim.review", "limit": 1})
            audited = r.json()["count"] if r.status_code == 200 else None
    finally:
        for task in tasks:  # on Ctrl-C, an error or a timeout: nothing is left running
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for c in [*clients, upload_client]:
            await c.aclose()
    return {"rec": rec, "warm": warm, "elapsed": elapsed, "jobs": jobs, "phase": phase, "load": (load_before, load_after),
            "reviews_audited": audited, "client_cpu_s": round(own_cpu, 1),
            "server_cpu_s": None if cpu_before is None or cpu_after is None else round(cpu_after - cpu_before, 1)}


# --- the report -----------------------------------------------------------------------------------------------------


def build_report(args, url: str, info: dict, m: dict, *, own_server: bool) -> dict:
    from eval.bench import machine
    from eval.runner import git_commit

    rec: Recorder = m["rec"]
    elapsed = m["elapsed"]
    ops = [op for op in (*OPS, *BACKGROUND) if rec.latencies.get(op)]
    operations = {op: rec.summary(op, elapsed) for op in ops}
    reads = rec.combined(READS, elapsed) if any(rec.latencies.get(op) for op in READS) else None
    pages = rec.combined(PAGES, elapsed) if any(rec.latencies.get(op) for op in PAGES) else None
    total = rec.count()
    errors = sum(rec.errors.values())
    outcomes = Counter(j.get("status", "unknown") for j in m["jobs"])
    slow = []
    if reads is not None and (reads["p95_ms"] is None or reads["p95_ms"] > TARGET_P95_MS):
        slow.append(f"reads p95 {reads['p95_ms']} ms > {TARGET_P95_MS:.0f} ms")
    if pages is not None and (pages["p95_ms"] is None or pages["p95_ms"] > TARGET_PAGES_P95_MS):
        slow.append(f"pages p95 {pages['p95_ms']} ms > {TARGET_PAGES_P95_MS:.0f} ms")
    passed = errors == 0 and not slow and (reads is not None or pages is not None)
    why = [] if passed else ([f"{errors} error(s)"] if errors else []) + slow
    warm: Recorder = m["warm"]
    cpu = m["server_cpu_s"]
    return {
        "benchmark": "service-load",
        "started_at": args.started_at,
        "commit": git_commit(),
        "machine": machine(),
        "url": url,
        "server": "started by the benchmark (fresh data folder)" if own_server else "already running (--url)",
        "clients": args.clients,
        "seconds": args.seconds,
        "max_requests": args.max_requests,
        "mix": args.mix,
        "elapsed_s": round(elapsed, 2),
        "requests": total,
        "requests_per_s": round(total / elapsed, 2) if elapsed > 0 else None,
        "measured_requests": rec.count(OPS),
        "measured_requests_per_s": round(rec.count(OPS) / elapsed, 2) if elapsed > 0 else None,
        "errors": errors,
        "errors_5xx": sum(o["errors_5xx"] for o in operations.values()),
        "operations": operations,
        "reads": reads,
        "pages": pages,
        "reviews_by_decision": dict(m["phase"].reviews_by_decision),
        "reviews_check": {"answered_201": rec.statuses.get("review", {}).get("201", 0), "in_audit_trail": m["reviews_audited"],
                          "consistent": rec.statuses.get("review", {}).get("201", 0) == m["reviews_audited"]},
        "uploads": {"jobs": m["jobs"], "outcomes": dict(outcomes),
                    "note": "uploaded one at a time during the phase; a job still queued or running at the end is reported as such"},
        "warmup": {"requests": warm.count(), "errors": sum(warm.errors.values()), "first_errors": [e for v in warm.messages.values() for e in v][:MESSAGES_KEPT],
                   "excluded": True, "how": f"one search, one listing, one claim detail in turn, then {args.warmup} reads per client"},
        "setup": {"tender_id": info["tender_id"], "claims": len(info["claims"]), "jobs": info["jobs"], "seconds": info["seconds"],
                  "notes": info["notes"]},
        "server_cpu_s": cpu,
        "client_cpu_s": m["client_cpu_s"],
        "server_cpu_share": round(cpu / elapsed / (os.cpu_count() or 1), 2) if cpu is not None and elapsed > 0 else None,
        "load_average": {"before": [round(x, 2) for x in m["load"][0]], "after": [round(x, 2) for x in m["load"][1]]},
        "latency": "client-side time.perf_counter around each whole request; nearest-rank percentiles; failed requests included; no retries",
        "target": {"errors": 0, "reads_p95_ms": TARGET_P95_MS, "pages_p95_ms": TARGET_PAGES_P95_MS, "clients": 20},
        "pass": passed,
        "verdict": ("PASS" if passed else "FAIL") + f": {errors} errors"
                   + (f", reads p95 {reads['p95_ms']} ms" if reads is not None else "")
                   + (f", pages p95 {pages['p95_ms']} ms" if pages is not None else "")
                   + f" (target: no errors, reads p95 <= {TARGET_P95_MS:.0f} ms, pages p95 <= {TARGET_PAGES_P95_MS:.0f} ms)"
                   + (f" [{'; '.join(why)}]" if why else ""),
    }


def format_report(r: dict) -> str:
    lines = [f"vbp-evidence load benchmark: {r['clients']} clients, {r['elapsed_s']} s ({r['server']}), commit {r['commit'][:12]}",
             (f"machine: {r['machine'].get('cpu')}, {r['machine'].get('cores')} cores, {r['machine'].get('memory_gb')} GB; "
              f"load average before {r['load_average']['before'][0]}, after {r['load_average']['after'][0]}"),
             f"setup: {r['setup']['claims']} claims from " + ", ".join(
                 f"{j['file']} {j['status']}" + (f" at {j['stage']} ({j['error_code']}: {j['reason']})" if j["status"] == "failed" else "")
                 for j in r["setup"]["jobs"])
             + f" in {r['setup']['seconds']} s"]
    lines += [f"note: {n}" for n in r["setup"]["notes"]]
    lines.append(f"warm-up: {r['warmup']['requests']} requests excluded ({r['warmup']['how']}), {r['warmup']['errors']} errors")
    lines.append("")
    header = f"{'operation':<10} {'count':>7} {'req/s':>8} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
    lines += [header, "-" * len(header)]

    def row(name: str, s: dict) -> str:
        def f(v):
            return "-" if v is None else f"{v:.1f}"
        return f"{name:<10} {s['count']:>7} {f(s['requests_per_s']):>8} {s['errors']:>7} {f(s['p50_ms']):>8} {f(s['p95_ms']):>8} {f(s['max_ms']):>8}"

    for op, s in r["operations"].items():
        lines.append(row(op, s))
    lines.append("-" * len(header))
    if r["reads"] is not None:
        lines.append(row("reads", r["reads"]))
    if r.get("pages") is not None:
        lines.append(row("pages", r["pages"]))
    lines.append(f"{'all':<10} {r['requests']:>7} {r['requests_per_s']:>8.1f} {r['errors']:>7}")
    lines.append("")
    if r["reviews_by_decision"]:
        rc = r["reviews_check"]
        lines.append("reviews: " + ", ".join(f"{k} {v}" for k, v in sorted(r["reviews_by_decision"].items()))
                     + f"; {rc['answered_201']} answered 201, {rc['in_audit_trail']} in the audit trail"
                     + ("" if rc["consistent"] else "  <-- MISMATCH"))
    up = r["uploads"]
    lines.append(f"uploads during the phase: {len(up['jobs'])} (" + (", ".join(f"{k} {v}" for k, v in sorted(up["outcomes"].items())) or "none") + ")")
    for j in up["jobs"]:
        failed = f" at {j.get('stage')} ({j.get('error_code')}: {j.get('reason')})" if j.get("status") == "failed" else ""
        claims = f", {j['claims']} claims" if j.get("claims") is not None else ""
        seconds = f", {j['seconds']} s" if j.get("seconds") is not None else ""
        lines.append(f"  {j['file']}: {j.get('status', '?')}{failed}{claims}{seconds}")
    if r["server_cpu_s"] is not None:
        lines.append(f"server CPU (its process group): {r['server_cpu_s']} s over the phase ({r['server_cpu_share']:.0%} of the machine's "
                     f"{r['machine'].get('cores')} cores); the clients, on the same machine, used {r['client_cpu_s']} s")
    if r.get("server_log"):
        sl = r["server_log"]
        lines.append(f"server log: {sl['tracebacks']} tracebacks, {sl['error_lines']} ERROR lines, {sl['status_5xx_lines']} 5xx lines; "
                     f"exit code {sl['exit_code']} ({'clean stop' if sl['clean_stop'] else 'NOT a clean stop'})")
    for op, s in r["operations"].items():
        for e in s["first_errors"]:
            lines.append(f"error ({op}): {e}")
    lines.append("")
    lines.append(r["verdict"])
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Load benchmark of the vbp-evidence HTTP service (see the module docstring).")
    p.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    p.add_argument("--seconds", type=float, default=30.0, help="length of the measured phase (default 30)")
    p.add_argument("--max-requests", type=int, default=100_000, help="stop the measured phase after this many requests (default 100000)")
    p.add_argument("--mix", type=parse_mix, default=None, help=f"weights of the operations (default {DEFAULT_MIX}; with --pages {PAGES_MIX})")
    p.add_argument("--pages", action="store_true", help=f"measure the workspace's pages as a signed-in evaluator ({PAGES_MIX}, target "
                   f"p95 <= {TARGET_PAGES_P95_MS:.0f} ms)")
    p.add_argument("--warmup", type=int, default=2, help="reads per client before the clock starts, excluded (default 2)")
    p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds (default 30); a timeout is an error")
    p.add_argument("--setup-timeout", type=float, default=600.0, help="how long to wait for the setup uploads' jobs (default 600 s)")
    p.add_argument("--no-paper", action="store_true", help="do not upload the cited paper in setup (shorter)")
    p.add_argument("--no-uploads", action="store_true", help="no uploads during the measured phase")
    p.add_argument("--seed", type=int, default=7, help="random seed of the workload (default 7)")
    p.add_argument("--json", type=Path, help="also write the report to this JSON file")
    p.add_argument("--url", help="drive this already-running server instead of starting one (needs --key)")
    p.add_argument("--key", help="with --url: an admin API key")
    p.add_argument("--keep-data", action="store_true", help="keep the started server's data folder (and server.log); print where")
    p.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = p.parse_args(argv)
    if args.url and not args.key:
        p.error("--url needs --key (an admin key)")
    if args.key and not args.url:
        p.error("--key goes with --url")
    if args.clients < 1 or args.seconds <= 0 or args.max_requests < 1 or args.warmup < 0:
        p.error("--clients, --seconds and --max-requests must be positive, --warmup not negative")
    if args.mix is None:
        args.mix = parse_mix(PAGES_MIX if args.pages else DEFAULT_MIX)
    args.started_at = datetime.now(UTC).isoformat(timespec="seconds")
    return args


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args) -> dict:
    server: LocalServer | None = None
    workdir: Path | None = None
    try:
        if args.url:
            url, admin_key = args.url.rstrip("/"), args.key
        else:
            workdir = Path(tempfile.mkdtemp(prefix="vbp-load-"))
            server = LocalServer(workdir / "data")
            print(f"starting vbp serve on {server.url} (data folder {server.data_dir})", file=sys.stderr)
            admin_key = server.add_admin()
            server.start(timeout=180)
            url = server.url
        print(f"setup: tender, supplier, evaluator; uploading {SUBMISSION.name}" + ("" if args.no_paper else " and its cited paper")
              + "; waiting for the jobs ...", file=sys.stderr)
        info = setup(url, admin_key, with_paper=not args.no_paper, timeout=args.setup_timeout, request_timeout=args.timeout)
        for note in info["notes"]:
            print(f"note: {note}", file=sys.stderr)
        print(f"setup: {len(info['claims'])} claims in {info['seconds']} s; measuring {args.clients} clients for {args.seconds:g} s ...",
              file=sys.stderr)
        m = asyncio.run(measure(url, info["evaluator_key"], info, args, server))
        report = build_report(args, url, info, m, own_server=server is not None)
        if server is not None:
            code = server.stop()
            log = server.log_tail(10**8)
            report["server_log"] = {"exit_code": code, "clean_stop": code in (0, -signal.SIGTERM),
                                    "tracebacks": log.count("Traceback (most recent call last)"),
                                    "error_lines": sum(1 for line in log.splitlines() if " ERROR " in line or line.startswith("ERROR")),
                                    "status_5xx_lines": sum(1 for line in log.splitlines() if re.search(r'HTTP/1\.1" 5\d\d', line))}
            if report["server_log"]["tracebacks"] or not report["server_log"]["clean_stop"]:
                print(f"note: the server logged {report['server_log']['tracebacks']} traceback(s) and exited with {code}; "
                      f"end of its log:\n{server.log_tail(3000)}", file=sys.stderr)
        return report
    finally:
        if server is not None:
            code = server.stop()
            if code not in (None, 0, -signal.SIGTERM):
                print(f"note: the server exited with {code}; end of its log:\n{server.log_tail(1500)}", file=sys.stderr)
        if workdir is not None:
            if args.keep_data:
                print(f"data folder and server.log kept in {workdir}", file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)  # a terminated benchmark still stops its server
    try:
        report = run(args)
    except KeyboardInterrupt:
        print("interrupted; the server was stopped", file=sys.stderr)
        return 130
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except httpx.HTTPError as e:  # setup could not reach the server (the measured phase records these as errors)
        print(f"error: {type(e).__name__}: {e} (is the server at the URL running?)", file=sys.stderr)
        return 2
    print(format_report(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return 1 if args.check and not report["pass"] else 0


if __name__ == "__main__":
    sys.exit(main())
