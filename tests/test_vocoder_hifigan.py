"""HiFi-GAN as the VC vocoder (``espnet2_ext.vc.vocoder.build_vocoder`` with a
checkpoint): a small random ESPnet ``HiFiGANGenerator`` (upsampling 320 = the VC
hop) saved as a kan-bayashi/ParallelWaveGAN training (``checkpoint-*.pkl`` +
``config.yml``, weight norm) and as an ESPnet GAN-TTS experiment (``.pth`` with
``tts.generator.`` keys + ``config.yaml``), loaded back."""

import numpy as np
import pytest
import torch
import yaml

from espnet2_ext.vc.vocoder import VC_FBANK, HiFiGANVocoder, build_vocoder

GEN = dict(
    in_channels=80,
    out_channels=1,
    channels=32,
    kernel_size=7,
    upsample_scales=[5, 4, 4, 4],
    upsample_kernel_sizes=[10, 8, 8, 8],
    resblock_kernel_sizes=[3],
    resblock_dilations=[[1, 3]],
)
PWG_FEATS = dict(
    sampling_rate=16000,
    fft_size=1024,
    hop_size=320,
    win_length=None,
    window="hann",
    num_mels=80,
    fmin=80,
    fmax=7600,
    format="npy",
)
T = 7

# ESPnet's generator uses torch's old weight_norm (as ParallelWaveGAN checkpoints)
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*weight_norm.* is deprecated:FutureWarning"
)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _generator(**kw):
    from espnet2_ext.compat import HiFiGANGenerator

    torch.manual_seed(0)
    gen = HiFiGANGenerator(**dict(GEN, **kw))
    # visible weights (the init is N(0, 0.01)): biases too
    with torch.no_grad():
        for p in gen.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return gen.eval()


def _reference(gen, mel):
    """The generator run directly on the same input."""
    with torch.no_grad():
        return gen(mel.t().unsqueeze(0)).reshape(-1)


def _mel(seed=1):
    return torch.randn(T, 80, generator=torch.Generator().manual_seed(seed)) - 2.0


def _save_pwg(d, gen, **feats):
    d.mkdir(parents=True, exist_ok=True)
    sd = gen.state_dict()
    assert any(k.endswith(".weight_g") for k in sd)  # PWG trains with weight norm
    ckpt = {
        "model": {"generator": sd, "discriminator": {}},
        "optimizer": {},
        "steps": 1000,
        "epochs": 1,
    }
    path = d / "checkpoint-1000steps.pkl"
    torch.save(ckpt, path)
    cfg = dict(
        PWG_FEATS,
        generator_type="HiFiGANGenerator",
        generator_params=dict(GEN, use_weight_norm=True, use_causal_conv=False),
    )
    cfg.update(feats)
    (d / "config.yml").write_text(yaml.safe_dump(cfg))
    return path


def _save_espnet(d, gen, **feats):
    d.mkdir(parents=True, exist_ok=True)
    sd = {f"tts.generator.{k}": v for k, v in gen.state_dict().items()}
    path = d / "train.total_count.ave.pth"
    torch.save(sd, path)
    cfg = dict(
        tts="hifigan",
        tts_conf=dict(generator_params=dict(GEN), sampling_rate=16000),
        feats_extract="fbank",
        feats_extract_conf=dict(
            dict(fs=16000, n_fft=1024, hop_length=320, n_mels=80, fmin=80, fmax=7600),
            **feats,
        ),
        normalize=None,
    )
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    return path


def test_pwg_checkpoint(tmp_path):
    gen = _generator()
    path = _save_pwg(tmp_path / "pwg", gen)
    voc = build_vocoder(str(path), feats_extract_conf=dict(VC_FBANK))
    assert isinstance(voc, HiFiGANVocoder)
    assert voc.fs == 16000 and voc.hop_length == 320
    mel = _mel()
    wav = voc(mel)
    assert wav.dtype == torch.float32 and wav.shape == (T * 320,)
    ref = _reference(gen, mel)
    assert float(ref.abs().max()) > 1e-3  # not a trivially silent generator
    torch.testing.assert_close(wav, ref, rtol=1e-4, atol=1e-5)
    # numpy input, length cut / padded like Griffin-Lim
    torch.testing.assert_close(voc(mel.numpy()), wav)
    assert voc(mel, length=1000).shape == (1000,)
    long = voc(mel, length=T * 320 + 50)
    assert long.shape == (T * 320 + 50,) and float(long[-50:].abs().max()) == 0.0
    assert voc(torch.zeros(0, 80)).shape == (0,)
    with pytest.raises(ValueError, match=r"expected a log-mel \(T, 80\)"):
        voc(torch.zeros(T, 40))
    # the stats file of a PWG recipe: the denormalised mel is normalised with it
    mean, scale = np.linspace(-3, -1, 80), np.linspace(0.5, 2, 80)
    np.save(tmp_path / "pwg/stats.npy", np.stack([mean, scale]))
    voc2 = build_vocoder(path, vocoder_config=tmp_path / "pwg/config.yml")
    normed = (mel - torch.tensor(mean, dtype=torch.float32)) / torch.tensor(
        scale, dtype=torch.float32
    )
    torch.testing.assert_close(voc2(mel), _reference(gen, normed), rtol=1e-4, atol=1e-5)


