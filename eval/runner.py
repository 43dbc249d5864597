"""`vbp eval`: run one dataset adapter, stamp the result with what produced it, print and save it."""

from __future__ import annotations

import importlib
import json
import subprocess
import time
from pathlib import Path

from eval.datasets import ADAPTERS
from extractor.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def extractor_versions() -> dict[str, str]:
    """Names and versions of the parts that produced the figures."""
    from extractor import __version__
    from extractor.pipeline import PARSER_NAME

    versions = {"vbp-evidence": __version__, "parser": PARSER_NAME}
    try:
        from extractor.claims import EXTRACTOR_NAME, EXTRACTOR_VERSION

        versions["claims"] = f"{EXTRACTOR_NAME} {EXTRACTOR_VERSION}"
    except ImportError:
        pass
    return versions


def run(dataset: str, data: Path, split: str | None = None, **options: object) -> dict[str, object]:
    """Run the adapter for ``dataset`` on the folder (or file) ``data``.

    Raises:
        ConfigError: unknown dataset, or ``data`` missing.
    """
    if dataset not in ADAPTERS:
        raise ConfigError(f"unknown dataset {dataset!r}.", hint=f"Use one of: {', '.join(ADAPTERS)}.")
    if not Path(data).exists():
        raise ConfigError(f"data path {data} does not exist.", hint="Point --data at the dataset folder (or the gold JSONL for 'vbp').")
    try:
        module = importlib.import_module(ADAPTERS[dataset])
    except ModuleNotFoundError as e:
        if e.name == ADAPTERS[dataset]:
            raise ConfigError(f"the {dataset!r} adapter is not built yet.", hint="See the open issues.") from e
        raise
    split = split or module.default_split(Path(data))
    started = time.perf_counter()
    result = module.run(Path(data), split, **options)
    seconds = time.perf_counter() - started
    return {"dataset": dataset, "split": split, "data": str(data), **result, "seconds": round(seconds, 2),
            "extractors": extractor_versions(), "git_commit": git_commit()}


def format_table(result: dict[str, object]) -> str:
    """The headline numbers as a small table: scalar metrics first, then per-label rows."""
    lines = [f"{result['dataset']} ({result['split']}): {result.get('examples')} examples in {result['seconds']} s"]
    skip = {"dataset", "split", "data", "seconds", "extractors", "git_commit", "examples"}
    for key, value in result.items():
        if key in skip or isinstance(value, (dict, list)):
            continue
        lines.append(f"  {key:<32} {value}")
    confusion = result.get("category_confusion")
    if isinstance(confusion, dict) and confusion:
        labels = sorted(set(confusion) | {p for row in confusion.values() for p in row})
        lines.append("  category_confusion (rows gold, columns predicted):")
        lines.append("    " + " " * 14 + "".join(f"{x[:7]:>8}" for x in labels))
        for g in labels:
            lines.append(f"    {g[:14]:<14}" + "".join(f"{confusion.get(g, {}).get(p, 0):>8}" for p in labels))
    for key, value in result.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) and "f1" in v for v in value.values()):
            lines.append(f"  {key}:")
            lines.append(f"    {'label':<24} {'P':>7} {'R':>7} {'F1':>7} {'n':>6}")
            for label, m in value.items():
                lines.append(f"    {label:<24} {m['precision']:>7.3f} {m['recall']:>7.3f} {m['f1']:>7.3f} {m['tp'] + m['fn']:>6}")
        if isinstance(value, dict) and value and all(isinstance(v, dict) and "coverage" in v for v in value.values()):
            lines.append(f"  {key}:")
            lines.append(f"    {'field':<34} {'P':>7} {'cov':>7} {'acc':>7} {'filled':>7} {'n':>6}")
            for name, m in value.items():
                p = "-" if m["precision"] is None else f"{m['precision']:.3f}"
                lines.append(f"    {name:<34} {p:>7} {m['coverage']:>7.3f} {m['accuracy']:>7.3f} {m['filled']:>7} {m['n']:>6}")
    return "\n".join(lines)


def write_json(result: dict[str, object], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
