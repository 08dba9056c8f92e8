"""Entropy boundary rules: where a new segment starts.

All functions work on a padded batch (B, T) at once; nothing loops over frames or
segments. A segment always starts at t = 0.

Rules (a segment starts at t > 0 when the rule fires):

* ``global``:   H_t > threshold
* ``relative``: H_t - H_{t-1} > rel_threshold
* ``combined``: both at once

Then, in this order:

* ``min_len``: greedy, left to right: a start is kept when at least ``min_len`` units
  have passed since the last kept start (in a burst of starts the first one is kept,
  the next ones within ``min_len`` units are merged into its segment); a last segment
  still shorter than ``min_len`` joins its left neighbour.
* ``max_len``: a segment longer than ``max_len`` units is split into
  ``ceil(n / max_len)`` pieces of near-equal length (no tiny tail piece).

Invariant: every segment has between ``min_len`` and ``max_len`` units, except the
single segment of an utterance shorter than ``min_len``. It needs
``max_len >= 2 * min_len - 1`` (otherwise a segment of ``max_len + 1`` units can be
neither kept nor split into two pieces of ``min_len``); :func:`check_lengths` enforces
that.

``max_len_mode="cut"`` replaces the two steps by one greedy pass that holds both
bounds for any ``min_len <= max_len``: from each kept start, the next one is the first
rule start at least ``min_len`` units later if it comes within ``max_len`` units, else
the unit ``max_len`` after it. Every segment has ``min_len`` to ``max_len`` units
except an utterance's last, which may be shorter (as the last window of fixed
pooling). With ``min_len=3, max_len=4`` every segment has fixed pooling's lengths at
15/s, and the rule only chooses between 3 and 4.
"""

import warnings
from dataclasses import dataclass
from typing import Optional

import torch

RULES = ("global", "relative", "combined")
MAX_LEN_MODES = ("split", "cut")


class NoBoundaryWarning(UserWarning):
    """The rule fired no boundary at all in some utterance(s) of a batch."""


@dataclass
class Segmentation:
    """Result of a boundary rule on a padded batch.

    Attributes:
        seg_ids: (B, T) long, segment index of each unit (non-decreasing, starts at 0);
            -1 at padded positions.
        counts: (B,) long, number of segments per utterance.
        starts: (B, T) bool, True where a segment starts.
        no_boundary: (B,) bool, True where the rule itself fired nowhere (length > 1).
    """

    seg_ids: torch.Tensor
    counts: torch.Tensor
    starts: torch.Tensor
    no_boundary: torch.Tensor


def check_rule(
    rule: str, threshold: Optional[float], rel_threshold: Optional[float]
) -> None:
    """Raise ValueError if a rule misses the threshold(s) it needs."""
    if rule not in RULES:
        raise ValueError(f"unknown boundary rule {rule!r}; choose one of {RULES}")
    if rule in ("global", "combined") and threshold is None:
        raise ValueError(f"rule {rule!r} needs a threshold (entropy, nats)")
    if rule in ("relative", "combined") and rel_threshold is None:
        raise ValueError(f"rule {rule!r} needs rel_threshold (entropy jump, nats)")


def check_lengths(
    min_len: int, max_len: Optional[int], max_len_mode: str = "split"
) -> None:
    """Raise ValueError unless every segment can be kept within [min_len, max_len].

    Splitting a segment of ``n > max_len`` units into ``ceil(n / max_len)`` near-equal
    pieces keeps every piece at ``min_len`` or more exactly when
    ``max_len >= 2 * min_len - 1``; the greedy ``cut`` mode needs
    ``max_len >= min_len``.
    """
    if max_len_mode not in MAX_LEN_MODES:
        raise ValueError(
            f"unknown max_len_mode {max_len_mode!r}; choose one of {MAX_LEN_MODES}"
        )
    if min_len < 1:
        raise ValueError(f"min_len must be >= 1, got {min_len}")
    if max_len is not None:
        if max_len < 1:
            raise ValueError(f"max_len must be >= 1 or None, got {max_len}")
        if max_len_mode == "cut":
            if max_len < min_len:
                raise ValueError(
                    f"max_len={max_len} is below min_len={min_len}: no segment can "
                    "have both"
                )
        elif max_len < 2 * min_len - 1:
            raise ValueError(
                f"max_len={max_len} and min_len={min_len} cannot both hold: a "
                f"segment of {max_len + 1} units could be neither kept nor split "
                f"into pieces of >= {min_len}; use max_len >= {2 * min_len - 1} (2 * "
                "min_len - 1), a smaller min_len or max_len_mode 'cut'"
            )


def rule_starts(
    entropy: torch.Tensor,
    lengths: torch.Tensor,
    rule: str = "global",
    threshold: Optional[float] = None,
    rel_threshold: Optional[float] = None,
) -> torch.Tensor:
    """Segment starts from the entropy rule alone. (B, T) -> (B, T) bool."""
    check_rule(rule, threshold, rel_threshold)
    B, T = entropy.shape
    valid = _valid(lengths, T)
    fire = torch.ones_like(valid)
    if rule in ("global", "combined"):
        fire = fire & (entropy > threshold)
    if rule in ("relative", "combined"):
        jump = torch.zeros_like(entropy)
        jump[:, 1:] = entropy[:, 1:] - entropy[:, :-1]
        fire = fire & (jump > rel_threshold)
    fire[:, 0] = True
    return fire & valid


