"""PDF reading: pypdf checks and decrypts, pypdfium2 reads text with geometry.

pypdf does what it does well (telling a PDF from other files, encryption, metadata), and
pdfium gives the text with character boxes about ten times faster than pypdf's
``extract_text``, which the 100 pages/s target needs.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from extractor.errors import (
    BinaryJunkError,
    DamagedPdfError,
    EmptyFileError,
    LimitExceededError,
    NotAPdfError,
    PasswordRequiredError,
    TooComplexError,
    WrongPasswordError,
    too_complex,
)
from extractor.parsing.layout import CELL_SEP, Line
from extractor.settings import ParsingSettings

if TYPE_CHECKING:
    from extractor.parsing.ocr import OcrPage

log = logging.getLogger(__name__)
# pypdf logs a warning for every broken object of a damaged file (hundreds of lines); the one-line
# DocumentError says what matters. Under `vbp --debug` (root logger at DEBUG) they are still shown.
if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
    logging.getLogger("pypdf").setLevel(logging.ERROR)

_HYPHEN_MARK = "\ufffe"  # pdfium's marker for a hyphen at a line end
_SEGMENT = re.compile("\r\n|\n|\r|" + _HYPHEN_MARK)
_LIGATURE_SPACE = re.compile(r"(?<=f[fil]) (?=[a-z])")
_NUMBER = re.compile(r"\d")


@dataclass(slots=True)
class RawPage:
    """What the PDF library gives for one page, before layout analysis."""

    number: int
    width: float
    height: float
    lines: list[Line]
    chars: int
    invisible_text: bool = False  # text drawn invisibly over an image: an OCR layer
    drawn: int | None = None  # objects other than text on a page without text (images, paths, forms); None: not counted
    ocr: OcrPage | None = None  # what OCR read, when the page had no usable text layer and OCR ran
    ocr_unread: str | None = None  # why a page that needed OCR was not OCR'd: "off", "unavailable", "page_limit", "time_limit"
    layer_quality: float | None = None  # text quality of an invisible OCR layer that was looked at for re-reading
    char_boxes: list[list[tuple[float, float, float, float]]] | None = None  # OCR'd lines: a box per character of each line's text


@dataclass(slots=True)
class RawPdf:
    pages: list[RawPage]
    metadata: dict[str, str] = field(default_factory=dict)
    encrypted: bool = False


def sniff(path: Path, head: bytes, size: int) -> None:
    """Reject files that are not PDFs before any parser sees them, with a message for each case.

    Raises:
        EmptyFileError, NotAPdfError, BinaryJunkError (zero bytes, random bytes).
    """
    name = path.name
    if size == 0:
        raise EmptyFileError(name, "the file is empty (0 bytes).", hint="Check the upload or download and send the file again.")
    if head.startswith(b"version https://git-lfs.github.com/spec/"):
        raise NotAPdfError(
            name,
            "this is a Git LFS pointer, not the PDF itself.",
            hint="Fetch the real file with `git lfs pull` (or download it from the LFS server) and ingest that.",
        )
    if b"%PDF-" in head[:1024]:
        return
    lowered = head[:2048].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in lowered:
        raise NotAPdfError(
            name,
            "this is an HTML page saved with a .pdf name (often a paywall or login page), not a PDF.",
            hint="Download the article PDF itself, for example from the publisher's 'Download PDF' link.",
        )
    kind = guess_type(head)
    if kind == _ZEROS:
        raise BinaryJunkError(name, "the file is all zero bytes (a blank disk image or a failed download), not a PDF.",
                              hint="Download or export the document again and ingest the new file.")
    if kind == _BINARY:
        raise BinaryJunkError(name, "the file is binary data of no known format (no %PDF header), not a PDF.",
                              hint="Check that this is the right file; export or save the document as PDF and ingest that.")
    raise NotAPdfError(
        name,
        f"this is not a PDF (no %PDF header; the content looks like {kind}).",
        hint="Export or save the document as PDF and ingest that file.",
    )


def guess_type(head: bytes) -> str:
    """Name the format of a file from its first bytes, for error messages."""
    signatures = {
        b"PK\x03\x04": "a ZIP archive or an Office document (.docx/.xlsx)",
        b"\xd0\xcf\x11\xe0": "a legacy Office document (.doc/.xls)",
        b"\x89PNG": "a PNG image",
        b"\xff\xd8\xff": "a JPEG image",
        b"GIF8": "a GIF image",
        b"{\\rtf": "an RTF document",
    }
    for sig, kind in signatures.items():
        if head.startswith(sig):
            return kind
    if head and not head.strip(b"\x00"):
        return _ZEROS
    for cut in range(4):  # a multi-byte character cut by the end of the head is still text
        try:
            text = head[: len(head) - cut].decode("utf-8")
            break
        except UnicodeDecodeError:
            continue
    else:
        return _BINARY
    controls = sum(1 for c in text if c < " " and c not in "\t\n\r\f")
    return _BINARY if controls > len(text) / 100 else "plain text"


_ZEROS = "zero bytes"
_BINARY = "binary data of an unknown type"


def _pypdf_reader(path: Path, password: str | None):
    """Open the file with pypdf and decrypt it; say clearly why when it cannot be opened.

    pypdf is the slow path, used when pdfium cannot open a file: it tells a missing password
    from a wrong one, and reads damaged files pdfium refuses (broken xref tables).
    """
    from pypdf import PdfReader

    name = path.name
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted and not reader.decrypt(password or ""):
            if password:
                raise WrongPasswordError(name, "the password given does not open this encrypted PDF.", hint="Check the password and try again.")
            raise PasswordRequiredError(
                name,
                "the PDF is encrypted and needs a password to open.",
                hint="Give it with `--password` (CLI) or the `password` form field (API).",
            )
        return reader
    except (PasswordRequiredError, WrongPasswordError):
        raise
    except Exception as e:  # noqa: BLE001 - pypdf raises assorted errors on hostile files
        hint = "Install the `cryptography` package." if "cryptography" in str(e) else "Re-export or re-download the file."
        raise DamagedPdfError(name, f"the PDF is damaged and cannot be read ({_truncated(path)}{type(e).__name__}: {_short(e)}).",
                              hint=hint, original=e) from e


def _truncated(path: Path) -> str:
    """"it is cut short; " when the file lacks the end-of-file marker a complete PDF ends with, else ""."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 2048))
        return "" if b"%%EOF" in fh.read() else "it is cut short, with no end-of-file marker: an incomplete download or copy; "


