"""The one composition function of the extractor: a file becomes a grounded Document."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from extractor import __version__
from extractor.consistency import percent_checks, restated_checks, table_totals
from extractor.savings import saving_checks, unit_cost_checks
from extractor.errors import EmptyFileError, LimitExceededError, UnsupportedFileTypeError
from extractor.parsing import structure
from extractor.parsing.assemble import PAGE_SEP, Block, assemble
from extractor.parsing.normalise import text_quality
from extractor.parsing.office import is_workbook, read_office
from extractor.parsing.pdf import guess_type, read_pdf, sniff
from extractor.parsing.text import decode, read_text
from extractor.schema import Document, DocumentKind, Location, Page, Span, TextBox, TotalMismatch
from extractor.settings import ParsingSettings

PARSER_NAME = f"parse.pdfium-layout.v1 ({__version__})"
OFFICE_SUFFIXES = {".docx", ".docm", ".xlsx", ".xlsm"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # a legacy .doc/.xls, or an Office file encrypted with a password
TEXT_SUFFIXES = {".txt": "text/plain", ".text": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown"}


@dataclass(slots=True)
class Read:
    """What a format's reader gives the common build: page texts, blocks and the facts of its source."""

    page_texts: list[str]
    blocks: list[Block]
    columns: list[int]
    body: float
    media_type: str
    metadata: dict[str, str]
    warnings: list[str]
    page_count: int
    no_text: list[int]
    locations: list[Location] = field(default_factory=list)
    total_mismatches: list[TotalMismatch] = field(default_factory=list)
    ocr_confidence: dict[int, float] = field(default_factory=dict)  # page number -> mean word confidence, OCR'd pages
    text_boxes: list[tuple[int, int, int, tuple, list[float]]] = field(default_factory=list)  # OCR'd lines: page, start, end (page-local)
    parser: str | None = None  # the reader's name when it is not the PDF layout reader