def segment(
    entropy: torch.Tensor,
    lengths: torch.Tensor,
    rule: str = "global",
    threshold: Optional[float] = None,
    rel_threshold: Optional[float] = None,
    max_len: Optional[int] = 10,
    min_len: int = 1,
    warn: bool = True,
    units: Optional[torch.Tensor] = None,
    snap_to_unit_start: bool = False,
    max_len_mode: str = "split",
) -> Segmentation:
    """Apply a boundary rule, then ``min_len`` merging and ``max_len`` splitting
    (``max_len_mode="cut"``: both in one greedy pass).

    Args:
        entropy: (B, T) entropies in nats (padding ignored).
        lengths: (B,) valid lengths.
        rule: ``global`` | ``relative`` | ``combined``.
        threshold: theta for ``global``/``combined``.
        rel_threshold: theta_r for ``relative``/``combined``.
        max_len: longest segment in units (None: unlimited).
        min_len: shortest segment in units (1: no merging).
        warn: emit :class:`NoBoundaryWarning` when the rule fires nowhere in an
            utterance longer than one unit.
        units: (B, T) unit ids; needed by ``snap_to_unit_start``.
        snap_to_unit_start: move each start of the rule back to the first frame of
            the run of equal units it falls in (on raw 50 Hz units the entropy peaks
            a frame after a new unit begins); before ``min_len`` and ``max_len``.
        max_len_mode: ``split`` (merge short segments, then split long ones into
            near-equal pieces) | ``cut`` (one greedy pass: the next start is the
            first rule start at least ``min_len`` units on, else the unit
            ``max_len`` on; see the module docstring).

    Returns:
        :class:`Segmentation`.
    """
    check_lengths(min_len, max_len, max_len_mode)
    B, T = entropy.shape
    valid = _valid(lengths, T)
    starts = rule_starts(entropy, lengths, rule, threshold, rel_threshold)
    no_boundary = (starts[:, 1:].sum(1) == 0) & (lengths > 1)
    if warn and bool(no_boundary.any()):
        n = int(no_boundary.sum())
        hmax = float(entropy.masked_fill(~valid, float("-inf")).max())
        warnings.warn(
            f"boundary rule {rule!r} (threshold={threshold}, rel_threshold="
            f"{rel_threshold}) fired no boundary in {n} of {B} utterance(s) "
            f"(largest entropy in the batch {hmax:.3f} nats); those utterances are "
            + (
                f"split only by max_len={max_len}"
                if max_len is not None
                else "a single segment each"
            )
            + ". Lower the threshold or calibrate it to a target rate.",
            NoBoundaryWarning,
            stacklevel=2,
        )
    if snap_to_unit_start:
        if units is None:
            raise ValueError("snap_to_unit_start needs the unit ids (units=...)")
        starts = snap_to_run_start(starts, units, valid)
    if max_len_mode == "cut" and max_len is not None:
        starts = _greedy_starts(starts, valid, min_len, max_len)
    else:
        if min_len > 1:
            starts = _merge_short(starts, valid, min_len)
        if max_len is not None:
            starts = split_long(starts, valid, max_len)
    seg_ids = torch.cumsum(starts.long(), dim=1) - 1
    seg_ids = seg_ids.masked_fill(~valid, -1)
    counts = starts.sum(1)
    return Segmentation(
        seg_ids=seg_ids, counts=counts, starts=starts, no_boundary=no_boundary
    )


