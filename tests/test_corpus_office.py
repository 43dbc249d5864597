"""The corpus's Word and Excel files: present, reproducible from their sources, true to their gold, seeded in the demo.

``corpus/submissions/marlow-peripheral-iv-catheter.docx`` is rendered from the Marlow Markdown source by
``eval.corpus_render --docx``; ``corpus/submissions/stanmoor-pressure-relieving-bed-system-wlc.xlsx`` is written by
``eval.corpus_workbook``. Both are deterministic, so regenerating them must reproduce every part of the committed file
(the Word file's logo is compared by its pixels, since PNG and ZIP compression may vary with the zlib build).
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from eval import corpus_check, corpus_render, corpus_workbook
from extractor.pipeline import parse_file
from tests.conftest import CORPUS

DOCX = CORPUS / "submissions" / "marlow-peripheral-iv-catheter.docx"
DOCX_SOURCE = CORPUS / "submissions" / "marlow-peripheral-iv-catheter.md"
XLSX = CORPUS / "submissions" / "stanmoor-pressure-relieving-bed-system-wlc.xlsx"
STANMOOR_MD = CORPUS / "submissions" / "stanmoor-pressure-relieving-bed-system.md"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _gold() -> dict[str, dict]:
    lines = (CORPUS / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    return {doc["path"]: doc for doc in map(json.loads, filter(str.strip, lines))}


def _manifest() -> list[dict]:
    with (CORPUS / "manifest.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _pixels(png: bytes) -> tuple:
    from PIL import Image

    image = Image.open(BytesIO(png))
    return image.size, image.mode, image.tobytes()


def test_office_files_exist_with_manifest_rows_and_gold() -> None:
    gold, rows = _gold(), {row["path"]: row for row in _manifest()}
    for path in (DOCX, XLSX):
        rel = path.relative_to(CORPUS).as_posix()
        assert path.is_file() and path.stat().st_size > 0, rel
        assert rows[rel]["demo"] == "yes" and (CORPUS / rows[rel]["source"]).is_file(), rel
        assert gold[rel]["doc_id"] == rows[rel]["id"] and gold[rel]["claims"], rel
    assert len({row["id"] for row in rows.values()}) == len(rows), "manifest ids are unique"
    assert {doc["doc_id"] for doc in gold.values()} <= {row["id"] for row in rows.values()}


def test_docx_regenerates_from_its_source() -> None:
    committed, fresh = _members(DOCX.read_bytes()), _members(corpus_render.docx_bytes(DOCX_SOURCE))
    assert sorted(committed) == sorted(fresh)
    for name in committed:
        if name.startswith("word/media/"):
            assert _pixels(committed[name]) == _pixels(fresh[name]), name
        else:
            assert committed[name] == fresh[name], f"{name} differs: re-render with python -m eval.corpus_render --docx"
    assert corpus_render.docx_bytes(DOCX_SOURCE) == corpus_render.docx_bytes(DOCX_SOURCE), "rendering is deterministic"


def test_docx_uses_word_structure() -> None:
    import docx

    document = docx.Document(str(DOCX))
    styles = [p.style.name for p in document.paragraphs if p.text.strip()]
    source = DOCX_SOURCE.read_text(encoding="utf-8")
    body = source.split("---\n", 2)[2]
    assert styles[0] == "Title" and document.paragraphs[0].text == document.core_properties.title
    assert styles.count("Heading 1") == body.count("\n# ") + body.startswith("# ")
    assert styles.count("Heading 2") == body.count("\n## ")
    assert styles.count("List Bullet") == len(re.findall(r"^- ", body, re.MULTILINE))
    assert styles.count("List Number") == len(re.findall(r"^\d+\. ", body, re.MULTILINE))
    breaks = [br for br in document.element.body.iter(W + "br") if br.get(W + "type") == "page"]
    assert len(breaks) == len(re.findall(r"^---$", body, re.MULTILINE)) == 1
    assert len(document.tables) == 1
    header_row = document.tables[0].rows[0]
    assert header_row._tr.trPr is not None and header_row._tr.trPr.find(W + "tblHeader") is not None
    assert all(run.bold for cell in header_row.cells for run in cell.paragraphs[0].runs)
    assert not any(run.bold for cell in document.tables[0].rows[1].cells for run in cell.paragraphs[0].runs)
    props = document.core_properties
    assert props.author == "Marlow Vascular Access Ltd" and props.created == corpus_render.DOCX_DATE == props.modified
    section = document.sections[0]
    assert "Commercial in confidence" in section.footer.paragraphs[0].text
    assert section.header._element.findall(".//{http://schemas.openxmlformats.org/drawingml/2006/main}blip")


def test_docx_reads_back_like_the_pdf() -> None:
    d = parse_file(DOCX)
    assert d.page_count == 2 and d.media_type.startswith("application/vnd.openxmlformats")
    assert "Commercial in confidence" not in d.text, "the footer is not body text"
    assert any("1 embedded image" in w for w in d.warnings), d.warnings
    assert d.references and d.tables
    assert _gold()["submissions/marlow-peripheral-iv-catheter.docx"]["claims"] == \
        _gold()["submissions/marlow-peripheral-iv-catheter.pdf"]["claims"], "the Word version's gold is the PDF's"


def test_page_breaks_follow_the_source(tmp_path: Path) -> None:
    """A source with four ``---`` breaks: the Word file has five pages, and the PDF's gold quotes sit on the same ones."""
    docx_path = corpus_render.render_docx(STANMOOR_MD, tmp_path / "stanmoor.docx")
    pages = [corpus_check.norm(page.text) for page in parse_file(docx_path).pages]
    assert len(pages) == 5
    claims = _gold()["submissions/stanmoor-pressure-relieving-bed-system.pdf"]["claims"]
    assert [p for c in claims for p in corpus_check.check_claim(c, pages)] == []