def file_id(data: bytes) -> str:
    """The id of a document: the SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def parse_file(
    path: str | Path,
    *,
    settings: ParsingSettings | None = None,
    password: str | None = None,
    kind: DocumentKind | str | None = None,
    filename: str | None = None,
) -> Document:
    """Parse a PDF, Word, Excel, text or Markdown file into a Document.

    Args:
        path: The file to read.
        settings: Parsing limits and passage size.
        password: Password of an encrypted PDF (password-protected Office files are refused: they must be saved without one).
        kind: Force the document kind instead of guessing it.
        filename: Name to record (defaults to the file's name), e.g. the name of an upload.

    Returns:
        The Document: pages, sections, sentences, tables, references and passages, every span
        grounded in ``Document.text``.

    Raises:
        DocumentError: a subclass naming the file, the problem and the fix.
    """
    settings = settings or ParsingSettings()
    path = Path(path)
    name = filename or path.name
    started = time.monotonic()
    size = path.stat().st_size
    if size > settings.max_file_mb * 1024 * 1024:  # before reading a byte of it
        raise LimitExceededError(
            name,
            f"the file is {size / 1048576:.1f} MiB, over the {settings.max_file_mb:g} MiB limit.",
            hint="Split the document, or raise VBP_PARSING__MAX_FILE_MB.",
        )
    data = path.read_bytes()
    doc_id = file_id(data)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES and not data.lstrip()[:5] == b"%PDF-":
        read = _read_text_file(data, name, suffix)
    elif suffix in OFFICE_SUFFIXES or (data[:4] in (b"PK\x03\x04", OLE_MAGIC) and suffix != ".pdf"):  # a ZIP holding a PDF is a ZIP
        read = read_office(path, data, name, settings)  # python-docx and openpyxl load only for Office files
    else:
        if suffix != ".pdf" and b"%PDF-" not in data[:1024]:
            _reject_unsupported(path, name, suffix, data)
        read = _read_pdf_file(path, name, password, settings)
    doc = _build(doc_id, name, read.page_texts, read.blocks, read.columns, read.body, settings, read.no_text)
    doc.parser = read.parser or doc.parser
    if kind is not None:
        doc.kind, doc.kind_source = DocumentKind(kind), "user"
    doc.locations = read.locations
    _own_arithmetic(doc, read)
    _ocr_facts(doc, read)
    media_type, metadata, warnings, page_count = read.media_type, read.metadata, read.warnings, read.page_count
    doc.media_type = media_type
    doc.page_count = page_count
    doc.metadata = {**metadata, "parse_seconds": f"{time.monotonic() - started:.3f}"}
    doc.warnings = warnings + doc.warnings
    doc.title = _title(metadata, doc, read.blocks)
    return doc


def _own_arithmetic(doc: Document, read: Read) -> None:
    """The document's figures checked against its own numbers: totals against their parts (a workbook's were checked
    cell by cell as it was read; other tables row by row) and percentages against their counts."""
    doc.total_mismatches = list(read.total_mismatches)
    if not is_workbook(read.media_type):
        totals = table_totals(doc)
        doc.total_mismatches += totals
        doc.warnings += [f"page {m.page}: {m.note}" for m in totals]
    stated = percent_checks(doc) + saving_checks(doc) + unit_cost_checks(doc) + restated_checks(doc)  # silent on a clinical paper
    doc.total_mismatches += stated
    doc.warnings += [m.note for m in stated]


def _ocr_facts(doc: Document, read: Read) -> None:
    """Each OCR'd page's confidence, and where its lines lie on the page image (page-local offsets made global)."""
    for number, confidence in read.ocr_confidence.items():
        doc.pages[number - 1].ocr_confidence = confidence
    for number, start, end, (x0, y0, x1, y1), edges in read.text_boxes:
        offset = doc.pages[number - 1].offset
        doc.text_boxes.append(TextBox(page=number, span=Span(start=offset + start, end=offset + end), x0=x0, y0=y0, x1=x1, y1=y1,
                                      x_edges=[round(x, 2) for x in edges]))


def _read_pdf_file(path: Path, name: str, password: str | None, settings: ParsingSettings) -> Read:
    """A PDF's pages: its text layer with geometry, or OCR of its scans, laid out into page texts and blocks, with quality warnings."""
    from extractor.parsing.ocr import layer_note, no_text_layer_error, ocr_metadata, ocr_warnings, text_boxes
    from extractor.parsing.pdf import nothing_drawn_error

    raw_pdf = read_pdf(path, password=password, settings=settings)
    page_count = len(raw_pdf.pages)
    no_text = [p.number for p in raw_pdf.pages if p.chars < settings.min_chars_per_page]
    if page_count and len(no_text) == page_count:
        if all(p.drawn == 0 for p in raw_pdf.pages):  # not a scan: OCR would find nothing either
            raise nothing_drawn_error(name, page_count)
        if all(p.ocr is None and p.ocr_unread in ("off", "unavailable", None) for p in raw_pdf.pages):
            raise no_text_layer_error(name, no_text, settings)  # OCR switched off, or no engine installed
    asm = assemble(raw_pdf.pages)
    page_texts, blocks, columns, body = asm.page_texts, asm.blocks, asm.columns, asm.body_size
    media_type, metadata = "application/pdf", {**raw_pdf.metadata, **ocr_metadata(raw_pdf.pages)}
    warnings = []
    if raw_pdf.encrypted:
        warnings.append("the PDF is encrypted; it was opened " + ("with the password given" if password else "without a password (owner-only protection)"))
    warnings.extend(ocr_warnings(raw_pdf.pages, settings))
    for page in raw_pdf.pages:
        q = text_quality(page_texts[page.number - 1])
        reread = page.ocr is not None and page.ocr.used
        layer_q = page.layer_quality if page.layer_quality is not None or reread else q
        if page.invisible_text and page.chars >= settings.min_chars_per_page and (layer_q is None or layer_q < 0.95):
            warnings.append(
                f"page {page.number}: the text layer is OCR over a scanned image and looks garbled"
                + (f" (only {layer_q:.0%} of words look well-formed)" if layer_q is not None else "")
                + layer_note(page)
            )
        elif q is not None and q < settings.garbage_threshold:
            source = "OCR text" if page.ocr is not None and page.ocr.used else "text layer"
            warnings.append(f"page {page.number}: the {source} looks garbled (only {q:.0%} of words look well-formed)")
    ocr_confidence = {p.number: p.ocr.confidence for p in raw_pdf.pages if p.ocr and p.ocr.used and p.ocr.confidence is not None}
    boxes = [(p.number, *found) for p in raw_pdf.pages if p.ocr and p.ocr.used for found in text_boxes(p, page_texts[p.number - 1])]
    return Read(page_texts, blocks, columns, body, media_type, metadata, warnings, page_count, no_text, ocr_confidence=ocr_confidence,
                text_boxes=boxes)


