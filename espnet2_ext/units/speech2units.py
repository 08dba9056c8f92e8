"""Raw audio -> discrete units, as the recipes' units stages make them: the one
audio-to-units path of every inference entry point (``transcribe``, ``translate``, ...).

::

    from espnet2_ext.units.speech2units import Speech2Units

    s2u = Speech2Units(units_config, src_token_list)  # units.yaml (resolved) + tokens
    units = s2u.units("utt.flac")            # (T,) k-means ids at 50 Hz
    ids = s2u.token_ids(units)               # (T,) the model's source token ids

The steps: audio (a path libsndfile reads, or samples at any rate with any channel
count) -> mono float32 at 16 kHz (channels averaged, windowed-sinc resampling, as
:func:`espnet2_ext.units.audio.load_audio` does) -> the features ``units.yaml`` names
(MFCC, HuBERT or Whisper, 50 Hz) -> nearest k-means centroid -> cluster id ``k`` ->
token ``str(k)`` -> source token id (``<unk>`` for a unit the training data never had).

Loading runs no code from the model files unless ``trust_pickle=True``: the k-means
model is a plain ``.npy`` array; a units config that asks for a pickled feature
checkpoint (``feature_conf.trust_pickle``) is refused without it.
"""

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch

from espnet2_ext.units.audio import (
    REASON_EMPTY,
    REASON_FORMAT,
    REASON_INVALID,
    REASON_TOO_LONG,
    REASON_TOO_SHORT,
    AudioError,
    limit_duration,
    load_audio,
)

logger = logging.getLogger(__name__)

AudioInput = Union[str, Path, np.ndarray, torch.Tensor]

SAMPLE_RATE = 16000
MIN_SAMPLES = 400  # one 25 ms analysis window at 16 kHz (MFCC and HuBERT)


class ModelLoadError(RuntimeError):
    """The model files cannot be found, unpacked or loaded, or do not fit together."""