def test_xlsx_regenerates_from_its_script(tmp_path: Path) -> None:
    fresh = corpus_workbook.write(tmp_path / "wlc.xlsx")
    assert _members(XLSX.read_bytes()) == _members(fresh.read_bytes()), "re-write with python -m eval.corpus_workbook"
    assert parse_file(XLSX).text == parse_file(fresh).text


def _cells(sheet: str, *, formulas: bool = False):
    import openpyxl

    book = openpyxl.load_workbook(XLSX, data_only=not formulas)
    return book[sheet]


def _table2() -> dict[str, tuple[int, int]]:
    """The Stanmoor submission's Table 2: cost element -> (AeroCare, current), in pounds."""
    out = {}
    for line in STANMOOR_MD.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("£"):
            out[cells[0]] = tuple(int(c.replace("£", "").replace(",", "")) for c in cells[1:])
    return out


def test_xlsx_agrees_with_the_submission() -> None:
    table, wlc, comparison = _table2(), _cells(corpus_workbook.WLC), _cells(corpus_workbook.COMPARISON)
    beds = corpus_workbook.BEDS
    assert (wlc["J8"].value / beds, comparison["J5"].value / beds) == table["Capital purchase price per bed"]
    running = sum(wlc[f"J{r}"].value for r in (10, 11, 12, 14))
    assert (running, comparison["J6"].value) == table["Maintenance, decontamination and service"]
    assert (wlc["J13"].value, comparison["J7"].value) == table["Dynamic mattress rental"]
    assert (wlc["J17"].value, round(comparison["J8"].value)) == table["Pressure ulcer treatment"]
    assert (wlc["J19"].value, comparison["J9"].value) == table["Whole-life cost over 7 years"]
    assert (round(wlc["J20"].value), round(comparison["C16"].value)) == table["Cost per bed per year"]
    saving = comparison["J11"].value
    assert round(saving / 1e6, 2) == 3.18 and round(saving / 7, -3) == 454_000  # "£3.18 million", "£454,000 a year"
    cumulative = [comparison[f"{c}12"].value for c in corpus_workbook.YEAR_COLS]
    assert cumulative[2] < 0 <= cumulative[3], "pays back in year 3 ('recovered within 3 years')"
    read_me = _cells("Read me")
    assert "Fictional document" in read_me["A2"].value and read_me["B4"].value == "Stanmoor Healthcare Systems Ltd"


