"""Word and Excel files: the ZIP container is checked before anything is unpacked, then the format's reader runs.

Checked first, from the bytes and the ZIP directory alone: a password-protected file (an encrypted Office file is an
OLE compound file holding ``EncryptionInfo``), a legacy .doc/.xls, a damaged container, too many members, and a
container that would unpack to more than the limit (a zip bomb). Each member is then read no further than the size
its directory entry declares, which the ZIP reader enforces, so a lying directory cannot inflate past the check.

Macro-enabled files (.docm, .xlsm) are read with their macros set aside: nothing in a file is ever run.
"""

from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from extractor import __version__
from extractor.errors import (
    CompressionLimitError,
    DamagedFileError,
    DocumentError,
    EmptyFileError,
    LimitExceededError,
    PasswordRequiredError,
    UnsupportedFileTypeError,
)
from extractor.settings import ParsingSettings

WORD_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXCEL_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORD_MACRO_TYPE = "application/vnd.ms-word.document.macroEnabled.12"
EXCEL_MACRO_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.12"
WORKBOOK_TYPES = frozenset({EXCEL_TYPE, EXCEL_MACRO_TYPE})


def is_workbook(media_type: str) -> bool:
    """True for an Excel workbook's media type (its sheets are pages, its totals were checked cell by cell)."""
    return media_type in WORKBOOK_TYPES

_WORD_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_WORD_MACRO_MAIN = b"application/vnd.ms-word.document.macroEnabled.main+xml"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAVE_AGAIN = "Open it in Word or Excel and save it as .docx / .xlsx (or export it as PDF), then upload that file."


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def read_office(path: Path, data: bytes, name: str, settings: ParsingSettings):
    """Read a Word or Excel file into the pipeline's ``Read``.

    Args:
        path: The file (its suffix says what the user meant it to be).
        data: Its bytes.
        name: The name to put in messages.
        settings: The parsing limits.

    Raises:
        DocumentError: password-protected, legacy, damaged, zip bomb, unsupported Office type, empty, too long.
    """
    from extractor.pipeline import Read  # the pipeline imports this module lazily: no cycle at import time

    started = time.monotonic()
    suffix = path.suffix.lower()
    if not data:
        raise EmptyFileError(name, "the file is empty (0 bytes).", hint="Check the upload or download and send the file again.")
    if data[:8] == _OLE:
        raise _ole_error(data, name)
    box = _open(BytesIO(data), name, settings)
    kind = box.kind
    warnings: list[str] = []
    expected = "word" if suffix in (".docx", ".docm") else "excel" if suffix in (".xlsx", ".xlsm") else None
    if expected and expected != kind:
        warnings.append(f"the file is named {suffix} but is {'a Word document' if kind == 'word' else 'an Excel workbook'}; it was read as one")
    elif expected is None:
        warnings.append(f"the file is named '{suffix or 'without an extension'}' but is "
                        f"{'a Word document' if kind == 'word' else 'an Excel workbook'}; it was read as one")
    if box.macro:
        warnings.append("the file is macro-enabled; its macros were not run (vbp never runs anything inside a file)")
    try:
        if kind == "word":
            return _word(data, box, name, settings, started, warnings, Read)
        return _excel(data, box, name, settings, started, warnings, Read)
    except DocumentError:
        raise
    except MemoryError as e:
        raise LimitExceededError(name, "the file needs more memory to read than is allowed.",
                                 hint="Split the document, or raise VBP_PARSING__MAX_MEMORY_MB.", original=e) from None
    except Exception as e:  # noqa: BLE001 - any failure inside python-docx/openpyxl on a malformed part is the file's fault
        raise DamagedFileError(name, f"the {'Word' if kind == 'word' else 'Excel'} file could not be read: {type(e).__name__}: "
                               f"{str(e)[:160]}.", hint=_SAVE_AGAIN, original=e) from None


def _ole_error(data: bytes, name: str) -> DocumentError:
    if _utf16("EncryptionInfo") in data or _utf16("EncryptedPackage") in data:
        return PasswordRequiredError(
            name, "the Office file is password-protected (encrypted), so its text cannot be read.",
            hint="Remove the password (File > Info > Protect > Encrypt with Password, clear it), save, and upload again; "
                 "or export it as PDF.")
    what = "Word 97-2003 (.doc)" if _utf16("WordDocument") in data else "Excel 97-2003 (.xls)" if _utf16("Workbook") in data \
        else "legacy Office (97-2003)"
    return UnsupportedFileTypeError(name, f"{what} files are not read.", hint=_SAVE_AGAIN)


def _check_container(members: list[zipfile.ZipInfo], name: str, settings: ParsingSettings) -> None:
    """Refuse a container that has too many members or unpacks past the limit, before any member is read."""
    if len(members) > settings.max_office_members:
        raise LimitExceededError(
            name, f"the Office file's container holds {len(members):,} files, over the {settings.max_office_members:,} limit.",
            hint="Re-save it from Word or Excel; if the file is trusted, raise VBP_PARSING__MAX_OFFICE_MEMBERS.")
    total = sum(m.file_size for m in members)
    limit = settings.max_office_unzipped_mb * 1024 * 1024
    if total > limit:
        packed = sum(m.compress_size for m in members) or 1
        raise CompressionLimitError(
            name, f"the Office file would unpack to {total / 1048576:,.0f} MiB ({total / packed:,.0f} times its packed size), "
                  f"over the {settings.max_office_unzipped_mb:g} MiB limit (a zip bomb, or a workbook far larger than a bid needs).",
            hint="Do not open it; ask the sender for the original file. If it is trusted, raise VBP_PARSING__MAX_OFFICE_UNZIPPED_MB.")
    if any(m.flag_bits & 0x1 for m in members):
        raise PasswordRequiredError(name, "members of the Office file's container are encrypted.", hint=_SAVE_AGAIN)


