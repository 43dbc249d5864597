"""The `vbp` command line, run as a user runs it: exit codes, one-line errors, tables and JSON."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def vbp(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VBP_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


def test_cli_ingest_reports_each_file_and_fails_when_one_fails(tmp_path: Path, shared_pdfs: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(shared_pdfs / "kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf", folder)
    shutil.copy(shared_pdfs / "awkward_corrupt_git_LFS_pointer_named_pdf.pdf", folder)
    run = vbp("ingest", str(folder), data_dir=tmp_path / "data")
    assert run.returncode == 1
    assert "Traceback" not in run.stdout + run.stderr
    assert "2 files: 1 ok, 1 failed" in run.stdout
    assert "Git LFS pointer" in run.stdout
    listed = vbp("show", "--list", "--json", data_dir=tmp_path / "data")
    [doc] = json.loads(listed.stdout)
    assert doc["filename"] == "kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf"
    shown = vbp("show", doc["id"][:12], "--json", data_dir=tmp_path / "data")
    assert shown.returncode == 0
    full = json.loads(shown.stdout)
    assert full["kind"] == "clinical_paper" and full["sentences"] and full["passages"]
    for s in full["sentences"]:
        assert full["text"][s["span"]["start"] : s["span"]["end"]] == s["text"]


def test_cli_ingest_json_and_idempotence(tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# Results\n\nThe catheter reduced phlebitis by 30% (p=0.01).\n")
    first = json.loads(vbp("ingest", str(doc), "--json", data_dir=tmp_path / "d").stdout)
    second = json.loads(vbp("ingest", str(doc), "--json", data_dir=tmp_path / "d").stdout)
    assert [r["status"] for r in first + second] == ["stored", "unchanged"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["show", "0000000000"], "no document with id '0000000000'"),
        (["ingest", "/definitely/not/here.pdf"], "no such file or folder"),
        (["ingest", "--kind", "brochure", "x.pdf"], "unknown document kind 'brochure'"),
    ],
)
def test_cli_errors_are_one_clear_line(tmp_path: Path, args: list[str], says: str) -> None:
    run = vbp(*args, data_dir=tmp_path / "d")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("error: ") and says in run.stderr


def test_cli_show_page_and_sentences(tmp_path: Path) -> None:
    doc = tmp_path / "b.txt"
    doc.write_text("Methods\nWe measured it.\fResults\nIt fell by 20%. It stayed low.\n")
    ingest = json.loads(vbp("ingest", str(doc), "--json", data_dir=tmp_path / "d").stdout)
    doc_id = ingest[0]["doc_id"]
    page2 = vbp("show", doc_id, "--page", "2", data_dir=tmp_path / "d")
    assert page2.stdout.strip() == "Results\nIt fell by 20%. It stayed low."
    sentences = vbp("show", doc_id, "--sentences", data_dir=tmp_path / "d").stdout
    assert "p2" in sentences and "It stayed low." in sentences
    bad = vbp("show", doc_id, "--page", "9", data_dir=tmp_path / "d")
    assert bad.returncode == 2 and "page 9 is out of range" in bad.stderr


def test_cli_settings_prints_effective_values(tmp_path: Path) -> None:
    run = vbp("settings", data_dir=tmp_path / "d")
    data = json.loads(run.stdout)
    assert data["data_dir"] == str(tmp_path / "d")
    assert data["effective_database_url"].startswith("sqlite:///")
    assert data["parsing"]["max_pages"] == 2000


def test_cli_bench_parse_only(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "bench.json"
    run = vbp("bench", str(shared_data / "rct_numeric" / "pdfs"), "--parse-only", "--json", str(out), data_dir=tmp_path / "d")
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    assert report["files"] == len(list((shared_data / "rct_numeric" / "pdfs").glob("*.pdf")))
    assert report["pages"] > 0 and report["pages_per_second"] > 0 and report["peak_rss_mb"] > 0
    assert "cores" in report["machine"]


def test_cli_reindex_and_search(tmp_path: Path) -> None:
    env_dir = tmp_path / "d"
    first, second = tmp_path / "a.md", tmp_path / "b.md"
    first.write_text("# Results\n\nThe Veloxa cannula reduced phlebitis from 7.4% to 3.1% on surgical wards.\n\n"
                     "## Supply\n\nOur standard lead time is 5 working days.\n")
    second.write_text("# Results\n\nThe dressing shortened time to healing by four weeks.\n")
    assert vbp("ingest", str(first), "--no-index", data_dir=env_dir).returncode == 0
    import os as _os

    _os.environ["VBP_RETRIEVAL__EMBEDDER"] = "minilm.torch.v1"  # the real model without the one-off ONNX export
    try:
        reindex = vbp("reindex", data_dir=env_dir)
        assert reindex.returncode == 0, reindex.stderr
        assert "indexed 2 passages of 1 documents" in reindex.stdout
        hits = json.loads(vbp("search", "phlebitis on surgical wards", "--json", data_dir=env_dir).stdout)
        assert hits and "phlebitis" in hits[0]["text"] and hits[0]["section"] == "results"
        in_results = json.loads(vbp("search", "lead time", "--section", "results", "--json", data_dir=env_dir).stdout)
        assert in_results and {h["section"] for h in in_results} == {"results"}
        assert json.loads(vbp("search", "lead time", "--kind", "clinical_paper", "--json", data_dir=env_dir).stdout) == []
        # a document stored without indexing: the search says the index is out of step
        assert vbp("ingest", str(second), "--no-index", data_dir=env_dir).returncode == 0
        stale = vbp("search", "time to healing", data_dir=env_dir)
        assert stale.returncode == 0 and "out of step" in stale.stderr and "vbp reindex" in stale.stderr
        empty = vbp("search", "   ", data_dir=env_dir)
        assert empty.returncode == 2 and "Traceback" not in empty.stderr
    finally:
        _os.environ.pop("VBP_RETRIEVAL__EMBEDDER", None)


def test_cli_ingest_indexes_and_delete_unindexes(tmp_path: Path) -> None:
    env_dir = tmp_path / "d"
    doc = tmp_path / "a.md"
    doc.write_text("# Results\n\nThe Veloxa cannula reduced phlebitis from 7.4% to 3.1% on surgical wards.\n")
    [stored] = json.loads(vbp("ingest", str(doc), "--json", data_dir=env_dir).stdout)
    hits = vbp("search", "phlebitis", "--json", data_dir=env_dir)
    assert "out of step" not in hits.stderr
    assert [h["doc_id"] for h in json.loads(hits.stdout)] == [stored["doc_id"]]
    gone = vbp("delete", stored["doc_id"][:12], data_dir=env_dir)
    assert gone.returncode == 0 and stored["doc_id"] in gone.stdout
    after = vbp("search", "phlebitis", "--json", data_dir=env_dir)
    assert json.loads(after.stdout) == [] and "out of step" not in after.stderr
    again = vbp("delete", stored["doc_id"][:12], data_dir=env_dir)
    assert again.returncode == 2 and "no document with id" in again.stderr and "Traceback" not in again.stderr


GENOSS = "kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf"
STENT_BID = REPO / "corpus" / "submissions" / "harbour-lane-drug-eluting-stent.pdf"


def test_cli_support_and_check_claim_against_the_cited_trial(tmp_path: Path, shared_pdfs: Path) -> None:
    env_dir = tmp_path / "d"
    assert vbp("ingest", str(shared_pdfs / GENOSS), data_dir=env_dir).returncode == 0
    claims = json.loads(vbp("extract", str(STENT_BID), "--json", data_dir=env_dir).stdout)
    bid_id = claims[0]["doc_id"]
    run = vbp("support", bid_id[:12], "--json", data_dir=env_dir)
    assert run.returncode == 0, run.stderr
    checks = json.loads(run.stdout)
    assert len(checks) == len(claims)
    cited = [c for c in checks if "[1]" in c["claim"]["quote"]]
    assert cited and all(c["cited_documents"] and c["unresolved_references"] == [] for c in cited)
    assert all(lk["document"] == GENOSS for c in cited for lk in c["links"] if lk["cited"])
    # the bid's planted misquote: restenosis "2.6% ... compared with 7.7%", where the trial reports 1 (2.6%) vs 2 (5.1%); the
    # trial's own sentence for restenosis anchors the 2.6% arm, so the other arm's 5.1% is the one the 7.7% is read against
    [restenosis] = [c for c in cited if "Binary restenosis" in c["claim"]["quote"]]
    assert restenosis["verdict"]["status"] == "numbers_differ", restenosis["verdict"]
    assert "7.7%" in restenosis["verdict"]["reason"] and "5.1%" in restenosis["verdict"]["reason"]
    assert not any(lk["numeric"]["verdict"] == "match" for lk in restenosis["links"] if lk["numeric"])
    # faithful quotes of the same trial (its own "non-inferior"; its one non-cardiac death) are not called contradicted
    faithful = [c for c in cited if "non-inferior" in c["claim"]["quote"] or "single death" in c["claim"]["quote"]]
    assert len(faithful) == 2 and all(c["verdict"]["status"] != "contradicted" for c in faithful)
    one = vbp("check-claim", restenosis["claim"]["id"], "--json", data_dir=env_dir)
    assert one.returncode == 0 and json.loads(one.stdout)["links"]
    assert json.loads(one.stdout)["verdict"]["status"] == restenosis["verdict"]["status"]
    text = vbp("check-claim", restenosis["claim"]["id"], data_dir=env_dir)
    assert "resolved to 1 ingested paper" in text.stdout and GENOSS in text.stdout
    assert f"verdict: {restenosis['verdict']['status'].replace('_', ' ')}" in text.stdout
    missing = vbp("check-claim", "nope:1-2", data_dir=env_dir)
    assert missing.returncode == 2 and "no claim with id" in missing.stderr and "Traceback" not in missing.stderr


def test_cli_check_precheck_without_a_server(tmp_path: Path, shared_pdfs: Path) -> None:
    out_file = tmp_path / "precheck.html"
    html_run = vbp("check", str(STENT_BID), "--papers", str(shared_pdfs / GENOSS), "--format", "html", "--out", str(out_file),
                   data_dir=tmp_path / "unused")
    assert html_run.returncode in (0, 1), html_run.stderr
    assert "<html" in out_file.read_text() and "report written to" in html_run.stdout
    run = vbp("check", str(STENT_BID), "--papers", str(shared_pdfs / GENOSS), "--format", "json", data_dir=tmp_path / "unused")
    report = json.loads(run.stdout)
    assert report["report"] == "precheck" and report["papers"] == {"given": 1, "read": 1}
    assert run.returncode == (1 if report["readiness"]["verdict"] == "not_ready" else 0)
    kinds = {g["kind"]: g["count"] for g in report["groups"]}
    assert kinds["no_source"] >= 1  # the bid's uncited cost claims
    assert not (tmp_path / "unused").exists()  # nothing of the bid is kept unless --data-dir is given
    bad = vbp("check", str(tmp_path / "missing.pdf"), data_dir=tmp_path / "unused")
    assert bad.returncode == 2 and "no such file" in bad.stderr


ARMS_TRIAL = """# Results

