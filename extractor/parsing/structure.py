"""Document structure from blocks: sections, sentences, tables, references, passages, kind."""

from __future__ import annotations

import re

from extractor.parsing.assemble import KNOWN_HEADING, Block
from extractor.schema import DocumentKind, Passage, Reference, Section, Sentence, Span, Table, TableRow

_CANONICAL = {
    "abstract": "abstract", "summary": "abstract", "executive summary": "abstract",
    "background": "introduction", "introduction": "introduction", "research in context": "introduction",
    "method": "methods", "methods": "methods", "materials and methods": "methods", "patients and methods": "methods",
    "methods and materials": "methods", "study design": "methods", "research design and methods": "methods",
    "objective": "abstract", "objectives": "abstract",
    "result": "results", "results": "results", "findings": "results",
    "discussion": "discussion", "interpretation": "discussion", "limitations": "discussion",
    "conclusion": "conclusion", "conclusions": "conclusion",
    "references": "references", "bibliography": "references", "literature cited": "references",
    "supporting documents": "references", "supporting evidence": "references", "evidence sources": "references",
}


def canonical_label(title: str) -> str | None:
    """Map a heading to a canonical section label, or None when it is not a standard section."""
    m = KNOWN_HEADING.match(title.strip().lstrip("#").strip())
    if not m:
        return None
    name = " ".join(m.group(1).lower().split())
    return _CANONICAL.get(name, name.replace(" ", "_"))


def slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words[:6]) or "section"


