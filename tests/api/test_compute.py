"""The jobs' compute process (``api.compute``), on the real models (slow tier): it gives what the server process would,
runs at a lower priority, and a child that dies fails one step with a clear error, then is replaced."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from api.compute import ComputeProcess
from api.settings import Settings
from extractor.errors import InternalError

pytestmark = pytest.mark.slow

CLAIM = "The stent reduced binary restenosis compared with the control stent."
PASSAGES = ["Binary restenosis occurred in 2.6% of the Genoss group and 7.7% of the Promus group.",
            "Patients were enrolled at nine centres in Korea between 2014 and 2015."]


@pytest.fixture()
def compute(tmp_path):
    process = ComputeProcess.from_settings(Settings(data_dir=tmp_path / "data"))
    yield process
    process.close()


def _child_pid(process: ComputeProcess) -> int:
    [pid] = list(process._pool._processes)
    return pid


def test_compute_process_answers_as_this_process_would(compute: ComputeProcess, tmp_path) -> None:
    from extractor.claims import extract_claims
    from extractor.pipeline import parse_file
    from retrieval.embedder import make_embedder
    from retrieval.support import get_stance_classifier

    r = Settings(data_dir=tmp_path / "data").retrieval
    here = make_embedder(r.embedder, cache_dir=r.model_cache_path(), max_length=r.max_length).embed(PASSAGES)
    there = compute.embed(PASSAGES)
    assert there.shape == here.shape == (2, 384) and np.allclose(there, here, atol=1e-5)

    local = get_stance_classifier().predict(CLAIM, PASSAGES)
    remote = compute.classifier().predict(CLAIM, PASSAGES)
    assert [p.stance for p in remote] == [p.stance for p in local]
    assert np.allclose([p.score for p in remote], [p.score for p in local], atol=1e-4)

    source = tmp_path / "stent.md"
    source.write_text(f"# Stent\n\n{CLAIM} [1]\n\n## References\n\n1. Trial of a stent. 2017.\n")
    doc = parse_file(source)
    mine = extract_claims(doc).claims
    assert mine and [c.quote for c in compute.extract(doc).claims] == [c.quote for c in mine]
    assert os.getpriority(os.PRIO_PROCESS, _child_pid(compute)) >= os.getpriority(os.PRIO_PROCESS, 0) + 10


def test_compute_process_that_dies_fails_the_step_and_is_replaced(compute: ComputeProcess) -> None:
    compute.embed(PASSAGES[:1])
    first = _child_pid(compute)
    os.kill(first, 9)
    with pytest.raises(InternalError, match="compute process died during the 'index' step"):
        compute.embed(PASSAGES[:1])
    assert compute.embed(PASSAGES[:1]).shape == (1, 384)  # a fresh child
    assert _child_pid(compute) != first


def test_compute_process_outlives_the_stop_signals_sent_to_its_group(compute: ComputeProcess) -> None:
    """Ctrl-C (or a service manager) signals every process of the group: the child must keep its step, so that the
    server can re-queue the job itself instead of the step failing."""
    import signal

    compute.embed(PASSAGES[:1])
    child = _child_pid(compute)
    for sig in (signal.SIGINT, signal.SIGTERM):
        os.kill(child, sig)
    time.sleep(0.5)
    assert compute.embed(PASSAGES[:1]).shape == (1, 384) and _child_pid(compute) == child


def test_compute_process_closed_never_starts_another_child(compute: ComputeProcess) -> None:
    """A job step that comes after the server began stopping fails at once instead of starting a child the server
    would leave behind."""
    compute.embed(PASSAGES[:1])
    child = _child_pid(compute)
    compute.close()
    with pytest.raises(InternalError, match="server is stopping"):
        compute.embed(PASSAGES[:1])
    assert compute._pool is None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and Path(f"/proc/{child}").exists() and "Z" not in Path(f"/proc/{child}/stat").read_text().split()[2]:
        time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]


def test_compute_process_ends_when_the_server_is_killed(tmp_path) -> None:
    """A server killed outright (SIGKILL, out of memory) must not leave its compute process holding the models."""
    import subprocess
    import sys

    script = tmp_path / "server.py"
    script.write_text(
        "import os, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "if __name__ == '__main__':\n"
        "    from api.compute import ComputeProcess\n"
        "    from api.settings import Settings\n"
        f"    c = ComputeProcess.from_settings(Settings(data_dir={str(tmp_path / 'data')!r}))\n"
        "    c.embed(['hello'])\n"
        "    print(list(c._pool._processes)[0], flush=True)\n"
        "    os.kill(os.getpid(), 9)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == -9, done.stderr[-2000:]
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and Path(f"/proc/{child}").exists():
        time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
