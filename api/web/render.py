"""Source pages for the review page: a PDF page as an image (rendered once, cached on disk) and where a quote lies on it.

A claim or a passage is located by its text, not by stored character boxes (the parser keeps boxes only for OCR'd
lines): the page's own text layer is searched for the quote's first and last words, and the character boxes between
them become the highlight, in percentages of the page so that it scales with the image. OCR'd pages use the boxes
the OCR read (``Document.boxes_for``).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

RENDER_SCALE = 1.5
"""Page images at 1.5 x 72 dpi = 108 dpi: sharp enough to read on a laptop, about 150-400 KB a page."""

_lock = threading.Lock()


def page_image(pdf_path: Path, page: int, cache_dir: Path) -> Path:
    """The PNG of one page of a stored PDF, rendered on first request and kept in ``cache_dir``.

    Raises:
        ValueError: the page does not exist in the file.
    """
    import pypdfium2 as pdfium

    digest = hashlib.sha256(f"{pdf_path.resolve()}:{pdf_path.stat().st_size}:{page}:{RENDER_SCALE}".encode()).hexdigest()[:24]
    out = cache_dir / f"{digest}.png"
    if out.is_file():
        return out
    with _lock:  # pdfium is not thread-safe
        if out.is_file():
            return out
        pdf = pdfium.PdfDocument(str(pdf_path))
        try:
            if not 1 <= page <= len(pdf):
                raise ValueError(f"page {page} is not in the document (it has {len(pdf)} pages).")
            image = pdf[page - 1].render(scale=RENDER_SCALE).to_pil()
        finally:
            pdf.close()
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        image.save(tmp, format="PNG", optimize=True)
        os.replace(tmp, out)
    return out


def _anchor(textpage, words: list[str], *, from_end: bool) -> tuple[int, int] | None:
    """Where the longest run of the quote's first (or last) words is found on the page: (char index, count)."""
    for size in range(min(8, len(words)), 1, -1):
        fragment = " ".join(words[-size:] if from_end else words[:size])
        if len(fragment) < 8:
            break
        hit = textpage.search(fragment, match_case=False, match_whole_word=False).get_next()
        if hit:
            return hit
    return None


def quote_boxes(pdf_path: Path, page: int, quote: str) -> list[tuple[float, float, float, float]]:
    """The boxes covering ``quote`` on a PDF page, as (left, top, width, height) percentages of the page; [] when the
    text layer does not hold it (the page is still shown, with the quote beside it)."""
    import pypdfium2 as pdfium

    words = quote.split()
    if not words:
        return []
    with _lock:
        pdf = pdfium.PdfDocument(str(pdf_path))
        try:
            if not 1 <= page <= len(pdf):
                return []
            pg = pdf[page - 1]
            width, height = pg.get_size()
            textpage = pg.get_textpage()
            start = _anchor(textpage, words, from_end=False)
            end = _anchor(textpage, words, from_end=True) if len(words) > 8 else start
            if start is None or end is None or end[0] + end[1] < start[0]:
                return []
            first, count = start[0], end[0] + end[1] - start[0]
            if count > 4 * len(quote) + 200:  # the two ends were found far apart: not this quote
                return []
            rects = [textpage.get_rect(i) for i in range(textpage.count_rects(first, count))]
        finally:
            pdf.close()
    return [(100 * left / width, 100 * (height - top) / height, 100 * (right - left) / width, 100 * (top - bottom) / height)
            for left, bottom, right, top in rects if right > left and top > bottom]


def ocr_boxes(doc, start: int, end: int, page: int, size: tuple[float, float]) -> list[tuple[float, float, float, float]]:
    """The OCR boxes of ``doc.text[start:end]`` on ``page`` as percentages (``size``: the page's width and height in
    points)."""
    width, height = size
    return [(100 * x0 / width, 100 * (height - y1) / height, 100 * (x1 - x0) / width, 100 * (y1 - y0) / height)
            for p, x0, y0, x1, y1 in doc.boxes_for(start, end) if p == page]  # PDF y grows upwards; the page image's down


def page_size(pdf_path: Path, page: int) -> tuple[float, float] | None:
    import pypdfium2 as pdfium

    with _lock:
        pdf = pdfium.PdfDocument(str(pdf_path))
        try:
            return tuple(pdf[page - 1].get_size()) if 1 <= page <= len(pdf) else None
        finally:
            pdf.close()