def find_sections(text: str, blocks: list[Block]) -> list[Section]:
    """Sections from heading blocks; sub-headings of a standard section inherit its label."""
    heads = [b for b in blocks if b.kind == "heading"]
    if not heads:
        return []
    canonical = {canonical_label(text[b.start : b.end]) for b in heads}
    # In a paper, any heading not larger than "Methods" is a sub-heading of the standard section
    # it sits in ("Randomisation and masking" belongs to methods). A supplier document's headings
    # ("Clinical outcomes", "Whole-life cost") are sections of their own.
    main = {"abstract", "introduction", "methods", "results", "discussion", "conclusion"}
    paper_like = len(canonical & {"introduction", "methods", "results", "discussion"}) >= 2
    if paper_like:  # the size of the main section headings
        ref = max(b.size for b in heads if canonical_label(text[b.start : b.end]) in main)
    else:
        sizes = sorted(b.size for b in heads)
        ref = sizes[len(sizes) // 2]
    sections: list[Section] = []
    active: str | None = None
    for b in heads:
        title = text[b.start : b.end]
        label = canonical_label(title)
        level = 1 if (label or (b.size > ref + 0.5 if paper_like else b.size >= ref - 0.5)) else 2
        if label:
            active = label
        elif level == 1:
            active = None
            label = slug(title)
        else:
            label = active or slug(title)
        sections.append(
            Section(title=title, label=label, level=level, page=b.page, span=Span(start=b.start, end=len(text)),
                    heading_span=Span(start=b.start, end=b.end))
        )
    for i, sec in enumerate(sections):
        for later in sections[i + 1 :]:
            if later.level <= sec.level:
                sec.span = Span(start=sec.span.start, end=later.span.start)
                break
    return sections


_ABBREV = {
    "al", "e.g", "i.e", "eg", "ie", "vs", "v", "fig", "figs", "ref", "refs", "no", "nos", "approx", "ca", "cf",
    "dr", "mr", "mrs", "ms", "prof", "st", "inc", "ltd", "co", "eq", "vol", "pp", "p", "incl", "resp", "etc",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "min", "max", "mg",
    "tab", "suppl", "ed", "eds", "univ", "dept", "est", "corp", "nr",
}
_BOUNDARY = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_LAST_TOKEN = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into sentences, returning absolute ``(start, end)`` pairs.

    Abbreviations (et al., e.g., Fig.), initials and decimals do not end a sentence.
    """
    out: list[tuple[int, int]] = []
    s = start
    for m in _BOUNDARY.finditer(text, start, end):
        cut = m.start() + 1
        while cut < m.end() and not text[cut].isspace():
            cut += 1  # keep closing quotes and brackets with the sentence
        before = text[s:cut]
        tok = _LAST_TOKEN.search(before.rstrip("\"'”’)]"))
        if tok:
            word = tok.group(1).lower()
            if word in _ABBREV or (len(word) == 1 and word.isalpha()) or word.rstrip(".") in _ABBREV:
                continue
        if cut - s >= 3:
            out.append((s, cut))
            s = m.end()
    if end > s:
        out.append((s, end))
    return [(a, b) for a, b in (_trim(text, a, b) for a, b in out) if b > a]


_BULLETS = "•◦▪▸►‣·∙●○■□"


def _trim(text: str, a: int, b: int, extra: str = "") -> tuple[int, int]:
    while a < b and (text[a].isspace() or text[a] in _BULLETS or text[a] in extra):  # a list item's quote starts after its bullet
        a += 1
    while b > a and (text[b - 1].isspace() or text[b - 1] in extra):  # a Markdown row's quote ends before its last pipe
        b -= 1
    return a, b


def find_sentences(text: str, blocks: list[Block], sections: list[Section]) -> list[Sentence]:
    """Sentences of paragraphs and one 'sentence' per table row, each with its span and section."""
    out: list[Sentence] = []
    for b in blocks:
        if b.kind == "heading":
            continue
        label = _label_at(sections, b.start)
        pieces = [_trim(text, b.start, b.end, "|")] if b.kind == "table_row" else split_sentences(text, b.start, b.end)
        for a, e in pieces:
            out.append(Sentence(page=b.page, span=Span(start=a, end=e), text=text[a:e], section=label, in_table=b.kind == "table_row"))
    return out


def _label_at(sections: list[Section], offset: int) -> str | None:
    found: Section | None = None
    for sec in sections:
        if sec.span.start <= offset < sec.span.end and (found is None or sec.level >= found.level):
            found = sec
    return found.label if found else None


def split_cells(row: str) -> list[str]:
    """Cells of a table row: tab-separated (PDF) or pipe-separated (Markdown)."""
    if "\t" in row:
        return [c.strip() for c in row.split("\t")]
    return [c.strip() for c in row.strip().strip("|").split("|")]


_CAPTION = re.compile(r"^(table)\s*\d+", re.IGNORECASE)
_NUM = re.compile(r"\d")


def find_tables(text: str, blocks: list[Block]) -> list[Table]:
    """Runs of table rows on one page become tables; the first row is the header when it holds fewer numbers."""
    tables: list[Table] = []
    run: list[Block] = []

    def flush(caption: str | None) -> None:
        if len(run) >= 2:
            rows = [TableRow(span=Span(start=r.start, end=r.end), cells=split_cells(text[r.start : r.end])) for r in run]
            numeric = [sum(bool(_NUM.search(c)) for c in row.cells) / len(row.cells) for row in rows]
            header: list[str] = []
            if run[0].header or (numeric[0] < 0.5 and sum(numeric[1:]) / len(numeric[1:]) > numeric[0]):
                rows[0].is_header = True
                header = rows[0].cells
            tables.append(Table(page=run[0].page, span=Span(start=run[0].start, end=run[-1].end), caption=caption, header=header, rows=rows))
        run.clear()

    caption: str | None = None
    last_caption: str | None = None
    for b in blocks:
        line = text[b.start : b.end]
        if b.kind == "table_row" and run and b.header:  # a row the source marks as labels starts a table of its own
            flush(caption)
        if b.kind == "table_row" and (not run or run[-1].page == b.page):
            if not run:
                caption = last_caption
            run.append(b)
            continue
        flush(caption)
        if b.kind == "table_row":
            caption = last_caption
            run.append(b)
            continue
        if _CAPTION.match(line):
            last_caption = line[:200]
    flush(caption)
    return tables


_NUMBERED = re.compile(r"(?:(?<=^)|(?<=[\s]))\[?(\d{1,3})[\].)]?\s+(?=[A-Z(\[“\"'])")
# Used with .match(text, pos), which anchors at pos: no "^" (it would only match at 0).
_AUTHOR_START = re.compile(r"[A-Z][A-Za-z'’\-]+(?: [a-z]{1,3})?,? (?:[A-Z]\.? ?-?){1,3}[,.:]|[A-Z][A-Za-z'’\-]+, [A-Z][a-z]+")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")


def find_references(text: str, sections: list[Section], blocks: list[Block], page_at) -> list[Reference]:
    """Split the reference list into numbered or author-year entries."""
    refs_secs = [s for s in sections if s.label == "references" and canonical_label(s.title) == "references"]
    if refs_secs:
        start, end = refs_secs[-1].heading_span.end, refs_secs[-1].span.end
        entries = _numbered_entries(text, start, end)
        if not entries:
            entries = _author_year_entries(text, [b for b in blocks if start <= b.start < end])
    else:
        # No heading (BMJ sets none): a long numbered list of dated entries near the end.
        start = int(len(text) * 0.6)
        entries = _numbered_entries(text, start, len(text))
        entries = entries if entries and entries[0][0] == "1" and len(entries) >= 8 and all(_YEAR.search(text, a, e) for _, a, e in entries[:8]) else []
    out = []
    for key, a, e in entries:
        a, e = _trim(text, a, e)
        if e <= a:
            continue
        body = text[a:e]
        doi = _DOI.search(body)
        year = _YEAR.search(body)
        out.append(
            Reference(key=key, text=body, page=page_at(a), span=Span(start=a, end=e),
                      doi=doi.group(1).rstrip(".,;)").lower() if doi else None, year=int(year.group(1)) if year else None)
        )
    return out


def _numbered_entries(text: str, start: int, end: int) -> list[tuple[str, int, int]]:
    cands = [(int(m.group(1)), m.start()) for m in _NUMBERED.finditer(text, start, end) if int(m.group(1)) > 0]
    # "…cost model, version 3. Northbridge Medical" looks like entry 3 mid-line: where a number also starts a line,
    # only the line start counts.
    def line_start(pos: int) -> bool:
        return pos == start or text[pos - 1] == "\n"

    at_line_start = {num for num, pos in cands if line_start(pos)}
    cands = [(num, pos) for num, pos in cands if num not in at_line_start or line_start(pos)]
    best: list[tuple[int, int]] = []
    starts = set(range(min(6, len(cands)))) | {i for i, (num, _) in enumerate(cands) if num == 1}
    for first_i in sorted(starts):
        chain = [cands[first_i]]
        for num, pos in cands[first_i + 1 :]:
            if num == chain[-1][0] + 1:
                chain.append((num, pos))
        if len(chain) > len(best):
            best = chain
    if len(best) < 2 and not (best and best[0][0] == 1 and line_start(best[0][1])):  # one entry only when it starts a line
        return []
    bounds = [pos for _, pos in best] + [end]
    return [(str(num), bounds[i], bounds[i + 1]) for i, (num, _) in enumerate(best)]


def _author_year_entries(text: str, blocks: list[Block]) -> list[tuple[str, int, int]]:
    starts: list[int] = []
    for b in blocks:
        for m in re.finditer(r"(?:^|(?<=\.\s))(?=[A-Z][A-Za-z'’\-]+,? )", text[b.start : b.end]):
            pos = b.start + m.start()
            before = text[max(b.start, pos - 3) : pos].rstrip(". ")
            # the previous entry ends with its pages, year or a bracket ("…;28:55–65. Birmaher B"),
            # while "…Power Analysis. Hillsdale, NJ" is a publisher's town inside an entry
            if m.start() > 0 and before and not before[-1].isdigit() and before[-1] not in ")]":
                continue
            if _AUTHOR_START.match(text, pos):
                starts.append(pos)
    if len(starts) < 3:
        return []
    end = blocks[-1].end
    out = []
    for i, a in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else end
        surname = re.match(r"[A-Z][A-Za-z'’\-]+", text[a:e]).group(0)  # type: ignore[union-attr]
        year = _YEAR.search(text, a, e)
        out.append((f"{surname} {year.group(1)}" if year else surname, a, e))
    return out


def cut_passages(doc_id: str, text: str, sentences: list[Sentence], sections: list[Section], target: int) -> list[Passage]:
    """Group consecutive sentences of one page and section into passages of about ``target`` characters."""
    passages: list[Passage] = []
    group: list[Sentence] = []

    def key(s: Sentence) -> tuple:
        sec = None
        for x in sections:
            if x.span.start <= s.span.start < x.span.end and (sec is None or x.level >= sec.level):
                sec = x
        return (s.page, sec.span.start if sec else -1, s.in_table)

    def flush() -> None:
        if group:
            a, e = group[0].span.start, group[-1].span.end
            passages.append(Passage(id=f"{doc_id}:{len(passages)}", doc_id=doc_id, index=len(passages), page=group[0].page,
                                    span=Span(start=a, end=e), section=group[0].section, text=text[a:e]))
            group.clear()

    current = None
    for s in sentences:
        k = key(s)
        if group and (k != current or s.span.end - group[0].span.start > target):
            flush()
        current = k
        group.append(s)
    flush()
    return passages


_SUPPLIER = re.compile(
    r"\b(tender|supplier|submission|value proposition|value-based procurement|procurement|commercial in confidence|"
    r"our (?:products?|services?|devices?|solutions?|response|company)|we (?:offer|provide|supply|manufacture)|NHS Supply Chain|"
    r"framework agreement|lot \d+|whole[- ]life cost|social value|unit price|data on file|integrated care board|"
    r"Ltd|Limited|plc|warranty|lead times?|modern slavery)\b",
    re.IGNORECASE,
)
_PAPER = re.compile(
    r"\b(randomi[sz]ed|et al\.|95% ?CI|confidence interval|doi|participants|cohort|meta-analysis|systematic review|"
    r"trial registration|p ?[<=] ?0?\.\d+|abstract)\b",
    re.IGNORECASE,
)
_PAPER_SECTIONS = {"abstract", "methods", "results", "discussion"}


def guess_kind(text: str, sections: list[Section]) -> DocumentKind:
    """Guess whether a document is a supplier submission, a clinical paper or something else.

    A paper has the standard sections; a submission speaks of tenders, suppliers and prices.
    Either way the guess can be overridden by the user.
    """
    labels = {s.label for s in sections}
    words = max(1, len(text.split()))
    supplier = len(_SUPPLIER.findall(text)) / words * 1000
    paper = len(_PAPER.findall(text)) / words * 1000
    if len(labels & _PAPER_SECTIONS) >= 3 and supplier < 8:
        return DocumentKind.clinical_paper
    if supplier >= 8 and supplier >= paper * 0.5:
        return DocumentKind.supplier_submission
    if paper >= 6 or len(labels & _PAPER_SECTIONS) >= 2:
        return DocumentKind.clinical_paper
    return DocumentKind.other
