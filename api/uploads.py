"""Receiving an upload: the multipart body streamed to disk with a running size limit, then its type checked.

Nothing is parsed here. The body is read chunk by chunk (never held in memory, never spooled to the system
temp folder first) into a temporary file in the data folder, hashing as it goes (the hash is the document
id); past the size limit the upload is stopped at once. The file's type is then checked from its bytes, a
PDF gets a quick pre-flight (does it open without a password, does it have a text layer), and only then is
the file moved into place under its job's folder, atomically.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from api.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedUploadError
from extractor.errors import EmptyFileError, EvidenceError
from extractor.pipeline import TEXT_SUFFIXES

FORM_FIELDS = {"file", "password"}
ACCEPTED = "Accepted: PDF, Word (.docx, .docm), Excel (.xlsx, .xlsm), plain text (.txt) and Markdown (.md)."
OFFICE = "application/x-office"  # until the pre-flight has read the container and named the Word or Excel type
FIELD_LIMIT = 4096  # bytes of a non-file form field
_UNSAFE = re.compile(r"[^\w.\- ()+,&']+")

MULTIPART_SCHEMA = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary",
                             "description": "The PDF, Word (.docx, .docm), Excel (.xlsx, .xlsm), plain text (.txt) or Markdown "
                                            "(.md) file. Checked for size and type before it is accepted."},
                    "password": {"type": "string", "description": "Password of an encrypted PDF. Kept in memory only, never stored."},
                },
            }
        }
    },
}
"""The request body of an upload, for the OpenAPI schema (the route reads the raw stream, so FastAPI cannot infer it)."""


@dataclass(slots=True)
class ReceivedFile:
    """An upload on disk, not yet accepted."""

    path: Path
    filename: str
    size: int
    sha256: str
    media_type: str  # application/pdf | text/plain | text/markdown | a Word or Excel type (ACCEPTED)
    password: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # the caller's extra form fields (``receive(extra_fields=...)``)


def safe_filename(name: str | None) -> str:
    """The client's file name, reduced to a safe base name (no folders, no control characters, at most 200 characters)."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE.sub("_", "".join(ch for ch in name if ch.isprintable())).strip(" ._") or "upload"
    stem, dot, suffix = name.rpartition(".")
    if dot and len(suffix) <= 10:
        return stem[: 200 - len(suffix) - 1] + "." + suffix
    return name[:200]


