"""Per-page limits checked before the PDF library loads a page: decompressed size and operator count.

pdfium parses a page's whole content stream when the page is loaded, in C, where no Python time check
can stop it: a 20 KB page of two million operators takes it seconds and most of a GB, and the layout
code then spends tens of seconds on the million lines. A flate bomb inflates hundreds of MB. So before a
page is loaded its content streams (and the forms it draws) are inflated here with pypdf's stream
objects and zlib, stopping at the limit, and their operators are counted. Checking costs about a
millisecond a page on real papers.

The check is best effort: a file pypdf cannot walk (a damaged xref that pdfium repairs) is not checked
here, and is still bounded by the character, time and memory limits.
"""

from __future__ import annotations

import logging
import re
import zlib
from pathlib import Path

from extractor.errors import CompressionLimitError, too_complex
from extractor.settings import ParsingSettings

log = logging.getLogger(__name__)

# An operator is a short bare word between delimiters. Short words inside text strings count too, so
# this overestimates text-heavy pages (by under a factor of two on real papers), never underestimates.
_OPERATOR = re.compile(rb"(?<![\w/#.])[A-Za-z'\"*]{1,3}(?![\w#])")
_FLATE = {"/FlateDecode", "/Fl"}


class PageLimits:
    """Check pages of one PDF against the operator and content-size limits, before pdfium loads them.

    Args:
        path: The PDF file.
        password: Its password, if encrypted.
        settings: The limits.
        name: The file's name, for messages.
        page_count: pdfium's page count; pages are checked only when pypdf sees the same page tree.
    """

    def __init__(self, path: Path, *, password: str | None, settings: ParsingSettings, name: str, page_count: int) -> None:
        self.settings = settings
        self.name = name
        self._pages = None
        self._max_bytes = int(settings.max_page_content_mb * 1024 * 1024)
        try:
            from pypdf import PdfReader

            reader = PdfReader(str(path), strict=False)
            if reader.is_encrypted and not reader.decrypt(password or ""):
                return
            pages = reader.pages
            if len(pages) == page_count:
                self._pages = pages
        except Exception as e:  # noqa: BLE001 - pypdf cannot walk it: pdfium decides, under the other limits
            log.debug("%s: page limits not checked (%s: %s)", name, type(e).__name__, e)

    def check(self, index: int) -> None:
        """Raise when page ``index`` (0-based) is over a limit; do nothing when it cannot be checked.

        Raises:
            CompressionLimitError: its content inflates beyond ``max_page_content_mb``.
            TooComplexError: it has more operators than ``max_page_operators``.
        """
        if self._pages is None:
            return
        try:
            streams = _content_streams(self._pages[index])
        except Exception as e:  # noqa: BLE001
            log.debug("%s: page %d not checked (%s: %s)", self.name, index + 1, type(e).__name__, e)
            return
        total, operators = 0, 0
        for stream in streams:
            data = self._inflate(stream, self._max_bytes - total, index)
            total += len(data)
            operators += _count_operators(data, self.settings.max_page_operators - operators)
            if operators > self.settings.max_page_operators:
                raise too_complex(self.name, f"page {index + 1} has over {self.settings.max_page_operators:,} drawing operators",
                                  "max_page_operators")

    def _inflate(self, stream, budget: int, index: int) -> bytes:
        """The stream's decoded bytes, stopping one byte past ``budget`` (then raising)."""
        filters = stream.get("/Filter")
        filters = [filters] if not isinstance(filters, list) else list(filters)
        raw = stream._data  # the encoded bytes as stored in the file
        if not filters:
            data = raw
        elif len(filters) == 1 and str(filters[0]) in _FLATE:
            inflater = zlib.decompressobj()
            try:
                data = inflater.decompress(raw, budget + 1)
            except zlib.error:
                data = b""  # damaged: pdfium reads what it can; nothing here to count
        else:
            from pypdf.errors import LimitReachedError

            try:
                data = stream.get_data()
            except LimitReachedError as e:
                raise self._bomb(index, e) from e
            except Exception:  # noqa: BLE001 - a damaged stream: pdfium decides
                data = b""
        if len(data) > budget:
            raise self._bomb(index)
        return data

    def _bomb(self, index: int, original: BaseException | None = None) -> CompressionLimitError:
        limit = self.settings.max_page_content_mb
        return CompressionLimitError(
            self.name,
            f"page {index + 1}'s content inflates to more than {limit:g} MiB (a decompression bomb); it is not read.",
            hint="Do not OCR or open it: re-export the document as PDF from its source. If the file is trusted, raise "
                 "VBP_PARSING__MAX_PAGE_CONTENT_MB.",
            original=original,
        )


def _count_operators(data: bytes, room: int) -> int:
    """The operators in ``data`` (estimated), counted exactly only when a cheap upper bound exceeds ``room``."""
    # every operator ends at whitespace or a delimiter, so their number bounds the operators; C-speed
    bound = sum(map(data.count, (b" ", b"\n", b"\r", b"(", b"[", b"<", b"/"))) + 1
    return bound if bound <= room else len(_OPERATOR.findall(data))


def _content_streams(page) -> list:
    """The page's content streams and the form XObjects its resources name (one level deep)."""
    from pypdf.generic import ArrayObject, StreamObject

    out = []
    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    if isinstance(contents, ArrayObject):
        out += [c.get_object() for c in contents]
    elif contents is not None:
        out.append(contents)
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    if xobjects is not None:
        for ref in xobjects.get_object().values():
            obj = ref.get_object()
            if isinstance(obj, StreamObject) and obj.get("/Subtype") == "/Form":
                out.append(obj)
    seen, unique = set(), []
    for s in out:
        if isinstance(s, StreamObject) and id(s) not in seen:
            seen.add(id(s))
            unique.append(s)
    return unique
