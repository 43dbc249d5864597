"""Choosing the split of a dataset folder whose splits are files named ``<split>.<suffix>``."""

from __future__ import annotations

from pathlib import Path

from extractor.errors import ConfigError


def split_from_files(data: Path, suffix: str, *, folder_hint: str) -> str:
    """``dev`` when ``dev.<suffix>`` exists, else the one ``<split>.<suffix>`` present.

    Args:
        data: The dataset folder.
        suffix: The split files' extension, e.g. ``"csv"``.
        folder_hint: What --data should point at, for the error message.

    Raises:
        ConfigError: no split file, or several and none is ``dev``.
    """
    splits = sorted(p.stem for p in Path(data).glob(f"*.{suffix}"))
    if not splits:
        raise ConfigError(f"no <split>.{suffix} file in {data}.", hint=f"Point --data at {folder_hint}.")
    if "dev" in splits:
        return "dev"
    if len(splits) == 1:
        return splits[0]
    raise ConfigError(f"several splits in {data}: {', '.join(splits)}.", hint="Pick one with --split.")
