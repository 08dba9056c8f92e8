"""Log-mel -> waveform for the VC model's output (and the choice of the vocoder:
:func:`build_vocoder`, WORLD for a model of the WORLD envelope).

The default is Griffin-Lim (no training): the log-mel of ESPnet's ``fbank``
(``LogMelFbank``: magnitude STFT, librosa Slaney mel basis, ``log10``) is turned back
into a linear magnitude spectrogram with the pseudo-inverse of the same mel basis, and
the phase is estimated by 32 iterations of fast Griffin-Lim (``librosa.griffinlim``,
momentum 0.99, seeded random initial phase, so the output is deterministic).

The settings must be the ones the mel was computed with; the defaults are the VC
recipe's (fs 16000, n_fft 1024, hop 320, 80 mels, ESPnet's fmin 80 / fmax 7600).
:meth:`GriffinLimVocoder.from_feats_extract_conf` takes them from a TTS experiment's
``feats_extract_conf``. Feed it the *denormalised* mel (``feat_gen_denorm`` of ESPnet's
``Text2Speech`` when the model was trained with ``normalize: global_mvn``).

A neural vocoder: :func:`build_vocoder` with ``vocoder_file`` returns a
:class:`HiFiGANVocoder`, ESPnet's own ``espnet2.gan_tts.hifigan.HiFiGANGenerator``
loaded from one of two checkpoint forms (see :func:`load_hifigan`):

* a kan-bayashi/ParallelWaveGAN ``hifigan`` training: ``checkpoint-XXXsteps.pkl``
  (the generator's weights under ``["model"]["generator"]``) and its ``config.yml``
  (``generator_type: HiFiGANGenerator``, ``generator_params``, ``sampling_rate``,
  ``hop_size``, ``fft_size``, ``num_mels``, ``fmin``, ``fmax``);
* an ESPnet GAN-TTS experiment whose ``tts`` has the HiFi-GAN generator as
  ``tts.generator`` (its ``generator_params`` in ``tts_conf``) or, for
  ``tts: joint_text2wav`` with ``vocoder_type: hifigan_generator``, as
  ``tts.generator.vocoder`` (``tts_conf.vocoder_params``): a ``.pth`` state dict and
  the experiment's ``config.yaml`` (``tts_conf.sampling_rate``, ``feats_extract_conf``).

The generator must have been trained on the features this VC model predicts: ESPnet's
``fbank`` log10-mel (the same magnitude STFT, Slaney mel basis and ``log10`` of
``max(1e-10, mel)`` as ParallelWaveGAN's ``logmelfilterbank``) at the same sampling
rate, FFT size, hop, window, number of mels and mel range; every one of these that
the checkpoint's config states is compared with the VC model's ``feats_extract_conf``
and a difference is a ``ValueError`` naming both values (the generator's upsampling,
the product of its ``upsample_scales``, must be the hop). Its input is always the
*denormalised* log10-mel (what :class:`GriffinLimVocoder` takes): a generator trained
on normalised features carries the statistics to normalise it with, and they are
applied before the generator, as ESPnet's ``Text2Speech`` does --
ParallelWaveGAN's ``stats.h5`` / ``stats.npy`` next to the checkpoint (mean and scale
per mel bin, what its recipes normalise with; a ``.h5`` file needs ``h5py``), or the
``normalize.mean`` / ``normalize.std`` of an ESPnet experiment with
``normalize: global_mvn``. A ParallelWaveGAN generator trained on un-normalised
features has no stats file: then the denormalised log10-mel goes in as it is. (The
statistics file is the only record ParallelWaveGAN keeps of the normalisation: a
generator trained on normalised features whose ``stats`` file went missing cannot be
told from one trained without, and gives noise.)
"""

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union

import librosa
import numpy as np
import torch
import yaml
from typeguard import typechecked

if TYPE_CHECKING:  # pragma: no cover
    from espnet2_ext.vc.world import WorldVocoder

EPS = 1e-10

#: ESPnet ``LogMelFbank`` settings of the VC recipe (``feats_extract_conf``).
VC_FBANK = dict(
    fs=16000,
    n_fft=1024,
    hop_length=320,
    win_length=None,
    window="hann",
    n_mels=80,
    fmin=80,
    fmax=7600,
    log_base=10.0,
)


