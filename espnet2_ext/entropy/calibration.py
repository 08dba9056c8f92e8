"""Choose an entropy threshold that gives a target segment rate."""

import logging
from dataclasses import dataclass
from typing import Optional, Sequence

import torch

from espnet2_ext.entropy.boundaries import segment

logger = logging.getLogger(__name__)


class CalibrationError(ValueError):
    """The target rate cannot be reached with the given settings/data."""


@dataclass
class CalibrationResult:
    """Outcome of :func:`calibrate_threshold`.

    Attributes:
        threshold: chosen value of the calibrated parameter (nats).
        param: which parameter was calibrated (``threshold`` or ``rel_threshold``).
        target_rate: requested segments per second.
        achieved_rate: segments per second obtained on the calibration sample.
        num_units: units in the calibration sample.
        num_segments: segments obtained on the calibration sample.
    """

    threshold: float
    param: str
    target_rate: float
    achieved_rate: float
    num_units: int
    num_segments: int


def pad_entropies(seqs: Sequence[torch.Tensor]):
    """List of 1-D tensors -> padded (B, T) float tensor and (B,) lengths."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    out = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.float32)
    for i, s in enumerate(seqs):  # once per calibration, not per batch
        out[i, : len(s)] = torch.as_tensor(s, dtype=torch.float32)
    return out, lengths


def segment_rate(
    entropy: torch.Tensor, lengths: torch.Tensor, unit_rate: float = 50.0, **rule
) -> float:
    """Segments per second produced by a boundary rule on a padded batch."""
    seg = segment(entropy, lengths, warn=False, **rule)
    return float(seg.counts.sum()) / (float(lengths.sum()) / unit_rate)


def calibrate_threshold(
    entropy: torch.Tensor,
    lengths: torch.Tensor,
    target_rate: float,
    unit_rate: float = 50.0,
    rule: str = "global",
    threshold: Optional[float] = None,
    rel_threshold: Optional[float] = None,
    max_len: Optional[int] = 10,
    min_len: int = 1,
    iters: int = 60,
) -> CalibrationResult:
    """Find the threshold whose average segment rate on the sample hits ``target_rate``.

    The calibrated parameter is ``threshold`` for the ``global`` and ``combined`` rules
    (``rel_threshold`` then stays as given) and ``rel_threshold`` for ``relative``.
    The rate is non-increasing in the threshold, so bisection finds it; the rate can
    only move in steps, so the closest reachable rate is returned and reported.

    Args:
        entropy: (B, T) entropies of training utterances (nats).
        lengths: (B,) valid lengths.
        target_rate: segments per second wanted.
        unit_rate: units per second (50 for HuBERT/MFCC at 20 ms).

    Returns:
        :class:`CalibrationResult`.
    """
    if target_rate <= 0:
        raise CalibrationError(f"target_rate must be > 0, got {target_rate}")
    param = "rel_threshold" if rule == "relative" else "threshold"
    fixed = dict(rule=rule, max_len=max_len, min_len=min_len)
    if rule == "combined":
        if rel_threshold is None:
            raise CalibrationError("the combined rule needs rel_threshold to calibrate threshold")
        fixed["rel_threshold"] = rel_threshold

    valid = torch.arange(entropy.size(1))[None, :] < lengths[:, None]
    if param == "threshold":
        vals = entropy[valid]
    else:
        jump = torch.zeros_like(entropy)
        jump[:, 1:] = entropy[:, 1:] - entropy[:, :-1]
        vals = jump[valid]
    lo = float(vals.min()) - 1.0  # every position fires
    hi = float(vals.max()) + 1.0  # nothing fires

    def rate(v: float) -> float:
        return segment_rate(entropy, lengths, unit_rate, **{param: v}, **fixed)

    r_max, r_min = rate(lo), rate(hi)
    if not r_min <= target_rate <= r_max:
        raise CalibrationError(
            f"target rate {target_rate}/s is outside what rule={rule}, max_len={max_len}, "
            f"min_len={min_len} can give on this data: [{r_min:.2f}, {r_max:.2f}]/s"
        )
    best = (abs(r_max - target_rate), lo, r_max)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        r = rate(mid)
        if abs(r - target_rate) < best[0]:
            best = (abs(r - target_rate), mid, r)
        if r > target_rate:
            lo = mid
        else:
            hi = mid
    _, theta, achieved = best
    n_units = int(lengths.sum())
    result = CalibrationResult(
        threshold=theta,
        param=param,
        target_rate=target_rate,
        achieved_rate=achieved,
        num_units=n_units,
        num_segments=round(achieved * n_units / unit_rate),
    )
    logger.info(
        "calibrated %s=%.4f for target %.2f seg/s: achieved %.2f seg/s on %d units",
        param, theta, target_rate, achieved, n_units,
    )
    return result
