"""Render the project's demo corpus: every ``corpus/submissions/*.md`` and ``corpus/papers/*.md`` becomes a ``.pdf`` beside it.

The Markdown sources use a small subset: a front-matter block (``supplier:`` and ``title:`` lines
between ``---`` fences), ``#``/``##`` headings, paragraphs, ``- `` bullets, pipe tables (first row is
the header, the ``|---|`` line is skipped), ``1. `` numbered lists, ``**bold**`` and ``---`` on a line of
its own for a page break. Every page gets a
running header (supplier and document title) and a footer ("Commercial in confidence", "Page N of M"),
so that the parser's header and footer removal is exercised. A source may set its own running header, footer text,
author and PDF subject in its front matter (``header:``, ``footer:``, ``author:``, ``subject:``): the project's
fictional trial reports (``corpus/papers/``) do, so that they read as papers, not as supplier documents.

Text is set in Bitstream Vera (shipped with reportlab), embedded as a TrueType subset so that £, €, µ
and ± extract back as themselves. Rendering is deterministic (``invariant=1``): re-running gives the
same bytes. Run ``python -m eval.corpus_render [FILE.md ...]``.

``python -m eval.corpus_render --docx [FILE.md ...]`` writes a Word version (``.docx`` beside the source)
instead, with python-docx; with no files, it writes the Word files ``corpus/manifest.csv`` lists (each row's
``source``). Headings use Word's built-in Heading 1/2 styles under a Title paragraph (the front matter's
title, also the document's core-properties title), bullets "List Bullet", numbered lists "List Number",
pipe tables real tables with a bold, repeating header row, and ``---`` a real page break. The section
header carries a small generated logo (an embedded PNG image) with the supplier and title; the footer
"Commercial in confidence" and "Page N of M" fields. The output is deterministic: the core properties'
dates are fixed and the ZIP container is rewritten with fixed member dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
import zipfile
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SUBMISSIONS = CORPUS / "submissions"
PAPERS = CORPUS / "papers"
MARGIN = 20 * mm

pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
pdfmetrics.registerFont(TTFont("Vera-Bold", "VeraBd.ttf"))
pdfmetrics.registerFont(TTFont("Vera-Italic", "VeraIt.ttf"))
pdfmetrics.registerFont(TTFont("Vera-BoldItalic", "VeraBI.ttf"))
pdfmetrics.registerFontFamily("Vera", normal="Vera", bold="Vera-Bold", italic="Vera-Italic", boldItalic="Vera-BoldItalic")

BODY = ParagraphStyle("body", fontName="Vera", fontSize=10.5, leading=14.5, spaceAfter=6, alignment=TA_LEFT)
TITLE = ParagraphStyle("title", parent=BODY, fontName="Vera-Bold", fontSize=16, leading=20, spaceAfter=8,
                       textColor=colors.HexColor("#1f3a5f"))
H2 = ParagraphStyle("h2", parent=BODY, fontName="Vera-Bold", fontSize=12, leading=15, spaceBefore=8, spaceAfter=4,
                    textColor=colors.HexColor("#1f3a5f"))
BULLET = ParagraphStyle("bullet", parent=BODY, leftIndent=12, bulletIndent=2, spaceAfter=3)
NUMBERED = ParagraphStyle("numbered", parent=BODY, fontSize=8.5, leading=11, leftIndent=14, firstLineIndent=-14,
                          spaceAfter=3)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=9, leading=12, spaceAfter=0)
CELL_HEAD = ParagraphStyle("cellhead", parent=CELL, fontName="Vera-Bold")


def inline(text: str) -> str:
    """Escape text for reportlab's paragraph markup and turn ``**bold**`` into ``<b>``."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escape(text.strip()))


def parse(source: str) -> tuple[dict[str, str], list[tuple[str, object]]]:
    """Split a Markdown source into its front matter and a list of (block kind, content) pairs."""
    meta: dict[str, str] = {}
    lines = source.splitlines()
    if lines and lines[0].strip() == "---":
        end = lines.index("---", 1)
        for line in lines[1:end]:
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
        lines = lines[end + 1 :]
    blocks: list[tuple[str, object]] = []
    para: list[str] = []
    table: list[list[str]] = []
    in_item = False  # True while the lines that follow may continue a bullet or numbered item

    def flush() -> None:
        if para:
            blocks.append(("p", " ".join(para)))
            para.clear()
        if table:
            blocks.append(("table", [row[:] for row in table]))
            table.clear()

    for raw in lines:
        line = raw.strip()
        if line.startswith("|"):
            if para:
                flush()
            if not re.fullmatch(r"\|[\s:|-]+\|", line):
                table.append([cell.strip() for cell in line.strip("|").split("|")])
            continue
        if table:
            flush()
        if not line:
            flush()
            in_item = False
        elif line == "---":
            flush()
            blocks.append(("pagebreak", ""))
        elif line.startswith("## "):
            flush()
            blocks.append(("h2", line[3:]))
        elif line.startswith("# "):
            flush()
            blocks.append(("h1", line[2:]))
        elif line.startswith("- ") or re.match(r"\d+\. ", line):
            flush()
            blocks.append(("bullet", line[2:]) if line.startswith("- ") else ("numbered", line))
            in_item = True
        elif in_item:  # a continuation line of a bullet or numbered item
            kind, text = blocks[-1]
            blocks[-1] = (kind, f"{text} {line}")
        else:
            para.append(line)
    flush()
    return meta, blocks


