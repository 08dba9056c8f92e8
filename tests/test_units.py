"""Tests of espnet2_ext.units (audio, features, k-means) and its command-line tools."""

import json
import os

import joblib
import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio

from espnet2_ext.bin import apply_kmeans, dump_features, learn_kmeans
from espnet2_ext.units import audio as audio_mod
from espnet2_ext.units.audio import AudioError, load_audio
from espnet2_ext.units.extract import make_batches
from espnet2_ext.units.features import (
    HuBERTExtractor,
    MFCCExtractor,
    build_feature_extractor,
    num_frames,
)
from espnet2_ext.units.hubert_loader import (
    build_hubert,
    fairseq_to_torchaudio,
    load_hubert,
)
from espnet2_ext.units.kmeans import (
    FrameSampler,
    KMeansModel,
    fit_kmeans,
    sample_frames,
)
from espnet2_ext.utils.shards import parse_kv, read_scp, shard_bounds, split_shard

SR = 16000


def tone(seconds, sr=SR, freq=220.0, seed=0, channels=1):
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.03 * rng.standard_normal(n)
    x = x.astype(np.float32)
    if channels > 1:
        x = np.stack([x * (1.0 - 0.25 * c) for c in range(channels)], axis=1)
    return x


def write_wav(path, seconds, sr=SR, **kw):
    sf.write(str(path), tone(seconds, sr=sr, **kw), sr)
    return str(path)


# ----------------------------------------------------------------------------- audio
def test_load_audio_resamples_8k_and_44k_stereo(tmp_path):
    p8 = write_wav(tmp_path / "a8.wav", 1.0, sr=8000, freq=440.0)
    p44 = tmp_path / "a44.wav"
    sf.write(
        str(p44), tone(1.0, sr=44100, freq=440.0, channels=2), 44100, subtype="PCM_16"
    )
    w8 = load_audio(p8)
    w44 = load_audio(str(p44))
    assert w8.dtype == torch.float32 and w8.shape == (SR,)
    assert w44.dtype == torch.float32 and w44.shape == (SR,)
    # the 440 Hz tone survives resampling: compare with a tone generated at 16 kHz
    ref = torch.from_numpy(tone(1.0, freq=440.0))
    for w, scale in ((w8, 1.0), (w44, 0.875)):  # stereo channels 1.0 and 0.75 averaged
        spec = torch.fft.rfft(w).abs()
        assert int(spec.argmax()) == int(torch.fft.rfft(ref).abs().argmax()) == 440
        rms = float(w.pow(2).mean().sqrt())
        assert rms == pytest.approx(0.3 * scale / np.sqrt(2), abs=0.01)


