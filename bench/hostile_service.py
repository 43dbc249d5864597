"""Upload the hostile-PDF corpus to a running `vbp serve` and print how each upload ended (issue 16's bars).

    python bench/hostile_service.py                 # full-size corpus, a fresh server on a temp data folder
    python bench/hostile_service.py --small --json out.json

For each file: the upload's answer (202 and the job's final state, or the pre-flight's 4xx), the error code and
message, the seconds from the upload to the final state, and the peak resident memory of the server's processes
while that file was handled (the server itself, its parser workers and the compute child, sampled every 50 ms).
A file is over a bar when it took more than 60 s, any process of the server grew by more than 1 GiB, the message
runs over one line or holds a traceback, or the answer is a 5xx. The server's log is searched for tracebacks at the
end. Exit 1 when any file is over a bar.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile_pdfs import write_corpus  # noqa: E402 - a sibling script, not a package
from load import LocalServer  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BAR_SECONDS = 60.0
BAR_GROWTH_MB = 1024.0


def _group_rss(pgid: int) -> dict[int, float]:
    """Resident MiB of each live process in the server's process group."""
    out = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            if fields[2] != str(pgid):
                continue
            rss_pages = int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        out[int(status.parent.name)] = rss_pages * 4096 / 2**20
    return out


class _Sampler:
    """The peak resident memory of every process of the group since :meth:`reset`, and each one's size at the reset."""

    def __init__(self, pgid: int) -> None:
        self.pgid, self.lock = pgid, threading.Lock()
        self.base: dict[int, float] = {}
        self.peak: dict[int, float] = {}
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.base = _group_rss(self.pgid)
            self.peak = dict(self.base)

    def growth(self) -> tuple[float, float]:
        """``(largest growth of one process in MiB, largest process in MiB)`` since the reset; a new process grows from 0."""
        with self.lock:
            growth = max((mb - self.base.get(pid, 0.0) for pid, mb in self.peak.items()), default=0.0)
            return growth, max(self.peak.values(), default=0.0)

    def _run(self) -> None:
        while not self.stop.is_set():
            now = _group_rss(self.pgid)
            with self.lock:
                for pid, mb in now.items():
                    self.peak[pid] = max(self.peak.get(pid, 0.0), mb)
            time.sleep(0.05)


def run(files: list[Path], server: LocalServer, *, timeout: float) -> list[dict]:
    admin = server.add_admin()
    h = {"Authorization": f"Bearer {admin}"}
    rows = []
    with httpx.Client(base_url=server.url, timeout=timeout) as c:
        tender = c.post("/tenders", headers=h, json={"title": "Hostile files"}).json()["id"]
        c.post(f"/tenders/{tender}/suppliers", headers=h, json={"supplier": "probe"}).raise_for_status()
        # warm up: a real submission first, so the compute child has loaded its models (about 1.6 GB resident) before the
        # measured files; otherwise the first file that reaches the extract step would be charged for the models
        warm = REPO / "corpus" / "submissions" / "harbour-lane-drug-eluting-stent.pdf"
        with warm.open("rb") as f:
            job = c.post(f"/tenders/{tender}/documents", headers=h, params={"role": "submission", "supplier": "probe"},
                         files={"file": (warm.name, f, "application/pdf")}).json()
        while c.get(f"/jobs/{job['id']}", headers=h).json()["status"] not in ("done", "failed"):
            time.sleep(0.2)
        sampler = _Sampler(server.proc.pid)
        for path in files:
            sampler.reset()
            started = time.monotonic()
            with path.open("rb") as f:
                r = c.post(f"/tenders/{tender}/documents", headers=h, params={"role": "submission", "supplier": "probe"},
                           files={"file": (path.name, f, "application/pdf")})
            row = {"file": path.name, "mb": round(path.stat().st_size / 2**20, 1), "http": r.status_code}
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {"raw": r.text[:200]}
            if r.status_code == 202:
                job_id = body["id"]
                while True:
                    job = c.get(f"/jobs/{job_id}", headers=h).json()
                    if job["status"] in ("done", "failed") or time.monotonic() - started > timeout:
                        break
                    time.sleep(0.1)
                row.update(state=job["status"], code=job.get("error_code") or "ok", message=job.get("reason") or "",
                           claims=(job.get("result") or {}).get("claims"))
            else:
                error = body.get("error", {})
                row.update(state="refused", code=error.get("code", "?"), message=error.get("message", json.dumps(body)[:200]))
            row["seconds"] = round(time.monotonic() - started, 2)
            growth, largest = sampler.growth()
            row.update(growth_mb=round(growth), largest_mb=round(largest))
            message = row["message"]
            row["over"] = [why for why, bad in (("time", row["seconds"] > BAR_SECONDS), ("memory", growth > BAR_GROWTH_MB),
                                                 ("5xx", r.status_code >= 500), ("traceback", "Traceback" in message),
                                                 ("multi-line", "\n" in message.strip()),
                                                 ("unfinished", row["state"] in ("queued", "running"))) if bad]
            rows.append(row)
            print(f"{row['file'][:50]:<50} {row['mb']:>7} {row['http']:>4} {row['state']:<8} {row['code']:<18} {row['seconds']:>6.2f} "
                  f"{row['growth_mb']:>6} {row['largest_mb']:>6}  {message[:90]}{'  <-- ' + ','.join(row['over']) if row['over'] else ''}",
                  flush=True)
        sampler.stop.set()
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", action="store_true", help="the small variants the slow test uses")
    ap.add_argument("--timeout", type=float, default=180.0, help="give up on one file after this many seconds (default 180)")
    ap.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vbp-hostile-") as tmp:
        files = write_corpus(Path(tmp) / "corpus", small=args.small)
        server = LocalServer(Path(tmp) / "data")
        server.start(timeout=180)
        print(f"{'file':<50} {'MB':>7} {'http':>4} {'state':<8} {'code':<18} {'s':>6} {'grow':>6} {'max':>6}  message (MB: resident memory)")
        try:
            rows = run(files, server, timeout=args.timeout)
        finally:
            server.stop()
        log = server.log.read_text(errors="replace")
        tracebacks = log.count("Traceback")
    bad = [r for r in rows if r["over"]]
    print(f"\n{len(rows)} files: {len(bad)} over a bar; slowest {max(r['seconds'] for r in rows):.2f} s; largest growth of one "
          f"process {max(r['growth_mb'] for r in rows)} MB; tracebacks in the server log: {tracebacks}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "server_log_tracebacks": tracebacks}, indent=2))
    return 1 if bad or tracebacks else 0


if __name__ == "__main__":
    raise SystemExit(main())
