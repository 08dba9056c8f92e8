"""WORLD analysis, features and synthesis for unit-to-acoustics voice conversion.

The CPU path of the VC recipe: the model regresses the *coded* WORLD spectral
envelope (``pyworld.code_spectral_envelope``, ``num_coded`` coefficients, 40 by
default) instead of the 80-bin log-mel, and the waveform comes from WORLD with the
source's F0 (its log-F0 mean and variance mapped to the target speaker's) and the
source's aperiodicity. F0 enters only the vocoder, never the model.

Frames: WORLD is analysed every ``frame_period`` = 5 ms and every
``hop_length / (fs * frame_period / 1000)``-th frame (every 4th at 16 kHz and hop 320)
is kept, so that frame ``j`` is centred at sample ``hop_length * j`` (20 ms). That is
the frame grid of ESPnet's centred ``fbank`` (``T = floor(N / hop) + 1`` frames centred
at ``hop * j``), so the model's ``target_offset`` pairs units and WORLD frames exactly
as it pairs units and mel frames. The envelope is computed (CheapTrick) at the kept
frames only; F0 (DIO + StoneMask) at every 5 ms frame, which synthesis uses.

:class:`WorldFeats` is the TTS task's ``feats_extract: world`` (registered by
``espnet2_ext.tasks.tts``); :class:`WorldVocoder` synthesises a predicted envelope with
a source utterance's F0 and aperiodicity. Everything here runs on the CPU in numpy:
WORLD has no batched implementation, so the extractor loops over the utterances of a
batch (never over frames) and caches each utterance's features by its samples, so that
a training run analyses each utterance once.
"""

import hashlib
import warnings
from collections import OrderedDict
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from typeguard import typechecked

from espnet2_ext.compat import AbsFeatsExtract

#: the recipe's WORLD settings (``feats_extract_conf`` of ``feats_extract: world``)
WORLD_DEFAULTS = dict(
    fs=16000,
    hop_length=320,
    frame_period=5.0,
    num_coded=40,
    fft_size=1024,
    f0_floor=71.0,
    f0_ceil=800.0,
    f0_method="dio",
)
F0_METHODS = ("dio", "harvest")


def _pyworld():
    with warnings.catch_warnings():  # pyworld imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        import pyworld

    return pyworld


def _as_f64(x: Union[torch.Tensor, np.ndarray, Sequence[float]]) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64))


def _subsample(fs: int, hop_length: int, frame_period: float) -> int:
    step = hop_length / (fs * frame_period / 1000.0)
    if step < 1 or abs(step - round(step)) > 1e-6:
        raise ValueError(
            f"hop_length {hop_length} at fs {fs} is not a whole number of "
            f"{frame_period} ms WORLD frames"
        )
    return int(round(step))


def world_f0(
    wav: Union[torch.Tensor, np.ndarray],
    fs: int = 16000,
    frame_period: float = 5.0,
    f0_floor: float = 71.0,
    f0_ceil: float = 800.0,
    method: str = "dio",
) -> Tuple[np.ndarray, np.ndarray]:
    """F0 of a waveform every ``frame_period`` ms: DIO refined by StoneMask (fast), or
    Harvest (``method="harvest"``: about 10x slower, more robust on breathy or
    creaky voices, where DIO can sit at ``f0_floor`` or jump octaves).

    Args:
        wav: (N,) samples.

    Returns:
        f0 (T5,) in Hz (0: unvoiced), T5 = floor(N / (fs * frame_period / 1000)) + 1,
        and the frame times (T5,) in seconds (frame i at i * frame_period ms).
    """
    if method not in F0_METHODS:
        raise ValueError(f"F0 method must be one of {F0_METHODS}, got {method!r}")
    pw = _pyworld()
    x = _as_f64(wav).reshape(-1)
    kw = dict(f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=frame_period)
    if method == "harvest":
        return pw.harvest(x, fs, **kw)
    f0, t = pw.dio(x, fs, **kw)
    return pw.stonemask(x, f0, t, fs), t


