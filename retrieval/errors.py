"""Errors of the retrieval package: each says what went wrong, shows the value, and says what to do."""

from __future__ import annotations

from pathlib import Path

from extractor.errors import ConfigError, EvidenceError, NotFoundError

REINDEX_HINT = "Run `vbp reindex` to rebuild the index from the database."


class RetrievalError(EvidenceError):
    """Base class of the errors raised by passage indexing and search."""

    code = "retrieval_error"


class RetrievalConfigError(RetrievalError, ConfigError):
    """A retrieval setting is invalid (unknown embedder name, bad URL); the user can fix it."""

    code = "retrieval_config_error"


class InvalidQueryError(RetrievalError, ConfigError):
    """A search query or filter the user can fix (empty query, bad page number, bad k)."""

    code = "invalid_query"


class UnknownDocumentError(RetrievalError, NotFoundError):
    """A filter names documents that are not in the index."""

    code = "unknown_document"

    def __init__(self, unknown: list[str], *, known: int) -> None:
        self.unknown = sorted(unknown)
        shown = ", ".join(repr(d) for d in self.unknown[:5]) + (" …" if len(self.unknown) > 5 else "")
        noun = "document" if len(self.unknown) == 1 else "documents"
        super().__init__(
            f"unknown {noun} in the search filter: {shown} (the index holds {known} documents).",
            hint="List the stored documents with `vbp show --list`; if the document is stored but not found here, "
            + REINDEX_HINT[0].lower() + REINDEX_HINT[1:],
        )


class IndexCorruptError(RetrievalError):
    """The index folder cannot be read: damaged, half-written, or written by another version."""

    code = "index_corrupt"

    def __init__(self, folder: Path | str, detail: str, *, original: BaseException | None = None) -> None:
        self.folder = str(folder)
        super().__init__(f"the passage index in {self.folder} cannot be read ({detail}).", hint=REINDEX_HINT, original=original)


class IndexUnavailableError(RetrievalError):
    """The Chroma server named by the settings cannot be reached."""

    code = "index_unavailable"


class IndexOutOfStepError(RetrievalError):
    """The index does not hold the same passages as the database."""

    code = "index_out_of_step"


class IndexMismatchError(RetrievalError):
    """The index was built with another embedder (or another layout) than the settings ask for."""

    code = "index_mismatch"


class EmbedderError(RetrievalError):
    """An embedder cannot be built or run (unknown name, failed ONNX export)."""

    code = "embedder_error"


def unknown_name_error(kind: str, name: str, valid: list[str]) -> RetrievalConfigError:
    """The one message for an unknown registry name: it lists the valid names."""
    return RetrievalConfigError(f"unknown {kind} {name!r}.", hint=f"Use one of: {', '.join(sorted(valid))}.")