def _read_text_file(data: bytes, name: str, suffix: str) -> Read:
    """A plain-text or Markdown file's pages (form feeds) and blocks."""
    raw, warnings = decode(data)
    page_texts, blocks = read_text(raw, markdown=TEXT_SUFFIXES[suffix] == "text/markdown")
    if not any(p.strip() for p in page_texts):
        raise EmptyFileError(name, "the file holds no text.", hint="Check that the right file was given.")
    return Read(page_texts, blocks, [1] * len(page_texts), 10.0, TEXT_SUFFIXES[suffix], {}, warnings, len(page_texts), [])


def _reject_unsupported(path: Path, name: str, suffix: str, data: bytes) -> None:
    """Say what an unsupported file is: empty, plain text under another name, or some other format."""
    head = data[:4096]
    looks_like_markup = head.lstrip().lower().startswith((b"<!doctype html", b"<html", b"<?xml", b"version https://git-lfs"))
    if data.strip() and guess_type(head) == "plain text" and not looks_like_markup:
        raise UnsupportedFileTypeError(
            name, f"'{suffix or 'no extension'}' files are not supported.",
            hint="Give a PDF, Word (.docx), Excel (.xlsx), .txt or .md file (rename plain text to .txt).",
        )
    sniff(path, head, len(data))  # raises, naming what the file really is


def _build(doc_id: str, name: str, page_texts: list[str], blocks: list[Block], columns: list[int], body: float,
           settings: ParsingSettings, no_text: list[int]) -> Document:
    text = PAGE_SEP.join(page_texts)
    pages, offset = [], 0
    for i, pt in enumerate(page_texts):
        pages.append(Page(number=i + 1, offset=offset, text=pt, has_text_layer=(i + 1) not in no_text, columns=columns[i]))
        offset += len(pt) + len(PAGE_SEP)
    doc = Document(id=doc_id, filename=name, kind=DocumentKind.other, page_count=len(pages), pages=pages, text=text, parser=PARSER_NAME)
    doc.sections = structure.find_sections(text, blocks)
    doc.sentences = structure.find_sentences(text, blocks, doc.sections)
    doc.tables = structure.find_tables(text, blocks)
    doc.references = structure.find_references(text, doc.sections, blocks, doc.page_at)
    doc.passages = structure.cut_passages(doc_id, text, doc.sentences, doc.sections, settings.passage_chars)
    doc.kind = structure.guess_kind(text, doc.sections)
    return doc


def _title(metadata: dict[str, str], doc: Document, blocks: list[Block]) -> str | None:
    title = (metadata.get("title") or "").strip()
    if title and len(title) > 3 and not title.lower().startswith(("microsoft word", "untitled")) and not title.endswith((".pdf", ".doc", ".docx")):
        return title
    first = [b for b in blocks if b.page == 1 and b.kind != "table_row"]
    if not first:
        return None
    big = max(first, key=lambda b: (b.size, -b.start))
    text = doc.text[big.start : big.end].lstrip("#").strip()
    return text[:300] or None
