"""`vbp bench`: speed and memory of the pipeline on a folder of PDFs, Word and Excel files, with the machine it ran on."""

from __future__ import annotations

import logging
import os
import platform
import resource
import time
from pathlib import Path

from extractor.parsing.office import is_workbook
from extractor.settings import ParsingSettings


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "python": platform.python_version(), "platform": platform.platform()}


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


BENCH_SUFFIXES = (".pdf", ".docx", ".xlsx")  # what `vbp bench` parses in a folder


def bench_parse(folder: Path, *, settings: ParsingSettings, workers: int, repeat: int = 1, extract: bool = False) -> dict[str, object]:
    """Parse (and with ``extract``, extract claims from) every PDF, Word and Excel file in ``folder`` ``repeat`` times;
    report pages (and claims) per second and memory.

    Memory is reported per pass so that growth with the number of files shows: the parent's
    resident set after each pass, and the largest resident set any worker process reached.
    Pages (sheets for a workbook) per second are also reported by media type, over each file's own parse
    time; when pages were OCR'd, ``ocr_pages`` and ``ocr_seconds_per_page`` say how many and how slowly.
    """
    from extractor.batch import parse_many

    files = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in BENCH_SUFFIXES)
    passes: list[dict[str, float]] = []
    failures: dict[str, str] = {}
    total_pages = 0
    total_seconds = 0.0
    worker_peaks: list[float] = []
    by_type: dict[str, dict[str, float]] = {}
    ocr = {"pages": 0, "seconds": 0.0}
    for _ in range(max(1, repeat)):
        pages = claims = 0
        worker_peak = 0.0
        t0 = time.perf_counter()
        for path, outcome, secs in parse_many(files, settings=settings, workers=workers, extract=extract):
            if isinstance(outcome, Exception):
                failures[path.name] = getattr(outcome, "code", type(outcome).__name__)
            else:
                pages += outcome.page_count
                claims += int(outcome.metadata.get("claims", 0))
                worker_peak = max(worker_peak, float(outcome.metadata.get("process_peak_rss_mb", 0)))
                _count_file(by_type, ocr, outcome, secs)
        seconds = time.perf_counter() - t0
        total_pages += pages
        total_seconds += seconds
        passes.append({"pages_per_second": round(pages / seconds, 1), "rss_mb": round(_rss_mb(), 1), "claims": claims})
        worker_peaks.append(round(worker_peak, 1))
    children = max(worker_peaks) if workers else 0.0
    return {
        "task": "parse+extract" if extract else "parse",
        "folder": str(folder),
        "files": len(files),
        "failed_files": len(failures),
        "pages": total_pages // max(1, repeat),
        "workers": workers,
        "repeat": repeat,
        "seconds": round(total_seconds, 2),
        "pages_per_second": round(total_pages / total_seconds, 1) if total_seconds else 0.0,
        **({"claims": passes[0]["claims"], "claims_per_second": round(sum(p["claims"] for p in passes) / total_seconds, 1)} if extract else {}),
        "peak_rss_mb": round(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, children), 1),
        "parent_rss_mb_per_pass": [p["rss_mb"] for p in passes],
        "pages_per_second_per_pass": [p["pages_per_second"] for p in passes],
        "worker_peak_rss_mb": round(children, 1),
        "worker_peak_rss_mb_per_pass": worker_peaks if workers else [],
        **_ocr_figures(ocr),
        "by_media_type": _media_figures(by_type, max(1, repeat)),
        "failures": failures,
        "machine": machine(),
    }


def _count_file(by_type: dict[str, dict[str, float]], ocr: dict[str, float], doc, seconds: float) -> None:
    """Add one parsed file to the per-media-type and OCR totals."""
    row = by_type.setdefault(doc.media_type, {"files": 0, "pages": 0, "seconds": 0.0})
    row["files"] += 1
    row["pages"] += doc.page_count
    row["seconds"] += seconds
    ocr["pages"] += int(doc.metadata.get("ocr_pages", 0))
    ocr["seconds"] += float(doc.metadata.get("ocr_seconds", 0))


def _ocr_figures(ocr: dict[str, float]) -> dict[str, object]:
    """OCR pages and seconds per OCR'd page (render and OCR), when any page was OCR'd."""
    if not ocr["pages"]:
        return {}
    return {"ocr_pages": int(ocr["pages"]), "ocr_seconds_per_page": round(ocr["seconds"] / ocr["pages"], 2)}


