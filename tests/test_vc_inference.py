"""Packing a unit-to-mel VC model and converting raw audio with it (``convert``).

A recipe-shaped directory with the tiny parts of the other tests: MFCC k-means fitted
on the synthetic sentences of ``test_pack_transcribe``, the random unit LM of
``conftest``, one epoch of ``tts_train`` on the tiny data of ``test_vc_model`` (an
``entropy`` frontend with that LM, 256-dim d-vectors as Resemblyzer's), and an
untrained ``dense`` model written as ESPnet writes an experiment.
"""

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from test_pack_transcribe import _resampled, synth_sentence
from test_vc_model import DECODER, _run_tiny_training, _write_tts_data, frontend_conf

N_CLUSTERS = 20  # conftest's token list: units "0" .. "19"
SPK_DIM = 256  # Resemblyzer


def _fit_kmeans(root: Path) -> None:
    """exp/kmeans: MFCC k-means of a few synthetic sentences, and units.yaml."""
    from espnet2_ext.units.features import build_feature_extractor
    from espnet2_ext.units.kmeans import fit_kmeans

    rng = np.random.default_rng(0)
    extractor = build_feature_extractor("mfcc", n_mfcc=13)
    feats = []
    for sent in ("the cat sat", "a big red sun", "dog ran far", "on a mat"):
        x = torch.from_numpy(synth_sentence(sent, rng))
        f, n = extractor(x[None], torch.tensor([x.numel()]))
        feats.append(f[0, : int(n[0])].numpy())
    km = fit_kmeans(
        np.concatenate(feats), N_CLUSTERS, seed=0, backend="sklearn", n_init=1
    )
    km.save(str(root / "exp/kmeans/km_mfcc.npy"))
    (root / "exp/kmeans/units.yaml").write_text(
        yaml.safe_dump(
            dict(
                feature="mfcc",
                feature_conf=dict(n_mfcc=13),
                kmeans="exp/kmeans/km_mfcc.npy",
                n_clusters=N_CLUSTERS,
                unit_rate=50,
                token_list="tokens.txt",
            )
        )
    )


def _write_untrained(
    out: Path, root: Path, tts_conf: dict, feats_extract: str = "fbank"
) -> None:
    """config.yaml + model.pth of an untrained unit_vc model, as tts_train lays out
    an experiment (the task turns the token list into a list, then the args are
    saved); ``feats_extract``: ``fbank`` (80-bin log-mel) or ``world`` (24 coded
    WORLD envelope coefficients)."""
    from espnet2_ext.tasks.tts import UnitVCTTSTask

    out.mkdir(parents=True)
    args = UnitVCTTSTask.get_parser().parse_args(
        ["--token_list", str(root / "tokens.txt"), "--token_type", "word"]
        + ["--tts", "unit_vc", "--feats_extract", feats_extract]
        + ["--output_dir", str(out)]
    )
    args.tts_conf = tts_conf
    args.feats_extract_conf = dict(fs=16000, n_fft=1024, hop_length=320, n_mels=80)
    if feats_extract == "world":
        args.feats_extract_conf = dict(fs=16000, hop_length=320, num_coded=24)
    args.normalize = None
    torch.manual_seed(0)
    model = UnitVCTTSTask.build_model(args)
    with (out / "config.yaml").open("w") as f:
        yaml.safe_dump(vars(args), f, sort_keys=False)
    torch.save(model.state_dict(), out / "model.pth")


