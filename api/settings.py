"""The one place environment variables are read: `VBP_*` settings for every package."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractor.settings import ParsingSettings
from retrieval.settings import RetrievalSettings


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "vbp-evidence"


class Settings(BaseSettings):
    """Effective settings: defaults, then `VBP_*` environment variables, then command-line flags.

    Nested settings use a double underscore: `VBP_PARSING__MAX_PAGES=500`.
    """

    model_config = SettingsConfigDict(env_prefix="VBP_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Field(default_factory=_default_data_dir, description="Folder holding the database, stored files and indexes.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the database; defaults to SQLite in the data folder (PostgreSQL works unchanged)."
    )
    workers: int = Field(
        default=min(2, os.cpu_count() or 1), ge=0, description="Parser processes for batch ingest; 0 parses in the calling process."
    )
    parsing: ParsingSettings = Field(default_factory=ParsingSettings, description="PDF and text parsing limits.")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Passage index and search.")

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return Path(v).expanduser()

    @property
    def db_url(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite:///{self.data_dir / 'vbp.sqlite3'}"

    @property
    def files_dir(self) -> Path:
        """Where ingested source files are kept, by content hash."""
        return self.data_dir / "files"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment with explicit overrides (from CLI flags) on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