def _as_numpy(mel: Union[torch.Tensor, np.ndarray]) -> np.ndarray:
    if isinstance(mel, torch.Tensor):
        mel = mel.detach().cpu().float().numpy()
    return np.asarray(mel, dtype=np.float64)


class GriffinLimVocoder:
    """Griffin-Lim inversion of ESPnet ``fbank`` log-mels.

    Args:
        fs: sample rate (Hz).
        n_fft: FFT size of the STFT.
        hop_length: STFT hop (samples); one mel frame per hop.
        win_length: window length (None: n_fft).
        window: window name (scipy / librosa).
        n_mels: mel bins.
        fmin, fmax: mel range in Hz (None: 0 / fs / 2, as ESPnet's ``LogMel``).
        log_base: base of the log (10 for ESPnet's TTS fbank; None: natural log).
        n_iter: Griffin-Lim iterations.
        seed: seed of the random initial phase.
    """

    @typechecked
    def __init__(
        self,
        fs: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 320,
        win_length: Optional[int] = None,
        window: str = "hann",
        n_mels: int = 80,
        fmin: Optional[float] = 80,
        fmax: Optional[float] = 7600,
        log_base: Optional[float] = 10.0,
        n_iter: int = 32,
        seed: int = 0,
    ):
        self.fs, self.n_fft, self.hop_length = fs, n_fft, hop_length
        self.win_length, self.window = win_length, window
        self.n_mels, self.log_base = n_mels, log_base
        self.n_iter, self.seed = n_iter, seed
        basis = librosa.filters.mel(
            sr=fs,
            n_fft=n_fft,
            n_mels=n_mels,
            fmin=0.0 if fmin is None else fmin,
            fmax=fs / 2 if fmax is None else fmax,
        )  # (n_mels, n_fft // 2 + 1), as ESPnet's LogMel builds it
        self.inv_basis = np.linalg.pinv(basis)  # (n_fft // 2 + 1, n_mels)

    @classmethod
    def from_feats_extract_conf(
        cls, conf: Dict[str, Any], n_iter: int = 32
    ) -> "GriffinLimVocoder":
        """Build from a TTS experiment's ``feats_extract_conf`` (fbank); missing keys
        take ESPnet ``LogMelFbank``'s defaults."""
        keys = ("fs", "n_fft", "hop_length", "win_length", "window", "n_mels")
        kwargs = {k: conf[k] for k in keys if k in conf}
        kwargs.update(
            fmin=conf.get("fmin", 80),
            fmax=conf.get("fmax", 7600),
            log_base=conf.get("log_base", 10.0),
        )
        if isinstance(kwargs.get("fs"), str):  # ESPnet accepts "16k"
            import humanfriendly

            kwargs["fs"] = int(humanfriendly.parse_size(kwargs["fs"]))
        return cls(n_iter=n_iter, **kwargs)

    def linear(self, mel: Union[torch.Tensor, np.ndarray]) -> np.ndarray:
        """Log-mel (T, n_mels) -> linear magnitude (n_fft // 2 + 1, T), >= 1e-10."""
        lm = _as_numpy(mel)
        if lm.ndim != 2 or lm.shape[1] != self.n_mels:
            raise ValueError(
                f"expected a log-mel (T, {self.n_mels}), got shape {lm.shape}"
            )
        mag = np.exp(lm) if self.log_base is None else np.power(self.log_base, lm)
        return np.maximum(EPS, self.inv_basis @ mag.T)

    def __call__(
        self, mel: Union[torch.Tensor, np.ndarray], length: Optional[int] = None
    ) -> torch.Tensor:
        """Log-mel (T, n_mels) -> waveform (N,) float32.

        N = ``length`` if given, else T * hop_length (the duration the T frames
        describe: one 20 ms unit per frame at 16 kHz with hop 320).
        """
        spec = self.linear(mel)
        T = spec.shape[1]
        n = T * self.hop_length if length is None else length
        if T == 0:
            return torch.zeros(n)
        # the longest signal whose centred STFT has exactly T frames; then cut/pad
        wav = librosa.griffinlim(
            spec,
            n_iter=self.n_iter,
            hop_length=self.hop_length,
            win_length=self.win_length,
            n_fft=self.n_fft,
            window=self.window,
            center=True,
            length=T * self.hop_length - 1,
            rng=self.seed,
        )
        wav = np.pad(wav[:n], (0, max(0, n - wav.shape[0])))
        return torch.from_numpy(wav.astype(np.float32))


