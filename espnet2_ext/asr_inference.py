"""Raw audio -> text with a packed (or freshly trained) discrete-unit ASR or speech
translation model (both are ESPnet MT-task models: units in, target-language text out).

::

    from espnet2_ext.asr_inference import Speech2Text

    s2t = Speech2Text(model="exp/asr_x/packed.zip")      # or an unpacked directory
    s2t("utt.flac")                                       # any rate / channel count
    s2t(samples, sample_rate=44100)                       # (N,), (N, C) or (C, N)
    s2t.batch(["a.wav", "b.wav"])

    # straight from an experiment (paths in the configs relative to the recipe dir)
    s2t = Speech2Text(asr_train_config="exp/asr_x/config.yaml",
                      asr_model_file="exp/asr_x/valid.acc.ave.pth",
                      units_config="exp/kmeans/units.yaml", base_dir="egs2/x/asr")

    # what espnet_model_zoo returns can be passed on as it is (it unpacks with ESPnet's
    # unpack, which checks member paths only since ESPnet 202611)
    from espnet2_ext.compat import ModelDownloader
    s2t = Speech2Text(**ModelDownloader().unpack_local_file("packed.zip"))

The pipeline is the training one: audio -> source token ids by
:class:`espnet2_ext.units.speech2units.Speech2Units` (mono 16 kHz, the features named
in ``units.yaml``, nearest k-means centroid; the audio-to-units path every entry point
shares) -> ESPnet's ``espnet2.bin.mt_inference.Text2Text`` (attention beam search, with
CTC when the model has one) -> text. This module only loads a model and decodes.
``maxlenratio`` is explicit (default 3.0): the compressed source the decoder attends
to can be shorter than the transcript.

Loading runs no code from the model files: archives are unpacked with path checks
(:func:`espnet2_ext.utils.archive.safe_extract`), checkpoints are read with
``torch.load(weights_only=True)`` and must fit the model built from the config, the
k-means model is a plain ``.npy`` array. ``trust_pickle=True`` (``transcribe
--trust_remote_pickle``) allows the legacy pickled formats (joblib k-means,
checkpoints that need ``weights_only=False``) for models you trust.
"""

import copy
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import yaml

import espnet2_ext  # noqa: F401  (registers the frontends in ESPnet's MT task)
from espnet2_ext.bin.pack_model import (
    ARCHIVE_SUFFIXES,
    BPEMODEL,
    KMEANS_MODEL,
    TASKS,
    UNIT_LM_CONFIG,
    UNIT_LM_FILE,
    UNITS_CONFIG,
    config_refs,
    load_yaml,
    model_src_token_list,
    set_in,
)
from espnet2_ext.units.audio import REASON_TOO_SHORT, AudioError
from espnet2_ext.units.speech2units import (  # noqa: F401  (re-exported)
    MIN_SAMPLES,
    SAMPLE_RATE,
    AudioInput,
    ModelLoadError,
    Speech2Units,
    waveform_from_array,
)

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]


# --------------------------------------------------------------------------- paths
class _Resolver:
    """Maps the path strings inside configs to existing files.

    A relative path is looked up under each root in turn. In a packed-model directory
    (``members`` = the files under it) a path also matches a member it ends with, so a
    directory unpacked by ESPnet (absolute paths) still works after it was moved.
    """

    def __init__(self, roots: Sequence[Path], members: Optional[Sequence[str]] = None):
        self.roots = [Path(os.path.abspath(r)) for r in roots]
        self.members = sorted(members or [], key=len, reverse=True)

    def __call__(self, value: str) -> Optional[str]:
        if not isinstance(value, str) or not value:
            return None
        p = Path(value).expanduser()
        posix = p.as_posix()
        if self.members:
            root = self.roots[0]
            if not p.is_absolute() and posix in self.members:
                return str(root / posix)
            for m in self.members:
                if posix.endswith("/" + m):
                    return str(root / m)
        if p.is_absolute():
            return str(p) if p.is_file() else None
        for r in self.roots:
            if (r / p).is_file():
                return str(r / p)
        return None

    def describe(self) -> str:
        return ", ".join(map(str, self.roots))


def _resolve_config(
    cfg: Dict[str, Any],
    kind: str,
    what: str,
    resolve: _Resolver,
    skip: Sequence[Tuple] = (),
) -> None:
    for keys, value, required in config_refs(cfg, kind):
        if keys in skip:  # given explicitly by the caller
            continue
        path = resolve(value)
        if path is None:
            if required:
                raise ModelLoadError(
                    f"{what}: {'.'.join(map(str, keys))} = {value!r}: file not found "
                    f"(looked under {resolve.describe()})"
                )
            continue
        set_in(cfg, keys, path)


