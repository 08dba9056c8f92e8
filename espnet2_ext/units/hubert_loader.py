"""Build torchaudio HuBERT models and load their weights from the usual sources.

What is supported (``checkpoint`` argument of :func:`load_hubert`):

``"random"``
    The architecture given by ``arch`` (``base``: 768-dim, 12 layers; ``large``:
    1024-dim, 24 layers; ``xlarge``: 1280-dim, 48 layers), randomly initialised
    with a fixed ``seed`` so that every process/shard gets the same model.
    For tests and offline dry runs only: its features carry no phonetic information.

``"torchaudio:HUBERT_BASE"`` (or ``"HUBERT_BASE"``; any ``torchaudio.pipelines`` name)
    ``torchaudio.pipelines.<NAME>.get_model()``; downloads the weights on first use
    (needs internet; cached by ``torch.hub``).

a local file, format detected from its keys (no ``fairseq`` or ``transformers``
install is needed; the key mapping is done here):

* **fairseq** checkpoints (``hubert_base_ls960.pt``, ``hubert_large_ll60k.pt``,
  mHuBERT-147, fine-tuned ``HubertCtc`` checkpoints: the ``w2v_encoder.`` part is used,
  the CTC projection dropped): a dict with ``"model"`` (state dict) and ``"cfg"`` (or
  the old ``"args"``). The architecture is read from the tensor shapes plus
  ``cfg.model`` (``encoder_attention_heads``, ``layer_norm_first``,
  ``conv_feature_layers``) and ``cfg.task.normalize`` (waveform normalisation). Such
  checkpoints pickle an omegaconf config, so ``torch.load(weights_only=True)``, the only
  path by default, refuses them with an error; with ``trust_pickle=True``
  (``feature_conf`` ``trust_pickle=true``) they are re-loaded with
  ``weights_only=False``, which executes pickled code from the file: only for
  checkpoints you trust. (A torchaudio or transformers state dict of the same model
  needs no such switch.)
* **torchaudio** state dicts (what ``torchaudio.pipelines`` downloads, e.g. a local copy
  of ``hubert_fairseq_base_ls960.pth``, or ``torch.save(model.state_dict())`` of a
  ``torchaudio.models.Wav2Vec2Model``), also nested in a bigger model: the prefix in
  front of ``encoder.transformer.`` is stripped, which covers ESPnet's own HuBERT
  (``TorchAudioHuBERTPretrainEncoder``, ``encoder.hubert_pretrain_model.wav2vec2.``).
  Its (model-level) ``model.pth`` has no head count etc.: pass ``num_heads`` /
  ``layer_norm_first`` when the model is not a standard Base/Large/XLarge.
* **Hugging Face transformers** ``HubertModel``/``HubertForCTC`` weights
  (``pytorch_model.bin``, or ``model.safetensors`` when the ``safetensors`` package is
  installed). ``config.json`` / ``preprocessor_config.json`` next to the file are read
  when present (heads, ``do_stable_layer_norm``, ``conv_stride``, ``do_normalize``).

When a setting cannot be read from a config it falls back on the standard HuBERT values
for the embedding size (768 -> Base: 12 heads, post-LN, no waveform normalisation;
1024/1280 -> Large/XLarge: 16 heads, pre-LN, waveform normalisation).

The fairseq and HF mappings are checked in the tests against synthetic checkpoints with
the published key names (and the fairseq names against torchaudio's own
``import_fairseq`` key map); they have not been run on the real released files here,
since nothing can be downloaded on the development machines.
"""

import ast
import json
import logging
import os
import re
from typing import Any, Dict, Optional, Tuple

import torch
import torchaudio
from torchaudio.models import Wav2Vec2Model

ARCHS = {
    "base": torchaudio.models.hubert_base,
    "large": torchaudio.models.hubert_large,
    "xlarge": torchaudio.models.hubert_xlarge,
}
# fairseq's task.normalize: False for HuBERT Base, True for Large/XLarge.
DEFAULT_NORMALIZE = {"base": False, "large": True, "xlarge": True}
_HEADS_BY_DIM = {768: 12, 1024: 16, 1280: 16}
_DEFAULT_STRIDE_BY_KERNEL = {10: 5, 3: 2, 2: 2}

_POS = "encoder.transformer.pos_conv_embed.conv."