def test_espnet_checkpoint(tmp_path):
    gen = _generator()
    path = _save_espnet(tmp_path / "exp", gen)
    voc = build_vocoder(path)  # config.yaml next to it
    mel = _mel(2)
    wav = voc(mel)
    assert wav.shape == (T * 320,) and voc.fs == 16000
    torch.testing.assert_close(wav, _reference(gen, mel), rtol=1e-4, atol=1e-5)
    # a generator saved without weight norm loads too
    plain = _generator(use_weight_norm=False)
    path2 = _save_espnet(tmp_path / "exp2", plain)
    torch.testing.assert_close(
        build_vocoder(path2)(mel), _reference(plain, mel), rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize(
    "form, change, message",
    [
        ("pwg", dict(hop_size=256), "hop_length 256 (the VC model's: 320)"),
        ("pwg", dict(sampling_rate=22050), "fs 22050 (the VC model's: 16000)"),
        ("pwg", dict(num_mels=64), "n_mels 64 (the VC model's: 80)"),
        ("pwg", dict(fmax=8000), "fmax 8000 (the VC model's: 7600)"),
        ("espnet", dict(hop_length=256), "hop_length 256 (the VC model's: 320)"),
        ("espnet", dict(n_fft=2048), "n_fft 2048 (the VC model's: 1024)"),
    ],
)
def test_feature_mismatch(tmp_path, form, change, message):
    save = _save_pwg if form == "pwg" else _save_espnet
    path = save(tmp_path / form, _generator(), **change)
    with pytest.raises(ValueError, match="does not fit the VC model's features") as e:
        build_vocoder(path)
    assert message in str(e.value)


def test_generator_mismatch(tmp_path):
    path = _save_pwg(tmp_path / "pwg", _generator())
    # the VC model with another hop / rate / mel count than the vocoder
    with pytest.raises(ValueError) as e:
        build_vocoder(path, feats_extract_conf=dict(hop_length=256))
    assert "hop_length 320 (the VC model's: 256)" in str(e.value)
    assert "upsample_scales [5, 4, 4, 4]) = 320 (the VC model's hop_length: 256)" in (
        str(e.value)
    )
    with pytest.raises(ValueError, match=r"fs 16000 \(the VC model's: 22050\)"):
        build_vocoder(path, feats_extract_conf=dict(fs=22050))
    with pytest.raises(ValueError, match=r"generator in_channels 80 .*n_mels: 64"):
        build_vocoder(path, feats_extract_conf=dict(n_mels=64))
    # a generator whose upsampling is not its config's hop
    gen = _generator(upsample_scales=[4, 4, 4, 4], upsample_kernel_sizes=[8, 8, 8, 8])
    p2 = _save_espnet(tmp_path / "e", gen)
    cfg = yaml.safe_load((tmp_path / "e/config.yaml").read_text())
    cfg["tts_conf"]["generator_params"].update(
        upsample_scales=[4, 4, 4, 4], upsample_kernel_sizes=[8, 8, 8, 8]
    )
    (tmp_path / "e/config.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(ValueError, match=r"= 256 \(the VC model's hop_length: 320\)"):
        build_vocoder(p2)
    # weights of another generator than the config's
    cfg["tts_conf"]["generator_params"] = dict(GEN, channels=64)
    (tmp_path / "e/config.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(ValueError, match="does not fit the generator of its config"):
        build_vocoder(p2)


def test_missing_files_and_other_models(tmp_path):
    path = _save_pwg(tmp_path / "pwg", _generator())
    (tmp_path / "pwg/config.yml").rename(tmp_path / "elsewhere.yml")
    with pytest.raises(FileNotFoundError, match="no config for the vocoder") as e:
        build_vocoder(path)
    assert "vocoder_config" in str(e.value)
    with pytest.raises(FileNotFoundError, match="vocoder config not found"):
        build_vocoder(path, vocoder_config=tmp_path / "nope.yml")
    with pytest.raises(FileNotFoundError, match="vocoder checkpoint not found"):
        build_vocoder(tmp_path / "nope.pkl")
    voc = build_vocoder(path, vocoder_config=tmp_path / "elsewhere.yml")
    assert voc.hop_length == 320
    cfg = yaml.safe_load((tmp_path / "elsewhere.yml").read_text())
    for change, message in (
        (dict(generator_type="MelGANGenerator"), "only HiFiGANGenerator"),
        (
            dict(generator_params=dict(GEN, use_causal_conv=True)),
            "no causal variant",
        ),
    ):
        (tmp_path / "other.yml").write_text(yaml.safe_dump(dict(cfg, **change)))
        with pytest.raises(ValueError, match=message):
            build_vocoder(path, vocoder_config=tmp_path / "other.yml")
    (tmp_path / "other.yml").write_text(yaml.safe_dump(dict(fs=16000)))
    with pytest.raises(ValueError, match="neither a ParallelWaveGAN config"):
        build_vocoder(path, vocoder_config=tmp_path / "other.yml")
    with pytest.raises(ValueError, match="without vocoder_file"):
        build_vocoder(vocoder_config=tmp_path / "other.yml")


def test_convert_cli_options():
    from espnet2_ext.bin.convert import get_parser as convert_parser
    from espnet2_ext.bin.vc_convert import get_parser as vc_convert_parser

    for parser in (convert_parser(), vc_convert_parser()):
        text = parser.format_help()
        assert "--vocoder_file" in text and "--vocoder_config" in text
    args = convert_parser().parse_args(
        ["--model", "m", "--source", "s.wav", "--target-speaker", "r.wav"]
        + ["--out", "o.wav", "--vocoder_file", "v.pkl"]
    )
    assert args.vocoder_file == "v.pkl" and args.vocoder_config is None