def _is_archive(path: Path) -> bool:
    return path.is_file() and any(path.name.endswith(s) for s in ARCHIVE_SUFFIXES)


def list_members(directory: Path) -> List[str]:
    out = []
    for dirpath, _, filenames in os.walk(directory, followlinks=True):
        for f in filenames:
            out.append(
                Path(os.path.relpath(os.path.join(dirpath, f), directory)).as_posix()
            )
    return out


def unpack_model(archive: PathLike, outdir: PathLike) -> Path:
    """Unpack a packed model into ``outdir`` (every member checked first).

    Members with absolute paths, ``..`` components, links pointing outside ``outdir``
    or special files make it raise :class:`ModelLoadError` naming the member, before
    anything is written (see :func:`espnet2_ext.utils.archive.safe_extract`). The YAML
    files keep their archive-relative paths, which :class:`ResolvedModel` resolves.
    """
    from espnet2_ext.utils.archive import safe_extract

    archive, outdir = Path(archive), Path(os.path.abspath(outdir))
    try:
        safe_extract(archive, outdir)
    except Exception as e:
        raise ModelLoadError(f"cannot unpack {archive}: {type(e).__name__}: {e}") from e
    if not (outdir / "meta.yaml").is_file():
        raise ModelLoadError(f"{archive}: no meta.yaml at the top: not a packed model")
    return outdir


def read_meta(directory: PathLike) -> Dict[str, str]:
    """``{key: path}`` of a packed-model directory's ``meta.yaml``, paths absolute."""
    directory = Path(directory)
    meta = _load_meta(directory)
    out = {}
    for section in ("yaml_files", "files"):
        for k, v in (meta.get(section) or {}).items():
            p = Path(v)
            out[k] = str(p if p.is_absolute() and p.is_file() else directory / p)
    return out


def read_meta_task(directory: PathLike) -> str:
    """The ``task`` of a packed-model directory (``asr``: an MT-task model, ASR or
    speech translation; ``vc``: a unit-to-mel VC model). Packs without one are ASR."""
    return str(_load_meta(Path(directory)).get("task") or "asr")


def _load_meta(directory: Path) -> Dict[str, Any]:
    meta_path = directory / "meta.yaml"
    if not meta_path.is_file():
        raise ModelLoadError(
            f"{directory} is not a packed model directory (no meta.yaml); give the "
            "archive, or the model's config, checkpoint and units_config"
        )
    return load_yaml(meta_path, "meta.yaml")


# the command that runs a packed model of each task
_ENTRY_POINTS = {"asr": "transcribe / translate", "vc": "convert"}


