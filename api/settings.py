"""The one place environment variables are read: `VBP_*` settings for every package."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractor.settings import ParsingSettings
from retrieval.settings import RetrievalSettings


class ServiceSettings(BaseModel):
    """The HTTP service (`vbp serve`): where it listens and how it runs background jobs."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Interface `vbp serve` listens on; 0.0.0.0 exposes it to the network.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port `vbp serve` listens on.")
    job_workers: int = Field(default=1, ge=1, le=16, description="Threads running background ingest jobs (each parses in its own process).")
    max_job_attempts: int = Field(
        default=3, ge=1, le=20,
        description="A job interrupted by a crash this many times is marked failed instead of resumed at start-up.",
    )
    shutdown_grace_s: float = Field(
        default=10.0, ge=0, le=600,
        description="Seconds a stopping server waits for the running job's current step before re-queuing it for the next start.",
    )
    page_size: int = Field(default=100, ge=1, le=10_000, description="Items per page of a list endpoint unless the client asks for fewer.")
    web_session_hours: float = Field(default=8.0, gt=0, le=24 * 30,
                                     description="How long a browser session lasts after signing in with an API key.")
    request_threads: int | None = Field(
        default=None, ge=1, le=256,
        description="Threads serving requests at once, the others waiting their turn (default: one per CPU core, at least 2). Handlers are "
        "mostly Python under one interpreter lock: more threads than cores took it from each other and served fewer requests.",
    )
    compute_process: bool = Field(
        default=True,
        description="Run the jobs' heavy steps (claim extraction, passage embedding, stance) in a separate, lower-priority process, "
        "so that requests stay fast while documents are processed.",
    )
    compute_nice: int = Field(default=10, ge=0, le=19,
                              description="How much lower the CPU priority of the jobs' parser and compute processes is (Unix nice).")
    compute_threads: int = Field(default=1, ge=1, le=64, description="Threads the compute process's stance model may use.")
    max_request_line_bytes: int = Field(
        default=32 * 1024, ge=1024, le=60 * 1024,
        description="Longest request target (path and query string) `vbp serve` accepts, in bytes; a longer one answers 414 in the "
        "JSON error shape. At most 60 KiB: the HTTP parser refuses longer targets on its own.",
    )
    max_header_bytes: int = Field(
        default=32 * 1024, ge=1024, le=1024 * 1024,
        description="Largest request header block `vbp serve` accepts (all names and values), in bytes; a larger one answers 431 in "
        "the JSON error shape.",
    )
    compute_max_memory_mb: int = Field(
        default=5120, ge=1024,
        description="Most address space, in MiB, of the compute process (RLIMIT_AS): a step that needs more fails alone, with this "
        "setting named, instead of pushing the server into swap. Measured: about 2,900 MiB (1,650 MiB resident) once the claim, "
        "embedding and stance models are loaded on a 2-core machine; more cores mean more thread arenas.",
    )


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
    service: ServiceSettings = Field(default_factory=ServiceSettings, description="The HTTP service and its background jobs.")

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return Path(v).expanduser()

    @property
    def db_url(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite:///{self.data_dir / 'vbp.sqlite3'}"

    @property
    def uploads_dir(self) -> Path:
        """Where accepted uploads wait for their ingest job (removed when the job ends)."""
        return self.data_dir / "uploads"

    @property
    def files_dir(self) -> Path:
        """Where ingested source files are kept, by content hash."""
        return self.data_dir / "files"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment with explicit overrides (from CLI flags) on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
