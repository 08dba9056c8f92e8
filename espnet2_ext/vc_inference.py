"""Raw audio -> converted speech with a packed (or freshly trained) unit-to-mel voice
conversion model (``tts: unit_vc``, :class:`espnet2_ext.vc.unit_vc.UnitVC`).

::

    from espnet2_ext.vc_inference import VoiceConverter

    vc = VoiceConverter.from_pretrained("exp/vc_dense/packed.zip")  # or a directory
    wav, sr = vc("source.wav", "target_speaker.wav")   # any rate / channel count
    wav, sr = vc(samples, target_samples, sample_rate=44100, target_sample_rate=8000)
    wav, sr = vc("source.wav", d)                      # a (256,) d-vector instead

    # straight from an experiment (paths in the configs relative to the recipe dir)
    vc = VoiceConverter(vc_train_config="exp/vc_x/config.yaml",
                        vc_model_file="exp/vc_x/valid.loss.ave.pth",
                        units_config="exp/kmeans/units.yaml", base_dir="egs2/x/vc")

    # what espnet_model_zoo returns (tts_train_config, tts_model_file, ...) as it is
    from espnet2_ext.compat import ModelDownloader
    vc = VoiceConverter(**ModelDownloader().unpack_local_file("packed.zip"))

The pipeline is the recipe's (vc.sh stages 8 and 10): source audio -> unit token ids
by :class:`espnet2_ext.units.speech2units.Speech2Units` (the audio-to-units path every
entry point shares; ``transcribe`` uses the same) -> with the target speaker's
Resemblyzer d-vector (:meth:`espnet2_ext.metrics.vc.SpeakerSimilarity.embed`, what
``espnet2_ext.bin.extract_dvectors`` computes for training) -> the model's features
(log-mel or WORLD envelope), one frame per unit, with the durations it computes from
the units itself (no teacher forcing) -> the vocoder the packed model's features take:
for the WORLD envelope (``feats_extract: world``), WORLD synthesis with the source's
F0 (mapped to the target's log-F0 mean and variance, from the target-speaker audio)
and aperiodicity (:class:`espnet2_ext.vc.world.WorldVocoder`); for a log-mel model,
Griffin-Lim (:mod:`espnet2_ext.vc.vocoder`, the settings of the model's
``feats_extract_conf``), or a HiFi-GAN (``vocoder_file``: a ParallelWaveGAN or ESPnet
HiFi-GAN checkpoint trained on the same features, checked against the model's
``feats_extract_conf``; see :func:`espnet2_ext.vc.vocoder.load_hifigan`) -> a waveform
at the model's rate (16 kHz), about as long as the source. This module only loads a
model and runs it.

The recipe converts with the target speaker's *mean* d-vector over several
utterances (``spk_xvector.scp``); one reference utterance gives a noisier embedding,
several can be averaged with :meth:`VoiceConverter.speaker_embedding` and passed as
``dvector``.

Loading runs no code from the model files, as for ``Speech2Text``: archives are
unpacked with path checks, the checkpoint is read with
``torch.load(weights_only=True)`` and must fit the model built from the config, the
k-means model is a plain ``.npy`` array; ``trust_pickle=True`` allows the legacy
pickled formats for models you trust.
"""

import logging
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from espnet2_ext.asr_inference import ResolvedModel
from espnet2_ext.units.audio import REASON_TOO_SHORT, AudioError
from espnet2_ext.units.speech2units import (
    SAMPLE_RATE,
    AudioInput,
    ModelLoadError,
    Speech2Units,
    load_waveform,
)

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]