class ResolvedModel:
    """All files of a model, with every config path made absolute.

    ``config`` (alias ``asr_config``), ``lm_config`` and ``units_config`` are the
    resolved dictionaries, ``model_file`` (alias ``asr_model_file``) the checkpoint;
    :meth:`write_configs` writes the model and LM configs where ESPnet's loaders read
    them. ``task``: ``asr`` (MT-task models: ASR, speech translation) or ``vc`` (the
    unit-to-mel VC model), see :data:`espnet2_ext.bin.pack_model.TASKS`; the explicit
    files are ``asr_train_config`` / ``asr_model_file`` or, for any task,
    ``train_config`` / ``model_file``.
    """

    def __init__(
        self,
        model: Optional[PathLike] = None,
        asr_train_config: Optional[PathLike] = None,
        asr_model_file: Optional[PathLike] = None,
        units_config: Optional[PathLike] = None,
        unit_lm_train_config: Optional[PathLike] = None,
        unit_lm_file: Optional[PathLike] = None,
        kmeans_model: Optional[PathLike] = None,
        bpemodel: Optional[PathLike] = None,
        base_dir: Optional[PathLike] = None,
        unpack_dir: Optional[PathLike] = None,
        task: str = "asr",
        train_config: Optional[PathLike] = None,
        model_file: Optional[PathLike] = None,
    ):
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r} (choose from {sorted(TASKS)})")
        spec = self.task = TASKS[task]
        what = spec.what
        if task == "asr":
            train_config = (
                train_config if train_config is not None else asr_train_config
            )
            model_file = model_file if model_file is not None else asr_model_file
        elif asr_train_config is not None or asr_model_file is not None:
            raise ValueError(f"asr_train_config / asr_model_file given for task {task}")
        cfg_name, model_name = f"{task}_train_config", f"{task}_model_file"
        self._tmp: Optional[tempfile.TemporaryDirectory] = None
        self.model_dir: Optional[Path] = None
        paths: Dict[str, Optional[str]] = {}
        if model is not None:
            mpath = Path(model)
            if _is_archive(mpath):
                if unpack_dir is None:
                    self._tmp = tempfile.TemporaryDirectory(prefix="espnet2_ext_model_")
                    unpack_dir = self._tmp.name
                self.model_dir = unpack_model(mpath, unpack_dir)
            elif mpath.is_dir():
                self.model_dir = Path(os.path.abspath(mpath))
            elif mpath.exists():
                raise ModelLoadError(
                    f"{mpath}: not a packed model (expected an archive with one of the "
                    f"suffixes {', '.join(ARCHIVE_SUFFIXES)} or a directory)"
                )
            else:
                raise ModelLoadError(f"model not found: {mpath}")
            packed_task = read_meta_task(self.model_dir)
            if packed_task != task:
                use = _ENTRY_POINTS.get(packed_task)
                raise ModelLoadError(
                    f"{model} is a packed {packed_task} model, not a {task} model"
                    + (f": run it with {use}" if use else "")
                )
            paths.update(read_meta(self.model_dir))
            resolve = _Resolver([self.model_dir], list_members(self.model_dir))
        else:
            missing = [
                n
                for n, v in (
                    (cfg_name, train_config),
                    (model_name, model_file),
                    ("units_config", units_config),
                )
                if v is None
            ]
            if missing:
                raise ModelLoadError(
                    f"give a packed model (model=...) or all of {cfg_name}, "
                    f"{model_name}, units_config (missing: {', '.join(missing)})"
                )
            if base_dir is not None:
                roots = [Path(base_dir)]
            else:  # the working directory, then the directories above the config
                cfg_dir = Path(os.path.abspath(train_config)).parent
                roots = [Path.cwd()] + [cfg_dir] + list(cfg_dir.parents)
            resolve = _Resolver(roots)
        explicit = {
            spec.config_key: train_config,
            spec.model_key: model_file,
            UNITS_CONFIG: units_config,
            UNIT_LM_CONFIG: unit_lm_train_config,
            UNIT_LM_FILE: unit_lm_file,
            KMEANS_MODEL: kmeans_model,
            BPEMODEL: bpemodel,
        }
        for k, v in explicit.items():
            if v is not None:  # relative: to the working directory, else to base_dir
                v = Path(v).expanduser()
                if not v.exists() and not v.is_absolute() and base_dir is not None:
                    v = Path(base_dir) / v
                paths[k] = str(v)
                explicit[k] = str(v)
        for k in (spec.config_key, spec.model_key, UNITS_CONFIG):
            if not paths.get(k):
                raise ModelLoadError(f"{self.model_dir}: meta.yaml names no {k}")
        self.model_file = paths[spec.model_key]
        if not os.path.isfile(self.model_file):
            raise ModelLoadError(f"{what} model file not found: {self.model_file}")

        # the model's config (+ the unit LM its frontend references)
        cfg_path = paths[spec.config_key]
        self.config = self._load(cfg_path, f"{what} config")
        try:
            fconf = spec.frontend_options(self.config)
        except RuntimeError as e:  # PackError: not a mapping
            raise ModelLoadError(str(e)) from e
        fkeys = spec.frontend_conf
        given = []
        for keys, k in (
            (fkeys + ("lm_train_config",), UNIT_LM_CONFIG),
            (fkeys + ("lm_file",), UNIT_LM_FILE),
            (("bpemodel",), BPEMODEL),
        ):
            if explicit.get(k) is not None:
                if keys[: len(fkeys)] == fkeys and fconf is None:
                    raise ModelLoadError(
                        f"{k} given, but the {what} config has no {'.'.join(fkeys)}"
                    )
                set_in(self.config, keys, os.path.abspath(explicit[k]))
                given.append(keys)
        _resolve_config(
            self.config,
            spec.kind,
            f"{what} config {cfg_path}",
            resolve,
            skip=given,
        )
        self.lm_config: Optional[Dict[str, Any]] = None
        if isinstance(fconf, dict) and fconf.get("lm_train_config"):
            self.lm_config = self._load(fconf["lm_train_config"], "unit LM config")
            _resolve_config(
                self.lm_config,
                "lm",
                f"unit LM config {fconf['lm_train_config']}",
                resolve,
            )

        # units.yaml (+ explicit k-means override)
        self.units_config = self._load(paths[UNITS_CONFIG], "units config")
        given = []
        if explicit.get(KMEANS_MODEL) is not None:
            self.units_config["kmeans"] = os.path.abspath(explicit[KMEANS_MODEL])
            given.append(("kmeans",))
        if model is None and base_dir is None:  # units.yaml may sit elsewhere
            udir = Path(os.path.abspath(paths[UNITS_CONFIG])).parent
            resolve = _Resolver(resolve.roots + [udir] + list(udir.parents))
        if not self.units_config.get("kmeans"):
            raise ModelLoadError(
                f"units config {paths[UNITS_CONFIG]}: 'kmeans' is not set"
            )
        _resolve_config(
            self.units_config,
            "units",
            f"units config {paths[UNITS_CONFIG]}",
            resolve,
            skip=given,
        )

    # the names Speech2Text and older callers use
    @property
    def asr_config(self) -> Dict[str, Any]:
        return self.config

    @property
    def asr_model_file(self) -> str:
        return self.model_file

    def src_token_list(self) -> Optional[List[str]]:
        """The model's unit token list (resolved config), or None."""
        return model_src_token_list(self.config, task=self.task)

    @staticmethod
    def _load(path: PathLike, what: str) -> Dict[str, Any]:
        try:
            return load_yaml(path, what)
        except (FileNotFoundError, RuntimeError) as e:
            raise ModelLoadError(str(e)) from e

    def write_configs(self, directory: PathLike) -> Tuple[str, Optional[str]]:
        """Write the resolved model config (pointing at the resolved LM config) there.

        Returns the paths of the model config (``<task>_config.yaml``) and of the unit
        LM config (None without one).
        """
        d = Path(directory)
        cfg = copy.deepcopy(self.config)
        lm_path = None
        if self.lm_config is not None:
            lm_path = str(d / "unit_lm_config.yaml")
            with open(lm_path, "w", encoding="utf-8") as f:
                yaml.safe_dump(self.lm_config, f, sort_keys=False, allow_unicode=True)
            set_in(cfg, self.task.frontend_conf + ("lm_train_config",), lm_path)
        cfg_path = str(d / f"{self.task.name}_config.yaml")
        with open(cfg_path, "w", encoding="utf-8") as f:
            yaml.safe_dump(cfg, f, sort_keys=False, allow_unicode=True)
        return cfg_path, lm_path