@pytest.fixture(scope="module")
def recipe(tmp_path_factory, token_list, lm_files):
    root = tmp_path_factory.mktemp("vc") / "recipe"
    root.mkdir()
    (root / "exp/kmeans").mkdir(parents=True)
    lm_conf = frontend_conf("entropy", lm_files, None)
    del lm_conf["token_list"]  # filled in by the task, from --token_list
    conf = dict(
        frontend="entropy",
        frontend_conf=lm_conf,
        adim=16,
        decoder_conf=DECODER,
        spk_embed_dim=SPK_DIM,
    )
    _write_tts_data(root, token_list, tts_conf=conf)  # + tokens.txt
    _fit_kmeans(root)
    entropy = _run_tiny_training(root)  # root/exp: config.yaml, *.pth
    dense = root / "exp/vc_dense"
    _write_untrained(
        dense,
        root,
        dict(frontend="dense", adim=16, decoder_conf=DECODER, spk_embed_dim=SPK_DIM),
    )
    return dict(
        root=root,
        entropy=(entropy / "config.yaml", entropy / "valid.loss.best.pth"),
        dense=(dense / "config.yaml", dense / "model.pth"),
    )


def _pack(recipe, kind, out):
    from espnet2_ext.bin import pack_model

    cfg, model = recipe[kind]
    root = recipe["root"]
    rc = pack_model.main(
        ["--vc_train_config", str(cfg), "--vc_model_file", str(model)]
        + ["--units_config", str(root / "exp/kmeans/units.yaml")]
        + ["--outpath", str(out), "--root", str(root)]
    )
    assert rc == 0 and out.is_file()
    return out


@pytest.fixture(scope="module")
def packed(recipe):
    return _pack(recipe, "entropy", recipe["root"] / "exp/packed.zip")


@pytest.fixture(scope="module")
def wavs(tmp_path_factory):
    """A 48 kHz stereo source and a 22.05 kHz mono target-speaker file."""
    d = tmp_path_factory.mktemp("wavs")
    rng = np.random.default_rng(3)
    x = _resampled(synth_sentence("the big dog sat on a red mat", rng), 48000)
    stereo = np.stack([x, 0.5 * x], axis=1)
    sf.write(d / "src48k.wav", stereo, 48000, subtype="PCM_16")
    ref = _resampled(synth_sentence("a cat ran far", rng), 22050)
    sf.write(d / "ref.wav", ref, 22050, subtype="PCM_16")
    return dict(src=d / "src48k.wav", ref=d / "ref.wav", src_seconds=len(x) / 48000)


def test_packed_layout(recipe, packed):
    with zipfile.ZipFile(packed) as zf:
        names = set(zf.namelist())
        meta = yaml.safe_load(zf.read("meta.yaml"))
        cfg = yaml.safe_load(zf.read(meta["yaml_files"]["tts_train_config"]))
        units = yaml.safe_load(zf.read(meta["yaml_files"]["units_config"]))
    assert meta["task"] == "vc"
    assert set(meta["yaml_files"]) == {
        "tts_train_config",
        "units_config",
        "unit_lm_train_config",
    }
    assert set(meta["files"]) == {"tts_model_file", "kmeans_model", "unit_lm_file"}
    assert set(meta["files"].values()) | set(meta["yaml_files"].values()) <= names
    fconf = cfg["tts_conf"]["frontend_conf"]
    # the unit LM lies outside the recipe directory: stored under external/
    assert fconf["lm_file"] == meta["files"]["unit_lm_file"]
    assert fconf["lm_file"].startswith("external/") and fconf["lm_file"] in names
    assert fconf["lm_train_config"] == meta["yaml_files"]["unit_lm_train_config"]
    assert units["kmeans"] == "exp/kmeans/km_mfcc.npy" and units["token_list"] in names
    assert "exp/kmeans/km_mfcc.npy.json" in names


def test_convert_cli(packed, wavs, tmp_path):
    from espnet2_ext.bin.convert import main

    out = tmp_path / "sub" / "out.wav"
    rc = main(
        ["--model", str(packed), "--source", str(wavs["src"])]
        + ["--target-speaker", str(wavs["ref"]), "--out", str(out)]
        + ["--griffin_lim_iters", "4"]
    )
    assert rc == 0
    info = sf.info(str(out))
    assert info.samplerate == 16000 and info.channels == 1
    # one 20 ms mel frame per 50 Hz unit: the source's duration, to a frame or so
    assert abs(info.duration - wavs["src_seconds"]) < 0.05
    y, _ = sf.read(str(out))
    assert np.sqrt(np.mean(y**2)) > 1e-3  # not silent
    assert not list(out.parent.glob(".*.tmp"))


