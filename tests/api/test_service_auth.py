"""Access control: API keys hashed at rest, roles, tender assignment, revocation, and the `vbp user` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from api.store.models import ApiKeyRow
from tests.api.service_kit import World


def test_service_auth_keys_are_hashed_at_rest(service: World) -> None:
    key = service.keys["admin"]
    with service.services.store.session() as s:
        rows = s.scalars(select(ApiKeyRow)).all()
    assert rows and all(len(r.key_hash) == 64 and r.key_hash != key for r in rows)
    with service.services.store.engine.connect() as conn:  # everything into the main file: no WAL reset while reading
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in service.data_dir.glob("vbp.sqlite3*"))
    secret = key.split("_", 2)[2]  # vbp_<key id>_<secret>: the secret itself may hold "_"
    assert secret.encode() not in raw  # neither the key nor its secret part is stored anywhere in the database files
    assert key[4:16].encode() in raw  # only the non-secret key id, for lookup


def test_service_auth_a_fresh_database_has_no_user_and_no_default_key(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(data_dir=tmp_path / "d", workers=0), start_jobs=False)
    with TestClient(app) as client:
        assert app.state.services.repo.list_users() == []
        for key in ("admin", "changethis", "vbp_000000000000_" + "A" * 43):
            assert client.get("/tenders", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_service_auth_roles(service: World) -> None:
    service.standard_tender()
    assert service.get("eva", "/me").json() == {"id": service.users["eva"]["id"], "name": "eva", "role": "evaluator", "supplier_id": None}
    assert service.get("acme-user", "/me").json()["supplier_id"] == "acme"
    for who in ("eva", "acme-user"):
        assert service.post(who, "/users", json={"name": "x", "role": "admin"}).status_code == 403
        assert service.get(who, "/users").status_code == 403
        assert service.post(who, f"/tenders/{service.tender}/suppliers", json={"supplier": "initech"}).status_code == 403
    assert service.post("acme-user", f"/tenders/{service.tender}/claims/x:c0/reviews",
                        json={"decision": "accepted", "reason": "ok"}).status_code == 403
    assert service.get("acme-user", f"/tenders/{service.tender}/worksheet?supplier=acme").status_code == 403


def test_service_auth_evaluators_see_only_their_tenders(service: World) -> None:
    tender = service.standard_tender()
    other = service.post("admin", "/tenders", json={"title": "Beds 2027"}).json()["id"]
    assert [t["id"] for t in service.get("eva", "/tenders").json()["data"]] == [tender]
    assert service.get("otto", "/tenders").json()["data"] == []
    assert service.get("otto", f"/tenders/{tender}").status_code == 404
    assert {t["id"] for t in service.get("admin", "/tenders").json()["data"]} == {tender, other}
    denied = service.get("admin", "/audit?action=access.denied").json()["data"]
    assert [(e["actor"], e["target_id"]) for e in denied] == [("otto", tender)]


def test_service_auth_a_supplier_never_sees_competitors_or_evaluators(service: World) -> None:
    tender = service.standard_tender()
    seen = service.get("acme-user", f"/tenders/{tender}").json()
    assert seen["suppliers"] == [{"id": "acme", "name": "Acme"}] and seen["evaluators"] == []
    staff = service.get("eva", f"/tenders/{tender}").json()
    assert {s["id"] for s in staff["suppliers"]} == {"acme", "globex"} and staff["evaluators"] == [{"id": service.users["eva"]["id"], "name": "eva"}]


def test_service_auth_revoked_users_are_locked_out(service: World) -> None:
    service.standard_tender()
    created = service.post("admin", "/users", json={"name": "temp", "role": "evaluator"})
    assert created.status_code == 201
    key, user = created.json()["key"], created.json()["user"]
    assert service.client.get("/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    revoked = service.post("admin", f"/users/{user['id']}/revoke")
    assert revoked.json()["active"] is False
    assert service.client.get("/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert service.post("admin", f"/users/{user['id']}/keys").status_code == 422  # a revoked user gets no new key


def test_service_auth_key_rotation(service: World) -> None:
    service.standard_tender()
    uid = service.users["eva"]["id"]
    new = service.post("admin", f"/users/{uid}/keys").json()["key"]
    assert new != service.keys["eva"]
    for key in (new, service.keys["eva"]):  # both work until the old one is revoked
        assert service.client.get("/me", headers={"X-API-Key": key}).json()["name"] == "eva"


@pytest.mark.parametrize(("body", "says"), [
    ({"name": "s", "role": "supplier"}, "needs the supplier"),
    ({"name": "e", "role": "evaluator", "supplier": "acme"}, "only supplier users"),
    ({"name": "s", "role": "supplier", "supplier": "Not A Slug"}, "not valid"),
])
def test_service_auth_user_creation_is_checked(service: World, body: dict, says: str) -> None:
    r = service.post("admin", "/users", json=body)
    assert r.status_code == 422 and says in r.json()["error"]["message"]


def _vbp(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VBP_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, check=False, env=env, timeout=120)


def test_service_auth_cli_user_add_list_revoke(tmp_path: Path) -> None:
    added = _vbp("user", "add", "alice", "--role", "evaluator", "--json", data_dir=tmp_path)
    assert added.returncode == 0, added.stderr
    out = json.loads(added.stdout)
    assert out["user"]["name"] == "alice" and out["key"].startswith("vbp_")
    supplier = _vbp("user", "add", "bob", "--role", "supplier", "--supplier", "acme", data_dir=tmp_path)
    assert supplier.returncode == 0 and "key: vbp_" in supplier.stdout
    listed = json.loads(_vbp("user", "list", "--json", data_dir=tmp_path).stdout)
    assert [(u["name"], u["role"], u["supplier_id"]) for u in listed] == [("alice", "evaluator", None), ("bob", "supplier", "acme")]
    assert "vbp_" not in _vbp("user", "list", data_dir=tmp_path).stdout
    assert _vbp("user", "revoke", "alice", data_dir=tmp_path).returncode == 0
    assert json.loads(_vbp("user", "list", "--json", data_dir=tmp_path).stdout)[0]["active"] is False
    bad = _vbp("user", "add", "carol", "--role", "root", data_dir=tmp_path)
    assert bad.returncode == 2 and "unknown role 'root'" in bad.stderr and "Traceback" not in bad.stderr
    dup = _vbp("user", "add", "bob", "--role", "admin", data_dir=tmp_path)
    assert dup.returncode == 2 and "already exists" in dup.stderr
