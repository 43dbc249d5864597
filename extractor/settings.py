"""Settings of the extractor package: parsing limits and passage size."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ParsingSettings(BaseModel):
    """Limits and knobs for turning a file into a Document."""

    model_config = ConfigDict(extra="forbid")

    max_file_mb: float = Field(default=200.0, gt=0, description="Largest file accepted, in MiB.")
    max_pages: int = Field(default=2000, ge=1, description="Most pages parsed from one document.")
    timeout_s: float = Field(default=120.0, gt=0, description="Most seconds spent parsing one document.")
    passage_chars: int = Field(default=900, ge=200, description="Target length of a passage in characters.")
    min_chars_per_page: int = Field(
        default=20, ge=0, description="A page with fewer extractable characters counts as having no text layer."
    )
    garbage_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Text-quality score below which a page's text layer is reported as garbage."
    )