def snap_to_run_start(
    starts: torch.Tensor, units: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """Move every start to the first frame of the run of equal units it is in.

    Args:
        starts: (B, T) bool.
        units: (B, T) unit ids.
        valid: (B, T) bool.

    Returns:
        (B, T) bool; starts that land on the same frame are one, t = 0 stays.
    """
    B, T = starts.shape
    pos = torch.arange(T, device=starts.device).expand(B, T)
    change = torch.ones_like(valid)
    change[:, 1:] = units[:, 1:] != units[:, :-1]
    run_start = torch.where(change, pos, torch.zeros_like(pos)).cummax(1).values
    target = torch.where(starts & valid, run_start, torch.full_like(pos, T))
    out = torch.zeros(B, T + 1, dtype=torch.bool, device=starts.device)
    out.scatter_(1, target, True)
    out = out[:, :T] & valid
    out[:, 0] = valid[:, 0]
    return out


def segment_lengths_per_position(starts: torch.Tensor, valid: torch.Tensor):
    """For each position: its segment's start index, its offset in the segment and the
    segment's length. All (B, T) long (meaningless at padding)."""
    B, T = starts.shape
    pos = torch.arange(T, device=starts.device).expand(B, T)
    start_pos = torch.where(starts, pos, torch.zeros_like(pos)).cummax(dim=1).values
    offset = pos - start_pos
    seg_ids = (torch.cumsum(starts.long(), 1) - 1).clamp(min=0)
    seg_len = torch.zeros(B, T, dtype=torch.long, device=starts.device)
    seg_len.scatter_add_(1, seg_ids, valid.long())
    return start_pos, offset, seg_len.gather(1, seg_ids)


def _merge_short(
    starts: torch.Tensor, valid: torch.Tensor, min_len: int
) -> torch.Tensor:
    """Greedy left-to-right merging: keep a start when at least ``min_len`` units have
    passed since the last kept one; then, if the last segment is still shorter than
    ``min_len``, drop its start (it joins its left neighbour).

    In a burst of starts (a run of high-entropy units) the first one is kept and the
    following ones within ``min_len`` units are merged into its segment, so a rule that
    fires at every unit gives segments of exactly ``min_len`` units.

    The chain of kept starts is :func:`_greedy_starts` (pointer doubling, no loop
    over positions or segments).

    Args:
        starts: (B, T) bool candidate starts (``starts[:, 0]`` True where valid).
        valid: (B, T) bool.
        min_len: shortest segment in units (> 1).

    Returns:
        (B, T) bool kept starts.
    """
    B, T = starts.shape
    pos = torch.arange(T + 1, device=starts.device)
    kept = _greedy_starts(starts, valid, min_len)
    # a last segment shorter than min_len joins its left neighbour
    lengths = valid.sum(1)
    last = (
        torch.where(
            kept, pos[:T].expand(B, T), torch.zeros_like(kept, dtype=torch.long)
        )
        .max(1)
        .values
    )
    short_tail = (lengths - last < min_len) & (last > 0)
    kept[torch.arange(B, device=starts.device), last] &= ~short_tail
    return kept


def _greedy_starts(
    starts: torch.Tensor,
    valid: torch.Tensor,
    min_len: int,
    max_len: Optional[int] = None,
) -> torch.Tensor:
    """The chain of greedily kept starts: from a kept start ``t``, the next is the
    first candidate at or after ``t + min_len``, or (with ``max_len``) the unit
    ``t + max_len`` when no candidate comes before it.

    Vectorised with pointer doubling: ``nxt[t]`` is that next start (``T``: none);
    the kept starts are the chain ``0, nxt[0], nxt[nxt[0]], ...``, all of whose
    members are found in ``ceil(log2(T))`` gathers over the batch (no loop over
    positions or segments).

    Args:
        starts: (B, T) bool candidate starts.
        valid: (B, T) bool.
        min_len: units from a kept start before the next candidate counts (>= 1).
        max_len: longest segment (None: no bound).

    Returns:
        (B, T) bool kept starts (``t = 0`` kept where valid; no tail rule).
    """
    B, T = starts.shape
    dev = starts.device
    cand = starts & valid
    cand[:, 0] = valid[:, 0]
    pos = torch.arange(T + 1, device=dev)
    # first candidate at or after t (T: none), for t = 0..T
    at = torch.full((B, T + 1), T, dtype=torch.long, device=dev)
    at[:, :T] = torch.where(cand, pos[:T].expand(B, T), at[:, :T])
    first_from = at.flip(1).cummin(1).values.flip(1)  # (B, T + 1)
    jump = first_from.gather(1, (pos + min_len).clamp(max=T).expand(B, T + 1))
    if max_len is not None:
        forced = (pos + max_len).expand(B, T + 1)
        lengths = valid.sum(1, keepdim=True)
        forced = torch.where(forced < lengths, forced, torch.full_like(forced, T))
        jump = torch.minimum(jump, forced)
    chain = torch.zeros(B, 1, dtype=torch.long, device=dev)  # f^n(0), n < 2^k
    while chain.size(1) <= T:  # after k steps: the first 2^k chain members
        chain = torch.cat([chain, jump.gather(1, chain)], dim=1)
        jump = jump.gather(1, jump)
        if bool((chain[:, -1] == T).all()):
            break
    kept = torch.zeros(B, T + 1, dtype=torch.bool, device=dev)
    kept.scatter_(1, chain, True)
    return kept[:, :T] & valid


def split_long(starts: torch.Tensor, valid: torch.Tensor, max_len: int) -> torch.Tensor:
    """Split each segment longer than max_len into near-equal pieces.

    A segment of length n > max_len becomes ceil(n/max_len) pieces.
    """
    _, offset, n = segment_lengths_per_position(starts, valid)
    k = torch.div(n + max_len - 1, max_len, rounding_mode="floor").clamp(min=1)
    piece = torch.div(offset * k, n.clamp(min=1), rounding_mode="floor")
    prev_piece = torch.div(
        (offset - 1).clamp(min=0) * k, n.clamp(min=1), rounding_mode="floor"
    )
    new_start = (offset > 0) & (piece != prev_piece)
    return (starts | new_start) & valid


def _valid(lengths: torch.Tensor, T: int) -> torch.Tensor:
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]
