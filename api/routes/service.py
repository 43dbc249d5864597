"""Health and the caller's own identity."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser
from api.schemas import HealthPublic, MePublic
from extractor import __version__

router = APIRouter(tags=["service"])


@router.get("/health", response_model=HealthPublic)
def health() -> dict:
    """Whether the service answers (no API key needed)."""
    return {"status": "ok", "version": __version__}


@router.get("/me", response_model=MePublic)
def me(user: CurrentUser) -> dict:
    """Who the API key belongs to."""
    return {"id": user.user_id, "name": user.name, "role": user.role, "supplier_id": user.supplier_id}
