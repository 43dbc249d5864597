"""The HTTP/1.1 protocols `vbp serve` runs: uvicorn's own, with limits on the request head and every refusal in the JSON error shape.

A request is refused below the application when its head cannot be parsed or is too large: uvicorn answers those itself,
in plain text, before FastAPI sees a byte. These subclasses keep uvicorn's parsing and change only what it refuses and
how: a request target longer than ``service.max_request_line_bytes`` answers 414, a header block larger than
``service.max_header_bytes`` answers 431, and anything else that is not HTTP/1.1 answers 400, each with the body of
``api.errors.error_body`` and ``Connection: close``.

uvicorn's httptools protocol otherwise buffers headers without bound and refuses a request target over about 64 KB
with a plain-text 400; its h11 protocol buffers up to ``h11_max_incomplete_event_size`` and then does the same.
"""

from __future__ import annotations

import json
import uuid

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.errors import error_body

# what a request head may hold besides the target and the header fields: method, version, separators
_HEAD_SLACK = 64


class HeadRefused(Exception):
    """A request head that is refused before the application sees it: the status and the JSON error body to answer with."""

    def __init__(self, status: int, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.hint = status, code, message, hint


def line_too_long(size: int, limit: int) -> HeadRefused:
    """The one refusal of an over-long request line (414)."""
    return HeadRefused(414, "uri_too_long", f"the request line's target (path and query string) is at least {size} bytes; the limit is "
                       f"{limit} bytes (service.max_request_line_bytes).",
                       "Send long values in a request body, or shorten the query string.")


def headers_too_large(size: int, limit: int) -> HeadRefused:
    """The one refusal of an over-large header block (431)."""
    return HeadRefused(431, "headers_too_large", f"the request's headers are at least {size} bytes; the limit is {limit} bytes "
                       "(service.max_header_bytes).", "Send fewer or shorter headers (cookies included).")


def not_http(reason: str) -> HeadRefused:
    """The one refusal of a request that is not valid HTTP/1.1 (400)."""
    detail = f": {reason}" if reason else ""
    return HeadRefused(400, "bad_request", f"the request is not valid HTTP/1.1{detail}.", "Check the client sending it.")


def refusal_bytes(refused: HeadRefused, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A complete HTTP/1.1 response for a refused head: the JSON error shape, a fresh request id, then the connection closes."""
    rid = uuid.uuid4().hex
    body = json.dumps(error_body(refused.code, refused.message, hint=refused.hint, request_id=rid)).encode()
    phrase = {400: b"Bad Request", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}.get(refused.status, b"Error")
    lines = [b"HTTP/1.1 %d %s" % (refused.status, phrase)]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [b"content-type: application/json", b"content-length: %d" % len(body), b"x-request-id: " + rid.encode(),
              b"connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _header_block_size(headers) -> int:
    return sum(len(name) + len(value) + 4 for name, value in headers)  # "name: value\r\n"


class _Limits:
    """The two limits, set on a subclass made by :func:`protocol_class`."""

    max_request_line_bytes: int = 32 * 1024
    max_header_bytes: int = 32 * 1024

    def _refuse(self, refused: HeadRefused) -> None:
        self.logger.warning("refused a request from %s: %s", (self.client or ("?",))[0], refused.message)
        if not self.transport.is_closing():
            self.transport.write(refusal_bytes(refused, self.server_state.default_headers))
            self.transport.close()


try:
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn without its [standard] extra: h11 only
    httptools = None
    HttpToolsProtocol = None


if HttpToolsProtocol is not None:

    class LimitedHttpToolsProtocol(_Limits, HttpToolsProtocol):
        """uvicorn's httptools (llhttp) protocol with head limits and JSON refusals.

        The target is checked as it streams in (``on_url``); the header block when it is complete, and while it is
        still incomplete after each chunk read (llhttp hands over a header only once it has all of it). With pipelined
        requests the incomplete-head estimate may count the previous request's tail in the same chunk: it errs strict.
        """

        _refused: HeadRefused | None = None
        _in_head = False
        _head_bytes = 0

        def data_received(self, data: bytes) -> None:
            super().data_received(data)  # parser errors end in send_400_response, below
            if self._in_head and not self.transport.is_closing():
                self._head_bytes += len(data)
                header_bytes = self._head_bytes - len(self.url)
                if header_bytes > self.max_header_bytes + _HEAD_SLACK:
                    self._refuse(headers_too_large(header_bytes, self.max_header_bytes))

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_head, self._head_bytes = True, 0

        def on_url(self, url: bytes) -> None:
            super().on_url(url)
            if len(self.url) > self.max_request_line_bytes:
                self._refused = line_too_long(len(self.url), self.max_request_line_bytes)
                raise self._refused  # llhttp stops; the parser error lands in send_400_response

        def on_headers_complete(self) -> None:
            self._in_head = False
            size = _header_block_size(self.headers)
            if size > self.max_header_bytes:
                self._refused = headers_too_large(size, self.max_header_bytes)
                raise self._refused
            super().on_headers_complete()

        def send_400_response(self, msg: str) -> None:
            refused, self._refused = self._refused, None
            self._refuse(refused or not_http(""))


class LimitedH11Protocol(_Limits, H11Protocol):
    """uvicorn's h11 protocol with head limits and JSON refusals (used when httptools is not installed).

    While a request head is being read its bytes are kept here too and measured before h11 parses them.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # h11 must not refuse first: let it buffer a little more than the two limits together
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.max_request_line_bytes + self.max_header_bytes + 1024)
        self._head = bytearray()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._head += data
            refused = self._check_head(bytes(self._head))
            if refused is not None:
                self._unset_keepalive_if_required()
                self._refuse(refused)
                return
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head.clear()

    def _check_head(self, head: bytes) -> HeadRefused | None:
        head = head.lstrip(b"\r\n")
        end = head.find(b"\r\n\r\n")
        head = head if end < 0 else head[: end + 2]
        line_end = head.find(b"\r\n")
        line = head if line_end < 0 else head[:line_end]
        target = line.split(b" ")[1] if line.count(b" ") >= 1 else line
        if len(target) > self.max_request_line_bytes:
            return line_too_long(len(target), self.max_request_line_bytes)
        header_bytes = 0 if line_end < 0 else len(head) - line_end - 2
        if header_bytes > self.max_header_bytes + (0 if end >= 0 else _HEAD_SLACK):
            return headers_too_large(header_bytes, self.max_header_bytes)
        return None

    def send_400_response(self, msg: str) -> None:
        self._refuse(not_http(""))


def protocol_class(*, max_request_line_bytes: int, max_header_bytes: int, prefer: str = "auto") -> type:
    """The protocol class to hand uvicorn (``uvicorn.Config(http=...)``) with these limits.

    Args:
        max_request_line_bytes: Longest request target (path and query string) accepted.
        max_header_bytes: Largest header block accepted (names, values and separators).
        prefer: ``"httptools"``, ``"h11"`` or ``"auto"`` (httptools when installed, like uvicorn's own choice).
    """
    base = LimitedH11Protocol if prefer == "h11" or HttpToolsProtocol is None else LimitedHttpToolsProtocol
    return type(base.__name__, (base,), {"max_request_line_bytes": max_request_line_bytes, "max_header_bytes": max_header_bytes})