def griffin_lim(
    mel: Union[torch.Tensor, np.ndarray],
    length: Optional[int] = None,
    **kwargs: Any,
) -> torch.Tensor:
    """Log-mel (T, 80) -> waveform (T * hop_length,) with :class:`GriffinLimVocoder`
    (keyword arguments: its settings, default the VC recipe's fbank, 32 iterations)."""
    return GriffinLimVocoder(**kwargs)(mel, length=length)


# ------------------------------------------------------------------------ HiFi-GAN
PathLike = Union[str, Path]

#: what ParallelWaveGAN's ``logmelfilterbank`` computes, in ESPnet's names
_PWG_FEATS = dict(
    fs="sampling_rate",
    hop_length="hop_size",
    n_fft="fft_size",
    win_length="win_length",
    window="window",
    n_mels="num_mels",
    fmin="fmin",
    fmax="fmax",
)
#: ESPnet ``LogMelFbank``'s defaults, for keys an ESPnet config leaves out
_FBANK_DEFAULTS = dict(VC_FBANK, hop_length=256)
_CONFIG_NAMES = ("config.yml", "config.yaml")
_PWG_STATS_NAMES = ("stats.h5", "stats.npy")


def _parse_fs(fs: Any) -> Any:
    if isinstance(fs, str):  # ESPnet accepts "16k"
        import humanfriendly

        return int(humanfriendly.parse_size(fs))
    return fs


