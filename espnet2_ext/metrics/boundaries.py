"""Boundary precision, recall, F1 and R-value against reference word/phone times.

Conventions
-----------

Unit times. A segment that starts at unit ``t`` puts its boundary midway between the
centres of frames ``t - 1`` and ``t``: ``t * frame_shift + offset`` with ``frame_shift
= 0.02`` s and ``offset = centre - frame_shift / 2`` (:func:`boundary_offset`), where
``centre`` is where frame ``t = 0`` is centred, which depends on the extractor
(``espnet2_ext.units.features.frame_centre``):

* MFCC and HuBERT frames cover samples ``[320 t, 320 t + 400)`` at 16 kHz, centred at
  ``0.02 t + 0.0125`` s: ``offset = 0.0025`` s (:data:`FRAME_BOUNDARY_OFFSET`, the
  default); the boundary is also the middle of the two frames' 5 ms overlap;
* Whisper encoder frames are centred at ``0.02 t`` s: ``offset = -0.01`` s.

Scoring Whisper units with the MFCC/HuBERT offset puts every boundary 12.5 ms late.
The segment start at ``t = 0`` is forced by every rule and is never counted.

Reference times. The boundaries of a tier (words or phones) are the distinct start
and end times of its tokens (two times closer than ``merge``, default 1 ms, are one
boundary), except the first token's start: that is the utterance start of the
reference, not counted for the same reason as ``t = 0``.

Matching. A hypothesis boundary is a hit when it is matched to a reference boundary
at most ``tolerance`` (default 20 ms) away; each reference and each hypothesis
boundary is matched at most once. Pairs are matched greedily by distance (closest
pair first). This is computed, batched and without a loop over boundaries, as rounds
of mutual nearest neighbours: the closest remaining pair is always mutual, and every
mutual pair is one that the closest-first greedy order accepts.

Scores (micro-averaged: hits and counts are summed over utterances first)::

    precision = hits / num_hyp        recall = hits / num_ref
    F1        = 2 P R / (P + R)
    R-value   = 1 - (|r1| + |r2|) / 2,  OS = R / P - 1,
                r1 = sqrt((1 - R)^2 + OS^2),  r2 = (-OS + R - 1) / sqrt(2)

(the R-value of Räsänen et al., 2009, which does not reward over-segmentation the way
F1 can). Empty counts give 0 rather than NaN.
"""

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

FRAME_SHIFT = 0.02
FRAME_BOUNDARY_OFFSET = 0.0025  # boundary_offset(0.0125): MFCC and HuBERT frames
DEFAULT_TOLERANCE = 0.02

CtmEntry = Tuple[float, float, str]  # (start s, end s, token)


@dataclass
class BoundaryScores:
    """Boundary detection scores (micro-averaged over utterances).

    Attributes:
        hits: matched hypothesis/reference pairs.
        num_hyp: hypothesis boundaries.
        num_ref: reference boundaries.
        precision, recall, f1, r_value: in [0, 1] (the R-value can be negative for
            heavy over-segmentation).
    """

    hits: int
    num_hyp: int
    num_ref: int
    precision: float
    recall: float
    f1: float
    r_value: float

    @classmethod
    def from_counts(cls, hits: int, num_hyp: int, num_ref: int) -> "BoundaryScores":
        """Scores from the summed counts."""
        p = hits / num_hyp if num_hyp else 0.0
        r = hits / num_ref if num_ref else 0.0
        f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
        if p > 0:
            os_ = r / p - 1.0
            r1 = float(np.hypot(1.0 - r, os_))
            r2 = (-os_ + r - 1.0) / np.sqrt(2.0)
            rval = 1.0 - (abs(r1) + abs(r2)) / 2.0
        else:
            rval = 0.0
        return cls(int(hits), int(num_hyp), int(num_ref), p, r, f1, float(rval))

    def as_dict(self) -> Dict[str, float]:
        """Plain dict (for JSON)."""
        return asdict(self)


def _valid(lengths: torch.Tensor, n: int) -> torch.Tensor:
    return torch.arange(n, device=lengths.device)[None, :] < lengths[:, None]


