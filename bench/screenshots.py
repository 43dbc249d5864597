"""Screenshots of the browser workspace on the demo corpus, for the README (issue 12).

Starts ``vbp serve --demo`` on a fresh data folder and a free loopback port, waits until the corpus is ingested and
checked, then drives Debian's chromium (Playwright) as the demo evaluator and the demo supplier and saves PNGs:

    .venv/bin/python bench/screenshots.py                  # into api/web/screenshots/
    .venv/bin/python bench/screenshots.py --out /tmp/shots

Every request the browser makes must go to the server it started; the script fails otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from api.demo import DEMO_REFERENCE  # noqa: E402
from bench.load import free_port  # noqa: E402


def _keys(log: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(demo-[\w-]+)\s+(vbp_\S+)\s*$", log, re.M))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "api" / "web" / "screenshots")
    ap.add_argument("--timeout", type=float, default=900.0, help="how long to wait for the demo corpus to be processed")
    args = ap.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="vbp-shots-"))
    port = free_port()
    log_path = work / "server.log"
    env = {**os.environ, "VBP_DATA_DIR": str(work / "data"), "VBP_SERVICE__PORT": str(port)}
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--demo", "--port", str(port), "--papers", str(work / "no-papers")], cwd=REPO, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + args.timeout
        keys: dict[str, str] = {}
        while time.monotonic() < deadline and len(keys) < 3:
            time.sleep(1)
            keys = _keys(log_path.read_text())
            if server.poll() is not None:
                raise SystemExit(f"vbp serve stopped:\n{log_path.read_text()[-3000:]}")
        admin = {"Authorization": f"Bearer {keys['demo-admin']}"}
        while time.monotonic() < deadline:
            with httpx.Client(base_url=base, timeout=30) as c:
                jobs = c.get("/jobs", headers=admin, params={"limit": 1000}).json()["data"]
            if jobs and all(j["status"] in ("done", "failed") for j in jobs):
                break
            time.sleep(3)
        with httpx.Client(base_url=base, timeout=30) as c:
            tender = next(t["id"] for t in c.get("/tenders", headers=admin).json()["data"] if t["reference"] == DEMO_REFERENCE)
            claims = c.get(f"/tenders/{tender}/claims", headers=admin, params={"limit": 5000}).json()["data"]
        args.out.mkdir(parents=True, exist_ok=True)
        foreign: list[str] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])

            def session(who: str):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base + "/") else (foreign.append(r.request.url),
                                                                                                            r.abort()))
                page = context.new_page()
                page.goto(base + "/ui/signin")
                page.fill("#api_key", keys[who])
                page.keyboard.press("Enter")
                page.wait_for_url(base + "/ui/tenders")
                return context, page

            context, page = session("demo-evaluator")
            page.goto(f"{base}/ui/tenders/{tender}")
            page.screenshot(path=str(args.out / "tender-overview.png"), full_page=True)
            by_verdict = {}
            for item in claims:
                by_verdict.setdefault(item["verdict"], item)
            for verdict in ("supported", "contradicted", "numbers_differ"):
                item = by_verdict.get(verdict)
                if item is None:
                    print(f"note: no {verdict} claim in the demo", file=sys.stderr)
                    continue
                page.goto(f"{base}/ui/tenders/{tender}/claims/{item['claim']['id']}?supplier={item['supplier_id']}")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(args.out / f"review-{verdict.replace('_', '-')}.png"))
            context.close()
            supplier = next(k for k in keys if k not in ("demo-admin", "demo-evaluator"))
            context, page = session(supplier)
            page.goto(f"{base}/ui/tenders/{tender}/documents")
            link = page.get_by_role("link", name="Pre-check").first
            link.click()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(args.out / "supplier-precheck.png"))
            context.close()
            browser.close()
        if foreign:
            raise SystemExit(f"the pages asked another host for: {foreign[:5]}")
        print(f"screenshots in {args.out}: " + ", ".join(sorted(p.name for p in args.out.glob("*.png"))))
        return 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
