"""Plain-text and Markdown reading: lines become blocks just as PDF rows do.

Markdown tables come in two shapes: pipe tables ('| a | b |') and Pandoc's space-aligned tables, whose columns are
told by a rule line of dash groups ('------  -----  -----'). A space-aligned table is rewritten as one line per row with
its cells joined by tabs (the shape a PDF table row has), so that collapsing spaces cannot merge its columns; rule
and border lines go, and a multiline table's row, wrapped over several lines, becomes one line.
"""

from __future__ import annotations

import re
import unicodedata

from extractor.parsing.assemble import KNOWN_HEADING, PAGE_SEP, Block
from extractor.parsing.normalise import collapse_spaces, normalise_chars

_MD_HEADING = re.compile(r"^(#{1,6})\s+\S")
_MD_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_COLUMN_RULE = re.compile(r"^ *-{3,}(?: +-{3,})+ *$")
"""A Pandoc table's column rule: one run of dashes per column."""
_BORDER = re.compile(r"^ *-{3,} *$")
"""A multiline table's top or bottom border (one run of dashes)."""
_CHUNK = re.compile(r"\S+(?: \S+)*")
"""A cell's text in a space-aligned line: words separated by single spaces (cells are two or more spaces apart)."""
TAB = "\t"


def decode(data: bytes) -> tuple[str, list[str]]:
    """Decode text bytes as UTF-8, falling back to Windows-1252 with a warning."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), ["the file is not valid UTF-8; it was read as Windows-1252"]


def _cells(lines: list[str], columns: list[tuple[int, int]]) -> list[str]:
    """The cells of one table row (one or more lines): each chunk of text goes to the column it overlaps most."""
    parts: list[list[str]] = [[] for _ in columns]
    for line in lines:
        chunks = list(_CHUNK.finditer(line))
        if len(chunks) == len(columns):  # one chunk per column: in order, however a wrapped header drifts
            for part, m in zip(parts, chunks):
                part.append(m.group(0))
            continue
        for m in chunks:
            s, e = m.span()
            overlap = [min(e, ce) - max(s, cs) for cs, ce in columns]
            best = max(range(len(columns)), key=lambda k: (overlap[k], -abs(s - columns[k][0])))
            if overlap[best] <= 0:  # in a gap: the nearest column
                best = min(range(len(columns)), key=lambda k: min(abs(s - columns[k][1]), abs(columns[k][0] - e)))
            parts[best].append(m.group(0))
    return [collapse_spaces(" ".join(p)) for p in parts]


def _indented(line: str) -> bool:
    return line.startswith(" ") and bool(line.strip())


def space_aligned_tables(lines: list[str]) -> dict[int, tuple[int, list[list[str]], str]]:
    """Pandoc's space-aligned tables among ``lines``: first line -> (lines it covers, its rows as cell lists, the text
    that follows the table on its last line, if any).

    The header is the indented lines just above the column rule (after a top border, if any); the body runs to the
    bottom border, or, in a table with no top border, to the first line that is not indented. In a table with a top
    border (a multiline table) rows are separated by blank lines; otherwise each line is a row.
    """
    found: dict[int, tuple[int, list[list[str]], str]] = {}
    i, done = 0, 0
    while i < len(lines):
        if not _COLUMN_RULE.match(lines[i]) or i < done:
            i += 1
            continue
        columns = [m.span() for m in re.finditer(r"-{3,}", lines[i])]
        top = i
        while top - 1 >= done and top > i - 5 and _indented(lines[top - 1]) and not _BORDER.match(lines[top - 1]):
            top -= 1
        bordered = top - 1 >= done and bool(_BORDER.match(lines[top - 1]))
        header = lines[top:i]
        start = top - 1 if bordered else top
        rows: list[list[str]] = []
        if header:
            rows.append(_cells(header, columns))
        block: list[str] = []
        tail = ""
        j = i + 1
        while j < len(lines):
            line = lines[j]
            fence = line.find("::::")
            if fence > 0 and line[:fence].strip():  # '  9 (39)::::  Box 1 describes…': the table ends mid-line
                line, tail = line[:fence], line[fence:]
            if _BORDER.match(line) or _COLUMN_RULE.match(line):
                j += 1
                break
            if not line.strip():
                if block and bordered:
                    rows.append(_cells(block, columns))
                    block = []
                nxt = next((x for x in lines[j + 1 :] if x.strip()), "")
                if not bordered and not (_indented(nxt) and not _BORDER.match(nxt)):
                    break
                j += 1
                continue
            if not _indented(line):
                break
            if bordered:
                block.append(line)
            else:
                rows.append(_cells([line], columns))
            j += 1
            if tail:
                break
        if block:
            rows.append(_cells(block, columns))
        rows = [r for r in rows if any(r)]
        if len(rows) >= 2:
            found[start] = (j - start, rows, tail)
        done = j
        i = j
    return found


def _markdown_page(page: str) -> tuple[str, set[int]]:
    """A Markdown page with its space-aligned tables rewritten as tab-separated rows; the indices of those row lines."""
    lines = page.split("\n")
    tables = space_aligned_tables(lines)
    out: list[str] = []
    rows_at: set[int] = set()
    i = 0
    while i < len(lines):
        if i in tables:
            length, rows, tail = tables[i]
            for cells in rows:
                rows_at.add(len(out))
                out.append(TAB.join(cells))
            if tail:
                out.append(collapse_spaces(tail))
            i += length
            continue
        out.append(collapse_spaces(lines[i]))
        i += 1
    # the same trimming as normalise_text, keeping the row indices in step with the lines
    while out and not out[0]:
        out.pop(0)
        rows_at = {r - 1 for r in rows_at}
    while out and not out[-1]:
        out.pop()
    return "\n".join(out), rows_at


def read_text(raw: str, *, markdown: bool) -> tuple[list[str], list[Block]]:
    """Split normalised text into pages (form feeds) and blocks (headings, paragraphs, table rows).

    Returns:
        The page texts and the blocks, with offsets into the pages joined by ``PAGE_SEP``.
    """
    pages: list[str] = []
    table_rows: list[set[int]] = []
    for p in raw.split("\f"):
        text = normalise_chars(unicodedata.normalize("NFC", p))
        if markdown:
            text, rows_at = _markdown_page(text)
        else:
            text, rows_at = "\n".join(collapse_spaces(line) for line in text.split("\n")).strip("\n"), set()
        if text.strip():
            pages.append(text)
            table_rows.append(rows_at)
    if not pages:
        pages, table_rows = [""], [set()]
    blocks: list[Block] = []
    offset = 0
    for number, (page, rows_at) in enumerate(zip(pages, table_rows), start=1):
        pos = 0
        para: tuple[int, int] | None = None
        for index, line in enumerate(page.split("\n")):
            start, end = pos, pos + len(line)
            pos = end + 1
            stripped = line.strip()
            kind = None
            if not stripped:
                kind = "blank"
            elif index in rows_at:
                kind = "table_row"
            elif markdown and _MD_HEADING.match(stripped):
                kind = "heading"
            elif markdown and stripped.startswith("|") and _MD_TABLE_RULE.match(stripped):
                kind = "blank"
            elif markdown and stripped.startswith("|"):
                kind = "table_row"
            elif KNOWN_HEADING.match(stripped):
                kind = "heading"
            if kind is None:
                para = (para[0], end) if para else (start, end)
                continue
            if para:
                blocks.append(Block("para", number, offset + para[0], offset + para[1]))
                para = None
            if kind == "heading":
                level = len(stripped) - len(stripped.lstrip("#")) if stripped.startswith("#") else 1
                blocks.append(Block("heading", number, offset + start, offset + end, size=20.0 - level, bold=True))
            elif kind == "table_row":
                count = line.count(TAB) + 1 if index in rows_at else stripped.strip("|").count("|") + 1
                blocks.append(Block("table_row", number, offset + start, offset + end, cells=count))
        if para:
            blocks.append(Block("para", number, offset + para[0], offset + para[1]))
        offset += len(page) + len(PAGE_SEP)
    return pages, blocks
