import pytest
import torch

from conftest import random_units
from espnet2_ext.compress.frontend import EntropyCompressFrontend, FixedPoolFrontend
from espnet2_ext.compress.fusion import CrossAttentionCompressor, reference_compress
from espnet2_ext.entropy import segment
from espnet2_ext.entropy.unit_lm import UnitLMError

SMALL = dict(d_model=32, num_heads=4, local_ffn=64, ffn=64, dropout=0.0)


def _batch(V, seed=0):
    units = random_units(4, 57, V, seed=seed)
    lengths = torch.tensor([57, 30, 1, 44])
    h = torch.rand(4, 57, generator=torch.Generator().manual_seed(seed)) * 3
    seg = segment(h, lengths, threshold=2.0, max_len=6, warn=False)
    return units, lengths, seg


@pytest.mark.parametrize(
    "k,pool,layers", [(1, "mean", 1), (2, "max", 2), (3, "mean", 0)]
)
def test_vectorised_equals_per_segment_reference(k, pool, layers):
    torch.manual_seed(0)
    V = 23
    units, lengths, seg = _batch(V)
    comp = CrossAttentionCompressor(
        V, num_queries=k, pool=pool, local_layers=layers, **SMALL
    ).eval()
    out, out_len, dur = comp(units, lengths, seg.seg_ids, seg.counts)
    ref, ref_len, ref_dur = reference_compress(
        comp, units, lengths, seg.seg_ids, seg.counts
    )
    assert out.shape == (4, int(seg.counts.max()) * k, 32)
    assert (out - ref).abs().max() < 1e-5
    assert out_len.tolist() == ref_len.tolist() == (seg.counts * k).tolist()
    assert torch.equal(dur, ref_dur)
    assert dur.sum(1).tolist() == lengths.tolist()
    for b in range(4):  # nothing past each utterance's last segment
        assert bool((out[b, int(out_len[b]) :] == 0).all())


@pytest.mark.parametrize(
    "extra",
    [
        dict(duration_embed=True),
        dict(scale_position=True),
        dict(context_layers=1, context_window=2),
        dict(context_layers=2, context_window=4, duration_embed=True, local_layers=1),
    ],
)
def test_durations_position_scale_and_context_equal_the_reference(extra):
    torch.manual_seed(0)
    V = 23
    units, lengths, seg = _batch(V, seed=2)
    comp = CrossAttentionCompressor(V, **{"local_layers": 0, **extra}, **SMALL).eval()
    out, out_len, dur = comp(units, lengths, seg.seg_ids, seg.counts)
    ref, ref_len, _ = reference_compress(comp, units, lengths, seg.seg_ids, seg.counts)
    assert (out - ref).abs().max() < 1e-5
    assert out_len.tolist() == ref_len.tolist()


def test_duration_embedding_tells_segment_lengths_apart():
    """Two segments of the same unit id, 1 and 4 units long: mean pooling and a
    cross-attention over identical states give the same vector unless the length
    enters (duration_embed) or the in-segment positions are visible."""
    V = 5
    units = torch.full((1, 5), 2)
    lengths = torch.tensor([5])
    seg_ids = torch.tensor([[0, 1, 1, 1, 1]])
    counts = torch.tensor([2])
    for dur, expect_equal in ((False, True), (True, False)):
        torch.manual_seed(0)
        comp = CrossAttentionCompressor(
            V, local_layers=0, duration_embed=dur, **SMALL
        ).eval()
        with torch.no_grad():
            comp.pos_embed.weight.zero_()  # no position signal
            out, _, _ = comp(units, lengths, seg_ids, counts)
        assert torch.allclose(out[0, 0], out[0, 1], atol=1e-5) == expect_equal


def test_context_layers_see_beyond_the_segment():
    """With a context window, a one-unit segment's vector depends on its neighbours'
    ids; without, it does not."""
    V = 9
    seg_ids = torch.tensor([[0, 0, 1, 2, 2]])
    lengths, counts = torch.tensor([5]), torch.tensor([3])
    a = torch.tensor([[1, 2, 3, 4, 5]])
    b = torch.tensor([[6, 7, 3, 8, 1]])  # same middle unit, other neighbours
    for layers, expect_equal in ((0, True), (1, False)):
        torch.manual_seed(0)
        comp = CrossAttentionCompressor(
            V, local_layers=0, context_layers=layers, context_window=2, **SMALL
        ).eval()
        with torch.no_grad():
            oa, _, _ = comp(a, lengths, seg_ids, counts)
            ob, _, _ = comp(b, lengths, seg_ids, counts)
        assert torch.allclose(oa[0, 1], ob[0, 1], atol=1e-5) == expect_equal