def _media_figures(by_type: dict[str, dict[str, float]], repeat: int) -> dict[str, dict[str, object]]:
    """Per media type: files and pages (sheets for a workbook) of one pass, and pages per second of parse time."""
    out = {}
    for media_type, row in sorted(by_type.items()):
        unit = "sheets" if is_workbook(media_type) else "pages"
        out[media_type] = {
            "files": int(row["files"]) // repeat,
            unit: int(row["pages"]) // repeat,
            f"{unit}_per_second": round(row["pages"] / row["seconds"], 1) if row["seconds"] else 0.0,
        }
    return out


def bench_search(folder: Path, *, queries: int = 300, embedder: str | None = None) -> dict[str, object]:
    """Index passages in a fresh hybrid index (real Chroma + BM25, in a temporary folder) and time searches.

    ``folder`` is either a SciFact-layout folder (``corpus.jsonl``: every abstract becomes one passage, the
    claims are the queries) or a folder of PDFs (parsed; their passages are indexed and their sentences are
    the queries). Reports ``passages_per_second`` (embedding and writing both indexes) and ``query_ms_p50`` /
    ``query_ms_p95`` (one query at a time, fused top 10, after one warm-up query).
    """
    import tempfile

    from retrieval.search import open_searcher
    from retrieval.settings import RetrievalSettings

    passages, texts = _search_material(Path(folder))
    settings = RetrievalSettings(index_dir=None, collection="bench", **({"embedder": embedder} if embedder else {}))
    with tempfile.TemporaryDirectory(prefix="vbp-bench-") as tmp:
        t_open = time.perf_counter()
        searcher = open_searcher(settings, data_dir=Path(tmp))
        open_seconds = time.perf_counter() - t_open
        t0 = time.perf_counter()
        for start in range(0, len(passages), 256):  # as `vbp reindex` writes them
            searcher.add(passages[start : start + 256])
        index_seconds = time.perf_counter() - t0
        asked = texts[: max(1, queries)]
        searcher.search(asked[0], 10)
        latencies = []
        for text in asked:
            t1 = time.perf_counter()
            searcher.search(text, 10)
            latencies.append((time.perf_counter() - t1) * 1000)
        searcher.close()
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, max(0, int(q * len(latencies) + 0.999999) - 1))], 2)

    return {
        "task": "index+search",
        "folder": str(folder),
        "embedder": settings.embedder,
        "passages": len(passages),
        "mean_passage_chars": round(sum(len(p.text) for p in passages) / max(1, len(passages))),
        "open_seconds": round(open_seconds, 2),
        "index_seconds": round(index_seconds, 1),
        "passages_per_second": round(len(passages) / index_seconds, 1) if index_seconds else 0.0,
        "queries": len(latencies),
        "query_ms_p50": pct(0.5),
        "query_ms_p95": pct(0.95),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": machine(),
    }


def _search_material(folder: Path):
    """(passages, query texts) from a SciFact folder or a folder of PDFs."""
    if (folder / "corpus.jsonl").is_file():
        from eval.datasets.scifact import corpus_passages, default_split, load_claims, load_corpus

        return corpus_passages(load_corpus(folder)), [c["claim"] for c in load_claims(folder, default_split(folder))]
    from extractor.errors import ConfigError
    from extractor.pipeline import parse_file

    passages, queries = [], []
    for path in sorted(p for p in folder.rglob("*.pdf") if p.is_file()):
        try:
            doc = parse_file(path)
        except Exception as e:  # noqa: BLE001 - a bad file is skipped in a speed measurement
            logging.getLogger(__name__).info("skipping %s: %s", path.name, e)
            continue
        passages.extend(doc.passages)
        queries.extend(s.text for s in doc.sentences if 40 <= len(s.text) <= 300)
    if not passages:
        raise ConfigError(f"no passages found in {folder}.", hint="Give a folder of PDFs or a SciFact folder (corpus.jsonl).")
    return passages, queries


def format_report(report: dict[str, object]) -> str:
    lines = [f"{k:>24}: {v}" for k, v in report.items() if k != "machine" and not isinstance(v, (list, dict))]
    for k, v in report.items():
        if isinstance(v, list):
            lines.append(f"{k:>24}: {', '.join(str(x) for x in v)}")
    for media_type, row in (report.get("by_media_type") or {}).items():
        lines.append(f"{media_type:>24}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in row.items()))
    m = report.get("machine", {})
    lines.append(f"{'machine':>24}: {m.get('cpu')} ({m.get('cores')} cores, {m.get('memory_gb')} GB), Python {m.get('python')}")
    return "\n".join(lines)
