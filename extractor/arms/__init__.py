"""Per-arm numbers of one RCT comparison (events, group sizes, means, SDs), read from a Document as a scored,
grounded and calibrated reading: ``read`` finds and describes the candidates, ``score`` picks and trusts them."""

from extractor.arms.read import recompute_effect
from extractor.arms.score import EXTRACTOR_NAME, extract_arm_numbers
from extractor.schema import ARM_FIELDS, ArmNumbers, NumberSource

__all__ = ["ARM_FIELDS", "EXTRACTOR_NAME", "ArmNumbers", "NumberSource", "extract_arm_numbers", "recompute_effect"]
