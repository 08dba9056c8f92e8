"""egs2/mini_synth/vc/local/mel_probe.py: its numbers on hand-computed examples."""

import importlib.util
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def _load():
    path = ROOT / "egs2" / "mini_synth" / "vc" / "local" / "mel_probe.py"
    spec = importlib.util.spec_from_file_location("mel_probe", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mel_probe = _load()


def close(got: torch.Tensor, want) -> None:
    torch.testing.assert_close(got, torch.as_tensor(want, dtype=got.dtype))


def test_envelope_is_a_mean_over_neighbouring_mel_bins():
    """Along frequency within each frame (edge bins repeated), never across frames."""
    mel = torch.tensor([[0.0, 0.0, 9.0, 0.0, 0.0], [3.0, 6.0, 9.0, 12.0, 15.0]])
    env = mel_probe.envelope(mel, 3)
    assert env.tolist() == [[0.0, 3.0, 3.0, 3.0, 0.0], [4.0, 6.0, 9.0, 12.0, 14.0]]
    assert mel_probe.envelope(mel, 1).tolist() == mel.tolist()
    with pytest.raises(ValueError, match="odd"):
        mel_probe.envelope(mel, 4)


def test_mel_stats_by_hand():
    pred = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    real = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    st = mel_probe.mel_stats(pred, real)
    assert st["l1"] == pytest.approx((0 + 1 + 1 + 2 + 2 + 3) / 6)
    assert st["std_ratio"] == pytest.approx(2.0)  # sd 2 against sd 1 in each bin
    assert st["time_delta"] == pytest.approx(0.5)  # steps of 1 against 2
    assert st["bin_delta"] == pytest.approx(0.0)  # flat spectra against steps of 1


def test_mel_variants_by_hand():
    pred = torch.tensor([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]])
    real = torch.tensor([[0.0, 3.0, 0.0], [1.0, 1.0, 4.0]])
    v = mel_probe.mel_variants(pred, real, 3)
    assert tuple(v) == mel_probe.VARIANTS
    # deviations from the prediction's mean over time (1 in every bin) scaled
    close(v["predicted, variance x1.3"], [[-0.3, -0.3, -0.3], [2.3, 2.3, 2.3]])
    # real sd per bin (unbiased, 2 frames) / predicted sd (sqrt 2)
    sd_real = torch.tensor([0.5, 2.0, 8.0]).sqrt()
    ratio = sd_real / 2**0.5
    close(v["predicted, oracle variance"], [(1 - ratio).tolist(), (1 + ratio).tolist()])
    env_real = [[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]  # 3-bin means, edges repeated
    close(v["real envelope only"], env_real)
    # the prediction is flat along frequency: its envelope is itself, no fine part
    close(v["real envelope + predicted fine structure"], env_real)
    close(
        v["predicted envelope + real fine structure"],
        [[-1.0, 2.0, -1.0], [2.0, 1.0, 3.0]],
    )
