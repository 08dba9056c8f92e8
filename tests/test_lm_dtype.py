"""``lm_dtype`` / ``UnitLM(dtype=...)``: the frozen unit LM under bfloat16 autocast."""

import pytest
import torch

from conftest import random_units
from espnet2_ext.compress.frontend import EntropyCompressFrontend
from espnet2_ext.entropy.unit_lm import UnitLM


def test_unit_lm_default_is_float32_and_unchanged(lm_files, unit_lm, token_list):
    lm = UnitLM.from_files(*lm_files, window=16, overlap=6)
    assert lm.dtype == "float32"
    units = random_units(2, 40, len(token_list), seed=4)
    lengths = torch.tensor([40, 25])
    torch.testing.assert_close(
        lm.entropy(units, lengths), unit_lm.entropy(units, lengths), atol=0.0, rtol=0.0
    )


def test_unit_lm_bfloat16_close_to_float32(lm_files, token_list):
    f32 = UnitLM.from_files(*lm_files, window=16, overlap=6)
    bf16 = UnitLM.from_files(*lm_files, window=16, overlap=6, dtype="bfloat16")
    units = random_units(
        3, 50, len(token_list), seed=5
    )  # > window: overlapping windows
    lengths = torch.tensor([50, 31, 9])
    h32, h16 = f32.entropy(units, lengths), bf16.entropy(units, lengths)
    assert h16.dtype == torch.float32 and h16.shape == h32.shape
    assert bool((h16[1, 31:] == 0).all()) and bool((h16[2, 9:] == 0).all())
    diff = (h16 - h32).abs()
    assert float(diff.max()) < 0.05  # nats; log V = 3.1 here
    assert float(diff.max()) > 0.0  # it did run in bfloat16


def test_unit_lm_rejects_unknown_dtype(lm_files):
    with pytest.raises(ValueError, match="dtype"):
        UnitLM.from_files(*lm_files, window=32, dtype="float16")


def test_frontend_lm_dtype(lm_files, token_list):
    V = len(token_list)
    conf = dict(
        token_list=token_list,
        threshold=2.9,
        max_len=4,
        d_model=16,
        num_heads=2,
        local_ffn=32,
        ffn=32,
        lm_window=16,
        lm_overlap=6,
    )
    default = EntropyCompressFrontend(V, *lm_files, **conf)
    assert default.unit_lm.dtype == "float32"
    fe = EntropyCompressFrontend(V, *lm_files, lm_dtype="bfloat16", **conf)
    assert fe.unit_lm.dtype == "bfloat16"
    units = random_units(2, 30, V, seed=6)
    src = torch.cat([torch.full((2, 1), V - 1), units], 1)
    fe.eval()
    out, out_lengths = fe(src, torch.tensor([31, 20]))
    assert out.dtype == torch.float32 and out.shape[-1] == 16
    assert out.shape[1] == int(out_lengths.max()) and bool((out_lengths > 0).all())
    with pytest.raises(ValueError, match="dtype"):
        EntropyCompressFrontend(V, *lm_files, lm_dtype="half", **conf)
