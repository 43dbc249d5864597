"""The `vbp` command line: thin wrappers over plain functions, one clear line per error."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from extractor.errors import EvidenceError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help="Evidence extraction and review for value-based procurement of medtech.")
out = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)
_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    _state["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _settings(**overrides):
    from api.settings import load_settings

    return load_settings(**overrides)


def _store(settings):
    from api.store.repository import Store

    return Store(settings.db_url, settings.files_dir)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF, Word (.docx), Excel (.xlsx), .txt or .md files, and folders to search for them.")],
    password: Annotated[Optional[str], typer.Option(help="Password for encrypted PDFs.")] = None,
    kind: Annotated[Optional[str], typer.Option(help="Force the document kind: supplier_submission, clinical_paper or other.")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Parser processes (0 parses in this process).")] = None,
    index: Annotated[bool, typer.Option("--index/--no-index", help="Index the passages for search as each file is stored.")] = True,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Parse, store and index documents; print a status table; exit 1 if any file failed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from api.ingest import expand_paths, ingest_paths
    from extractor.schema import DocumentKind, IngestStatus

    if kind is not None and kind not in DocumentKind.__members__:
        raise EvidenceError(f"unknown document kind {kind!r}.", hint=f"Use one of: {', '.join(DocumentKind.__members__)}.")
    settings = _settings(data_dir=data_dir, workers=workers)
    store = _store(settings)
    files = expand_paths(paths)
    if not files:
        raise EvidenceError("no PDF, Word, Excel, .txt or .md files found in " + ", ".join(map(str, paths)) + ".", hint="Check the paths.")
    searcher = _open_index(settings, store) if index else None
    progress = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err, transient=True, disable=as_json or not err.is_terminal)
    with progress:
        task = progress.add_task("ingesting", total=len(files))
        results = ingest_paths(files, store=store, settings=settings.parsing, workers=settings.workers, password=password, kind=kind,
                               on_result=lambda r: progress.update(task, advance=1, description=r.path.name[:40]), searcher=searcher)
    if searcher is not None:
        searcher.close()
    failed = [r for r in results if r.status is IngestStatus.failed]
    if as_json:
        out.print_json(json.dumps([{"file": str(r.path), "status": r.status.value, "doc_id": r.doc_id, "pages": r.pages, "kind": r.kind,
                                     "error_code": r.error_code, "message": r.message, "seconds": round(r.seconds, 3)} for r in results]))
    else:
        table = Table(title=f"{len(results)} files: {len(results) - len(failed)} ok, {len(failed)} failed", title_justify="left")
        for col in ("file", "status", "doc id", "pages", "kind", "notes"):
            table.add_column(col, overflow="fold")
        styles = {"stored": "green", "unchanged": "cyan", "failed": "red"}
        for r in sorted(results, key=lambda r: str(r.path)):
            table.add_row(r.path.name, f"[{styles[r.status.value]}]{r.status.value}[/]", (r.doc_id or "")[:12], str(r.pages or ""),
                          r.kind or "", _short(r.message.removeprefix(f"{r.path.name}: "), 90))
        out.print(table)
        out.print(f"data folder: {settings.data_dir}")
    store.close()
    if failed:
        raise typer.Exit(1)


def _open_index(settings, store):
    """Open the passage index, warning (not failing) when it is out of step with the database."""
    from api.evidence import open_index

    searcher, report = open_index(settings, store)
    if report is not None and not report.ok:
        err.print(f"[yellow]warning:[/] the index is out of step with the database ({report.summary()}); run `vbp reindex`.")
    return searcher


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


@app.command()
def show(
    doc_id: Annotated[Optional[str], typer.Argument(help="Document id or a unique prefix (6+ characters).")] = None,
    list_all: Annotated[bool, typer.Option("--list", help="List stored documents.")] = False,
    page: Annotated[Optional[int], typer.Option(help="Print the text of this page.")] = None,
    sentences: Annotated[bool, typer.Option(help="Print every sentence with its page and span.")] = False,
    passages: Annotated[bool, typer.Option(help="Print every passage with its page and span.")] = False,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole Document as JSON.")] = False,
) -> None:
    """Show a stored document: pages, sections, tables, references, sentences and passages."""
    settings = _settings(data_dir=data_dir)
    store = _store(settings)
    if list_all or doc_id is None:
        rows = store.list_documents()
        if as_json:
            out.print_json(json.dumps(rows, default=str))
            return
        table = Table(title=f"{len(rows)} documents in {settings.data_dir}", title_justify="left")
        for col in ("id", "file", "kind", "pages", "title"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(r["id"][:12], r["filename"], r["kind"], str(r["page_count"]), _short(r["title"] or "", 70))
        out.print(table)
        return
    doc = store.get_document(doc_id)
    if as_json:
        sys.stdout.write(doc.model_dump_json(indent=2) + "\n")
        return
    if page is not None:
        if not 1 <= page <= len(doc.pages):
            raise EvidenceError(f"page {page} is out of range.", hint=f"{doc.filename} has pages 1 to {len(doc.pages)}.")
        out.print(doc.pages[page - 1].text, markup=False)
        return
    out.print(f"[bold]{doc.title or doc.filename}[/]")
    out.print(f"id {doc.id}\nfile {doc.filename} ({doc.media_type}), {doc.page_count} pages, kind {doc.kind.value} ({doc.kind_source})")
    out.print(f"{len(doc.sections)} sections, {len(doc.sentences)} sentences, {len(doc.tables)} tables, "
              f"{len(doc.references)} references, {len(doc.passages)} passages")
    for w in doc.warnings:
        out.print(f"[yellow]warning:[/] {w}", markup=True)
    if doc.sections:
        table = Table(title="sections", title_justify="left")
        for col in ("page", "level", "label", "heading"):
            table.add_column(col)
        for s in doc.sections:
            table.add_row(str(s.page), str(s.level), s.label, _short(s.title, 80))
        out.print(table)
    if sentences:
        for s in doc.sentences:
            out.print(f"p{s.page} [{s.span.start}:{s.span.end}] {s.section or '-'}{' (table)' if s.in_table else ''}: ", end="")
            out.print(s.text, markup=False)
    if passages:
        for p in doc.passages:
            out.print(f"[bold]{p.id}[/] p{p.page} [{p.span.start}:{p.span.end}] {p.section or '-'}")
            out.print(p.text, markup=False)


@app.command()
def extract(
    target: Annotated[str, typer.Argument(help="A PDF, Word, Excel, .txt or .md file, or the id of a stored document.")],
    password: Annotated[Optional[str], typer.Option(help="Password for an encrypted PDF.")] = None,
    kind: Annotated[Optional[str], typer.Option(help="Force the document kind: supplier_submission, clinical_paper or other.")] = None,
    index: Annotated[bool, typer.Option("--index/--no-index", help="Index a newly stored file's passages for search.")] = True,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the claims as JSON.")] = False,
) -> None:
    """Extract the claims of a document, store them, and print them grouped by category."""
    from api.ingest import extract_and_store
    from extractor.schema import DocumentKind

    if kind is not None and kind not in DocumentKind.__members__:
        raise EvidenceError(f"unknown document kind {kind!r}.", hint=f"Use one of: {', '.join(DocumentKind.__members__)}.")
    settings = _settings(data_dir=data_dir)
    store = _store(settings)
    searcher = _open_index(settings, store) if index else None
    doc, result, added, kept = extract_and_store(target, store=store, settings=settings.parsing, password=password, kind=kind,
                                                 searcher=searcher)
    if searcher is not None:
        searcher.close()
    store.close()
    if as_json:
        sys.stdout.write(json.dumps([c.model_dump(mode="json") for c in result.claims], indent=2, ensure_ascii=False) + "\n")
        return
    out.print(f"[bold]{doc.title or doc.filename}[/] ({doc.kind.value}, {doc.page_count} pages, id {doc.id[:12]})")
    out.print(f"{len(result.claims)} claims from {result.candidates} candidate sentences; {added} new, {kept} already stored; "
              f"{result.dropped_ungrounded} dropped as ungrounded")
    by_category: dict[str, list] = {}
    for c in result.claims:
        by_category.setdefault(c.category.value, []).append(c)
    for category, claims in sorted(by_category.items()):
        table = Table(title=f"{category} ({len(claims)}, domain {claims[0].domain.value})", title_justify="left", show_lines=False)
        place = "page / cell" if doc.locations else "page"
        for col, kw in ((place, {}), ("direction", {}), ("evidence", {}), ("numbers", {"max_width": 28}), ("quote", {"overflow": "fold"})):
            table.add_column(col, **kw)
        for c in claims:
            numbers = ", ".join(q.text for q in c.quantities[:4]) + (" …" if len(c.quantities) > 4 else "")
            quote = ("(hedged) " if c.hedged else "") + c.quote.replace("\t", " | ")
            table.add_row(c.location or str(c.page), c.direction.value, c.evidence_level.value, numbers, _short(quote, 240))
        out.print(table)
    for total in doc.total_mismatches:
        out.print(f"[yellow]does not add up:[/] {total.note}", highlight=False)


@app.command()
def reindex(
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
) -> None:
    """Rebuild the passage index (Chroma + BM25) from the database, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from api.store.models import PassageRow
    from retrieval.search import ensure_consistent, open_searcher, rebuild

    settings = _settings(data_dir=data_dir)
    store = _store(settings)
    searcher = open_searcher(settings.retrieval, data_dir=settings.data_dir, reset=True)
    total = store.count(PassageRow)
    progress = Progress(TextColumn("indexing passages"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                        transient=True, disable=not err.is_terminal)
    with progress:
        task = progress.add_task("index", total=total)
        done = rebuild(searcher, store.iter_passages(), kinds=store.document_kinds(), total=total,
                       progress=lambda n, _total: progress.update(task, completed=n))
    ensure_consistent(searcher, store.passage_counts())
    searcher.close()
    store.close()
    out.print(f"indexed {done} passages of {len(store.passage_counts())} documents in {settings.retrieval.index_path(settings.data_dir)}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[Optional[int], typer.Option(help="How many passages to return.")] = None,
    doc: Annotated[Optional[list[str]], typer.Option(help="Only this document (id or prefix); repeatable.")] = None,
    kind: Annotated[Optional[str], typer.Option(help="Only documents of this kind.")] = None,
    section: Annotated[Optional[str], typer.Option(help="Only this section label, e.g. results.")] = None,
    page: Annotated[Optional[int], typer.Option(help="Only this page.")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the hits as JSON.")] = False,
) -> None:
    """Hybrid search (BM25 + embeddings) over the indexed passages; prints ranked passages with highlights."""
    import warnings

    from retrieval.base import SearchFilters
    from retrieval.search import snippet

    settings = _settings(data_dir=data_dir)
    store = _store(settings)
    searcher = _open_index(settings, store)
    doc_ids = tuple(store.get_document(d).id for d in doc) if doc else None
    filters = SearchFilters(doc_ids=doc_ids, kinds=kind, sections=section, pages=page)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hits = searcher.search(query, k, filters=filters)
    for w in caught:
        err.print(f"note: {w.message}", markup=False)
    names = {r["id"]: r["filename"] for r in store.list_documents()}
    searcher.close()
    store.close()
    if as_json:
        out.print_json(json.dumps([h.model_dump(mode="json") for h in hits]))
        return
    if not hits:
        out.print("no passages found")
    for rank, h in enumerate(hits, start=1):
        text, spans = snippet(h.text, query)
        shown = Text(text)
        for a, b in spans:
            shown.stylize("bold yellow", a, b)
        out.print(f"[bold]{rank}.[/] {names.get(h.doc_id, h.doc_id[:12])} p{h.page} {h.section or '-'} "
                  f"(score {h.score:.3f}; bm25 #{h.bm25_rank or '-'}, dense #{h.dense_rank or '-'})")
        out.print(shown)


@app.command()
def delete(
    doc_id: Annotated[str, typer.Argument(help="Document id or a unique prefix (6+ characters).")],
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
) -> None:
    """Delete a stored document, its claims and links, and its passages from the index."""
    from api.evidence import delete_document

    settings = _settings(data_dir=data_dir)
    store = _store(settings)
    searcher = _open_index(settings, store)
    full_id = delete_document(store, searcher, doc_id)
    searcher.close()
    store.close()
    out.print(f"deleted {full_id}")


def _stance_style(stance: str) -> str:
    return {"supports": "green", "contradicts": "red"}.get(stance, "dim")


_VERDICT_STYLE = {"supported": "green", "contradicted": "red", "numbers_differ": "red"}


def _verdict(check, passages: dict):
    from retrieval.checking.verdicts import claim_verdict

    return claim_verdict(check.links, passages, claim=check.claim)


def _numeric_text(link) -> str:
    if link.numeric is None or link.numeric.verdict.value == "not_comparable":
        return "numbers: not comparable"
    style = "green" if link.numeric.verdict.value == "match" else "red"
    return f"numbers: [{style}]{link.numeric.verdict.value}[/] ({link.numeric.note})"


def _check_json(check, passages: dict, names: dict) -> dict:
    return {
        "claim": check.claim.model_dump(mode="json"),
        "cited_documents": check.cited_doc_ids,
        "unresolved_references": check.unresolved_keys,
        "evidence_level": check.evidence_level.value if check.evidence_level else None,
        "verdict": {"status": (v := _verdict(check, passages)).status.value, "reason": v.reason,
                    "passage_id": v.link.passage_id if v.link is not None else None},
        "links": [{**lk.model_dump(mode="json"), "document": names.get(passages[lk.passage_id].doc_id),
                   "page": passages[lk.passage_id].page, "text": passages[lk.passage_id].text} for lk in check.links],
    }


@app.command()
def arms(
    path: Annotated[Path, typer.Argument(help="The trial: a PDF, .txt or .md file.")],
    intervention: Annotated[str, typer.Option(help="The intervention arm, as the claim or the paper names it.")],
    comparator: Annotated[str, typer.Option(help="The comparator arm (e.g. 'placebo').")],
    outcome: Annotated[str, typer.Option(help="The outcome measured (e.g. 'wound infection').")],
    outcome_type: Annotated[str, typer.Option("--type", help="binary (events and group sizes) or continuous (means, SDs, group sizes).")] = "binary",
    password: Annotated[Optional[str], typer.Option(help="Password for an encrypted PDF.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reading as JSON.")] = False,
) -> None:
    """Read one comparison's per-arm numbers from a trial: each field's value or why it was withheld, its confidence, and
    where it was read (nothing is stored)."""
    from extractor.arms import ARM_FIELDS, extract_arm_numbers, recompute_effect
    from extractor.pipeline import parse_file

    if outcome_type not in ARM_FIELDS:
        raise EvidenceError(f"unknown --type {outcome_type!r}.", hint=f"Use one of: {', '.join(ARM_FIELDS)}.")
    if not path.is_file():
        raise EvidenceError(f"{path}: no such file.", hint="Give the path of the trial's PDF, .txt or .md file.")
    doc = parse_file(path, password=password)
    result = extract_arm_numbers(doc, intervention=intervention, comparator=comparator, outcome=outcome, outcome_type=outcome_type)
    if as_json:
        out.print_json(json.dumps(result.model_dump(mode="json")))
        return
    out.print(Text.assemble((doc.title or doc.filename, "bold"), f": {outcome} ({outcome_type}), {intervention} vs {comparator}"))
    for name in ARM_FIELDS[outcome_type]:
        value, src, conf = getattr(result, name), result.sources.get(name), result.confidence.get(name)
        if src is None:
            out.print(f"  {name:<34} not found", markup=False)
            continue
        shown = f"{value:g}" if value is not None else f"withheld ({result.withheld[name]:g} read)"
        out.print(f"  {name:<34} {shown:<22} confidence {conf:.2f}  p{src.page} {src.where or 'text'}: {src.context[:70]}", markup=False)
    effects = recompute_effect(result)
    out.print("effect: " + (", ".join(f"{k} {v:.3f}" for k, v in effects.items() if k in ("rr", "rrr", "rd", "md")) if effects
                            else "not recomputed (a number it needs is missing or withheld)"), markup=False)


@app.command("check-claim")
def check_claim_cmd(
    claim_id: Annotated[str, typer.Argument(help="The claim's id (as `vbp support` or `vbp extract --json` print it).")],
    cited_k: Annotated[Optional[int], typer.Option(help="Passages taken from the papers the claim cites (default: "
                                                 "VBP_RETRIEVAL__CHECK__CITED_K, 4).")] = None,
    other_k: Annotated[Optional[int], typer.Option(help="Passages taken from the rest of the collection (default: "
                                                 "VBP_RETRIEVAL__CHECK__OTHER_K, 4).")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check one claim: passages that support or contradict it, and whether the numbers agree. Stores the links."""
    from api.evidence import check_claims
    from retrieval.checking.check import RETRIEVED, STRUCTURE

    settings = _settings(data_dir=data_dir)
    store = _store(settings)
    claim = store.get_claim(claim_id)
    searcher = _open_index(settings, store)
    [check] = check_claims([claim], store=store, searcher=searcher, cited_k=cited_k, other_k=other_k, settings=settings.retrieval.check)
    passages = store.get_passages([lk.passage_id for lk in check.links])
    names = {r["id"]: r["filename"] for r in store.list_documents()}
    searcher.close()
    store.close()
    if as_json:
        out.print_json(json.dumps(_check_json(check, passages, names)))
        return
    out.print(f"[bold]{claim.id}[/] p{claim.page} ({claim.category.value}, {claim.domain.value})")
    out.print(claim.quote, markup=False)
    cites = ", ".join(c.marker for c in claim.citations) or "none"
    out.print(f"cites: {cites}; resolved to {len(check.cited_doc_ids)} ingested paper(s)"
              + (f"; not ingested: references {', '.join(check.unresolved_keys)}" if check.unresolved_keys else ""))
    verdict = _verdict(check, passages)
    out.print(f"verdict: [{_VERDICT_STYLE.get(verdict.status.value, 'dim')}]{verdict.status.value.replace('_', ' ')}[/]")
    out.print("   " + verdict.reason, markup=False)
    if not check.links:
        out.print("no candidate passages: ingest the papers it cites, then run `vbp check-claim` again.")
    for rank, lk in enumerate(check.links, start=1):
        p = passages[lk.passage_id]
        judged = {STRUCTURE: " by structure", RETRIEVED: " (not judged)"}.get(lk.method, "")
        out.print(f"[bold]{rank}.[/] [{_stance_style(lk.stance.value)}]{lk.stance.value}[/] {lk.score:.2f}{judged}"
                  f"{' (cited)' if lk.cited else ''} — {names.get(p.doc_id, p.doc_id[:12])} p{p.page} {p.section or '-'}")
        if lk.evidence:
            out.print("   finding: " + _short(lk.evidence, 300), markup=False)
        out.print("   " + _numeric_text(lk))
        out.print("   " + _short(p.text.replace("\n", " "), 300), markup=False)


@app.command()
def support(
    doc_id: Annotated[str, typer.Argument(help="A submission's document id or a unique prefix (6+ characters).")],
    cited_k: Annotated[Optional[int], typer.Option(help="Passages taken from the papers each claim cites (default: "
                                                 "VBP_RETRIEVAL__CHECK__CITED_K, 4).")] = None,
    other_k: Annotated[Optional[int], typer.Option(help="Passages taken from the rest of the collection (default: "
                                                 "VBP_RETRIEVAL__CHECK__OTHER_K, 4).")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Check every claim of a submission against its cited papers (and the collection); store and print the links."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from api.evidence import check_claims
    from retrieval.checking.verdicts import numeric_status

    settings = _settings(data_dir=data_dir)
    store = _store(settings)
    doc = store.get_document(doc_id)
    claims = store.list_claims(doc.id)
    if not claims:
        raise EvidenceError(f"{doc.filename} has no stored claims.", hint=f"Extract them first: `vbp extract {doc.id[:12]}`.")
    searcher = _open_index(settings, store)
    progress = Progress(TextColumn("checking claims"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                        transient=True, disable=as_json or not err.is_terminal)
    with progress:
        task = progress.add_task("check", total=len(claims))
        checks = check_claims(claims, store=store, searcher=searcher, cited_k=cited_k, other_k=other_k, settings=settings.retrieval.check,
                              progress=lambda n, _t: progress.update(task, completed=n))
    passages = store.get_passages([lk.passage_id for c in checks for lk in c.links])
    names = {r["id"]: r["filename"] for r in store.list_documents()}
    searcher.close()
    store.close()
    if as_json:
        out.print_json(json.dumps([_check_json(c, passages, names) for c in checks]))
        return
    counts: dict[str, int] = {}
    table = Table(title=f"{doc.filename}: {len(checks)} claims", title_justify="left")
    for col, kw in (("page", {}), ("claim", {"overflow": "fold", "ratio": 3}), ("verdict", {}),
                    ("source", {"overflow": "fold", "ratio": 1}), ("numbers", {})):
        table.add_column(col, **kw)
    for c in checks:
        verdict = _verdict(c, passages)
        status = verdict.status.value
        counts[status] = counts.get(status, 0) + 1
        source, numbers = "", ""
        if verdict.link is not None:
            p = passages[verdict.link.passage_id]
            source = f"{names.get(p.doc_id, p.doc_id[:12])} p{p.page}{' (cited)' if verdict.link.cited else ''}"
        numbers = {"match": "match", "mismatch": "mismatch"}.get(numeric_status(c.links)[0].value, "-")  # the rule the verdict reads
        table.add_row(str(c.claim.page), _short(c.claim.quote, 160),
                      f"[{_VERDICT_STYLE.get(status, 'dim')}]{status.replace('_', ' ')}[/]", source, numbers)
    out.print(table)
    out.print(", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


@app.command()
def check(
    submission: Annotated[Path, typer.Argument(help="The submission (or a draft of it): PDF, Word, Excel, .txt or .md.")],
    papers: Annotated[Optional[list[Path]], typer.Option("--papers", help="A folder (or file) of the papers it cites; repeatable.")] = None,
    supplier: Annotated[str, typer.Option(help="Supplier name shown on the report.")] = "",
    fmt: Annotated[str, typer.Option("--format", help="text (a summary here), json or html.")] = "text",
    output: Annotated[Optional[Path], typer.Option("--out", help="Write the JSON or HTML report to this file.")] = None,
    password: Annotated[Optional[str], typer.Option(help="Password of an encrypted submission.")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Keep the parsed documents and index here (default: a temporary "
                                                           "folder, removed afterwards: nothing of the bid is kept).")] = None,
) -> None:
    """Pre-check a submission against the papers it cites, without a server: claims with no source, numbers that do not
    match their source, marketing-only claims, domains with no evidence, weak evidence. Exit 1 when not ready."""
    import tempfile
    from datetime import datetime, timezone

    from api import reports
    from api.evidence import check_claims, evidence_items
    from api.ingest import expand_paths, extract_and_store, ingest_paths
    from extractor.schema import DocumentKind, IngestStatus

    if fmt not in ("text", "json", "html"):
        raise EvidenceError(f"unknown format {fmt!r}.", hint="Use text, json or html.")
    if not submission.is_file():
        raise EvidenceError(f"{submission}: no such file.", hint="Give the path of the submission PDF, Word, Excel, .txt or .md file.")
    paper_files = expand_paths(papers or [])
    tmp = tempfile.TemporaryDirectory(prefix="vbp-check-") if data_dir is None else None
    settings = _settings(data_dir=Path(tmp.name) if tmp else data_dir)
    try:
        store = _store(settings)
        searcher = _open_index(settings, store)
        failed = []
        if paper_files:
            results = ingest_paths(paper_files, store=store, settings=settings.parsing, workers=settings.workers,
                                   kind=DocumentKind.clinical_paper, searcher=searcher)
            failed = [r for r in results if r.status is IngestStatus.failed]
            for r in failed:
                err.print(f"[yellow]warning:[/] {r.message}", highlight=False)
        doc, _result, _added, _kept = extract_and_store(submission, store=store, settings=settings.parsing, password=password,
                                                        kind=DocumentKind.supplier_submission, searcher=searcher)
        paper_ids = set(store.passage_counts()) - {doc.id}
        claims = store.list_claims(doc.id)
        checks = (check_claims(claims, store=store, searcher=searcher, scope=paper_ids, settings=settings.retrieval.check)
                  if paper_ids else [_unchecked(c) for c in claims])
        report = reports.precheck(supplier or doc.title or doc.filename, [doc.title or doc.filename],
                                  evidence_items(checks, store), generated_at=datetime.now(timezone.utc),
                                  references={r.key: r.text for r in doc.references},
                                  figures=[(doc.filename, t) for t in doc.total_mismatches])
        report["papers"] = {"given": len(paper_files), "read": len(paper_files) - len(failed)}
        searcher.close()
        store.close()
    finally:
        if tmp is not None:
            tmp.cleanup()
    rendered = reports.precheck_html(report) if fmt == "html" else json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if output is not None:
        output.write_text(rendered, encoding="utf-8")
    if fmt == "text" or output is not None:
        _print_precheck(report, doc.filename)
        if output is not None:
            out.print(f"report written to {output}")
    else:
        sys.stdout.write(rendered)
    if report["readiness"]["verdict"] == "not_ready":
        raise typer.Exit(1)


def _unchecked(claim):
    from api.evidence import ClaimCheck

    return ClaimCheck(claim=claim)


def _print_precheck(report: dict, filename: str) -> None:
    verdict = report["readiness"]["verdict"]
    style = {"ready": "green", "ready_with_warnings": "yellow"}.get(verdict, "red")
    out.print(f"[bold]{filename}[/]: [{style}]{verdict.replace('_', ' ')}[/] — {report['readiness'].get('headline', '')}")
    table = Table(title_justify="left")
    for col, kw in (("severity", {}), ("finding", {}), ("page", {}), ("claim / domain", {"overflow": "fold", "ratio": 3}),
                    ("fix", {"overflow": "fold", "ratio": 2})):
        table.add_column(col, **kw)
    for group in report["groups"]:
        for f in group["findings"]:
            where = _short(f["quote"] or f["message"], 150)
            table.add_row(f["severity"], group["title"], str(f["page"] or ""), where, _short(f["fix"], 160))
    if table.row_count:
        out.print(table)


@app.command()
def bench(
    folder: Annotated[Path, typer.Argument(help="Folder of PDF, Word and Excel files to measure on.")],
    parse_only: Annotated[bool, typer.Option("--parse-only", help="Measure parsing only.")] = False,
    workers: Annotated[Optional[int], typer.Option(help="Parser processes (default: VBP_WORKERS).")] = None,
    repeat: Annotated[int, typer.Option(help="Parse the folder this many times (memory must not grow).")] = 1,
    search: Annotated[bool, typer.Option("--search", help="Measure indexing and search instead (a folder of PDFs, or a SciFact "
                                         "folder: its abstracts are indexed and its claims are the queries).")] = False,
    queries: Annotated[int, typer.Option(help="--search: how many queries to time.")] = 300,
    json_file: Annotated[Optional[Path], typer.Option("--json", help="Also write the figures to this JSON file.")] = None,
) -> None:
    """Measure speed and memory on a folder of PDFs (or indexing and search with --search); print the machine."""
    from eval import bench as bench_mod

    settings = _settings(workers=workers)
    if search:
        report = bench_mod.bench_search(folder, queries=queries, embedder=settings.retrieval.embedder)
    else:
        report = bench_mod.bench_parse(folder, settings=settings.parsing, workers=settings.workers, repeat=repeat, extract=not parse_only)
    out.print(bench_mod.format_report(report), markup=False)
    if json_file:
        json_file.write_text(json.dumps(report, indent=2) + "\n")


@app.command("eval")
def eval_cmd(
    dataset: Annotated[str, typer.Argument(help="vbp, evidence-inference, rct-numeric, ebm-nlp, measeval, scifact, nli4ct or healthver.")],
    data: Annotated[Path, typer.Option(help="Dataset folder in the layout of ../shared/data (for 'vbp': the gold JSONL).")],
    split: Annotated[Optional[str], typer.Option(help="Split to score (default: the one split present).")] = None,
    source: Annotated[Optional[str], typer.Option(help="rct-numeric: 'pdf' (default) or 'markdown'.")] = None,
    limit: Annotated[Optional[int], typer.Option(help="Score only the first N examples (quick checks).")] = None,
    cv: Annotated[Optional[int], typer.Option(help="rct-numeric: K article-level folds, heads refitted on K-1 (e.g. --split TRAIN --cv 5); "
                                                         "vbp: K document folds, the category head refitted on K-1.")] = None,
    index_dir: Annotated[Optional[Path], typer.Option(help="scifact: keep the corpus index in this folder and reuse it.")] = None,
    label: Annotated[Optional[bool], typer.Option("--label/--no-label", help="scifact: also score the label task (default: yes).")] = None,
    outcome_spans: Annotated[bool, typer.Option("--outcome-spans", help="vbp: outcomes from the learned span scorer (off in the product).")] = False,
    json_file: Annotated[Optional[Path], typer.Option("--json", help="Also write the result to this JSON file.")] = None,
) -> None:
    """Score the pipeline on a public gold set and print a table (SPEC harness contract)."""
    from eval import runner

    options = {k: v for k, v in {"source": source, "limit": limit, "index_dir": index_dir, "label": label, "cv": cv,
                                 "outcome_spans": outcome_spans or None}.items() if v is not None}
    result = runner.run(dataset, data, split, **options)
    out.print(runner.format_table(result), markup=False)
    if json_file:
        runner.write_json(result, json_file)


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to listen on (default: VBP_SERVICE__HOST, 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port to listen on (default: VBP_SERVICE__PORT, 8000).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Ingest corpus/ into a demo tender on first start and print fresh demo keys.")] = False,
    corpus: Annotated[Path, typer.Option(help="With --demo: the corpus folder.")] = Path("corpus"),
    papers: Annotated[Optional[Path], typer.Option(help="With --demo: folder of the papers the corpus cites "
                                                        "(default: ../shared/data/pdfs when present).")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
) -> None:
    """Run the HTTP service (FastAPI + uvicorn) on the data folder; SIGTERM stops it cleanly and resumes jobs at the next start."""
    import uvicorn

    from api.app import create_app

    settings = _settings(data_dir=data_dir)
    host = host or settings.service.host
    port = port or settings.service.port
    application = create_app(settings)
    services = application.state.services
    if not services.repo.list_users() and not demo:
        err.print("[yellow]note:[/] no users yet: create an admin with `vbp user add NAME --role admin` (it prints the key).")
    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0', '::') else host}:{port}"
    if demo:
        from api.demo import seed_demo

        if papers is None and (Path("..") / "shared" / "data" / "pdfs").is_dir():
            papers = Path("..") / "shared" / "data" / "pdfs"
        info = seed_demo(services, corpus=corpus, papers=papers)
        out.print(f"[bold]vbp-evidence demo[/] on {url}  (API docs: {url}/docs)")
        out.print(f"Sign in to the workspace at {url}/ui/signin with one of these keys:", markup=False)
        out.print(f"demo tender {info.tender_id}: " + (f"{info.queued} corpus documents queued for ingest" if info.created
                                                       else "already ingested on an earlier start"))
        width = max(map(len, info.keys), default=0)
        for name, key in info.keys.items():
            out.print(f"  {name:<{width}}  {key}", markup=False)
        out.print("These keys are new on every start (the previous ones no longer work). Try:", markup=False)
        evaluator = info.keys.get("demo-evaluator", "KEY")
        out.print(f'  curl -H "Authorization: Bearer {evaluator}" "{url}/tenders/{info.tender_id}/claims?limit=3"', markup=False)
    else:
        out.print(f"vbp-evidence on {url}  (workspace: {url}/ui/signin; API docs: {url}/docs; data folder {settings.data_dir})")
    sys.stdout.flush()
    from api.protocols import protocol_class

    # uvicorn's own protocol, with limits on the request head and its refusals in the service's JSON error shape
    http = protocol_class(max_request_line_bytes=settings.service.max_request_line_bytes, max_header_bytes=settings.service.max_header_bytes)
    uvicorn.run(application, host=host, port=port, log_level="info", timeout_graceful_shutdown=30, http=http)


user_app = typer.Typer(no_args_is_help=True, help="Users and API keys of the HTTP service.")
app.add_typer(user_app, name="user")


def _repo(data_dir: Optional[Path]):
    from api.store.service import ServiceRepo

    return ServiceRepo(_store(_settings(data_dir=data_dir)))


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Unique user name.")],
    role: Annotated[str, typer.Option(help="admin, evaluator or supplier.")],
    supplier: Annotated[Optional[str], typer.Option(help="For suppliers: the supplier's id (a slug such as 'ashgrove').")] = None,
    supplier_name: Annotated[Optional[str], typer.Option(help="Display name of a supplier created with this user.")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the user and key as JSON.")] = False,
) -> None:
    """Create a user and print their API key (shown this once; only its hash is stored)."""
    user, key = _repo(data_dir).create_user(name, role, supplier_id=supplier, supplier_name=supplier_name)
    if as_json:
        out.print_json(json.dumps({"user": user, "key": key}, default=str))
        return
    out.print(f"created {user['role']} {user['name']} (id {user['id']}" + (f", supplier {user['supplier_id']})" if user["supplier_id"] else ")"))
    out.print(f"key: {key}", markup=False)
    out.print("Keep it safe: it is shown only now.")


@user_app.command("list")
def user_list(
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the users as JSON.")] = False,
) -> None:
    """List users (never their keys)."""
    users = _repo(data_dir).list_users()
    if as_json:
        out.print_json(json.dumps(users, default=str))
        return
    table = Table(title=f"{len(users)} users", title_justify="left")
    for col in ("id", "name", "role", "supplier", "active", "created"):
        table.add_column(col)
    for u in users:
        table.add_row(str(u["id"]), u["name"], u["role"], u["supplier_id"] or "", "yes" if u["active"] else "revoked",
                      str(u["created_at"])[:19])
    out.print(table)


@user_app.command("revoke")
def user_revoke(
    name: Annotated[str, typer.Argument(help="User name or id.")],
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
) -> None:
    """Revoke a user and all their keys at once."""
    user = _repo(data_dir).revoke_user(name)
    out.print(f"revoked {user['name']} (id {user['id']}); their keys no longer work")


@user_app.command("key")
def user_key(
    name: Annotated[str, typer.Argument(help="User name or id.")],
    revoke_others: Annotated[bool, typer.Option("--revoke-others", help="Revoke the user's older keys.")] = False,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: VBP_DATA_DIR).")] = None,
) -> None:
    """Issue another API key for a user (to rotate keys) and print it once."""
    key = _repo(data_dir).issue_key(name, revoke_others=revoke_others)
    out.print(f"key: {key}", markup=False)


@app.command("settings")
def settings_cmd() -> None:
    """Print the effective settings (defaults, then VBP_* environment variables)."""
    s = _settings()
    data = s.model_dump(mode="json")
    data["effective_database_url"] = s.db_url
    out.print_json(json.dumps(data))


def main() -> None:
    """Entry point of the `vbp` console script: errors become one clear line and an exit code."""
    debug = "--debug" in sys.argv[1:]
    try:
        rc = app(standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except EvidenceError as e:
        if debug:
            err.print_exception()
        # one line each, never wrapped, and the message is not read as markup ("[1]" in a quote stays as it is)
        err.print(Text.assemble(("error:", "red"), " ", e.message), soft_wrap=True)
        if e.hint:
            err.print(f"  {e.hint}", markup=False, soft_wrap=True)
        sys.exit(2)
    except Exception as e:  # noqa: BLE001 - never show a traceback unless asked
        import click

        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if debug:
            err.print_exception()
        else:
            err.print(f"[red]internal error:[/] {type(e).__name__}: {e}", markup=True)
            err.print("  Re-run with --debug for the traceback, and report it.", markup=False)
        sys.exit(3)


if __name__ == "__main__":
    main()