def test_padding_never_changes_an_utterance():
    torch.manual_seed(0)
    V = 23
    units, lengths, seg = _batch(V, seed=1)
    comp = CrossAttentionCompressor(
        V, local_layers=2, context_layers=1, duration_embed=True, **SMALL
    ).eval()
    out, out_len, _ = comp(units, lengths, seg.seg_ids, seg.counts)
    for b in range(4):
        n = int(lengths[b])
        noisy = units[b : b + 1].clone()
        noisy[:, n:] = 7  # different padding content
        big = torch.cat([noisy, torch.full((1, 20), 3)], 1)  # and more of it
        sid = torch.cat([seg.seg_ids[b : b + 1], torch.full((1, 20), -1)], 1)
        alone, alone_len, _ = comp(big, lengths[b : b + 1], sid, seg.counts[b : b + 1])
        assert int(alone_len[0]) == int(out_len[b])
        torch.testing.assert_close(
            alone[0], out[b, : int(out_len[b])], atol=1e-5, rtol=1e-5
        )


def _frontend(lm_files, token_list, **kw):
    conf = dict(SMALL, threshold=2.5, max_len=8, lm_window=16, lm_overlap=6)
    conf.update(kw)
    return EntropyCompressFrontend(
        len(token_list), *lm_files, token_list=token_list, **conf
    )


def _mt_input(units, lengths, sos):
    """What the MT model feeds its frontend: <sos/eos> + units, padded by <sos/eos>."""
    B = units.size(0)
    x = torch.cat([torch.full((B, 1), sos), units], 1)
    valid = torch.arange(x.size(1))[None] < (lengths + 1)[:, None]
    return x.masked_fill(~valid, sos), lengths + 1


def test_frontend_shapes_and_sos_stripping(lm_files, token_list):
    fe = _frontend(lm_files, token_list).eval()
    V = len(token_list)
    units = random_units(3, 40, V, seed=2)
    lengths = torch.tensor([40, 25, 9])
    x, xl = _mt_input(units, lengths, V - 1)
    h = fe.unit_lm.entropy(units, lengths)
    fe.threshold = float(h[h > 0].quantile(0.7))  # ~30% of the units start a segment
    out, out_len = fe(x, xl)
    assert out.shape[0] == 3 and out.shape[2] == fe.output_size() == 32
    assert out.shape[1] == int(out_len.max())
    h, seg = fe.segment(units, lengths)
    assert out_len.tolist() == seg.counts.tolist()
    assert fe.last_durations.sum(1).tolist() == lengths.tolist()
    assert bool((out_len < lengths).all())


def test_gradients_reach_compressor_never_lm(lm_files, token_list):
    fe = _frontend(lm_files, token_list).train()
    V = len(token_list)
    units = random_units(2, 30, V, seed=3)
    x, xl = _mt_input(units, torch.tensor([30, 17]), V - 1)
    out, out_len = fe(x, xl)
    out.sum().backward()
    grads = [p.grad for p in fe.compressor.parameters()]
    assert (
        all(g is not None for g in grads)
        and sum(float(g.abs().sum()) for g in grads) > 0
    )
    assert all(p.grad is None and not p.requires_grad for p in fe.unit_lm.parameters())
    assert not fe.unit_lm.lm.training  # frozen LM never switches to train mode
    # the LM is not a trainable parameter of the model nor part of its checkpoint
    lm_ids = {id(p) for p in fe.unit_lm.parameters()}
    assert not lm_ids & {id(p) for p in fe.parameters()}
    assert not any(k.startswith("_lm") or ".lm." in k for k in fe.state_dict())