def make_table(rows: list[list[str]], width: float) -> Table:
    """A grid table whose column widths follow the length of the longest cell in each column."""
    ncols = max(len(row) for row in rows)
    rows = [row + [""] * (ncols - len(row)) for row in rows]
    longest = [max(min(len(row[i]), 60) for row in rows) + 4 for i in range(ncols)]
    widths = [width * n / sum(longest) for n in longest]
    cells = [[Paragraph(inline(cell), CELL_HEAD if r == 0 else CELL) for cell in row] for r, row in enumerate(rows)]
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8899aa")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3eaf2")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def story(blocks: list[tuple[str, object]], width: float) -> list:
    """Turn parsed blocks into reportlab flowables."""
    flow: list = []
    for kind, content in blocks:
        if kind == "pagebreak":
            flow.append(PageBreak())
        elif kind == "h1":
            flow.append(Paragraph(inline(content), TITLE))
        elif kind == "h2":
            flow.append(Paragraph(inline(content), H2))
        elif kind == "bullet":
            flow.append(Paragraph(inline(content), BULLET, bulletText="•"))
        elif kind == "numbered":
            flow.append(Paragraph(inline(content), NUMBERED))
        elif kind == "table":
            flow.extend([Spacer(1, 3), make_table(content, width), Spacer(1, 8)])
        else:
            flow.append(Paragraph(inline(content), BODY))
    return flow


def build(blocks: list[tuple[str, object]], meta: dict[str, str], total: int, out) -> int:
    """Lay the document out once, writing to ``out``; return the number of pages used."""
    header = meta.get("header") or f"{meta.get('supplier', '')} — {meta.get('title', '')}"
    footer = meta.get("footer") or "Commercial in confidence"

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Vera", 7.5)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(MARGIN, A4[1] - 12 * mm, header)
        canvas.line(MARGIN, A4[1] - 13.5 * mm, A4[0] - MARGIN, A4[1] - 13.5 * mm)
        canvas.drawString(MARGIN, 10 * mm, footer)
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"Page {doc.page} of {total}")
        canvas.restoreState()

    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, title=meta.get("title", ""), author=meta.get("author") or meta.get("supplier", ""),
                            subject=meta.get("subject") or "Supplier submission (fictional demo document)",
                            creator="vbp-evidence corpus_render",
                            invariant=1)
    doc.build(story(blocks, doc.width), onFirstPage=decorate, onLaterPages=decorate)
    return doc.page


def render(md_path: Path) -> Path:
    """Render one Markdown submission (or fictional trial report) to a PDF beside it and return the PDF's path."""
    meta, blocks = parse(md_path.read_text(encoding="utf-8"))
    pages = build(blocks, meta, 0, BytesIO())  # first pass: count the pages
    pdf_path = md_path.with_suffix(".pdf")
    with pdf_path.open("wb") as fh:
        if build(blocks, meta, pages, fh) != pages:
            raise RuntimeError(f"{md_path.name}: page count changed between passes")
    return pdf_path


# --- Word ------------------------------------------------------------------------------------------------------------

DOCX_DATE = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.timezone.utc)  # the Word files' fixed created/modified date
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # every ZIP member's date, so that re-rendering gives the same bytes


