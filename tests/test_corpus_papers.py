"""The project's fictional trial reports (``corpus/papers``): rendered from their sources, read as clinical papers,
internally consistent, cited by three corpus submissions, and checked by the product as their gold says.

Without ``../shared``, these are the only papers the demo can check a claim against. Each citing submission carries
claims designed to come out supported, contradicted, with numbers that differ, or unsupported; the gold records the
design in each claim's ``source_check`` (``expected`` and ``verdict``), and the slow test runs the real check.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from eval import corpus_render
from extractor.pipeline import parse_file
from extractor.schema import DocumentKind
from tests.conftest import CORPUS, REPO

NOTICE = "Fictional document written by the vbp-evidence project as test material."
VERDICTS = {"supported", "contradicted", "numbers_differ", "not_enough_info"}


def _manifest() -> list[dict]:
    with (CORPUS / "manifest.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _papers() -> list[dict]:
    return [row for row in _manifest() if row["kind"] == "clinical_paper"]


def _gold() -> list[dict]:
    return [json.loads(line) for line in (CORPUS / "gold.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def _checked() -> list[tuple[dict, dict]]:
    """(gold document, claim) for every gold claim checked against one of the fictional trial reports."""
    return [(doc, c) for doc in _gold() for c in doc["claims"] if c.get("source_check", {}).get("paper", "").startswith("papers/")]


def test_papers_have_manifest_rows_sources_and_no_gold() -> None:
    papers = _papers()
    assert len(papers) == 3
    gold_ids = {doc["doc_id"] for doc in _gold()}
    for row in papers:
        assert row["path"] == f"papers/{row['id']}.pdf" and row["source"] == f"papers/{row['id']}.md", row["id"]
        assert (CORPUS / row["path"]).is_file() and (CORPUS / row["source"]).is_file(), row["id"]
        assert row["id"] not in gold_ids, "a paper's claims are not supplier claims: like the shared papers, no gold line"
    assert sorted((CORPUS / "papers").glob("*.pdf")) == sorted(CORPUS / row["path"] for row in papers)


@pytest.mark.parametrize("row", _papers(), ids=lambda row: row["id"])
def test_paper_pdf_regenerates_from_its_source(row: dict, tmp_path: Path) -> None:
    source = tmp_path / Path(row["source"]).name
    shutil.copy(CORPUS / row["source"], source)
    assert corpus_render.render(source).read_bytes() == (CORPUS / row["path"]).read_bytes(), \
        "re-render with python -m eval.corpus_render"


@pytest.mark.parametrize("row", _papers(), ids=lambda row: row["id"])
def test_paper_reads_as_a_fictional_clinical_paper(row: dict) -> None:
    doc = parse_file(CORPUS / row["path"])
    assert doc.kind is DocumentKind.clinical_paper and doc.title == row["title"]
    first = next(s.text for s in doc.sentences if s.page == 1 and s.text != doc.title)
    assert first == NOTICE, "the first paragraph says the report is fictional"
    assert {"abstract", "methods", "results", "discussion", "references"} <= {s.label for s in doc.sections}
    assert "Fictional trial report written as test material" not in doc.text, "the running footer is removed"
    header = next(s.text for s in doc.sentences if s.in_table and "(n = " in s.text)
    assert len(re.findall(r"\(n = \d+\)", header)) == 2, "a results table with the two arms in columns"
    assert doc.references


@pytest.mark.parametrize("row", _papers(), ids=lambda row: row["id"])
def test_paper_numbers_agree_with_themselves(row: dict) -> None:
    """Every "events/N (x%)" and "n of N patients (x%)" gives x = events/N to one decimal, and the arms' group sizes are
    those of the table headers."""
    text = (CORPUS / row["source"]).read_text(encoding="utf-8")
    pairs = re.findall(r"\b(\d+)(?:/| of )(\d+)(?: [a-z]+)? \((\d+\.\d)%\)", text)
    assert len(pairs) >= 10
    for events, total, percent in pairs:
        assert f"{100 * int(events) / int(total):.1f}" == percent, f"{events}/{total} is not {percent}%"
    sizes = {int(n) for n in re.findall(r"\(n = (\d+)\)", text)}
    assert len(sizes) == 2 and {int(total) for _, total, _ in pairs} <= sizes


def test_three_submissions_cite_the_papers_and_their_references_resolve() -> None:
    from retrieval.citations import CitedCandidate, match_reference

    rows = {row["path"]: row for row in _manifest()}
    citing = [row for row in _manifest() if any(c.startswith("papers/") for c in row["cites"].split(";"))]
    assert {Path(row["source"]).stem for row in citing} >= {
        "northbridge-silver-foam-dressing", "marlow-peripheral-iv-catheter", "ashgrove-crp-point-of-care-test"}
    for row in citing:
        submission = parse_file(CORPUS / row["path"])
        for cited in row["cites"].split(";"):
            paper = rows[cited]
            candidate = CitedCandidate(doc_id=paper["id"], title=paper["title"])
            matched = [r.key for r in submission.references if match_reference(r, [candidate])]
            assert len(matched) == 1, f"{row['id']}: one reference names {paper['id']} ({matched})"


def test_gold_records_each_designed_verdict() -> None:
    checked = _checked()
    papers = {row["path"] for row in _papers()}
    assert {c["source_check"]["paper"] for _, c in checked} == papers, "every paper is cited by gold claims"
    for doc, c in checked:
        check = c["source_check"]
        assert check["verdict"] in VERDICTS and check["expected"] in {"match", "mismatch", "contradicted", "unsupported"}, c["quote"]
        if check["verdict"] == "numbers_differ":
            assert check["expected"] == "mismatch" and str(check["claimed_value"]) in c["quote"], c["quote"]
            paper = (CORPUS / next(r["source"] for r in _papers() if r["path"] == check["paper"])).read_text(encoding="utf-8")
            assert f"({check['source_number']}%)" in paper and f"{check['source_number']}%" not in c["quote"]
        assert c["citations"] and all(f"[{key}]" in c["quote"] for key in c["citations"])
    verdicts = [c["source_check"]["verdict"] for _, c in checked]
    assert all(verdicts.count(v) >= 1 for v in VERDICTS), verdicts
    assert {doc["doc_id"] for doc, _ in checked} >= {"northbridge-silver-foam-dressing", "marlow-peripheral-iv-catheter",
                                                     "marlow-peripheral-iv-catheter-docx", "ashgrove-crp-point-of-care-test"}


def _vbp(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VBP_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("submission", ["northbridge-silver-foam-dressing.pdf", "marlow-peripheral-iv-catheter.docx",
                                        "ashgrove-crp-point-of-care-test.pdf"])
def test_the_check_gives_each_claim_its_designed_verdict(submission: str, tmp_path: Path) -> None:
    """The claims that cite a fictional trial report, checked against it as the demo checks them: each gets the verdict
    its gold ``source_check`` designs, with the trial's own figure in the reason where the numbers differ."""
    row = next(r for r in _manifest() if r["path"] == f"submissions/{submission}")
    gold = next(doc for doc in _gold() if doc["doc_id"] == row["id"])
    designed = {c["quote"]: c["source_check"] for c in gold["claims"] if "source_check" in c}
    for cited in row["cites"].split(";"):
        assert _vbp("ingest", str(CORPUS / cited), "--kind", "clinical_paper", data_dir=tmp_path).returncode == 0
    claims = json.loads(_vbp("extract", str(CORPUS / row["path"]), "--json", data_dir=tmp_path).stdout)
    run = _vbp("support", claims[0]["doc_id"][:12], "--json", data_dir=tmp_path)
    assert run.returncode == 0, run.stderr
    got = {" ".join(c["claim"]["quote"].split()): c for c in json.loads(run.stdout)}
    assert set(designed) <= set(got), "every designed claim is extracted with its exact quote"
    for quote, check in designed.items():
        verdict = got[quote]["verdict"]
        assert verdict["status"] == check["verdict"], (quote, verdict)
        if check["verdict"] == "numbers_differ":
            assert f"{check['claimed_value']}%" in verdict["reason"] and f"{check['source_number']}%" in verdict["reason"]
    others = [c["verdict"]["status"] for q, c in got.items() if q not in designed]
    assert not {"contradicted", "numbers_differ"} & set(others), "no other claim is accused"
