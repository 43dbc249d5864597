"""OCR of pages without a usable text layer: Tesseract, run as a subprocess on the rendered page.

Why Tesseract (Debian's ``tesseract-ocr`` 5.3.0, eng): measured on the 2-core build machine (AMD EPYC, no
GPU) against RapidOCR 3.10.0 (PP-OCRv6 small ONNX models shipped in its wheel, onnxruntime 1.31.1, run in
a network namespace without network: it downloaded nothing) on page 1 of the three scanned files of
``shared/data/pdfs`` and on a rendered dense two-column page. Character accuracy is 1 - edit distance /
length over the lines of a hand-checked transcript (``tests/extractor/data/ocr_transcript_<file>.txt``;
for the BMJ page, 12 lines of its own text layer), each line matched to its best-matching stretch of the
OCR text. Seconds are for one page (render at 300 dpi included), warm, two runs, one page at a time:

==========================================================  ==================  =====================
page                                                        tesseract (psm 3)   RapidOCR (raw / desp.)
==========================================================  ==================  =====================
awkward_scanned_DXA_bone_density_report_image_only p1       1.9-2.0 s, 1.000    4.1-5.8 s, 1.000/1.000
awkward_scanned_skewed_conference_abstract_image_only p1    1.6-1.7 s, 0.813    3.5-4.2 s, 0.877/0.937
awkward_scanned_letter_noisy_OCR_text_layer p1              1.1-1.2 s, 0.931    2.5-3.0 s, 0.987/0.981
bmj2015_LEAP p2, rendered (dense, two columns)              3.7-3.9 s, 0.982    16.6-22.1 s, 0.886
==========================================================  ==================  =====================

(Tesseract figures are with the despeckling below; without it 0.924, 0.721, 0.914, 0.982.)
RapidOCR reads the noisy scans better, but is 2.5-5 times slower (a dense page takes it 17-22 s, so the
50 s parse limit would cover 2 such pages, against about 12 for Tesseract), reads the dense two-column
page worse, and loads its models for about 2 s in each process. Tesseract also runs as a child process
that is simply killed at its time limit (an ONNX session in our own process cannot be stopped), and adds
no Python dependencies (RapidOCR brings opencv, shapely, pyclipper and omegaconf, about 150 MB).
Tesseract's automatic page segmentation (``--psm 3``) is kept: one uniform block (``--psm 6``) reads the
skewed scan better (0.953, not despeckled) but runs two text columns together into one line (0.85-0.88
on rendered two-column pages, against 0.93-0.99 with ``--psm 3``).

Pages are rendered at 300 dpi (Tesseract's best resolution for body text), bounded to ``MAX_PIXELS`` so
a poster-sized page renders at a lower resolution instead of needing gigabytes. Words come back from
hOCR with their boxes, are mapped to PDF user space with pdfium's own device-to-page transform, and are
grouped into ``Line`` records as pdfium's text layer is, so that ``assemble`` lays them out unchanged.
Known limit: on a page with a /Rotate entry the boxes are in unrotated user space, as its text layer's
are, so the layout code may put the lines of a rotated scan out of order, as it would its text layer.
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from extractor.errors import DocumentError, NoTextLayerError
from extractor.parsing.layout import Line
from extractor.parsing.normalise import text_quality
from extractor.settings import ParsingSettings

if TYPE_CHECKING:
    from extractor.parsing.pdf import RawPage

ENGINE = "tesseract"
TESSERACT = "tesseract"  # the binary; a module attribute so that tests can point it elsewhere
LANGUAGE = "eng"
DPI = 300
MAX_PIXELS = 16_000_000  # an A4 page at 300 dpi is 8.7 Mpx; an A3 page fits at 300 dpi, A0 at about 125 dpi
MIN_NOISE_CONFIDENCE = 0.5  # a "word" of punctuation only, below this confidence, is speckle on the scan
# A 3x3 median filter before OCR removes the speckle of photocopies, which Tesseract's page segmentation
# otherwise takes for a picture with the text beside it (0.72 -> 0.81 on the skewed abstract, 0.92 -> 1.00
# on the DXA report); it costs 0.1-0.3 s a page and nothing measurable on clean pages (0.982 -> 0.982).
DESPECKLE = 3
CELL_GAP = 1.2  # a gap between words wider than this many text heights starts a new Line (a table cell, a column)
GARBLED_LAYER = 0.95  # an invisible OCR layer scoring below this is garbled (the pipeline's warning uses the same bar)
OCR_TIME_SHARE = 0.9  # OCR may use this share of the parse time limit; the rest is left for layout (well under a second)
MIN_PAGE_SECONDS = 1.0  # an OCR run given less time than this (and than ocr_timeout_s) is not started
INSTALL_HINT = "Install Tesseract (`apt-get install tesseract-ocr` on Debian or Ubuntu; `make install` does it when run as root)"

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points, y growing upwards


@dataclass(slots=True)
class OcrPage:
    """What OCR read on one page.

    ``status`` is "read" (words found), "empty" (no words), "timeout" (stopped at the time limit) or
    "failed" (the engine exited with an error, said in ``detail``).
    """

    status: str
    lines: list[Line] = field(default_factory=list)
    char_boxes: list[list[Box]] = field(default_factory=list)  # per line, one box per character of line.text as OCR'd
    confidence: float | None = None  # mean word confidence, 0-1
    words: int = 0
    seconds: float = 0.0
    dpi: int = DPI
    limit_s: float = 0.0  # the time limit it ran under
    detail: str = ""
    used: bool = False  # its lines are the page's text (an invisible layer is kept when OCR reads no better)


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    box: tuple[int, int, int, int]  # pixels: left, top, right, bottom
    confidence: float


@dataclass(frozen=True, slots=True)
class _HocrLine:
    words: list[_Word]
    x_size: float  # the line's text height in pixels, as Tesseract estimates it (ascenders to descenders)


# --- the engine -----------------------------------------------------------------------------------------------


def engine_problem() -> str | None:
    """Why OCR cannot run here (the binary or its English data is missing), or None when it can."""
    return _engine_problem(TESSERACT)


@functools.cache
def _engine_problem(binary: str) -> str | None:
    path = shutil.which(binary)
    if path is None:
        return f"the OCR engine ({ENGINE}) is not installed"
    try:
        out = subprocess.run([path, "--list-langs"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return f"the OCR engine ({ENGINE}) does not run ({type(e).__name__}: {e})"
    if LANGUAGE not in out.stdout.split():
        return f"the OCR engine ({ENGINE}) has no '{LANGUAGE}' language data (install tesseract-ocr-{LANGUAGE})"
    return None


def no_text_layer_error(name: str, pages: list[int], settings: ParsingSettings) -> NoTextLayerError:
    """The error for a PDF whose every page is a scan that cannot be OCR'd here: OCR switched off, or no engine."""
    problem = None if not settings.ocr else engine_problem()
    if problem is None:
        return NoTextLayerError(name, pages)
    err = NoTextLayerError.__new__(NoTextLayerError)
    err.pages = pages
    phrase = NoTextLayerError(name, pages).message.removeprefix(f"{name}: ").rstrip(".")
    DocumentError.__init__(err, name, f"{phrase}, and {problem}.",
                           hint=f"{INSTALL_HINT} and ingest it again, or run OCR on it first (`ocrmypdf in.pdf out.pdf`).")
    return err


