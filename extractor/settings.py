"""Settings of the extractor package: parsing limits and passage size."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ParsingSettings(BaseModel):
    """Limits and knobs for turning a file into a Document."""

    model_config = ConfigDict(extra="forbid")

    max_file_mb: float = Field(default=200.0, gt=0, description="Largest file accepted, in MiB.")
    max_pages: int = Field(default=2000, ge=1, description="Most pages parsed from one document.")
    timeout_s: float = Field(
        default=50.0, gt=0,
        description="Most seconds spent parsing one document. Checked between pages; a parser process still stuck inside the PDF "
                    "library 5 s later is killed (real papers parse in under a second).",
    )
    max_page_operators: int = Field(
        default=500_000, ge=1000,
        description="Most content-stream operators (estimated, before the page is loaded) on one page, its forms included. "
                    "Real pages have under 50,000; a page of millions takes the PDF library tens of seconds and GBs of memory.",
    )
    max_page_content_mb: float = Field(
        default=32.0, gt=0,
        description="Most decompressed content, in MiB, of one page's content streams and forms; more is reported as a "
                    "decompression bomb. Real pages have under 2 MiB.",
    )
    max_page_chars: int = Field(
        default=200_000, ge=1000,
        description="Most characters on one page's text layer. Real pages have under 20,000.",
    )
    max_memory_mb: int = Field(
        default=1024, ge=128,
        description="Most memory, in MiB, a parser worker process may allocate beyond what it holds when it starts (RLIMIT_AS). "
                    "A normal parse adds under 30 MiB; a file that needs more is reported as too complex. Applies to the "
                    "worker processes of batch ingest and the service, not to a parse run in the calling process.",
    )
    max_office_members: int = Field(
        default=10_000, ge=10,
        description="Most files inside a Word or Excel file's ZIP container. Real ones have under 200; more is refused "
                    "before anything is unpacked.",
    )
    max_office_unzipped_mb: float = Field(
        default=256.0, gt=0,
        description="Most bytes, in MiB, a Word or Excel file may unpack to (checked from its ZIP directory before reading, "
                    "and each member is read no further than it declares). Real ones unpack to under 50 MiB; more is a zip bomb.",
    )
    max_sheet_cells: int = Field(
        default=2_000_000, ge=1000,
        description="Most non-empty cells read from one workbook. A whole-life cost model has a few thousand.",
    )
    passage_chars: int = Field(default=900, ge=200, description="Target length of a passage in characters.")
    min_chars_per_page: int = Field(
        default=20, ge=0, description="A page with fewer extractable characters counts as having no text layer."
    )
    garbage_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Text-quality score below which a page's text layer is reported as garbage."
    )
    ocr: bool = Field(
        default=True,
        description="Read pages without a usable text layer (scans, garbled invisible OCR layers) by OCR with Tesseract. "
                    "Off: such pages are reported, and a PDF of scans only is refused as having no text layer.",
    )
    ocr_timeout_s: float = Field(
        default=30.0, gt=0,
        description="Most seconds OCR may spend on one page (rendering included); a page still unread then is left without "
                    "text, with a warning. A scanned A4 page takes 1-5 s.",
    )
    ocr_max_pages: int = Field(
        default=25, ge=1,
        description="Most pages OCR'd in one document; the rest are left without text, with a warning. OCR also stops within "
                    "timeout_s, whichever comes first.",
    )
    ocr_min_confidence: float = Field(
        default=0.6, ge=0, le=1,
        description="Mean OCR word confidence (0-1) below which a page's OCR text is reported as unreliable.",
    )