def test_convert_errors(packed, wavs, tmp_path, caplog):
    from espnet2_ext.bin.convert import main

    def run(**kw):
        a = dict(
            model=packed, source=wavs["src"], target_speaker=wavs["ref"], out="o.wav"
        )
        a.update(kw)
        out = tmp_path / a["out"]
        return main(
            ["--model", str(a["model"]), "--source", str(a["source"])]
            + ["--target-speaker", str(a["target_speaker"]), "--out", str(out)]
        )

    caplog.clear()
    assert run(source=tmp_path / "nope.wav") == 1
    assert "cannot convert the source: missing_file" in caplog.text
    assert "nope.wav" in caplog.text
    caplog.clear()
    assert run(target_speaker=tmp_path / "gone.wav") == 1
    assert "target-speaker audio: missing_file" in caplog.text
    caplog.clear()
    assert run(model=tmp_path / "nope.zip") == 1
    assert "model not found" in caplog.text
    assert run(out="o.xyz") == 2
    sf.write(tmp_path / "tiny.wav", np.zeros(100, dtype=np.float32), 16000)
    caplog.clear()
    assert run(source=tmp_path / "tiny.wav") == 1
    assert "too_short" in caplog.text
    assert not (tmp_path / "o.wav").exists()
    with pytest.raises(SystemExit) as e:
        main(["--model", str(packed), "--out", "x.wav"])
    assert e.value.code == 2


@pytest.mark.filterwarnings("ignore:Expanding a local model")
def test_packed_and_unpacked_give_the_same_mel(recipe, packed, wavs):
    from espnet2_ext.compat import ModelDownloader
    from espnet2_ext.vc_inference import VoiceConverter

    root = recipe["root"]
    cfg, model = recipe["entropy"]
    orig = VoiceConverter(
        vc_train_config=cfg,
        vc_model_file=model,
        units_config=root / "exp/kmeans/units.yaml",
        base_dir=root,
    )
    # espnet_model_zoo's unpack (ESPnet's TTS names) passed on as it is
    zoo = ModelDownloader(root / "zoo").unpack_local_file(str(packed))
    assert {"tts_train_config", "tts_model_file", "units_config"} <= set(zoo)
    vcs = [orig, VoiceConverter.from_pretrained(str(packed)), VoiceConverter(**zoo)]
    d = vcs[0].speaker_embedding(wavs["ref"])
    assert d.shape == (SPK_DIM,) and abs(float(np.linalg.norm(d)) - 1) < 1e-4
    units = [vc.units(wavs["src"]) for vc in vcs]
    for u in units[1:]:
        np.testing.assert_array_equal(u, units[0])
    mels = [vc.mel(units[0], dvector=d) for vc in vcs]
    assert mels[0].shape == (len(units[0]), 80)
    for m in mels[1:]:
        assert torch.equal(m, mels[0])
    # the frontend segments: fewer segments than units (a compressing frontend)
    ids = torch.from_numpy(orig.speech2units.token_ids(units[0]))
    out = orig.model.inference(
        text=ids, spembs=torch.from_numpy(d), use_teacher_forcing=False
    )
    assert 0 < out["duration"].numel() < len(units[0])


