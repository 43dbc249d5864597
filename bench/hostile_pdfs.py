"""Generate a corpus of hostile PDFs, and (with --check) ingest it and print how each file ended.

    python bench/hostile_pdfs.py OUT_DIR            # write the full-size corpus
    python bench/hostile_pdfs.py OUT_DIR --small    # the small variants the slow test uses
    python bench/hostile_pdfs.py OUT_DIR --check    # write it, parse every file in worker processes, print a table

Each family is written byte by byte here (no PDF library), so the files are exactly as hostile as
intended: page-tree loops, xref and object-stream loops, an exponential page tree, a flate bomb,
deeply nested arrays, thousands of pages, a page of millions of text operators, zero bytes and random
bytes. Seeded mutations (truncation, byte flips, chunk deletion and duplication) of real PDFs from
../shared/data are added when that folder is there. The huge files (the flate bomb, 5,000 pages) are
generated here at run time and never committed.

The bars (issue 16): every file ends with one clear line or a grounded Document, within 60 s, using at
most 1 GB of memory. ``--check`` prints the outcome code, seconds and the worker's peak RSS per file.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_PDFS = [REPO.parent / "shared" / "data" / "pdfs", REPO.parent / "shared" / "data" / "rct_numeric" / "pdfs"]
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def build_pdf(objects: list[bytes], *, root: int = 1, xref: bool = True, trailer_extra: bytes = b"") -> bytes:
    """A PDF with ``objects`` numbered from 1, a correct xref table and a trailer pointing at ``root``."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    start = len(out)
    if xref:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, trailer_extra, start)
    return bytes(out)


def stream(data: bytes, *, extra: bytes = b"", compress: bool = False) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def text_content(lines: list[str]) -> bytes:
    body = b"".join(b"(%s) Tj 0 -14 Td\n" % line.encode("latin-1") for line in lines)
    return b"BT /F1 11 Tf 72 720 Td\n" + body + b"ET"


def page(parent: int, contents: int, *, extra: bytes = b"") -> bytes:
    return (b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R /Resources << /Font << /F1 4 0 R >> >> %s>>"
            % (parent, contents, extra))


# --- the families -----------------------------------------------------------------------------------------------------

def minimal() -> bytes:
    """A good one-page PDF: the control, and the seed of the property-based fuzz."""
    content = text_content(["Background: the trial enrolled 120 patients.", "Results: HbA1c fell by 0.5% at 12 weeks (p=0.01)."])
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page(2, 5), FONT, stream(content)])


def page_tree_loop() -> bytes:
    """The Pages node lists itself among its kids."""
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", page(2, 5), FONT,
                      stream(text_content(["A page behind a loop."]))])


def page_tree_cycle() -> bytes:
    """Two Pages nodes that are each other's kid."""
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [6 0 R] /Count 1 >>", page(6, 5), FONT,
                      stream(text_content(["A page behind a cycle."])), b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 1 >>"])


def exponential_page_tree(depth: int = 40) -> bytes:
    """Each Pages node lists the next one twice: 2**depth leaves from a few dozen objects."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        n = level + 2
        objs.append(b"<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count %d >>" % (n + 1, n + 1, 2 ** (depth - level)))
    leaf = len(objs) + 1
    objs.append(page(leaf - 1, leaf + 2))
    objs.append(FONT)
    objs.append(stream(text_content(["One page, reached many times."])))
    # the page refers to font 4 0 R in page(); patch the resources to this font's number
    objs[leaf - 1] = objs[leaf - 1].replace(b"/F1 4 0 R", b"/F1 %d 0 R" % (leaf + 1))
    return build_pdf(objs)


def xref_loop() -> bytes:
    """A broken xref table whose /Prev points back at itself."""
    good = minimal()
    body, _, _ = good.partition(b"xref\n")
    start = len(body)
    tail = (b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (start, start))
    return body + tail


def object_stream_loop() -> bytes:
    """Objects stored in an object stream that is itself listed as stored in that object stream (xref stream)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"]
    inner = b"3 0 4 %d " % 60
    inner_objs = page(2, 5).ljust(60) + FONT
    objstm = b"<< /Type /ObjStm /N 2 /First %d /Length %d >>\nstream\n" % (len(inner), len(inner) + len(inner_objs)) + inner + inner_objs + b"\nendstream"
    out = bytearray(b"%PDF-1.7\n")
    offsets = {}
    for n, body in [(1, objs[0]), (2, objs[1]), (5, stream(text_content(["Stored in a looping object stream."]))), (6, objstm)]:
        offsets[n] = len(out)
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    # xref stream: object 6 (the ObjStm) is declared compressed inside object 6 itself, and 3, 4 inside 6
    rows = [(0, 0, 65535), (1, offsets[1], 0), (1, offsets[2], 0), (2, 6, 0), (2, 6, 1), (1, offsets[5], 0), (2, 6, 2), (1, 0, 0)]
    xref_at = len(out)
    rows[7] = (1, xref_at, 0)
    data = b"".join(bytes([t]) + o.to_bytes(4, "big") + g.to_bytes(2, "big") for t, o, g in rows)
    out += (b"7 0 obj\n<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(data)) + data + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def flate_bomb(mb: int = 400) -> bytes:
    """A page whose content stream inflates to ``mb`` MiB (of spaces) from a few hundred KB."""
    comp = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    parts = [comp.compress(b"BT /F1 11 Tf 72 720 Td (Hello) Tj ET\n")]
    parts += [comp.compress(chunk) for _ in range(mb)]
    parts.append(comp.flush())
    data = b"".join(parts)
    content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page(2, 5), FONT, content])


