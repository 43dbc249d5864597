"""Authorisation comes before the request is judged: on every route, a caller without a key (401) or with too weak a role
(403) learns only that, in the JSON error shape, whatever its body or parameters look like (issue 16)."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from api.deps import _requirements
from tests.api.service_kit import World
from tests.api.test_service_errors import assert_error

ROLES = ("admin", "evaluator", "supplier")
USER_OF = {"admin": "admin", "evaluator": "eva", "supplier": "acme-user"}
BODIES = [
    pytest.param({"content": b"{not json", "headers": {"content-type": "application/json"}}, id="malformed-json"),
    pytest.param({"json": {"title": 3, "role": "root", "decision": None, "unknown": True}}, id="invalid-fields"),
    pytest.param({"content": b"x" * 100, "headers": {"content-type": "text/plain"}}, id="wrong-type"),
]


def _api_routes(routes) -> list[APIRoute]:
    out = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif getattr(route, "original_router", None) is not None:  # FastAPI 0.165 keeps an included router whole
            out += _api_routes(route.original_router.routes)
    return out


def _keyed_routes(app) -> list[tuple[str, str, list[tuple[str, ...]]]]:
    out = []
    for route in _api_routes(app.routes):
        needs_key, roles = _requirements(route.dependant)
        if needs_key or roles:
            out += [(method, route.path, roles) for method in sorted(route.methods)]
    return out


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1) == "user_id" else f"x-{m.group(1)}", path)


def _too_weak(roles: list[tuple[str, ...]]) -> str | None:
    allowed = set(ROLES).intersection(*map(set, roles)) if roles else set(ROLES)
    return next((r for r in ROLES if r not in allowed), None)


@pytest.mark.issue(16)
@pytest.mark.parametrize("body", BODIES)
def test_issue_16_every_route_refuses_a_caller_before_judging_the_body(service: World, body) -> None:
    service.standard_tender()
    routes = _keyed_routes(service.app)
    role_routes = [r for r in routes if r[2]]
    assert len(routes) >= 20 and len(role_routes) >= 10, routes  # the app's routes were found, not an empty list
    checked = 0
    for method, path, roles in routes:
        url = _url(path)
        kwargs = dict(body)
        headers = kwargs.pop("headers", {})
        no_key = service.client.request(method, url, headers=headers, **kwargs)
        assert_error(no_key, 401, "unauthorized")
        assert no_key.headers["www-authenticate"] == "Bearer"
        bogus = service.client.request(method, url, headers={**headers, "Authorization": "Bearer vbp_0123456789ab_" + "x" * 43}, **kwargs)
        assert_error(bogus, 401, "unauthorized")
        weak = _too_weak(roles)
        if roles and weak is not None:
            r = service.client.request(method, url, headers={**headers, **service.h(USER_OF[weak])}, **kwargs)
            body_ = assert_error(r, 403, "forbidden")
            assert weak in body_["error"]["message"], (method, path, body_)
            checked += 1
    assert checked == len(role_routes)


@pytest.mark.issue(16)
@pytest.mark.parametrize(("who", "method", "url", "kwargs", "status", "code"), [
    ("eva", "post", "/users", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 403, "forbidden"),
    ("eva", "post", "/tenders", {"content": b"[1, 2", "headers": {"content-type": "application/json"}}, 403, "forbidden"),
    ("acme-user", "get", "/audit?limit=0&since=yesterday", {}, 403, "forbidden"),
    (None, "post", "/users/not-an-int/revoke", {}, 401, "unauthorized"),
    ("eva", "post", "/users/not-an-int/revoke", {}, 403, "forbidden"),
    # the right role still gets the validation error, with its details
    ("admin", "post", "/users", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "validation_error"),
    ("admin", "post", "/users/not-an-int/revoke", {}, 422, "validation_error"),
])
def test_issue_16_authorisation_before_validation(service: World, who, method, url, kwargs, status, code) -> None:
    service.standard_tender()
    kwargs = dict(kwargs)
    headers = {**service.h(who), **kwargs.pop("headers", {})}
    assert_error(service.client.request(method.upper(), url, headers=headers, **kwargs), status, code)


@pytest.mark.issue(16)
def test_issue_16_a_refusal_tells_nothing_about_the_body(service: World) -> None:
    """A 403 from the early check is the same refusal as the route's own: no validation details leak."""
    service.standard_tender()
    r = service.client.post("/users", headers={**service.h("eva"), "content-type": "application/json"}, content=b"{not json")
    body = assert_error(r, 403, "forbidden")
    assert body["error"]["details"] == [] and "json" not in body["error"]["message"].lower()
    assert body["error"]["message"] == "this endpoint is for admins; you are signed in as an evaluator."
