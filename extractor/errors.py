"""One error hierarchy for vbp-evidence: every message names the input, the problem and the fix."""

from __future__ import annotations


class EvidenceError(Exception):
    """Base class of every error vbp-evidence raises on purpose.

    Attributes:
        hint: What the user can do about it.
        code: A short stable identifier, used by the API and the tests.
    """

    code = "evidence_error"

    def __init__(self, message: str, *, hint: str = "", original: BaseException | None = None) -> None:
        self.message = message
        self.hint = hint
        self.original = original
        super().__init__(f"{message} {hint}".strip())

    def __reduce__(self):
        # Errors cross process boundaries (parser workers); subclasses have their own
        # constructor signatures, so rebuild from the instance state instead of the args.
        state = {k: v for k, v in self.__dict__.items() if k != "original"}
        return (_rebuild, (type(self), self.args, state))


class ConfigError(EvidenceError):
    """A setting or argument is invalid; the user can fix it."""

    code = "config_error"


class DocumentError(EvidenceError):
    """A file cannot be turned into a Document. Subclasses say why."""

    code = "document_error"

    def __init__(self, filename: str, message: str, *, hint: str = "", original: BaseException | None = None) -> None:
        self.filename = filename
        super().__init__(f"{filename}: {message}", hint=hint, original=original)


class EmptyFileError(DocumentError):
    code = "empty_file"


class NotAPdfError(DocumentError):
    code = "not_a_pdf"


class BinaryJunkError(NotAPdfError):
    """The file is zero bytes, random bytes or some other binary data with no recognisable format."""

    code = "binary_junk"


class UnsupportedFileTypeError(DocumentError):
    code = "unsupported_type"


class PasswordRequiredError(DocumentError):
    code = "password_required"


class WrongPasswordError(DocumentError):
    code = "wrong_password"


class DamagedPdfError(DocumentError):
    code = "damaged_pdf"


class DamagedFileError(DocumentError):
    """A Word or Excel file whose container or XML cannot be read."""

    code = "damaged_file"


class NoTextLayerError(DocumentError):
    """Every page is an image: the document needs OCR first."""

    code = "no_text_layer"

    def __init__(self, filename: str, pages: list[int], *, original: BaseException | None = None) -> None:
        self.pages = pages
        super().__init__(
            filename,
            f"no text layer on {_pages_phrase(pages)} (the PDF is a scanned image).",
            hint="Run OCR on it first (for example `ocrmypdf in.pdf out.pdf`) and ingest the OCR'd file.",
            original=original,
        )


class LimitExceededError(DocumentError):
    """The file is bigger, longer or slower to parse than the configured limits allow."""

    code = "limit_exceeded"


class TooComplexError(LimitExceededError):
    """A page or the whole file needs more operators, characters, memory or time than the limits allow."""

    code = "too_complex"


class CompressionLimitError(LimitExceededError):
    """A stream inflates far beyond the limit (a decompression bomb); OCR would not help."""

    code = "compression_limit"


def too_complex(filename: str, what: str, setting: str, *, original: BaseException | None = None) -> TooComplexError:
    """The one message for every "too complex" limit: what was over, and the setting to raise if the file is trusted.

    Args:
        filename: The file's name, first in the message.
        what: What was over the limit, e.g. "page 3 has about 2,000,000 drawing operators, over the 500,000 limit".
        setting: The ParsingSettings field to raise, e.g. "max_page_operators".
    """
    return TooComplexError(
        filename, f"the PDF is too complex to read safely: {what}.",
        hint=f"If the file is trusted, raise VBP_PARSING__{setting.upper()}; otherwise re-export it as PDF (print to PDF).",
        original=original,
    )


class ExtractionOutputError(EvidenceError):
    """A model returned output that cannot be used."""

    code = "extraction_output_error"


class NotFoundError(EvidenceError):
    """An id does not name a stored object."""

    code = "not_found"


class InternalError(EvidenceError):
    """A bug in vbp-evidence."""

    code = "internal_error"


def _rebuild(cls: type[EvidenceError], args: tuple, state: dict) -> EvidenceError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    err.original = None
    return err


def _pages_phrase(pages: list[int]) -> str:
    if len(pages) == 1:
        return f"page {pages[0]}"
    if len(pages) > 8:
        return f"all {len(pages)} pages" if pages == list(range(1, len(pages) + 1)) else f"{len(pages)} pages"
    return "pages " + ", ".join(str(p) for p in pages)