def test_dense_model_arrays_any_rate(recipe, wavs, tmp_path):
    from espnet2_ext.vc_inference import VoiceConverter

    packed = _pack(recipe, "dense", tmp_path / "dense.zip")
    with zipfile.ZipFile(packed) as zf:
        assert "unit_lm_file" not in yaml.safe_load(zf.read("meta.yaml"))["files"]
    vc = VoiceConverter(model=packed, griffin_lim_iters=2)
    x, sr = sf.read(str(wavs["src"]), dtype="float32")  # (N, 2) at 48 kHz
    ref, ref_sr = sf.read(str(wavs["ref"]), dtype="float32")
    wav, out_sr = vc(x, ref, sample_rate=sr, target_sample_rate=ref_sr)
    assert out_sr == 16000 and wav.dtype == np.float32 and wav.ndim == 1
    assert abs(len(wav) / 16000 - len(x) / sr) < 0.05
    assert float(np.abs(wav).max()) <= 1.0
    # the same source as (C, N) int16 at 48 kHz and a d-vector: same units
    pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16).T
    d = vc.speaker_embedding(ref, ref_sr)
    wav2, _ = vc(pcm, dvector=d, sample_rate=sr)
    assert len(wav2) == len(wav)
    wav3, _ = vc(pcm, d, sample_rate=sr)  # positional: a d-vector, not samples
    np.testing.assert_array_equal(wav3, wav2)
    with pytest.raises(ValueError, match="target_sample_rate is required"):
        vc(x, ref, sample_rate=sr)
    with pytest.raises(ValueError, match="not both"):
        vc(x, ref, sample_rate=sr, target_sample_rate=ref_sr, dvector=d)
    with pytest.raises(ValueError, match="needs the target speaker"):
        vc(x, sample_rate=sr)
    with pytest.raises(ValueError, match="256 finite numbers"):
        vc(x, sample_rate=sr, dvector=np.ones(8))


def test_tasks_do_not_mix(recipe, packed, tmp_path):
    from espnet2_ext.asr_inference import ModelLoadError, Speech2Text
    from espnet2_ext.bin.pack_model import PackError, pack_model
    from espnet2_ext.vc_inference import VoiceConverter

    # a VC pack is not an ASR model, and the other way round
    with pytest.raises(ModelLoadError, match="packed vc model.*convert"):
        Speech2Text(model=packed)
    d = tmp_path / "asr_like"
    with zipfile.ZipFile(packed) as zf:
        zf.extractall(d)
    meta = yaml.safe_load((d / "meta.yaml").read_text())
    (d / "meta.yaml").write_text(yaml.safe_dump(dict(meta, task="asr")))
    with pytest.raises(ModelLoadError, match="packed asr model.*transcribe"):
        VoiceConverter(model=d)
    shutil.rmtree(d)
    # the ASR packer refuses a VC config (no source token list of an MT model)
    root = recipe["root"]
    cfg, model = recipe["dense"]
    with pytest.raises(PackError, match="no source token list"):
        pack_model(cfg, model, root / "exp/kmeans/units.yaml", tmp_path / "a.zip", root)
    # and the VC packer anything but unit_vc
    from espnet2_ext.bin import pack_model as pm

    other = tmp_path / "other.yaml"
    other.write_text(
        yaml.safe_dump(dict(yaml.safe_load(Path(cfg).read_text()), tts="vits"))
    )
    with pytest.raises(PackError, match="not unit_vc"):
        pm.pack_vc_model(
            other, model, root / "exp/kmeans/units.yaml", tmp_path / "b.zip"
        )
    with pytest.raises(SystemExit) as e:
        pm.main(
            ["--vc_train_config", str(cfg), "--asr_model_file", str(model)]
            + ["--units_config", "u.yaml", "--outpath", "c.zip"]
        )
    assert e.value.code == 2
    assert not list(tmp_path.glob("*.zip"))


