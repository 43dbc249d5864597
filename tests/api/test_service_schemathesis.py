"""Property-based tests of the HTTP service against its own OpenAPI schema with schemathesis (slow tier, issue 16).

Every operation gets a bounded number of generated requests, valid ones (positive) and ones that break the schema
(negative), sent with an admin key to the app on a real SQLite store holding a tender with ingested documents; about
half of them have their path ids replaced by ids that exist, so the requests reach past the 404s. The property: the
service never answers 5xx, and every 4xx has the one JSON error shape. Hypothesis runs derandomized with no example
database, so the run is the same on every machine and writes nothing into the repository.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.api.service_kit import World

pytestmark = pytest.mark.slow

EXAMPLES = 40  # per operation and generation mode: about 2,300 requests in all
ERROR_KEYS = {"code", "message", "hint", "details"}

def _shape_problem(status: int, headers: dict, content: bytes) -> str | None:
    """Why a response breaks the property (None: it holds)."""
    if status >= 500:
        return f"{status}: a server error"
    if status < 400:
        return None
    ctype = (headers.get("content-type") or [""])[0]
    if not ctype.startswith("application/json"):
        return f"{status}: content-type {ctype!r}, not JSON"
    try:
        body = json.loads(content)
    except ValueError:
        return f"{status}: body is not JSON"
    if not isinstance(body, dict) or set(body) != {"error", "request_id"} or not isinstance(body["error"], dict):
        return f"{status}: body is not the error shape"
    error = body["error"]
    if set(error) != ERROR_KEYS or not (isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]):
        return f"{status}: error has keys {sorted(error)}"
    if not isinstance(error["details"], list) or not isinstance(error["hint"], str):
        return f"{status}: error details/hint of the wrong type"
    if not body["request_id"] or (headers.get("x-request-id") or [None])[0] != body["request_id"]:
        return f"{status}: request id missing or not echoed"
    if b"Traceback" in content:
        return f"{status}: a traceback in the body"
    return None


@pytest.fixture()
def seeded(service: World) -> tuple[World, dict[str, str]]:
    """The service with a tender, two suppliers' submissions and a paper ingested; ids that exist, by path parameter."""
    docs = service.flow()
    claim = service.get("admin", f"/documents/{docs['submission']}/claims").json()["data"][0]["claim"]["id"]
    job = service.get("admin", "/jobs").json()["data"][0]["id"]
    fuzzer = service.add_user("fuzz-admin", "admin")  # the generated requests run as an admin that no request can revoke
    real = {"tender_id": service.tender, "doc_id": docs["submission"], "claim_id": claim, "passage_id": f"{docs['submission']}:0",
            "job_id": job, "user_id": service.users["eva"]["id"]}
    return service, {"key": fuzzer, **{k: str(v) for k, v in real.items()}}


@pytest.mark.issue(16)
def test_issue_16_schemathesis_no_5xx_and_every_error_in_the_one_shape(seeded, tmp_path, monkeypatch) -> None:
    import schemathesis
    from hypothesis import HealthCheck, Phase, configuration, given, settings
    from hypothesis import strategies as st
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    # hypothesis keeps caches (constants, unicode data) in .hypothesis/ under the working directory: not in the repository
    monkeypatch.setattr(configuration, "__hypothesis_home_directory", tmp_path / "hypothesis")  # what set_hypothesis_home_dir sets
    service, known = seeded
    fuzz_admin_id = service.users["fuzz-admin"]["id"]
    headers = {"Authorization": f"Bearer {known['key']}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    examples: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: dict[tuple[str, str], str] = {}  # (operation, problem) -> the first request that showed it

    for operation in operations:
        name = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode), use_real=st.booleans())
            @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
            def probe(case, use_real: bool) -> None:
                params = case.path_parameters or {}
                if use_real:
                    params.update({k: known[k] for k in params if k in known})
                if str(params.get("user_id")) == str(fuzz_admin_id):
                    params["user_id"] = known["user_id"]
                examples[name] += 1
                try:
                    response = case.call(headers=headers)
                except Exception as e:  # noqa: BLE001 - the ASGI transport re-raises what the app's 500 handler answered for
                    statuses[500] += 1
                    problem = f"500: the app raised {type(e).__name__}: {e}"
                else:
                    statuses[response.status_code] += 1
                    problem = _shape_problem(response.status_code, response.headers, response.content)
                if problem is not None:
                    failures.setdefault((name, problem), case.as_curl_command(headers=headers))

            try:
                probe()
            except Unsatisfiable:  # nothing to break in this operation (negative mode with no parameters)
                pass

    assert len(operations) >= 25 and sum(examples.values()) >= 20 * len(operations), (len(operations), examples)
    print(f"\nschemathesis: {sum(examples.values())} requests over {len(operations)} operations; {len(failures)} failure(s); statuses "
          f"{dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(f"{op}: {problem}\n  {curl}" for (op, problem), curl in sorted(failures.items()))
