"""`api.protocols`: uvicorn's httptools and h11 protocols with head limits, fed bytes over a fake transport (issue 16).

The slow tier's test_service_http_limits runs the real `vbp serve` (httptools when installed); these run both
protocols, the h11 fallback included, without a server.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from api.protocols import LimitedH11Protocol, protocol_class

LINE, HEADERS = 2048, 4096


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data) -> None:
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _app(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"reached the app"})


def _exchange(prefer: str, raw: bytes, chunk: int | None = None) -> FakeTransport:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    async def run() -> FakeTransport:
        config = Config(app=_app, log_level="critical", lifespan="off")
        config.load()
        cls = protocol_class(max_request_line_bytes=LINE, max_header_bytes=HEADERS, prefer=prefer)
        protocol = cls(config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop())
        transport = FakeTransport()
        protocol.connection_made(transport)
        for i in range(0, len(raw), chunk or len(raw)):
            if transport.closed:
                break
            protocol.data_received(raw[i: i + (chunk or len(raw))])
        for _ in range(20):  # let an accepted request's task answer
            await asyncio.sleep(0)
        protocol.connection_lost(None)
        return transport

    return asyncio.run(run())


def _refusal(transport: FakeTransport) -> tuple[int, dict]:
    assert transport.closed, transport.written
    head, _, body = transport.written.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    parsed = json.loads(body)
    assert set(parsed) == {"error", "request_id"} and parsed["request_id"] == headers["x-request-id"]
    assert int(headers["content-length"]) == len(body)
    return int(lines[0].split(" ")[1]), parsed["error"]


PROTOCOLS = ["httptools", "h11"]


@pytest.mark.issue(16)
@pytest.mark.parametrize("prefer", PROTOCOLS)
@pytest.mark.parametrize("chunk", [None, 100])
def test_protocols_refuse_a_long_target_with_414(prefer: str, chunk) -> None:
    status, error = _refusal(_exchange(prefer, b"GET /" + b"a" * LINE + b" HTTP/1.1\r\nHost: t\r\n\r\n", chunk))
    assert status == 414 and error["code"] == "uri_too_long" and str(LINE) in error["message"]


@pytest.mark.issue(16)
@pytest.mark.parametrize("prefer", PROTOCOLS)
@pytest.mark.parametrize("chunk", [None, 100])
def test_protocols_refuse_large_headers_with_431(prefer: str, chunk) -> None:
    raw = b"GET / HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 60) for i in range(HEADERS // 60)) + b"\r\n"
    status, error = _refusal(_exchange(prefer, raw, chunk))
    assert status == 431 and error["code"] == "headers_too_large" and str(HEADERS) in error["message"]


@pytest.mark.issue(16)
@pytest.mark.parametrize("prefer", PROTOCOLS)
def test_protocols_answer_garbage_with_400_in_the_json_shape(prefer: str) -> None:
    status, error = _refusal(_exchange(prefer, b"\x01\x02 what\r\n\r\n"))
    assert status == 400 and error["code"] == "bad_request"


@pytest.mark.issue(16)
@pytest.mark.parametrize("prefer", PROTOCOLS)
@pytest.mark.parametrize("chunk", [None, 100])
def test_protocols_pass_a_head_within_the_limits_to_the_app(prefer: str, chunk) -> None:
    raw = b"GET /" + b"a" * (LINE - 100) + b" HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"p" * (HEADERS - 200) + b"\r\n\r\n"
    transport = _exchange(prefer, raw + raw, chunk)  # two requests on one connection: the second is measured afresh
    assert transport.written.count(b"HTTP/1.1 200 OK") == 2 and transport.written.count(b"reached the app") == 2, transport.written


def test_protocols_prefer_h11_gives_the_h11_protocol() -> None:
    cls = protocol_class(max_request_line_bytes=LINE, max_header_bytes=HEADERS, prefer="h11")
    assert issubclass(cls, LimitedH11Protocol) and (cls.max_request_line_bytes, cls.max_header_bytes) == (LINE, HEADERS)
