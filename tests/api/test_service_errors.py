"""The one JSON error shape, pinned: every failure of the service answers with it, whatever raised."""

from __future__ import annotations

import pytest

from tests.api.service_kit import World

SHAPE = {"error", "request_id"}
ERROR = {"code", "message", "hint", "details"}


def assert_error(r, status: int, code: str) -> dict:
    """The response is the pinned error shape with this status and code."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == SHAPE, body
    assert set(body["error"]) == ERROR, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["hint"], str)
    assert isinstance(body["error"]["details"], list)
    assert body["request_id"] and r.headers["x-request-id"] == body["request_id"]
    assert "Traceback" not in r.text
    return body


@pytest.mark.parametrize(
    ("who", "method", "url", "kwargs", "status", "code"),
    [
        (None, "get", "/me", {}, 401, "unauthorized"),
        ("bogus", "get", "/me", {}, 401, "unauthorized"),
        ("admin", "get", "/tenders/t-0000000000", {}, 404, "not_found"),
        ("admin", "get", "/documents/" + "0" * 64, {}, 404, "not_found"),
        ("admin", "get", "/claims/nope:c1", {}, 404, "not_found"),
        ("admin", "get", "/jobs/job-0000", {}, 404, "not_found"),
        ("admin", "get", "/no/such/endpoint", {}, 404, "not_found"),
        ("admin", "delete", "/tenders", {}, 405, "method_not_allowed"),
        ("admin", "post", "/tenders", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "validation_error"),
        ("admin", "post", "/tenders", {"json": {"title": ""}}, 422, "validation_error"),
        ("admin", "post", "/tenders", {"json": {"title": "x", "budget": 3}}, 422, "validation_error"),
        ("admin", "post", "/users", {"json": {"name": "x", "role": "root"}}, 422, "validation_error"),
        ("admin", "get", "/jobs?limit=0", {}, 422, "validation_error"),
        ("admin", "post", "/tenders", {"content": b'{"title": "x"}', "headers": {"content-type": "text/plain"}}, 415, "unsupported_type"),
        ("admin", "post", "/tenders", {"content": b'{"title": "x"}'}, 415, "unsupported_type"),
        ("admin", "post", "/tenders", {"content": b"title=x", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415,
         "unsupported_type"),
        ("admin", "post", "/tenders", {"content": b"", "headers": {"content-type": "text/plain"}}, 422, "validation_error"),
        ("eva", "post", "/tenders", {"json": {"title": "x"}}, 403, "forbidden"),
        ("acme-user", "get", "/audit", {}, 403, "forbidden"),
        ("admin", "post", "/users", {"json": {"name": "eva", "role": "evaluator"}}, 409, "conflict"),
    ],
)
def test_service_errors_share_one_shape(service: World, who, method, url, kwargs, status, code) -> None:
    service.standard_tender()
    kwargs = dict(kwargs)
    headers = {"Authorization": "Bearer vbp_0123456789ab_" + "x" * 43} if who == "bogus" else service.h(who)
    headers.update(kwargs.pop("headers", {}))
    body = assert_error(getattr(service.client, method)(url, headers=headers, **kwargs), status, code)
    if status == 401:
        assert "vbp user add" in body["error"]["hint"]
    if code == "validation_error":
        assert body["error"]["details"] and all({"field", "message"} <= set(d) for d in body["error"]["details"])


def test_service_errors_unexpected_failure_is_500_without_traceback(service: World, monkeypatch) -> None:
    def boom(*a, **kw):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(service.services.repo, "list_tenders", boom)
    body = assert_error(service.get("admin", "/tenders"), 500, "internal_error")
    assert "secret internals" not in body["error"]["message"] and body["request_id"] in body["error"]["hint"]


def test_service_errors_echo_a_client_request_id(service: World) -> None:
    r = service.client.get("/tenders/t-missing", headers={**service.h("admin"), "X-Request-ID": "trace-42"})
    assert assert_error(r, 404, "not_found")["request_id"] == "trace-42"
    r = service.client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"


@pytest.mark.parametrize("key", ["changethis", "secret", "vbp_demo", "admin", "", "vbp_0123456789ab_short"])
def test_service_errors_placeholder_keys_are_refused(service: World, key: str) -> None:
    assert_error(service.client.get("/me", headers={"Authorization": f"Bearer {key}"}), 401, "unauthorized")
    assert_error(service.client.get("/me", headers={"X-API-Key": key}), 401, "unauthorized")


def test_service_errors_openapi_documents_the_api(service: World) -> None:
    schema = service.client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/tenders", "/tenders/{tender_id}/documents", "/jobs/{job_id}", "/documents/{doc_id}/claims", "/search",
                 "/tenders/{tender_id}/claims/{claim_id}/reviews", "/tenders/{tender_id}/worksheet",
                 "/tenders/{tender_id}/documents/{doc_id}/precheck", "/audit", "/audit/export", "/users"):
        assert path in paths, path
    upload = paths["/tenders/{tender_id}/documents"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "ErrorPublic" in schema["components"]["schemas"]
    assert {"api_key", "api_key_header"} <= set(schema["components"]["securitySchemes"])
    for path, ops in paths.items():
        for op in ops.values():
            assert op.get("summary") and op.get("description"), f"{path} has no docstring"


@pytest.mark.issue(16)
@pytest.mark.parametrize("url", ["/users/99999999999999999999999/revoke", "/users/9223372036854775808/keys", "/users/0/keys"])
def test_issue_16_a_user_id_no_database_can_hold_is_a_validation_error_not_a_500(service: World, url: str) -> None:
    body = assert_error(service.post("admin", url), 422, "validation_error")
    assert body["error"]["details"][0]["field"] == "path.user_id"


@pytest.mark.issue(16)
@pytest.mark.parametrize("url", ["/audit?offset=2424665671689654239232", "/audit?offset=9223372036854775808"])
def test_issue_16_an_offset_no_database_can_hold_is_a_validation_error_not_a_500(service: World, url: str) -> None:
    body = assert_error(service.get("admin", url), 422, "validation_error")
    assert body["error"]["details"][0]["field"] == "query.offset"
    assert service.get("admin", "/audit?offset=9223372036854775807").status_code == 200  # the largest one still answers


@pytest.mark.issue(16)
@pytest.mark.parametrize(("since", "events"), [("0001-01-01T00:00:00%2B18:00", "all"), ("9999-12-31T23:59:59-18:00", "none")])
@pytest.mark.parametrize("path", ["/audit", "/audit/export"])
def test_issue_16_a_since_at_the_edge_of_time_filters_instead_of_failing(service: World, since: str, events: str, path: str) -> None:
    """A time whose UTC equivalent is outside years 1-9999 overflowed the conversion to UTC and answered 500."""
    service.standard_tender()
    r = service.get("admin", f"{path}?since={since}")
    assert r.status_code == 200, r.text
    if path == "/audit":
        everything = service.get("admin", "/audit").json()["count"]
        assert everything > 0 and r.json()["count"] == (everything if events == "all" else 0)


@pytest.mark.issue(16)
@pytest.mark.parametrize(("role", "supplier", "status"), [("evaluator", "", 201), ("admin", "  ", 201), ("supplier", "", 422),
                                                          ("supplier", " ", 422)])
def test_issue_16_an_empty_supplier_is_no_supplier(service: World, role: str, supplier: str, status: int) -> None:
    """POST /users with supplier '' stored '' as the supplier id and failed the foreign key: a 500."""
    r = service.post("admin", "/users", json={"name": f"u-{role}-{len(supplier)}", "role": role, "supplier": supplier})
    if status == 201:
        assert r.status_code == 201, r.text
        assert r.json()["user"]["supplier_id"] is None
    else:
        assert assert_error(r, 422, "invalid_request")["error"]["details"][0]["field"] == "supplier"


@pytest.mark.issue(16)
@pytest.mark.parametrize("url", ["/jobs?offset=2424665671689654239232", "/search?q=infection&page=2424665671689654239232"])
def test_issue_16_huge_offsets_and_pages_are_validation_errors(service: World, url: str) -> None:
    assert_error(service.get("admin", url), 422, "validation_error")


@pytest.mark.issue(16)
@pytest.mark.parametrize(("method", "url", "upload", "status", "code"), [
    ("OPTIONS", "/tenders", None, 405, "method_not_allowed"),
    ("PUT", "/health", None, 405, "method_not_allowed"),
    ("GET", "/%ff", None, 404, "not_found"),
    ("POST", "/tenders/{t}/documents?role=submission&supplier=acme", ("big.md", b"x" * 20_000, "text/markdown"), 413, "payload_too_large"),
    ("POST", "/tenders/{t}/documents?role=submission&supplier=acme", ("tool.exe", b"MZ\x90\x00" * 10, "application/octet-stream"), 415,
     "unsupported_type"),
    ("POST", "/tenders/{t}/documents?role=submission", ("a.md", b"# A\n\nText.", "text/markdown"), 422, "invalid_request"),
])
def test_issue_16_every_kind_of_error_has_the_one_shape(tmp_path, method, url, upload, status, code) -> None:
    world = World(tmp_path, parsing={"max_file_mb": 0.01})
    try:
        tender = world.standard_tender()
        files = {"file": upload} if upload else None
        assert_error(world.client.request(method, url.format(t=tender), headers=world.h("admin"), files=files), status, code)
    finally:
        world.close()


@pytest.mark.issue(16)
def test_issue_16_a_blank_supplier_from_the_command_line_is_no_supplier(service: World) -> None:
    user, _ = service.services.repo.create_user("carol", "admin", supplier_id="  ")
    assert user["supplier_id"] is None
    with pytest.raises(Exception, match="needs the supplier"):
        service.services.repo.create_user("dave", "supplier", supplier_id="")
