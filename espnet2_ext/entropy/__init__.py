"""Entropy model (frozen unit LM), boundary rules and threshold calibration."""

from espnet2_ext.entropy.boundaries import (  # noqa: F401
    NoBoundaryWarning,
    Segmentation,
    rule_starts,
    segment,
)
from espnet2_ext.entropy.calibration import (  # noqa: F401
    CalibrationError,
    CalibrationResult,
    calibrate_threshold,
    segment_rate,
)
from espnet2_ext.entropy.unit_lm import (  # noqa: F401
    UnitLM,
    UnitLMError,
    read_token_list,
)