class VoiceConverter:
    """Any-to-any voice conversion with a unit-to-mel model (module docstring).

    Args:
        model: a packed VC model (``espnet2_ext.bin.pack_model --vc_train_config``,
            vc.sh stage 13) or the directory it was unpacked to.
        vc_train_config, vc_model_file, units_config: explicit files instead of (or,
            with ``model``, overriding) the packed ones; ``tts_train_config`` /
            ``tts_model_file`` are the same under ESPnet's TTS names (the keys
            ``espnet_model_zoo`` returns).
        unit_lm_train_config, unit_lm_file, kmeans_model: optional overrides.
        base_dir: the recipe directory that relative paths in explicit configs are
            relative to (default: the working directory, then the directories above
            the config).
        unpack_dir: where to unpack an archive (default: a temporary directory removed
            with this object).
        trust_pickle: also load legacy pickled files (runs code stored in them).
        device: ``cpu`` or ``cuda``.
        griffin_lim_iters: Griffin-Lim iterations (the recipe's default 32).
        vocoder_file, vocoder_config: a HiFi-GAN checkpoint and its config (default:
            ``config.yml`` / ``config.yaml`` next to it) instead of Griffin-Lim
            (:func:`espnet2_ext.vc.vocoder.build_vocoder`); it must have been trained on
            the model's features. Read with ``weights_only`` unless ``trust_pickle``.
        min_duration, max_duration: seconds, for the source and the target-speaker
            audio; shorter/longer audio raises ``AudioError``. The units' extractor may
            impose a stricter limit on the source (Whisper: 30 s).
    """

    def __init__(
        self,
        model: Optional[PathLike] = None,
        vc_train_config: Optional[PathLike] = None,
        vc_model_file: Optional[PathLike] = None,
        units_config: Optional[PathLike] = None,
        unit_lm_train_config: Optional[PathLike] = None,
        unit_lm_file: Optional[PathLike] = None,
        kmeans_model: Optional[PathLike] = None,
        tts_train_config: Optional[PathLike] = None,
        tts_model_file: Optional[PathLike] = None,
        base_dir: Optional[PathLike] = None,
        unpack_dir: Optional[PathLike] = None,
        trust_pickle: bool = False,
        device: str = "cpu",
        griffin_lim_iters: int = 32,
        min_duration: float = 0.1,
        max_duration: Optional[float] = None,
        vocoder_file: Optional[PathLike] = None,
        vocoder_config: Optional[PathLike] = None,
    ):
        import espnet2_ext.tasks.tts  # noqa: F401  (registers tts: unit_vc)
        from espnet2_ext.tasks.tts import UnitVCTTSTask
        from espnet2_ext.utils.checkpoint import build_model_from_file
        from espnet2_ext.vc.vocoder import build_vocoder, vocoder_kind

        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but CUDA is not available")
        if griffin_lim_iters < 1:
            raise ValueError(f"griffin_lim_iters must be >= 1, got {griffin_lim_iters}")
        for a, b, name in (
            (vc_train_config, tts_train_config, "train_config"),
            (vc_model_file, tts_model_file, "model_file"),
        ):
            if a is not None and b is not None:
                raise ValueError(f"give vc_{name} or tts_{name}, not both")
        self.files = ResolvedModel(
            model=model,
            task="vc",
            train_config=vc_train_config or tts_train_config,
            model_file=vc_model_file or tts_model_file,
            units_config=units_config,
            unit_lm_train_config=unit_lm_train_config,
            unit_lm_file=unit_lm_file,
            kmeans_model=kmeans_model,
            base_dir=base_dir,
            unpack_dir=unpack_dir,
        )
        cfg = self.files.config
        if cfg.get("tts") != "unit_vc":
            raise ModelLoadError(
                f"the VC config has tts: {cfg.get('tts')!r}, not unit_vc (only the "
                "unit-to-mel model converts units made from audio)"
            )
        try:
            self.vocoder_kind = vocoder_kind(cfg.get("feats_extract"), vocoder_file)
        except ValueError as e:
            raise ModelLoadError(str(e)) from e
        self.device = device
        self.min_duration = min_duration
        self.max_duration = max_duration

        # audio -> units -> token ids: the shared units module
        tokens = self.files.src_token_list()
        if tokens is None:
            raise ModelLoadError("the VC config has no token list")
        self.speech2units = Speech2Units(
            self.files.units_config,
            tokens,
            device=device,
            trust_pickle=trust_pickle,
            min_duration=min_duration,
            max_duration=max_duration,
        )

        # the model: ESPnet's TTS task, the checkpoint read with weights_only=True
        # and its keys and shapes checked
        self._cfg_dir = tempfile.TemporaryDirectory(prefix="espnet2_ext_vc_")
        cfg_path, _ = self.files.write_configs(self._cfg_dir.name)
        try:
            self.model, self.train_args = build_model_from_file(
                UnitVCTTSTask,
                cfg_path,
                self.files.model_file,
                device=device,
                what="VC model checkpoint",
                trust_pickle=trust_pickle,
            )
        except Exception as e:
            raise ModelLoadError(
                f"cannot build the VC model from {self.files.model_file}: "
                f"{type(e).__name__}: {e}"
            ) from e
        self.model.eval()
        self.tts = self.model.tts
        try:
            self.vocoder = build_vocoder(
                vocoder_file,
                vocoder_config,
                feats_extract_conf=self.train_args.feats_extract_conf or {},
                n_iter=griffin_lim_iters,
                device=device,
                trust_pickle=trust_pickle,
                feats_extract=self.train_args.feats_extract,
            )
        except (OSError, ValueError) as e:
            raise ModelLoadError(f"cannot load the vocoder: {e}") from e
        self.sample_rate = int(self.vocoder.fs)
        self._speaker_encoder = None

    # ------------------------------------------------------------------ steps
    @property
    def spk_embed_dim(self) -> Optional[int]:
        """The size of the d-vector the model is conditioned on (None: none)."""
        return self.tts.spk_embed_dim

    def load_waveform(
        self, audio: AudioInput, sample_rate: Optional[int] = None
    ) -> torch.Tensor:
        """A source path or samples -> (N,) mono float32 at 16 kHz (``AudioError``)."""
        return self.speech2units.load_waveform(audio, sample_rate)

    def units(self, audio: AudioInput, sample_rate: Optional[int] = None) -> np.ndarray:
        """The k-means unit ids of a source utterance (50 Hz)."""
        return self.speech2units.units(audio, sample_rate)

    def speaker_embedding(
        self,
        audio: Union[AudioInput, Sequence[AudioInput]],
        sample_rate: Optional[int] = None,
    ) -> np.ndarray:
        """The Resemblyzer d-vector of target-speaker audio, as the recipe's.

        ``audio``: one utterance (a path or samples at ``sample_rate``), or a list of
        paths, whose embeddings are averaged and renormalised (the recipe's speaker
        mean). Returns (256,) float32 of unit norm.
        """
        from espnet2_ext.metrics.vc import SpeakerSimilarity

        if self._speaker_encoder is None:
            self._speaker_encoder = SpeakerSimilarity(device=self.device)
        items = list(audio) if isinstance(audio, (list, tuple)) else [audio]
        if not items:
            raise ValueError("no target-speaker audio given")
        vecs = []
        for a in items:
            wav = load_waveform(a, sample_rate, self.min_duration, self.max_duration)
            try:
                vecs.append(self._speaker_encoder.embed(wav.numpy(), SAMPLE_RATE))
            except ValueError as e:  # shorter than an embedding needs
                name = str(a) if isinstance(a, (str, Path)) else "<array>"
                raise AudioError(REASON_TOO_SHORT, name, str(e)) from e
        if len(vecs) == 1:
            return vecs[0]
        mean = np.mean(np.stack(vecs), axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)

    def _spembs(self, dvector: Optional[Any]) -> Optional[torch.Tensor]:
        dim = self.spk_embed_dim
        if dim is None:
            if dvector is not None:
                raise ValueError(
                    "this VC model is not conditioned on a d-vector (spk_embed_dim "
                    "is not set): give sid instead"
                )
            return None
        if dvector is None:
            raise ValueError(
                "this VC model needs the target speaker: give target-speaker audio "
                f"or a ({dim},) d-vector"
            )
        if isinstance(dvector, torch.Tensor):
            dvector = dvector.detach().cpu().numpy()
        v = np.asarray(dvector, dtype=np.float32).reshape(-1)
        if v.shape[0] != dim or not np.isfinite(v).all():
            raise ValueError(
                f"the d-vector must be {dim} finite numbers, got shape "
                f"{np.shape(dvector)}"
            )
        return torch.from_numpy(v).to(self.device)

    @torch.no_grad()
    def mel(
        self,
        units: np.ndarray,
        dvector: Optional[Any] = None,
        sid: Optional[int] = None,
    ) -> torch.Tensor:
        """k-means unit ids -> the model's (denormalised) log-mel (T, n_mels), one
        frame per unit, with the target speaker's d-vector (or speaker id)."""
        if len(units) == 0:
            raise AudioError(REASON_TOO_SHORT, "<units>", "no units")
        ids = torch.from_numpy(self.speech2units.token_ids(units)).to(self.device)
        kwargs = {}
        spembs = self._spembs(dvector)
        if spembs is not None:
            kwargs["spembs"] = spembs
        if sid is not None:
            kwargs["sids"] = torch.tensor([int(sid)], device=self.device)
        out = self.model.inference(text=ids, use_teacher_forcing=False, **kwargs)
        return out.get("feat_gen_denorm", out["feat_gen"])

    def target_f0_stats(
        self,
        audio: Union[AudioInput, Sequence[AudioInput]],
        sample_rate: Optional[int] = None,
    ) -> Tuple[float, float]:
        """The log-F0 (mean, std) of target-speaker audio (one utterance or a list),
        what the WORLD vocoder maps the source's F0 to."""
        if self.vocoder_kind != "world":
            raise ValueError(f"the {self.vocoder_kind} vocoder takes no F0")
        items = list(audio) if isinstance(audio, (list, tuple)) else [audio]
        wavs = [
            load_waveform(a, sample_rate, self.min_duration, self.max_duration).numpy()
            for a in items
        ]
        return self.vocoder.f0_stats(wavs)

    def vocode(
        self,
        mel: torch.Tensor,
        source: Optional[Any] = None,
        target_f0_stats: Optional[Tuple[float, float]] = None,
    ) -> np.ndarray:
        """The model's features -> waveform float32 in [-1, 1].

        Log-mel (T, n_mels) -> (T * hop,) by Griffin-Lim or HiFi-GAN. The WORLD
        envelope (T, num_coded) also needs ``source``, the 16 kHz source waveform
        (N,) whose F0 and aperiodicity are used (F0 mapped to ``target_f0_stats``,
        the target's log-F0 mean and std, when given) -> (about N,).
        """
        if self.vocoder_kind == "world":
            if source is None:
                raise ValueError("the WORLD vocoder needs the source waveform")
            if isinstance(source, torch.Tensor):
                source = source.detach().cpu().numpy()
            ana = self.vocoder.analyse_source(np.asarray(source, dtype=np.float32))
            wav = self.vocoder(
                mel,
                ana,
                target_f0_stats=target_f0_stats,
                offset=self.tts.target_offset,
            ).numpy()
        else:
            wav = self.vocoder(mel).numpy()
        return np.clip(wav, -1.0, 1.0).astype(np.float32, copy=False)

    # ------------------------------------------------------------------ API
    def __call__(
        self,
        source: AudioInput,
        target_speaker: Union[AudioInput, Sequence[AudioInput], None] = None,
        *,
        sample_rate: Optional[int] = None,
        target_sample_rate: Optional[int] = None,
        dvector: Optional[Any] = None,
        sid: Optional[int] = None,
        target_f0_stats: Optional[Tuple[float, float]] = None,
    ) -> Tuple[np.ndarray, int]:
        """Convert one utterance.

        Args:
            source: a path or samples (at ``sample_rate``) of the speech to convert.
            target_speaker: audio of the target voice (a path, samples at
                ``target_sample_rate``, or a list of paths), or its d-vector (an array
                of ``spk_embed_dim`` numbers with no ``target_sample_rate``).
            dvector: the target speaker's d-vector (keyword form).
            sid: a speaker id, for a model with a speaker table (``spks``).
            target_f0_stats: WORLD models: the target's log-F0 (mean, std) (default:
                from the target-speaker audio; with only a d-vector, the source's F0
                is kept).

        Returns:
            ``(waveform, sample_rate)``: (N,) float32 mono in [-1, 1] at the model's
            rate (16 kHz), N = units x hop (about the source's duration).

        Raises:
            AudioError: the source or the target audio cannot be used.
            ValueError: the target speaker is missing or given twice.
        """
        if target_speaker is not None and dvector is not None:
            raise ValueError("give target_speaker audio or a dvector, not both")
        if (
            isinstance(target_speaker, (np.ndarray, torch.Tensor))
            and target_sample_rate is None
        ):
            if tuple(target_speaker.shape) != (self.spk_embed_dim,):
                raise ValueError(
                    "target_sample_rate is required for target-speaker samples (or "
                    f"give a ({self.spk_embed_dim},) d-vector)"
                )
            target_speaker, dvector = None, target_speaker  # a d-vector
        if target_speaker is not None:
            if self.spk_embed_dim is None:
                raise ValueError(
                    "this VC model is not conditioned on a d-vector: give sid"
                )
            dvector = self.speaker_embedding(target_speaker, target_sample_rate)
        if self.vocoder_kind != "world":
            units = self.units(source, sample_rate)
            mel = self.mel(units, dvector=dvector, sid=sid)
            return self.vocode(mel), self.sample_rate
        wav = self.load_waveform(source, sample_rate)
        units = self.units(wav.numpy(), SAMPLE_RATE)
        if target_f0_stats is None and target_speaker is not None:
            target_f0_stats = self.target_f0_stats(target_speaker, target_sample_rate)
        elif target_f0_stats is None:
            logger.warning("no target-speaker audio: the source's F0 is kept")
        mel = self.mel(units, dvector=dvector, sid=sid)
        return self.vocode(mel, wav, target_f0_stats), self.sample_rate

    @staticmethod
    def from_pretrained(
        model_tag: str, cachedir: Optional[PathLike] = None, **kwargs: Any
    ) -> "VoiceConverter":
        """A local archive/directory, or a name espnet_model_zoo can download. A
        downloaded archive is unpacked here, with the path checks of
        :func:`espnet2_ext.asr_inference.unpack_model`."""
        if Path(model_tag).exists():
            return VoiceConverter(model=model_tag, **kwargs)
        from espnet2_ext.compat import ModelDownloader

        return VoiceConverter(
            model=ModelDownloader(cachedir).download(model_tag), **kwargs
        )