@dataclass(slots=True)
class _Container:
    """An Office file's ZIP container, checked: its members, content types, which document it holds, any macros."""

    archive: zipfile.ZipFile
    members: list[zipfile.ZipInfo]
    content_types: bytes
    kind: str  # "word" | "excel"
    macro: bool


def _open(source, name: str, settings: ParsingSettings) -> _Container:
    """Open and check a container (a path or a file object): the limits, then what it holds.

    Raises:
        DamagedFileError, LimitExceededError, CompressionLimitError, PasswordRequiredError, UnsupportedFileTypeError
        (a plain ZIP archive, a PowerPoint file, another Office type).
    """
    try:
        archive = zipfile.ZipFile(source)
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise DamagedFileError(name, f"the file is not a readable Word or Excel file: its ZIP container is damaged ({e}).",
                               hint=_SAVE_AGAIN, original=e) from None
    _check_container(members, name, settings)
    names = {m.filename for m in members}
    content_types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
    kind = _kind(content_types, names)
    if kind is None:
        raise UnsupportedFileTypeError(
            name, "this is a ZIP archive, not a Word or Excel document (it has no Office content types).",
            hint="Unpack it and upload the PDF, Word (.docx) or Excel (.xlsx) files it holds, one by one.")
    if kind in ("pptx", "other-office"):
        what = "a PowerPoint presentation" if kind == "pptx" else "an Office file of a type that is not read"
        raise UnsupportedFileTypeError(name, f"this is {what}.", hint="Export it as PDF and upload that file.")
    macro = any(n.lower().endswith("vbaproject.bin") for n in names) or b"macroEnabled" in content_types
    return _Container(archive, members, content_types, kind, macro)


def _kind(content_types: bytes, names: set[str]) -> str | None:
    if not content_types:
        return None
    if b"wordprocessingml.document.main" in content_types or _WORD_MACRO_MAIN in content_types or "word/document.xml" in names:
        return "word"
    if b"spreadsheetml.sheet.main" in content_types or b"ms-excel.sheet.macroEnabled.main" in content_types or "xl/workbook.xml" in names:
        return "excel"
    if b"presentationml" in content_types:
        return "pptx"
    return "other-office"


def _media_type(box: _Container) -> str:
    if box.kind == "word":
        return WORD_MACRO_TYPE if box.macro else WORD_TYPE
    return EXCEL_MACRO_TYPE if box.macro else EXCEL_TYPE


def _word(data, box: _Container, name, settings, started, warnings, Read):
    from extractor.parsing.word import read_word

    if box.macro:  # python-docx opens only .docx: the same parts, without the macro project, under the .docx content type
        data = _without_macros(box.archive, box.members, box.content_types)
    pages = read_word(data, name, settings, started)
    return Read(pages.page_texts, pages.blocks, [1] * len(pages.page_texts), 10.0, _media_type(box),
                pages.metadata, warnings + pages.warnings, len(pages.page_texts), [], locations=pages.locations,
                parser=f"parse.docx.v1 ({__version__})")


def _excel(data, box: _Container, name, settings, started, warnings, Read):
    from extractor.parsing.excel import read_excel

    book = read_excel(data, name, settings, started)
    return Read(book.page_texts, book.blocks, [1] * len(book.page_texts), 10.0, _media_type(box),
                book.metadata, warnings + book.warnings, len(book.page_texts), [], locations=book.locations,
                total_mismatches=book.total_mismatches, parser=f"parse.xlsx.v1 ({__version__})")


def _without_macros(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], content_types: bytes) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for m in members:
            if m.filename.lower().endswith("vbaproject.bin") or m.filename.lower().endswith("vbadata.xml"):
                continue
            blob = archive.read(m)
            if m.filename == "[Content_Types].xml":
                blob = content_types.replace(_WORD_MACRO_MAIN, _WORD_MAIN)
            copy.writestr(m, blob)
    return out.getvalue()


def preflight_office(path: Path, *, settings: ParsingSettings | None = None, filename: str | None = None) -> str:
    """The cheap checks of an Office upload, before it is accepted: not encrypted or legacy, an intact container within
    the limits, a Word or Excel document. Returns its media type.

    Raises:
        DocumentError: as ``read_office`` would, for the container (the document's XML is not read here).
    """
    settings = settings or ParsingSettings()
    name = filename or path.name
    with path.open("rb") as fh:
        head = fh.read(8)
    if not head:
        raise EmptyFileError(name, "the file is empty (0 bytes).", hint="Check the file and upload it again.")
    if head == _OLE:
        raise _ole_error(path.read_bytes(), name)
    box = _open(path, name, settings)
    box.archive.close()
    return _media_type(box)


SUFFIX_OF = {WORD_TYPE: ".docx", WORD_MACRO_TYPE: ".docm", EXCEL_TYPE: ".xlsx", EXCEL_MACRO_TYPE: ".xlsm"}
