import warnings

import pytest
import torch

from espnet2_ext.entropy import (
    CalibrationError,
    NoBoundaryWarning,
    calibrate_threshold,
    segment,
    segment_rate,
)

H = torch.tensor([[0.1, 2.0, 0.5, 0.3, 3.0, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]])
L = torch.tensor([12])


def ids(seg):
    return seg.seg_ids[0].tolist()


def test_global_rule_hand_computed():
    s = segment(H, L, rule="global", threshold=1.0, max_len=None)
    assert ids(s) == [0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]
    assert s.counts.tolist() == [3]
    # lower threshold -> more segments
    s = segment(H, L, rule="global", threshold=0.25, max_len=None)
    assert ids(s) == [0, 1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4]


def test_relative_rule_hand_computed():
    h = torch.tensor([[1.0, 1.5, 0.2, 2.0, 2.1, 0.0, 0.6]])
    # jumps: -, 0.5, -1.3, 1.8, 0.1, -2.1, 0.6
    s = segment(h, torch.tensor([7]), rule="relative", rel_threshold=0.4, max_len=None)
    assert ids(s) == [0, 1, 1, 2, 2, 2, 3]


def test_combined_rule_hand_computed():
    h = torch.tensor([[1.0, 1.5, 0.2, 2.0, 2.1, 0.0, 0.6]])
    # global (>1.0): t=1,3,4; relative (>0.4): t=1,3,6; both: t=1,3
    s = segment(
        h,
        torch.tensor([7]),
        rule="combined",
        threshold=1.0,
        rel_threshold=0.4,
        max_len=None,
    )
    assert ids(s) == [0, 1, 1, 2, 2, 2, 2]


