"""Word (.docx, .docm) reading: the body's paragraphs, lists and tables in order, as blocks with locations.

The document's XML is walked directly (python-docx opens the package and resolves styles), because its
``Paragraph.text`` skips text inside tracked insertions and inside content controls. Tracked changes are resolved to
the final text (insertions kept, deletions and moved-from text dropped); footnotes, endnotes and comments are left
out and counted in a warning; text boxes follow the paragraph that anchors them; embedded images are counted.

Word keeps no fixed pages. Where Word saved its last layout (``w:lastRenderedPageBreak``) those breaks give the
pages; otherwise explicit page breaks and next-page section breaks do. Every paragraph and table cell also gets a
location ("Clinical outcomes, paragraph 2", "Table 1, row 3, cell 2") that a reviewer can find without pages.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from io import BytesIO

from lxml import etree

from extractor.errors import EmptyFileError, LimitExceededError
from extractor.parsing.assemble import PAGE_SEP, Block
from extractor.parsing.normalise import collapse_spaces, normalise_chars
from extractor.schema import Location, Span
from extractor.settings import ParsingSettings

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_DROPPED = {W + "del", W + "moveFrom", _MC_FALLBACK, W + "txbxContent"}  # deleted, moved away, duplicate, text box
_IMAGE_TAGS = (
    "{http://schemas.openxmlformats.org/drawingml/2006/main}blip",
    "{urn:schemas-microsoft-com:vml}imagedata",
)
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
_BULLET_FORMATS = {"bullet", "none"}


@dataclass(slots=True)
class WordPages:
    """What the Word reader gives the common build."""

    page_texts: list[str]
    blocks: list[Block]
    locations: list[Location]
    warnings: list[str]
    metadata: dict[str, str] = field(default_factory=dict)


class _Writer:
    """Collects lines into pages, with blocks and locations at their offsets in the joined text."""

    def __init__(self) -> None:
        self.pages: list[list[str]] = [[]]
        self.page_start = 0  # offset of the current page in the full text
        self.pos = 0  # offset within the current page
        self.blocks: list[Block] = []
        self.locations: list[Location] = []
        self.pending_break = False

    @property
    def page(self) -> int:
        return len(self.pages)

    def new_page(self) -> None:
        if not self.pages[-1]:
            return  # a break before any text of the page starts nothing new
        self.page_start += self.pos - 1 + len(PAGE_SEP)  # the page's last "\n" is not part of its text
        self.pages.append([])
        self.pos = 0

    def line(self, text: str) -> int:
        """Append one line; returns its offset in the full text."""
        if self.pending_break:
            self.new_page()
            self.pending_break = False
        start = self.page_start + self.pos
        self.pages[-1].append(text)
        self.pos += len(text) + 1
        return start

    def texts(self) -> list[str]:
        return ["\n".join(lines) for lines in self.pages]


def read_word(data: bytes, name: str, settings: ParsingSettings, started: float) -> WordPages:
    """Read a .docx (or a .docm whose macros were set aside) from its bytes.

    Raises:
        LimitExceededError: the document takes longer than ``settings.timeout_s`` to read.
    """
    import docx  # python-docx: only Word files need it

    document = docx.Document(BytesIO(data))
    body = document.element.body
    numbering = _Numbering(document)
    styles = _Styles(document)
    rendered = any(True for _ in body.iter(W + "lastRenderedPageBreak"))
    out = _Writer()
    state = {"section": "", "para": 0, "table": 0, "images": 0}
    for element in _body_items(body):
        if time.monotonic() - started > settings.timeout_s:
            raise LimitExceededError(name, f"reading the document took over {settings.timeout_s:g} s.",
                                     hint="Split the document, or raise VBP_PARSING__TIMEOUT_S.")
        if element.tag == W + "p":
            _paragraph(element, out, styles, numbering, rendered, state)
        elif element.tag == W + "tbl":
            _table(element, out, state)
    state["images"] = sum(1 for tag in _IMAGE_TAGS for _ in document.element.iter(tag))
    state["images"] += _header_footer_images(document)
    warnings = _warnings(document, state)
    texts = out.texts()
    if not any(t.strip() for t in texts):
        raise EmptyFileError(name, "the Word document holds no text" + (f" (only {state['images']} image(s))" if state["images"] else "") + ".",
                             hint="Check that this is the right file; a scanned letter pasted into Word needs OCR as a PDF.")
    props = document.core_properties
    metadata = {k: str(v) for k, v in (("title", props.title), ("author", props.author), ("created", props.created)) if v}
    return WordPages(texts, out.blocks, out.locations, warnings, metadata)


def _body_items(body):
    """Paragraphs and tables of the body in order, looking inside content controls (``w:sdt``)."""
    for child in body.iterchildren():
        if child.tag in (W + "p", W + "tbl"):
            yield child
        elif child.tag == W + "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                yield from _body_items(content)


def _text(element) -> tuple[str, bool, bool]:
    """The final text of a paragraph (or cell paragraph), whether it ends in a page break, whether one comes first.

    Returns:
        (text, page break after, rendered page break before any text).
    """
    parts: list[str] = []
    break_after = False
    rendered_before = False

    def walk(node) -> None:
        nonlocal break_after, rendered_before
        for child in node.iterchildren():
            tag = child.tag
            if not isinstance(tag, str) or tag in _DROPPED:
                continue
            if tag == W + "t":
                parts.append(child.text or "")
            elif tag in (W + "tab", W + "ptab"):
                parts.append(" ")
            elif tag in (W + "br", W + "cr"):
                if child.get(W + "type") == "page":
                    break_after = True
                else:
                    parts.append(" ")
            elif tag == W + "noBreakHyphen":
                parts.append("-")
            elif tag == W + "lastRenderedPageBreak":
                if not "".join(parts).strip():
                    rendered_before = True
            elif tag in (W + "instrText", W + "delText", W + "footnoteReference", W + "endnoteReference", W + "commentReference"):
                continue
            else:
                walk(child)

    walk(element)
    return collapse_spaces(normalise_chars("".join(parts))).strip(), break_after, rendered_before


def _paragraph(p, out: _Writer, styles: _Styles, numbering: _Numbering, rendered: bool, state: dict) -> None:
    text, break_after, rendered_before = _text(p)
    ppr = p.find(W + "pPr")
    style_id = _val(ppr, "pStyle") if ppr is not None else None
    if rendered and rendered_before:
        out.pending_break = True
    if ppr is not None and ppr.find(W + "pageBreakBefore") is not None and not rendered:
        out.pending_break = True
    level = styles.heading_level(style_id, ppr)
    if text:
        marker = numbering.marker(ppr, styles.numbering(style_id))
        if marker and level is None:
            text = f"{marker} {text}"
        start = out.line(text)
        span = Span(start=start, end=start + len(text))
        if level is not None:
            out.blocks.append(Block("heading", out.page, span.start, span.end, size=20.0 - level, bold=True))
            state["section"], state["para"] = text[:80], 0
            out.locations.append(Location(span=span, page=out.page, label=f"heading '{text[:80]}'"))
        else:
            state["para"] += 1
            out.blocks.append(Block("para", out.page, span.start, span.end))
            where = f"{state['section']}, paragraph {state['para']}" if state["section"] else f"paragraph {state['para']}"
            out.locations.append(Location(span=span, page=out.page, label=where))
    for box in p.iter(W + "txbxContent"):  # a text box's paragraphs, after the one that anchors it
        if any(a.tag == _MC_FALLBACK for a in box.iterancestors()):
            continue  # the same box again, in the fallback drawing for old readers
        for inner in box.iter(W + "p"):
            inner_text, _, _ = _text(inner)
            if inner_text:
                start = out.line(inner_text)
                out.blocks.append(Block("para", out.page, start, start + len(inner_text)))
                out.locations.append(Location(span=Span(start=start, end=start + len(inner_text)), page=out.page,
                                              label=f"text box after {state['section'] or 'the start'}, paragraph {state['para']}"))
    sect = ppr.find(W + "sectPr") if ppr is not None else None
    if (break_after or (sect is not None and _val(sect, "type") in (None, "nextPage", "oddPage", "evenPage"))) and not rendered:
        out.pending_break = True


def _table(tbl, out: _Writer, state: dict) -> None:
    """A table row by row: cells joined by tabs (as PDF table rows are), a location for the row and each cell."""
    state["table"] += 1
    number = state["table"]
    for r, tr in enumerate(tbl.iterchildren(W + "tr"), start=1):
        cells: list[str] = []
        for tc in tr.iterchildren(W + "tc"):
            span_count = int(_val(tc.find(W + "tcPr"), "gridSpan") or 1) if tc.find(W + "tcPr") is not None else 1
            pieces = [_text(cp)[0] for cp in tc.iter(W + "p")]
            cells.append(collapse_spaces(" ".join(x for x in pieces if x)).replace("\t", " "))
            cells.extend([""] * (span_count - 1))  # a merged cell keeps the columns after it aligned
        while cells and not cells[-1]:
            cells.pop()
        if not any(cells):
            continue
        line = "\t".join(cells)
        start = out.line(line)
        trpr = tr.find(W + "trPr")
        marked = trpr is not None and trpr.find(W + "tblHeader") is not None  # "repeat as header row"
        out.blocks.append(Block("table_row", out.page, start, start + len(line), cells=len(cells), header=marked))
        out.locations.append(Location(span=Span(start=start, end=start + len(line)), page=out.page, label=f"Table {number}, row {r}"))
        offset = start
        for c, cell in enumerate(cells, start=1):
            if cell:
                out.locations.append(Location(span=Span(start=offset, end=offset + len(cell)), page=out.page,
                                              label=f"Table {number}, row {r}, cell {c}"))
            offset += len(cell) + 1


def _val(parent, tag: str) -> str | None:
    if parent is None:
        return None
    child = parent.find(W + tag)
    return child.get(W + "val") if child is not None else None


class _Styles:
    """Heading levels and list numbering of paragraph styles, following ``basedOn``."""

    def __init__(self, document) -> None:
        self._by_id = {}
        try:
            for style in document.styles.element.iterchildren(W + "style"):
                self._by_id[style.get(W + "styleId")] = style
        except (AttributeError, KeyError):  # a package without styles
            pass

    def _chain(self, style_id: str | None):
        seen = set()
        while style_id and style_id in self._by_id and style_id not in seen:
            seen.add(style_id)
            style = self._by_id[style_id]
            yield style
            style_id = _val(style, "basedOn")

    def heading_level(self, style_id: str | None, ppr) -> int | None:
        outline = _val(ppr, "outlineLvl") if ppr is not None else None
        for style in self._chain(style_id):
            name_el = style.find(W + "name")
            name = name_el.get(W + "val") if name_el is not None else ""
            if name.lower() == "title":
                return 1
            m = _HEADING_STYLE.match(name)
            if m:
                return int(m.group(1))
            if outline is None:
                spr = style.find(W + "pPr")
                outline = _val(spr, "outlineLvl") if spr is not None else None
        if outline is not None and outline.isdigit() and int(outline) < 9:
            return int(outline) + 1
        return None

    def numbering(self, style_id: str | None):
        for style in self._chain(style_id):
            spr = style.find(W + "pPr")
            if spr is not None and spr.find(W + "numPr") is not None:
                return spr.find(W + "numPr")
        return None


class _Numbering:
    """List markers as Word draws them: bullets as '•', numbers counted per list and level ('1.', 'a)')."""

    def __init__(self, document) -> None:
        self._formats: dict[tuple[str, int], tuple[str, str, int]] = {}
        self._counters: dict[tuple[str, int], int] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {a.get(W + "abstractNumId"): a for a in root.iterchildren(W + "abstractNum")}
        for num in root.iterchildren(W + "num"):
            a = abstract.get(_val(num, "abstractNumId"))
            if a is None:
                continue
            for lvl in a.iterchildren(W + "lvl"):
                ilvl = int(lvl.get(W + "ilvl") or 0)
                self._formats[(num.get(W + "numId"), ilvl)] = (
                    _val(lvl, "numFmt") or "decimal", _val(lvl, "lvlText") or "%1.", int(_val(lvl, "start") or 1))

    def marker(self, ppr, style_numpr) -> str | None:
        numpr = ppr.find(W + "numPr") if ppr is not None else None
        numpr = numpr if numpr is not None else style_numpr
        if numpr is None:
            return None
        num_id, ilvl = _val(numpr, "numId"), int(_val(numpr, "ilvl") or 0)
        if num_id in (None, "0"):
            return None
        fmt, template, start = self._formats.get((num_id, ilvl), ("bullet", "•", 1))
        if fmt in _BULLET_FORMATS:
            return "•"
        for deeper in [k for k in self._counters if k[0] == num_id and k[1] > ilvl]:
            del self._counters[deeper]  # a higher level restarts the levels below it
        n = self._counters.get((num_id, ilvl), start - 1) + 1
        self._counters[(num_id, ilvl)] = n
        return template.replace(f"%{ilvl + 1}", _format_number(n, fmt)).replace("%", "") or f"{n}."


def _format_number(n: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        s = chr(ord("a") + (n - 1) % 26)
        return s.upper() if fmt == "upperLetter" else s
    if fmt in ("lowerRoman", "upperRoman"):
        s = _roman(n)
        return s if fmt == "upperRoman" else s.lower()
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
                           (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def _header_footer_images(document) -> int:
    count = 0
    for section in document.sections:
        for part in (section.header, section.footer):
            try:
                if part.is_linked_to_previous:
                    continue
                element = part._element  # python-docx keeps the header's XML here; no public accessor
            except (AttributeError, ValueError):
                continue
            count += sum(1 for tag in _IMAGE_TAGS for _ in element.iter(tag))
    return count


def _warnings(document, state: dict) -> list[str]:
    """What was left out: footnotes, endnotes, comments and images, so that nothing is dropped silently."""
    warnings = []
    package = document.part.package
    counts = {"footnote": 0, "endnote": 0, "comment": 0}
    for part in package.iter_parts():
        uri = str(part.partname)
        for kind in counts:
            if uri.endswith(f"/{kind}s.xml"):
                root = etree.fromstring(part.blob, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
                # separator entries are Word's own lines above the notes, not the author's notes
                counts[kind] = sum(1 for e in root.iterchildren(W + kind) if e.get(W + "type") in (None, "normal"))
    for kind, n in counts.items():
        if n:
            warnings.append(f"{n} {kind}{'s' if n > 1 else ''} left out (only the body text is read)")
    if state["images"]:
        n = state["images"]
        warnings.append(f"{n} embedded image{'s' if n > 1 else ''} not read (text or figures in pictures are not extracted)")
    return warnings
