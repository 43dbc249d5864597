"""FastAPI dependencies: the app's services, the caller (from the API key) and role checks."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import AuthenticationError, PermissionDeniedError
from api.services import Services
from api.store.service import Principal

security_log = logging.getLogger("vbp.security")

_bearer = HTTPBearer(auto_error=False, scheme_name="api_key", description="An API key: `Authorization: Bearer vbp_…`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="api_key_header",
                       description="The same API key in an `X-API-Key` header, for clients that cannot set Authorization.")

KEY_HINT = "Send your API key as `Authorization: Bearer vbp_…`. An admin creates keys with `vbp user add NAME --role ROLE`."


# These dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency on a worker thread, one hop per
# dependency per request, queued behind the request handlers (service.request_threads). The key lookup is one indexed
# read (about 0.2 ms on the embedded SQLite), cheaper than the hop.


async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_principal(
    request: Request,
    services: ServicesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Principal:
    """The caller, from the API key; every endpoint but /health needs one.

    Raises:
        AuthenticationError: no key, or a key that is unknown, malformed or revoked.
    """
    return _authenticate(request, services, bearer.credentials if bearer is not None else header)


def _authenticate(request: Request, services: Services, key: str | None) -> Principal:
    if not key:
        raise AuthenticationError("this endpoint needs an API key, and none was sent.", hint=KEY_HINT)
    principal = services.repo.authenticate(key.strip())
    if principal is None:
        client = request.client.host if request.client else "?"
        security_log.warning("rejected API key %s… from %s on %s %s", key[:16], client, request.method, request.url.path)
        raise AuthenticationError("the API key is not valid: unknown, revoked or mistyped.", hint=KEY_HINT)
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require(*roles: str):
    """A dependency that lets only these roles through (403 for the others: the endpoint as a whole is not theirs)."""

    async def check(user: CurrentUser) -> Principal:
        _check_role(user, roles)
        return user

    check.roles = roles  # read by authorise_first
    return check


def _check_role(user: Principal, roles: tuple[str, ...]) -> None:
    if user.role not in roles:
        article = "an" if user.role[:1] in ("a", "e") else "a"
        raise PermissionDeniedError(f"this endpoint is for {' and '.join(r + 's' for r in roles)}; you are signed in as {article} "
                                    f"{user.role}.", hint="Ask an admin if you need this access.")


def _requirements(dependant) -> tuple[bool, list[tuple[str, ...]]]:
    """Whether a route's dependencies need an API key, and the role sets they require."""
    needs_key, roles = False, []
    for dep in dependant.dependencies:
        if dep.call is current_principal:
            needs_key = True
        if getattr(dep.call, "roles", None):
            roles.append(dep.call.roles)
        sub_key, sub_roles = _requirements(dep)
        needs_key, roles = needs_key or sub_key, roles + sub_roles
    return needs_key, roles


async def authorise_first(request: Request) -> None:
    """Run the matched route's API key and role checks now, before the request's body or parameters are judged.

    FastAPI reads and decodes a JSON body before it resolves a route's dependencies, so a malformed body would answer
    422 to a caller with no key or the wrong role. The error handlers call this first: such a caller learns only
    that it may not use the endpoint (401/403), not what the endpoint expects.

    Raises:
        AuthenticationError: the route needs a key and the request has no valid one.
        PermissionDeniedError: the caller's role may not use the route.
    """
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return
    needs_key, roles = _requirements(dependant)
    if not (needs_key or roles):
        return
    user = getattr(request.state, "principal", None)
    if user is None:
        bearer = await _bearer(request)  # the same reading of the headers as current_principal's
        user = _authenticate(request, await get_services(request), bearer.credentials if bearer is not None else await _header(request))
    for allowed in roles:
        _check_role(user, allowed)


AdminUser = Annotated[Principal, Depends(require("admin"))]
StaffUser = Annotated[Principal, Depends(require("admin", "evaluator"))]