def test_max_len_splits_into_near_equal_pieces():
    s = segment(H, L, threshold=1.0, max_len=4)
    # segment of 8 units (t=4..11) -> 2 x 4
    assert ids(s) == [0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
    s = segment(H, L, threshold=1.0, max_len=3)
    # 3 units stay; 8 units -> ceil(8/3)=3 pieces: floor(p*3/8) gives 3/3/2
    assert ids(s) == [0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4]
    assert int(s.counts[0]) == 5


def test_min_len_keeps_the_first_start_of_a_burst():
    h = torch.tensor([[0.0, 0.0, 0.0, 5.0, 5.0, 0.0, 0.0, 5.0, 0.0]])
    # rule: starts at 0,3,4,7 -> lengths 3,1,3,2; greedy: 4 is 1 unit after 3
    s = segment(h, torch.tensor([9]), threshold=1.0, max_len=None, min_len=2)
    assert ids(s) == [0, 0, 0, 1, 1, 1, 1, 2, 2]
    # min_len=3: 7 is kept (4 after 3), but the 2-unit tail joins its left neighbour
    s = segment(h, torch.tensor([9]), threshold=1.0, max_len=None, min_len=3)
    assert ids(s) == [0, 0, 0, 1, 1, 1, 1, 1, 1]


def test_min_len_merge_does_not_cascade():
    """Issue 23, item 6: the old merge dropped the start of every short segment in one
    pass, so a burst of starts at 1..5 with min_len=2 kept only 5, and a rule firing
    everywhere gave 2 segments per 20 units. Greedy: every other start survives."""
    h = torch.tensor([[0.0, 5.0, 5.0, 5.0, 5.0, 5.0, 0.0, 0.0]])
    s = segment(h, torch.tensor([8]), threshold=1.0, max_len=None, min_len=2)
    assert ids(s) == [0, 0, 1, 1, 2, 2, 2, 2]
    s = segment(torch.full((1, 20), 5.0), torch.tensor([20]), threshold=1.0, min_len=2)
    assert int(s.counts[0]) == 10
    s = segment(torch.full((1, 20), 5.0), torch.tensor([20]), threshold=1.0, min_len=3)
    assert _lengths_of(s, [20]) == [[3, 3, 3, 3, 3, 5]]


def test_min_len_first_segment_absorbs_right_neighbour():
    h = torch.tensor([[0.0, 5.0, 0.0, 0.0, 5.0, 0.0, 0.0]])
    s = segment(h, torch.tensor([7]), threshold=1.0, max_len=None, min_len=2)
    assert ids(s) == [0, 0, 0, 0, 1, 1, 1]


def test_padding_and_batching_do_not_change_segments():
    g = torch.Generator().manual_seed(0)
    h = torch.rand(4, 30, generator=g) * 4
    lengths = torch.tensor([30, 11, 1, 25])
    batch = segment(h, lengths, threshold=2.5, max_len=5, min_len=2, warn=False)
    for b in range(4):
        n = int(lengths[b])
        alone = segment(
            h[b : b + 1, :n],
            lengths[b : b + 1],
            threshold=2.5,
            max_len=5,
            min_len=2,
            warn=False,
        )
        assert batch.seg_ids[b, :n].tolist() == alone.seg_ids[0].tolist()
        assert bool((batch.seg_ids[b, n:] == -1).all())
        assert int(batch.counts[b]) == int(alone.counts[0])
        # non-decreasing, starting at 0, contiguous
        sid = batch.seg_ids[b, :n]
        assert int(sid[0]) == 0 and bool(((sid[1:] - sid[:-1]) >= 0).all())
        assert int(sid.max()) + 1 == int(batch.counts[b])


def test_threshold_that_fires_nowhere_warns():
    with pytest.warns(NoBoundaryWarning, match="fired no boundary in 1 of 1"):
        s = segment(H, L, threshold=10.0, max_len=None)
    assert s.counts.tolist() == [1] and bool(s.no_boundary.all())
    with pytest.warns(NoBoundaryWarning, match="split only by max_len=5"):
        s = segment(H, L, threshold=10.0, max_len=5)
    assert s.counts.tolist() == [3]
    # one-unit utterances have no place for a boundary: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        segment(torch.tensor([[9.0]]), torch.tensor([1]), threshold=10.0)


def test_bad_rule_arguments():
    with pytest.raises(ValueError, match="unknown boundary rule"):
        segment(H, L, rule="nope", threshold=1.0)
    with pytest.raises(ValueError, match="needs a threshold"):
        segment(H, L, rule="global")
    with pytest.raises(ValueError, match="needs rel_threshold"):
        segment(H, L, rule="combined", threshold=1.0)


def _fake_entropies(n_utt, seed):
    """Entropy-like sequences: low inside units runs, spikes at random places."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(150, 600, (n_utt,), generator=g)
    T = int(lengths.max())
    base = torch.rand(n_utt, T, generator=g) * 1.5
    spikes = (
        (torch.rand(n_utt, T, generator=g) < 0.3).float()
        * torch.rand(n_utt, T, generator=g)
        * 4
    )
    return base + spikes, lengths


@pytest.mark.parametrize(
    "rule,target",
    [
        ("global", 25.0),
        ("global", 15.0),
        ("global", 8.0),
        ("relative", 15.0),
        ("combined", 12.0),
    ],
)
def test_calibration_hits_target_on_held_out_data(rule, target):
    train_h, train_l = _fake_entropies(200, seed=1)
    test_h, test_l = _fake_entropies(100, seed=2)
    kw = dict(rule=rule, max_len=10)
    if rule == "combined":
        kw["rel_threshold"] = -0.5
    res = calibrate_threshold(train_h, train_l, target, **kw)
    assert abs(res.achieved_rate - target) / target < 0.01
    if rule == "relative":
        held = segment_rate(test_h, test_l, rel_threshold=res.threshold, **kw)
    else:
        held = segment_rate(test_h, test_l, threshold=res.threshold, **kw)
    assert abs(held - target) / target <= 0.05, (held, target)


def test_calibration_unreachable_target():
    h, lengths = _fake_entropies(20, seed=3)
    with pytest.raises(CalibrationError, match="outside what rule"):
        calibrate_threshold(h, lengths, 2.0, max_len=10)  # max_len=10 forces >= 5/s
    with pytest.raises(CalibrationError, match="outside what rule"):
        calibrate_threshold(h, lengths, 60.0, max_len=10)  # > 50 units/s


# --- issue 9, items 1 and 2: calibration with min_len > 1, the min_len invariant -----


def _lengths_of(seg, lengths):
    """Segment lengths of each utterance (list of lists)."""
    out = []
    for b in range(seg.seg_ids.size(0)):
        sid = seg.seg_ids[b, : int(lengths[b])]
        out.append(torch.bincount(sid, minlength=int(seg.counts[b])).tolist())
    return out


def test_calibration_with_min_len_reaches_every_rate_between_its_ends():
    """min_len=2, max_len=10: a rule firing everywhere gives 2-unit segments (25/s),
    one firing nowhere max_len's 10-unit pieces (5/s); rates in between calibrate."""
    g = torch.Generator().manual_seed(0)
    h = torch.rand(64, 200, generator=g) * 4
    lengths = torch.full((64,), 200)
    rule = dict(max_len=10, min_len=2)
    lo_rate = segment_rate(h, lengths, threshold=-1.0, **rule)
    hi_rate = segment_rate(h, lengths, threshold=5.0, **rule)
    assert abs(lo_rate - 25.0) < 0.01 and abs(hi_rate - 5.0) < 0.01
    for target in (10.0, 15.0, 20.0):
        res = calibrate_threshold(h, lengths, target_rate=target, **rule)
        assert abs(res.achieved_rate - target) < 0.1
        # the reported rate is what the threshold gives
        assert res.achieved_rate == pytest.approx(
            segment_rate(h, lengths, threshold=res.threshold, **rule)
        )
    # out of reach: a clear error with the reachable range
    with pytest.raises(CalibrationError, match="outside what rule=global"):
        calibrate_threshold(h, lengths, target_rate=40.0, **rule)


def test_min_len_leaves_no_short_first_segment():
    # rule starts at 0, 1, 2 -> 1, 1, 6 units; one merging pass left [0, 1] (2 units)
    h = torch.tensor([[0.0, 5.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    s = segment(h, torch.tensor([8]), threshold=1.0, max_len=None, min_len=3)
    assert _lengths_of(s, [8]) == [[8]]
    h = torch.tensor([[0.0, 5.0, 5.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0]])
    s = segment(h, torch.tensor([9]), threshold=1.0, max_len=None, min_len=3)
    assert _lengths_of(s, [9]) == [[5, 4]]


def test_min_len_and_max_len_that_cannot_both_hold_are_refused():
    # an 11-unit segment with max_len=10, min_len=6 used to become 6 + 5
    with pytest.raises(ValueError, match="cannot both hold"):
        segment(
            torch.zeros(1, 11), torch.tensor([11]), threshold=1.0, max_len=10, min_len=6
        )
    with pytest.raises(ValueError, match="cannot both hold"):
        segment(
            torch.zeros(1, 11), torch.tensor([11]), threshold=1.0, max_len=3, min_len=4
        )


@pytest.mark.parametrize(
    "min_len,max_len", [(2, 3), (2, 10), (3, 5), (4, 7), (5, None), (3, 12)]
)
@pytest.mark.parametrize("rule", ["global", "relative", "combined"])
def test_every_segment_within_min_len_and_max_len(min_len, max_len, rule):
    g = torch.Generator().manual_seed(min_len * 100 + (max_len or 0))
    h = torch.rand(32, 80, generator=g) * 4
    lengths = torch.randint(1, 81, (32,), generator=g)
    for theta in (-1.0, 1.0, 2.0, 3.0, 3.9, 5.0):
        s = segment(
            h,
            lengths,
            rule=rule,
            threshold=theta,
            rel_threshold=theta - 2.0,
            max_len=max_len,
            min_len=min_len,
            warn=False,
        )
        for n, segs in zip(lengths.tolist(), _lengths_of(s, lengths)):
            assert sum(segs) == n
            if n < min_len:
                assert segs == [n]
            else:
                assert min(segs) >= min_len, (theta, n, segs)
                assert max_len is None or max(segs) <= max_len, (theta, n, segs)


def test_snap_to_unit_start_moves_starts_to_the_first_frame_of_their_run():
    units = torch.tensor([[4, 4, 7, 7, 7, 2, 2, 9, 9, 9]])
    # the rule fires one frame after each new unit (the raw-unit entropy peak) and
    # twice inside the run of 9s
    h = torch.tensor([[0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 5.0, 0.0, 5.0, 5.0]])
    s = segment(h, torch.tensor([10]), threshold=1.0, max_len=None)
    assert ids(s) == [0, 0, 0, 1, 1, 1, 2, 2, 3, 4]
    s = segment(
        h,
        torch.tensor([10]),
        threshold=1.0,
        max_len=None,
        units=units,
        snap_to_unit_start=True,
    )
    assert ids(s) == [0, 0, 1, 1, 1, 2, 2, 3, 3, 3]
    with pytest.raises(ValueError, match="needs the unit ids"):
        segment(h, torch.tensor([10]), threshold=1.0, snap_to_unit_start=True)


def _greedy_reference(h, n, threshold, min_len, max_len):
    """The cut mode written as the plain left-to-right loop it stands for."""
    starts, last = [0], 0
    for t in range(1, n):
        if (t - last >= min_len and h[t] > threshold) or t - last == max_len:
            starts.append(t)
            last = t
    return [b - a for a, b in zip(starts, starts[1:] + [n])]


def test_cut_mode_hand_computed():
    # rule starts at 0, 3, 4, 7; min_len 3, max_len 4: 0 -> 3 (a start 3 on) -> 7
    # (4 is too close; 7 comes 4 on) -> 10 (forced: no start before 11) -> tail 12
    h = torch.tensor([[0.0, 0.0, 0.0, 5.0, 5.0, 0.0, 0.0, 5.0, 0, 0, 0, 0, 0]])
    s = segment(
        h, torch.tensor([13]), threshold=1.0, min_len=3, max_len=4, max_len_mode="cut"
    )
    assert _lengths_of(s, [13]) == [[3, 4, 4, 2]]
    # the split mode cannot hold min_len 3 with max_len 4 at all
    with pytest.raises(ValueError, match="or max_len_mode 'cut'"):
        segment(h, torch.tensor([13]), threshold=1.0, min_len=3, max_len=4)
    with pytest.raises(ValueError, match="below min_len"):
        segment(
            h,
            torch.tensor([13]),
            threshold=1.0,
            min_len=3,
            max_len=2,
            max_len_mode="cut",
        )
    with pytest.raises(ValueError, match="unknown max_len_mode"):
        segment(h, torch.tensor([13]), threshold=1.0, max_len_mode="pad")


@pytest.mark.parametrize("min_len,max_len", [(1, 1), (1, 4), (3, 4), (2, 5), (4, 4)])
def test_cut_mode_equals_the_greedy_loop_and_holds_both_bounds(min_len, max_len):
    g = torch.Generator().manual_seed(min_len * 10 + max_len)
    h = torch.rand(16, 60, generator=g) * 4
    lengths = torch.randint(1, 61, (16,), generator=g)
    for theta in (-1.0, 1.0, 2.0, 3.0, 5.0):
        s = segment(
            h,
            lengths,
            threshold=theta,
            min_len=min_len,
            max_len=max_len,
            max_len_mode="cut",
            warn=False,
        )
        got = _lengths_of(s, lengths)
        for b, n in enumerate(lengths.tolist()):
            assert got[b] == _greedy_reference(
                h[b].tolist(), n, theta, min_len, max_len
            ), (theta, b)
            assert max(got[b]) <= max_len and min(got[b][:-1] or [min_len]) >= min_len


def test_cut_mode_min3max4_calibrates_between_fixed_poolings_ends():
    """min_len 3, max_len 4: every start after 3 units is 16.7/s, none after 4 is
    12.5/s; 15/s, fixed pooling's rate with windows of 3.33, lies between."""
    g = torch.Generator().manual_seed(1)
    h = torch.rand(32, 300, generator=g) * 4
    lengths = torch.full((32,), 300)
    rule = dict(min_len=3, max_len=4, max_len_mode="cut")
    assert segment_rate(h, lengths, threshold=-1.0, **rule) == pytest.approx(50 / 3)
    assert segment_rate(h, lengths, threshold=9.0, **rule) == pytest.approx(12.5)
    res = calibrate_threshold(h, lengths, target_rate=15.0, **rule)
    assert abs(res.achieved_rate - 15.0) < 0.1