def _open(path: Path, password: str | None):
    """Open with pdfium; on failure let pypdf diagnose the file, or repair it into a clean copy."""
    import io

    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as e:
        first_error = e
    reader = _pypdf_reader(path, password)  # raises the precise error when it cannot open it either
    try:
        from pypdf import PdfWriter

        writer = PdfWriter(clone_from=reader)
        buffer = io.BytesIO()
        writer.write(buffer)
        log.info("%s: pdfium could not open it (%s); read a copy repaired by pypdf", path.name, first_error)
        return pdfium.PdfDocument(buffer.getvalue())
    except Exception as e:  # noqa: BLE001
        raise DamagedPdfError(
            path.name, f"the PDF is damaged and cannot be read ({_truncated(path)}{_pdfium_reason(first_error)}; pypdf: {_short(e)}).",
            hint="Re-export or re-download the file.", original=e
        ) from e


def _pdfium_reason(e: BaseException) -> str:
    """pdfium's error without the misleading "(PDFium: Success)" it adds when it sets no error code."""
    text = str(e).replace(" (PDFium: Success)", "").rstrip(".")
    m = re.fullmatch(r"(.*) \(PDFium: (.*)\)", text)
    if m:
        text = f"{m.group(1)}: {m.group(2).lower()}"
    return "PDFium: " + (text[0].lower() + text[1:] if text else "unknown error")