def render_scale(width: float, height: float) -> float:
    """Pixels per point for OCR: 300 dpi, less for a page so large that it would exceed ``MAX_PIXELS``."""
    scale = DPI / 72
    area = max(width, 1.0) * max(height, 1.0)
    if area * scale * scale > MAX_PIXELS:
        scale = math.sqrt(MAX_PIXELS / area)
    return scale


def ocr_page(page, *, timeout_s: float) -> OcrPage:
    """Render a pdfium page and OCR it within ``timeout_s`` seconds (rendering included).

    Args:
        page: A ``pypdfium2.PdfPage``.
        timeout_s: The most seconds for this page; Tesseract is killed when it runs past them.

    Returns:
        The page's lines with boxes in PDF user space, one box per character, and the mean word confidence.
    """
    from PIL import ImageFilter

    started = time.monotonic()
    width, height = page.get_size()
    scale = render_scale(width, height)
    dpi = max(1, round(scale * 72))
    bitmap = page.render(scale=scale, grayscale=True)
    image = bitmap.to_pil().convert("L").filter(ImageFilter.MedianFilter(DESPECKLE))
    to_page = _device_to_page(page, image.width, image.height)
    left = timeout_s - (time.monotonic() - started)
    if left <= 0:
        return OcrPage("timeout", seconds=time.monotonic() - started, dpi=dpi, limit_s=timeout_s)
    try:
        hocr = run_tesseract(_pgm(image), dpi=dpi, timeout_s=left)
    except subprocess.TimeoutExpired:
        return OcrPage("timeout", seconds=time.monotonic() - started, dpi=dpi, limit_s=timeout_s)
    except OcrRunError as e:
        return OcrPage("failed", seconds=time.monotonic() - started, dpi=dpi, limit_s=timeout_s, detail=str(e))
    lines, boxes, confidences = _to_lines(parse_hocr(hocr), to_page)
    return OcrPage(
        "read" if lines else "empty", lines, boxes,
        confidence=sum(confidences) / len(confidences) if confidences else None,
        words=len(confidences), seconds=time.monotonic() - started, dpi=dpi, limit_s=timeout_s,
    )


