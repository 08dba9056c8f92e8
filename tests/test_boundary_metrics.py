"""Boundary precision/recall/F1 (espnet2_ext.metrics.boundaries), hand-computed."""

import math

import numpy as np
import pytest
import torch

from espnet2_ext.metrics.boundaries import (
    BoundaryScores,
    boundary_scores,
    ctm_boundaries,
    interval_boundaries,
    match_boundaries,
    pad_times,
    read_ctm,
    restrict_times,
    speech_region,
    starts_to_times,
)


def hits_of(hyp, ref, tol=0.02):
    h, hl = pad_times([hyp])
    r, rl = pad_times([ref])
    return int(match_boundaries(h, hl, r, rl, tol)[0])


def greedy_reference(hyp, ref, tol):
    """Closest pair first, each boundary used once (plain Python, for comparison)."""
    pairs = sorted(
        (abs(h - r), i, j)
        for i, h in enumerate(hyp)
        for j, r in enumerate(ref)
        if abs(h - r) <= tol + 1e-9
    )
    used_h, used_r, hits = set(), set(), 0
    for _, i, j in pairs:
        if i not in used_h and j not in used_r:
            used_h.add(i)
            used_r.add(j)
            hits += 1
    return hits


def test_hits_precision_recall_f1_by_hand():
    # 0.10~0.11 hit, 0.52~0.50 hit (exactly 20 ms), 0.30 and 0.70 unmatched
    s = boundary_scores([[0.10, 0.30, 0.52]], [[0.11, 0.50, 0.70]], tolerance=0.02)
    assert (s.hits, s.num_hyp, s.num_ref) == (2, 3, 3)
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 / 3)


def test_each_boundary_is_matched_once():
    assert hits_of([0.10, 0.11], [0.105]) == 1  # two hyps near one ref
    assert hits_of([0.105], [0.10, 0.11]) == 1  # one hyp near two refs
    s = boundary_scores([[0.10, 0.11]], [[0.105]])
    assert s.precision == pytest.approx(0.5) and s.recall == 1.0
    assert s.f1 == pytest.approx(2 / 3)


def test_closest_pair_first():
    # (0.124, 0.115) is the closest pair (9 ms) and is taken first; then 0.100 has
    # no free ref within 20 ms (0.135 is 35 ms away): greedy gives 1 hit
    assert hits_of([0.100, 0.124], [0.115, 0.135]) == 1
    # a second round: 0.111~0.107 (4 ms) first, then 0.100~0.119 (19 ms)
    assert hits_of([0.100, 0.111], [0.107, 0.119]) == 2


def test_outside_tolerance_and_empty():
    assert hits_of([0.10], [0.1201]) == 0
    assert hits_of([0.10], [0.1199]) == 1
    s = boundary_scores([[]], [[0.5]])
    assert (s.precision, s.recall, s.f1, s.r_value) == (0.0, 0.0, 0.0, 0.0)
    s = boundary_scores([[0.5]], [[]])
    assert (s.hits, s.num_hyp, s.num_ref, s.f1) == (0, 1, 0, 0.0)


def test_batched_matching_equals_python_greedy():
    rng = np.random.default_rng(0)
    hyps, refs = [], []
    for _ in range(40):
        hyps.append(np.sort(rng.uniform(0, 2, rng.integers(0, 30))))
        refs.append(np.sort(rng.uniform(0, 2, rng.integers(0, 20))))
    h, hl = pad_times(hyps)
    r, rl = pad_times(refs)
    hits = match_boundaries(h, hl, r, rl, 0.03)
    expect = [greedy_reference(a, b, 0.03) for a, b in zip(hyps, refs)]
    assert hits.tolist() == expect
    s = boundary_scores(hyps, refs, 0.03)
    assert s.hits == sum(expect)
    assert s.num_hyp == sum(map(len, hyps)) and s.num_ref == sum(map(len, refs))


def test_r_value_by_hand():
    assert BoundaryScores.from_counts(10, 10, 10).r_value == pytest.approx(1.0)
    # P = 0.5, R = 1: OS = 1, r1 = 1, r2 = -1/sqrt(2)
    s = BoundaryScores.from_counts(10, 20, 10)
    assert s.r_value == pytest.approx(1 - (1 + 1 / math.sqrt(2)) / 2)
    assert s.f1 == pytest.approx(2 / 3)


def test_starts_to_times_skips_t0_and_uses_the_frame_convention():
    starts = torch.tensor(
        [[1, 0, 1, 1, 0, 1], [1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]], dtype=torch.bool
    )
    t, n = starts_to_times(starts)  # 0.02 t + 0.0025
    assert n.tolist() == [3, 0, 1]
    assert t[0].tolist() == pytest.approx([0.0425, 0.0625, 0.1025])
    assert t[2, 0].item() == pytest.approx(0.0225)
    t0, _ = starts_to_times(starts, offset=0.0)
    assert t0[0].tolist() == pytest.approx([0.04, 0.06, 0.10])


def test_restrict_times():
    t, n = pad_times([[0.01, 0.05, 0.5, 0.9], [0.3]])
    low = torch.tensor([0.05, 0.0], dtype=torch.float64)
    high = torch.tensor([0.9, 0.2], dtype=torch.float64)
    t2, n2 = restrict_times(t, n, low, high)  # low < t <= high
    assert n2.tolist() == [2, 0]
    assert t2[0, :2].tolist() == pytest.approx([0.5, 0.9])


def test_reference_boundaries_from_intervals(tmp_path):
    # contiguous words, then a pause: starts and ends, first start left out
    b = interval_boundaries([(0.011, 0.123), (0.123, 0.4), (0.45, 0.6)])
    assert b.tolist() == pytest.approx([0.123, 0.4, 0.45, 0.6])
    # CTM rounding: 0.1230 vs 0.1231 are one boundary (the earlier one)
    assert interval_boundaries(
        [(0.0, 0.1231), (0.1230, 0.2)]
    ).tolist() == pytest.approx([0.1230, 0.2])
    ctm = tmp_path / "word.ctm"
    ctm.write_text(
        "u1 1 0.4000 0.2000 WORLD\nu1 1 0.0110 0.3890 HELLO\nu2 1 0.0 0.5 A\n"
    )
    c = read_ctm(ctm)
    assert [w for _, _, w in c["u1"]] == ["HELLO", "WORLD"]  # sorted by start
    assert ctm_boundaries(c["u1"]).tolist() == pytest.approx([0.4, 0.6])
    assert speech_region(c["u1"]) == pytest.approx((0.011, 0.6))
