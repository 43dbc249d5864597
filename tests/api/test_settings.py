"""Settings and schema: documented fields, JSON round trips, environment variables."""

from __future__ import annotations

import inspect

import pytest
from pydantic import BaseModel, ValidationError

from api.settings import Settings
from extractor import schema


def _models() -> list[type[BaseModel]]:
    return [m for _, m in inspect.getmembers(schema, inspect.isclass) if issubclass(m, BaseModel) and m.__module__ == schema.__name__ and not m.__name__.startswith("_")]


@pytest.mark.parametrize("model", [*_models(), Settings], ids=lambda m: m.__name__)
def test_settings_every_field_is_documented(model: type[BaseModel]) -> None:
    missing = [name for name, f in model.model_fields.items() if not f.description]
    assert not missing, f"{model.__name__} fields without a description: {missing}"


def test_settings_defaults_round_trip_through_json(tmp_path) -> None:
    s = Settings(data_dir=tmp_path)
    assert Settings.model_validate_json(s.model_dump_json()) == s


def test_settings_read_nested_environment_variables(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("VBP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VBP_PARSING__MAX_PAGES", "12")
    s = Settings()
    assert s.parsing.max_pages == 12
    assert s.db_url == f"sqlite:///{tmp_path / 'vbp.sqlite3'}"


@pytest.mark.parametrize(("var", "value"), [("VBP_PARSING__MAX_PAGES", "0"), ("VBP_WORKERS", "-1"), ("VBP_PARSING__TIMEOUT_S", "soon")])
def test_settings_reject_bad_values(monkeypatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError):
        Settings()


def test_schema_span_rejects_reversed_interval() -> None:
    with pytest.raises(ValidationError, match="before its start"):
        schema.Span(start=5, end=2)


def test_schema_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        schema.Span(start=0, end=1, page=3)