def _short(e: BaseException, n: int = 120) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= n else text[: n - 1] + "…"


def _page_load_error(name: str, index: int, count: int, e: BaseException) -> DamagedPdfError:
    """pdfium could not load one page: its page tree loops or its page object is broken."""
    return DamagedPdfError(
        name, f"the PDF is damaged: page {index + 1} of {count} cannot be loaded (the page tree loops or the page object is broken; "
              f"{_pdfium_reason(e)}).", hint="Re-export or re-download the file.", original=e)


def _memory_error(name: str, settings: ParsingSettings, e: BaseException) -> TooComplexError:
    return too_complex(name, f"reading it needs more than the {settings.max_memory_mb} MiB memory limit", "max_memory_mb", original=e)


def read_pdf(path: Path, *, password: str | None = None, settings: ParsingSettings | None = None) -> RawPdf:
    """Read a PDF's text lines with their geometry, page by page.

    Args:
        path: The PDF file.
        password: Password for an encrypted PDF; owner-only encryption needs none.
        settings: Limits on size, pages and time.

    Returns:
        The raw pages: lines with boxes, character counts, and whether the text is an OCR layer. Pages without a
        usable text layer are read by OCR (``settings.ocr``), within ``ocr_max_pages`` and the time limit; each says
        what OCR read (``RawPage.ocr``) or why it was not OCR'd (``RawPage.ocr_unread``).

    Raises:
        EmptyFileError, NotAPdfError (BinaryJunkError), PasswordRequiredError, WrongPasswordError,
        DamagedPdfError, LimitExceededError (TooComplexError: operators, characters, time or memory over
        the limits; CompressionLimitError: a decompression bomb).
    """
    import pypdfium2 as pdfium

    settings = settings or ParsingSettings()
    name = path.name
    start = time.monotonic()
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(4096)
    sniff(path, head, size)
    try:
        return _read_pages(path, pdfium, password, settings, start)
    except MemoryError as e:  # the worker's RLIMIT_AS (settings.max_memory_mb)
        raise _memory_error(name, settings, e) from None


def _read_pages(path: Path, pdfium, password: str | None, settings: ParsingSettings, start: float) -> RawPdf:
    from extractor.parsing.limits import PageLimits

    name = path.name
    pdf = _open(path, password)
    try:
        encrypted = pdfium.raw.FPDF_GetSecurityHandlerRevision(pdf) != -1
        metadata = {k.lower(): v for k, v in pdf.get_metadata_dict(skip_empty=True).items() if len(v) < 500}
        count = len(pdf)
        if count > settings.max_pages:
            raise LimitExceededError(
                name,
                f"the PDF has {count} pages, over the {settings.max_pages}-page limit.",
                hint="Split the document, or raise VBP_PARSING__MAX_PAGES.",
            )
        limits = PageLimits(path, password=password, settings=settings, name=name, page_count=count)
        pages = []
        for i in range(count):
            if time.monotonic() - start > settings.timeout_s:
                raise TooComplexError(
                    name,
                    f"the PDF is too complex to read safely: parsing took longer than the {settings.timeout_s:g} s limit "
                    f"(stopped at page {i + 1} of {count}).",
                    hint="If the file is trusted, raise VBP_PARSING__TIMEOUT_S; otherwise re-export it as PDF.",
                )
            limits.check(i)
            try:
                pages.append(_read_page(pdf, i, count, name, settings))
            except pdfium.PdfiumError as e:  # "Failed to load text page" and kin
                raise _page_load_error(name, i, count, e) from e
        from extractor.parsing.ocr import read_scanned_pages

        read_scanned_pages(pdf, pages, settings=settings, started=start)  # scans and garbled OCR layers, within the time limit
    finally:
        pdf.close()
    return RawPdf(pages=pages, metadata=metadata, encrypted=encrypted)


def _load_page(pdf, index: int, count: int, name: str):
    import pypdfium2 as pdfium

    try:
        return pdf[index]
    except pdfium.PdfiumError as e:
        raise _page_load_error(name, index, count, e) from e