def pack_left(
    values: torch.Tensor, keep: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Move the kept entries of each row to its front, in order.

    Args:
        values: (B, T) float.
        keep: (B, T) bool.

    Returns:
        packed (B, N) with N = the largest number kept in a row (padding 0), and the
        (B,) lengths.
    """
    B, T = values.shape
    lengths = keep.sum(1)
    N = int(lengths.max()) if B else 0
    pos = torch.arange(T, device=values.device).expand(B, T)
    order = torch.where(keep, pos, torch.full_like(pos, T)).sort(dim=1).values[:, :N]
    packed = values.gather(1, order.clamp(max=max(T - 1, 0)))
    return packed.masked_fill(~_valid(lengths, N), 0.0), lengths


def boundary_offset(frame_centre: float, frame_shift: float = FRAME_SHIFT) -> float:
    """Seconds from ``t * frame_shift`` to the boundary before unit ``t``: midway
    between the centres of frames ``t - 1`` and ``t``, i.e. ``frame_centre -
    frame_shift / 2`` (``frame_centre``: where frame 0 is centred, seconds)."""
    return frame_centre - frame_shift / 2


def starts_to_times(
    starts: torch.Tensor,
    frame_shift: float = FRAME_SHIFT,
    offset: float = FRAME_BOUNDARY_OFFSET,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Segment starts on units -> boundary times, without the forced start at t = 0.

    Args:
        starts: (B, T) bool, True where a segment starts (padding False).
        frame_shift: seconds per unit.
        offset: seconds added to ``t * frame_shift`` (see the module docstring).

    Returns:
        times (B, N) float64 seconds (padding 0) and lengths (B,) long.
    """
    B, T = starts.shape
    t = torch.arange(T, dtype=torch.float64, device=starts.device)
    keep = starts.clone()
    keep[:, :1] = False
    return pack_left((t * frame_shift + offset).expand(B, T), keep)


def restrict_times(
    times: torch.Tensor,
    lengths: torch.Tensor,
    low: torch.Tensor,
    high: torch.Tensor,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Keep the times with ``low < time <= high`` (per utterance).

    Args:
        times: (B, N) seconds; lengths: (B,); low, high: (B,) seconds.

    Returns:
        times (B, N') and lengths (B,).
    """
    low = low.to(times.dtype)[:, None]
    high = high.to(times.dtype)[:, None]
    keep = _valid(lengths, times.size(1)) & (times > low) & (times <= high)
    return pack_left(times, keep)


def match_boundaries(
    hyp: torch.Tensor,
    hyp_lengths: torch.Tensor,
    ref: torch.Tensor,
    ref_lengths: torch.Tensor,
    tolerance: float = DEFAULT_TOLERANCE,
) -> torch.Tensor:
    """One-to-one greedy (closest first) matching within ``tolerance``.

    Args:
        hyp: (B, N) hypothesis boundary times (s), padded.
        hyp_lengths: (B,) valid entries of ``hyp``.
        ref: (B, M) reference boundary times (s), padded.
        ref_lengths: (B,) valid entries of ``ref``.
        tolerance: largest distance (s) of a hit.

    Returns:
        (B,) long: hits per utterance.
    """
    B, N = hyp.shape
    M = ref.size(1)
    hits = torch.zeros(B, dtype=torch.long, device=hyp.device)
    if N == 0 or M == 0:
        return hits
    dist = (hyp.double()[:, :, None] - ref.double()[:, None, :]).abs()  # (B, N, M)
    free_h = _valid(hyp_lengths, N)
    free_r = _valid(ref_lengths, M)
    inf = torch.tensor(float("inf"), dtype=dist.dtype, device=dist.device)
    dist = torch.where(dist <= tolerance + 1e-9, dist, inf)
    n_idx = torch.arange(N, device=hyp.device).expand(B, N)
    while True:  # rounds of mutual nearest neighbours (few: not per boundary)
        d = torch.where(free_h[:, :, None] & free_r[:, None, :], dist, inf)
        best_val, best_ref = d.min(2)  # (B, N): nearest free ref of each hyp
        best_hyp = d.argmin(1)  # (B, M): nearest free hyp of each ref
        mutual = torch.isfinite(best_val) & (best_hyp.gather(1, best_ref) == n_idx)
        if not bool(mutual.any()):
            return hits
        hits += mutual.sum(1)
        free_h &= ~mutual
        taken = torch.zeros(B, M, dtype=torch.long, device=hyp.device)
        taken.scatter_add_(1, best_ref, mutual.long())  # a ref is some hyp's mutual NN
        free_r &= taken == 0


def pad_times(
    seqs: Sequence[Union[np.ndarray, Sequence[float]]],
) -> Tuple[torch.Tensor, torch.Tensor]:
    """List of 1-D time arrays -> (B, N) float64 padded with 0, and (B,) lengths."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    out = torch.zeros(
        len(seqs), int(lengths.max()) if len(seqs) else 0, dtype=torch.float64
    )
    for i, s in enumerate(seqs):  # once per utterance
        out[i, : len(s)] = torch.as_tensor(np.asarray(s, dtype=np.float64))
    return out, lengths


def boundary_scores(
    hyp: Sequence[Union[np.ndarray, Sequence[float]]],
    ref: Sequence[Union[np.ndarray, Sequence[float]]],
    tolerance: float = DEFAULT_TOLERANCE,
) -> BoundaryScores:
    """Scores of hypothesis against reference boundary times, one pair per utterance.

    Args:
        hyp: per utterance, hypothesis boundary times (s), 1-D.
        ref: per utterance, reference boundary times (s), 1-D.
        tolerance: largest distance (s) of a hit.

    Returns:
        :class:`BoundaryScores` (micro-averaged).
    """
    if len(hyp) != len(ref):
        raise ValueError(f"{len(hyp)} hypothesis vs {len(ref)} reference utterances")
    h, hl = pad_times(hyp)
    r, rl = pad_times(ref)
    hits = match_boundaries(h, hl, r, rl, tolerance)
    return BoundaryScores.from_counts(int(hits.sum()), int(hl.sum()), int(rl.sum()))


def interval_boundaries(
    intervals: Sequence[Tuple[float, float]], merge: float = 1e-3
) -> np.ndarray:
    """Reference boundaries of one utterance's tier: distinct starts and ends.

    Args:
        intervals: (start, end) seconds of the tokens.
        merge: times closer than this are one boundary, the earliest (CTM rounding).

    Returns:
        (K,) sorted seconds, without the first token's start (the utterance start).
    """
    if not intervals:
        return np.zeros(0)
    arr = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    first = float(arr[:, 0].min())
    t = np.unique(arr.ravel())
    if t.size:
        keep = np.concatenate([[True], np.diff(t) >= merge])
        t = t[keep]
    return t[np.abs(t - first) >= merge]


def read_ctm(path: Union[str, Path]) -> Dict[str, List[CtmEntry]]:
    """Read a CTM file (``utt channel start duration token [confidence]``).

    Returns:
        utt -> [(start, end, token)] sorted by start.

    Raises:
        ValueError: a malformed line (with its number).
    """
    out: Dict[str, List[CtmEntry]] = {}
    with Path(path).open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts or parts[0].startswith(";;"):
                continue
            if len(parts) < 5:
                raise ValueError(
                    f"{path}:{lineno}: expected 'utt chan start dur token'"
                )
            start, dur = float(parts[2]), float(parts[3])
            out.setdefault(parts[0], []).append((start, start + dur, parts[4]))
    for entries in out.values():
        entries.sort(key=lambda e: e[0])
    return out


def ctm_boundaries(entries: Sequence[CtmEntry], merge: float = 1e-3) -> np.ndarray:
    """Reference boundaries (s) of one utterance's CTM entries (see
    :func:`interval_boundaries`)."""
    return interval_boundaries([(a, b) for a, b, _ in entries], merge)


def speech_region(entries: Sequence[CtmEntry]) -> Optional[Tuple[float, float]]:
    """(first token start, last token end) of one utterance, or None if empty."""
    if not entries:
        return None
    return min(a for a, _, _ in entries), max(b for _, b, _ in entries)