def world_analysis(
    wav: Union[torch.Tensor, np.ndarray],
    fs: int = 16000,
    hop_length: int = 320,
    frame_period: float = 5.0,
    num_coded: int = 40,
    fft_size: int = 1024,
    f0_floor: float = 71.0,
    f0_ceil: float = 800.0,
    aperiodicity: bool = True,
    f0_method: str = "dio",
) -> Dict[str, np.ndarray]:
    """WORLD analysis of one utterance on the ``hop_length`` grid (module docstring).

    Args:
        wav: (N,) samples at ``fs``.
        aperiodicity: also compute the aperiodicity (D4C) at the 5 ms frames.
        f0_method: ``dio`` | ``harvest`` (:func:`world_f0`).

    Returns:
        ``coded_sp`` (T, num_coded) coded spectral envelope of the kept frames,
        T = floor(N / hop_length) + 1 (frame j centred at hop_length * j);
        ``f0`` (T5,) and ``time`` (T5,) at every ``frame_period``; with
        ``aperiodicity``, ``ap`` (T5, fft_size // 2 + 1).
    """
    pw = _pyworld()
    x = _as_f64(wav).reshape(-1)
    step = _subsample(fs, hop_length, frame_period)
    f0, t = world_f0(x, fs, frame_period, f0_floor, f0_ceil, f0_method)
    f0_k = np.ascontiguousarray(f0[::step])
    t_k = np.ascontiguousarray(t[::step])
    sp = pw.cheaptrick(x, f0_k, t_k, fs, f0_floor=f0_floor, fft_size=fft_size)
    out = dict(
        coded_sp=pw.code_spectral_envelope(sp, fs, num_coded),
        f0=f0,
        time=t,
    )
    if aperiodicity:
        out["ap"] = pw.d4c(x, f0, t, fs, fft_size=fft_size)
    return out


def log_f0_stats(
    f0s: Sequence[Union[np.ndarray, torch.Tensor]],
) -> Tuple[float, float]:
    """Mean and standard deviation of log F0 over the voiced frames of ``f0s``.

    Args:
        f0s: F0 tracks (T_i,) in Hz, 0 where unvoiced.

    Returns:
        (mean, std) of ln F0 (std 0 for a single voiced frame).

    Raises:
        ValueError: no voiced frame at all.
    """
    v = np.concatenate([_as_f64(f).reshape(-1) for f in f0s]) if len(f0s) else []
    v = np.asarray(v)
    v = v[v > 0]
    if v.size == 0:
        raise ValueError("no voiced frame: cannot compute log-F0 statistics")
    lf = np.log(v)
    return float(lf.mean()), float(lf.std())


def map_f0(
    f0: np.ndarray,
    source_stats: Tuple[float, float],
    target_stats: Tuple[float, float],
) -> np.ndarray:
    """Map voiced F0 from the source's log-F0 mean/std to the target's.

    ``exp((ln f0 - mu_s) / sigma_s * sigma_t + mu_t)`` on voiced frames; unvoiced
    frames (0) stay 0. Returns a new (T,) array.
    """
    f0 = _as_f64(f0)
    mu_s, sd_s = source_stats
    mu_t, sd_t = target_stats
    scale = sd_t / sd_s if sd_s > 0 else 1.0
    voiced = f0 > 0
    out = np.zeros_like(f0)
    out[voiced] = np.exp((np.log(f0[voiced]) - mu_s) * scale + mu_t)
    return out


def upsample_frames(x: np.ndarray, step: int, num: int) -> np.ndarray:
    """Linear interpolation of frames on a coarse grid to a ``step`` times finer one.

    Args:
        x: (T, D) frames at times 0, step, 2 step, ... (fine-grid units).
        num: fine frames wanted (frame i at time i); past the last coarse frame the
            last one is held.

    Returns:
        (num, D).
    """
    T = x.shape[0]
    pos = np.arange(num, dtype=np.float64) / step
    lo = np.clip(np.floor(pos).astype(np.int64), 0, T - 1)
    hi = np.clip(lo + 1, 0, T - 1)
    w = np.clip(pos - lo, 0.0, 1.0)[:, None]
    return (1.0 - w) * x[lo] + w * x[hi]


