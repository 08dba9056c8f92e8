"""The controls of issue 23: shuffled entropy segment lengths and oracle segments."""

import pytest
import torch

from conftest import random_units
from espnet2_ext.compress.frontend import (
    EntropyCompressFrontend,
    OraclePoolFrontend,
    shuffle_segment_lengths,
)
from espnet2_ext.entropy import segment

SMALL = dict(d_model=32, num_heads=4, local_ffn=64, ffn=64, dropout=0.0)


def _lengths(seg, lengths):
    out = []
    for b in range(seg.seg_ids.size(0)):
        sid = seg.seg_ids[b, : int(lengths[b])]
        out.append(torch.bincount(sid, minlength=int(seg.counts[b])).tolist())
    return out


def test_shuffled_lengths_keep_counts_and_lengths_and_lose_positions():
    V = 30
    units = random_units(6, 80, V, seed=3)
    lengths = torch.tensor([80, 61, 1, 40, 77, 80])
    h = torch.rand(6, 80, generator=torch.Generator().manual_seed(3)) * 3
    seg = segment(h, lengths, threshold=2.0, max_len=10, warn=False)
    sh = shuffle_segment_lengths(units, lengths, seg)
    assert sh.counts.tolist() == seg.counts.tolist()
    before, after = _lengths(seg, lengths), _lengths(sh, lengths)
    assert [sorted(a) for a in after] == [sorted(b) for b in before]
    assert sum(a != b for a, b in zip(after, before)) >= 4  # the order changed
    assert bool((sh.seg_ids[lengths[:, None] <= torch.arange(80)] == -1).all())
    # the same utterance, alone and with other padding: the same permutation
    for b in (0, 3):
        n = int(lengths[b])
        alone = segment(h[b : b + 1, :n], lengths[b : b + 1], threshold=2.0, warn=False)
        a = shuffle_segment_lengths(units[b : b + 1, :n], lengths[b : b + 1], alone)
        assert a.seg_ids[0].tolist() == sh.seg_ids[b, :n].tolist()


def test_entropy_frontend_with_shuffled_lengths(lm_files, token_list):
    V = len(token_list)
    conf = dict(SMALL, threshold=2.5, max_len=8, lm_window=16, lm_overlap=6)
    fe = EntropyCompressFrontend(V, *lm_files, token_list=token_list, **conf).eval()
    sh = EntropyCompressFrontend(
        V, *lm_files, token_list=token_list, shuffle_lengths=True, **conf
    ).eval()
    units = random_units(3, 40, V, seed=2)
    lengths = torch.tensor([40, 25, 9])
    _, seg = fe.segment(units, lengths)
    _, seg_sh = sh.segment(units, lengths)
    assert seg_sh.counts.tolist() == seg.counts.tolist()
    assert [sorted(x) for x in _lengths(seg_sh, lengths)] == [
        sorted(x) for x in _lengths(seg, lengths)
    ]


def _oracle_files(tmp_path, token_list, units, lengths):
    lines = [
        f"u{b} " + " ".join(token_list[int(x)] for x in units[b, : int(lengths[b])])
        for b in range(units.size(0))
    ]
    (tmp_path / "units").write_text("\n".join(lines) + "\n")
    (tmp_path / "starts").write_text("u0 3 4 9\nu1 2 30\nu2\n")
    return str(tmp_path / "starts"), [str(tmp_path / "units")]


def test_oracle_pool_segments_start_at_the_given_positions(tmp_path, token_list):
    V = len(token_list)
    units = random_units(3, 40, V, seed=4)
    lengths = torch.tensor([12, 40, 5])
    starts, files = _oracle_files(tmp_path, token_list, units, lengths)
    fe = OraclePoolFrontend(
        V, starts, files, token_list=token_list, max_len=10, **SMALL
    ).eval()
    sos = V - 1
    x = torch.cat([torch.full((3, 1), sos), units], 1)
    out, out_len = fe(x, lengths + 1)
    # u0: starts 0 3 4 9 -> 3 1 5 3; u1: 0 2 30 -> 2, 28 split by max_len 10 into
    # 3 pieces (10 9 9), 10; u2: one segment
    assert fe.last_durations.tolist()[0][:4] == [3, 1, 5, 3]
    assert fe.last_durations.tolist()[1] == [2, 10, 9, 9, 10]
    assert out_len.tolist() == [4, 5, 1]
    # the batch order does not matter: utterances are found by their content
    perm = torch.tensor([2, 0, 1])
    _, out_len_p = fe(x[perm], (lengths + 1)[perm])
    assert out_len_p.tolist() == [1, 4, 5]
    # an utterance not in the files: a clear error
    other = random_units(1, 12, V, seed=99)
    with pytest.raises(ValueError, match="in none of units_files"):
        fe(torch.cat([torch.full((1, 1), sos), other], 1), torch.tensor([13]))


def _runs(units, n):
    """Per-utterance reference: the positions where a new run of equal units begins."""
    seq = units[:n].tolist()
    return {t for t in range(n) if t == 0 or seq[t] != seq[t - 1]}


def test_run_entropy_scores_the_deduplicated_units(unit_lm, token_list):
    V = len(token_list)
    units = random_units(3, 30, V, seed=4)
    units[:, 1::2] = units[:, 0::2]  # every unit at least twice: runs of 2 or more
    lengths = torch.tensor([30, 17, 1])
    h = unit_lm.run_entropy(units, lengths)
    for b in range(3):
        n = int(lengths[b])
        seq = units[b, :n].tolist()
        runs = sorted(_runs(units[b], n))
        ded = torch.tensor([[seq[t] for t in runs]])
        ref = unit_lm.entropy(ded, torch.tensor([len(runs)]))[0]
        for r, t in enumerate(runs):  # every frame of a run carries the run's entropy
            end = runs[r + 1] if r + 1 < len(runs) else n
            assert torch.allclose(h[b, t:end], ref[r].expand(end - t), atol=1e-5)
        assert bool((h[b, n:] == 0).all())


def test_entropy_frontend_over_deduplicated_units_cuts_at_run_starts(
    lm_files, token_list
):
    V = len(token_list)
    conf = dict(SMALL, threshold=2.0, max_len=None, lm_window=16, lm_overlap=6)
    fe = EntropyCompressFrontend(
        V, *lm_files, token_list=token_list, lm_dedup=True, **conf
    ).eval()
    units = random_units(3, 40, V, seed=5)
    units[:, 1::2] = units[:, 0::2]
    units[0, 10:20] = units[0, 10]  # one long run
    lengths = torch.tensor([40, 25, 9])
    h, seg = fe.segment(units, lengths)
    hd = fe.unit_lm.run_entropy(units, lengths)
    assert torch.equal(h, hd)
    for b in range(3):
        n = int(lengths[b])
        starts = set(torch.nonzero(seg.starts[b, :n]).flatten().tolist())
        runs = _runs(units[b], n)
        # a start is the first frame of a run, at every run whose entropy passes
        assert starts <= runs
        assert starts == {0} | {t for t in runs if float(hd[b, t]) > 2.0}
    with torch.no_grad():
        out, out_len = fe(units, lengths)
    assert out_len.tolist() == seg.counts.tolist()