async def receive(request, *, folder: Path, max_bytes: int, extra_fields: frozenset[str] = frozenset()) -> ReceivedFile:
    """Stream a ``multipart/form-data`` body with a ``file`` part (and optionally ``password``) into ``folder``.

    ``extra_fields``: other small fields the caller accepts (the workspace's upload form sends its CSRF token); their
    values land in ``ReceivedFile.fields``.

    Raises:
        InvalidRequestError: not multipart, no file part, an unknown field, or a malformed body.
        PayloadTooLargeError: the file (or the declared body) is over ``max_bytes``.
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    ctype, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise InvalidRequestError("an upload must be sent as multipart/form-data with the document in a part named 'file'.",
                                  hint="For example: curl -F file=@submission.pdf ...", field="file")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + 64 * 1024:
        raise _too_large("upload", int(declared), max_bytes, declared=True)
    folder.mkdir(parents=True, exist_ok=True)
    state = _Parts(folder, max_bytes, extra_fields)
    parser = MultipartParser(boundary, state.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        return state.result()
    except EvidenceError:
        state.discard()
        raise
    except Exception as e:  # noqa: BLE001 - the multipart parser's own errors: a malformed body
        state.discard()
        raise InvalidRequestError(f"the multipart body is malformed ({type(e).__name__}: {e}).",
                                  hint="Send the file with a standard client, e.g. curl -F file=@submission.pdf ...", field="file") from None
    except BaseException:  # a client that went away (CancelledError): leave nothing behind
        state.discard()
        raise


class _Parts:
    """Callbacks of the streaming multipart parser: the file part goes to disk, small fields to memory."""

    def __init__(self, folder: Path, max_bytes: int, extra_fields: frozenset[str] = frozenset()) -> None:
        self.folder, self.max_bytes = folder, max_bytes
        self.extra_fields = extra_fields
        self.headers: dict[bytes, bytes] = {}
        self._field, self._value = b"", b""
        self.name: str | None = None
        self.filename: str | None = None
        self.fields: dict[str, bytes] = {}
        self.file = None
        self.path: Path | None = None
        self.size = 0
        self.digest = hashlib.sha256()
        self.head = b""
        self.seen_file = False

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin, "on_header_field": self._hfield, "on_header_value": self._hvalue,
            "on_header_end": self._hend, "on_headers_finished": self._headers_done, "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self.headers, self.name = {}, None  # the file's name stays: a field may follow the file part

    def _hfield(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _hvalue(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _hend(self) -> None:
        self.headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_done(self) -> None:
        from python_multipart.multipart import parse_options_header

        _, opts = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = opts.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = opts.get(b"filename")
        if self.name == "file":  # only the file part names the file: a field sent after it (a form's password) must not
            self.filename = raw_filename.decode("utf-8", "replace") if raw_filename is not None else None
        if self.name not in FORM_FIELDS and self.name not in self.extra_fields:
            raise InvalidRequestError(f"unknown form field {self.name!r}.", hint="Send 'file' (required) and 'password' (optional).",
                                      field=self.name)
        if self.name == "file":
            if self.seen_file:
                raise InvalidRequestError("send one file per upload.", hint="Upload each document with its own request.", field="file")
            self.seen_file = True
            self.path = self.folder / f".partial-{secrets.token_hex(8)}"
            self.file = open(self.path, "wb")  # noqa: SIM115 - closed in _end or discard

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.name == "file":
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise _too_large(safe_filename(self.filename), self.size, self.max_bytes)
            if len(self.head) < 4096:
                self.head += chunk[: 4096 - len(self.head)]
            self.digest.update(chunk)
            self.file.write(chunk)
        else:
            value = self.fields.get(self.name, b"") + chunk
            if len(value) > FIELD_LIMIT:
                raise InvalidRequestError(f"the form field {self.name!r} is too long.", field=self.name)
            self.fields[self.name] = value

    def _end(self) -> None:
        if self.name == "file" and self.file is not None:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()

    def discard(self) -> None:
        if self.file is not None and not self.file.closed:
            self.file.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def result(self) -> ReceivedFile:
        if not self.seen_file or self.path is None:
            raise InvalidRequestError("the upload has no part named 'file'.", hint="Send the document as -F file=@submission.pdf.",
                                      field="file")
        password = self.fields.get("password", b"").decode("utf-8", "replace") or None
        name = safe_filename(self.filename)
        media_type = _media_type(name, self.head, self.size)
        if media_type == "application/pdf" and not name.lower().endswith(".pdf"):
            name += ".pdf"  # the parser tells PDFs from text by the suffix, after the content
        extra = {k: v.decode("utf-8", "replace") for k, v in self.fields.items() if k in self.extra_fields}
        return ReceivedFile(self.path, name, self.size, self.digest.hexdigest(), media_type, password, extra)


def _too_large(name: str, size: int, limit: int, *, declared: bool = False) -> PayloadTooLargeError:
    if declared:
        message = f"the request body is {size / 1048576:.1f} MiB, over the {limit / 1048576:g} MiB upload limit."
    else:
        message = f"the file is larger than the {limit / 1048576:g} MiB upload limit; the upload was stopped."
    return PayloadTooLargeError(name, message, hint="Split the document, or ask the administrator to raise VBP_PARSING__MAX_FILE_MB.")


def _media_type(name: str, head: bytes, size: int) -> str:
    """What the upload is, from its bytes (the name only tells text from Markdown).

    Raises:
        EmptyFileError: zero bytes. UnsupportedUploadError: anything but a PDF, a ZIP or OLE container (Word/Excel, checked by
        the pre-flight) or a UTF-8 .txt / .md file.
    """
    from extractor.parsing.pdf import guess_type, sniff

    if size == 0:
        raise EmptyFileError(name, "the file is empty (0 bytes).", hint="Check the file and upload it again.")
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    suffix = Path(name).suffix.lower()
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return OFFICE  # a Word or Excel file, an encrypted one, or some other ZIP: the pre-flight reads its directory
    lowered = head.lstrip().lower()
    markup = lowered.startswith((b"<!doctype html", b"<html", b"<?xml", b"version https://git-lfs"))
    if suffix in TEXT_SUFFIXES and not markup and b"\x00" not in head and guess_type(head) == "plain text":
        return TEXT_SUFFIXES[suffix]
    try:
        sniff(Path(name), head, size)  # raises NotAPdfError naming what the file really is
    except EvidenceError as e:
        raise UnsupportedUploadError(name, e.message.removeprefix(f"{name}: "),
                                     hint=e.hint + " " + ACCEPTED) from None
    raise UnsupportedUploadError(name, "the file is not a PDF.", hint=ACCEPTED)


def preflight(received: ReceivedFile, *, settings) -> int:
    """Check quickly that a PDF can be parsed at all: it opens (with the password, if any), its page count is within the
    limit, and it is not a scan without a text layer. Returns the page count (0 for text files).

    Raises:
        PasswordRequiredError, WrongPasswordError, DamagedPdfError, LimitExceededError (TooComplexError: a page over the
        operator limit; CompressionLimitError: a decompression bomb; both found before pdfium loads the page, since this
        runs in the server's process), NoTextLayerError.
    """
    if received.media_type == OFFICE:
        from extractor.parsing.office import SUFFIX_OF, preflight_office

        received.media_type = preflight_office(received.path, settings=settings.parsing, filename=received.filename)
        suffix = SUFFIX_OF[received.media_type]
        if not received.filename.lower().endswith(suffix):
            received.filename = Path(received.filename).stem[:190] + suffix  # the stored name says what the file is
        return 0
    if received.media_type != "application/pdf":
        return 0
    from api.jobs import PDFIUM_LOCK
    from extractor.parsing.pdf import preflight_pdf

    with PDFIUM_LOCK:
        return preflight_pdf(received.path, password=received.password, settings=settings.parsing, filename=received.filename)


def accept(received: ReceivedFile, *, uploads_dir: Path, job_id: str) -> Path:
    """Move an upload into its job's folder under its own name, atomically; returns the final path."""
    target_dir = uploads_dir / job_id
    target_dir.mkdir(parents=True, exist_ok=False)
    target = target_dir / received.filename
    os.replace(received.path, target)
    fd = os.open(target_dir, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself is durable before the job row is committed
    finally:
        os.close(fd)
    received.path = target
    return target


def stage_file(services, actor, source: Path, *, tender_id: str, supplier_id: str, role: str) -> dict:
    """Queue a file already on this machine as if it had been uploaded (the demo seeding and scripts use it).

    The file is type-checked and pre-flighted like an upload, copied into its job's folder, and its job is recorded
    as queued; the job runner picks it up (at start-up, or with ``jobs.submit``).

    Raises:
        DocumentError: the file is empty, of the wrong type, encrypted or scanned.
    """
    import shutil

    source = Path(source)
    settings = services.settings
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with source.open("rb") as fh:
        head = fh.read(4096)
        digest.update(head)
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    name = safe_filename(source.name)
    received = ReceivedFile(source, name, source.stat().st_size, digest.hexdigest(), _media_type(name, head, source.stat().st_size))
    preflight(received, settings=settings)
    job_id = f"job-{secrets.token_hex(8)}"
    target_dir = settings.uploads_dir / job_id
    target_dir.mkdir(parents=True)
    target = target_dir / received.filename
    shutil.copyfile(source, target)
    try:
        return services.repo.record_upload(actor, tender_id=tender_id, supplier_id=supplier_id, role=role, doc_id=received.sha256,
                                           filename=received.filename, file_path=str(target), size_bytes=received.size,
                                           encrypted=False, job_id=job_id)
    except BaseException:
        shutil.rmtree(target_dir, ignore_errors=True)
        raise
