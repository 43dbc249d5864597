"""Users and API keys (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import AdminUser, ServicesDep
from api.schemas import Page, UserCreate, UserCreated, UserPublic

router = APIRouter(prefix="/users", tags=["users"])

# ids are SQLite/PostgreSQL 64-bit integers: a larger one cannot name a user (and overflowed the driver: a 500)
UserId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The user's id (see GET /users).")]


@router.post("", response_model=UserCreated, status_code=201)
def create_user(body: UserCreate, admin: AdminUser, services: ServicesDep) -> dict:
    """Create a user and their API key; the key is in this response only (only its hash is stored)."""
    # an empty supplier is no supplier: stored as '' it broke the users -> suppliers foreign key (a 500)
    supplier = (body.supplier or "").strip() or None
    user, key = services.repo.create_user(body.name, body.role, supplier_id=supplier, supplier_name=body.supplier_name, actor=admin)
    return {"user": user, "key": key}


@router.get("", response_model=Page[UserPublic])
def list_users(admin: AdminUser, services: ServicesDep) -> dict:
    """Every user, revoked ones included."""
    users = services.repo.list_users()
    return {"data": users, "count": len(users)}


@router.post("/{user_id}/revoke", response_model=UserPublic)
def revoke_user(user_id: UserId, admin: AdminUser, services: ServicesDep) -> dict:
    """Revoke a user and every key of theirs at once; their past actions stay in the audit trail."""
    return services.repo.revoke_user(user_id, actor=admin)


@router.post("/{user_id}/keys", response_model=UserCreated, status_code=201)
def issue_key(user_id: UserId, admin: AdminUser, services: ServicesDep) -> dict:
    """Issue another key for an active user (to rotate: issue, switch clients over, then revoke and re-create)."""
    key = services.repo.issue_key(user_id, actor=admin)
    return {"user": services.repo.find_user(user_id), "key": key}