def test_load_audio_16k_passthrough(tmp_path):
    x = tone(0.5)
    p = tmp_path / "a.flac"
    sf.write(str(p), x, SR)
    w = load_audio(str(p))
    assert w.shape == (8000,)
    assert np.allclose(w.numpy(), x, atol=1e-4)  # FLAC is 16-bit PCM


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "text",
        "directory",
        "zero_bytes",
        "no_samples",
        "too_short",
        "nan",
        "pipe_rejected",
        "pipe_failed",
        "blank",
        "raw_pcm",
        "pcm_ext",
        "truncated_flac",
    ],
)
def test_load_audio_errors(tmp_path, case):
    expected = {
        "missing": audio_mod.REASON_MISSING,
        "text": audio_mod.REASON_FORMAT,
        "directory": audio_mod.REASON_UNREADABLE,
        "zero_bytes": audio_mod.REASON_EMPTY,
        "no_samples": audio_mod.REASON_EMPTY,
        "too_short": audio_mod.REASON_TOO_SHORT,
        "nan": audio_mod.REASON_INVALID,
        "pipe_rejected": audio_mod.REASON_PIPE_REJECTED,
        "pipe_failed": audio_mod.REASON_PIPE,
        "blank": audio_mod.REASON_BAD_ENTRY,
        "raw_pcm": audio_mod.REASON_FORMAT,
        "pcm_ext": audio_mod.REASON_FORMAT,
        "truncated_flac": audio_mod.REASON_UNREADABLE,
    }[case]
    kw = {}
    if case == "missing":
        entry = str(tmp_path / "nope.wav")
    elif case == "text":
        entry = str(tmp_path / "t.wav")
        open(entry, "w").write("this is not audio\n" * 10)
    elif case == "directory":
        entry = str(tmp_path)
    elif case == "zero_bytes":
        entry = str(tmp_path / "z.wav")
        open(entry, "wb").close()
    elif case == "no_samples":
        entry = str(tmp_path / "e.wav")
        sf.write(entry, np.zeros(0, np.float32), SR)
    elif case == "too_short":
        entry = write_wav(tmp_path / "s.wav", 0.05)
    elif case == "nan":
        entry = str(tmp_path / "n.wav")
        x = tone(0.5)
        x[100] = np.nan
        sf.write(entry, x, SR, subtype="FLOAT")
    elif case == "pipe_rejected":
        entry = f"cat {write_wav(tmp_path / 'p.wav', 0.5)} |"
        kw = dict(allow_pipe=False)
    elif case == "pipe_failed":
        entry = "false |"
    elif case in ("raw_pcm", "pcm_ext"):  # headerless 16-bit samples
        entry = str(tmp_path / ("r.raw" if case == "raw_pcm" else "r.pcm"))
        (tone(0.5) * 32767).astype(np.int16).tofile(entry)
    elif case == "truncated_flac":
        full = write_wav(tmp_path / "f.flac", 3.0)
        data = open(full, "rb").read()
        entry = str(tmp_path / "cut.flac")
        open(entry, "wb").write(data[: len(data) // 2])
    else:
        entry = "   "
    with pytest.raises(AudioError) as ei:
        load_audio(entry, **kw)
    assert ei.value.reason == expected
    assert str(ei.value).startswith(expected)
    if case in ("raw_pcm", "pcm_ext"):  # says what to do
        assert "sox -t raw -r 16000" in str(ei.value)


def test_id_with_a_space_is_explained(tmp_path):
    """``utt 1 /x.wav`` in a wav.scp reads as id ``utt``, value ``1 /x.wav``."""
    wav = write_wav(tmp_path / "x.wav", 0.5)
    with pytest.raises(AudioError) as ei:
        load_audio(f"1 {wav}")
    assert ei.value.reason == audio_mod.REASON_MISSING
    assert "utterance id with a space" in str(ei.value)


def test_long_file_refused_from_its_header(tmp_path, monkeypatch):
    """A file over max_duration is refused before it is decoded (no full read)."""
    entry = write_wav(tmp_path / "long.wav", 12.0)
    monkeypatch.setattr(
        sf, "read", lambda *a, **k: pytest.fail("decoded a file that is too long")
    )
    with pytest.raises(AudioError) as ei:
        load_audio(entry, max_duration=10.0)
    assert ei.value.reason == audio_mod.REASON_TOO_LONG
    assert "12.0 s > max_duration 10 s (from the header)" in str(ei.value)


def test_iter_features_extractor_limit_and_errors(tmp_path):
    """The extractor's own limit (Whisper: 30 s) skips longer audio from its header;
    a ValueError of the extractor on one utterance skips that one, not the stage."""
    from espnet2_ext.units.extract import iter_features
    from espnet2_ext.utils.shards import Tally

    class Fake(MFCCExtractor):
        max_input_seconds = 2.0

        def forward(self, wav, lengths):
            if bool((lengths == int(1.5 * SR)).any()):
                raise ValueError("cannot encode this one")
            return super().forward(wav, lengths)

    entries = [
        ("a", write_wav(tmp_path / "a.wav", 1.0)),
        ("long", write_wav(tmp_path / "l.wav", 3.0)),
        ("bad", write_wav(tmp_path / "b.wav", 1.5)),
        ("c", write_wav(tmp_path / "c.wav", 0.5)),
    ]
    tally = Tally("t")
    got = dict(iter_features(entries, Fake(), tally, batch_size=4))
    assert sorted(got) == ["a", "c"]
    assert tally.n_in == 4 and tally.skipped == {
        "too_long": 1,
        "extraction_failed": 1,
    }


def test_load_audio_min_duration_configurable_and_pipe(tmp_path):
    p = write_wav(tmp_path / "s.wav", 0.05)
    assert load_audio(p, min_duration=0.03).shape == (800,)
    w = load_audio(f"cat {p} |", min_duration=0.03)
    assert w.shape == (800,)
    with pytest.raises(AudioError) as ei:
        load_audio(write_wav(tmp_path / "l.wav", 1.0), max_duration=0.5)
    assert ei.value.reason == audio_mod.REASON_TOO_LONG


# -------------------------------------------------------------------------- features
def test_num_frames_formula():
    n = torch.tensor([0, 399, 400, 719, 720, 16000, 16080])
    assert num_frames(n).tolist() == [0, 0, 1, 1, 2, 49, 50]


def test_mfcc_50hz_and_shape():
    ext = build_feature_extractor("mfcc")
    assert isinstance(ext, MFCCExtractor) and ext.frame_rate == 50.0
    assert ext.output_size() == 39
    wav = torch.from_numpy(tone(1.0))[None]
    feats, lens = ext(wav, torch.tensor([SR]))
    assert feats.shape == (1, 49, 39) and lens.tolist() == [49]
    assert abs(feats.shape[1] - 50) <= 1
    # 3 s -> 149 frames: 50 per second
    feats3, _ = ext(torch.from_numpy(tone(3.0))[None], torch.tensor([3 * SR]))
    assert feats3.shape[1] == 149
    ext20 = build_feature_extractor("mfcc", n_mfcc=20, use_delta_delta=False)
    assert ext20.output_size() == 40
    assert ext20(wav, torch.tensor([SR]))[0].shape == (1, 49, 40)


@pytest.mark.parametrize("cmvn", [True, False])
def test_mfcc_batch_equals_single(cmvn):
    ext = MFCCExtractor(cmvn=cmvn)
    lens = [SR, 12345, 5000]
    wavs = [
        torch.from_numpy(tone(n / SR, seed=i, freq=150.0 + 100 * i))
        for i, n in enumerate(lens)
    ]
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    feats, flens = ext(batch, torch.tensor(lens))
    assert flens.tolist() == [49, 38, 15]
    for i, w in enumerate(wavs):
        single, slen = ext(w[None], torch.tensor([len(w)]))
        assert int(slen) == int(flens[i])
        torch.testing.assert_close(
            feats[i, : flens[i]], single[0], atol=1e-4, rtol=1e-4
        )
        assert float(feats[i, flens[i] :].abs().sum()) == 0.0
    if cmvn:
        valid = feats[0, : flens[0]]
        assert valid.mean(0).abs().max() < 1e-4
        assert (valid.std(0, unbiased=False) - 1).abs().max() < 1e-2


def test_build_feature_extractor_unknown():
    with pytest.raises(ValueError):
        build_feature_extractor("wav2vec5")


@pytest.fixture(scope="module")
def hubert9():
    return HuBERTExtractor(checkpoint="random", arch="base", layer=9, seed=0)


def test_hubert_random_base_shape(hubert9):
    assert hubert9.output_size() == 768 and hubert9.frame_rate == 50.0
    assert len(hubert9.model.encoder.transformer.layers) == 9
    wav = torch.from_numpy(tone(1.0))[None]
    feats, lens = hubert9(wav, torch.tensor([SR]))
    assert feats.shape == (1, 49, 768) and lens.tolist() == [49]
    assert torch.isfinite(feats).all()


def test_hubert_layer_selection_is_one_based(hubert9):
    wav = torch.from_numpy(tone(0.5, seed=3))[None]
    lens = torch.tensor([wav.size(1)])
    full = build_hubert("base", seed=0)
    with torch.no_grad():
        outs, _ = full.extract_features(wav, lens)
    assert len(outs) == 12
    feats, _ = hubert9(wav, lens)
    torch.testing.assert_close(feats[0], outs[8][0], atol=1e-4, rtol=1e-4)
    assert not torch.allclose(feats[0], outs[7][0], atol=1e-2)
    with pytest.raises(ValueError):
        HuBERTExtractor(checkpoint="random", layer=13)


def test_hubert_batch_equals_single(hubert9):
    lens = [SR, 9000]
    wavs = [torch.from_numpy(tone(n / SR, seed=i)) for i, n in enumerate(lens)]
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    feats, flens = hubert9(batch, torch.tensor(lens))
    assert flens.tolist() == [49, 27]
    single, _ = hubert9(wavs[1][None], torch.tensor([lens[1]]))
    torch.testing.assert_close(feats[1, :27], single[0], atol=1e-3, rtol=1e-3)
    assert float(feats[1, 27:].abs().sum()) == 0.0


def test_hubert_unknown_checkpoint():
    with pytest.raises(FileNotFoundError):
        load_hubert("/no/such/file.pt")


# ---- checkpoint formats, on a tiny model with the standard conv strides (50 Hz) ----
def _tiny(mode, layer_norm_first, seed=0):
    torch.manual_seed(seed)
    conv = [(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2
    m = torchaudio.models.wav2vec2_model(
        extractor_mode=mode,
        extractor_conv_layer_config=conv,
        extractor_conv_bias=(mode == "layer_norm"),
        encoder_embed_dim=64,
        encoder_projection_dropout=0.0,
        encoder_pos_conv_kernel=16,
        encoder_pos_conv_groups=4,
        encoder_num_layers=3,
        encoder_num_heads=4,
        encoder_attention_dropout=0.0,
        encoder_ff_interm_features=128,
        encoder_ff_interm_dropout=0.0,
        encoder_dropout=0.0,
        encoder_layer_norm_first=layer_norm_first,
        encoder_layer_drop=0.0,
        aux_num_out=None,
    ).eval()
    with torch.no_grad():  # non-trivial norm parameters so that a mix-up would show
        for name, p in m.named_parameters():
            if "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    return m


_TA2FS = [
    (
        r"^feature_extractor\.conv_layers\.(\d+)\.conv\.",
        r"feature_extractor.conv_layers.\1.0.",
    ),
    (r"^encoder\.feature_projection\.layer_norm\.", "layer_norm."),
    (r"^encoder\.feature_projection\.projection\.", "post_extract_proj."),
    (
        r"^encoder\.transformer\.pos_conv_embed\.conv\."
        r"parametrizations\.weight\.original0$",
        "encoder.pos_conv.0.weight_g",
    ),
    (
        r"^encoder\.transformer\.pos_conv_embed\.conv\."
        r"parametrizations\.weight\.original1$",
        "encoder.pos_conv.0.weight_v",
    ),
    (r"^encoder\.transformer\.pos_conv_embed\.conv\.bias$", "encoder.pos_conv.0.bias"),
    (r"^encoder\.transformer\.layer_norm\.", "encoder.layer_norm."),
    (
        r"^encoder\.transformer\.layers\.(\d+)\.attention\.",
        r"encoder.layers.\1.self_attn.",
    ),
    (
        r"^encoder\.transformer\.layers\.(\d+)\.layer_norm\.",
        r"encoder.layers.\1.self_attn_layer_norm.",
    ),
    (
        r"^encoder\.transformer\.layers\.(\d+)\.feed_forward\.intermediate_dense\.",
        r"encoder.layers.\1.fc1.",
    ),
    (
        r"^encoder\.transformer\.layers\.(\d+)\.feed_forward\.output_dense\.",
        r"encoder.layers.\1.fc2.",
    ),
    (
        r"^encoder\.transformer\.layers\.(\d+)\.final_layer_norm\.",
        r"encoder.layers.\1.final_layer_norm.",
    ),
]


def _to_fairseq(sd, mode):
    """torchaudio keys -> the key names of fairseq's HubertModel."""
    import re

    out = {}
    for k, v in sd.items():
        if mode == "group_norm" and k.startswith(
            "feature_extractor.conv_layers.0.layer_norm."
        ):
            out[k.replace("0.layer_norm.", "0.2.")] = v
            continue
        m = re.match(r"^feature_extractor\.conv_layers\.(\d+)\.layer_norm\.(.*)$", k)
        if m:
            out[f"feature_extractor.conv_layers.{m.group(1)}.2.1.{m.group(2)}"] = v
            continue
        for pat, rep in _TA2FS:
            if re.match(pat, k):
                out[re.sub(pat, rep, k)] = v
                break
        else:
            raise AssertionError(k)
    return out


def _to_hf(sd):
    out = {}
    for k, v in sd.items():
        if k.startswith("encoder.feature_projection."):
            k = k[len("encoder.") :]
        elif k.startswith("encoder.transformer."):
            k = "encoder." + k[len("encoder.transformer.") :]
        k = k.replace(
            "pos_conv_embed.conv.parametrizations.weight.original0",
            "pos_conv_embed.conv.weight_g",
        )
        k = k.replace(
            "pos_conv_embed.conv.parametrizations.weight.original1",
            "pos_conv_embed.conv.weight_v",
        )
        out["hubert." + k] = v
    return out


@pytest.mark.parametrize("mode,lnf", [("group_norm", False), ("layer_norm", True)])
@pytest.mark.parametrize("fmt", ["fairseq", "torchaudio", "espnet", "huggingface"])
def test_hubert_checkpoint_formats(tmp_path, mode, lnf, fmt):
    ref = _tiny(mode, lnf)
    sd = ref.state_dict()
    path = str(tmp_path / "ckpt.pt")
    if fmt == "fairseq":
        fs = _to_fairseq(sd, mode)
        # the fairseq key names agree with torchaudio's own fairseq importer
        from torchaudio.models.wav2vec2.utils.import_fairseq import _convert_state_dict

        theirs = _convert_state_dict(fs)
        ours = fairseq_to_torchaudio(fs)
        norm = {
            k.replace("weight_g", "parametrizations.weight.original0").replace(
                "weight_v", "parametrizations.weight.original1"
            ): v
            for k, v in theirs.items()
        }
        assert set(norm) == set(ours) == set(sd)
        fs.update(
            {
                "mask_emb": torch.zeros(64),
                "label_embs_concat": torch.zeros(10, 16),
                "final_proj.weight": torch.zeros(16, 64),
                "final_proj.bias": torch.zeros(16),
            }
        )
        conv = "[(32,10,5)] + [(32,3,2)] * 4 + [(32,2,2)] * 2"
        torch.save(
            {
                "cfg": {
                    "model": {
                        "encoder_attention_heads": 4,
                        "layer_norm_first": lnf,
                        "conv_feature_layers": conv,
                    },
                    "task": {"normalize": lnf},
                },
                "model": fs,
            },
            path,
        )
    elif fmt == "torchaudio":
        torch.save(sd, path)
    elif (
        fmt == "espnet"
    ):  # torchaudio model nested in ESPnet's HuBERT pre-training model
        pre = "encoder.hubert_pretrain_model.wav2vec2."
        nested = {pre + k: v for k, v in sd.items()}
        nested["encoder.hubert_pretrain_model.label_embeddings"] = torch.zeros(10, 8)
        nested["frontend.dummy"] = torch.zeros(3)
        torch.save(nested, path)
    else:
        path = str(tmp_path / "pytorch_model.bin")
        torch.save(_to_hf(sd), path)
        json.dump(
            {
                "num_attention_heads": 4,
                "do_stable_layer_norm": lnf,
                "conv_stride": [5, 2, 2, 2, 2, 2, 2],
            },
            open(tmp_path / "config.json", "w"),
        )
    if fmt in (
        "torchaudio",
        "espnet",
    ):  # a bare state dict says nothing about heads etc.
        kw = dict(num_heads=4, layer_norm_first=lnf, normalize_waveform=False)
    else:
        kw = {}
    ext = HuBERTExtractor(checkpoint=path, layer=2, **kw)
    assert ext.output_size() == 64
    expect_norm = lnf if fmt in ("fairseq", "huggingface") else False
    assert ext.normalize_waveform == expect_norm
    wav = torch.from_numpy(tone(0.5))[None]
    lens = torch.tensor([wav.size(1)])
    with torch.no_grad():
        x = wav
        if expect_norm:
            x = torch.nn.functional.layer_norm(wav, wav.shape)
        outs, _ = ref.extract_features(x, lens)
    feats, flens = ext(wav, lens)
    assert flens.tolist() == [24]
    torch.testing.assert_close(feats[0], outs[1][0], atol=1e-4, rtol=1e-4)


# ---------------------------------------------------------------------------- k-means
def _blobs(n_per=200, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], np.float32)
    x = np.concatenate([c + rng.standard_normal((n_per, 3)) for c in centers]).astype(
        np.float32
    )
    y = np.repeat(np.arange(4), n_per)
    return x, y


def test_kmeans_fit_apply_roundtrip_and_determinism(tmp_path):
    x, y = _blobs()
    km = fit_kmeans(x, 4, seed=1, backend="sklearn", n_init=3, batch_size=256)
    pred = km.predict(x)
    assert pred.dtype == np.int64 and pred.shape == (len(x),)
    # a perfect clustering up to a permutation of the ids
    for c in range(4):
        assert len(set(pred[y == c])) == 1
    assert len(set(pred)) == 4
    km2 = fit_kmeans(x, 4, seed=1, backend="sklearn", n_init=3, batch_size=256)
    np.testing.assert_array_equal(km.cluster_centers, km2.cluster_centers)
    # batched torch assignment == per-utterance numpy assignment
    xt = torch.from_numpy(x).view(8, 100, 3)
    np.testing.assert_array_equal(km.predict_torch(xt).reshape(-1).numpy(), pred)
    km.save(str(tmp_path / "km.npy"))
    back = KMeansModel.load(str(tmp_path / "km.npy"))
    np.testing.assert_array_equal(back.cluster_centers, km.cluster_centers)
    np.testing.assert_array_equal(back.predict(x), pred)
    assert back.meta["n_clusters"] == 4 and back.meta["seed"] == 1
    with pytest.raises(ValueError, match=".npy"):  # no pickle format is written
        km.save(str(tmp_path / "km.pkl"))
    # a fitted scikit-learn model pickled by fairseq/ESPnet recipes loads when trusted
    from sklearn.cluster import MiniBatchKMeans

    sk = MiniBatchKMeans(n_clusters=4, random_state=0, n_init=3).fit(x)
    joblib.dump(sk, str(tmp_path / "sk.pkl"))
    with pytest.raises(ValueError, match="convert_kmeans --trust_remote_pickle"):
        KMeansModel.load(str(tmp_path / "sk.pkl"))
    np.testing.assert_array_equal(
        KMeansModel.load(str(tmp_path / "sk.pkl"), trust_pickle=True).predict(x),
        sk.predict(x),
    )
    with pytest.raises(ValueError):
        km.predict(np.zeros((5, 7), np.float32))


def test_frame_sampler_is_uniform_capped_and_seeded():
    utts = [np.full((n, 2), i, np.float32) for i, n in enumerate([50, 300, 10, 640])]
    a = sample_frames(utts, max_frames=100, seed=3)
    b = sample_frames(utts, max_frames=100, seed=3)
    c = sample_frames(utts, max_frames=100, seed=4)
    assert a.shape == (100, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert sample_frames(utts, max_frames=None).shape == (1000, 2)
    # roughly proportional to utterance length: utt 3 has 64% of the frames
    s = FrameSampler(max_frames=2000, seed=0)
    for _ in range(20):
        for u in utts:
            s.add(u)
    share = (s.result()[:, 0] == 3).mean()
    assert 0.55 < share < 0.73


# ----------------------------------------------------------------------- CLI helpers
def test_split_shard_like_split_scp():
    items = list(range(10))
    shards = [split_shard(items, 3, r) for r in range(3)]
    assert [len(s) for s in shards] == [4, 3, 3]
    assert sum(shards, []) == items
    assert shard_bounds(2, 4, 3) == (2, 2)
    with pytest.raises(ValueError):
        split_shard(items, 3, 3)


def test_parse_kv():
    assert parse_kv(
        [
            "n_mfcc=20",
            "cmvn=false",
            "f_max=null",
            "checkpoint=torchaudio:HUBERT_BASE",
            "x=1.5",
        ]
    ) == {
        "n_mfcc": 20,
        "cmvn": False,
        "f_max": None,
        "checkpoint": "torchaudio:HUBERT_BASE",
        "x": 1.5,
    }
    with pytest.raises(ValueError):
        parse_kv(["novalue"])


def test_make_batches():
    b = make_batches([3.0, 1.0, None, 2.0, 10.0], batch_size=2, batch_seconds=8.0)
    assert b == [[1, 3], [0], [4], [2]]


# ------------------------------------------------------------------ command-line tools
@pytest.fixture()
def corpus(tmp_path):
    d = tmp_path / "wav"
    d.mkdir()
    lines = []
    for i in range(6):
        sr = [16000, 8000, 22050][i % 3]
        p = write_wav(
            d / f"g{i}.wav", 0.6 + 0.2 * i, sr=sr, seed=i, freq=120.0 + 60 * i
        )
        lines.append(f"good{i} {p}")
    (d / "corrupt.wav").write_bytes(b"RIFF\x00\x00garbage" * 20)
    write_wav(d / "short.wav", 0.04)
    sf.write(str(d / "empty.wav"), np.zeros(0, np.float32), SR)
    # shard 0 = good0..good3 + corrupt + missing (6 lines), shard 1 = the rest (5 lines)
    lines[4:4] = [f"corrupt {d / 'corrupt.wav'}", f"missing {d / 'missing.wav'}"]
    lines += [
        f"short {d / 'short.wav'}",
        f"empty {d / 'empty.wav'}",
        f"piped cat {d / 'g0.wav'} |",
    ]
    scp = tmp_path / "wav.scp"
    scp.write_text("\n".join(lines) + "\n")
    return tmp_path, str(scp)


def _dump(scp, out, rank, *extra):
    return dump_features.main(
        [
            "--wav_scp",
            scp,
            "--feature",
            "mfcc",
            "--nshard",
            "2",
            "--rank",
            str(rank),
            "--out_dir",
            out,
            "--batch_size",
            "3",
            *extra,
        ]
    )


def test_dump_features_sharding_skips_and_resume(corpus, capsys):
    root, scp = corpus
    out = str(root / "feats")
    assert _dump(scp, out, 0) == 0
    assert _dump(scp, out, 1) == 0
    d0 = json.load(open(os.path.join(out, "done.0")))
    d1 = json.load(open(os.path.join(out, "done.1")))
    assert (d0["in"], d0["out"], d0["skipped"]) == (6, 4, 2)
    assert set(d0["skipped_by_reason"]) <= {
        "missing_file",
        "wrong_format",
        "unreadable",
    }
    assert d0["skipped_by_reason"]["missing_file"] == 1
    assert (d1["in"], d1["out"], d1["skipped"]) == (5, 3, 2)
    assert d1["skipped_by_reason"] == {"empty": 1, "too_short": 1}
    err = capsys.readouterr().err
    assert "in=6 out=4 skipped=2" in err and "in=5 out=3 skipped=2" in err
    assert "skip missing: missing_file" in err
    skipped0 = [line.split()[:2] for line in open(os.path.join(out, "skipped.0.txt"))]
    assert sorted(k for k, _ in skipped0) == ["corrupt", "missing"]

    # features: wav.scp order, 50 Hz frame counts, readable by kaldiio
    wav = dict(read_scp(scp))
    keys = [k for k, _ in read_scp(os.path.join(out, "feats.0.scp"))] + [
        k for k, _ in read_scp(os.path.join(out, "feats.1.scp"))
    ]
    assert keys == ["good0", "good1", "good2", "good3", "good4", "good5", "piped"]
    for r in (0, 1):
        for k, m in kaldiio.load_scp(os.path.join(out, f"feats.{r}.scp")).items():
            n = load_audio(wav[k]).numel()
            assert m.shape == (int(num_frames(torch.tensor(n))), 39)
    feats = kaldiio.load_scp(os.path.join(out, "feats.1.scp"))
    np.testing.assert_allclose(
        feats["piped"], kaldiio.load_scp(os.path.join(out, "feats.0.scp"))["good0"]
    )

    # a second run skips finished shards
    mtime = os.path.getmtime(os.path.join(out, "feats.0.ark"))
    assert _dump(scp, out, 0) == 0
    assert "already done" in capsys.readouterr().err
    assert os.path.getmtime(os.path.join(out, "feats.0.ark")) == mtime
    # other options: redone
    assert _dump(scp, out, 0, "--feature_conf", "n_mfcc=20") == 0
    assert kaldiio.load_scp(os.path.join(out, "feats.0.scp"))["good0"].shape[1] == 60
    # a removed marker (e.g. interrupted job): redone
    os.remove(os.path.join(out, "done.1"))
    assert _dump(scp, out, 1) == 0
    assert "already done" not in capsys.readouterr().err
    assert os.path.exists(os.path.join(out, "done.1"))


def test_dump_features_interrupted_shard_not_marked_done(corpus, monkeypatch):
    root, scp = corpus
    out = str(root / "feats")
    calls = {"n": 0}
    real = kaldiio.save_ark

    def flaky(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(dump_features.kaldiio, "save_ark", flaky)
    with pytest.raises(KeyboardInterrupt):
        _dump(scp, out, 0)
    assert not os.path.exists(os.path.join(out, "done.0"))
    assert not os.path.exists(os.path.join(out, "feats.0.scp"))
    monkeypatch.setattr(dump_features.kaldiio, "save_ark", real)
    assert _dump(scp, out, 0) == 0
    assert len(kaldiio.load_scp(os.path.join(out, "feats.0.scp"))) == 4


def test_dump_features_all_bad_fails(tmp_path):
    scp = tmp_path / "wav.scp"
    scp.write_text(f"a {tmp_path / 'x.wav'}\nb {tmp_path / 'y.wav'}\n")
    assert (
        dump_features.main(
            [
                "--wav_scp",
                str(scp),
                "--feature",
                "mfcc",
                "--out_dir",
                str(tmp_path / "o"),
            ]
        )
        == 1
    )
    assert not os.path.exists(tmp_path / "o" / "done.0")
    assert (
        dump_features.main(
            [
                "--wav_scp",
                str(scp),
                "--feature",
                "mfcc",
                "--nshard",
                "2",
                "--rank",
                "2",
                "--out_dir",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )


def test_learn_and_apply_kmeans(corpus, capsys):
    root, scp = corpus
    out = str(root / "feats")
    assert _dump(scp, out, 0) == 0 and _dump(scp, out, 1) == 0
    scps = [os.path.join(out, f"feats.{r}.scp") for r in (0, 1)]
    km_path = str(root / "km" / "km.npy")
    args = [
        "--feats_scp",
        *scps,
        "--n_clusters",
        "8",
        "--max_frames",
        "300",
        "--seed",
        "0",
        "--n_init",
        "2",
        "--batch_size",
        "256",
        "--out",
        km_path,
    ]
    assert learn_kmeans.main(args) == 0
    km = KMeansModel.load(km_path)
    assert (km.n_clusters, km.dim) == (8, 39)
    assert km.meta["n_train_frames"] == 300
    mtime = os.path.getmtime(km_path)
    assert learn_kmeans.main(args) == 0  # done: skipped
    assert os.path.getmtime(km_path) == mtime
    km_b = str(root / "km" / "km_b.npy")
    assert learn_kmeans.main(args[:-1] + [km_b]) == 0
    np.testing.assert_array_equal(
        KMeansModel.load(km_b).cluster_centers, km.cluster_centers
    )
    assert learn_kmeans.main(args[:-1] + [str(root / "km" / "km.pkl")]) == 2  # not .npy

    # a feats.scp with an unreadable entry: counted and skipped
    bad_scp = root / "feats_bad.scp"
    bad_scp.write_text(open(scps[0]).read() + f"ghost {root / 'nowhere.ark'}:5\n")
    units = str(root / "units" / "units.0.txt")
    assert (
        apply_kmeans.main(
            ["--feats_scp", str(bad_scp), "--km", km_path, "--out", units]
        )
        == 0
    )
    done = json.load(open(units + ".done"))
    assert (done["in"], done["out"], done["skipped"]) == (5, 4, 1)
    assert done["skipped_by_reason"] == {"unreadable": 1}
    assert "in=5 out=4 skipped=1" in capsys.readouterr().err
    feats = kaldiio.load_scp(scps[0])
    lines = open(units).read().splitlines()
    assert [ln.split()[0] for ln in lines] == ["good0", "good1", "good2", "good3"]
    for ln in lines:
        key, *ids = ln.split(" ")
        assert all(t.isdigit() for t in ids)
        ids = np.array(ids, dtype=np.int64)
        assert len(ids) == feats[key].shape[0]
        assert ids.min() >= 0 and ids.max() < 8
        np.testing.assert_array_equal(ids, km.predict(feats[key]))
    assert (
        apply_kmeans.main(
            ["--feats_scp", str(bad_scp), "--km", km_path, "--out", units]
        )
        == 0
    )
    assert "already done" in capsys.readouterr().err

    # straight from audio (same shard split) gives the same units as from dumped
    # features
    units_w = str(root / "units" / "units_w.0.txt")
    assert (
        apply_kmeans.main(
            [
                "--wav_scp",
                scp,
                "--feature",
                "mfcc",
                "--nshard",
                "2",
                "--rank",
                "0",
                "--km",
                km_path,
                "--out",
                units_w,
            ]
        )
        == 0
    )
    assert open(units_w).read() == open(units).read()
    assert json.load(open(units_w + ".done"))["skipped"] == 2
    # dimension mismatch is an error, not a skip
    assert (
        apply_kmeans.main(
            [
                "--wav_scp",
                scp,
                "--feature",
                "mfcc",
                "--feature_conf",
                "n_mfcc=20",
                "--km",
                km_path,
                "--out",
                str(root / "u.txt"),
            ]
        )
        == 2
    )


def test_hubert_fairseq_pickled_args_checkpoint(tmp_path):
    """Old fairseq checkpoints keep an argparse Namespace: needs weights_only=False,
    which only an explicit trust_pickle=True allows."""
    import argparse

    ref = _tiny("group_norm", False)
    path = str(tmp_path / "old.pt")
    args = argparse.Namespace(
        encoder_attention_heads=4,
        layer_norm_first=False,
        normalize=False,
        conv_feature_layers="[(32,10,5)] + [(32,3,2)] * 4 + [(32,2,2)] * 2",
    )
    torch.save(
        {"args": args, "model": _to_fairseq(ref.state_dict(), "group_norm")}, path
    )
    with pytest.raises(RuntimeError, match="trust_pickle"):
        load_hubert(path)  # the default: weights_only=True only
    model, normalize, desc = load_hubert(path, trust_pickle=True)
    assert normalize is False and desc.startswith("fairseq")
    wav = torch.from_numpy(tone(0.3))[None]
    with torch.no_grad():
        torch.testing.assert_close(
            model.extract_features(wav)[0][-1], ref.extract_features(wav)[0][-1]
        )