# --------------------------------------------------------------------------- main class
class Speech2Text:
    """Speech -> text with a discrete-unit ASR model (see the module docstring).

    Args:
        model: a packed model (archive from ``espnet2_ext.bin.pack_model``) or the
            directory it was unpacked to (by espnet_model_zoo, ESPnet's ``unpack`` or
            plain unzip).
        asr_train_config, asr_model_file, units_config: explicit files instead of (or,
            with ``model``, overriding) the packed ones.
        unit_lm_train_config, unit_lm_file, kmeans_model, bpemodel: optional overrides
            (these are also the keys ``espnet_model_zoo`` returns for a packed model).
        base_dir: the recipe directory that relative paths in explicit configs are
            relative to (default: the working directory, then the directories above
            the config).
        unpack_dir: where to unpack an archive (default: a temporary directory removed
            with this object).
        trust_pickle: also load the legacy pickled formats (a joblib k-means model,
            a checkpoint that ``torch.load(weights_only=True)`` refuses, a units config
            asking for ``feature_conf.trust_pickle``), which runs code stored in the
            files: only for models you trust. Off by default.
        device: ``cpu`` or ``cuda``.
        beam_size, ctc_weight, maxlenratio, minlenratio, penalty, nbest,
        normalize_length, dtype: ESPnet's ``Text2Text`` decoding options.
        min_duration, max_duration: seconds; shorter/longer audio raises ``AudioError``
            (``too_long``: refused from the file header, before decoding). The units'
            extractor may impose a stricter limit of its own (Whisper: 30 s), which
            ``self.max_duration`` then holds.
        feature_batch_size: utterances per feature-extraction batch in :meth:`batch`.
    """

    def __init__(
        self,
        model: Optional[PathLike] = None,
        asr_train_config: Optional[PathLike] = None,
        asr_model_file: Optional[PathLike] = None,
        units_config: Optional[PathLike] = None,
        unit_lm_train_config: Optional[PathLike] = None,
        unit_lm_file: Optional[PathLike] = None,
        kmeans_model: Optional[PathLike] = None,
        bpemodel: Optional[PathLike] = None,
        base_dir: Optional[PathLike] = None,
        unpack_dir: Optional[PathLike] = None,
        trust_pickle: bool = False,
        device: str = "cpu",
        beam_size: int = 10,
        ctc_weight: float = 0.3,
        maxlenratio: float = 3.0,
        minlenratio: float = 0.0,
        penalty: float = 0.0,
        nbest: int = 1,
        normalize_length: bool = False,
        dtype: str = "float32",
        min_duration: float = 0.1,
        max_duration: Optional[float] = None,
        feature_batch_size: int = 8,
    ):
        from espnet2_ext.utils.checkpoint import build_text2text

        if maxlenratio <= 0:
            raise ValueError(
                "maxlenratio must be > 0: with 0 ESPnet caps the output at the "
                "compressed source length, which can be shorter than the text"
            )
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but CUDA is not available")
        self.files = ResolvedModel(
            model=model,
            asr_train_config=asr_train_config,
            asr_model_file=asr_model_file,
            units_config=units_config,
            unit_lm_train_config=unit_lm_train_config,
            unit_lm_file=unit_lm_file,
            kmeans_model=kmeans_model,
            bpemodel=bpemodel,
            base_dir=base_dir,
            unpack_dir=unpack_dir,
        )
        self.device = device
        self._cfg_dir = tempfile.TemporaryDirectory(prefix="espnet2_ext_s2t_")
        asr_cfg = self.files.asr_config

        # audio -> units -> source token ids: the shared units module
        src_tokens = model_src_token_list(asr_cfg)
        if src_tokens is None:
            raise ModelLoadError("the ASR config has no source token list")
        self.speech2units = Speech2Units(
            self.files.units_config,
            src_tokens,
            device=device,
            trust_pickle=trust_pickle,
            min_duration=min_duration,
            max_duration=max_duration,
            feature_batch_size=feature_batch_size,
        )
        self.max_duration = self.speech2units.max_duration
        self.src_token_list = self.speech2units.src_token_list

        # ESPnet's MT inference (discrete ASR is an MT model)
        # a model without CTC: another MT model, or one trained with ctc_weight 0
        # (speech translation: conf/st.yaml), which ESPnet builds without its CTC
        no_ctc = asr_cfg.get("model") != "discrete_asr" or (
            float((asr_cfg.get("model_conf") or {}).get("ctc_weight", 0.5)) == 0.0
        )
        if no_ctc and ctc_weight != 0.0:
            logger.info("the model has no CTC: decoding with ctc_weight=0")
            ctc_weight = 0.0
        cfg_path, _ = self.files.write_configs(self._cfg_dir.name)
        bpe = asr_cfg.get("bpemodel")
        try:
            # ESPnet's Text2Text, the checkpoint read with weights_only=True and its
            # keys and shapes checked (ESPnet: strict=False)
            self.text2text = build_text2text(
                cfg_path,
                self.files.asr_model_file,
                trust_pickle=trust_pickle,
                bpemodel=str(bpe) if bpe else None,
                device=device,
                maxlenratio=maxlenratio,
                minlenratio=minlenratio,
                beam_size=beam_size,
                ctc_weight=ctc_weight,
                penalty=penalty,
                nbest=nbest,
                normalize_length=normalize_length,
                dtype=dtype,
            )
        except Exception as e:
            raise ModelLoadError(
                f"cannot build the ASR model from {self.files.asr_model_file}: "
                f"{type(e).__name__}: {e}"
            ) from e
        self.maxlenratio, self.minlenratio, self.ctc_weight = (
            maxlenratio,
            minlenratio,
            ctc_weight,
        )
        if ctc_weight > 0.0 and maxlenratio > 1.0:
            logger.info(
                "ctc_weight=%s: hypotheses are at most as long as the encoder output "
                "(CTC); maxlenratio=%s applies with ctc_weight=0",
                ctc_weight,
                maxlenratio,
            )
        tok = self.text2text.tokenizer
        if tok is not None and hasattr(tok, "tokens2text"):
            tok.tokens2text(
                []
            )  # loads a sentencepiece model now, not at the first call

    # ------------------------------------------------------------------ steps
    # audio -> units: espnet2_ext.units.speech2units (shared with every entry point)
    @property
    def extractor(self):
        return self.speech2units.extractor

    @property
    def kmeans(self):
        return self.speech2units.kmeans

    def load_waveform(
        self, audio: AudioInput, sample_rate: Optional[int] = None
    ) -> torch.Tensor:
        """A path or samples -> (N,) mono float32 at 16 kHz; raises ``AudioError``."""
        return self.speech2units.load_waveform(audio, sample_rate)

    def units_batch(self, wavs: Sequence[torch.Tensor]) -> List[np.ndarray]:
        """16 kHz waveforms -> k-means unit ids (T,) each (50 Hz), batched by length."""
        return self.speech2units.units_batch(wavs)

    def units(self, audio: AudioInput, sample_rate: Optional[int] = None) -> np.ndarray:
        """The k-means unit ids of one utterance."""
        return self.speech2units.units(audio, sample_rate)

    def token_ids(self, units: np.ndarray) -> np.ndarray:
        """k-means ids -> the model's source token ids."""
        return self.speech2units.token_ids(units)

    @torch.no_grad()
    def decode_units(
        self, units: np.ndarray
    ) -> List[Tuple[str, List[str], List[int], Any]]:
        """k-means ids -> ESPnet's n-best list ``[(text, tokens, token ids, hyp)]``.

        As ``Text2Text.__call__``, except for the output length bound: at most
        ``maxlenratio`` x the encoder length, and -- when CTC scores the hypotheses --
        at most the encoder length (CTC emits at most one token per frame; ESPnet's
        CTC prefix scorer fails beyond it).
        """
        if len(units) == 0:
            raise AudioError(REASON_TOO_SHORT, "<units>", "no units")
        t2t = self.text2text
        src = torch.from_numpy(self.token_ids(units)).unsqueeze(0).to(self.device)
        lengths = torch.tensor([src.size(1)], dtype=torch.long, device=self.device)
        enc, _ = t2t.mt_model.encode(src_text=src, src_text_lengths=lengths)
        if isinstance(enc, tuple):
            enc = enc[0]
        T = enc.size(1)
        maxlen = max(1, int(self.maxlenratio * T))
        if self.ctc_weight > 0.0:
            maxlen = min(maxlen, T)
        hyps = t2t.beam_search(
            x=enc[0], maxlenratio=-float(maxlen), minlenratio=self.minlenratio
        )
        out = []
        special = {t2t.mt_model.sos, t2t.mt_model.eos, 0}
        for hyp in hyps[: t2t.nbest]:
            token_int = [int(t) for t in hyp.yseq.tolist() if int(t) not in special]
            token = t2t.converter.ids2tokens(token_int)
            if t2t.tokenizer is not None:
                text = t2t.tokenizer.tokens2text(token)
            else:  # no detokenizer (e.g. bpe without a model)
                text = " ".join(token)
            out.append((text, token, token_int, hyp))
        return out

    def units_to_text(self, units: np.ndarray) -> str:
        results = self.decode_units(units)
        return results[0][0] if results else ""

    # ------------------------------------------------------------------ API
    def __call__(self, audio: AudioInput, sample_rate: Optional[int] = None) -> str:
        """One utterance (a path or samples) -> text."""
        return self.units_to_text(self.units(audio, sample_rate))

    def batch(
        self,
        audios: Sequence[AudioInput],
        sample_rates: Union[int, Sequence[Optional[int]], None] = None,
    ) -> List[str]:
        """Several utterances -> texts (features batched; decoding one by one, as
        ESPnet's MT inference does). Raises on the first unusable input."""
        if sample_rates is None or isinstance(sample_rates, int):
            sample_rates = [sample_rates] * len(audios)
        if len(sample_rates) != len(audios):
            raise ValueError("sample_rates must have one entry per input")
        wavs = [self.load_waveform(a, r) for a, r in zip(audios, sample_rates)]
        return [self.units_to_text(u) for u in self.units_batch(wavs)]

    @staticmethod
    def from_pretrained(
        model_tag: str, cachedir: Optional[PathLike] = None, **kwargs: Any
    ) -> "Speech2Text":
        """A local archive/directory, or a name espnet_model_zoo can download (e.g. a
        Hugging Face repo id uploaded by ``espnet2_ext.bin.upload_model``). A downloaded
        archive is unpacked here, with the path checks of :func:`unpack_model`."""
        if Path(model_tag).exists():
            return Speech2Text(model=model_tag, **kwargs)
        from espnet2_ext.compat import ModelDownloader

        return Speech2Text(
            model=ModelDownloader(cachedir).download(model_tag), **kwargs
        )
