"""Issue 16: each kind of hostile file gets its own diagnosis, one line naming the file, the problem and the fix.

Small hand-made PDFs (written byte by byte by bench/hostile_pdfs.py), parsed in this process with limits
lowered so that each case stays tiny.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from extractor.errors import (
    BinaryJunkError,
    CompressionLimitError,
    DamagedPdfError,
    EvidenceError,
    LimitExceededError,
    NotAPdfError,
    TooComplexError,
)
from extractor.parsing.pdf import guess_type, preflight_pdf
from extractor.pipeline import parse_file
from extractor.settings import ParsingSettings
from tests.helpers import assert_grounded, hostile_pdfs

H = hostile_pdfs()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _one_line(err: EvidenceError, name: str) -> str:
    text = str(err)
    assert text.startswith(f"{name}: ") and "\n" not in text and "Traceback" not in text
    return text


pytestmark = pytest.mark.issue(16)


def test_pdf_minimal_hand_made_pdf_parses_grounded(tmp_path: Path) -> None:
    doc = parse_file(_write(tmp_path, "ok.pdf", H.minimal()))
    assert_grounded(doc)
    assert "120 patients" in doc.text


@pytest.mark.parametrize("family", ["page_tree_loop", "page_tree_cycle", "object_stream_loop"])
def test_pdf_page_that_cannot_be_loaded_is_damaged_not_a_traceback(tmp_path: Path, family: str) -> None:
    path = _write(tmp_path, f"{family}.pdf", getattr(H, family)())
    with pytest.raises(DamagedPdfError) as info:
        parse_file(path)
    text = _one_line(info.value, path.name)
    assert info.value.code == "damaged_pdf" and "cannot be loaded" in text and "Re-export" in text


def test_pdf_exponential_page_tree_is_damaged_without_pdfium_success(tmp_path: Path) -> None:
    path = _write(tmp_path, "expo.pdf", H.exponential_page_tree(20))
    with pytest.raises(DamagedPdfError) as info:
        parse_file(path)
    text = _one_line(info.value, "expo.pdf")
    assert "Success" not in text and "page tree" in text


def test_pdf_truncated_file_is_damaged_and_said_to_be_cut_short(tmp_path: Path) -> None:
    data = H.many_pages(40)
    path = _write(tmp_path, "cut.pdf", data[: len(data) // 2])
    with pytest.raises(DamagedPdfError) as info:
        parse_file(path)
    assert "cut short" in _one_line(info.value, "cut.pdf")
    whole = _write(tmp_path, "whole.pdf", H.page_tree_loop())
    with pytest.raises(DamagedPdfError) as info:
        parse_file(whole)
    assert "cut short" not in str(info.value)


def test_pdf_preflight_catches_a_page_that_cannot_be_loaded(tmp_path: Path) -> None:
    path = _write(tmp_path, "stored-as-x.pdf", H.page_tree_cycle())
    with pytest.raises(DamagedPdfError) as info:
        preflight_pdf(path, filename="upload.pdf")
    assert str(info.value).startswith("upload.pdf: ")


def test_pdf_too_many_operators_is_too_complex_naming_the_setting(tmp_path: Path) -> None:
    path = _write(tmp_path, "ops.pdf", H.many_operators(20_000))
    settings = ParsingSettings(max_page_operators=5_000)
    with pytest.raises(TooComplexError) as info:
        parse_file(path, settings=settings)
    text = _one_line(info.value, "ops.pdf")
    assert info.value.code == "too_complex" and "too complex to read safely" in text
    assert "page 1" in text and "VBP_PARSING__MAX_PAGE_OPERATORS" in text
    assert isinstance(info.value, LimitExceededError)  # callers that catch the old class still do
    assert parse_file(path, settings=ParsingSettings(max_page_operators=50_000)).page_count == 1  # under the limit: read


def test_pdf_preflight_stops_at_the_operator_limit(tmp_path: Path) -> None:
    path = _write(tmp_path, "ops.pdf", H.many_operators(20_000))
    with pytest.raises(TooComplexError):
        preflight_pdf(path, settings=ParsingSettings(max_page_operators=5_000))


def test_pdf_too_many_characters_is_too_complex(tmp_path: Path) -> None:
    path = _write(tmp_path, "chars.pdf", H.minimal())
    with pytest.raises(TooComplexError) as info:
        parse_file(path, settings=ParsingSettings(max_page_chars=1_000, min_chars_per_page=0).model_copy(update={"max_page_chars": 50}))
    assert "VBP_PARSING__MAX_PAGE_CHARS" in _one_line(info.value, "chars.pdf")


@pytest.mark.parametrize("family", ["nested_arrays", "nested_arrays_in_page"])
def test_pdf_deeply_nested_arrays_do_not_hide_the_text(tmp_path: Path, family: str) -> None:
    doc = parse_file(_write(tmp_path, "nest.pdf", getattr(H, family)(5_000)))
    assert_grounded(doc)
    assert "nesting" in doc.text


def test_pdf_pages_with_nothing_drawn_are_empty_not_a_scan(tmp_path: Path) -> None:
    content = H.stream(b"q 1 0 0 1 0 0 cm Q")
    data = H.build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", H.page(2, 5), H.FONT, content])
    with pytest.raises(EvidenceError) as info:
        parse_file(_write(tmp_path, "blank.pdf", data))
    text = _one_line(info.value, "blank.pdf")
    assert info.value.code == "empty_file" and "nothing drawn" in text and "OCR" in text and "ocrmypdf" not in text


def test_pdf_flate_bomb_is_a_compression_limit_not_an_ocr_request(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb.pdf", H.flate_bomb(3))
    with pytest.raises(CompressionLimitError) as info:
        parse_file(path, settings=ParsingSettings(max_page_content_mb=1))
    text = _one_line(info.value, "bomb.pdf")
    assert info.value.code == "compression_limit" and "decompression bomb" in text
    assert "ocrmypdf" not in text and "Run OCR" not in text
    with pytest.raises(CompressionLimitError):
        preflight_pdf(path, settings=ParsingSettings(max_page_content_mb=1))


def test_pdf_time_limit_is_too_complex(tmp_path: Path) -> None:
    path = _write(tmp_path, "slow.pdf", H.many_pages(5))
    with pytest.raises(TooComplexError, match="longer than the") as info:
        parse_file(path, settings=ParsingSettings(timeout_s=1e-9))
    assert "VBP_PARSING__TIMEOUT_S" in _one_line(info.value, "slow.pdf")


@pytest.mark.parametrize(("data", "words"), [
    (bytes(8192), "all zero bytes"),
    (H.random_bytes(8), "binary data of no known format"),
])
def test_pdf_binary_junk_is_not_plain_text(tmp_path: Path, data: bytes, words: str) -> None:
    path = _write(tmp_path, "junk.pdf", data)
    with pytest.raises(BinaryJunkError) as info:
        parse_file(path)
    text = _one_line(info.value, "junk.pdf")
    assert info.value.code == "binary_junk" and words in text and "plain text" not in text
    assert isinstance(info.value, NotAPdfError)


def test_pdf_text_with_a_pdf_name_is_still_not_a_pdf_and_plain_text(tmp_path: Path) -> None:
    path = _write(tmp_path, "notes.pdf", "Résumé of the trial: 120 patients.\n".encode() * 50)
    with pytest.raises(NotAPdfError) as info:
        parse_file(path)
    assert info.value.code == "not_a_pdf" and "plain text" in str(info.value)


def test_pdf_guess_type_tells_text_from_junk() -> None:
    assert guess_type(b"plain words\nand lines\t\f") == "plain text"
    assert guess_type("caf\u00e9 ".encode() * 1000 + "é".encode()[:1]) == "plain text"  # a character cut at the end
    assert guess_type(bytes(100)) == "zero bytes"
    assert guess_type(b"text\x00with\x01\x02\x03\x04nul\x05bytes") == "binary data of an unknown type"


def test_pdf_hostile_errors_cross_processes_with_code_and_message(tmp_path: Path) -> None:
    path = _write(tmp_path, "ops.pdf", H.many_operators(20_000))
    with pytest.raises(TooComplexError) as info:
        parse_file(path, settings=ParsingSettings(max_page_operators=5_000))
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is TooComplexError and copy.code == "too_complex" and str(copy) == str(info.value)