def _read_page(pdf, index: int, count: int, name: str, settings: ParsingSettings) -> RawPage:
    import pypdfium2.raw as raw

    page = _load_page(pdf, index, count, name)
    try:
        width, height = page.get_size()
        tp = page.get_textpage()
        try:
            n = tp.count_chars()
            if n > settings.max_page_chars:  # before the text is copied out and laid out line by line
                raise too_complex(name, f"page {index + 1} has {n:,} characters, over the {settings.max_page_chars:,} limit",
                                  "max_page_chars")
            text = tp.get_text_range()
            lines: list[Line] = []
            invisible = False
            if n:
                invisible = _is_invisible(tp, n, raw)
                if n == len(text):
                    lines = _lines_with_geometry(tp, text, raw)
                else:  # surrogate pairs shift indices: keep the text, fake the geometry
                    lines = _lines_without_geometry(text, height)
            drawn = None
            if n < settings.min_chars_per_page:  # a scan has an image to OCR; a page with nothing drawn has nothing
                drawn = _drawn_objects(page)
            return RawPage(index + 1, width, height, lines, n, invisible, drawn)
        finally:
            tp.close()
    finally:
        page.close()


def _is_invisible(tp, n: int, raw) -> bool:
    """True when most sampled characters are drawn in render mode 3 (invisible): an OCR layer."""
    modes = []
    for i in range(0, n, max(1, n // 9)):
        obj = raw.FPDFText_GetTextObject(tp, i)
        if obj:
            modes.append(raw.FPDFTextObj_GetTextRenderMode(obj))
    return bool(modes) and sum(m == 3 for m in modes) > len(modes) / 2


def _lines_with_geometry(tp, text: str, raw) -> list[Line]:
    lines: list[Line] = []
    pos = 0
    for m in _SEGMENT.finditer(text + "\n"):
        seg_start, seg_end = pos, m.start()
        pos = m.end()
        seg = text[seg_start:seg_end]
        lead = len(seg) - len(seg.lstrip())
        stripped = seg.strip()
        if not stripped:
            continue
        first = seg_start + lead
        last = first + len(stripped) - 1
        l0, b0, r0, t0 = tp.get_charbox(first, loose=True)
        l1, b1, r1, t1 = tp.get_charbox(last, loose=True)
        bold = raw.FPDFText_GetFontWeight(tp, first) >= 600 and raw.FPDFText_GetFontWeight(tp, last) >= 600
        stripped = _repair_segment(tp, stripped, first)
        lines.append(
            Line(
                text=stripped,
                x0=min(l0, l1),
                y0=min(b0, b1),
                x1=max(r0, r1),
                y1=max(t0, t1),
                size=max(t0 - b0, 0.1),
                bold=bold,
                hyphen_break=m.group(0) == _HYPHEN_MARK,
            )
        )
    return lines


def _repair_segment(tp, seg: str, first: int) -> str:
    """Fix what character boxes reveal: ligature gaps and gaps between table cells.

    Only spaces that could matter are looked at, so this costs a few box look-ups a line.
    """
    if " " not in seg:
        return seg
    chars = list(seg)
    changed = False
    # "e ff ective": a space drawn inside the box of the ligature before it is an artefact.
    for m in _LIGATURE_SPACE.finditer(seg):
        i = m.start()
        prev_right = tp.get_charbox(first + i - 1)[2]
        space_left = tp.get_charbox(first + i)[0]
        if space_left < prev_right - 0.5:
            chars[i] = ""
            changed = True
    # Table rows: a wide gap between two numbers becomes a cell separator.
    if len(_NUMBER.findall(seg)) >= 2:
        size = None
        for i, ch in enumerate(seg):
            if ch != " " or i == 0 or i + 1 >= len(seg) or chars[i] != " ":
                continue
            left = tp.get_charbox(first + i - 1)
            right = tp.get_charbox(first + i + 1)
            if size is None:
                size = max(left[3] - left[1], 4.0)
            if right[0] - left[2] > 1.8 * size:  # wider than justified word spacing
                chars[i] = CELL_SEP
                changed = True
    return "".join(chars) if changed else seg


def _lines_without_geometry(text: str, height: float) -> list[Line]:
    segs = [s.strip() for s in _SEGMENT.split(text) if s.strip()]
    step = height / (len(segs) + 1)
    return [Line(text=s, x0=0, x1=100, y1=height - i * step, y0=height - (i + 1) * step + 1) for i, s in enumerate(segs)]


def nothing_drawn_error(name: str, page_count: int) -> EmptyFileError:
    """A PDF whose pages hold no text and nothing drawn: not a scan, so OCR would find nothing either."""
    return EmptyFileError(
        name, f"the PDF's {page_count} page{'s' if page_count > 1 else ''} hold no text and nothing drawn (no image to OCR).",
        hint="Check that this is the right file; re-export it from its source.")


def _drawn_objects(page) -> int:
    """Objects other than text on a page: images, paths, forms (what a scan or a drawing is made of)."""
    import pypdfium2.raw as raw

    kinds = (raw.FPDFPageObj_GetType(raw.FPDFPage_GetObject(page, j)) for j in range(raw.FPDFPage_CountObjects(page)))
    return sum(k != raw.FPDF_PAGEOBJ_TEXT for k in kinds)


def preflight_pdf(path: Path, *, password: str | None = None, settings: ParsingSettings | None = None,
                  filename: str | None = None) -> int:
    """Check in milliseconds that a PDF can be parsed at all, before it is accepted for (slow) parsing.

    Opens the file (with the password, if any), checks the page count against the limit, and looks for a
    text layer page by page, stopping at the first page that has one (a scan reads every page). A PDF of
    scans only is accepted when OCR is on and its engine is installed (parsing will OCR it); a PDF with
    nothing drawn on any page is refused as empty, as parsing would.

    Args:
        path: The PDF file.
        password: Password of an encrypted PDF.
        settings: Page limit and the characters a page needs to count as having a text layer.
        filename: Name to use in messages (e.g. the name of an upload).

    Returns:
        The number of pages.

    Raises:
        EmptyFileError, NotAPdfError, PasswordRequiredError, WrongPasswordError, DamagedPdfError,
        LimitExceededError (TooComplexError, CompressionLimitError), NoTextLayerError (a scan, with OCR off or
        not installed), EmptyFileError (nothing drawn).
    """
    settings = settings or ParsingSettings()
    path = Path(path)
    name = filename or path.name
    with path.open("rb") as fh:
        head = fh.read(4096)
    sniff(Path(name), head, path.stat().st_size)
    try:
        pdf = _open(path, password)
    except (PasswordRequiredError, WrongPasswordError, DamagedPdfError) as e:
        e.message = e.message.replace(path.name, name, 1)
        e.filename = name
        raise
    from extractor.parsing.limits import PageLimits

    try:
        count = len(pdf)
        if count > settings.max_pages:
            raise LimitExceededError(name, f"the PDF has {count} pages, over the {settings.max_pages}-page limit.",
                                     hint="Split the document, or raise VBP_PARSING__MAX_PAGES.")
        # this runs in the server's own process: a page is loaded only once it is known not to be a bomb
        limits = PageLimits(path, password=password, settings=settings, name=name, page_count=count)
        drawn = 0
        for i in range(count):
            limits.check(i)
            page = _load_page(pdf, i, count, name)
            try:
                tp = page.get_textpage()
                try:
                    if tp.count_chars() >= settings.min_chars_per_page:
                        return count
                finally:
                    tp.close()
                drawn += _drawn_objects(page)
            finally:
                page.close()
        if count:
            from extractor.parsing.ocr import engine_problem, no_text_layer_error

            if not drawn:
                raise nothing_drawn_error(name, count)
            if not settings.ocr or engine_problem():
                raise no_text_layer_error(name, list(range(1, count + 1)), settings)
        return count
    finally:
        pdf.close()