def build_hubert(arch: str, seed: Optional[int] = 0) -> Wav2Vec2Model:
    """HuBERT of a standard architecture, randomly initialised (no dropout at eval).

    Args:
        arch: ``base``, ``large`` or ``xlarge``.
        seed: seeds the initialisation without touching the global RNG state
            (None: use the global RNG).
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown HuBERT arch {arch!r}; choose from {sorted(ARCHS)}")
    if seed is None:
        return ARCHS[arch]().eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ARCHS[arch]().eval()


# --------------------------------------------------------------------------- key maps
_FAIRSEQ_DROP = re.compile(
    r"^(mask_emb|label_embs_concat|final_proj\.|proj\.|quantizer\.|project_q\.|"
    r"target_glu\.|untie_final_proj|encoder\.layer_norm_first)"
)
_FAIRSEQ_RULES = [
    (
        r"^feature_extractor\.conv_layers\.(\d+)\.0\.(weight|bias)$",
        r"feature_extractor.conv_layers.\1.conv.\2",
    ),
    (
        r"^feature_extractor\.conv_layers\.0\.2\.(weight|bias)$",
        r"feature_extractor.conv_layers.0.layer_norm.\1",
    ),
    (
        r"^feature_extractor\.conv_layers\.(\d+)\.2\.1\.(weight|bias)$",
        r"feature_extractor.conv_layers.\1.layer_norm.\2",
    ),
    (r"^layer_norm\.(weight|bias)$", r"encoder.feature_projection.layer_norm.\1"),
    (
        r"^post_extract_proj\.(weight|bias)$",
        r"encoder.feature_projection.projection.\1",
    ),
    (r"^encoder\.pos_conv\.0\.bias$", _POS + "bias"),
    (r"^encoder\.pos_conv\.0\.weight_g$", _POS + "parametrizations.weight.original0"),
    (r"^encoder\.pos_conv\.0\.weight_v$", _POS + "parametrizations.weight.original1"),
    (
        r"^encoder\.pos_conv\.0\.parametrizations\.weight\.(original[01])$",
        _POS + r"parametrizations.weight.\1",
    ),
    (r"^encoder\.layer_norm\.(weight|bias)$", r"encoder.transformer.layer_norm.\1"),
    (
        r"^encoder\.layers\.(\d+)\.self_attn\.(q|k|v|out)_proj\.(weight|bias)$",
        r"encoder.transformer.layers.\1.attention.\2_proj.\3",
    ),
    (
        r"^encoder\.layers\.(\d+)\.self_attn_layer_norm\.(weight|bias)$",
        r"encoder.transformer.layers.\1.layer_norm.\2",
    ),
    (
        r"^encoder\.layers\.(\d+)\.fc1\.(weight|bias)$",
        r"encoder.transformer.layers.\1.feed_forward.intermediate_dense.\2",
    ),
    (
        r"^encoder\.layers\.(\d+)\.fc2\.(weight|bias)$",
        r"encoder.transformer.layers.\1.feed_forward.output_dense.\2",
    ),
    (
        r"^encoder\.layers\.(\d+)\.final_layer_norm\.(weight|bias)$",
        r"encoder.transformer.layers.\1.final_layer_norm.\2",
    ),
]
_FAIRSEQ_RULES = [(re.compile(a), b) for a, b in _FAIRSEQ_RULES]

_HF_DROP = re.compile(
    r"^(lm_head\.|masked_spec_embed|project_hid\.|project_q\.|quantizer\.|dropout)"
)


def _normalise_weight_norm_keys(sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Old-style ``weight_g``/``weight_v`` -> torch parametrization names."""
    out = {}
    for k, v in sd.items():
        if k == _POS + "weight_g":
            k = _POS + "parametrizations.weight.original0"
        elif k == _POS + "weight_v":
            k = _POS + "parametrizations.weight.original1"
        out[k] = v
    return out


