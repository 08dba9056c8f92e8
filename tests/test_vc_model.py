"""The unit-to-mel VC model (``tts: unit_vc``), its registration in ESPnet's TTS task,
the Griffin-Lim vocoder and the d-vector extraction; tiny dimensions throughout."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import random_units
from espnet2_ext.vc.unit_vc import UnitVC, expand_by_durations, run_lengths

ROOT = Path(__file__).resolve().parents[1]
ODIM = 80
DECODER = dict(num_blocks=1, linear_units=32, attention_heads=2, dropout_rate=0.0)
COMPRESSOR = dict(num_heads=2, local_ffn=32, ffn=32, dropout=0.0)


def frontend_conf(kind, lm_files=None, token_list=None):
    if kind in ("dense", "dedup"):
        return dict(positional_dropout_rate=0.0)
    if kind == "fixed_pool":
        return dict(pool_size=3, **COMPRESSOR)
    cfg, ckpt = lm_files
    # the random LM's entropies lie around 3 nats: theta 3.0 gives multi-unit segments
    return dict(
        lm_train_config=str(cfg),
        lm_file=str(ckpt),
        token_list=token_list,
        threshold=3.0,
        max_len=6,
        lm_window=16,
        **COMPRESSOR,
    )


@pytest.fixture(params=["dense", "dedup", "fixed_pool", "entropy"])
def kind(request):
    return request.param


def build(kind, token_list, lm_files, **kwargs):
    kwargs.setdefault("spk_embed_dim", 8)
    torch.manual_seed(0)
    return UnitVC(
        len(token_list),
        ODIM,
        frontend=kind,
        frontend_conf=frontend_conf(kind, lm_files, token_list),
        adim=16,
        decoder_conf=DECODER,
        **kwargs,
    )


def batch(token_list, B=3, T=40, seed=0):
    units = random_units(B, T, len(token_list), seed=seed)
    lengths = torch.tensor([T, 23, 9][:B])
    units[1:, 23:] = 0
    units[2:, 9:] = 0
    # ESPnet fbank of the matching audio: T_mel - T_u is 1 or 2 (module docstring)
    feats_lengths = lengths + torch.tensor([1, 2, 1][:B])
    feats = torch.randn(B, int(feats_lengths.max()), ODIM)
    return units, lengths, feats, feats_lengths


# ------------------------------------------------------------- expansion / durations


def test_expand_by_durations_hand_example():
    x = torch.tensor([[[1.0], [2.0], [3.0]], [[4.0], [5.0], [0.0]]])
    durations = torch.tensor([[2, 0, 3], [1, 2, 0]])
    out, lengths = expand_by_durations(x, durations)
    assert lengths.tolist() == [5, 3]
    assert out[..., 0].tolist() == [[1, 1, 3, 3, 3], [4, 5, 5, 0, 0]]


def test_expand_matches_repeat_interleave_and_passes_gradients():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 7, 5, generator=g, requires_grad=True)
    durations = torch.randint(0, 4, (4, 7), generator=g)
    durations[2, 5:] = 0
    out, lengths = expand_by_durations(x, durations)
    for b in range(4):
        ref = torch.repeat_interleave(x[b], durations[b], dim=0)
        torch.testing.assert_close(out[b, : lengths[b]], ref)
        assert bool((out[b, lengths[b] :] == 0).all())
    out.sum().backward()
    torch.testing.assert_close(x.grad[..., 0], durations.float())


def test_run_lengths_hand_example():
    ids = torch.tensor([[5, 5, 7, 7, 7, 5, 9], [3, 3, 3, 4, 0, 0, 0]])
    durations, counts = run_lengths(ids, torch.tensor([7, 4]))
    assert counts.tolist() == [4, 2]
    assert durations.tolist() == [[2, 3, 1, 1], [3, 1, 0, 0]]


# ------------------------------------------------------------------------ the model


def test_forward_backward_each_frontend(kind, token_list, lm_files):
    model = build(kind, token_list, lm_files)
    units, lengths, feats, feats_lengths = batch(token_list)
    spembs = torch.randn(3, 8)
    loss, stats, weight = model(units, lengths, feats, feats_lengths, spembs=spembs)
    assert torch.isfinite(loss) and int(weight) == 3
    loss.backward()
    for name in ("frontend", "decoder", "feat_out", "spk_proj"):
        grads = [p.grad for p in getattr(model, name).parameters() if p.requires_grad]
        assert grads and all(g is not None for g in grads), name
    mel, out_lengths, durations = model.generate(units, lengths, spembs=spembs)
    # one mel frame per unit: output length == sum of durations == number of units
    assert out_lengths.tolist() == lengths.tolist()
    assert durations.sum(1).tolist() == lengths.tolist()
    assert mel.shape == (3, 40, ODIM)
    rate = float(stats["segments_per_unit"])
    if kind == "dense":
        assert rate == 1.0
    else:
        assert 0.0 < rate < 1.0  # the other frontends shorten the sequence


def test_inference_computes_its_own_durations(kind, token_list, lm_files):
    model = build(kind, token_list, lm_files).eval()
    units, lengths, _, _ = batch(token_list)
    spemb = torch.randn(8)
    with torch.no_grad():
        out = model.inference(units[1, :23], spembs=spemb)
        alone = model.generate(units[1:2, :23], lengths[1:2], spembs=spemb[None])[0]
        batched = model.generate(units, lengths, spembs=spemb.expand(3, 8))[0]
    assert out["feat_gen"].shape == (23, ODIM)
    assert int(out["duration"].sum()) == 23 and bool((out["duration"] > 0).all())
    torch.testing.assert_close(out["feat_gen"], alone[0])
    # padding in a batch does not change an utterance's output
    torch.testing.assert_close(batched[1, :23], alone[0], atol=1e-5, rtol=1e-4)
    # teacher forcing has nothing to force: the same output
    tf = model.inference(units[1, :23], spembs=spemb, use_teacher_forcing=True)
    torch.testing.assert_close(tf["feat_gen"], out["feat_gen"])


def test_batch_inference_list_input(token_list, lm_files):
    model = build("dedup", token_list, lm_files).eval()
    units, lengths, _, _ = batch(token_list)
    texts = [units[b, : lengths[b]] for b in range(3)]
    with torch.no_grad():
        out = model.batch_inference(texts, spembs=torch.randn(3, 8))
    assert [m.shape[0] for m in out["feat_gen"]] == lengths.tolist()
    assert out["duration"].sum(1).tolist() == lengths.tolist()


def test_target_trimmed_or_padded_to_the_units(token_list, lm_files):
    model = build("dense", token_list, lm_files)  # target_offset 1, tolerance 4
    units, lengths, feats, feats_lengths = batch(token_list)
    target, mask, diff = model.align_target(feats, feats_lengths, lengths)
    assert target.shape == (3, 40, ODIM)
    torch.testing.assert_close(target[0], feats[0, 1:41])
    assert diff.tolist() == [0, 1, 0]
    assert mask.sum(1).tolist() == lengths.tolist()
    # a mel one frame short: the last unit has no target and is left out of the loss
    short = feats_lengths - torch.tensor([1, 0, 0])
    _, mask, diff = model.align_target(feats, short, lengths)
    assert diff[0] == -1 and int(mask[0].sum()) == 39
    spembs = torch.randn(3, 8)
    model.eval()
    loss = model(units, lengths, feats, short, spembs=spembs)[0]
    feats2 = feats.clone()
    feats2[0, 40:] = 1e3  # beyond the short mel: not compared
    assert torch.equal(loss, model(units, lengths, feats2, short, spembs=spembs)[0])
    with pytest.raises(ValueError, match="do not match"):
        model.align_target(feats, feats_lengths + 10, lengths)


def test_spembs_and_sids_paths(token_list, lm_files):
    units, lengths, feats, feats_lengths = batch(token_list)
    # d-vector only (any-to-any): the output follows the embedding
    model = build("fixed_pool", token_list, lm_files).eval()
    assert model.spk_embed_dim == 8 and model.spks is None and model.langs is None
    with torch.no_grad():
        a = model.inference(units[0], spembs=torch.randn(8))["feat_gen"]
        b = model.inference(units[0], spembs=torch.randn(8))["feat_gen"]
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="needs spembs"):
        model.inference(units[0])
    # speaker-id table only
    model = build("fixed_pool", token_list, lm_files, spk_embed_dim=None, spks=4)
    assert model.spks == 4 and model.spk_embed_dim is None
    sids = torch.tensor([[0], [3], [1]])
    loss = model(units, lengths, feats, feats_lengths, sids=sids)[0]
    loss.backward()
    assert model.sid_emb.weight.grad is not None
    model.eval()
    with torch.no_grad():
        a = model.inference(units[0], sids=torch.tensor([0]))["feat_gen"]
        b = model.inference(units[0], sids=torch.tensor([3]))["feat_gen"]
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="needs sids"):
        model.inference(units[0])
    # both, concatenated d-vector
    model = build(
        "dense", token_list, lm_files, spks=2, spk_embed_integration_type="concat"
    )
    loss = model(
        units,
        lengths,
        feats,
        feats_lengths,
        spembs=torch.randn(3, 8),
        sids=torch.tensor([[0], [1], [1]]),
    )[0]
    assert torch.isfinite(loss)


def test_several_queries_per_segment_and_transformer_decoder(token_list, lm_files):
    conf = frontend_conf("entropy", lm_files, token_list)
    torch.manual_seed(0)
    model = UnitVC(
        len(token_list),
        ODIM,
        frontend="entropy",
        frontend_conf=dict(conf, num_queries=2),
        adim=16,
        decoder="transformer",
        decoder_conf=DECODER,
        spk_embed_dim=8,
    )
    units, lengths, feats, feats_lengths = batch(token_list)
    loss = model(units, lengths, feats, feats_lengths, spembs=torch.randn(3, 8))[0]
    loss.backward()
    assert model.query_merge.weight.grad is not None
    model.eval()
    with torch.no_grad():
        out = model.inference(units[2, :9], spembs=torch.randn(8))
    assert out["feat_gen"].shape == (9, ODIM)


def test_bad_options(token_list, lm_files):
    with pytest.raises(ValueError, match="frontend must be"):
        UnitVC(len(token_list), ODIM, frontend="nope")
    with pytest.raises(ValueError, match="strip_sos"):
        UnitVC(
            len(token_list),
            ODIM,
            frontend="fixed_pool",
            frontend_conf=dict(strip_sos=True),
        )


# -------------------------------------------------------------- ESPnet's TTS task


def test_registered_and_built_by_the_tts_task(tmp_path, token_list, lm_files):
    from espnet2_ext.compat import tts_choices
    from espnet2_ext.tasks.tts import UnitVCTTSTask

    assert tts_choices.get_class("unit_vc") is UnitVC
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("\n".join(token_list) + "\n")
    args = UnitVCTTSTask.get_parser().parse_args(
        ["--token_list", str(tokens), "--tts", "unit_vc", "--output_dir", "x"]
    )
    conf = frontend_conf("entropy", lm_files, None)
    del conf["token_list"]
    args.tts_conf = dict(
        frontend="entropy",
        frontend_conf=conf,
        adim=16,
        decoder_conf=DECODER,
        spk_embed_dim=8,
    )
    args.feats_extract_conf = dict(fs=16000, n_fft=1024, hop_length=320, n_mels=80)
    args.normalize = None
    model = UnitVCTTSTask.build_model(args)
    assert isinstance(model.tts, UnitVC)
    assert model.feats_extract.hop_length == 320 and model.feats_extract.n_mels == 80
    # the token list reached the entropy frontend (and the saved config)
    assert args.tts_conf["frontend_conf"]["token_list"] == token_list
    assert model.tts.spk_embed_dim == 8
    # the full ESPnet model: waveform in, fbank target, loss out
    units, lengths, _, _ = batch(token_list)
    n = (lengths - 1) * 320 + 400 + torch.tensor([0, 100, 319])  # T_u units each
    speech = torch.randn(3, int(n.max())) * 0.1
    loss, stats, _ = model(units, lengths, speech, n, spembs=torch.randn(3, 8))
    assert torch.isfinite(loss)
    # ESPnet fbank gives 1 or 2 frames more than the units; with offset 1: 0 or 1
    assert 0.0 <= float(stats["mel_minus_units"]) <= 1.0


TINY_TTS_CONF = dict(
    frontend="dedup",
    adim=16,
    decoder_conf=dict(num_blocks=1, linear_units=32, attention_heads=2),
    spk_embed_dim=8,
)


def _write_tts_data(d: Path, token_list, num_utts=4, tts_conf=None):
    """Tiny TTS-task data in ``d`` (sine waves, random units of the matching length,
    random unit d-vectors of ``tts_conf``'s ``spk_embed_dim``) and ``train.yaml``
    (``tts_conf``: the model's options, default :data:`TINY_TTS_CONF`)."""
    import kaldiio
    import soundfile as sf
    import yaml

    tts_conf = dict(TINY_TTS_CONF if tts_conf is None else tts_conf)
    spk_dim = tts_conf.get("spk_embed_dim") or 8

    rng = np.random.default_rng(0)
    (d / "wav").mkdir(parents=True)
    (d / "tokens.txt").write_text("\n".join(token_list) + "\n")
    units = [t for t in token_list if not t.startswith("<")]
    lines = {name: [] for name in ("wav.scp", "text", "text_shape")}
    vecs = {}
    for i in range(num_utts):
        key, n = f"utt{i}", 8000 + 160 * i
        x = 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * np.arange(n) / 16000)
        sf.write(d / "wav" / f"{key}.wav", x.astype(np.float32), 16000)
        T = (n - 400) // 320 + 1  # the project's 50 Hz unit count
        ids = rng.choice(units, T)
        lines["wav.scp"].append(f"{key} {d / 'wav' / key}.wav")
        lines["text"].append(f"{key} " + " ".join(ids))
        lines["text_shape"].append(f"{key} {T}")
        v = rng.standard_normal(spk_dim).astype(np.float32)
        vecs[key] = v / np.linalg.norm(v)
    for name, rows in lines.items():
        (d / name).write_text("\n".join(rows) + "\n")
    with kaldiio.WriteHelper(f"ark,scp:{d / 'xvector.ark'},{d / 'xvector.scp'}") as w:
        for key, v in vecs.items():
            w(key, v)
    (d / "train.yaml").write_text(
        yaml.safe_dump(
            dict(
                tts="unit_vc",
                tts_conf=tts_conf,
                feats_extract="fbank",
                feats_extract_conf=dict(
                    fs=16000, n_fft=1024, hop_length=320, n_mels=80
                ),
                normalize=None,
            ),
            sort_keys=False,
        )
    )


def _run_tiny_training(d: Path) -> Path:
    """One epoch of ``espnet2_ext.bin.tts_train`` on the data of
    :func:`_write_tts_data` in ``d``; returns the experiment directory."""
    data = []
    for split in ("train", "valid"):
        for path, name, kind in (
            ("text", "text", "text"),
            ("wav.scp", "speech", "sound"),
            ("xvector.scp", "spembs", "kaldi_ark"),
        ):
            data += [
                f"--{split}_data_path_and_name_and_type",
                f"{d / path},{name},{kind}",
            ]
        data += [f"--{split}_shape_file", str(d / "text_shape")]
    cmd = [
        sys.executable, "-m", "espnet2_ext.bin.tts_train",
        "--config", str(d / "train.yaml"),
        "--token_list", str(d / "tokens.txt"), "--token_type", "word",
        "--output_dir", str(d / "exp"), "--ngpu", "0", "--num_workers", "0",
        "--max_epoch", "1", "--batch_type", "unsorted", "--batch_size", "2",
        "--use_tensorboard", "false", "--use_matplotlib", "false",
        *data,
    ]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "l1_loss" in res.stderr and (d / "exp" / "valid.loss.best.pth").exists()
    return d / "exp"


def test_tiny_training_run_and_espnet_inference(tmp_path, token_list):
    import espnet2_ext.tasks.tts  # noqa: F401  (registers unit_vc when run alone)
    from espnet2_ext.compat import Text2Speech

    d = tmp_path
    _write_tts_data(d, token_list)
    _run_tiny_training(d)

    # ESPnet's own inference rebuilds it from config.yaml (unit_vc registered above)
    t2s = Text2Speech(str(d / "exp" / "config.yaml"), str(d / "exp" / "1epoch.pth"))
    out = t2s("3 3 3 4 5 5 6 7 8 9", spembs=np.ones(8, dtype=np.float32))
    assert out["feat_gen"].shape == (10, ODIM)
    assert out["duration"].tolist() == [3, 1, 2, 1, 1, 1, 1]
    assert out["wav"].ndim == 1 and out["wav"].numel() > 0


# --------------------------------------------------------------------------- vocoder


def test_griffin_lim_inverts_espnet_fbank():
    from espnet2_ext.compat import LogMelFbank
    from espnet2_ext.vc.vocoder import VC_FBANK, build_vocoder, griffin_lim

    fbank = LogMelFbank(fs=16000, n_fft=1024, hop_length=320, n_mels=80)
    t = torch.arange(8000) / 16000
    wav = (
        0.5 * torch.sin(2 * torch.pi * 440 * t) * (1 + torch.sin(2 * torch.pi * 3 * t))
    )
    mel, _ = fbank(wav[None], torch.tensor([8000]))
    mel = mel[0]
    T = mel.shape[0]
    out = griffin_lim(mel)
    assert out.dtype == torch.float32 and out.shape == (T * 320,)
    assert griffin_lim(mel, length=8000).shape == (8000,)
    # the re-analysed reconstruction has (nearly) the same log-mel where it has energy
    mel2, _ = fbank(out[None, :8000], torch.tensor([8000]))
    loud = mel > mel.max() - 2
    assert float((mel2[0] - mel)[loud].abs().mean()) < 0.3
    voc = build_vocoder(feats_extract_conf=dict(fs=16000, n_fft=1024, hop_length=320))
    assert voc.n_iter == 32 and voc.hop_length == VC_FBANK["hop_length"]
    # a HiFi-GAN checkpoint (tests/test_vocoder_hifigan.py) must exist
    with pytest.raises(FileNotFoundError, match="vocoder checkpoint not found"):
        build_vocoder(vocoder_file="hifigan.pkl")


# ------------------------------------------------------------------------- d-vectors


@pytest.mark.skipif(
    importlib.util.find_spec("resemblyzer") is None
    or importlib.util.find_spec("webrtcvad") is None,
    reason="resemblyzer not installed (pip install --no-deps resemblyzer "
    "webrtcvad-wheels)",
)
def test_extract_dvectors(tmp_path):
    import kaldiio
    import soundfile as sf

    from espnet2_ext.bin.extract_dvectors import main

    clips = {}
    if shutil.which("espeak-ng"):
        for key, voice in (("a1", "en-us"), ("b1", "en-us+m3")):
            path = tmp_path / f"{key}.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-w", str(path), "please call stella"],
                check=True,
                timeout=60,
            )
            clips[key] = path
    else:
        for key, f0 in (("a1", 120), ("b1", 210)):
            t = np.arange(16000) / 16000
            path = tmp_path / f"{key}.wav"
            sf.write(path, 0.3 * np.sign(np.sin(2 * np.pi * f0 * t)), 16000)
            clips[key] = path
    scp = tmp_path / "wav.scp"
    scp.write_text(
        "".join(f"{k} {p}\n" for k, p in clips.items())
        + f"gone {tmp_path / 'missing.wav'}\n"
    )
    utt2spk = tmp_path / "utt2spk"
    utt2spk.write_text("a1 spkA\nb1 spkB\ngone spkA\n")
    out = tmp_path / "xv"
    rc = main(["--wav_scp", str(scp), "--utt2spk", str(utt2spk), "--out_dir", str(out)])
    assert rc == 0
    vecs = dict(kaldiio.load_scp(str(out / "xvector.scp")).items())
    assert sorted(vecs) == ["a1", "b1"]
    for v in vecs.values():
        assert v.shape == (256,) and abs(float(np.linalg.norm(v)) - 1) < 1e-4
    spk = dict(kaldiio.load_scp(str(out / "spk_xvector.scp")).items())
    assert sorted(spk) == ["spkA", "spkB"]
    np.testing.assert_allclose(spk["spkA"], vecs["a1"], atol=1e-6)  # one utterance
    info = json.loads((out / "dvectors.json").read_text())
    assert info["in"] == 3 and info["out"] == 2 and info["skipped"] == 1
    assert info["skipped_by_reason"] == {"missing_file": 1} and info["speakers"] == 2
    assert (out / "skipped.txt").read_text().startswith("gone missing_file")