def nested_arrays(depth: int = 200_000) -> bytes:
    """A content stream nesting arrays ``depth`` deep between two lines of text."""
    nest = b"[" * depth + b"]" * depth
    content = (b"BT /F1 11 Tf 72 720 Td (Text before the nesting.) Tj ET\n" + nest
               + b" pop\nBT /F1 11 Tf 72 700 Td (Text after the nesting.) Tj ET")
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page(2, 5), FONT,
                      stream(content)])


def nested_arrays_in_page(depth: int = 200_000) -> bytes:
    """A page dictionary entry nested ``depth`` arrays deep (pypdf cannot walk it; pdfium skips it)."""
    nest = b"[" * depth + b"]" * depth
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                      page(2, 5, extra=b"/Junk " + nest + b" "), FONT, stream(text_content(["Text beside the nesting."]))])


def many_pages(count: int = 5000) -> bytes:
    """``count`` pages, each with a short line of text."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"", FONT]
    kids = []
    for i in range(count):
        pnum, cnum = len(objs) + 1, len(objs) + 2
        kids.append(b"%d 0 R" % pnum)
        objs.append(page(2, cnum))
        objs.append(stream(text_content([f"Page {i + 1}: the device reduced length of stay by {i % 7} days."])))
    objs[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), count)
    objs[2] = b"null"
    return build_pdf(objs)


def many_operators(count: int = 2_000_000) -> bytes:
    """One page whose content stream holds ``count`` text operators (about 55 KB compressed)."""
    body = b"BT /F1 1 Tf 0 792 Td " + b"(a) Tj 0 -1 Td " * (count // 2) + b"ET"  # each character on a line of its own
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page(2, 5), FONT,
                      stream(body, compress=True)])


def many_chars(count: int = 1_000_000) -> bytes:
    """One page showing ``count`` characters in a few dozen operators (pdfium keeps at most 32,767 of one string)."""
    line = b"(" + b"abcdefgh " * 3000 + b") Tj 0 -1 Td\n"  # 27,000 characters
    body = b"BT /F1 1 Tf 0 792 Td\n" + line * max(1, count // 27_000) + b"ET"
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page(2, 5), FONT,
                      stream(body, compress=True)])


def zero_bytes(mb: int = 60) -> bytes:
    return bytes(mb << 20)


def random_bytes(kb: int = 512, seed: int = 16) -> bytes:
    return random.Random(seed).randbytes(kb << 10)


def pdf_header_then_junk(kb: int = 256, seed: int = 17) -> bytes:
    return b"%PDF-1.4\n" + random.Random(seed).randbytes(kb << 10)


def not_a_pdf() -> bytes:
    return b"PK\x03\x04" + bytes(200)


# --- mutations of real files ----------------------------------------------------------------------------------------

def mutations(data: bytes, seed: int) -> Iterator[tuple[str, bytes]]:
    """Seeded truncation, byte flips, chunk deletion and chunk duplication of one real PDF."""
    rng = random.Random(seed)
    n = len(data)
    yield "truncated", data[: rng.randrange(n // 4, 3 * n // 4)]
    flipped = bytearray(data)
    for _ in range(max(8, n // 2000)):
        flipped[rng.randrange(n)] ^= 1 << rng.randrange(8)
    yield "flipped", bytes(flipped)
    a = rng.randrange(n // 2)
    yield "chunk_deleted", data[:a] + data[a + rng.randrange(1, max(2, n // 8)):]
    a = rng.randrange(n // 2)
    chunk = data[a : a + rng.randrange(1, max(2, n // 8))]
    yield "chunk_duplicated", data[:a] + chunk + chunk + data[a:]


def real_pdfs(limit: int) -> list[Path]:
    found = []
    for folder in SHARED_PDFS:
        if folder.is_dir():
            found += sorted(p for p in folder.glob("*.pdf") if not p.name.startswith("awkward_"))
    return found[:limit]


def families(*, small: bool) -> dict[str, Callable[[], bytes]]:
    """Name -> generator of the file's bytes; ``small`` shrinks the huge families so a test runs in seconds."""
    return {
        "minimal": minimal,
        "page_tree_loop": page_tree_loop,
        "page_tree_cycle": page_tree_cycle,
        "exponential_page_tree": exponential_page_tree,
        "xref_loop": xref_loop,
        "object_stream_loop": object_stream_loop,
        "flate_bomb": lambda: flate_bomb(40 if small else 400),
        "nested_arrays": lambda: nested_arrays(20_000 if small else 200_000),
        "nested_arrays_in_page": lambda: nested_arrays_in_page(20_000 if small else 200_000),
        "many_pages": lambda: many_pages(600 if small else 5000),
        "many_operators": lambda: many_operators(400_000 if small else 2_000_000),
        "many_chars": lambda: many_chars(300_000 if small else 1_000_000),
        "zero_bytes": lambda: zero_bytes(2 if small else 60),
        "random_bytes": random_bytes,
        "pdf_header_then_junk": pdf_header_then_junk,
        "not_a_pdf": not_a_pdf,
    }


