"""Errors of the HTTP service, and the one mapping from any error to an HTTP status and the one JSON error shape.

The classes here extend the project's ``EvidenceError`` hierarchy (every error carries a stable ``code``, a
message and a hint), so the service's own checks and the extractor's and retrieval's errors reach the client
the same way. No FastAPI import here: the handlers that use this live in ``api/app.py``.
"""

from __future__ import annotations

from extractor.errors import (
    ConfigError,
    DocumentError,
    EmptyFileError,
    EvidenceError,
    LimitExceededError,
    NotAPdfError,
    NotFoundError,
    UnsupportedFileTypeError,
)


class InvalidRequestError(EvidenceError):
    """The request is well-formed but asks for something invalid (a bad correction, a wrong role); 422."""

    code = "invalid_request"

    def __init__(self, message: str, *, hint: str = "", field: str | None = None) -> None:
        self.field = field
        super().__init__(message, hint=hint)


class AuthenticationError(EvidenceError):
    """No API key, or one that is unknown, malformed or revoked; 401."""

    code = "unauthorized"


class PermissionDeniedError(EvidenceError):
    """The caller's role may not use this endpoint at all (resource-level refusals answer 404 instead); 403."""

    code = "forbidden"


class ConflictError(EvidenceError):
    """The request clashes with stored state (a name already taken, a document already uploaded in another role); 409."""

    code = "conflict"


class PayloadTooLargeError(LimitExceededError):
    """An upload is larger than the configured limit; 413."""

    code = "payload_too_large"


class UnsupportedUploadError(NotAPdfError):
    """An upload that is neither a PDF nor a text/Markdown file; 415."""

    code = "unsupported_type"


def not_found(kind: str, ident: str, *, hint: str = "") -> NotFoundError:
    """The one 'not found' error: used both for ids that do not exist and for ids the caller may not see.

    The two cases must be indistinguishable to the client (another supplier's document answers exactly like a
    document that does not exist), so both are built here.
    """
    return NotFoundError(f"no {kind} with id {ident!r}.", hint=hint or f"Check the id; list the {kind}s you can see first.")


def http_status(exc: EvidenceError) -> int:
    """The HTTP status of an error, by its class (most specific first)."""
    from retrieval.errors import IndexUnavailableError, InvalidQueryError, RetrievalError

    table: list[tuple[type[BaseException], int]] = [
        (AuthenticationError, 401),
        (PermissionDeniedError, 403),
        (NotFoundError, 404),  # includes retrieval's UnknownDocumentError
        (ConflictError, 409),
        (PayloadTooLargeError, 413),
        (LimitExceededError, 413),
        (UnsupportedUploadError, 415),
        (NotAPdfError, 415),
        (UnsupportedFileTypeError, 415),
        (EmptyFileError, 422),
        (DocumentError, 422),  # encrypted, scanned, damaged
        (InvalidRequestError, 422),
        (InvalidQueryError, 400),
        (IndexUnavailableError, 503),
        (RetrievalError, 503),
        (ConfigError, 400),
    ]
    for cls, status in table:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(code: str, message: str, *, hint: str = "", request_id: str | None = None, details: list[dict] | None = None) -> dict:
    """The one JSON error shape of the service (pinned by ``tests/api/test_service_errors.py``)::

        {"error": {"code": "...", "message": "...", "hint": "...", "details": [{"field": "...", "message": "..."}]},
         "request_id": "..."}
    """
    return {"error": {"code": code, "message": message, "hint": hint, "details": details or []}, "request_id": request_id}
