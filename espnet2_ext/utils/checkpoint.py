"""Loading model checkpoints without running pickled code, and checking what they hold.

ESPnet's ``AbsTask.build_model_from_file`` loads checkpoints with ``strict=False`` (a
checkpoint of another model leaves the model randomly initialised, silently). Since
202611 it reads them with ``weights_only=True`` first, but falls back to
``weights_only=False`` (a ``.pth`` from elsewhere can run arbitrary code) when the
environment sets ``ESPNET_ALLOW_UNSAFE_TORCH_LOAD=1`` or someone at a terminal confirms
it. The functions here are the safe counterparts:

* :func:`load_state_dict_file`: ``torch.load(weights_only=True)``; the unsafe
  ``weights_only=False`` only when the caller says it trusts the file
  (``trust_pickle=True``).
* :func:`check_state_dict`: the state dict's keys and tensor shapes against the
  model's; a :class:`CheckpointError` names missing keys, unexpected keys and shape
  mismatches (a few of each).
* :func:`build_model_from_file`: ESPnet's ``build_model_from_file`` with both.
"""

import argparse
import logging
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
import yaml

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]

SHOW = 5  # how many keys of each kind an error message names


class CheckpointError(RuntimeError):
    """Checkpoint cannot be read safely, or does not fit the model it is loaded into."""


TRUST_HINT = (
    "only if you trust where this file comes from, load it with trust_pickle=True "
    "(command line: --trust_remote_pickle), which runs the code pickled in it"
)


