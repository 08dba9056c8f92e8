"""Evaluation metrics (boundary precision/recall/F1 against reference alignments)."""

from espnet2_ext.metrics.boundaries import (  # noqa: F401
    DEFAULT_TOLERANCE,
    FRAME_BOUNDARY_OFFSET,
    FRAME_SHIFT,
    BoundaryScores,
    boundary_scores,
    ctm_boundaries,
    interval_boundaries,
    match_boundaries,
    pack_left,
    pad_times,
    read_ctm,
    restrict_times,
    speech_region,
    starts_to_times,
)
