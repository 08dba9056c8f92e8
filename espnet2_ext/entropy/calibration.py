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


def _calibration_values(
    entropy: torch.Tensor, lengths: torch.Tensor, param: str
) -> torch.Tensor:
    """The values the calibrated parameter is compared with.

    (N,), over the valid positions.
    """
    valid = torch.arange(entropy.size(1))[None, :] < lengths[:, None]
    if param == "threshold":
        return entropy[valid]
    jump = torch.zeros_like(entropy)
    jump[:, 1:] = entropy[:, 1:] - entropy[:, :-1]
    return jump[valid]


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
    grid: int = 400,
    units: Optional[torch.Tensor] = None,
    snap_to_unit_start: bool = False,
    max_len_mode: str = "split",
) -> CalibrationResult:
    """Find the threshold whose average segment rate on the sample is closest to
    ``target_rate``.

    The calibrated parameter is ``threshold`` for the ``global`` and ``combined`` rules
    (``rel_threshold`` then stays as given) and ``rel_threshold`` for ``relative``.

    * ``min_len == 1``: the rate is non-increasing in the threshold (raising it only
      removes rule boundaries, and merging two segments never adds ``max_len`` pieces),
      so bisection between "every position fires" and "nothing fires" finds it.
    * ``min_len > 1``: merging short segments makes the rate non-monotonic (at low
      thresholds runs of one-unit segments merge into one and the rate falls again), so
      bisection is invalid. The reachable set is swept instead: the rate at ``grid``
      quantiles of the compared values (plus both extremes), then a second sweep of
      ``grid`` points between the neighbours of the closest one; the closest rate wins.

    Either way the rate moves in steps, so the closest reachable rate is returned and
    reported (``achieved_rate``), never silently a different one.

    Args:
        entropy: (B, T) entropies of training utterances (nats).
        lengths: (B,) valid lengths.
        target_rate: segments per second wanted.
        unit_rate: units per second (50 for HuBERT/MFCC at 20 ms).
        iters: bisection steps (``min_len == 1``).
        grid: sweep points per pass (``min_len > 1``).
        units: (B, T) unit ids, needed by ``snap_to_unit_start``.
        snap_to_unit_start: count the segments as the frontend makes them, each
            start moved to the first frame of its unit run (starts that meet merge).
        max_len_mode: how ``min_len`` / ``max_len`` are held (``segment``).

    Returns:
        :class:`CalibrationResult`.

    Raises:
        CalibrationError: the target is outside the rates the rule can give here.
    """
    if target_rate <= 0:
        raise CalibrationError(f"target_rate must be > 0, got {target_rate}")
    param = "rel_threshold" if rule == "relative" else "threshold"
    fixed = dict(
        rule=rule,
        max_len=max_len,
        min_len=min_len,
        units=units,
        snap_to_unit_start=snap_to_unit_start,
        max_len_mode=max_len_mode,
    )
    if rule == "combined":
        if rel_threshold is None:
            raise CalibrationError(
                "the combined rule needs rel_threshold to calibrate threshold"
            )
        fixed["rel_threshold"] = rel_threshold
    vals = _calibration_values(entropy, lengths, param)
    if not bool(torch.isfinite(vals).all()):
        raise CalibrationError("the entropies hold NaN or inf values: cannot calibrate")
    lo = float(vals.min()) - 1.0  # every position fires
    hi = float(vals.max()) + 1.0  # nothing fires

    def rate(v: float) -> float:
        return segment_rate(entropy, lengths, unit_rate, **{param: v}, **fixed)

    if min_len == 1:
        r_max, r_min = rate(lo), rate(hi)
        reach = (r_min, r_max)
        best = (abs(r_max - target_rate), lo, r_max)
        if r_min <= target_rate <= r_max:
            for _ in range(iters):
                mid = 0.5 * (lo + hi)
                r = rate(mid)
                if abs(r - target_rate) < best[0]:
                    best = (abs(r - target_rate), mid, r)
                if r > target_rate:
                    lo = mid
                else:
                    hi = mid
        how = "bisection"
    else:
        qs = torch.quantile(
            vals.double(), torch.linspace(0, 1, grid + 1, dtype=torch.float64)
        )
        cand = sorted({lo, hi, *(float(q) for q in qs)})
        rates = [rate(v) for v in cand]  # once per calibration, not per batch
        i = min(range(len(cand)), key=lambda j: abs(rates[j] - target_rate))
        a, b = cand[max(i - 1, 0)], cand[min(i + 1, len(cand) - 1)]
        fine = [a + (b - a) * k / grid for k in range(1, grid)]
        cand += fine
        rates += [rate(v) for v in fine]
        reach = (min(rates), max(rates))
        j = min(range(len(cand)), key=lambda j: abs(rates[j] - target_rate))
        best = (abs(rates[j] - target_rate), cand[j], rates[j])
        how = f"sweep of {len(cand)} thresholds"
    if not reach[0] <= target_rate <= reach[1]:
        raise CalibrationError(
            f"target rate {target_rate}/s is outside what rule={rule}, "
            f"max_len={max_len}, min_len={min_len} can give on this data: "
            f"[{reach[0]:.2f}, {reach[1]:.2f}]/s"
        )
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
        "calibrated %s=%.4f for target %.2f seg/s (%s): achieved %.2f seg/s on %d "
        "units",
        param,
        theta,
        target_rate,
        how,
        achieved,
        n_units,
    )
    if abs(achieved - target_rate) > 0.05 * target_rate:
        logger.warning(
            "the closest reachable rate %.2f/s is more than 5%% from the target %.2f/s "
            "(rule=%s, min_len=%d, max_len=%s)",
            achieved,
            target_rate,
            rule,
            min_len,
            max_len,
        )
    return result
