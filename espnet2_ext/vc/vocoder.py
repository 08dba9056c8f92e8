"""Log-mel -> waveform for the VC model's output.

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

A neural vocoder (HiFi-GAN) is not implemented here: :func:`build_vocoder` with a
checkpoint raises ``NotImplementedError`` saying what it needs.
"""

from typing import Any, Dict, Optional, Union

import librosa
import numpy as np
import torch
from typeguard import typechecked

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


def build_vocoder(
    vocoder_file: Optional[str] = None,
    feats_extract_conf: Optional[Dict[str, Any]] = None,
    n_iter: int = 32,
) -> GriffinLimVocoder:
    """The VC vocoder: Griffin-Lim without a checkpoint.

    Args:
        vocoder_file: a neural vocoder checkpoint: not supported yet.
        feats_extract_conf: the TTS experiment's ``feats_extract_conf`` (default: the
            VC recipe's fbank).
        n_iter: Griffin-Lim iterations.
    """
    if vocoder_file is not None:
        raise NotImplementedError(
            f"neural vocoder {vocoder_file!r}: not implemented. A HiFi-GAN needs a "
            "generator trained on exactly this model's features (fs 16000, n_fft 1024, "
            "hop 320, 80 mels, fmin 80, fmax 7600, log10 magnitude mel from ESPnet's "
            "fbank, denormalised), e.g. a kan-bayashi/ParallelWaveGAN 'hifigan' "
            "checkpoint (.pkl + config.yml; ESPnet's Text2Speech loads it through the "
            "'parallel_wavegan' package, not installed here) or the generator weights "
            "of espnet2.gan_tts.hifigan.HiFiGANGenerator with its constructor "
            "arguments. Use Griffin-Lim (no vocoder_file) meanwhile."
        )
    conf = dict(VC_FBANK, **(feats_extract_conf or {}))
    return GriffinLimVocoder.from_feats_extract_conf(conf, n_iter=n_iter)
