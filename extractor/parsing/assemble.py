"""Turn ordered rows into page texts and blocks (headings, paragraphs, table rows) with offsets."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from extractor.parsing.layout import Row, body_size, find_running_lines, line_pitch, reading_order
from extractor.parsing.normalise import collapse_spaces, join_hyphenated, normalise_chars
from extractor.parsing.pdf import RawPage

PAGE_SEP = "\n\n"

KNOWN_HEADING = re.compile(
    r"^(?:\d{1,2}(?:\.\d{1,2})*\.?\s+)?"
    r"(abstract|summary|background|introduction|methods?|materials and methods|patients and methods|"
    r"methods and materials|study design|results?|findings|discussion|conclusions?|interpretation|"
    r"references|bibliography|literature cited|acknowledge?ments?|funding|competing interests|"
    r"conflicts? of interest|declaration of interests|limitations|executive summary|"
    r"research in context|additional files?|abbreviations|author contributions|supplementary material|"
    r"research design and methods|objectives?|supporting (?:documents|evidence)|evidence sources)"
    r"\s*:?$",
    re.IGNORECASE,
)


_BULLET = re.compile(r"^\s*([•◦▪▸►‣∙●○■□])[\t ]|^\s*([–*-])\t")

# An upper-case section name running into the first sentence of its paragraph.
RUN_IN_HEADING = re.compile(
    r"^((?:RESEARCH DESIGN AND |MATERIALS AND |PATIENTS AND )?METHODS|BACKGROUND|OBJECTIVES?|RESULTS|CONCLUSIONS?|"
    r"INTRODUCTION|DISCUSSION|ABSTRACT|SUMMARY)\s+(?=[A-Z][a-z])"
)


@dataclass(slots=True)
class Block:
    """A heading, a paragraph or a table row, located in the document text."""

    kind: str  # "heading" | "para" | "table_row"
    page: int
    start: int
    end: int
    size: float = 10.0
    bold: bool = False
    cells: int = 1
    header: bool = False  # a table row the source itself marks as column labels (Word's header row, a sheet's text row)


@dataclass(slots=True)
class Assembled:
    page_texts: list[str]
    blocks: list[Block]  # offsets into the full text (pages joined with PAGE_SEP)
    columns: list[int]
    body_size: float


_WORDS = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:-[A-Za-z\u00c0-\u024f]+)*")


def _vocabulary(rows: list[Row]) -> Counter[str]:
    vocab: Counter[str] = Counter()
    for row in rows:
        for word in _WORDS.findall(row.text):
            word = word.lower()
            vocab[word] += 1
            if "-" in word:
                vocab.update(word.split("-"))
    return vocab


def is_heading(row: Row, body: float) -> bool:
    """A short line set larger or bolder than running text, or a known section name on its own."""
    text = row.text.strip()
    if not text or row.is_table_row or len(text) > 110 or not re.search(r"[A-Za-z]{2}", text):
        return False
    if KNOWN_HEADING.match(text):
        return True
    words = text.split()
    if len(words) > 14 or text[0].islower() or text.endswith((",", ";")):
        return False
    if text.endswith(".") and len(words) > 6:
        return False
    if re.match(r"^(table|figure|fig\.)\s*\d", text, re.IGNORECASE):
        return False
    return row.size >= body * 1.15 or (row.bold and row.size >= body * 0.95)


def assemble(raw_pages: list[RawPage]) -> Assembled:
    """Order, clean and join the lines of every page, recording blocks with their offsets."""
    drops = find_running_lines([(p.lines, p.height) for p in raw_pages])
    page_rows: list[list[Row]] = []
    columns: list[int] = []
    for page, drop in zip(raw_pages, drops):
        kept = [ln for i, ln in enumerate(page.lines) if i not in drop]
        for ln in kept:
            ln.text = collapse_spaces(normalise_chars(ln.text))
        kept = [ln for ln in kept if ln.text]
        rows, ncols = reading_order(kept, page.width)
        page_rows.append([r for r in rows if r.text.strip()])
        columns.append(ncols)
    all_rows = [r for rows in page_rows for r in rows]
    vocab = _vocabulary(all_rows)
    body = body_size(all_rows)
    pitch = line_pitch(all_rows)

    page_texts: list[str] = []
    blocks: list[Block] = []
    offset = 0
    for number, rows in enumerate(page_rows, start=1):
        text, page_blocks = _assemble_page(rows, number, body, pitch, vocab)
        for b in page_blocks:
            b.start += offset
            b.end += offset
        blocks.extend(page_blocks)
        page_texts.append(text)
        offset += len(text) + len(PAGE_SEP)
    return Assembled(page_texts=page_texts, blocks=blocks, columns=columns, body_size=body)


def _assemble_page(rows: list[Row], number: int, body: float, pitch: float, vocab: Counter[str]) -> tuple[str, list[Block]]:
    for row in rows:
        if _BULLET.match(row.text):  # "•<gap>text" is a list item, not a two-cell table row
            row.text = _BULLET.sub(lambda m: (m.group(1) or m.group(2)) + " ", row.text, count=1)
            row.cells = row.text.count("\t") + 1
            row.extra["bullet"] = True
    kinds = ["table_row" if r.is_table_row else "heading" if is_heading(r, body) else "para" for r in rows]
    for i in range(1, len(rows)):  # the second line of a heading may start in lower case
        prev_row, row = rows[i - 1], rows[i]
        if (kinds[i] == "para" and kinds[i - 1] == "heading" and abs(row.size - prev_row.size) < 0.5
                and row.size >= body * 1.15 and len(row.text) < 110):
            kinds[i] = "heading"
    parts: list[str] = []  # texts, with separators as their own items
    blocks: list[Block] = []
    pos = 0
    prev: Row | None = None
    prev_kind = ""
    for row, kind in zip(rows, kinds):
        text = row.text.strip()
        if prev is not None:
            glue = _glue(prev, prev_kind, row, kind, pitch)
            if glue != "\n" and parts:
                left = parts[-1]
                if prev.hyphen_break and not left.endswith("-"):
                    left += "-"  # pdfium replaced the visible hyphen by a marker
                if left.endswith("-"):
                    joined = join_hyphenated(left, text, vocab)
                    if joined is not None or left != parts[-1]:
                        new_left, glue = joined if joined is not None else (left, "")
                        delta = len(new_left) - len(parts[-1])
                        parts[-1] = new_left
                        pos += delta
                        blocks[-1].end += delta
            parts.append(glue)
            pos += len(glue)
            if glue != "\n" and kind == prev_kind:
                parts.append(text)
                pos += len(text)
                blocks[-1].end = pos
                prev = row
                continue
        parts.append(text)
        run_in = RUN_IN_HEADING.match(text) if kind == "para" else None
        if run_in:  # "RESEARCH DESIGN AND METHODS This prospective study…"
            blocks.append(Block("heading", number, pos, pos + len(run_in.group(1)), row.size, True))
            blocks.append(Block(kind, number, pos + run_in.end(), pos + len(text), row.size, row.bold, row.cells))
        else:
            blocks.append(Block(kind, number, pos, pos + len(text), row.size, row.bold, row.cells))
        pos += len(text)
        prev, prev_kind = row, kind
    return "".join(parts), blocks


def _glue(prev: Row, prev_kind: str, row: Row, kind: str, pitch: float) -> str:
    """What separates two consecutive rows: nothing special (a space) or a line break."""
    if kind == "table_row" or prev_kind == "table_row":
        return "\n"
    if kind == "heading" or prev_kind == "heading":
        if (kind == prev_kind == "heading" and abs(prev.size - row.size) < 0.5 and prev.column == row.column
                and prev.y0 - row.y1 < pitch and not KNOWN_HEADING.match(prev.text.strip())):
            return " "  # a heading set on two lines
        return "\n"
    if row.extra.get("bullet"):
        return "\n"  # every list item starts a paragraph of its own
    if prev.column != row.column:
        # a paragraph runs on from the foot of one column to the head of the next
        return "\n" if prev.text.rstrip().endswith((".", ":", "?", "!")) else " "
    if prev.y0 - row.y0 > 1.6 * pitch or row.y1 > prev.y1:
        return "\n"
    if row.x0 > prev.x0 + max(row.size, 6) and prev.text.rstrip().endswith((".", ":", "?", "!")):
        return "\n"  # first-line indent of a new paragraph
    return " "
