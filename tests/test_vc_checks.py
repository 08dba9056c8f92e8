"""egs2/mini_synth/vc/local/vc_checks.py and mel_probe.py (issue 25's cheap checks)
on tiny data: a recipe-shaped directory with a few utterances, a tiny trained model,
an untrained packed log-mel model and a fake Whisper (the transcripts are not the
point; what each check computes and hands to the ASR is)."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from test_vc_inference import _pack, recipe  # noqa: F401  (module fixture)
from test_vc_model import _run_tiny_training, _write_tts_data
from test_vc_world import vowel

LOCAL = Path(__file__).resolve().parents[1] / "egs2" / "mini_synth" / "vc" / "local"
sys.path.insert(0, str(LOCAL))
import vc_checks  # noqa: E402


class FakeWhisper:
    """Records what it is given; "transcribes" every input as the same words."""

    calls = []

    def transcribe(self, wav, sr=16000):
        FakeWhisper.calls.append((np.asarray(wav).copy(), sr))
        return "PLEASE CALL"


def test_floor_stats_and_stats_std(tmp_path):
    a = np.full((10, 4), -10.0)
    a[:6] = np.array([1.0, 2.0, 3.0, -10.0])  # 6 frames speech (one bin floored)
    b = np.zeros((5, 4))
    out = vc_checks.floor_stats([a, b], np.full(4, -10.0))
    assert out["frames"] == 15
    assert out["share_values_at_floor"] == pytest.approx((16 + 6) / 60)
    assert out["share_frames_all_bins_at_floor"] == pytest.approx(4 / 15)
    assert out["share_at_floor_per_bin_max"] == pytest.approx(10 / 15)
    # the floor at max - 5 (a: 3 - 5 = -2) shrinks the bimodal spread
    assert (
        out["per_bin_std_floor_max_minus_5"]["max"] < out["per_bin_std_sampled"]["max"]
    )
    x = np.random.default_rng(0).standard_normal((100, 3)) * [1.0, 2.0, 3.0] + 5
    np.savez(tmp_path / "s.npz", count=100, sum=x.sum(0), sum_square=(x**2).sum(0))
    mean, std = vc_checks.stats_std(str(tmp_path / "s.npz"))
    np.testing.assert_allclose(mean, x.mean(0))
    np.testing.assert_allclose(std, x.std(0))


def test_mel_floor_on_audio_with_digital_silence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w").mkdir()
    rows = []
    for i in range(2):
        x = np.concatenate([np.zeros(8000, np.float32), vowel(150.0 + 50 * i, 1.0)])
        sf.write(tmp_path / "w" / f"u{i}.wav", x, 16000)
        rows.append(f"u{i} {tmp_path / 'w' / f'u{i}.wav'}\n")
    (tmp_path / "wav.scp").write_text("".join(rows))
    assert (
        vc_checks.main(
            ["mel_floor", "--wav_scp", "wav.scp", "--out", str(tmp_path / "o.json")]
        )
        == 0
    )
    out = json.loads((tmp_path / "o.json").read_text())
    assert out["utterances"] == 2 and out["frames"] == 2 * (24000 // 320 + 1)
    assert -7.0 < out["floor_log10"]["min"] <= out["floor_log10"]["max"] < -5.5
    # 0.5 s of zeros in 1.5 s: about a third of the frames entirely at the floor
    assert 0.25 < out["share_frames_all_bins_at_floor"] < 0.36
    assert (
        out["per_bin_std_floor_max_minus_5"]["median"]
        < out["per_bin_std_sampled"]["median"]
    )


def test_conditioning_own_against_other_dvector(tmp_path, monkeypatch, token_list):
    d = tmp_path / "tiny"
    d.mkdir()
    _write_tts_data(
        d,
        token_list,
        tts_conf=dict(
            frontend="dense",
            adim=16,
            decoder_conf=dict(num_blocks=1, linear_units=32, attention_heads=2),
            spk_embed_dim=8,
            condition_norm=True,
        ),
    )
    exp = _run_tiny_training(d)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/dev").mkdir(parents=True)
    (tmp_path / "data/dev/utt2spk").write_text("utt0 A\nutt1 A\nutt2 B\nutt3 B\n")
    rc = vc_checks.main(
        ["conditioning", "--exp", str(exp), "--model_file", "1epoch.pth"]
        + ["--units", str(d / "text"), "--wav_scp", str(d / "wav.scp")]
        + ["--xvector_scp", str(d / "xvector.scp"), "--out", "c.json"]
    )
    assert rc == 0
    out = json.loads((tmp_path / "c.json").read_text())
    assert out["utterances"] == 4 and out["frontend"] == "dense"
    assert out["condition_norm"] is True
    assert out["l1_own_dvector"] > 0 and out["l1_other_speaker_dvector"] > 0
    assert out["l1_own_dvector"] != out["l1_other_speaker_dvector"]
    assert 0.5 < out["norm_ratio"] < 2.0  # speaker on the content's scale


def test_other_speaker_dvectors():
    utt2spk = {"a1": "A", "a2": "A", "b1": "B", "c1": "C"}
    dvec = {
        "a1": np.array([1.0, 0.0]),
        "a2": np.array([0.0, 1.0]),
        "b1": np.array([0.0, 2.0]),
        "c1": np.array([3.0, 0.0]),
    }
    out = vc_checks.other_speaker_dvectors(["a1", "b1", "c1"], utt2spk, dvec)
    np.testing.assert_allclose(out["a1"], [0.0, 1.0])  # B's mean, renormalised
    np.testing.assert_allclose(out["b1"], [1.0, 0.0])  # C's
    np.testing.assert_allclose(out["c1"], [np.sqrt(0.5), np.sqrt(0.5)])  # A's
    with pytest.raises(SystemExit, match="two speakers"):
        vc_checks.other_speaker_dvectors(["a1", "a2"], utt2spk, dvec)


@pytest.fixture
def probe_dir(recipe, tmp_path, monkeypatch):  # noqa: F811
    """A recipe-shaped directory: data/parallel (pairs, text), its 16 kHz audio, a
    packed untrained log-mel model; the fake Whisper in place."""
    import espnet2_ext.metrics.vc as metrics

    monkeypatch.setattr(metrics, "WhisperASR", FakeWhisper)
    FakeWhisper.calls = []
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/parallel").mkdir(parents=True)
    (tmp_path / "dump/wav16k/parallel").mkdir(parents=True)
    rows, texts = [], []
    for i, utt in enumerate(("s1", "t1", "t2")):
        path = tmp_path / "dump/wav16k/parallel" / f"{utt}.wav"
        sf.write(path, vowel(110.0 + 60 * i, 0.7, seed=i), 16000)
        rows.append(f"{utt} {path}\n")
        texts.append(f"{utt} PLEASE CALL STELLA\n")
    (tmp_path / "dump/wav16k/parallel/wav.scp").write_text("".join(rows))
    (tmp_path / "data/parallel/text").write_text("".join(texts))
    (tmp_path / "data/parallel/pairs").write_text("p1 s1 t1\np2 s1 t2\n")
    return _pack(recipe, "dense", tmp_path / "dense.zip")


def test_world_vocode_variants(probe_dir, tmp_path):
    rc = vc_checks.main(["world_vocode", "--model", str(probe_dir), "--out", "a.json"])
    assert rc == 0
    out = json.loads((tmp_path / "a.json").read_text())
    assert out["utterances"] == 2 and out["targets"] == "pairs"
    assert set(out["wer_whisper"]) == {
        "real mel, Griffin-Lim",
        "real mel, WORLD (real F0)",
        "real envelope, Griffin-Lim",
        "real envelope, WORLD (real F0)",
        "predicted, Griffin-Lim",
        "predicted, WORLD (real F0)",
        "audio, WORLD analysis-synthesis",
    }
    # "PLEASE CALL" for "PLEASE CALL STELLA": one deletion in three words
    assert all(v == pytest.approx(100 / 3) for v in out["wer_whisper"].values())
    # every variant of each utterance is full length, finite and normalised
    assert len(FakeWhisper.calls) == 14
    n = int(0.7 * 16000)
    for wav, sr in FakeWhisper.calls:
        assert sr == 16000 and wav.shape == (n,) and np.isfinite(wav).all()
        assert np.abs(wav).max() == pytest.approx(0.9, rel=1e-4)
    # WORLD from the real mel follows the real F0 of t1 (170 Hz)
    from espnet2_ext.vc.world import world_f0

    f0 = world_f0(FakeWhisper.calls[1][0])[0]
    assert abs(np.median(f0[f0 > 0]) - 170.0) < 10.0


def test_mel_probe_on_seen_voices(probe_dir, tmp_path):
    import mel_probe

    (tmp_path / "data/dev").mkdir()
    (tmp_path / "dump/wav16k/dev").mkdir(parents=True)
    wav = tmp_path / "dump/wav16k/dev/a.wav"
    sf.write(wav, vowel(130.0, 0.6), 16000)
    (tmp_path / "dump/wav16k/dev/wav.scp").write_text(f"d1 {wav}\nd2 {wav}\n")
    (tmp_path / "data/dev/text").write_text("d1 PLEASE CALL\nd2 PLEASE CALL\n")
    rc = mel_probe.main(
        ["--model", str(probe_dir), "--set", "dev", "--targets", "all"]
        + ["--out", "c.json"]
    )
    assert rc == 0
    out = json.loads((tmp_path / "c.json").read_text())
    assert out["set"] == "dev" and out["utterances"] == 2
    assert out["wer_whisper"]["real"] == 0.0
    assert len(FakeWhisper.calls) == 2 * 8
    assert torch.isfinite(torch.tensor(out["mel"]["l1_log10"]))
