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