class OcrRunError(Exception):
    """Tesseract exited with an error; the page is left unread with a warning."""


def run_tesseract(image: bytes, *, dpi: int, timeout_s: float) -> str:
    """Run Tesseract on an image (any format Leptonica reads) and return its hOCR.

    One OpenMP thread: batch ingest already runs one parser per core, and a second thread saves under 10%.

    Raises:
        subprocess.TimeoutExpired: it ran past ``timeout_s`` (and was killed).
        OcrRunError: it could not start or exited with an error.
    """
    cmd = [shutil.which(TESSERACT) or TESSERACT, "stdin", "stdout", "-l", LANGUAGE, "--psm", "3", "--dpi", str(dpi), "hocr"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        out = subprocess.run(cmd, input=image, capture_output=True, timeout=timeout_s, env=env, check=False)
    except OSError as e:
        raise OcrRunError(f"{ENGINE} could not start: {e}") from e
    if out.returncode != 0:
        tail = out.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {out.returncode}"]
        raise OcrRunError(f"{ENGINE} failed: {tail[0][:200]}")
    return out.stdout.decode("utf-8", "replace")


def _pgm(image) -> bytes:
    """The image as binary PGM: written in a millisecond, where PNG takes half a second for an A4 page at 300 dpi."""
    import io

    buf = io.BytesIO()
    image.save(buf, format="PPM")  # an 8-bit grey image is written as P5 (PGM)
    return buf.getvalue()


# --- hOCR to lines --------------------------------------------------------------------------------------------

_BBOX = re.compile(r"bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
_WCONF = re.compile(r"x_wconf (-?\d+(?:\.\d+)?)")
_XSIZE = re.compile(r"x_size (\d+(?:\.\d+)?)")
_LINE_CLASSES = {"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"}
_ALNUM = re.compile(r"\w")


def parse_hocr(hocr: str) -> list[_HocrLine]:
    """The lines of Tesseract's hOCR in its reading order, each with its words, their pixel boxes and confidences."""
    try:
        root = ET.fromstring(hocr)
    except ET.ParseError:
        root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", hocr, flags=re.DOTALL))
    lines = []
    for el in root.iter():
        if el.get("class") not in _LINE_CLASSES:
            continue
        title = el.get("title", "")
        words = []
        for w in el.iter():
            if w.get("class") != "ocrx_word":
                continue
            text = "".join(w.itertext()).strip()
            box = _BBOX.search(w.get("title", ""))
            conf = _WCONF.search(w.get("title", ""))
            if not text or box is None:
                continue
            confidence = max(0.0, min(1.0, float(conf.group(1)) / 100)) if conf else 0.0
            if confidence < MIN_NOISE_CONFIDENCE and not _ALNUM.search(text):
                continue
            words.append(_Word(text, tuple(int(v) for v in box.groups()), confidence))
        if words:
            size = _XSIZE.search(title)
            heights = sorted(w.box[3] - w.box[1] for w in words)
            lines.append(_HocrLine(words, float(size.group(1)) if size else float(heights[len(heights) // 2])))
    return lines


def _device_to_page(page, width_px: int, height_px: int):
    """The affine map from rendered pixels to PDF user space, taken from pdfium (rotation and box offsets included)."""
    import ctypes

    import pypdfium2.raw as raw

    def corner(x: int, y: int) -> tuple[float, float]:
        px, py = ctypes.c_double(), ctypes.c_double()
        raw.FPDF_DeviceToPage(page, 0, 0, width_px, height_px, 0, x, y, ctypes.byref(px), ctypes.byref(py))
        return px.value, py.value

    (ox, oy), (ax, ay), (bx, by) = corner(0, 0), corner(width_px, 0), corner(0, height_px)
    ux, uy = (ax - ox) / width_px, (ay - oy) / width_px  # one pixel to the right
    vx, vy = (bx - ox) / height_px, (by - oy) / height_px  # one pixel down

    def to_page(left: float, top: float, right: float, bottom: float) -> Box:
        xs, ys = [], []
        for x, y in ((left, top), (right, top), (left, bottom), (right, bottom)):
            xs.append(ox + ux * x + vx * y)
            ys.append(oy + uy * x + vy * y)
        return min(xs), min(ys), max(xs), max(ys)

    to_page.points_per_pixel = math.hypot(vx, vy)  # type: ignore[attr-defined]
    return to_page


def _to_lines(hocr_lines: list[_HocrLine], to_page) -> tuple[list[Line], list[list[Box]], list[float]]:
    """Lines in PDF points, split where a gap between words is wide (a table cell or a column), with character boxes."""
    lines: list[Line] = []
    boxes: list[list[Box]] = []
    confidences: list[float] = []
    for hl in hocr_lines:
        run: list[_Word] = []
        for word in hl.words:
            confidences.append(word.confidence)
            if run and word.box[0] - run[-1].box[2] > CELL_GAP * hl.x_size:
                _emit(run, hl.x_size, to_page, lines, boxes)
                run = []
            run.append(word)
        _emit(run, hl.x_size, to_page, lines, boxes)
    return lines, boxes, confidences


def _emit(words: list[_Word], x_size: float, to_page, lines: list[Line], boxes: list[list[Box]]) -> None:
    if not words:
        return
    left = min(w.box[0] for w in words)
    top = min(w.box[1] for w in words)
    right = max(w.box[2] for w in words)
    bottom = max(w.box[3] for w in words)
    x0, y0, x1, y1 = to_page(left, top, right, bottom)
    size = x_size * getattr(to_page, "points_per_pixel", 1.0)
    lines.append(Line(text=" ".join(w.text for w in words), x0=x0, y0=y0, x1=x1, y1=y1, size=max(size, 0.1)))
    boxes.append(char_boxes(words, to_page))


def char_boxes(words: list[_Word], to_page) -> list[Box]:
    """One box per character of the words joined by single spaces.

    Tesseract gives word boxes only, so each word's box is shared out over its characters in equal
    widths; a space gets the gap between its two words. Good enough to highlight a quoted phrase on a scan.
    """
    out: list[Box] = []
    for i, w in enumerate(words):
        left, top, right, bottom = w.box
        if i:
            prev = words[i - 1].box
            out.append(to_page(prev[2], min(prev[1], top), max(left, prev[2]), max(prev[3], bottom)))
        step = (right - left) / len(w.text)
        out.extend(to_page(left + k * step, top, left + (k + 1) * step, bottom) for k in range(len(w.text)))
    return out


# --- which pages, within which limits --------------------------------------------------------------------------


def layer_quality(page: RawPage) -> float | None:
    """The text-quality score of a page's text layer as read (see ``normalise.text_quality``)."""
    return text_quality(" ".join(line.text for line in page.lines))


def needs_ocr(page: RawPage, settings: ParsingSettings) -> bool:
    """A page without a usable text layer: a scan (few characters, something drawn) or a garbled invisible OCR layer."""
    if page.chars < settings.min_chars_per_page:
        return bool(page.drawn)
    if page.invisible_text:
        q = layer_quality(page)
        return q is None or q < GARBLED_LAYER
    return False


def read_scanned_pages(pdf, pages: list[RawPage], *, settings: ParsingSettings, started: float) -> None:
    """OCR the pages that need it, in page order, within the page and time limits; update them in place.

    Each page gets ``ocr`` (what OCR read) or ``ocr_unread`` (why not: "off", "unavailable", "page_limit",
    "time_limit"). A page without a text layer takes the OCR lines; a garbled invisible layer is replaced
    only when the OCR text scores better. OCR stops once ``ocr_max_pages`` pages were read or
    ``OCR_TIME_SHARE`` of ``timeout_s`` since ``started`` is spent, so a 500-page scan ends in time.
    """
    wanted = [p for p in pages if needs_ocr(p, settings)]
    if not wanted:
        return
    for p in wanted:
        if p.invisible_text and p.chars >= settings.min_chars_per_page:
            p.layer_quality = layer_quality(p)
    reason = "off" if not settings.ocr else "unavailable" if engine_problem() else None
    deadline = started + OCR_TIME_SHARE * settings.timeout_s
    done = 0
    for p in wanted:
        left = deadline - time.monotonic()
        if reason is None and done >= settings.ocr_max_pages:
            reason = "page_limit"
        elif reason is None and left < min(MIN_PAGE_SECONDS, settings.ocr_timeout_s):
            reason = "time_limit"
        if reason is not None:
            p.ocr_unread = reason
            continue
        page = pdf[p.number - 1]
        try:
            result = ocr_page(page, timeout_s=min(settings.ocr_timeout_s, left))
        finally:
            page.close()
        done += 1
        if result.status == "timeout" and left < settings.ocr_timeout_s:
            p.ocr_unread = "time_limit"  # stopped by the document's limit, not the page's
            reason = "time_limit"
        p.ocr = result
        _use(p, result, has_layer=p.chars >= settings.min_chars_per_page)


def _use(page: RawPage, result: OcrPage, *, has_layer: bool) -> None:
    """Give the page the OCR lines when it has no text layer, or when they score better than its garbled one."""
    if result.status != "read":
        return
    if not has_layer:
        result.used = True
    else:
        q = text_quality(" ".join(line.text for line in result.lines))
        result.used = q is not None and (page.layer_quality is None or q > page.layer_quality)
    if result.used:
        page.lines = result.lines
        page.char_boxes = result.char_boxes


def text_boxes(page: RawPage, page_text: str) -> list[tuple[int, int, tuple[float, float, float, float], list[float]]]:
    """Where each OCR'd line of ``page`` lies in its laid-out text: (start, end, line box, character x-edges).

    Lines are found in reading order from where the last one ended (layout keeps a line's words as OCR read them);
    a line that cannot be found verbatim (its text rejoined across a hyphen, or normalised) is left without a box.
    """
    if not page.char_boxes:
        return []
    out = []
    cursor = 0
    for line, boxes in zip(page.lines, page.char_boxes):
        text = line.text.strip()
        if not text or len(boxes) != len(line.text):
            continue
        at = page_text.find(text, cursor)
        if at < 0:
            at = page_text.find(text)  # a line the layout moved (another column)
            if at < 0:
                continue
        else:
            cursor = at + len(text)
        lead = len(line.text) - len(line.text.lstrip())
        chars = boxes[lead : lead + len(text)]
        edges = [b[0] for b in chars] + [chars[-1][2]]
        out.append((at, at + len(text), (line.x0, line.y0, line.x1, line.y1), edges))
    return out


# --- what the pipeline tells the user --------------------------------------------------------------------------


def ocr_warnings(pages: list[RawPage], settings: ParsingSettings) -> list[str]:
    """Warnings about pages without a text layer (read by OCR or not, grouped by outcome) and about low OCR confidence."""
    no_layer = [p for p in pages if p.chars < settings.min_chars_per_page and p.drawn != 0]
    groups: dict[str, list[int]] = {}
    for p in no_layer:
        groups.setdefault(_outcome(p), []).append(p.number)
    warnings = []
    for outcome, numbers in groups.items():
        if outcome == "off":  # the message of the days before OCR, one a page
            warnings.extend(f"page {n} has no text layer (scanned image); its content is missing unless the file is OCR'd" for n in numbers)
            continue
        many = len(numbers) > 1
        warnings.append(f"{_pages(numbers)} no text layer (scanned image{'s' if many else ''}); {_outcome_text(outcome, settings, many)}")
    for p in no_layer:
        if p.ocr is not None and p.ocr.status == "failed":
            warnings.append(f"page {p.number}: {p.ocr.detail}")
    for p in pages:
        r = p.ocr
        if r is not None and r.used and r.confidence is not None and r.confidence < settings.ocr_min_confidence:
            warnings.append(f"page {p.number}: OCR read the scanned image with low confidence (mean word confidence {r.confidence:.0%}, "
                            f"under {settings.ocr_min_confidence:.0%}); check its text against the page image before relying on it")
    return warnings


def ocr_metadata(pages: list[RawPage]) -> dict[str, str]:
    """``ocr_pages`` and ``ocr_seconds`` (render and OCR, all pages) for Document.metadata, when OCR ran; for `vbp bench`."""
    ran = [p.ocr for p in pages if p.ocr is not None]
    if not ran:
        return {}
    return {"ocr_pages": str(len(ran)), "ocr_seconds": f"{sum(r.seconds for r in ran):.3f}", "ocr_engine": ENGINE}


def layer_note(page: RawPage) -> str:
    """What became of a garbled invisible OCR layer, to end the pipeline's warning about it."""
    r = page.ocr
    if r is None:
        return {
            "unavailable": f"; it could not be re-read: {engine_problem() or 'the OCR engine is not installed'} ({INSTALL_HINT})",
            "page_limit": "; it was not re-read by OCR: the OCR page limit was reached (VBP_PARSING__OCR_MAX_PAGES)",
            "time_limit": "; it was not re-read by OCR: the parse time limit was reached (VBP_PARSING__TIMEOUT_S)",
        }.get(page.ocr_unread or "", "; re-run OCR or check the text before relying on it")
    if r.used:
        return f"; it was re-read by OCR from the page image (mean word confidence {r.confidence:.0%}) and that text is used instead"
    if r.status == "read":
        return "; it was re-read by OCR, which read no better, so the layer was kept: check the text before relying on it"
    what = f"stopped at the {r.limit_s:g} s time limit" if r.status == "timeout" else r.detail or "no text found"
    return f"; re-reading it by OCR did not succeed ({what}), so the layer was kept: check the text before relying on it"


def _outcome(p: RawPage) -> str:
    if p.ocr_unread is not None:
        return p.ocr_unread
    return "off" if p.ocr is None else p.ocr.status


def _outcome_text(outcome: str, settings: ParsingSettings, many: bool) -> str:
    its, it = ("their", "they were") if many else ("its", "it was")
    return {
        "read": f"{its} text was read by OCR",
        "empty": f"OCR found no text on {'them' if many else 'it'}",
        "timeout": f"OCR stopped at the {settings.ocr_timeout_s:g} s per-page limit (VBP_PARSING__OCR_TIMEOUT_S), "
                   f"so {its} content is missing",
        "failed": f"OCR failed (said below), so {its} content is missing",
        "unavailable": f"{engine_problem() or 'the OCR engine is not installed'}, so {its} content is missing ({INSTALL_HINT})",
        "page_limit": f"{it} not OCR'd: OCR stops after {settings.ocr_max_pages} pages of a document (raise VBP_PARSING__OCR_MAX_PAGES), "
                      f"so {its} content is missing",
        "time_limit": f"{it} not OCR'd in time: OCR of a document stops within the {settings.timeout_s:g} s parse limit "
                      f"(raise VBP_PARSING__TIMEOUT_S), so {its} content is missing",
    }[outcome]


def _pages(numbers: list[int]) -> str:
    """ "page 3 has" / "pages 1-4, 7 have": runs of consecutive pages written as ranges."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    text = ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
    return f"page {text} has" if len(numbers) == 1 else f"pages {text} have"
