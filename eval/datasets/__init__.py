"""One adapter per dataset, each a module of this package.

Every adapter module defines:

- ``default_split(data: Path) -> str``: the split to score when none is given (the one split present);
- ``run(data: Path, split: str, *, limit: int | None = None, **options) -> dict``: score the pipeline
  and return the SPEC's metric keys for the dataset plus ``examples`` (how many were scored) and
  anything else worth keeping (per-label scores, counts of skipped examples and why).

The runner (``eval.runner``) adds the dataset, split, seconds, extractor versions and git commit.
Adapters read the layout described in ``../shared/data/README.md`` from any folder, never a fixed path.
"""

ADAPTERS = {
    "vbp": "eval.datasets.vbp",
    "evidence-inference": "eval.datasets.evidence_inference",
    "rct-numeric": "eval.datasets.rct_numeric",
    "ebm-nlp": "eval.datasets.ebm_nlp",
    "measeval": "eval.datasets.measeval",
    "scifact": "eval.datasets.scifact",
    "nli4ct": "eval.datasets.nli4ct",
    "healthver": "eval.datasets.healthver",
    "claim-check": "eval.datasets.claim_check",
}
