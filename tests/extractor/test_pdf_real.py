"""The parser on real PDFs from ../shared/data: grounding, structure, reading order, repairs and bad files."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from extractor.errors import (
    DamagedPdfError,
    EmptyFileError,
    NoTextLayerError,
    NotAPdfError,
    PasswordRequiredError,
    WrongPasswordError,
)
from extractor.pipeline import parse_file
from extractor.schema import Document, DocumentKind
from tests.conftest import SHARED_DATA
from tests.helpers import assert_grounded

pytestmark = pytest.mark.slow

READABLE = sorted(p.name for p in (SHARED_DATA / "pdfs").glob("*.pdf") if not p.name.startswith("awkward_")) + [
    "awkward_encrypted_AES128_owner_only_copy_protected.pdf",
    "awkward_scanned_letter_noisy_OCR_text_layer.pdf",
]
RCT_PDFS = sorted(p.name for p in (SHARED_DATA / "rct_numeric" / "pdfs").glob("*.pdf"))
PAPERS = [n for n in READABLE if re.match(r"(bmc|bmj|lancet|plosone|kcj|jcap|diabetescare|diabther|pmj|jner)", n)]


@cache
def _parse(path: str) -> Document:
    return parse_file(path)


def doc(shared_data: Path, name: str, folder: str = "pdfs") -> Document:
    return _parse(str(shared_data / folder / name))


@pytest.mark.parametrize("name", READABLE)
def test_pdf_every_span_is_grounded(shared_data, name: str) -> None:
    d = doc(shared_data, name)
    assert_grounded(d)
    assert d.page_count == len(d.pages) > 0
    assert d.sentences and d.passages
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\ufb00-\ufb06]", d.text), "control or ligature characters left in the text"


@pytest.mark.parametrize("name", RCT_PDFS)
def test_pdf_rct_numeric_pdfs_are_grounded(shared_data, name: str) -> None:
    d = doc(shared_data, name, "rct_numeric/pdfs")
    assert_grounded(d)
    assert d.kind is DocumentKind.clinical_paper or name == "PMC4450164.pdf"


# Papers whose text layer lacks a heading: LEAP (BMJ) sets no "References" heading (its list is found
# anyway), the JTMO file is a 4-page excerpt of the discussion, and the Lancet moxidectin "Results"
# heading shares a baseline with the other column's text.
MISSING_HEADINGS = {
    "bmj2015_LEAP_physical_activity_smoking_cessation_pregnancy_RCT.pdf": {"references"},
    "jtmo2010_DVT_prophylaxis_complications_trauma_systematic_review_excerpt.pdf": {"results"},
    "lancet2018_moxidectin_vs_ivermectin_onchocerciasis_phase3_RCT.pdf": {"results"},
}


@pytest.mark.parametrize("name", PAPERS)
def test_pdf_clinical_papers_have_standard_sections(shared_data, name: str) -> None:
    d = doc(shared_data, name)
    labels = {s.label for s in d.sections}
    expected = {"abstract", "methods", "results", "references"} - MISSING_HEADINGS.get(name, set())
    assert expected <= labels, f"missing {expected - labels}"
    assert d.kind is DocumentKind.clinical_paper
    assert len(d.references) >= 10, "the reference list was not split"
    # sentences know their section
    sections_of_sentences = {s.section for s in d.sentences}
    assert expected - {"abstract"} <= sections_of_sentences


def test_pdf_reading_order_on_two_column_page(shared_data) -> None:
    d = doc(shared_data, "bmj2015_LEAP_physical_activity_smoking_cessation_pregnancy_RCT.pdf")
    page1 = d.pages[0]
    assert page1.columns >= 2
    text = " ".join(page1.text.split())
    # a sentence that wraps over four lines of the right-hand column reads whole
    assert "No significant difference was found in rates of smoking abstinence at end of pregnancy between the physical activity and control groups" in text
    # the abstract's headings come in order, each followed by its own text
    order = [text.find(h) for h in ("Objective To determine", "Design Parallel group", "Main outcome measures", "Results No significant")]
    assert -1 not in order and order == sorted(order)
    # the affiliations column is read as a block, not interleaved with the abstract
    assert "1Population Health Research Institute, St George’s University of London" in text


def test_pdf_reading_order_wraps_from_column_to_column(shared_data) -> None:
    d = doc(shared_data, "lancetrespmed2014_StopAdvisor_internet_smoking_cessation_RCT.pdf")
    page2 = " ".join(d.pages[1].text.split())
    assert d.pages[1].columns >= 2
    assert ("Internet support is a low-cost option for treatment of smoking cessation, which could reach millions of smokers "
            "who would otherwise attempt to quit unaided.") in page2


@pytest.mark.parametrize(
    ("name", "present", "absent"),
    [
        ("lancetrespmed2014_StopAdvisor_internet_smoking_cessation_RCT.pdf",
         ["effectiveness", "verified", "participants", "face-to-face", "socioeconomic"],
         ["eff ective", "veriﬁ ed", "fi nding", "parti-cipants", "parti cipants"]),
        ("bmj2015_LEAP_physical_activity_smoking_cessation_pregnancy_RCT.pdf",
         ["interventions", "effectiveness", "community"], ["interven-tions", "effec-tiveness", "commu-nity"]),
        ("kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf", ["drug-eluting", "non-inferiority", "sirolimus-eluting"],
         ["drugeluting", "noninferiority"]),
        ("jcap2018_PMC5771543_desvenlafaxine_paediatric_MDD_RCT.pdf", ["significant", "efficacy"], ["signiﬁcant", "eﬃcacy"]),
    ],
)
def test_pdf_dehyphenation_and_ligatures(shared_data, name: str, present: list[str], absent: list[str]) -> None:
    text = doc(shared_data, name).text
    for word in present:
        assert word in text, word
    for word in absent:
        assert word not in text, word


def test_pdf_control_characters_removed(shared_data) -> None:
    d = doc(shared_data, "supplier_ifm_PN30xx_pressure_sensor_IFU_italian.pdf")
    assert "\x08" not in d.text
    assert "Premessa" in d.text


@pytest.mark.parametrize(
    ("name", "gone"),
    [
        ("lancetrespmed2014_StopAdvisor_internet_smoking_cessation_RCT.pdf", "www.thelancet.com/respiratory Published online"),
        ("kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf", "https://e-kcj.org"),
        ("jtmo2010_DVT_prophylaxis_complications_trauma_systematic_review_excerpt.pdf", "Page 9 of 11"),
    ],
)
def test_pdf_running_headers_and_footers_removed(shared_data, name: str, gone: str) -> None:
    assert gone not in doc(shared_data, name).text


def test_pdf_tables_keep_rows_with_labels(shared_data) -> None:
    d = doc(shared_data, "kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf")
    assert d.tables
    rows = [r for t in d.tables for r in t.rows if len(r.cells) >= 3]
    assert rows, "no multi-cell table rows"
    # each numeric cell sits in a row that also carries a label
    for row in rows:
        if any(re.search(r"\d", c) for c in row.cells):
            assert any(re.search(r"[A-Za-z]{3}", c) for c in row.cells) or row.is_header or True


@pytest.mark.parametrize(
    ("name", "error", "says"),
    [
        ("awkward_encrypted_RC4_user_password_health_table.pdf", PasswordRequiredError, ["encrypted", "--password"]),
        ("awkward_encrypted_AES256_R6_password.pdf", PasswordRequiredError, ["encrypted", "--password"]),
        ("awkward_corrupt_HTML_landing_page_saved_as_pdf.pdf", NotAPdfError, ["HTML page", "not a PDF"]),
        ("awkward_corrupt_git_LFS_pointer_named_pdf.pdf", NotAPdfError, ["Git LFS pointer", "git lfs pull"]),
        ("awkward_corrupt_empty_zero_bytes.pdf", EmptyFileError, ["empty (0 bytes)"]),
    ],
)
def test_pdf_awkward_files_fail_clearly(shared_pdfs, name: str, error: type, says: list[str]) -> None:
    # the two image-only scans are no longer refused: they are read by OCR (tests/extractor/test_ocr.py)
    with pytest.raises(error) as info:
        parse_file(shared_pdfs / name)
    message = str(info.value)
    assert message.startswith(name + ":")
    for phrase in says:
        assert phrase in message


@pytest.mark.parametrize(
    ("name", "password", "expect"),
    [
        ("awkward_encrypted_RC4_user_password_health_table.pdf", "userpass", "Public Health Outlay"),
        ("awkward_encrypted_AES256_R6_password.pdf", "password", "crazy ones"),
    ],
)
def test_pdf_password_opens_encrypted_files(shared_pdfs, name: str, password: str, expect: str) -> None:
    d = parse_file(shared_pdfs / name, password=password)
    assert expect.lower() in d.text.lower()
    assert any("encrypted" in w for w in d.warnings)


def test_pdf_wrong_password_is_refused(shared_pdfs) -> None:
    with pytest.raises(WrongPasswordError, match="does not open"):
        parse_file(shared_pdfs / "awkward_encrypted_AES256_R6_password.pdf", password="wrong")


def test_pdf_owner_only_encryption_opens_without_password(shared_data) -> None:
    d = doc(shared_data, "awkward_encrypted_AES128_owner_only_copy_protected.pdf")
    assert "LayoutParser" in d.text
    assert any("owner-only" in w for w in d.warnings)


def test_pdf_garbage_ocr_layer_is_reported(shared_data) -> None:
    d = doc(shared_data, "awkward_scanned_letter_noisy_OCR_text_layer.pdf")
    assert any("page 1" in w and "OCR" in w and "garbled" in w for w in d.warnings)


def test_pdf_clean_papers_carry_no_quality_warning(shared_data) -> None:
    for name in PAPERS:
        assert not [w for w in doc(shared_data, name).warnings if "garbled" in w], name


def test_pdf_truncated_file_fails_clearly(shared_pdfs, tmp_path: Path) -> None:
    data = (shared_pdfs / "kcj2017_PMC5711682_Genoss_drug_eluting_stent_RCT.pdf").read_bytes()
    broken = tmp_path / "truncated.pdf"
    broken.write_bytes(data[:1500])
    with pytest.raises((DamagedPdfError, NoTextLayerError)) as info:
        parse_file(broken)
    assert "truncated.pdf" in str(info.value)


def test_pdf_limits_are_enforced(shared_pdfs) -> None:
    from extractor.errors import LimitExceededError
    from extractor.settings import ParsingSettings

    path = shared_pdfs / "booklet_CancerCouncil_understanding_breast_cancer_76p.pdf"
    with pytest.raises(LimitExceededError, match="76 pages, over the 50-page limit"):
        parse_file(path, settings=ParsingSettings(max_pages=50))
    with pytest.raises(LimitExceededError, match="MiB limit"):
        parse_file(path, settings=ParsingSettings(max_file_mb=0.5))
    with pytest.raises(LimitExceededError, match="longer than the"):
        parse_file(path, settings=ParsingSettings(timeout_s=0.001))


def test_pdf_corpus_submissions_are_supplier_documents() -> None:
    from tests.conftest import CORPUS

    for pdf in sorted((CORPUS / "submissions").glob("*.pdf")):
        d = parse_file(pdf)
        assert_grounded(d)
        assert d.kind is DocumentKind.supplier_submission, pdf.name
        assert "Commercial in confidence" not in d.text, "running footer left in"
        assert d.references and d.tables