def write_corpus(out: Path, *, small: bool = False, real: int = 4, seed: int = 16) -> list[Path]:
    """Write every family, and the mutations of up to ``real`` real PDFs, into ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in families(small=small).items():
        path = out / f"{name}.pdf"
        path.write_bytes(make())
        paths.append(path)
    for i, src in enumerate(real_pdfs(real)):
        for kind, data in mutations(src.read_bytes(), seed + i):
            path = out / f"mut_{kind}_{src.stem[:40]}.pdf"
            path.write_bytes(data)
            paths.append(path)
    return paths


def check(paths: list[Path]) -> int:
    """Parse each file in a fresh worker process; print file, outcome, seconds and peak RSS; return the number over the bars.

    One pool per file, so that the worker's peak RSS (ru_maxrss) is that file's alone.
    """
    sys.path.insert(0, str(REPO))
    from extractor.batch import parse_many
    from extractor.errors import EvidenceError
    from extractor.settings import ParsingSettings

    settings = ParsingSettings()
    bad = 0
    print(f"{'file':<58} {'outcome':<20} {'seconds':>8} {'peak MB':>8}  message (worker limits: ParsingSettings defaults)")
    for path, outcome, seconds in (r for p in paths for r in parse_many([p], settings=settings, workers=1)):
        if isinstance(outcome, EvidenceError):
            code, message = outcome.code, str(outcome)
            peak = getattr(outcome, "peak_rss_mb", None)
        else:
            code, message = f"ok ({outcome.page_count} p)", "" if _grounded(outcome) else "NOT GROUNDED"
            peak = float(outcome.metadata.get("process_peak_rss_mb", "nan"))
        over = message == "NOT GROUNDED" or seconds > 60 or (peak is not None and peak > 1024) or "Traceback" in message or "\n" in message or code == "document_error"
        bad += over
        peak_s = f"{peak:8.0f}" if peak is not None else "       ?"
        print(f"{path.name[:58]:<58} {code:<20} {seconds:8.2f} {peak_s}  {message[:110]}{'  <-- OVER A BAR' if over else ''}", flush=True)
    return bad


def _grounded(doc) -> bool:
    """Every sentence and passage span slices back to its text."""
    return all(doc.text[x.span.start : x.span.end] == x.text for x in [*doc.sentences, *doc.passages])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="folder to write the corpus into")
    ap.add_argument("--small", action="store_true", help="small variants of the huge families (what the slow test uses)")
    ap.add_argument("--real", type=int, default=4, help="how many real PDFs from ../shared/data to mutate (default 4)")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--check", action="store_true", help="also parse every file and print outcome, seconds and peak memory")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    paths = write_corpus(args.out, small=args.small, real=args.real, seed=args.seed)
    print(f"wrote {len(paths)} files to {args.out} in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    if args.check:
        bad = check(paths)
        print(f"{len(paths)} files, {bad} over a bar (traceback, > 60 s, > 1024 MB)")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