def test_espnet_initialisation_does_not_touch_lm(lm_files, token_list):
    from espnet2_ext.compat import initialize

    fe = _frontend(lm_files, token_list)
    before = {k: v.clone() for k, v in fe.unit_lm.state_dict().items()}
    initialize(fe, "xavier_uniform")
    after = fe.unit_lm.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_fixed_pool_frontend(token_list):
    V = len(token_list)
    fe = FixedPoolFrontend(V, pool_size=4, **SMALL).eval()
    units = random_units(2, 10, V)
    x, xl = _mt_input(units, torch.tensor([10, 5]), V - 1)
    out, out_len = fe(x, xl)
    assert out_len.tolist() == [3, 2] and out.shape == (2, 3, 32)
    assert fe.last_durations.tolist() == [[4, 4, 2], [4, 1, 0]]
    # same fusion as entropy_compress given the same boundaries
    seg_ids = (torch.arange(10) // 4).expand(2, 10).clone()
    seg_ids[1, 5:] = -1
    ref, _, _ = reference_compress(
        fe.compressor, units, torch.tensor([10, 5]), seg_ids, out_len
    )
    assert (out - ref).abs().max() < 1e-5


def test_frontend_errors(lm_files, token_list, tmp_path):
    V = len(token_list)
    fe = _frontend(lm_files, token_list).eval()
    units = random_units(2, 10, V)
    x, xl = _mt_input(units, torch.tensor([10, 10]), V - 1)
    x[1, 3] = V + 5
    with pytest.raises(ValueError, match="outside the vocabulary"):
        fe(x, xl)
    x, xl = _mt_input(units, torch.tensor([10, 0]), V - 1)
    with pytest.raises(ValueError, match="empty unit sequence"):
        fe(x, xl)
    other = list(token_list)
    other[2], other[5] = other[5], other[2]
    with pytest.raises(UnitLMError, match="token list differs"):
        _frontend(lm_files, other)
    with pytest.raises(UnitLMError, match="LM checkpoint not found"):
        _frontend((lm_files[0], tmp_path / "missing.pth"), token_list)
    with pytest.raises(ValueError, match="needs a threshold"):
        _frontend(lm_files, token_list, threshold=None)


def test_frontend_warns_when_threshold_fires_nowhere(lm_files, token_list):
    from espnet2_ext.entropy import NoBoundaryWarning

    fe = _frontend(lm_files, token_list, threshold=100.0, max_len=None).eval()
    V = len(token_list)
    x, xl = _mt_input(random_units(2, 12, V), torch.tensor([12, 12]), V - 1)
    with pytest.warns(NoBoundaryWarning, match="fired no boundary in 2 of 2"):
        out, out_len = fe(x, xl)
    assert out_len.tolist() == [1, 1]


def test_registered_in_espnet_mt_task():
    import espnet2_ext  # noqa: F401
    from espnet2_ext.compat import mt_frontend_choices as frontend_choices

    assert frontend_choices.get_class("entropy_compress") is EntropyCompressFrontend
    assert frontend_choices.get_class("fixed_pool") is FixedPoolFrontend


@pytest.mark.parametrize("pool_size", [10 / 3, 3.333])
def test_fixed_pool_fractional_rate(token_list, pool_size):
    """pool_size 10/3 (tag fixed_pool3.333): windows of 4, 3, 3 units, 15 segments/s."""
    V = len(token_list)
    fe = FixedPoolFrontend(V, pool_size=pool_size, **SMALL).eval()
    units = random_units(3, 20, V)
    x, xl = _mt_input(units, torch.tensor([20, 10, 7]), V - 1)
    out, out_len = fe(x, xl)
    assert out_len.tolist() == [6, 3, 2] and out.shape == (3, 6, 32)
    assert fe.last_durations.tolist() == [
        [4, 3, 3, 4, 3, 3],
        [4, 3, 3, 0, 0, 0],
        [4, 3, 0, 0, 0, 0],
    ]
    # every unit in exactly one segment; the rate is L / p rounded up
    assert fe.last_durations.sum(1).tolist() == [20, 10, 7]
    with pytest.raises(ValueError, match="pool_size"):
        FixedPoolFrontend(V, pool_size=0.5, **SMALL)


@pytest.mark.parametrize("local_layers", [0, 1])
def test_a_unit_changes_only_its_own_segment_vector(local_layers):
    """Issue 9 item 13 (perturbation): the fusion reads every unit of a segment and
    nothing outside it; different segments give different vectors."""
    from espnet2_ext.compress.fusion import CrossAttentionCompressor

    torch.manual_seed(0)
    V = 50
    comp = CrossAttentionCompressor(
        V,
        d_model=32,
        num_heads=4,
        local_layers=local_layers,
        local_ffn=64,
        ffn=64,
        dropout=0.0,
    ).eval()
    ids = torch.randint(2, V, (2, 12))
    lengths = torch.tensor([12, 9])
    seg_ids = torch.tensor(
        [[0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3], [0, 0, 1, 1, 1, 1, 2, 2, 2, -1, -1, -1]]
    )
    counts = torch.tensor([4, 3])
    with torch.no_grad():
        out, out_len, _ = comp(ids, lengths, seg_ids, counts)
        # every position of every segment matters, and only for its own segment
        for b, t in ((0, 0), (0, 4), (0, 8), (0, 11), (1, 1), (1, 5), (1, 8)):
            ids2 = ids.clone()
            ids2[b, t] = 2 + (int(ids[b, t]) - 2 + 7) % (V - 2)
            out2, _, _ = comp(ids2, lengths, seg_ids, counts)
            changed = (out2 - out).abs().amax(-1) > 1e-6  # (B, S)
            s = int(seg_ids[b, t])
            expect = torch.zeros_like(changed)
            expect[b, s] = True
            assert torch.equal(changed, expect), (b, t, changed)
        # padding content is ignored
        ids3 = ids.clone()
        ids3[1, 9:] = 3
        out3, _, _ = comp(ids3, lengths, seg_ids, counts)
        assert torch.equal(out3, out)
    # distinct segments give distinct vectors
    v = out[0, :4]
    dist = torch.cdist(v, v) + torch.eye(4) * 1e3
    assert float(dist.min()) > 1e-3


# -- an independent reference: the fusion written out in plain tensor algebra from the
# module's weights, one segment at a time (no _Packing, no segments_to_vectors, no
# scaled_dot_product_attention); issue 9 item 13, second half


def _ln(x, ln):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + ln.eps) * ln.weight + ln.bias


