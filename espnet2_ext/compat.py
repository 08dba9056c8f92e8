"""The one place where espnet2_ext names ESPnet's internals.

ESPnet moves modules between releases: 202611, for one, moved the legacy ``espnet.nets``
package to ``espnet2.legacy.nets`` (``make_pad_mask`` now lives in
``espnet2.legacy.nets.pytorch_backend.nets_utils``). Every import of an ESPnet (or
``espnet_model_zoo``) module in this project, package, recipes and tests alike, goes
through this module, so the next move is a change to the table below and nothing else.

Names are resolved lazily (PEP 562 ``__getattr__``): ``from espnet2_ext.compat import
LMTask`` imports ``espnet2.tasks.lm`` at that moment, not when this module is imported.
``import espnet2_ext`` therefore stays fast, and a tool that never touches ESPnet never
pays for it. :func:`check` resolves every name at once (the set-up and the tests call
it), so a layout change in a new ESPnet release shows up as one clear error naming the
entry to fix.

Written for ESPnet 202611 (:data:`ESPNET_RELEASE`), with torch 2.14.1 and torchaudio
2.11.0 (``setup.cfg`` pins the three together).
"""

import importlib
from importlib import metadata
from typing import Any, Dict, List, Tuple

#: The ESPnet release the table below is written for (``setup.cfg`` pins it).
ESPNET_RELEASE = "202611"

#: The module whose import registers our frontends (see ``espnet2_ext/__init__.py``):
#: the MT task, which ESPnet also uses for discrete-unit ASR (``model: discrete_asr``).
MT_TASK_MODULE = "espnet2.tasks.mt"

#: ``name -> (module, attribute)``: every ESPnet object that espnet2_ext uses.
_TABLE: Dict[str, Tuple[str, str]] = {
    # tasks and class-choice registries
    "MTTask": (MT_TASK_MODULE, "MTTask"),
    "mt_frontend_choices": (MT_TASK_MODULE, "frontend_choices"),
    "mt_model_choices": (MT_TASK_MODULE, "model_choices"),
    "mt_specaug_choices": (MT_TASK_MODULE, "specaug_choices"),
    "LMTask": ("espnet2.tasks.lm", "LMTask"),
    "TTSTask": ("espnet2.tasks.tts", "TTSTask"),
    "tts_choices": ("espnet2.tasks.tts", "tts_choices"),
    "tts_feats_extractor_choices": ("espnet2.tasks.tts", "feats_extractor_choices"),
    # model parts
    "AbsFrontend": ("espnet2.asr.frontend.abs_frontend", "AbsFrontend"),
    "AbsSpecAug": ("espnet2.asr.specaug.abs_specaug", "AbsSpecAug"),
    "AbsPreEncoder": ("espnet2.asr.preencoder.abs_preencoder", "AbsPreEncoder"),
    "AbsEncoder": ("espnet2.asr.encoder.abs_encoder", "AbsEncoder"),
    "AbsPostEncoder": ("espnet2.asr.postencoder.abs_postencoder", "AbsPostEncoder"),
    "AbsDecoder": ("espnet2.asr.decoder.abs_decoder", "AbsDecoder"),
    "CTC": ("espnet2.asr.ctc", "CTC"),
    "ESPnetDiscreteASRModel": (
        "espnet2.asr.discrete_asr_espnet_model",
        "ESPnetDiscreteASRModel",
    ),
    "ASRErrorCalculator": (
        "espnet2.legacy.nets.e2e_asr_common",
        "ErrorCalculator",
    ),
    "Embedding": ("espnet2.mt.frontend.embedding", "Embedding"),
    "TransformerEncoder": (
        "espnet2.asr.encoder.transformer_encoder",
        "TransformerEncoder",
    ),
    "ConformerEncoder": (
        "espnet2.asr.encoder.conformer_encoder",
        "ConformerEncoder",
    ),
    "AbsTTS": ("espnet2.tts.abs_tts", "AbsTTS"),
    "AbsFeatsExtract": (
        "espnet2.tts.feats_extract.abs_feats_extract",
        "AbsFeatsExtract",
    ),
    "LogMelFbank": ("espnet2.tts.feats_extract.log_mel_fbank", "LogMelFbank"),
    "HiFiGANGenerator": ("espnet2.gan_tts.hifigan", "HiFiGANGenerator"),
    "JointText2Wav": ("espnet2.gan_tts.joint", "JointText2Wav"),
    "force_gatherable": ("espnet2.torch_utils.device_funcs", "force_gatherable"),
    "create_adapter": ("espnet2.layers.create_adapter", "create_adapter"),
    "initialize": ("espnet2.torch_utils.initialize", "initialize"),
    # legacy espnet.nets (espnet2.legacy.nets since 202611)
    "make_pad_mask": (
        "espnet2.legacy.nets.pytorch_backend.nets_utils",
        "make_pad_mask",
    ),
    # inference
    "Text2Text": ("espnet2.bin.mt_inference", "Text2Text"),
    "mt_inference_get_parser": ("espnet2.bin.mt_inference", "get_parser"),
    "mt_inference_main": ("espnet2.bin.mt_inference", "main"),
    "Text2Speech": ("espnet2.bin.tts_inference", "Text2Speech"),
    # data files
    "ESPnetDataset": ("espnet2.train.dataset", "ESPnetDataset"),
    "read_2columns_text": ("espnet2.fileio.read_text", "read_2columns_text"),
    "SoundScpReader": ("espnet2.fileio.sound_scp", "SoundScpReader"),
    "MutliTokenizerCommonPreprocessor": (
        "espnet2.train.preprocessor",
        "MutliTokenizerCommonPreprocessor",
    ),
    # packed models
    "Archiver": ("espnet2.main_funcs.pack_funcs", "Archiver"),
    "ModelDownloader": ("espnet_model_zoo.downloader", "ModelDownloader"),
}

__all__ = ["ESPNET_RELEASE", "MT_TASK_MODULE", "check", "espnet_version", *_TABLE]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _TABLE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    try:
        value = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise ImportError(
            f"espnet2_ext.compat: {name} = {module}.{attr} is not in the installed "
            f"ESPnet ({espnet_version()}; this table is written for "
            f"{ESPNET_RELEASE}): {e}. If ESPnet moved it, update "
            "espnet2_ext/compat.py."
        ) from e
    globals()[name] = value  # resolved once; later look-ups are plain attributes
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_TABLE))


def espnet_version() -> str:
    """The installed ESPnet distribution's version (``"not installed"`` if none)."""
    try:
        return metadata.version("espnet")
    except metadata.PackageNotFoundError:
        return "not installed"


def check() -> None:
    """Resolve every name of the table.

    Raises ``ImportError`` naming each one missing.
    """
    errors = []
    for name in _TABLE:
        try:
            __getattr__(name)
        except ImportError as e:
            errors.append(str(e))
    if errors:
        raise ImportError("\n".join(errors))