Table 2. Outcomes at 30 days

| Outcome | Drug A (n = 120) | Placebo (n = 118) |
|---|---|---|
| Pain score, mean ± SD | 45.2 ± 3.1 | 47.0 ± 2.9 |
"""


def test_cli_arms_prints_each_field_with_its_confidence_and_source(tmp_path: Path) -> None:
    trial = tmp_path / "trial.md"
    trial.write_text(ARMS_TRIAL, encoding="utf-8")
    args = ("arms", str(trial), "--intervention", "Drug A", "--comparator", "placebo", "--outcome", "pain score", "--type", "continuous")
    run = vbp(*args, data_dir=tmp_path / "d")
    assert run.returncode == 0, run.stderr
    lines = {line.split()[0]: line for line in run.stdout.splitlines() if line.startswith("  ")}
    assert "confidence" in lines["intervention_mean"] and "p1 table row" in lines["intervention_mean"]
    assert ("45.2" in lines["intervention_mean"]) and ("120" in lines["intervention_group_size"])
    reading = json.loads(vbp(*args, "--json", data_dir=tmp_path / "d").stdout)
    assert reading["sources"]["intervention_mean"]["text"] == "45.2"
    assert set(reading["confidence"]) == set(reading["sources"])
    for name, src in reading["sources"].items():  # every field read slices back to its text
        assert ARMS_TRIAL[src["span"]["start"] : src["span"]["end"]] == src["text"], name


def test_cli_arms_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    missing = vbp("arms", str(tmp_path / "none.pdf"), "--intervention", "a", "--comparator", "b", "--outcome", "c", data_dir=tmp_path / "d")
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "t.md"
    bad.write_text(ARMS_TRIAL, encoding="utf-8")
    wrong = vbp("arms", str(bad), "--intervention", "a", "--comparator", "b", "--outcome", "c", "--type", "ordinal", data_dir=tmp_path / "d")
    assert wrong.returncode == 2 and "unknown --type 'ordinal'" in wrong.stderr


def test_cli_word_and_excel_files_are_ingested_extracted_and_prechecked(tmp_path: Path) -> None:
    from tests.conftest import CORPUS

    folder = tmp_path / "bid"
    folder.mkdir()
    for name in ("marlow-peripheral-iv-catheter.docx", "stanmoor-pressure-relieving-bed-system-wlc.xlsx"):
        shutil.copy(CORPUS / "submissions" / name, folder)
    run = vbp("ingest", str(folder), data_dir=tmp_path / "data")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 files: 2 ok" in run.stdout
    extracted = vbp("extract", str(folder / "stanmoor-pressure-relieving-bed-system-wlc.xlsx"), data_dir=tmp_path / "data")
    assert extracted.returncode == 0 and "Whole-life cost!A" in extracted.stdout
    assert "does not add up: Subtotal, running costs (Whole-life cost!J15) states £821,000" in extracted.stdout
    check = vbp("check", str(folder / "stanmoor-pressure-relieving-bed-system-wlc.xlsx"), "--format", "json", data_dir=tmp_path / "unused")
    report = json.loads(check.stdout)
    (total,) = next(g for g in report["groups"] if g["kind"] == "total_mismatch")["findings"]
    assert "sum to £812,000" in total["message"] and check.returncode == 1  # a high finding: not ready