def logo_png(name: str) -> bytes:
    """A small logo for ``name``: coloured bars on a band, drawn with Pillow (shapes only, no font), as PNG bytes."""
    from PIL import Image, ImageDraw

    seed = sum(ord(ch) for ch in name)
    image = Image.new("RGB", (240, 64), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 239, 63), fill=(31, 58, 95))
    heights = [14, 22, 30, 38, 44, 26]
    for i in range(6):
        height = heights[(seed + i) % 6]
        draw.rectangle((16 + i * 22, 56 - height, 30 + i * 22, 56), fill=(120 + 20 * i, 180, 220 - 15 * i))
    draw.ellipse((168, 8, 216, 56), fill=(227, 234, 242))
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _runs(paragraph, text: str, *, bold: bool = False) -> None:
    """Add ``text`` to a Word paragraph, its ``**bold**`` spans as bold runs."""
    for i, piece in enumerate(re.split(r"\*\*(.+?)\*\*", text.strip())):
        if piece:
            run = paragraph.add_run(piece)
            if bold or i % 2:
                run.bold = True


def _field(paragraph, instruction: str, shown: str) -> None:
    """Append a simple Word field (``PAGE``, ``NUMPAGES``) showing ``shown`` until Word updates it."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = shown
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def _word_table(document, rows: list[list[str]]) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ncols = max(len(row) for row in rows)
    table = document.add_table(rows=len(rows), cols=ncols)
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, cell in enumerate(row + [""] * (ncols - len(row))):
            _runs(table.cell(r, c).paragraphs[0], cell, bold=r == 0)
    header = OxmlElement("w:tblHeader")  # "repeat as header row at the top of each page"
    header.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(header)


def _fixed_zip(data: bytes) -> bytes:
    """The same ZIP container with every member dated ``ZIP_DATE`` (python-docx stamps the time of saving)."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, src.read(info))
    return out.getvalue()


def docx_bytes(md_path: Path) -> bytes:
    """The Word version of one Markdown submission, as bytes."""
    import docx
    from docx.enum.text import WD_BREAK, WD_TAB_ALIGNMENT
    from docx.shared import Mm, Pt

    meta, blocks = parse(md_path.read_text(encoding="utf-8"))
    supplier, title = meta.get("supplier", ""), meta.get("title", "")
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Mm(20)
    document.styles["Normal"].font.size = Pt(10.5)

    head = section.header.paragraphs[0]
    head.add_run().add_picture(BytesIO(logo_png(supplier)), height=Mm(8))
    head.add_run(f"  {supplier} — {title}").font.size = Pt(7.5)
    foot = section.footer.paragraphs[0]
    foot.paragraph_format.tab_stops.add_tab_stop(Mm(170), WD_TAB_ALIGNMENT.RIGHT)
    foot.add_run("Commercial in confidence\tPage ")
    _field(foot, "PAGE", "1")
    foot.add_run(" of ")
    _field(foot, "NUMPAGES", "1")

    document.add_paragraph(title, style="Title")
    for kind, content in blocks:
        if kind == "pagebreak":
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif kind == "table":
            _word_table(document, content)
            document.add_paragraph()  # Word needs a paragraph between two tables; it also spaces the next text
        elif kind in ("h1", "h2"):
            document.add_heading(re.sub(r"\*\*(.+?)\*\*", r"\1", content), level=1 if kind == "h1" else 2)
        elif kind == "bullet":
            _runs(document.add_paragraph(style="List Bullet"), content)
        elif kind == "numbered":
            _runs(document.add_paragraph(style="List Number"), re.sub(r"^\d+\.\s+", "", content))
        else:
            _runs(document.add_paragraph(), content)

    props = document.core_properties
    props.title, props.author, props.last_modified_by = title, supplier, "vbp-evidence corpus_render"
    props.subject = "Supplier submission (fictional demo document)"
    props.comments = "Fictional document written by the vbp-evidence project as test material."
    props.created = props.modified = DOCX_DATE
    props.revision = 1
    out = BytesIO()
    document.save(out)
    return _fixed_zip(out.getvalue())


def render_docx(md_path: Path, out: Path | None = None) -> Path:
    """Render one Markdown submission to a Word file (beside it unless ``out`` is given); return its path."""
    docx_path = out or md_path.with_suffix(".docx")
    docx_path.write_bytes(docx_bytes(md_path))
    return docx_path


def manifest_docx() -> list[tuple[Path, Path]]:
    """``(source .md, .docx)`` of every Word file in ``corpus/manifest.csv``."""
    with (CORPUS / "manifest.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [(CORPUS / row["source"], CORPUS / row["path"]) for row in rows if row["path"].endswith(".docx")]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--docx":
        pairs = [(Path(a), Path(a).with_suffix(".docx")) for a in args[1:]] or manifest_docx()
        for md_path, docx_path in pairs:
            print(render_docx(md_path, docx_path))
        return 0
    sources = [Path(a) for a in args] or sorted(SUBMISSIONS.glob("*.md")) + sorted(PAPERS.glob("*.md"))
    for md_path in sources:
        print(render(md_path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
