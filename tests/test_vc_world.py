"""The WORLD path of the VC model (``espnet2_ext.vc.world``): analysis on the units'
20 ms grid, the ``feats_extract: world`` extractor, F0 mapping and synthesis; and the
speaker conditioning on the content's scale (``condition_norm`` of ``UnitVC``)."""

import numpy as np
import pytest
import torch

from espnet2_ext.vc.world import (
    WorldFeats,
    WorldVocoder,
    log_f0_stats,
    map_f0,
    upsample_frames,
    world_analysis,
    world_f0,
)

SR = 16000


def vowel(f0: float, seconds: float = 0.8, formants=(700.0, 1200.0), seed: int = 0):
    """A voiced, vowel-like signal: harmonics of ``f0`` (with a slow 3 % vibrato)
    weighted by resonances at ``formants``, plus a little noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    inst = f0 * (1 + 0.03 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(inst) / SR
    x = np.zeros(n)
    for k in range(1, int(7000 / f0)):
        fk = k * f0
        amp = sum(1.0 / (1.0 + ((fk - fm) / 120.0) ** 2) for fm in formants)
        x += (amp + 0.02) * np.sin(k * phase)
    x = 0.3 * x / np.abs(x).max() + 1e-3 * rng.standard_normal(n)
    return x.astype(np.float32)


def test_frames_on_the_fbank_grid_and_f0():
    """T = floor(N / 320) + 1 frames, as ESPnet's centred fbank, and the F0 found."""
    from espnet2_ext.compat import LogMelFbank

    fbank = LogMelFbank(fs=SR, n_fft=1024, hop_length=320, n_mels=80)
    for n in (8000, 8001, 8319, 8320, 8640 + 79):
        x = vowel(150.0, seconds=n / SR)[:n]
        out = world_analysis(x, aperiodicity=True)
        mel, _ = fbank(torch.from_numpy(x)[None], torch.tensor([n]))
        assert out["coded_sp"].shape == (n // 320 + 1, 40) == (mel.shape[1], 40)
        assert out["f0"].shape == (n // 80 + 1,) == out["time"].shape
        assert out["ap"].shape == (n // 80 + 1, 513)
    f0 = out["f0"][out["f0"] > 0]
    assert f0.size > 0.8 * out["f0"].size
    assert abs(np.median(f0) - 150.0) < 5.0


def test_world_feats_batch_equals_single_and_is_cached(monkeypatch):
    import espnet2_ext.vc.world as world

    ext = WorldFeats()
    assert ext.output_size() == 40 and ext.get_parameters()["hop_length"] == 320
    a, b = vowel(120.0, 0.5), vowel(210.0, 0.9, seed=1)
    wav = torch.zeros(2, len(b))
    wav[0, : len(a)] = torch.from_numpy(a)
    wav[1] = torch.from_numpy(b)
    feats, lengths = ext(wav, torch.tensor([len(a), len(b)]))
    assert lengths.tolist() == [len(a) // 320 + 1, len(b) // 320 + 1]
    assert feats.shape == (2, len(b) // 320 + 1, 40)
    single = world_analysis(a)["coded_sp"]
    np.testing.assert_allclose(feats[0, : lengths[0]].numpy(), single, rtol=1e-4)
    assert float(feats[0, lengths[0] :].abs().sum()) == 0.0
    # a second pass over the same audio analyses nothing
    calls = []
    monkeypatch.setattr(
        world, "world_analysis", lambda *a, **k: calls.append(1) or 1 / 0
    )
    again, _ = ext(wav, torch.tensor([len(a), len(b)]))
    assert not calls and torch.equal(again, feats)
    # ESPnet's inference calls it without lengths
    one, n1 = ext(torch.from_numpy(a)[None])
    assert n1.tolist() == [lengths[0]]


def test_the_envelope_tells_vowels_apart():
    """The coded envelope follows the formants, not the F0."""
    ext = WorldFeats()

    def env(x):
        return world_analysis(x, aperiodicity=False)["coded_sp"][5:-5].mean(0)

    a1 = env(vowel(120.0, formants=(700.0, 1200.0)))
    a2 = env(vowel(180.0, formants=(700.0, 1200.0), seed=2))
    b = env(vowel(120.0, formants=(300.0, 2300.0), seed=3))
    assert ext.output_size() == a1.shape[0]
    assert np.abs(a1 - a2).mean() < 0.5 * np.abs(a1 - b).mean()


def test_log_f0_stats_and_mapping():
    f0 = np.array([0.0, 100.0, 110.0, 0.0, 121.0, 90.0])
    mu, sd = log_f0_stats([f0[:3], f0[3:]])
    lf = np.log(f0[f0 > 0])
    assert mu == pytest.approx(lf.mean()) and sd == pytest.approx(lf.std())
    out = map_f0(f0, (mu, sd), (np.log(220.0), 2 * sd))
    assert (out[f0 == 0] == 0).all() and (out[f0 > 0] > 0).all()
    mu2, sd2 = log_f0_stats([out])
    assert mu2 == pytest.approx(np.log(220.0)) and sd2 == pytest.approx(2 * sd)
    with pytest.raises(ValueError, match="no voiced"):
        log_f0_stats([np.zeros(4)])


def test_upsample_frames():
    x = np.array([[0.0, 10.0], [4.0, 10.0], [8.0, 30.0]])
    y = upsample_frames(x, 4, 11)
    np.testing.assert_allclose(y[:, 0], [0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8])
    np.testing.assert_allclose(y[4:9, 1], [10, 15, 20, 25, 30])


def test_vocoder_resynthesis_keeps_the_envelope_and_maps_f0():
    voc = WorldVocoder.from_feats_extract_conf(dict(fs=SR, hop_length=320))
    src = vowel(120.0, 1.0, formants=(700.0, 1200.0))
    other = vowel(120.0, 1.0, formants=(300.0, 2300.0), seed=4)
    ana = voc.analyse_source(src)
    own = world_analysis(src, aperiodicity=False)["coded_sp"]
    env_other = world_analysis(other, aperiodicity=False)["coded_sp"]
    # the prediction of a model with target_offset 1 has one frame fewer
    wav = voc(torch.from_numpy(own[1:]), ana, offset=1).numpy()
    assert wav.shape == (len(ana["f0"]) * 80,) and abs(len(wav) - len(src)) <= 80
    assert np.isfinite(wav).all() and 0.01 < np.abs(wav).max() < 2.0
    re = world_analysis(wav, aperiodicity=False)
    # the envelope comes back (closer to the source's than to another vowel's)
    d_own = np.abs(re["coded_sp"][5:-5] - own[5:-5]).mean()
    d_other = np.abs(re["coded_sp"][5:-5] - env_other[5:-5]).mean()
    assert d_own < 0.5 * d_other
    # F0: the source's, or mapped to the target's statistics
    assert abs(np.median(re["f0"][re["f0"] > 0]) - 120.0) < 6.0
    target = (float(np.log(200.0)), 0.05)
    mapped = voc(own, ana, target_f0_stats=target).numpy()
    f0m = world_analysis(mapped, aperiodicity=False)["f0"]
    assert abs(np.median(f0m[f0m > 0]) - 200.0) < 10.0
    # speaker statistics from reference audio
    mu, sd = voc.f0_stats([vowel(200.0, 0.6), vowel(210.0, 0.6, seed=5)])
    assert np.log(195.0) < mu < np.log(215.0) and 0 < sd < 0.1
    with pytest.raises(ValueError, match="coded envelope"):
        voc(np.zeros((10, 80)), ana)


def test_registered_as_feats_extract():
    import espnet2_ext.tasks.tts  # noqa: F401
    from espnet2_ext.compat import tts_feats_extractor_choices

    assert tts_feats_extractor_choices.get_class("world") is WorldFeats


# ------------------------------------------------- speaker on the content's scale


@pytest.mark.parametrize("kind", ["dense", "dedup", "fixed_pool", "entropy"])
def test_condition_norm_puts_speaker_on_the_content_scale(kind, token_list, lm_files):
    from conftest import random_units
    from espnet2_ext.vc.unit_vc import UnitVC
    from test_vc_model import DECODER, frontend_conf

    def build(norm):
        torch.manual_seed(0)
        return UnitVC(
            len(token_list),
            40,
            frontend=kind,
            frontend_conf=frontend_conf(kind, lm_files, token_list),
            adim=64,
            decoder_conf=DECODER,
            spk_embed_dim=256,
            condition_norm=norm,
        ).eval()

    units = random_units(2, 40, len(token_list), seed=1)
    lengths = torch.tensor([40, 31])
    spembs = torch.randn(2, 256)
    ratios = {}
    for norm in (False, True):
        n = build(norm).conditioning_norms(units, lengths, spembs)
        ratios[norm] = n["ratio"]
        if norm:  # both about sqrt(64) = 8
            assert 6.0 < n["content"] < 10.0 and 6.0 < n["speaker"] < 10.0
    assert 0.7 < ratios[True] < 1.4
    assert ratios[False] < 0.2  # the issue: the d-vector was far weaker
    # with condition_norm the speaker moves the output as much in every frontend
    model = build(True)
    with torch.no_grad():
        a = model.inference(units[0], spembs=spembs[0])["feat_gen"]
        b = model.inference(units[0], spembs=spembs[1])["feat_gen"]
    assert (a - b).abs().mean() > 0.05 * a.abs().mean()
    # and it trains
    model.train()
    feats = torch.randn(2, 41, 40)
    loss = model(units, lengths, feats, torch.tensor([41, 32]), spembs=spembs)[0]
    loss.backward()
    assert model.content_norm.weight.grad is not None
    assert model.spk_norm.weight.grad is not None


def test_tiny_training_on_world_features(tmp_path, token_list):
    """ESPnet's TTS task trains ``unit_vc`` on ``feats_extract: world`` (odim 40)."""
    import yaml

    from espnet2_ext.compat import Text2Speech
    from test_vc_model import _run_tiny_training, _write_tts_data

    _write_tts_data(tmp_path, token_list)
    cfg = yaml.safe_load((tmp_path / "train.yaml").read_text())
    cfg["feats_extract"] = "world"
    cfg["feats_extract_conf"] = dict(fs=SR, hop_length=320, num_coded=24)
    cfg["tts_conf"] = dict(cfg["tts_conf"], condition_norm=True)
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(cfg))
    exp = _run_tiny_training(tmp_path)
    saved = yaml.safe_load((exp / "config.yaml").read_text())
    assert saved["feats_extract"] == "world" and saved["odim"] is None
    t2s = Text2Speech(str(exp / "config.yaml"), str(exp / "1epoch.pth"))
    out = t2s("3 3 3 4 5 5 6 7 8 9", spembs=np.ones(8, dtype=np.float32))
    assert out["feat_gen"].shape == (10, 24)


def espeak(text: str, voice: str, path) -> None:
    """espeak-ng speech at 16 kHz written to ``path``."""
    import io
    import shutil
    import subprocess

    import soundfile as sf
    import torchaudio

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not on PATH")
    raw = subprocess.run(
        ["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, check=True
    ).stdout
    x, sr = sf.read(io.BytesIO(raw), dtype="float32")
    x = torchaudio.functional.resample(torch.from_numpy(x), sr, SR).numpy()
    sf.write(path, x, SR)


def test_vc_score_world_resynthesis(tmp_path, monkeypatch):
    """``vc_score --system ref_resynth --resynth world``: the target reading through
    WORLD (its own envelope, F0 and aperiodicity) is close to it, closer than the
    other voice's reading."""
    import json

    from espnet2_ext.bin import vc_score

    espeak("Please call me back tonight.", "en-us", tmp_path / "a.wav")
    espeak("Please call me back tonight.", "en-gb-x-rp+f3", tmp_path / "b.wav")
    (tmp_path / "pairs").write_text("p1 b a\n")
    (tmp_path / "wav.scp").write_text(
        f"a {tmp_path / 'a.wav'}\nb {tmp_path / 'b.wav'}\n"
    )
    (tmp_path / "text").write_text("a PLEASE CALL ME BACK TONIGHT\n")
    common = [
        "--pairs",
        str(tmp_path / "pairs"),
        "--wav_scp",
        str(tmp_path / "wav.scp"),
    ]
    common += ["--text", str(tmp_path / "text"), "--metrics", "mcd"]
    built = []
    orig = WorldVocoder.from_feats_extract_conf.__func__
    monkeypatch.setattr(
        WorldVocoder,
        "from_feats_extract_conf",
        classmethod(lambda cls, conf: built.append(conf) or orig(cls, conf)),
    )
    mcd = {}
    for system, conf in (("ref_resynth", '{"num_coded": 30}'), ("ref_source", "{}")):
        out = tmp_path / f"{system}.json"
        args = ["--system", system, "--resynth", "world", "--resynth_conf", conf]
        args += ["--out", str(out)]
        assert vc_score.main(common + args) == 0
        score = json.loads(out.read_text())
        assert score["scored"] == 1
        mcd[system] = score["metrics"]["mcd_dtw"]
    assert 0.0 < mcd["ref_resynth"] < 0.6 * mcd["ref_source"]
    assert len(built) == 1 and built[0]["num_coded"] == 30  # the models' settings


def test_harvest_f0_method():
    x = vowel(150.0, 0.6)
    f0, t = world_f0(x, method="harvest")
    assert f0.shape == t.shape == (len(x) // 80 + 1,)
    assert abs(np.median(f0[f0 > 0]) - 150.0) < 5.0
    out = world_analysis(x, aperiodicity=False, f0_method="harvest")
    assert out["coded_sp"].shape == (len(x) // 320 + 1, 40)
    voc = WorldVocoder.from_feats_extract_conf(dict(f0_method="harvest"))
    assert voc.feats.get_parameters()["f0_method"] == "harvest"
    mu, _ = voc.f0_stats([vowel(200.0, 0.5)])
    assert abs(mu - np.log(200.0)) < 0.05
    with pytest.raises(ValueError, match="F0 method"):
        world_f0(x, method="yin")
    with pytest.raises(ValueError, match="f0_method"):
        WorldFeats(f0_method="yin")