# --------------------------------------------------------------------------- upload
# (the fake Hub API: conftest.fake_hub)
def test_upload_vc_pack(recipe, packed, fake_hub, tmp_path):
    from espnet2_ext.bin.upload_model import main
    from espnet2_ext.vc_inference import VoiceConverter

    out = tmp_path / "hf"
    rc = main(
        ["--model", str(packed), "--outdir", str(out), "--hf_repo", "me/tiny-vc"]
        + ["--tag", "entropy_rate15", "--language", "en"]
    )
    assert rc == 0
    assert [c[0] for c in fake_hub.calls] == ["create_repo", "upload_folder"]
    assert fake_hub.calls[1][1]["folder_path"] == str(out)
    card = (out / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert "voice-conversion" in front["tags"] and front["language"] == ["en"]
    assert front["pipeline_tag"] == "audio-to-audio"
    assert "automatic-speech-recognition" not in front["tags"]
    for s in (
        "# espnet2_ext discrete-unit voice conversion: `me/tiny-vc`",
        "| experiment tag | `entropy_rate15` |",
        "`tts: unit_vc`",
        "`entropy`",
        "rule=global",
        "threshold=3.0",
        "max_len=6",
        "threshold calibrated to 15 segments/s",
        "d_model=16",  # adim, UnitVC's default for the frontend
        "| unit LM |",
        f"K={N_CLUSTERS}",
        "mfcc",
        "| decoder | conformer, size 16 (num_blocks=1, attention_heads=2, "
        "linear_units=32) |",
        f"{SPK_DIM}-dim Resemblyzer d-vector",
        "fbank log-mel (fs=16000, n_fft=1024, hop_length=320, n_mels=80)",
        "| vocoder | Griffin-Lim (32 iterations) by default",
        "python -m espnet2_ext.bin.convert --model <dir> --source in.wav "
        "--target-speaker ref.wav --out out.wav",
        'VoiceConverter.from_pretrained("me/tiny-vc")',
        "## Training config",
    ):
        assert s in card, s
    assert "parameters (w/o the frozen unit LM) | n/a" not in card
    # archive-relative paths, as staged for ASR; the staged directory converts
    meta = yaml.safe_load((out / "meta.yaml").read_text())
    assert meta["task"] == "vc"
    cfg = yaml.safe_load((out / meta["yaml_files"]["tts_train_config"]).read_text())
    assert cfg["tts_conf"]["frontend_conf"]["lm_file"] == meta["files"]["unit_lm_file"]
    vc = VoiceConverter(model=out, griffin_lim_iters=1)
    assert vc.sample_rate == 16000 and vc.spk_embed_dim == SPK_DIM

    # a dense model: no unit LM, no rate; staged from a directory, no upload
    dense = _pack(recipe, "dense", tmp_path / "dense.zip")
    assert main(["--model", str(dense), "--outdir", str(tmp_path / "hf2")]) == 0
    card2 = (tmp_path / "hf2/README.md").read_text()
    assert "| frontend | `dense`: one vector per unit" in card2
    assert "| unit LM |" not in card2 and "calibrated" not in card2
    assert "<path to this directory>" in card2
    assert len(fake_hub.calls) == 2


def test_world_model_picks_the_world_vocoder(recipe, tmp_path, monkeypatch):
    """A model of the WORLD envelope converts with WORLD (source F0 mapped to the
    target's), in ``VoiceConverter`` and in the recipe's ``vc_convert``; a HiFi-GAN
    checkpoint is refused for it."""
    import kaldiio

    import espnet2_ext.vc.world as world
    from espnet2_ext.bin import vc_convert
    from espnet2_ext.vc.world import world_f0
    from espnet2_ext.vc_inference import ModelLoadError, VoiceConverter
    from test_vc_world import vowel

    root = recipe["root"]
    conf = dict(
        frontend="dense",
        adim=16,
        decoder_conf=DECODER,
        spk_embed_dim=SPK_DIM,
        condition_norm=True,
        target_offset=0,
    )
    _write_untrained(root / "exp/vc_world", root, conf, feats_extract="world")
    exp = root / "exp/vc_world"
    recipe = dict(recipe, world=(exp / "config.yaml", exp / "model.pth"))
    packed = _pack(recipe, "world", tmp_path / "world.zip")
    vc = VoiceConverter(model=packed)
    assert vc.vocoder_kind == "world" and vc.sample_rate == 16000
    src = vowel(120.0, 1.0, seed=1)
    refs = [vowel(230.0, 0.6, seed=2), vowel(240.0, 0.6, seed=3)]
    for i, x in enumerate([src] + refs):
        sf.write(tmp_path / f"w{i}.wav", x, 16000, subtype="FLOAT")
    stats = vc.target_f0_stats([tmp_path / "w1.wav", tmp_path / "w2.wav"])
    assert np.log(220.0) < stats[0] < np.log(250.0)
    # the F0 WORLD synthesises with (the output's own F0 is not measured: the
    # untrained model's envelope can hide the fundamental)
    mapped = []
    real_map = world.map_f0
    monkeypatch.setattr(
        world, "map_f0", lambda *a: mapped.append(real_map(*a)) or mapped[-1]
    )
    wav, sr = vc(str(tmp_path / "w0.wav"), [tmp_path / "w1.wav", tmp_path / "w2.wav"])
    assert sr == 16000 and abs(len(wav) - len(src)) <= 80
    assert np.isfinite(wav).all() and float(np.abs(wav).max()) <= 1.0
    assert len(mapped) == 1
    f0 = mapped[0][mapped[0] > 0]
    assert np.log(f0).mean() == pytest.approx(stats[0])  # the target's pitch
    assert abs(np.median(world_f0(src)[0][world_f0(src)[0] > 0]) - 120.0) < 5.0
    d = vc.speaker_embedding(tmp_path / "w1.wav")
    kept, _ = vc(str(tmp_path / "w0.wav"), dvector=d)  # no audio: source F0 kept
    assert len(mapped) == 1 and len(kept) == len(wav)
    with pytest.raises(ModelLoadError, match="WORLD"):
        VoiceConverter(model=packed, vocoder_file=tmp_path / "x.pkl")
    # the model card says what it predicts and how it is vocoded
    from espnet2_ext.bin.upload_model import main as upload_main

    assert upload_main(["--model", str(packed), "--outdir", str(tmp_path / "hf")]) == 0
    card = (tmp_path / "hf/README.md").read_text()
    assert "d-vector -> WORLD envelope" in card
    assert "coded WORLD spectral envelope (fs=16000, hop_length=320" in card
    assert "| vocoder | WORLD with the source's F0" in card and "Griffin" not in card

    # the recipe's conversion of parallel pairs (vc.sh stage 10)
    d_dir = tmp_path / "data"
    d_dir.mkdir()
    units = " ".join(str(u) for u in vc.units(str(tmp_path / "w0.wav")))
    (d_dir / "pairs").write_text("p1 src tgt1\np2 nosrc tgt1\n")
    (d_dir / "units").write_text(f"src {units}\nnosrc {units}\n")
    (d_dir / "utt2spk").write_text("tgt1 spkB\nref1 spkB\nref2 spkB\n")
    (d_dir / "src.scp").write_text(f"src {tmp_path / 'w0.wav'}\n")
    (d_dir / "tgt.scp").write_text(
        f"ref1 {tmp_path / 'w1.wav'}\nref2 {tmp_path / 'w2.wav'}\n"
    )
    with kaldiio.WriteHelper(
        f"ark,scp:{d_dir / 'spk.ark'},{d_dir / 'spk_xvector.scp'}"
    ) as w:
        w("spkB", d)
    cfg, model = recipe["world"]
    rc = vc_convert.main(
        ["--train_config", str(cfg), "--model_file", str(model)]
        + ["--pairs", str(d_dir / "pairs"), "--units", str(d_dir / "units")]
        + ["--utt2spk", str(d_dir / "utt2spk")]
        + ["--spk_xvector_scp", str(d_dir / "spk_xvector.scp")]
        + ["--source_wav_scp", str(d_dir / "src.scp")]
        + ["--target_wav_scp", str(d_dir / "tgt.scp")]
        + ["--out_dir", str(tmp_path / "out")]
    )
    assert rc == 0
    info = json.loads((tmp_path / "out/convert.json").read_text())
    assert info["vocoder"] == "world" and info["out"] == 1
    assert info["skipped_by_reason"] == {"no_source_audio": 1}
    assert info["target_log_f0"]["spkB"][0] == pytest.approx(stats[0], abs=1e-6)
    out, out_sr = sf.read(str(tmp_path / "out/wav/p1.wav"))
    assert out_sr == 16000 and abs(len(out) - len(src)) <= 80
