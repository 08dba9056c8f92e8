"""EntropyCache: content-keyed per-utterance entropies, identical to the LM's, reused
across batches of different composition and padding; the frontend option gives the
same outputs with and without the cache."""

import torch

from conftest import random_units
from espnet2_ext.compress.frontend import EntropyCompressFrontend
from espnet2_ext.entropy.cache import EntropyCache


def test_cache_equals_lm_and_hits(unit_lm, token_list):
    V = len(token_list)
    units = random_units(5, 40, V, seed=3)
    lengths = torch.tensor([40, 33, 12, 40, 27])
    calls = []

    def compute(u, n):
        calls.append(int(u.size(0)))
        return unit_lm.entropy(u, n)

    cache = EntropyCache()
    ref = unit_lm.entropy(units, lengths)
    h1 = cache.entropy(units, lengths, compute)
    torch.testing.assert_close(h1, ref)
    assert calls == [5] and len(cache) == 5 and cache.units_held == int(lengths.sum())
    # a later batch: other order, other padding content and width, one new utterance
    order = torch.tensor([3, 0, 2])
    u2 = torch.cat([units[order], torch.full((3, 9), 7)], 1)
    l2 = lengths[order]
    u2[2, int(l2[2]) :] = 5  # padding content does not matter
    new = random_units(1, 49, V, seed=11)
    u2 = torch.cat([u2, new])
    l2 = torch.cat([l2, torch.tensor([49])])
    h2 = cache.entropy(u2, l2, compute)
    assert calls == [5, 1] and cache.hits == 3 and cache.misses == 6
    torch.testing.assert_close(h2, unit_lm.entropy(u2, l2))
    # a different sequence of the same length is a different key
    u3 = units[:1].clone()
    u3[0, 5] = (u3[0, 5] + 1) % (V - 1)
    assert cache.keys(u3, lengths[:1]) != cache.keys(units[:1], lengths[:1])


def test_cache_bound():
    cache = EntropyCache(max_units=10)
    u = torch.arange(24).view(3, 8) % 5
    h = cache.entropy(u, torch.tensor([8, 8, 4]), lambda x, n: torch.ones(x.shape))
    assert h.shape == (3, 8) and len(cache) == 1 and cache.units_held == 8


def test_frontend_with_cache_same_output(lm_files, token_list):
    V = len(token_list)
    conf = dict(
        d_model=32,
        num_heads=2,
        local_layers=1,
        local_ffn=64,
        ffn=64,
        threshold=2.5,
        max_len=8,
        lm_window=16,
        lm_overlap=6,
        token_list=token_list,
    )
    torch.manual_seed(0)
    plain = EntropyCompressFrontend(V, *lm_files, **conf).eval()
    cached = EntropyCompressFrontend(V, *lm_files, entropy_cache=True, **conf).eval()
    cached.load_state_dict(plain.state_dict())
    units = random_units(4, 30, V, seed=5)
    lengths = torch.tensor([30, 22, 30, 9])
    for _ in range(2):  # first call fills the cache, second reads it
        a, al = plain(units, lengths)
        b, bl = cached(units, lengths)
        torch.testing.assert_close(a, b)
        assert torch.equal(al, bl)
    assert cached.entropy_cache.hits == 4
