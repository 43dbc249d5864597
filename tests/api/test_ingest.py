"""Batch ingest through worker processes on real files: statuses, isolation of bad files, hard limits."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from api.ingest import expand_paths, ingest_paths
from api.store.models import DocumentRow, IngestEventRow
from extractor.schema import IngestStatus
from extractor.settings import ParsingSettings

pytestmark = pytest.mark.slow


@pytest.fixture()
def batch(tmp_path: Path, shared_pdfs: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in (
        "kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf",
        "awkward_corrupt_empty_zero_bytes.pdf",
        "awkward_encrypted_AES256_R6_password.pdf",
        "awkward_scanned_DXA_bone_density_report_image_only.pdf",
    ):
        shutil.copy(shared_pdfs / name, folder / name)
    (folder / "notes.md").write_text("# Notes\n\nThe device reduced length of stay by 1.2 days.\n")
    (folder / "cut.docx").write_bytes(b"PK\x03\x04")  # a Word file cut short: a clear failure, not a stopped batch
    (folder / "ignored.pptx").write_bytes(b"PK\x03\x04")  # not a supported suffix: skipped in a folder
    return folder


@pytest.mark.parametrize("workers", [0, 2])
def test_ingest_bad_files_never_stop_a_batch(store, batch: Path, workers: int) -> None:
    results = ingest_paths([batch], store=store, settings=ParsingSettings(), workers=workers)
    by_name = {r.path.name: r for r in results}
    assert set(by_name) == {p.name for p in batch.iterdir() if p.suffix != ".pptx"}
    assert by_name["kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf"].status is IngestStatus.stored
    assert by_name["notes.md"].status is IngestStatus.stored
    assert by_name["awkward_corrupt_empty_zero_bytes.pdf"].error_code == "empty_file"
    assert by_name["awkward_encrypted_AES256_R6_password.pdf"].error_code == "password_required"
    assert by_name["awkward_scanned_DXA_bone_density_report_image_only.pdf"].status is IngestStatus.stored  # read by OCR
    assert by_name["cut.docx"].error_code == "damaged_file"
    assert store.count(DocumentRow) == 3
    assert store.count(IngestEventRow) == 6
    again = ingest_paths([batch], store=store, settings=ParsingSettings(), workers=workers)
    assert {r.path.name: r.status for r in again}["notes.md"] is IngestStatus.unchanged
    assert store.count(DocumentRow) == 3


def test_ingest_password_applies_to_the_batch(store, batch: Path) -> None:
    [result] = ingest_paths([batch / "awkward_encrypted_AES256_R6_password.pdf"], store=store, settings=ParsingSettings(),
                            workers=1, password="password")
    assert result.status is IngestStatus.stored


def test_ingest_hung_parser_is_killed_and_the_rest_goes_on(tmp_path: Path, batch: Path) -> None:
    from extractor.batch import parse_many

    fifo = tmp_path / "hangs.pdf"
    os.mkfifo(fifo)  # reading a pipe nobody writes to blocks forever: a parser that hangs
    good = batch / "notes.md"
    outcomes = {p.name: o for p, o, _ in parse_many([fifo, good], settings=ParsingSettings(timeout_s=0.5), workers=1, grace_s=1.0)}
    assert getattr(outcomes["hangs.pdf"], "code", None) == "too_complex"  # a time limit: too complex to read safely (issue 16)
    assert "was stopped" in str(outcomes["hangs.pdf"])
    assert outcomes["notes.md"].filename == "notes.md"


def test_ingest_missing_path_is_named(tmp_path: Path) -> None:
    from extractor.errors import DocumentError

    with pytest.raises(DocumentError, match="no such file or folder"):
        expand_paths([tmp_path / "nope"])


def test_parser_processes_can_run_at_a_lower_priority() -> None:
    """The service parses uploads in processes `nice` lowers, so that its request handlers keep the CPU."""
    import multiprocessing

    from extractor.batch import _kill, _pool

    pool = _pool(multiprocessing.get_context("forkserver"), 1, 7)
    try:
        assert pool.submit(os.nice, 0).result(timeout=120) == os.nice(0) + 7
        [worker] = list(pool._processes.values())
        os.kill(worker.pid, signal.SIGINT)  # what Ctrl-C sends the whole group: the service stops its parsers itself
        assert pool.submit(os.getpid).result(timeout=120) == worker.pid
    finally:
        _kill(pool)
