"""Imported by the parser processes' forkserver when claims are extracted: loads the models once.

Every worker forks from a server that has already loaded the spaCy pipeline and the heads, so a
batch pays the load once instead of once per worker (and again whenever a worker is recycled).
"""

from extractor import claims as _claims  # noqa: F401  (imports quantities, design, domains)
from extractor.pico import load_pipeline

load_pipeline("auto")
