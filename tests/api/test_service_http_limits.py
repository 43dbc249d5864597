"""`vbp serve` as a user runs it (slow tier): refusals below the application (over-long request line, over-large headers,
requests that are not HTTP) answer in the one JSON error shape, sent over a raw socket to a real server on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

LINE_LIMIT = 4096
HEADER_LIMIT = 8192


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exchange(port: int, raw: bytes, *, chunk: int | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes (in pieces of ``chunk`` bytes when given), read until the server closes; status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        try:
            for i in range(0, len(raw), chunk or len(raw)):
                s.sendall(raw[i: i + (chunk or len(raw))])
        except (BrokenPipeError, ConnectionResetError):  # refused mid-send: the answer is already on its way
            pass
        out = b""
        while True:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            out += data
            head, sep, body = out.partition(b"\r\n\r\n")
            length = next((int(v) for k, _, v in (h.partition(b": ") for h in head.split(b"\r\n")[1:]) if k.lower() == b"content-length"),
                          None)
            if sep and length is not None and len(body) >= length:
                break
    head, _, body = out.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, _, v in (h.partition(": ") for h in header_lines)}
    return int(status_line.split(" ")[1]), headers, body


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`vbp serve` on a free loopback port, on a fresh data folder, with small head limits set in the environment."""
    port = _free_port()
    data = tmp_path_factory.mktemp("serve")
    env = {**os.environ, "PYTHONPATH": str(REPO), "VBP_DATA_DIR": str(data / "data"), "VBP_SERVICE__COMPUTE_PROCESS": "false",
           "VBP_SERVICE__MAX_REQUEST_LINE_BYTES": str(LINE_LIMIT), "VBP_SERVICE__MAX_HEADER_BYTES": str(HEADER_LIMIT)}
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120  # a readiness wait, not a timed assertion
        while True:
            if proc.poll() is not None:
                pytest.fail(f"vbp serve exited with {proc.returncode}: {(data / 'server.log').read_text()[-2000:]}")
            try:
                if _exchange(port, b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"vbp serve did not answer /health: {(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def assert_refusal(status: int, headers: dict, body: bytes, *, expected: int, code: str) -> dict:
    assert status == expected, body
    assert headers["content-type"].startswith("application/json")
    parsed = json.loads(body)
    assert set(parsed) == {"error", "request_id"} and set(parsed["error"]) == {"code", "message", "hint", "details"}, parsed
    assert parsed["error"]["code"] == code
    assert parsed["request_id"] and headers["x-request-id"] == parsed["request_id"]
    assert headers["connection"] == "close"
    assert b"Traceback" not in body
    return parsed["error"]


@pytest.mark.issue(16)
@pytest.mark.parametrize("chunk", [None, 1000])
def test_issue_16_an_over_long_request_line_answers_414_in_the_json_shape(server: int, chunk) -> None:
    raw = b"GET /search?q=" + b"a" * (LINE_LIMIT + 100) + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    error = assert_refusal(*_exchange(server, raw, chunk=chunk), expected=414, code="uri_too_long")
    assert str(LINE_LIMIT) in error["message"] and "max_request_line_bytes" in error["message"]


@pytest.mark.issue(16)
@pytest.mark.parametrize(("headers", "chunk"), [
    ([b"X-Big: " + b"a" * (HEADER_LIMIT + 100)], None),  # one huge header
    ([b"X-Big: " + b"a" * (HEADER_LIMIT + 100)], 1000),  # streamed: refused before the head is complete
    ([b"X-H%d: %s" % (i, b"b" * 100) for i in range(HEADER_LIMIT // 100)], None),  # many ordinary ones
])
def test_issue_16_over_large_headers_answer_431_in_the_json_shape(server: int, headers, chunk) -> None:
    raw = b"GET /health HTTP/1.1\r\nHost: t\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"
    error = assert_refusal(*_exchange(server, raw, chunk=chunk), expected=431, code="headers_too_large")
    assert str(HEADER_LIMIT) in error["message"] and "max_header_bytes" in error["message"]


@pytest.mark.issue(16)
def test_issue_16_requests_within_the_limits_reach_the_app(server: int) -> None:
    raw = b"GET /no-such-page?q=" + b"a" * (LINE_LIMIT - 200) + b" HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"c" * (HEADER_LIMIT - 500) + \
        b"\r\nConnection: close\r\n\r\n"
    assert assert_refusal(*_exchange(server, raw), expected=404, code="not_found")["message"].startswith("no endpoint at /no-such-page")
    status, _, body = _exchange(server, b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert status == 200 and json.loads(body)["status"] == "ok"


@pytest.mark.issue(16)
@pytest.mark.parametrize("raw", [b"\x00\x01 nonsense\r\n\r\n", b"GET / HTTP/1.1\r\nBad Header Name: x\r\n\r\n"])
def test_issue_16_a_request_that_is_not_http_answers_400_in_the_json_shape(server: int, raw: bytes) -> None:
    assert_refusal(*_exchange(server, raw), expected=400, code="bad_request")