def _effective_feats(conf: Dict[str, Any]) -> Dict[str, Any]:
    """Comparable feature settings: fs as a number, the ``None`` defaults resolved
    (fmin 0, fmax fs/2, win_length n_fft), as ESPnet's ``LogMelFbank`` and
    ParallelWaveGAN's ``logmelfilterbank`` resolve them."""
    c = dict(conf)
    if "fs" in c:
        c["fs"] = _parse_fs(c["fs"])
    if "fmin" in c and c["fmin"] is None:
        c["fmin"] = 0
    if "fmax" in c and c["fmax"] is None and c.get("fs") is not None:
        c["fmax"] = c["fs"] / 2
    if "win_length" in c and c["win_length"] is None and c.get("n_fft") is not None:
        c["win_length"] = c["n_fft"]
    return c


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML, plus the ``!!python/tuple`` that ``yaml.dump`` writes for tuples
    (read as a list; nothing else of Python's is constructed)."""


_YamlLoader.add_constructor(
    "tag:yaml.org,2002:python/tuple",
    lambda loader, node: loader.construct_sequence(node),
)


def _read_config(path: Path) -> Dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as f:
            d = yaml.load(f, Loader=_YamlLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as e:
        raise ValueError(f"vocoder config {path} is not valid YAML: {e}") from e
    if not isinstance(d, dict):
        raise ValueError(f"vocoder config {path} is not a YAML mapping")
    return d


def _find_config(vocoder_file: Path, vocoder_config: Optional[PathLike]) -> Path:
    if vocoder_config is not None:
        p = Path(vocoder_config)
        if not p.is_file():
            raise FileNotFoundError(f"vocoder config not found: {p}")
        return p
    for name in _CONFIG_NAMES:
        p = vocoder_file.parent / name
        if p.is_file():
            return p
    raise FileNotFoundError(
        f"no config for the vocoder {vocoder_file}: looked for "
        f"{' and '.join(str(vocoder_file.parent / n) for n in _CONFIG_NAMES)}; give "
        "vocoder_config (--vocoder_config): ParallelWaveGAN's config.yml or the ESPnet "
        "experiment's config.yaml"
    )


def _load_checkpoint(path: Path, trust_pickle: bool) -> Any:
    import pickle

    try:
        return torch.load(path, map_location="cpu", weights_only=not trust_pickle)
    except pickle.UnpicklingError as e:
        raise ValueError(
            f"cannot read the vocoder checkpoint {path} safely (weights only): {e}. "
            "If you trust the file, allow pickled code (trust_pickle / "
            "--trust_remote_pickle)"
        ) from e
    except (RuntimeError, EOFError, OSError) as e:
        raise ValueError(f"cannot read the vocoder checkpoint {path}: {e}") from e


def _is_state_dict(d: Any) -> bool:
    return isinstance(d, dict) and any(isinstance(v, torch.Tensor) for v in d.values())


def _load_stats_file(path: Path) -> Tuple[np.ndarray, np.ndarray]:
    """ParallelWaveGAN's ``stats.h5`` (datasets ``mean``, ``scale``) or ``stats.npy``
    (rows mean, scale)."""
    if path.suffix == ".h5":
        try:
            import h5py
        except ImportError as e:
            raise ValueError(
                f"{path}: the vocoder's feature statistics are an HDF5 file, which "
                "needs h5py (pip install h5py), or convert it once to stats.npy: "
                "numpy.save('stats.npy', numpy.stack([mean, scale]))"
            ) from e
        with h5py.File(path, "r") as f:
            return np.asarray(f["mean"]).reshape(-1), np.asarray(f["scale"]).reshape(-1)
    arr = np.load(path, allow_pickle=False)
    return np.asarray(arr[0]).reshape(-1), np.asarray(arr[1]).reshape(-1)


def _generator_state(
    sd: Dict[str, torch.Tensor], prefix: str, what: str
) -> Dict[str, torch.Tensor]:
    """The generator's entries of ``sd`` without ``prefix``; weight norm kept as
    ``weight_g`` / ``weight_v`` (the ``parametrizations`` form of
    ``torch.nn.utils.parametrizations.weight_norm`` renamed to them)."""
    out = {}
    for k, v in sd.items():
        if not k.startswith(prefix):
            continue
        k = k[len(prefix) :]
        k = k.replace(".parametrizations.weight.original0", ".weight_g")
        k = k.replace(".parametrizations.weight.original1", ".weight_v")
        out[k] = v
    if not out:
        raise ValueError(
            f"{what}: no generator weights (no key starts with {prefix!r})"
        )
    return out


class HiFiGANVocoder:
    """A HiFi-GAN generator (ESPnet's ``HiFiGANGenerator``, weight norm removed, eval
    mode) as a vocoder of the VC model's log10-mel; made by :func:`load_hifigan`.

    Args:
        generator: the generator.
        fs: its sampling rate (Hz).
        hop_length: samples per mel frame (= its upsampling factor).
        n_mels: mel bins it takes.
        mean, scale: per-bin statistics the generator's input was normalised with
            (``(mel - mean) / scale``), or None: the log10-mel as it is.
        device: where the generator runs (``cpu``, ``cuda``, ...).
    """

    def __init__(
        self,
        generator: torch.nn.Module,
        fs: int,
        hop_length: int,
        n_mels: int,
        mean: Optional[np.ndarray] = None,
        scale: Optional[np.ndarray] = None,
        device: str = "cpu",
    ):
        self.generator = generator.to(device).eval()
        self.fs, self.hop_length, self.n_mels = int(fs), int(hop_length), int(n_mels)
        self.device = device
        self.mean = self.scale = None
        if mean is not None:
            self.mean = torch.as_tensor(np.asarray(mean, np.float32), device=device)
            self.scale = torch.as_tensor(np.asarray(scale, np.float32), device=device)

    @torch.no_grad()
    def __call__(
        self, mel: Union[torch.Tensor, np.ndarray], length: Optional[int] = None
    ) -> torch.Tensor:
        """Denormalised log10-mel (T, n_mels) -> waveform (N,) float32 on the CPU.

        N = ``length`` if given, else T * hop_length (cut or zero-padded to it).
        """
        if isinstance(mel, np.ndarray):
            mel = torch.from_numpy(mel)
        if mel.ndim != 2 or mel.shape[1] != self.n_mels:
            raise ValueError(
                f"expected a log-mel (T, {self.n_mels}), got shape {tuple(mel.shape)}"
            )
        T = mel.shape[0]
        n = T * self.hop_length if length is None else length
        if T == 0:
            return torch.zeros(n)
        c = mel.detach().to(self.device, torch.float32)
        if self.mean is not None:
            c = (c - self.mean) / self.scale
        wav = self.generator(c.t().unsqueeze(0)).reshape(-1).float().cpu()
        if wav.shape[0] >= n:
            return wav[:n].contiguous()
        return torch.nn.functional.pad(wav, (0, n - wav.shape[0]))


def _build_generator(
    params: Dict[str, Any], sd: Dict[str, torch.Tensor], what: str
) -> torch.nn.Module:
    """ESPnet's ``HiFiGANGenerator(**params)`` with the weights ``sd`` (weight norm as
    in ``sd``, then removed)."""
    import inspect

    from espnet2_ext.compat import HiFiGANGenerator

    accepted = set(inspect.signature(HiFiGANGenerator.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(
            f"{what}: generator parameters {unknown} are not ESPnet "
            "HiFiGANGenerator's: this generator cannot be built"
        )
    if int(params.get("global_channels", -1) or -1) > 0:
        raise ValueError(
            f"{what}: a generator with global conditioning (global_channels "
            f"{params['global_channels']}) is not supported"
        )
    weight_norm = any(k.endswith(".weight_g") for k in sd)
    kwargs = dict(params, use_weight_norm=weight_norm)
    try:
        with warnings.catch_warnings():  # ESPnet's generator uses the old weight_norm
            warnings.filterwarnings(
                "ignore",
                message=".*weight_norm.* is deprecated",
                category=FutureWarning,
            )
            gen = HiFiGANGenerator(**kwargs)
    except (AssertionError, TypeError, ValueError) as e:
        raise ValueError(
            f"{what}: cannot build HiFiGANGenerator from {params}: "
            f"{type(e).__name__}: {e}"
        ) from e
    expected = gen.state_dict()
    sd = dict(sd)
    if params.get("bias", True) is False:
        # ParallelWaveGAN's bias=False also leaves out the biases of the input,
        # upsampling and output convolutions, which ESPnet's generator always has
        for k in expected:
            if k not in sd and k.endswith(".bias") and not k.startswith("blocks."):
                sd[k] = torch.zeros_like(expected[k])
    missing = sorted(set(expected) - set(sd))
    unexpected = sorted(set(sd) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"{what}: the checkpoint does not fit the generator of its config: "
            f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}, unexpected "
            f"{unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}"
        )
    try:
        gen.load_state_dict(sd)
    except RuntimeError as e:  # shape mismatches
        raise ValueError(
            f"{what}: the checkpoint does not fit the generator of its config: {e}"
        ) from e
    if weight_norm:
        gen.remove_weight_norm()
    return gen.eval()


def _pwg_generator(
    cfg: Dict[str, Any], ckpt: Any, ckpt_path: Path, what: str
) -> Tuple[Dict[str, Any], Dict[str, torch.Tensor], Dict[str, Any], Optional[tuple]]:
    """A ParallelWaveGAN training: generator params, weights, features, stats."""
    gtype = cfg.get("generator_type", "ParallelWaveGANGenerator")
    if gtype != "HiFiGANGenerator":
        raise ValueError(
            f"{what}: generator_type is {gtype!r}; only HiFiGANGenerator is supported"
        )
    params = {
        # ParallelWaveGAN's own workaround for its old typo
        k.replace("upsample_kernal_sizes", "upsample_kernel_sizes"): v
        for k, v in (cfg.get("generator_params") or {}).items()
    }
    if params.pop("use_causal_conv", False):
        raise ValueError(
            f"{what}: use_causal_conv is true; ESPnet's HiFiGANGenerator has no "
            "causal variant"
        )
    try:
        sd = ckpt["model"]["generator"]
    except (KeyError, TypeError, IndexError):
        raise ValueError(
            f"{what}: {ckpt_path} has no ['model']['generator'] state dict (not a "
            "ParallelWaveGAN checkpoint)"
        ) from None
    sd = _generator_state(sd, "", what)
    if cfg.get("sampling_rate_for_feats") not in (None, cfg.get("sampling_rate")):
        raise ValueError(
            f"{what}: features at sampling_rate_for_feats "
            f"{cfg['sampling_rate_for_feats']} != sampling_rate "
            f"{cfg.get('sampling_rate')} are not supported"
        )
    feats = {k: cfg[pk] for k, pk in _PWG_FEATS.items() if pk in cfg}
    feats["log_base"] = cfg.get("log_base", 10.0)  # logmelfilterbank's default
    stats = None
    if "mean" in sd and "scale" in sd:  # a generator saved after register_stats
        stats = (sd.pop("mean").numpy(), sd.pop("scale").numpy(), "its mean/scale")
    else:
        names = _PWG_STATS_NAMES
        if cfg.get("format") == "npy":
            names = names[::-1]
        for name in names:
            p = ckpt_path.parent / name
            if p.is_file():
                mean, scale = _load_stats_file(p)
                stats = (mean, scale, str(p))
                break
    return params, sd, feats, stats


def _espnet_generator(
    cfg: Dict[str, Any], ckpt: Any, ckpt_path: Path, what: str
) -> Tuple[Dict[str, Any], Dict[str, torch.Tensor], Dict[str, Any], Optional[tuple]]:
    """An ESPnet GAN-TTS experiment: generator params, weights, features, stats."""
    if isinstance(ckpt, dict) and not _is_state_dict(ckpt) and "model" in ckpt:
        ckpt = ckpt["model"]  # ESPnet's checkpoint.pth (model + optimizers + ...)
    if not _is_state_dict(ckpt):
        raise ValueError(f"{what}: {ckpt_path} is not a state dict")
    tts = cfg.get("tts")
    tts_conf = cfg.get("tts_conf") or {}
    feats_name = cfg.get("feats_extract")
    if feats_name not in (None, "fbank"):
        raise ValueError(
            f"{what}: feats_extract is {feats_name!r}; the VC model's mel is ESPnet's "
            "fbank"
        )
    feats = dict(_FBANK_DEFAULTS, **(cfg.get("feats_extract_conf") or {}))
    if tts == "joint_text2wav":
        vtype = tts_conf.get("vocoder_type", "hifigan_generator")
        if vtype != "hifigan_generator":
            raise ValueError(
                f"{what}: vocoder_type is {vtype!r}; only hifigan_generator is "
                "supported"
            )
        params = tts_conf.get("vocoder_params")
        if params is None:
            import inspect

            from espnet2_ext.compat import JointText2Wav

            sig = inspect.signature(JointText2Wav.__init__)
            params = sig.parameters["vocoder_params"].default
        # JointText2Wav gives the vocoder the text2mel's output size: the mel bins
        params = dict(params, in_channels=feats["n_mels"])
        prefix = "tts.generator.vocoder."
    else:
        if "generator_params" not in tts_conf:
            raise ValueError(
                f"{what}: tts is {tts!r} and tts_conf has no generator_params: not a "
                "HiFi-GAN vocoder experiment (tts.generator = HiFiGANGenerator, or "
                "joint_text2wav with vocoder_type hifigan_generator)"
            )
        params = dict(tts_conf["generator_params"])
        prefix = "tts.generator."
    sd = _generator_state(ckpt, prefix, what)
    if "sampling_rate" in tts_conf:
        if not _same(_parse_fs(feats["fs"]), tts_conf["sampling_rate"]):
            raise ValueError(
                f"{what}: tts_conf.sampling_rate {tts_conf['sampling_rate']} != "
                f"feats_extract_conf.fs {feats['fs']}"
            )
        feats["fs"] = tts_conf["sampling_rate"]
    normalize = cfg.get("normalize")
    stats = None
    if normalize == "global_mvn":
        if "normalize.mean" not in ckpt or "normalize.std" not in ckpt:
            raise ValueError(
                f"{what}: normalize is global_mvn but {ckpt_path} has no "
                "normalize.mean / normalize.std"
            )
        nconf = cfg.get("normalize_conf") or {}
        mean = ckpt["normalize.mean"].float().numpy()
        std = ckpt["normalize.std"].float().numpy()
        if not nconf.get("norm_means", True):
            mean = np.zeros_like(mean)
        if not nconf.get("norm_vars", True):
            std = np.ones_like(std)
        stats = (mean, std, "normalize.mean/std (global_mvn)")
    elif normalize is not None:
        raise ValueError(
            f"{what}: normalize is {normalize!r}; only none or global_mvn is supported"
        )
    return params, sd, feats, stats


def load_hifigan(
    vocoder_file: PathLike,
    vocoder_config: Optional[PathLike] = None,
    feats_extract_conf: Optional[Dict[str, Any]] = None,
    device: str = "cpu",
    trust_pickle: bool = False,
) -> HiFiGANVocoder:
    """A HiFi-GAN checkpoint -> :class:`HiFiGANVocoder` for the VC model's mel.

    Args:
        vocoder_file: ParallelWaveGAN's ``checkpoint-XXXsteps.pkl`` or an ESPnet
            GAN-TTS experiment's ``.pth`` (module docstring).
        vocoder_config: its config (default: ``config.yml``, then ``config.yaml``,
            next to ``vocoder_file``); which of the two forms it is follows from it
            (``generator_params`` at the top: ParallelWaveGAN; ``tts_conf``: ESPnet).
        feats_extract_conf: the VC model's ``feats_extract_conf`` (default: the
            recipe's, :data:`VC_FBANK`); the vocoder must match it.
        device: where the generator runs.
        trust_pickle: also read checkpoints that are not plain weights (runs code
            stored in them); by default ``torch.load(weights_only=True)``.

    Raises:
        FileNotFoundError: no checkpoint, or no config.
        ValueError: a checkpoint or config that is not a HiFi-GAN of a supported form,
            or whose features differ from the VC model's (both values named).
    """
    path = Path(vocoder_file)
    if not path.is_file():
        raise FileNotFoundError(f"vocoder checkpoint not found: {path}")
    cfg_path = _find_config(path, vocoder_config)
    cfg = _read_config(cfg_path)
    what = f"vocoder {path} (config {cfg_path})"
    ckpt = _load_checkpoint(path, trust_pickle)
    if "generator_params" in cfg:
        params, sd, feats, stats = _pwg_generator(cfg, ckpt, path, what)
    elif "tts_conf" in cfg or "tts" in cfg:
        params, sd, feats, stats = _espnet_generator(cfg, ckpt, path, what)
    else:
        raise ValueError(
            f"{what}: neither a ParallelWaveGAN config (generator_params) nor an "
            "ESPnet experiment's config (tts, tts_conf)"
        )

    # the vocoder's features against the VC model's
    vc = _effective_feats(dict(VC_FBANK, **(feats_extract_conf or {})))
    voc = _effective_feats(feats)
    gen_defaults = dict(in_channels=80, out_channels=1, upsample_scales=[8, 8, 2, 2])
    gp = dict(gen_defaults, **params)
    upsampling = int(np.prod(gp["upsample_scales"]))
    problems = []
    for key in ("fs", "hop_length", "n_fft", "win_length", "window", "n_mels"):
        if voc.get(key) is not None and not _same(voc[key], vc.get(key)):
            problems.append(f"{key} {voc[key]} (the VC model's: {vc.get(key)})")
    for key in ("fmin", "fmax", "log_base"):
        if key in voc and not _same(voc[key], vc.get(key)):
            problems.append(f"{key} {voc[key]} (the VC model's: {vc.get(key)})")
    if upsampling != vc["hop_length"]:
        problems.append(
            f"upsampling prod(upsample_scales {list(gp['upsample_scales'])}) = "
            f"{upsampling} (the VC model's hop_length: {vc['hop_length']})"
        )
    if gp["in_channels"] != vc["n_mels"]:
        problems.append(
            f"generator in_channels {gp['in_channels']} (the VC model's n_mels: "
            f"{vc['n_mels']})"
        )
    if problems:
        raise ValueError(
            f"{what} does not fit the VC model's features: " + "; ".join(problems)
        )
    if gp["out_channels"] != 1:
        raise ValueError(
            f"{what}: out_channels {gp['out_channels']}: a multi-band generator "
            "(PQMF synthesis) is not supported"
        )
    gen = _build_generator(params, sd, what)
    mean = scale = None
    if stats is not None:
        mean, scale, source = stats
        if mean.shape != (vc["n_mels"],) or scale.shape != (vc["n_mels"],):
            raise ValueError(
                f"{what}: feature statistics ({source}) of shape {mean.shape} / "
                f"{scale.shape}, not ({vc['n_mels']},)"
            )
        logging.getLogger(__name__).info("vocoder input normalised with %s", source)
    return HiFiGANVocoder(
        gen,
        fs=int(vc["fs"]),
        hop_length=upsampling,
        n_mels=int(vc["n_mels"]),
        mean=mean,
        scale=scale,
        device=device,
    )


VOCODERS = ("world", "griffin_lim", "hifigan")


def vocoder_kind(feats_extract: Optional[str], vocoder_file: Any = None) -> str:
    """The vocoder a VC model's features take: ``world`` for ``feats_extract:
    world`` (coded WORLD envelope), else ``hifigan`` with a checkpoint and
    ``griffin_lim`` without (``fbank`` log-mel).

    Raises:
        ValueError: a HiFi-GAN checkpoint for a WORLD model, or features no vocoder
            here takes.
    """
    if feats_extract == "world":
        if vocoder_file is not None:
            raise ValueError(
                "the model predicts the WORLD envelope (feats_extract: world): it is "
                "synthesised by WORLD, not by a HiFi-GAN checkpoint"
            )
        return "world"
    if feats_extract not in (None, "fbank"):
        raise ValueError(
            f"feats_extract is {feats_extract!r}: the VC vocoders take ESPnet's "
            "fbank log-mel (Griffin-Lim, HiFi-GAN) or the WORLD envelope (world)"
        )
    return "griffin_lim" if vocoder_file is None else "hifigan"


def build_vocoder(
    vocoder_file: Optional[PathLike] = None,
    vocoder_config: Optional[PathLike] = None,
    *,
    feats_extract_conf: Optional[Dict[str, Any]] = None,
    n_iter: int = 32,
    device: str = "cpu",
    trust_pickle: bool = False,
    feats_extract: Optional[str] = "fbank",
) -> Union[GriffinLimVocoder, HiFiGANVocoder, "WorldVocoder"]:
    """The VC vocoder for a model's features (:func:`vocoder_kind`): WORLD for
    ``feats_extract: world``, else Griffin-Lim without a checkpoint, HiFi-GAN with.

    The log-mel vocoders are called the same way: ``vocoder(mel, length=None)`` with
    the denormalised log10-mel (T, n_mels) -> (T * hop_length,) float32 waveform;
    ``vocoder.fs``, ``vocoder.hop_length``. The WORLD one
    (:class:`espnet2_ext.vc.world.WorldVocoder`) also takes the source's analysis
    (F0, aperiodicity) and the target's log-F0 statistics.

    Args:
        vocoder_file: a HiFi-GAN checkpoint (:func:`load_hifigan`); None:
            Griffin-Lim.
        vocoder_config: its config (default: ``config.yml`` / ``config.yaml`` next
            to it).
        feats_extract_conf: the TTS experiment's ``feats_extract_conf`` (default: the
            VC recipe's fbank); HiFi-GAN must match it.
        n_iter: Griffin-Lim iterations.
        device: where HiFi-GAN runs (Griffin-Lim runs on the CPU).
        trust_pickle: read a HiFi-GAN checkpoint that is not plain weights.
        feats_extract: the TTS experiment's ``feats_extract`` (``fbank`` or
            ``world``).
    """
    if vocoder_kind(feats_extract, vocoder_file) == "world":
        from espnet2_ext.vc.world import WorldVocoder

        if vocoder_config is not None:
            raise ValueError("vocoder_config given for a WORLD model")
        return WorldVocoder.from_feats_extract_conf(feats_extract_conf or {})
    if vocoder_file is None:
        if vocoder_config is not None:
            raise ValueError("vocoder_config given without vocoder_file")
        conf = dict(VC_FBANK, **(feats_extract_conf or {}))
        return GriffinLimVocoder.from_feats_extract_conf(conf, n_iter=n_iter)
    return load_hifigan(
        vocoder_file,
        vocoder_config,
        feats_extract_conf=feats_extract_conf,
        device=device,
        trust_pickle=trust_pickle,
    )
