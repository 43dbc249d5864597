"""Plain-text and Markdown reading: lines become blocks just as PDF rows do."""

from __future__ import annotations

import re

from extractor.parsing.assemble import KNOWN_HEADING, PAGE_SEP, Block
from extractor.parsing.normalise import normalise_text

_MD_HEADING = re.compile(r"^(#{1,6})\s+\S")
_MD_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def decode(data: bytes) -> tuple[str, list[str]]:
    """Decode text bytes as UTF-8, falling back to Windows-1252 with a warning."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), ["the file is not valid UTF-8; it was read as Windows-1252"]


def read_text(raw: str, *, markdown: bool) -> tuple[list[str], list[Block]]:
    """Split normalised text into pages (form feeds) and blocks (headings, paragraphs, table rows).

    Returns:
        The page texts and the blocks, with offsets into the pages joined by ``PAGE_SEP``.
    """
    pages = [normalise_text(p) for p in raw.split("\f")]
    pages = [p for p in pages if p.strip()] or [""]
    blocks: list[Block] = []
    offset = 0
    for number, page in enumerate(pages, start=1):
        pos = 0
        para: tuple[int, int] | None = None
        for line in page.split("\n"):
            start, end = pos, pos + len(line)
            pos = end + 1
            stripped = line.strip()
            kind = None
            if not stripped:
                kind = "blank"
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
                blocks.append(Block("table_row", number, offset + start, offset + end, cells=stripped.strip("|").count("|") + 1))
        if para:
            blocks.append(Block("para", number, offset + para[0], offset + para[1]))
        offset += len(page) + len(PAGE_SEP)
    return pages, blocks