def _ffn(x, ff):
    lin1, lin2 = ff[0], ff[3]
    h = x @ lin1.weight.T + lin1.bias
    h = 0.5 * h * (1.0 + torch.erf(h / 2**0.5))  # exact GELU
    return h @ lin2.weight.T + lin2.bias


def _mha(att, q_in, kv_in):
    """Softmax attention of every query over every key, head by head."""
    D = q_in.size(-1)
    h, dk = att.h, D // att.h
    q = q_in @ att.q.weight.T + att.q.bias
    kv = kv_in @ att.kv.weight.T + att.kv.bias
    k, v = kv[:, :D], kv[:, D:]
    heads = []
    for i in range(h):
        sl = slice(i * dk, (i + 1) * dk)
        w = torch.softmax(q[:, sl] @ k[:, sl].T / dk**0.5, dim=-1)
        heads.append(w @ v[:, sl])
    return torch.cat(heads, -1) @ att.out.weight.T + att.out.bias


def _segment_vectors(comp, seg_units):
    """(n,) unit ids of one segment -> (k, D), from the module's weights."""
    D, k = comp.d_model, comp.num_queries
    pos = torch.arange(len(seg_units)).clamp(max=comp.max_position - 1)
    x = comp.embed.weight[seg_units] * D**0.5 + comp.pos_embed.weight[pos]
    for layer in comp.local:
        y = _ln(x, layer.norm1)
        x = x + _mha(layer.att, y, y)
        x = x + _ffn(_ln(x, layer.norm2), layer.ff)
    x = _ln(x, comp.local_norm)
    pooled = x.mean(0) if comp.pool == "mean" else x.max(0).values
    q = (comp.query_proj.weight @ pooled + comp.query_proj.bias).view(k, D)
    q = q + comp.query_offset
    q = q + _mha(comp.cross, _ln(q, comp.q_norm), x)
    q = q + _ffn(_ln(q, comp.ff_norm), comp.ff)
    return _ln(q, comp.out_norm)


@pytest.mark.parametrize(
    "k,pool,layers", [(1, "mean", 0), (1, "max", 1), (2, "mean", 2), (3, "max", 0)]
)
def test_matches_an_independent_reference(k, pool, layers):
    torch.manual_seed(1)
    V = 23
    units, lengths, seg = _batch(V, seed=3)
    comp = CrossAttentionCompressor(
        V, num_queries=k, pool=pool, local_layers=layers, max_position=4, **SMALL
    ).eval()
    with torch.no_grad():
        out, out_len, dur = comp(units, lengths, seg.seg_ids, seg.counts)
        for b in range(units.size(0)):
            n = int(lengths[b])
            for s in range(int(seg.counts[b])):
                idx = torch.nonzero(seg.seg_ids[b, :n] == s).flatten()
                assert int(dur[b, s]) == len(idx)
                want = _segment_vectors(comp, units[b, idx])
                got = out[b, s * k : (s + 1) * k]
                assert torch.allclose(got, want, atol=1e-5), (b, s)
    # segments longer than max_position share its last position embedding, and the
    # batch has some, so that path is checked too
    assert int(dur.max()) > 4


def test_lm_on_another_device_is_a_clear_error(lm_files, token_list):
    """What a torch.nn.DataParallel replica would meet (they share the one frozen LM):
    a clear error that points to DDP, not a device-mismatch crash deep in the LM."""
    V = len(token_list)
    fe = _frontend(lm_files, token_list)
    fe.unit_lm.lm.to("meta")  # stands in for another GPU on this CPU machine
    units = torch.randint(2, V - 1, (1, 12))
    with pytest.raises(RuntimeError, match="multiprocessing_distributed true"):
        fe(units, torch.tensor([12]))
