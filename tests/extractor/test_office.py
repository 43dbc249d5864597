"""Word and Excel sources (issue 14): structure, provenance, totals and the container checks, on files built here."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
import xlsxwriter
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from extractor.claims import extract_claims
from extractor.errors import (
    CompressionLimitError,
    DamagedFileError,
    EmptyFileError,
    LimitExceededError,
    PasswordRequiredError,
    UnsupportedFileTypeError,
)
from extractor.parsing.excel import display
from extractor.parsing.office import EXCEL_TYPE, WORD_MACRO_TYPE, WORD_TYPE, preflight_office
from extractor.pipeline import parse_file
from extractor.settings import ParsingSettings


def assert_grounded(doc) -> None:
    for s in doc.sentences:
        assert doc.text[s.span.start : s.span.end] == s.text
    for loc in doc.locations:
        assert 0 <= loc.span.start <= loc.span.end <= len(doc.text)
        page = doc.pages[loc.page - 1]
        assert page.offset <= loc.span.start and loc.span.end <= page.offset + len(page.text)


def _revision(tag: str, text_tag: str, text: str, rid: str):
    """A tracked insertion (``w:ins`` / ``w:t``) or deletion (``w:del`` / ``w:delText``) of one run of text."""
    change = OxmlElement(tag)
    change.set(qn("w:id"), rid)
    change.set(qn("w:author"), "Bid writer")
    run = OxmlElement("w:r")
    element = OxmlElement(text_tag)
    element.text = text
    run.append(element)
    change.append(run)
    return change


def _tracked(paragraph, inserted: str, deleted: str) -> None:
    paragraph._p.append(_revision("w:ins", "w:t", inserted, "1"))
    paragraph._p.append(_revision("w:del", "w:delText", deleted, "2"))


@pytest.fixture()
def word_file(tmp_path: Path) -> Path:
    d = docx.Document()
    d.add_paragraph("Veloxa safety cannula: tender response", style="Title")
    d.add_heading("Clinical outcomes", level=1)
    first = d.add_paragraph("In a multicentre trial, phlebitis fell from 12% to 4% with Veloxa compared with standard cannulas [1].")
    d.add_paragraph("Fewer needlestick injuries.", style="List Bullet")
    d.add_paragraph("Less nurse time per insertion.", style="List Bullet")
    price = d.add_paragraph("Each Veloxa cannula costs ")
    _tracked(price, "£1.20", "£1.50")
    price.add_run(" at 2025/26 prices.")
    d.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    d.add_heading("Costs", level=1)
    table = d.add_table(rows=3, cols=3)
    for i, row in enumerate([["Item", "Veloxa", "Current cannula"], ["Unit price", "£1.20", "£0.95"], ["Dressings per week", "2", "3"]]):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    d.add_heading("References", level=1)
    d.add_paragraph("Smith J, Patel R. A randomised trial of closed-system cannulas. BMJ 2020;368:m100.", style="List Number")
    d.add_paragraph("Jones K. Needlestick injuries in NHS wards. J Hosp Infect 2021;110:1-8.", style="List Number")
    d.add_comment(first.runs, text="Check the trial's figures", author="Reviewer")
    path = tmp_path / "veloxa.docx"
    d.save(path)
    return path


def test_office_word_headings_lists_tables_and_pages(word_file: Path) -> None:
    doc = parse_file(word_file)
    assert doc.media_type == WORD_TYPE and doc.parser.startswith("parse.docx.v1")
    assert [p.number for p in doc.pages] == [1, 2]
    assert [s.title for s in doc.sections] == ["Veloxa safety cannula: tender response", "Clinical outcomes", "Costs", "References"]
    assert [s.page for s in doc.sections][-2:] == [2, 2]
    lines = doc.pages[0].text.split("\n")
    assert lines[3:5] == ["• Fewer needlestick injuries.", "• Less nurse time per insertion."]
    (table,) = doc.tables
    assert table.header == ["Item", "Veloxa", "Current cannula"] and table.page == 2
    assert [r.cells for r in table.rows[1:]] == [["Unit price", "£1.20", "£0.95"], ["Dressings per week", "2", "3"]]
    assert [r.key for r in doc.references] == ["1", "2"] and doc.references[0].text.startswith("1. Smith J")
    assert_grounded(doc)


def test_office_word_tracked_changes_resolve_to_the_final_text_and_notes_are_counted(word_file: Path) -> None:
    doc = parse_file(word_file)
    assert "Each Veloxa cannula costs £1.20 at 2025/26 prices." in doc.text
    assert "£1.50" not in doc.text  # the deleted price
    assert "Check the trial's figures" not in doc.text
    assert "1 comment left out (only the body text is read)" in doc.warnings


def test_office_word_claims_carry_their_paragraph_or_cell_and_slice_back(word_file: Path) -> None:
    doc = parse_file(word_file)
    claims = extract_claims(doc).claims
    by_quote = {c.quote: c for c in claims}
    trial = next(c for q, c in by_quote.items() if q.startswith("In a multicentre trial"))
    assert trial.location == "Clinical outcomes, paragraph 1" and trial.page == 1
    row = by_quote["Unit price\t£1.20\t£0.95"]
    assert row.location == "Table 1, row 2" and row.page == 2
    for c in claims:
        assert doc.text[c.span.start : c.span.end] == c.quote
    cell = doc.location_at(row.span.start + row.quote.index("£1.20"), row.span.start + row.quote.index("£1.20") + 5)
    assert cell.label == "Table 1, row 2, cell 2"


def test_office_word_images_are_reported_not_dropped_silently(tmp_path: Path) -> None:
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 94, 184)).save(png, format="PNG")
    d = docx.Document()
    d.add_paragraph("Our device reduces catheter blockage.")
    d.add_picture(io.BytesIO(png.getvalue()))
    path = tmp_path / "logo.docx"
    d.save(path)
    doc = parse_file(path)
    assert any("1 embedded image not read" in w for w in doc.warnings)


def test_office_word_with_only_an_image_is_empty(tmp_path: Path) -> None:
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (40, 20)).save(png, format="PNG")
    d = docx.Document()
    d.add_picture(io.BytesIO(png.getvalue()))
    path = tmp_path / "scan-in-word.docx"
    d.save(path)
    with pytest.raises(EmptyFileError, match=r"scan-in-word.docx: the Word document holds no text \(only 1 image"):
        parse_file(path)


def _rezip(source: Path, target: Path, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for m in zin.infolist():
            blob = zin.read(m)
            if replace and m.filename in replace:
                blob = replace[m.filename]
            zout.writestr(m, blob)
        for name, blob in (add or {}).items():
            zout.writestr(name, blob)
    return target


def test_office_macro_enabled_word_is_read_and_its_macros_never_run(word_file: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(word_file) as z:
        types = z.read("[Content_Types].xml").replace(
            b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            b"application/vnd.ms-word.document.macroEnabled.main+xml")
    docm = _rezip(word_file, tmp_path / "veloxa.docm", replace={"[Content_Types].xml": types},
                  add={"word/vbaProject.bin": b"Attribute VB_Name = \"AutoOpen\"\nShell \"calc.exe\""})
    doc = parse_file(docm)
    assert doc.media_type == WORD_MACRO_TYPE
    assert "phlebitis fell from 12% to 4%" in doc.text
    assert any("macro-enabled; its macros were not run" in w for w in doc.warnings)
    assert preflight_office(docm) == WORD_MACRO_TYPE


@pytest.fixture()
def cost_model(tmp_path: Path) -> Path:
    path = tmp_path / "wlc.xlsx"
    wb = xlsxwriter.Workbook(path)
    gbp = wb.add_format({"num_format": '"£"#,##0'})
    ws = wb.add_worksheet("Whole-life cost")
    ws.write_row(0, 0, ["Cost element", "Year 0", "Year 1", "Year 2", "Total"])
    rows = [("Purchase", 10000, 0, 0), ("Maintenance", 0, 4200, 4200), ("Consumables", 0, 800, 900)]
    for i, (label, *years) in enumerate(rows, start=1):
        ws.write(i, 0, label)
        for j, v in enumerate(years, start=1):
            ws.write(i, j, v, gbp)
        ws.write_formula(i, 4, f"=SUM(B{i + 1}:D{i + 1})", gbp, sum(years))
    ws.write(4, 0, "Total whole-life cost")
    ws.write_formula(4, 1, "=SUM(B2:B4)", gbp, 10000)
    ws.write(4, 2, 5500, gbp)  # typed, and wrong: the parts add up to 5,000
    ws.write_formula(4, 3, "=SUM(D2:D4)", gbp, 5100)
    ws.write_formula(4, 4, "=SUM(E2:E4)", gbp, 20100)
    notes = wb.add_worksheet("Read me")
    notes.write(0, 0, "Prices at 2025/26 levels, excluding VAT.")
    hidden = wb.add_worksheet("Workings")
    hidden.write(0, 0, "Discount rate 3.5%")
    hidden.hide()
    wb.close()
    return path


def test_office_excel_sheets_rows_and_cells(cost_model: Path) -> None:
    doc = parse_file(cost_model)
    assert doc.media_type == EXCEL_TYPE and doc.parser.startswith("parse.xlsx.v1")
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert [s.title for s in doc.sections] == ["Whole-life cost", "Read me", "Workings"]
    assert "Maintenance\t£0\t£4,200\t£4,200\t£8,400" in doc.pages[0].text.split("\n")
    (table,) = [t for t in doc.tables if t.page == 1]
    assert table.header == ["Cost element", "Year 0", "Year 1", "Year 2", "Total"]  # "Year 0" holds a digit, yet is a label
    cells = {loc.label: loc for loc in doc.locations}
    assert doc.text[cells["Whole-life cost!D3"].span.start : cells["Whole-life cost!D3"].span.end] == "£4,200"
    assert cells["Whole-life cost!D3"].context == "Maintenance · Year 2"
    assert cells["Whole-life cost!E3"].formula == "=SUM(B3:D3)"
    assert cells["Whole-life cost!A3:E3"].page == 1
    assert "sheet 'Workings' is hidden in Excel; it was read like the others" in doc.warnings
    assert_grounded(doc)


def test_office_excel_a_total_that_does_not_add_up_is_flagged_with_both_figures(cost_model: Path) -> None:
    doc = parse_file(cost_model)
    (m,) = doc.total_mismatches  # the SUM formulas agree with their ranges; only the typed C5 does not
    assert (m.location, m.stated, m.computed) == ("Whole-life cost!C5", 5500, 5000)
    assert doc.text[m.span.start : m.span.end] == "£5,500"
    assert m.note == "Total whole-life cost (Whole-life cost!C5) states £5,500, but its parts (C2:C4) sum to £5,000"
    assert any(m.note in w for w in doc.warnings)
    claims = extract_claims(doc).claims
    total = next(c for c in claims if c.quote.startswith("Total whole-life cost"))
    assert total.total_mismatches == [m] and total.location == "Whole-life cost!A5:E5"
    assert all(not c.total_mismatches for c in claims if c is not total)


def test_office_excel_cost_rows_become_cost_claims_with_currency_and_the_workbook_price_year(cost_model: Path) -> None:
    doc = parse_file(cost_model)
    claims = extract_claims(doc).claims
    maintenance = next(c for c in claims if c.quote.startswith("Maintenance"))
    assert maintenance.category.value == "cost"
    money = [q for q in maintenance.quantities if q.kind.value == "currency"]
    assert [q.value for q in money] == [0, 4200, 4200, 8400]
    assert {q.unit for q in money} == {"GBP"} and {q.price_year for q in money} == {"2025/26"}
    assert not any(c.quote.startswith("Cost element") for c in claims)  # the header row states nothing
    for c in claims:
        assert doc.text[c.span.start : c.span.end] == c.quote


def test_office_excel_consistent_totals_are_not_flagged(tmp_path: Path) -> None:
    path = tmp_path / "ok.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Costs")
    ws.write_row(0, 0, ["Element", "Year 1", "Year 2", "Total"])
    ws.write_row(1, 0, ["Service", 100.4, 100.4, 200.8])
    ws.write_row(2, 0, ["Training", 50, 0, 50])
    ws.write_row(3, 0, ["Subtotal", 150.4, 100.4, 250.8])
    ws.write_row(4, 0, ["Disposal", 0, 20, 20])
    ws.write_row(5, 0, ["Total", 150.4, 120.4, 270.8])  # a grand total over a subtotal and a row after it
    wb.close()
    doc = parse_file(path)
    flagged = {m.location for m in doc.total_mismatches}
    assert "Costs!D2" not in flagged and "Costs!B4" not in flagged and "Costs!D4" not in flagged
    # Total's parts are the rows back to the previous total: Disposal only, which is not what it totals
    assert all(m.location.endswith("6") for m in doc.total_mismatches)


@pytest.mark.parametrize(("value", "fmt", "shown"), [
    (4200, '"£"#,##0', "£4,200"),
    (4200.5, "£#,##0.00", "£4,200.50"),
    (0.125, "0.0%", "12.5%"),
    (-1500, '"£"#,##0;[Red]-"£"#,##0', "-£1,500"),
    (-1500, "£#,##0;(£#,##0)", "(£1,500)"),
    (-1500, '"£"#,##0', "-£1,500"),
    (1234567, "[$£-809]#,##0", "£1,234,567"),
    (7, '_-"£"* #,##0_-;-"£"* #,##0_-;_-"£"* "-"_-;_-@_-', "£7"),
    (12, '0" days"', "12 days"),
    (3.14159, "General", "3.14159"),
    (42.0, "General", "42"),
    (True, "General", "TRUE"),
    ("  Annual\nmaintenance ", "@", "Annual maintenance"),
])
def test_office_excel_numbers_display_as_their_format_shows_them(value, fmt: str, shown: str) -> None:
    assert display(value, fmt) == shown


def test_office_excel_formulas_without_saved_values_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "uncalculated.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Costs"
    ws.append(["Element", "Cost"])
    ws.append(["Pump", 1200])
    ws.append(["Total", "=SUM(B2:B2)"])  # openpyxl writes no cached value
    wb.save(path)
    doc = parse_file(path)
    assert any("1 formula cell had no saved value" in w for w in doc.warnings)
    assert "Pump\t1200" in doc.text


def test_office_excel_empty_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    wb = openpyxl.Workbook()
    wb.create_sheet("Second")
    wb.save(path)
    with pytest.raises(EmptyFileError, match=r"blank.xlsx: the workbook's 2 sheets hold no values"):
        parse_file(path)


def test_office_content_decides_and_a_wrong_extension_is_named(cost_model: Path, tmp_path: Path) -> None:
    misnamed = tmp_path / "answer.docx"
    misnamed.write_bytes(cost_model.read_bytes())
    doc = parse_file(misnamed)
    assert doc.media_type == EXCEL_TYPE
    assert "the file is named .docx but is an Excel workbook; it was read as one" in doc.warnings


# --- refused, with the reason -------------------------------------------------------------------------------------------


def test_office_zip_bomb_is_refused_from_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\x00" * (3 * 1024 * 1024))
    settings = ParsingSettings(max_office_unzipped_mb=2)
    for check in (lambda: parse_file(path, settings=settings), lambda: preflight_office(path, settings=settings)):
        with pytest.raises(CompressionLimitError, match=r"bomb.xlsx: the Office file would unpack to 3 MiB \([\d,]+ times its packed size\)"):
            check()


def test_office_too_many_members_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "many.docx"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(30):
            z.writestr(f"word/media/image{i}.png", b"x")
    with pytest.raises(LimitExceededError, match=r"many.docx: the Office file's container holds 30 files, over the 10 limit"):
        parse_file(path, settings=ParsingSettings(max_office_members=10))


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@pytest.mark.parametrize(("name", "content", "error", "message"), [
    ("locked.docx", OLE + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 512, PasswordRequiredError,
     "the Office file is password-protected (encrypted)"),
    ("old.doc", OLE + "WordDocument".encode("utf-16-le") + b"\x00" * 512, UnsupportedFileTypeError, "Word 97-2003 (.doc) files are not read"),
    ("old.xls", OLE + "Workbook".encode("utf-16-le") + b"\x00" * 512, UnsupportedFileTypeError, "Excel 97-2003 (.xls) files are not read"),
    ("cut.xlsx", b"PK\x03\x04" + b"\x00" * 100, DamagedFileError, "its ZIP container is damaged"),
    ("empty.docx", b"", EmptyFileError, "the file is empty (0 bytes)"),
])
def test_office_bad_containers_name_the_file_and_the_fix(tmp_path: Path, name: str, content: bytes, error: type, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error) as info:
        parse_file(path)
    assert str(info.value).startswith(f"{name}: ") and message in str(info.value) and info.value.hint


def test_office_plain_zip_and_presentations_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("paper.pdf", b"%PDF-1.7")
    with pytest.raises(UnsupportedFileTypeError, match="this is a ZIP archive, not a Word or Excel document"):
        parse_file(archive)
    slides = tmp_path / "pitch.docx"
    with zipfile.ZipFile(slides, "w") as z:
        z.writestr("[Content_Types].xml", '<Types><Override ContentType="application/vnd.openxmlformats-officedocument.presentationml.'
                                          'presentation.main+xml"/></Types>')
    with pytest.raises(UnsupportedFileTypeError, match="this is a PowerPoint presentation"):
        parse_file(slides)


def test_office_broken_document_xml_is_a_damaged_file(word_file: Path, tmp_path: Path) -> None:
    broken = _rezip(word_file, tmp_path / "broken.docx", replace={"word/document.xml": b"<w:document><w:body><w:p>"})
    with pytest.raises(DamagedFileError, match=r"broken.docx: the Word file could not be read"):
        parse_file(broken)


def test_office_reading_time_is_limited(cost_model: Path) -> None:
    with pytest.raises(LimitExceededError, match=r"wlc.xlsx: reading the workbook took over"):
        parse_file(cost_model, settings=ParsingSettings(timeout_s=1e-9))


def test_office_a_cost_profile_over_years_has_no_direction(cost_model: Path) -> None:
    from extractor.claims import direction_of

    header = ["Cost element", "Year 0", "Year 1", "Year 2", "Total"]
    assert direction_of("Maintenance\t£0\t£4,200\t£4,200\t£8,400", [], in_table=True, header=header).value == "unspecified"
    assert direction_of("Unit price\t£1.20\t£0.95", [], in_table=True, header=["Item", "Veloxa", "Current cannula"]).value == "increase"
    claims = extract_claims(parse_file(cost_model)).claims
    assert {c.direction.value for c in claims if c.page == 1} == {"unspecified"}


@pytest.mark.parametrize(("quote", "in_table", "fact"), [
    ("Unit price per cannula\t£1.92\t£0.88", True, True),
    ("Pack of 50 cannulas\t£96.00", True, True),
    ("Each test cartridge is priced at £3.20.", False, True),
    ("The analyser lease is £620 a year.", False, True),
    ("Treatment of cannula complications per patient stay\t£6.10\t£14.60", True, False),  # modelled: needs its source
    ("Total cost per patient stay\t£12.62\t£23.79", True, False),
    ("The all-in cost of testing, including the analyser and quality control, is £4.91 per test.", False, False),
    ("Veloxa saves £502,650 a year compared with standard cannulas.", False, False),
    ("Dynamic mattress rental\t£0\t£1,540,000", True, False),  # a cost-model row, not a price list
])
def test_office_offer_facts_are_prices_not_claims(quote: str, in_table: bool, fact: bool) -> None:
    from extractor.claims import is_offer_fact
    from extractor.quantities import extract_quantities
    from extractor.schema import ClaimCategory

    assert is_offer_fact(quote, ClaimCategory.cost, extract_quantities(quote), in_table=in_table) is fact


def test_office_a_saving_row_under_year_columns_is_a_decrease() -> None:
    from extractor.claims import direction_of

    header = ["", "Year 0", "Year 1", "Total"]
    assert direction_of("Net saving with AeroCare\t-£5,000\t£60,000\t£55,000", [], in_table=True, header=header).value == "decrease"