def load_state_dict_file(
    path: PathLike,
    what: str = "checkpoint",
    map_location: Union[str, torch.device] = "cpu",
    trust_pickle: bool = False,
) -> Dict[str, torch.Tensor]:
    """Read a state dict saved with ``torch.save(model.state_dict())``.

    Args:
        path: the ``.pth`` file.
        what: what the file is, for error messages (e.g. ``unit LM checkpoint``).
        map_location: as ``torch.load``'s.
        trust_pickle: if ``torch.load(weights_only=True)`` refuses the file, retry with
            ``weights_only=False`` (runs pickled code from the file).

    Returns:
        ``{name: tensor}`` (a DeepSpeed checkpoint's ``"module"`` entry is unwrapped).

    Raises:
        CheckpointError: the file is missing, holds more than tensors (and
            ``trust_pickle`` is false), or is not a state dict.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{what} not found: {path}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        if not trust_pickle:
            raise CheckpointError(
                f"{what} {path} cannot be read with torch.load(weights_only=True) "
                f"({type(e).__name__}: {first}): it is not a plain state dict of "
                f"tensors; {TRUST_HINT}"
            ) from e
        logger.warning(
            "%s %s: not loadable with weights_only=True (%s); loading it with "
            "weights_only=False because trust_pickle is set",
            what,
            path,
            first,
        )
        obj = torch.load(path, map_location=map_location, weights_only=False)
    if isinstance(obj, dict) and isinstance(obj.get("module"), dict):  # DeepSpeed
        obj = obj["module"]
    if not isinstance(obj, dict):
        raise CheckpointError(
            f"{what} {path}: expected a state dict (name -> tensor), got "
            f"{type(obj).__name__}"
        )
    bad = [
        k
        for k, v in obj.items()
        if not (isinstance(k, str) and isinstance(v, torch.Tensor))
    ]
    if bad:
        raise CheckpointError(
            f"{what} {path}: not a state dict: {len(bad)} entries are not name -> "
            f"tensor, e.g. {_names(map(repr, bad))}"
        )
    return obj


def _names(keys: Iterable[str], n: int = SHOW) -> str:
    keys = list(keys)
    more = f", ... (+{len(keys) - n} more)" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def state_dict_mismatch(
    model: torch.nn.Module,
    state_dict: Dict[str, torch.Tensor],
    ignore_missing: Sequence[str] = (),
) -> Tuple[List[str], List[str], List[Tuple[str, Tuple[int, ...], Tuple[int, ...]]]]:
    """``(missing, unexpected, shape mismatches)`` of ``state_dict`` against ``model``.

    ``ignore_missing``: key prefixes the checkpoint may lack (e.g. the parameters of a
    frozen submodule loaded from its own file). Mismatches are
    ``(key, checkpoint shape, model shape)``.
    """
    expected = model.state_dict()
    missing = [
        k
        for k in expected
        if k not in state_dict and not any(k.startswith(p) for p in ignore_missing)
    ]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [
        (k, tuple(v.shape), tuple(expected[k].shape))
        for k, v in state_dict.items()
        if k in expected and tuple(v.shape) != tuple(expected[k].shape)
    ]
    return missing, unexpected, shapes


def check_state_dict(
    model: torch.nn.Module,
    state_dict: Dict[str, torch.Tensor],
    what: str = "checkpoint",
    ignore_missing: Sequence[str] = (),
) -> None:
    """Raise :class:`CheckpointError` unless ``state_dict`` fits ``model`` exactly.

    Exactly: the same keys (up to the ``ignore_missing`` prefixes) and the same shape
    for every tensor. The message names a few missing keys, unexpected keys and shape
    mismatches, with their counts.
    """
    missing, unexpected, shapes = state_dict_mismatch(model, state_dict, ignore_missing)
    if not (missing or unexpected or shapes):
        return
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys ({_names(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys ({_names(unexpected)})")
    if shapes:
        parts.append(
            f"{len(shapes)} shape mismatches ("
            + _names(
                f"{k}: checkpoint {list(a)} vs model {list(b)}" for k, a, b in shapes
            )
            + ")"
        )
    raise CheckpointError(
        f"{what} does not fit the model built from its config: {'; '.join(parts)}. "
        "Is it the checkpoint of this model (same config, same token list)?"
    )


def load_checked(
    model: torch.nn.Module,
    path: PathLike,
    what: str = "checkpoint",
    ignore_missing: Sequence[str] = (),
    trust_pickle: bool = False,
) -> None:
    """Load the state dict in ``path`` into ``model`` after :func:`check_state_dict`."""
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    sd = load_state_dict_file(
        path, what, map_location=device, trust_pickle=trust_pickle
    )
    check_state_dict(model, sd, f"{what} {path}", ignore_missing)
    model.load_state_dict(sd, strict=False)  # complete up to ignore_missing (checked)


def build_model_from_file(
    task: Any,
    config_file: PathLike,
    model_file: Optional[PathLike] = None,
    device: str = "cpu",
    what: str = "checkpoint",
    ignore_missing: Sequence[str] = (),
    trust_pickle: bool = False,
) -> Tuple[torch.nn.Module, argparse.Namespace]:
    """``task.build_model_from_file`` (ESPnet), loading the checkpoint safely.

    And strictly: its keys and shapes must match the model's.

    Args:
        task: an ESPnet task class (``LMTask``, ``MTTask``, ...).
        config_file: the ``config.yaml`` written by training.
        model_file: the checkpoint (None: the model stays as built).
        device: where the model is built and the checkpoint mapped.
        what, ignore_missing, trust_pickle: see :func:`load_checked`.

    The frozen unit LMs inside the model (:func:`frozen_lm_prefixes`) load their
    weights from their own file, so the checkpoint may lack them.

    Returns:
        (model, training arguments), as ESPnet's.
    """
    config_file = Path(config_file)
    if not config_file.is_file():
        raise CheckpointError(f"config not found: {config_file}")
    with config_file.open("r", encoding="utf-8") as f:
        args = yaml.safe_load(f)
    if not isinstance(args, dict):
        raise CheckpointError(f"{config_file}: not a YAML mapping")
    args = argparse.Namespace(**args)
    model = task.build_model(args)
    if device != "mps":
        model.to(device)
    if getattr(args, "use_adapter", False):
        from espnet2_ext.compat import create_adapter

        create_adapter(model, args.adapter, args.adapter_conf)
    if model_file is not None:
        ignore = list(ignore_missing) + frozen_lm_prefixes(model)
        load_checked(model, model_file, what, ignore, trust_pickle)
    return model, args


def build_text2text(
    mt_train_config: PathLike,
    mt_model_file: PathLike,
    trust_pickle: bool = False,
    **kwargs: Any,
):
    """ESPnet's ``Text2Text`` (MT / discrete-ASR decoding), checkpoint loaded safely.

    ``Text2Text`` is built without weights (with its ``mt_model_file`` it would load
    them with ``strict=False``), then the checkpoint is loaded into its model with
    :func:`load_checked`. ``kwargs``: the other ``Text2Text``
    arguments (not ``lm_train_config``: an external LM is not loaded here).
    """
    from espnet2_ext.compat import Text2Text

    if kwargs.get("lm_train_config") is not None or kwargs.get("lm_file") is not None:
        raise ValueError("build_text2text does not load an external LM")
    t2t = Text2Text(mt_train_config=mt_train_config, mt_model_file=None, **kwargs)
    model = t2t.mt_model
    load_checked(
        model,
        mt_model_file,
        "ASR/MT model checkpoint",
        ignore_missing=frozen_lm_prefixes(model),
        trust_pickle=trust_pickle,
    )
    return t2t


def use_safe_espnet_loaders(trust_pickle: bool = False) -> None:
    """Make ESPnet's ``MTTask`` / ``LMTask.build_model_from_file`` load checkpoints the
    way :func:`build_model_from_file` does (``weights_only=True``, keys and shapes
    checked), for the rest of this process.

    For command-line wrappers around ESPnet's own inference scripts
    (``espnet2_ext.bin.mt_inference``), which build their models through these methods.
    """
    from espnet2_ext.compat import LMTask, MTTask

    def safe(cls, config_file=None, model_file=None, device="cpu"):
        if config_file is None:
            if model_file is None:
                raise CheckpointError("give config_file or model_file")
            config_file = Path(model_file).parent / "config.yaml"
        return build_model_from_file(
            cls,
            config_file,
            model_file,
            device,
            what=f"{cls.__name__} checkpoint",
            trust_pickle=trust_pickle,
        )

    for task in (MTTask, LMTask):
        task.build_model_from_file = classmethod(safe)


def frozen_lm_prefixes(model: torch.nn.Module) -> List[str]:
    """State-dict prefixes of the frozen unit LMs inside ``model``.

    Their weights come from the LM's own file (``frontend_conf.lm_file``), so an ASR
    checkpoint may lack them.
    """
    from espnet2_ext.entropy.unit_lm import UnitLM

    return [
        f"{name}."
        for name, m in model.named_modules()
        if isinstance(m, UnitLM) and name
    ]