def waveform_from_array(
    audio: Union[np.ndarray, torch.Tensor],
    sample_rate: int,
    min_duration: float = 0.1,
    max_duration: Optional[float] = None,
    name: str = "<array>",
) -> torch.Tensor:
    """Samples -> mono float32 16 kHz waveform (channels averaged, then resampled).

    ``audio``: (N,), or 2-D with the channel axis the shorter one ((N, C) as soundfile
    gives, or (C, N) as torchaudio gives). Integer samples are scaled to [-1, 1).
    """
    import torchaudio

    if isinstance(audio, torch.Tensor):
        audio = audio.detach().cpu().numpy()
    x = np.asarray(audio)
    if sample_rate is None:
        raise ValueError("sample_rate is required for array input")
    if int(sample_rate) <= 0:
        raise AudioError(REASON_FORMAT, name, f"invalid sample rate {sample_rate}")
    if x.ndim == 0 or x.ndim > 2:
        raise AudioError(
            REASON_FORMAT,
            name,
            f"expected (N,), (N, C) or (C, N) samples, got shape {x.shape}",
        )
    if x.size == 0:
        raise AudioError(REASON_EMPTY, name, "no samples")
    if np.issubdtype(x.dtype, np.integer):
        info = np.iinfo(x.dtype)
        if info.min == 0:  # unsigned (8-bit wav)
            x = (x.astype(np.float32) - (info.max + 1) / 2) / ((info.max + 1) / 2)
        else:
            x = x.astype(np.float32) / float(info.max + 1)
    elif not np.issubdtype(x.dtype, np.floating):
        raise AudioError(REASON_FORMAT, name, f"unsupported sample type {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if x.ndim == 2:
        x = x.mean(axis=0 if x.shape[0] <= x.shape[1] else 1, dtype=np.float32)
    if not np.isfinite(x).all():
        raise AudioError(REASON_INVALID, name, "NaN or inf samples")
    duration = x.shape[0] / sample_rate
    if duration < min_duration:
        raise AudioError(
            REASON_TOO_SHORT, name, f"{duration:.3f} s < min_duration {min_duration} s"
        )
    if max_duration is not None and duration > max_duration:
        raise AudioError(
            REASON_TOO_LONG, name, f"{duration:.1f} s > max_duration {max_duration} s"
        )
    wav = torch.from_numpy(np.ascontiguousarray(x))
    if int(sample_rate) != SAMPLE_RATE:
        wav = torchaudio.functional.resample(
            wav, orig_freq=int(sample_rate), new_freq=SAMPLE_RATE
        )
    return wav.contiguous()


def load_waveform(
    audio: AudioInput,
    sample_rate: Optional[int] = None,
    min_duration: float = MIN_SAMPLES / SAMPLE_RATE,
    max_duration: Optional[float] = None,
) -> torch.Tensor:
    """A path (any format libsndfile reads; no pipes) or samples at ``sample_rate`` ->
    (N,) mono float32 at 16 kHz, as every entry point reads its input audio.

    Raises:
        AudioError: missing, unreadable, empty, too short/long (a long file is refused
            from its header), NaN samples, ...
    """
    if isinstance(audio, (str, Path)):
        if sample_rate is not None:
            logger.debug("sample_rate ignored for a file (%s): its header says", audio)
        return load_audio(
            str(audio),
            target_sr=SAMPLE_RATE,
            min_duration=min_duration,
            max_duration=max_duration,
            allow_pipe=False,
        )
    if isinstance(audio, (np.ndarray, torch.Tensor)):
        if sample_rate is None:
            raise ValueError("sample_rate is required when audio is an array")
        return waveform_from_array(audio, sample_rate, min_duration, max_duration)
    raise TypeError(f"audio must be a path or an array, got {type(audio).__name__}")


class Speech2Units:
    """Raw audio -> k-means unit ids -> a model's source token ids.

    Args:
        units_config: the units config (``units.yaml``) with its paths resolved:
            ``feature`` (mfcc | hubert | whisper), ``feature_conf``, ``kmeans`` (the
            k-means model file) and optionally ``token_list`` (must then equal
            ``src_token_list``).
        src_token_list: the model's source tokens (``str(k)`` per unit, ``<unk>``).
        device: ``cpu`` or ``cuda``.
        trust_pickle: also load a pickled k-means model or feature checkpoint (runs
            code stored in the files: only for models you trust).
        min_duration, max_duration: seconds; shorter/longer audio raises
            ``AudioError`` (``too_long``: refused from the file header, before
            decoding). The extractor may impose a stricter limit of its own
            (Whisper: 30 s), which ``self.max_duration`` then holds.
        feature_batch_size: utterances per feature-extraction call in
            :meth:`units_batch`.

    Raises:
        ModelLoadError: a file is missing or unsafe, or the parts do not fit together
            (feature dimension vs k-means, token lists).
    """

    def __init__(
        self,
        units_config: Dict[str, Any],
        src_token_list: Sequence[str],
        device: str = "cpu",
        trust_pickle: bool = False,
        min_duration: float = 0.1,
        max_duration: Optional[float] = None,
        feature_batch_size: int = 8,
    ):
        from espnet2_ext.bin.pack_model import read_token_file
        from espnet2_ext.units.features import build_feature_extractor
        from espnet2_ext.units.kmeans import KMeansModel

        self.device = device
        self.min_duration = max(float(min_duration), MIN_SAMPLES / SAMPLE_RATE)
        self.max_duration = max_duration
        self.feature_batch_size = max(1, int(feature_batch_size))
        feature = units_config.get("feature")
        if not feature:
            raise ModelLoadError(
                "units config: 'feature' is not set (mfcc, hubert or whisper)"
            )
        try:
            self.kmeans = KMeansModel.load(
                units_config["kmeans"], trust_pickle=trust_pickle
            )
        except Exception as e:
            raise ModelLoadError(
                f"cannot load the k-means model {units_config.get('kmeans')}: {e}"
            ) from e
        conf = dict(units_config.get("feature_conf") or {})
        if conf.get("trust_pickle") and not trust_pickle:
            # the model cannot vouch for itself
            raise ModelLoadError(
                "the units config sets feature_conf.trust_pickle (its feature "
                "checkpoint pickles Python objects, and loading it runs them); pass "
                "trust_pickle=True (--trust_remote_pickle) only if you trust this "
                "model"
            )
        if trust_pickle and str(feature).lower() == "hubert":
            conf["trust_pickle"] = True
        try:
            extractor = build_feature_extractor(str(feature), **conf)
        except (ValueError, TypeError) as e:
            raise ModelLoadError(
                f"units config: cannot build the {feature!r} feature extractor: {e}"
            ) from e
        self.extractor = extractor.to(device).eval()
        # the extractor's own limit (Whisper: 30 s) is enforced from the file header
        # or the array length, before any decoding or encoding
        self.max_duration = limit_duration(
            self.max_duration, self.extractor.max_input_seconds
        )
        if self.extractor.output_size() != self.kmeans.dim:
            raise ModelLoadError(
                f"the {feature} features have dimension "
                f"{self.extractor.output_size()} but the k-means model expects "
                f"{self.kmeans.dim}"
            )
        src_token_list = list(src_token_list)
        if units_config.get("token_list"):
            if read_token_file(units_config["token_list"]) != src_token_list:
                raise ModelLoadError(
                    "the units config's token_list differs from the model's source "
                    "token list"
                )
        self.src_token_list = src_token_list
        self.unit_to_id = self._unit_table(src_token_list, self.kmeans.n_clusters)

    @staticmethod
    def _unit_table(tokens: Sequence[str], n_clusters: int) -> np.ndarray:
        """k-means id -> source token id (``<unk>`` for units the token list lacks)."""
        t2i = {t: i for i, t in enumerate(tokens)}
        if "<unk>" not in t2i:
            raise ModelLoadError("the source token list has no <unk>")
        table = np.full(n_clusters, t2i["<unk>"], dtype=np.int64)
        for k in range(n_clusters):
            if str(k) in t2i:
                table[k] = t2i[str(k)]
        return table

    def load_waveform(
        self, audio: AudioInput, sample_rate: Optional[int] = None
    ) -> torch.Tensor:
        """A path or samples -> (N,) mono float32 at 16 kHz; raises ``AudioError``."""
        return load_waveform(audio, sample_rate, self.min_duration, self.max_duration)

    @torch.no_grad()
    def units_batch(self, wavs: Sequence[torch.Tensor]) -> List[np.ndarray]:
        """16 kHz waveforms -> k-means unit ids (T,) each (50 Hz), batched by length."""
        out: List[Optional[np.ndarray]] = [None] * len(wavs)
        order = sorted(range(len(wavs)), key=lambda i: wavs[i].numel())
        for s in range(0, len(order), self.feature_batch_size):
            idx = order[s : s + self.feature_batch_size]
            lengths = torch.tensor([wavs[i].numel() for i in idx], dtype=torch.long)
            padded = torch.nn.utils.rnn.pad_sequence(
                [wavs[i].float() for i in idx], batch_first=True
            )
            feats, flens = self.extractor(
                padded.to(self.device), lengths.to(self.device)
            )
            for row, i in enumerate(idx):
                n = int(flens[row])
                if n == 0:
                    raise AudioError(
                        REASON_TOO_SHORT, f"<input {i}>", "shorter than one frame"
                    )
                out[i] = self.kmeans.predict(feats[row, :n], device=self.device)
        return out  # type: ignore[return-value]

    def units(self, audio: AudioInput, sample_rate: Optional[int] = None) -> np.ndarray:
        """The k-means unit ids of one utterance."""
        return self.units_batch([self.load_waveform(audio, sample_rate)])[0]

    def token_ids(self, units: np.ndarray) -> np.ndarray:
        """k-means ids -> the model's source token ids."""
        units = np.asarray(units, dtype=np.int64)
        if units.size and (units.min() < 0 or units.max() >= len(self.unit_to_id)):
            raise ValueError(f"unit ids must be in [0, {len(self.unit_to_id)})")
        return self.unit_to_id[units]