def fairseq_to_torchaudio(sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Rename a fairseq HuBERT/wav2vec2 state dict to torchaudio's Wav2Vec2Model keys.

    Pre-training-only parameters (mask embedding, label embeddings, final projection)
    and a fine-tuned model's output projection are dropped.

    Raises:
        ValueError: for keys that are neither mapped nor known to be droppable.
    """
    out, unknown = {}, []
    for key, val in sd.items():
        k = key
        for prefix in ("w2v_encoder.", "w2v_model."):
            if k.startswith(prefix):
                k = k[len(prefix) :]
        if _FAIRSEQ_DROP.match(k):
            continue
        for pat, repl in _FAIRSEQ_RULES:
            if pat.match(k):
                out[pat.sub(repl, k)] = val
                break
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(f"unexpected keys in fairseq checkpoint: {unknown[:10]}")
    return out


def huggingface_to_torchaudio(sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Rename a transformers HuBERT state dict to torchaudio's names.

    The state dict of a ``HubertModel`` or a ``HubertForCTC``.
    """
    out, unknown = {}, []
    for key, val in sd.items():
        k = key
        for prefix in ("hubert.", "wav2vec2."):
            if k.startswith(prefix):
                k = k[len(prefix) :]
        if _HF_DROP.match(k):
            continue
        if k.startswith("feature_extractor."):
            out[k] = val
        elif k.startswith("feature_projection."):
            out["encoder." + k] = val
        elif k.startswith("encoder."):
            out["encoder.transformer." + k[len("encoder.") :]] = val
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(f"unexpected keys in transformers checkpoint: {unknown[:10]}")
    return _normalise_weight_norm_keys(out)


def strip_torchaudio_prefix(sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Keep the torchaudio ``Wav2Vec2Model`` inside a bigger model's state dict.

    E.g. an ESPnet HuBERT (``TorchAudioHuBERTPretrainEncoder``) checkpoint has keys
    ``encoder.hubert_pretrain_model.wav2vec2.feature_extractor...``: the prefix in front
    of ``encoder.transformer.layers.0.`` is removed and keys without it are dropped.
    """
    prefix = None
    for k in sd:
        i = k.find("encoder.transformer.layers.0.")
        if i >= 0:
            prefix = k[:i]
            break
    if not prefix:
        return sd
    return {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}


def detect_format(sd: Dict[str, Any]) -> str:
    """``fairseq``, ``torchaudio`` or ``huggingface`` from the state dict's keys."""
    keys = [k for k in sd.keys() if isinstance(k, str)]
    if any(k.endswith("post_extract_proj.weight") for k in keys):
        return "fairseq"
    if any("encoder.transformer.layers." in k for k in keys):
        return "torchaudio"
    if any(k.endswith("feature_projection.projection.weight") for k in keys):
        return "huggingface"
    raise ValueError(
        "cannot tell the checkpoint format (fairseq / torchaudio / transformers) "
        f"from its keys, e.g. {keys[:5]}"
    )


# ----------------------------------------------------------------- config inference
def _get(cfg: Any, *names: str) -> Any:
    """First present attribute/key of a dict, DictConfig or Namespace (else None)."""
    if cfg is None:
        return None
    for n in names:
        if isinstance(cfg, dict) or hasattr(cfg, "keys"):
            try:
                if n in cfg and cfg[n] is not None:
                    return cfg[n]
            except Exception:
                pass
        elif getattr(cfg, n, None) is not None:
            return getattr(cfg, n)
    return None


def infer_config(
    sd: Dict[str, torch.Tensor], hints: Optional[Dict[str, Any]] = None
) -> Dict[str, Any]:
    """Arguments of ``torchaudio.models.wav2vec2_model`` for a state dict.

    The state dict has torchaudio's keys.

    Sizes come from tensor shapes; what shapes cannot tell (heads, pre/post layer norm,
    conv strides) comes from ``hints`` (keys ``num_heads``, ``layer_norm_first``,
    ``conv_strides``) or the standard HuBERT value for the embedding size.
    """
    hints = hints or {}
    n_conv = 1 + max(
        int(m.group(1))
        for k in sd
        for m in [re.match(r"feature_extractor\.conv_layers\.(\d+)\.conv\.weight$", k)]
        if m
    )
    strides = hints.get("conv_strides")
    conv_cfg = []
    for i in range(n_conv):
        w = sd[f"feature_extractor.conv_layers.{i}.conv.weight"]
        out_ch, kernel = int(w.shape[0]), int(w.shape[2])
        if strides is not None:
            stride = int(strides[i])
        elif kernel in _DEFAULT_STRIDE_BY_KERNEL:
            stride = _DEFAULT_STRIDE_BY_KERNEL[kernel]
        else:
            raise ValueError(
                f"conv layer {i}: kernel {kernel} has no default stride; give "
                "conv_strides"
            )
        conv_cfg.append((out_ch, kernel, stride))
    layer_norm_mode = "feature_extractor.conv_layers.1.layer_norm.weight" in sd
    embed = int(sd["encoder.feature_projection.projection.weight"].shape[0])
    pos_v = sd[_POS + "parametrizations.weight.original1"]
    n_layers = 1 + max(
        int(m.group(1))
        for k in sd
        for m in [re.match(r"encoder\.transformer\.layers\.(\d+)\.", k)]
        if m
    )
    heads = hints.get("num_heads") or _HEADS_BY_DIM.get(embed)
    if heads is None:
        raise ValueError(f"cannot infer the number of attention heads for dim {embed}")
    lnf = hints.get("layer_norm_first")
    if lnf is None:
        lnf = embed != 768
    return dict(
        extractor_mode="layer_norm" if layer_norm_mode else "group_norm",
        extractor_conv_layer_config=conv_cfg,
        extractor_conv_bias="feature_extractor.conv_layers.0.conv.bias" in sd,
        encoder_embed_dim=embed,
        encoder_projection_dropout=0.0,
        encoder_pos_conv_kernel=int(pos_v.shape[2]),
        encoder_pos_conv_groups=embed // int(pos_v.shape[1]),
        encoder_num_layers=n_layers,
        encoder_num_heads=int(heads),
        encoder_attention_dropout=0.0,
        encoder_ff_interm_features=int(
            sd[
                "encoder.transformer.layers.0.feed_forward.intermediate_dense.weight"
            ].shape[0]
        ),
        encoder_ff_interm_dropout=0.0,
        encoder_dropout=0.0,
        encoder_layer_norm_first=bool(lnf),
        encoder_layer_drop=0.0,
        aux_num_out=None,
    )


def _fairseq_hints(ckpt: Dict[str, Any]) -> Tuple[Dict[str, Any], Optional[bool]]:
    cfg = ckpt.get("cfg")
    model_cfg = _get(cfg, "model") if cfg is not None else ckpt.get("args")
    task_cfg = _get(cfg, "task") if cfg is not None else ckpt.get("args")
    # fine-tuned checkpoints keep the pre-training config under w2v_args
    w2v = _get(model_cfg, "w2v_args")
    if w2v is not None:
        model_cfg = _get(w2v, "model") or model_cfg
        task_cfg = _get(w2v, "task") or task_cfg
    hints: Dict[str, Any] = {}
    heads = _get(model_cfg, "encoder_attention_heads")
    if heads is not None:
        hints["num_heads"] = int(heads)
    lnf = _get(model_cfg, "layer_norm_first")
    if lnf is not None:
        hints["layer_norm_first"] = bool(lnf)
    conv = _get(model_cfg, "conv_feature_layers")
    if isinstance(conv, str):
        try:
            hints["conv_strides"] = [int(c[2]) for c in ast.literal_eval(conv)]
        except Exception:
            pass
    normalize = _get(task_cfg, "normalize")
    return hints, (None if normalize is None else bool(normalize))


def _hf_hints(path: str) -> Tuple[Dict[str, Any], Optional[bool]]:
    d = os.path.dirname(os.path.abspath(path))
    hints: Dict[str, Any] = {}
    normalize = None
    cfg_path = os.path.join(d, "config.json")
    if os.path.isfile(cfg_path):
        with open(cfg_path) as f:
            cfg = json.load(f)
        if "num_attention_heads" in cfg:
            hints["num_heads"] = int(cfg["num_attention_heads"])
        if "do_stable_layer_norm" in cfg:
            hints["layer_norm_first"] = bool(cfg["do_stable_layer_norm"])
        if "conv_stride" in cfg:
            hints["conv_strides"] = [int(s) for s in cfg["conv_stride"]]
    pre_path = os.path.join(d, "preprocessor_config.json")
    if os.path.isfile(pre_path):
        with open(pre_path) as f:
            normalize = json.load(f).get("do_normalize")
    return hints, normalize


def _torch_load(path: str, trust_pickle: bool) -> Any:
    if path.endswith(".safetensors"):
        try:
            from safetensors.torch import load_file
        except ImportError as e:
            raise ImportError(
                "reading .safetensors needs the `safetensors` package"
            ) from e
        return load_file(path, device="cpu")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        if not trust_pickle:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise RuntimeError(
                f"{path}: cannot be loaded with torch.load(weights_only=True) "
                f"({first}): it pickles Python objects (fairseq checkpoints pickle "
                "their config). Only if you trust this file, set trust_pickle=True "
                "(feature_conf trust_pickle=true), which runs the code pickled in it"
            ) from e
        logging.warning(
            "%s: not loadable with weights_only=True; loading with weights_only=False "
            "because trust_pickle is set (fairseq checkpoints pickle their config)",
            path,
        )
        return torch.load(path, map_location="cpu", weights_only=False)


def load_hubert(
    checkpoint: str,
    arch: str = "base",
    seed: int = 0,
    trust_pickle: bool = False,
    num_heads: Optional[int] = None,
    layer_norm_first: Optional[bool] = None,
) -> Tuple[Wav2Vec2Model, bool, str]:
    """Build a HuBERT model from ``checkpoint`` (see the module docstring).

    ``trust_pickle``: allow ``torch.load(weights_only=False)`` for a checkpoint that
    ``weights_only=True`` refuses (runs code pickled in the file; off by default).

    ``num_heads`` / ``layer_norm_first`` override what the checkpoint's config says (or
    the defaults for its size), for local files whose config is missing or non-standard,
    e.g. torchaudio state dicts of a custom architecture.

    Returns:
        (model in eval mode, whether the waveform must be normalised per utterance
        (fairseq's ``task.normalize``), a one-line description for logs).
    """
    if checkpoint == "random":
        return (
            build_hubert(arch, seed),
            DEFAULT_NORMALIZE[arch],
            f"random-init HuBERT {arch} (seed {seed})",
        )

    if not os.path.exists(checkpoint):
        name = (
            checkpoint.split(":", 1)[1]
            if checkpoint.startswith("torchaudio:")
            else checkpoint
        )
        bundle = getattr(torchaudio.pipelines, name, None)
        if bundle is None or not hasattr(bundle, "get_model"):
            raise FileNotFoundError(
                f"HuBERT checkpoint {checkpoint!r} is neither a file nor a "
                "torchaudio.pipelines bundle name (e.g. torchaudio:HUBERT_BASE); "
                "use 'random' for a random model"
            )
        try:
            model = bundle.get_model()
        except Exception as e:
            raise RuntimeError(
                f"could not fetch torchaudio.pipelines.{name} (needs internet on "
                f"first use): {e}. Give a local checkpoint path or checkpoint=random "
                "instead."
            ) from e
        normalize = bool(getattr(bundle, "_normalize_waveform", False))
        if not isinstance(model, Wav2Vec2Model) and isinstance(
            getattr(model, "model", None), Wav2Vec2Model
        ):
            normalize = bool(getattr(model, "normalize_waveform", normalize))
            model = model.model  # drop torchaudio's wrapper; we normalise per utterance
        return model.eval(), normalize, f"torchaudio.pipelines.{name}"

    obj = _torch_load(checkpoint, trust_pickle)
    if not isinstance(obj, dict):
        raise ValueError(
            f"{checkpoint}: expected a dict (state dict or fairseq checkpoint), got "
            f"{type(obj)}"
        )
    normalize: Optional[bool] = None
    if (
        "model" in obj
        and isinstance(obj["model"], dict)
        and ("cfg" in obj or "args" in obj)
    ):
        hints, normalize = _fairseq_hints(obj)
        sd = fairseq_to_torchaudio(obj["model"])
        fmt = "fairseq"
    else:
        sd = (
            obj.get("state_dict", obj)
            if isinstance(obj.get("state_dict"), dict)
            else obj
        )
        fmt = detect_format(sd)
        if fmt == "fairseq":
            hints = {}
            sd = fairseq_to_torchaudio(sd)
        elif fmt == "huggingface":
            hints, normalize = _hf_hints(checkpoint)
            sd = huggingface_to_torchaudio(sd)
        else:
            hints = {}
            sd = _normalise_weight_norm_keys(strip_torchaudio_prefix(sd))
    sd = {k: v for k, v in sd.items() if not k.startswith("aux.")}
    if num_heads is not None:
        hints["num_heads"] = num_heads
    if layer_norm_first is not None:
        hints["layer_norm_first"] = layer_norm_first
    config = infer_config(sd, hints)
    model = torchaudio.models.wav2vec2_model(**config)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"{checkpoint} ({fmt}): state dict does not match the inferred "
            f"architecture; missing={missing[:10]} unexpected={unexpected[:10]}"
        )
    if normalize is None:
        normalize = config["encoder_layer_norm_first"]
    desc = (
        f"{fmt} checkpoint {checkpoint} (dim {config['encoder_embed_dim']}, "
        f"{config['encoder_num_layers']} layers, normalize={normalize})"
    )
    return model.eval(), bool(normalize), desc