class WorldFeats(AbsFeatsExtract):
    """``feats_extract: world``: waveform -> coded WORLD spectral envelope.

    Args:
        fs: sample rate (Hz).
        hop_length: samples per output frame (320: one frame per 50 Hz unit).
        frame_period: WORLD analysis period in ms (every ``hop_length / (fs *
            frame_period / 1000)``-th frame is kept).
        num_coded: coded envelope coefficients (the model's ``odim``).
        fft_size: CheapTrick FFT size (1024 at 16 kHz).
        f0_floor, f0_ceil: the F0 search range (Hz).
        f0_method: ``dio`` | ``harvest`` (:func:`world_f0`).
        cache_size: utterances whose features are kept in memory, by a hash of their
            samples (0: no cache); WORLD costs about 2 % of real time per utterance,
            so a training run would otherwise analyse its data again every epoch.
    """

    @typechecked
    def __init__(
        self,
        fs: Union[int, str] = 16000,
        hop_length: int = 320,
        frame_period: float = 5.0,
        num_coded: int = 40,
        fft_size: int = 1024,
        f0_floor: float = 71.0,
        f0_ceil: float = 800.0,
        f0_method: str = "dio",
        cache_size: int = 100000,
    ):
        super().__init__()
        if isinstance(fs, str):
            import humanfriendly

            fs = int(humanfriendly.parse_size(fs))
        _subsample(fs, hop_length, frame_period)
        if num_coded < 2:
            raise ValueError(f"num_coded must be >= 2, got {num_coded}")
        if f0_method not in F0_METHODS:
            raise ValueError(f"f0_method must be one of {F0_METHODS}: {f0_method!r}")
        self.f0_method = f0_method
        self.fs, self.hop_length, self.frame_period = fs, hop_length, frame_period
        self.num_coded, self.fft_size = num_coded, fft_size
        self.f0_floor, self.f0_ceil = f0_floor, f0_ceil
        self.cache_size = cache_size
        self._cache: "OrderedDict[str, np.ndarray]" = OrderedDict()

    def output_size(self) -> int:
        return self.num_coded

    def get_parameters(self) -> Dict[str, Any]:
        return dict(
            fs=self.fs,
            hop_length=self.hop_length,
            frame_period=self.frame_period,
            num_coded=self.num_coded,
            fft_size=self.fft_size,
            f0_floor=self.f0_floor,
            f0_ceil=self.f0_ceil,
            f0_method=self.f0_method,
        )

    def analyse(self, wav: np.ndarray) -> np.ndarray:
        """(N,) float samples -> (floor(N / hop) + 1, num_coded) float32, cached."""
        x = np.ascontiguousarray(wav, dtype=np.float32)
        key = hashlib.blake2b(x.tobytes(), digest_size=16).hexdigest()
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        feats = world_analysis(
            x,
            aperiodicity=False,
            **self.get_parameters(),
        )[
            "coded_sp"
        ].astype(np.float32)
        if self.cache_size > 0:
            self._cache[key] = feats
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return feats

    def forward(
        self, input: torch.Tensor, input_lengths: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Waveforms -> coded envelopes.

        Args:
            input: (B, N) waveforms, padded.
            input_lengths: (B,) samples (None: all N).

        Returns:
            (B, T, num_coded) features (0 past each end), T = floor(N_b / hop) + 1 of
            the longest, and (B,) frame counts.
        """
        B, N = input.shape
        if input_lengths is None:
            input_lengths = torch.full((B,), N, dtype=torch.long)
        wavs = input.detach().cpu().float().numpy()
        feats = [self.analyse(w[:n]) for w, n in zip(wavs, input_lengths.tolist())]
        lengths = torch.tensor([f.shape[0] for f in feats], dtype=torch.long)
        out = torch.nn.utils.rnn.pad_sequence(
            [torch.from_numpy(f) for f in feats], batch_first=True
        )
        return out.to(input.device), lengths.to(input.device)


class WorldVocoder:
    """WORLD synthesis of a predicted coded envelope with a source's F0 and
    aperiodicity.

    Args: the settings of :class:`WorldFeats` (the model's ``feats_extract_conf``).
    """

    @typechecked
    def __init__(
        self,
        fs: Union[int, str] = 16000,
        hop_length: int = 320,
        frame_period: float = 5.0,
        num_coded: int = 40,
        fft_size: int = 1024,
        f0_floor: float = 71.0,
        f0_ceil: float = 800.0,
        f0_method: str = "dio",
    ):
        self.feats = WorldFeats(
            fs=fs,
            hop_length=hop_length,
            frame_period=frame_period,
            num_coded=num_coded,
            fft_size=fft_size,
            f0_floor=f0_floor,
            f0_ceil=f0_ceil,
            f0_method=f0_method,
            cache_size=0,
        )
        self.fs, self.hop_length = self.feats.fs, hop_length
        self.step = _subsample(self.fs, hop_length, frame_period)

    @classmethod
    def from_feats_extract_conf(cls, conf: Dict[str, Any]) -> "WorldVocoder":
        """Build from a TTS experiment's ``feats_extract_conf`` (``world``)."""
        keys = WORLD_DEFAULTS.keys()
        return cls(**{k: conf[k] for k in keys if k in conf})

    def analyse_source(self, wav: Union[torch.Tensor, np.ndarray]) -> Dict[str, Any]:
        """What synthesis takes from the source: F0, aperiodicity, their times."""
        p = self.feats.get_parameters()
        return world_analysis(wav, aperiodicity=True, **p)

    def f0_stats(self, wavs: Sequence[Union[torch.Tensor, np.ndarray]]):
        """The log-F0 (mean, std) of a speaker's utterances (e.g. the target's
        reference audio)."""
        p = self.feats.get_parameters()
        return log_f0_stats(
            [
                world_f0(
                    w,
                    p["fs"],
                    p["frame_period"],
                    p["f0_floor"],
                    p["f0_ceil"],
                    p["f0_method"],
                )[0]
                for w in wavs
            ]
        )

    def __call__(
        self,
        coded_sp: Union[torch.Tensor, np.ndarray],
        source: Dict[str, Any],
        target_f0_stats: Optional[Tuple[float, float]] = None,
        offset: int = 0,
        length: Optional[int] = None,
    ) -> torch.Tensor:
        """Coded envelope (T, num_coded) + the source's analysis -> waveform (N,).

        Args:
            coded_sp: (T, num_coded) denormalised prediction; frame t belongs to
                the source's 20 ms frame t + ``offset`` (the model's target_offset).
            source: :meth:`analyse_source` of the source utterance (``f0``, ``ap``
                at 5 ms).
            target_f0_stats: the target speaker's log-F0 (mean, std); the source's
                F0 is mapped from its own utterance statistics to these. None: the
                source's F0 unchanged.
            offset: see ``coded_sp``.
            length: samples of the output (default: the source's 5 ms frames times
                ``frame_period``, i.e. about the source's duration).

        Returns:
            (N,) float32 waveform at ``fs``.
        """
        pw = _pyworld()
        csp = _as_f64(coded_sp)
        if csp.ndim != 2 or csp.shape[1] != self.feats.num_coded:
            raise ValueError(
                f"expected a coded envelope (T, {self.feats.num_coded}), got "
                f"shape {csp.shape}"
            )
        log_sp = np.zeros((0, self.feats.fft_size // 2 + 1))
        if csp.shape[0] > 0:
            log_sp = np.log(
                pw.decode_spectral_envelope(
                    np.ascontiguousarray(csp), self.fs, self.feats.fft_size
                )
            )
        return self.synthesize_envelope(
            log_sp, source, target_f0_stats, offset=offset, length=length
        )

    def synthesize_envelope(
        self,
        log_sp: np.ndarray,
        source: Dict[str, Any],
        target_f0_stats: Optional[Tuple[float, float]] = None,
        offset: int = 0,
        length: Optional[int] = None,
    ) -> torch.Tensor:
        """A spectral envelope on the 20 ms grid + the source's F0 and aperiodicity
        -> waveform; what :meth:`__call__` does after decoding the coded envelope.

        Args:
            log_sp: (T, fft_size // 2 + 1) natural log of a power spectral envelope
                (WORLD's ``sp``), frame t at the source's 20 ms frame t + ``offset``;
                it is interpolated (in the log domain) to the 5 ms frames.
            source, target_f0_stats, offset, length: as :meth:`__call__`.

        Returns:
            (N,) float32 waveform at ``fs``.
        """
        pw = _pyworld()
        log_sp = _as_f64(log_sp)
        bins = self.feats.fft_size // 2 + 1
        if log_sp.ndim != 2 or log_sp.shape[1] != bins:
            raise ValueError(
                f"expected a log envelope (T, {bins}), got shape {log_sp.shape}"
            )
        f0 = _as_f64(source["f0"])
        ap = _as_f64(source["ap"])
        if target_f0_stats is not None and bool((f0 > 0).any()):
            f0 = map_f0(f0, log_f0_stats([f0]), target_f0_stats)
        T5 = f0.shape[0]
        if length is None:
            length = int(round(T5 * self.feats.frame_period * self.fs / 1000.0))
        if log_sp.shape[0] == 0 or T5 == 0:
            return torch.zeros(length)
        # the envelope on the source's 20 ms grid: the first `offset` frames take the
        # first given frame, frames past the given ones the last one
        T20 = (T5 - 1) // self.step + 1
        idx = np.clip(np.arange(T20) - offset, 0, log_sp.shape[0] - 1)
        sp = np.exp(upsample_frames(log_sp[idx], self.step, T5))
        wav = pw.synthesize(
            np.ascontiguousarray(f0),
            np.ascontiguousarray(sp),
            np.ascontiguousarray(ap),
            self.fs,
            self.feats.frame_period,
        )
        wav = np.pad(wav[:length], (0, max(0, length - wav.shape[0])))
        return torch.from_numpy(wav.astype(np.float32))