def test_xlsx_deliberate_mismatch_is_flagged() -> None:
    formulas = _cells(corpus_workbook.WLC, formulas=True)
    assert formulas["J15"].value == corpus_workbook.MISMATCH_STATED, "the slip is a typed number, not a formula"
    assert formulas["J19"].value == "=SUM(B19:I19)" and formulas["J10"].value == "=SUM(B10:I10)"
    d = parse_file(XLSX)
    flagged = [(m.location, m.stated, m.computed) for m in d.total_mismatches]
    assert flagged == [("Whole-life cost!J15", 821_000, 812_000)]
    expected = _gold()["submissions/stanmoor-pressure-relieving-bed-system-wlc.xlsx"]["total_mismatches"]
    assert flagged == [(m["location"], m["stated"], m["computed"]) for m in expected]
    assert corpus_check.check_total_mismatches(expected, XLSX) == []
    assert corpus_check.check_total_mismatches([], XLSX), "an unexpected flag is reported"


@pytest.mark.parametrize("path", [DOCX, XLSX], ids=["docx", "xlsx"])
def test_gold_quotes_are_on_their_pages(path: Path) -> None:
    doc = _gold()[path.relative_to(CORPUS).as_posix()]
    pages = corpus_check.page_texts(path)
    assert [(c["quote"][:60], p) for c in doc["claims"] for p in corpus_check.check_claim(c, pages)] == []
    moved = {**doc["claims"][-1], "page": doc["claims"][-1]["page"] - 1}
    assert any("not on page" in p for p in corpus_check.check_claim(moved, pages)), "a wrong page is caught"


def test_xlsx_gold_quotes_are_whole_row_lines() -> None:
    doc = _gold()["submissions/stanmoor-pressure-relieving-bed-system-wlc.xlsx"]
    lines = {(p.number, corpus_check.norm(line)) for p in parse_file(XLSX).pages for line in p.text.split("\n")}
    assert [c["quote"] for c in doc["claims"] if (c["page"], c["quote"]) not in lines] == []
    assert {c["category"] for c in doc["claims"]} == {"cost"}


def test_corpus_check_passes_on_the_whole_gold(capsys) -> None:
    assert corpus_check.main([str(CORPUS / "gold.jsonl")]) == 0, capsys.readouterr().out


def test_demo_seeds_each_submission_once(tmp_path: Path) -> None:
    from api.demo import seed_demo
    from api.store.service import SYSTEM
    from tests.api.service_kit import World

    world = World(tmp_path)
    try:
        info = seed_demo(world.services, corpus=CORPUS, papers=None)
        jobs, _ = world.services.repo.list_jobs(SYSTEM, tender_id=info.tender_id, limit=1000)
    finally:
        world.close()
    by_supplier: dict[str, list[str]] = {}
    papers: dict[str, list[str]] = {}
    for job in jobs:
        (papers if job["role"] == "paper" else by_supplier).setdefault(job["supplier_id"], []).append(job["filename"])
    # six submissions' suppliers, seven submission files, and the project's three fictional trial reports (corpus/papers),
    # each staged from the corpus as a paper of the one supplier that cites it; the public papers are absent (papers=None)
    assert len(by_supplier) == 6 and info.queued == len(jobs) == 10
    assert sorted(by_supplier["marlow-vascular-access"]) == ["marlow-peripheral-iv-catheter.docx"]
    assert sorted(by_supplier["stanmoor-healthcare-systems"]) == [
        "stanmoor-pressure-relieving-bed-system-wlc.xlsx", "stanmoor-pressure-relieving-bed-system.pdf"]
    assert all(len(files) == 1 for slug, files in by_supplier.items() if not slug.startswith("stanmoor"))
    assert papers == {"northbridge-medical": ["kelpie-trial-silver-foam-dressing.pdf"],
                      "marlow-vascular-access": ["vera-trial-closed-system-cannula.pdf"],
                      "ashgrove-diagnostics": ["acorn-trial-point-of-care-crp.pdf"]}
    assert sorted(info.skipped) == sorted(c for row in _manifest() for c in row["cites"].split(";") if c and "/" not in c)
