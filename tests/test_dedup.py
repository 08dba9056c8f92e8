import torch

from espnet2_ext.compress.dedup import DedupEmbedFrontend, dedup


def test_dedup_matches_per_utterance_reference():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 4, (5, 30), generator=g)
    lengths = torch.tensor([30, 1, 17, 9, 30])
    out, new_len = dedup(ids, lengths)
    for b in range(5):
        seq = ids[b, : int(lengths[b])].tolist()
        ref = [u for i, u in enumerate(seq) if i == 0 or u != seq[i - 1]]
        assert out[b, : int(new_len[b])].tolist() == ref
        assert bool((out[b, int(new_len[b]) :] == 0).all())
    assert out.size(1) == int(new_len.max())


def test_dedup_frontend_registered_and_shapes():
    import espnet2_ext  # noqa: F401
    from espnet2_ext.compat import mt_frontend_choices as frontend_choices

    assert frontend_choices.get_class("dedup") is DedupEmbedFrontend
    fe = DedupEmbedFrontend(10, embed_dim=8).eval()
    x = torch.tensor([[9, 2, 2, 2, 3, 3, 2], [9, 4, 4, 9, 9, 9, 9]])
    y, ylen = fe(x, torch.tensor([7, 3]))
    assert ylen.tolist() == [4, 2] and y.shape == (2, 4, 8)


def test_dedup_runs_index_each_position_into_the_deduplicated_sequence():
    ids = torch.tensor([[5, 5, 7, 7, 7, 5, 9, 0], [3, 3, 3, 0, 0, 0, 0, 0]])
    lengths = torch.tensor([7, 3])
    out, n, run = dedup(ids, lengths, return_runs=True)
    assert n.tolist() == [4, 1]
    assert out[0].tolist() == [5, 7, 5, 9] and out[1, :1].tolist() == [3]
    assert run.tolist() == [[0, 0, 1, 1, 1, 2, 3, 0], [0, 0, 0, 0, 0, 0, 0, 0]]
    # the run index gathers each position's own id back
    assert bool((torch.gather(out, 1, run)[:, :7][0] == ids[0, :7]).all())
