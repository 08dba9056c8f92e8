#!/usr/bin/env python3
"""Pack a trained discrete-unit model with everything needed to run it on raw audio:
an ASR (or speech translation) model of the MT task, or a unit-to-mel voice
conversion model (``tts: unit_vc`` of the TTS task).

    python -m espnet2_ext.bin.pack_model \\
        --asr_train_config exp/asr_x/config.yaml \\
        --asr_model_file exp/asr_x/valid.acc.ave.pth \\
        --units_config exp/kmeans/units.yaml --outpath exp/asr_x/packed.zip
    python -m espnet2_ext.bin.pack_model \\
        --vc_train_config exp/vc_x/config.yaml \\
        --vc_model_file exp/vc_x/valid.loss.ave.pth \\
        --units_config exp/kmeans/units.yaml --outpath exp/vc_x/packed.zip

Run it from the recipe directory (or give ``--root``): relative paths inside the
configs are relative to it, as everywhere in ESPnet recipes.

The archive (``.zip``, ``.tar``, ``.tgz``/``.tar.gz``, ``.tar.bz2``, ``.tar.xz``) has
ESPnet's packed-model layout -- a ``meta.yaml`` at the top naming the files, and the
files under their recipe-relative paths -- so ``espnet_model_zoo``'s
``ModelDownloader().unpack_local_file(zip)`` and
``espnet2.main_funcs.pack_funcs.unpack`` unpack it. It holds, under the names
ESPnet's (discrete-)ASR recipes use (a VC model: ESPnet's TTS names
``tts_train_config`` / ``tts_model_file``, and ``task: vc`` in meta.yaml):

=====================  ========================================================
``asr_train_config``   the model's config.yaml (yaml file)
``asr_model_file``     the checkpoint
``unit_lm_train_config`` / ``unit_lm_file``  the frozen unit LM of ``entropy_compress``
``units_config``       ``units.yaml``: feature extractor, k-means, unit token list
``kmeans_model``       the k-means model (``.npy`` centroids + ``.json`` metadata)
``bpemodel``           the sentencepiece model (when the config names one)
=====================  ========================================================

plus every other file the configs reference (token lists given as files, a local
HuBERT checkpoint in ``feature_conf``, normalisation statistics, ...: the keys listed
in :data:`PATH_KEYS`; no other value is taken for a path). Every such path inside
the packed YAML files -- nested ones like ``frontend_conf.lm_file`` (VC:
``tts_conf.frontend_conf.lm_file``) included -- is
rewritten to the file's name inside the archive, which ESPnet's ``unpack`` turns into
an absolute path wherever the archive is unpacked. Files outside the recipe directory
are stored under ``external/``.

Training-only entries (data paths, shape files, ``output_dir``) are left as they are;
they are not needed to run the model.

What differs between the tasks -- the meta.yaml names, the config's path keys, where
the frontend options and the unit token list sit -- is a :class:`PackTask` in
:data:`TASKS`; the packing itself (:func:`pack`) and the loading
(``espnet2_ext.asr_inference.ResolvedModel``) are shared.
"""

import argparse
import io
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import yaml

PathLike = Union[str, Path]

# meta.yaml keys (ESPnet's asr pack names plus ours)
ASR_CONFIG = "asr_train_config"
ASR_MODEL = "asr_model_file"
TTS_CONFIG = "tts_train_config"  # ESPnet's TTS pack names: the VC model
TTS_MODEL = "tts_model_file"
UNIT_LM_CONFIG = "unit_lm_train_config"
UNIT_LM_FILE = "unit_lm_file"
UNITS_CONFIG = "units_config"
KMEANS_MODEL = "kmeans_model"
BPEMODEL = "bpemodel"

RESERVED_NAMES = {"meta.yaml", "README.md"}
ARCHIVE_SUFFIXES = (
    ".zip",
    ".tar",
    ".tgz",
    ".tar.gz",
    ".tbz2",
    ".tar.bz2",
    ".txz",
    ".tar.xz",
)


class PackError(RuntimeError):
    """A model cannot be packed (missing or inconsistent files)."""


# --------------------------------------------------------------------------- configs
def load_yaml(path: PathLike, what: str) -> Dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} not found: {p}")
    try:
        with p.open(encoding="utf-8") as f:
            d = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise PackError(f"{what} {p} is not valid YAML: {e}") from e
    if not isinstance(d, dict):
        raise PackError(f"{what} {p} must be a YAML mapping, got {type(d).__name__}")
    return d


# The keys whose values are file paths, per config kind: (key path, required). Only
# these are resolved, rewritten and packed; any other string (a unit token "5", a rule
# name) stays as it is even when a file of that name happens to exist. A required
# reference must exist when it is set; it counts only when its value is a string (a
# token list given inline as a YAML list is not a path).
PATH_KEYS: Dict[str, Tuple[Tuple[Tuple[str, ...], bool], ...]] = {
    "asr": (
        (("token_list",), True),
        (("src_token_list",), True),
        (("bpemodel",), True),
        (("src_bpemodel",), True),
        (("non_linguistic_symbols",), False),
        (("frontend_conf", "lm_train_config"), True),
        (("frontend_conf", "lm_file"), True),
        (("frontend_conf", "token_list"), True),
        (("normalize_conf", "stats_file"), False),
    ),
    # a unit-to-mel VC model (ESPnet's TTS task): the frontend under tts_conf
    "tts": (
        (("token_list",), True),
        (("bpemodel",), True),
        (("non_linguistic_symbols",), False),
        (("tts_conf", "frontend_conf", "lm_train_config"), True),
        (("tts_conf", "frontend_conf", "lm_file"), True),
        (("tts_conf", "frontend_conf", "token_list"), True),
        (("normalize_conf", "stats_file"), False),
        (("pitch_normalize_conf", "stats_file"), False),
        (("energy_normalize_conf", "stats_file"), False),
    ),
    "lm": (
        (("token_list",), True),
        (("bpemodel",), True),
        (("non_linguistic_symbols",), False),
    ),
    "units": (
        (("kmeans",), True),
        (("token_list",), True),
        # a local HuBERT checkpoint (else "random" or a torchaudio bundle name)
        (("feature_conf", "checkpoint"), False),
    ),
}


def config_refs(cfg: Dict[str, Any], kind: str) -> List[Tuple[Tuple, str, bool]]:
    """The file references of a config: ``[(key path, value, required)]``.

    ``kind``: ``asr`` (an MT/discrete-ASR config.yaml), ``tts`` (a unit-to-mel VC
    config.yaml), ``lm`` (a unit LM config.yaml) or ``units`` (units.yaml). Only the
    keys listed in :data:`PATH_KEYS` are references, and only when their value is a
    non-empty string.
    Required references name files that must exist (token lists given as paths, BPE
    models, the unit LM, the k-means model); optional ones count only when such a file
    exists.
    """
    if kind not in PATH_KEYS:
        raise ValueError(f"unknown config kind {kind!r}")
    refs: List[Tuple[Tuple, str, bool]] = []
    for keys, required in PATH_KEYS[kind]:
        try:
            v = get_in(cfg, keys)
        except (KeyError, TypeError):
            continue
        if isinstance(v, str) and v:
            refs.append((keys, v, required))
    return refs


def get_in(d: Dict[str, Any], keys: Sequence) -> Any:
    for k in keys:
        d = d[k]
    return d


def set_in(d: Dict[str, Any], keys: Sequence, value: Any) -> None:
    for k in keys[:-1]:
        d = d[k]
    d[keys[-1]] = value


def read_token_file(path: PathLike) -> List[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").rstrip() for line in f if line.strip()]


def model_src_token_list(
    cfg: Dict[str, Any], resolve=None, task: Optional["PackTask"] = None
) -> Optional[List[str]]:
    """The source (unit) token list of a model config (default: MT/discrete-ASR), or
    None."""
    task = task or TASKS["asr"]
    for keys in task.src_token_keys:
        try:
            v = get_in(cfg, keys)
        except (KeyError, TypeError):
            continue
        if isinstance(v, list):
            return [str(t) for t in v]
        if isinstance(v, str) and v:
            p = resolve(v) if resolve is not None else v
            if p is not None and os.path.isfile(p):
                return read_token_file(p)
    return None


def check_unit_token_list(tokens: Sequence[str], n_clusters: int, what: str) -> None:
    """Every non-special token must be a k-means cluster id ``str(k)``, 0 <= k < K."""
    for t in tokens:
        if t.startswith("<") and t.endswith(">"):
            continue
        if not t.isdigit() or int(t) >= n_clusters:
            raise PackError(
                f"{what}: token {t!r} is not a k-means cluster id in [0, "
                f"{n_clusters}); unit token strings must be str(cluster id)"
            )


# --------------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class PackTask:
    """What differs between the kinds of packed models.

    Attributes:
        name: ``task`` in meta.yaml (``asr``: MT-task models, ASR and speech
            translation; ``vc``: the unit-to-mel VC model of the TTS task).
        what: the model in messages (``ASR``, ``VC``).
        config_key, model_key: the meta.yaml names of its config.yaml and checkpoint.
        kind: the :data:`PATH_KEYS` entry of its config.
        frontend_conf: the key path of the frontend options (the unit LM's files).
        frontend: the key path of the frontend's name; ``entropy_frontend`` the name
            of the frontend with a unit LM.
        src_token_keys: where its unit token list is, in order (a file or a list).
    """

    name: str
    what: str
    config_key: str
    model_key: str
    kind: str
    frontend_conf: Tuple[str, ...]
    frontend: Tuple[str, ...]
    entropy_frontend: str
    src_token_keys: Tuple[Tuple[str, ...], ...]

    def frontend_options(
        self, cfg: Dict[str, Any], create: bool = False
    ) -> Optional[Dict[str, Any]]:
        """The frontend options of ``cfg`` (made empty with ``create``), or None.

        Raises:
            PackError: they, or a mapping above them, are not mappings.
        """
        d = cfg
        for i, k in enumerate(self.frontend_conf):
            v = d.get(k)
            if v is None:
                if not create:
                    return None
                v = d[k] = {}
            if not isinstance(v, dict):
                where = ".".join(self.frontend_conf[: i + 1])
                raise PackError(f"{self.what} config: {where} must be a mapping")
            d = v
        return d

    def uses_unit_lm(self, cfg: Dict[str, Any]) -> bool:
        try:
            name = get_in(cfg, self.frontend)
        except (KeyError, TypeError):
            name = None
        fconf = self.frontend_options(cfg) or {}
        return name == self.entropy_frontend or "lm_train_config" in fconf

    def lm_keys(self) -> List[Tuple[str, ...]]:
        """The key paths of the unit LM's config and checkpoint."""
        return [self.frontend_conf + (k,) for k in ("lm_train_config", "lm_file")]


TASKS: Dict[str, PackTask] = {
    "asr": PackTask(
        name="asr",
        what="ASR",
        config_key=ASR_CONFIG,
        model_key=ASR_MODEL,
        kind="asr",
        frontend_conf=("frontend_conf",),
        frontend=("frontend",),
        entropy_frontend="entropy_compress",
        src_token_keys=(("src_token_list",), ("frontend_conf", "token_list")),
    ),
    "vc": PackTask(
        name="vc",
        what="VC",
        config_key=TTS_CONFIG,
        model_key=TTS_MODEL,
        kind="tts",
        frontend_conf=("tts_conf", "frontend_conf"),
        frontend=("tts_conf", "frontend"),
        entropy_frontend="entropy",
        src_token_keys=(("token_list",), ("tts_conf", "frontend_conf", "token_list")),
    ),
}


# --------------------------------------------------------------------------- packing
class _Archive:
    """Collects (source file, name in archive) and rewritten YAML documents."""

    def __init__(self, root: Path):
        self.root = root
        self.files: Dict[str, str] = {}  # arcname -> real source path
        self.by_real: Dict[str, str] = {}  # real source path -> arcname
        self.docs: Dict[str, bytes] = {}  # arcname -> content

    def _name_for(self, abspath: str) -> str:
        rel = os.path.relpath(abspath, self.root)
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            rel = os.path.join("external", os.path.basename(abspath))
        rel = Path(rel).as_posix()
        base, n = rel, 1
        while rel in self.files or rel in self.docs or rel in RESERVED_NAMES:
            parent, name = os.path.split(base)
            rel = Path(parent, f"{n}_{name}").as_posix()
            n += 1
        return rel

    def add_file(self, path: PathLike) -> str:
        abspath = os.path.abspath(path)  # keep symlink names (valid.acc.ave.pth)
        real = os.path.realpath(abspath)
        if real in self.by_real:
            return self.by_real[real]
        name = self._name_for(abspath)
        self.files[name] = real
        self.by_real[real] = name
        return name

    def add_doc(self, path: PathLike, doc: Dict[str, Any]) -> str:
        name = self._name_for(os.path.abspath(path))
        self.docs[name] = yaml.safe_dump(
            doc, sort_keys=False, allow_unicode=True
        ).encode()
        return name

    def write(self, outpath: Path, meta: Dict[str, Any]) -> None:
        from espnet2_ext.compat import Archiver

        outpath.parent.mkdir(parents=True, exist_ok=True)
        tmpdir = tempfile.mkdtemp(prefix=".packing-", dir=outpath.parent)
        tmp = Path(tmpdir) / outpath.name
        try:
            with Archiver(tmp, mode="w") as ar:
                items = [("meta.yaml", yaml.safe_dump(meta, sort_keys=False).encode())]
                items += sorted(self.docs.items())
                for name, data in items:
                    info = ar.generate_info(name, len(data))
                    if ar.type == "zip":
                        ar.fopen.writestr(info, data)
                    else:
                        ar.fopen.addfile(info, io.BytesIO(data))
                for name, src in sorted(self.files.items()):
                    if ar.type == "zip":
                        ar.fopen.write(src, name)
                    else:
                        ar.fopen.add(src, name, recursive=False)
            os.replace(tmp, outpath)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _resolve_in_root(value: str, root: Path) -> str:
    p = Path(value).expanduser()
    return os.path.abspath(p if p.is_absolute() else root / p)


def _pack_refs(
    ar: _Archive,
    cfg: Dict[str, Any],
    kind: str,
    what: str,
    root: Path,
    skip: Sequence[Tuple] = (),
) -> None:
    """Add every file ``cfg`` references; rewrite the values to the archive names."""
    for keys, value, required in config_refs(cfg, kind):
        if keys in skip:
            continue
        path = _resolve_in_root(value, root)
        if not os.path.isfile(path):
            if required:
                raise FileNotFoundError(
                    f"{what}: {'.'.join(map(str, keys))} = {value!r} not found "
                    f"(looked for {path}; relative paths are relative to --root {root})"
                )
            continue
        set_in(cfg, keys, ar.add_file(path))


def pack(
    task: Union[str, PackTask],
    train_config: PathLike,
    model_file: PathLike,
    units_config: PathLike,
    outpath: PathLike,
    root: PathLike = ".",
    unit_lm_train_config: Optional[PathLike] = None,
    unit_lm_file: Optional[PathLike] = None,
    option: Sequence[PathLike] = (),
) -> Dict[str, Any]:
    """Pack a model of ``task`` (``asr``, ``vc`` or a :class:`PackTask`; see the module
    docstring). Returns the meta.yaml content."""
    if isinstance(task, str):
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r} (choose from {sorted(TASKS)})")
        task = TASKS[task]
    what = task.what
    root = Path(os.path.abspath(root))
    if not root.is_dir():
        raise FileNotFoundError(f"--root is not a directory: {root}")
    outpath = Path(outpath)
    if not outpath.name.endswith(ARCHIVE_SUFFIXES):
        raise PackError(
            f"--outpath {outpath}: unknown archive type (use one of "
            f"{', '.join(ARCHIVE_SUFFIXES)})"
        )
    if not os.path.isfile(model_file):
        raise FileNotFoundError(f"{what} model file not found: {model_file}")
    for p in option:
        if not os.path.isfile(p):
            raise FileNotFoundError(f"--option file not found: {p}")
    cfg = load_yaml(train_config, f"{what} config (--{task.name}_train_config)")
    if task.name == "vc" and cfg.get("tts") != "unit_vc":
        raise PackError(
            f"VC config {train_config}: tts is {cfg.get('tts')!r}, not unit_vc (only "
            "the unit-to-mel model runs on units made from audio)"
        )
    units = load_yaml(units_config, "units config (--units_config)")
    ar = _Archive(root)

    # the unit LM (entropy frontend): explicit arguments override the config
    fconf = task.frontend_options(cfg, create=True)
    fkey = ".".join(task.frontend_conf)
    for key, override in (
        ("lm_train_config", unit_lm_train_config),
        ("lm_file", unit_lm_file),
    ):
        if override is not None:
            fconf[key] = os.path.abspath(override)
    lm_cfg_name = lm_name = None
    lm_cfg = None
    if task.uses_unit_lm(cfg):
        for key in ("lm_train_config", "lm_file"):
            if not fconf.get(key):
                raise PackError(f"{what} config: {fkey}.{key} is not set")
        lm_cfg_path = _resolve_in_root(fconf["lm_train_config"], root)
        lm_path = _resolve_in_root(fconf["lm_file"], root)
        lm_cfg = load_yaml(lm_cfg_path, f"unit LM config ({fkey}.lm_train_config)")
        if not os.path.isfile(lm_path):
            raise FileNotFoundError(
                f"unit LM checkpoint ({fkey}.lm_file) not found: {lm_path}"
            )
        _pack_refs(ar, lm_cfg, "lm", f"unit LM config {lm_cfg_path}", root)
        lm_cfg_name = ar.add_doc(lm_cfg_path, lm_cfg)
        lm_name = ar.add_file(lm_path)
        fconf["lm_train_config"], fconf["lm_file"] = lm_cfg_name, lm_name

    # the config's other references (token lists as files, bpemodel, statistics, ...)
    _pack_refs(
        ar,
        cfg,
        task.kind,
        f"{what} config {train_config}",
        root,
        skip=task.lm_keys(),
    )
    if (
        task.name == "asr"
        and cfg.get("token_type") == "bpe"
        and not cfg.get("bpemodel")
    ):
        logging.warning(
            "token_type is bpe but the config names no bpemodel: "
            "decoding will give tokens, not text"
        )

    # units.yaml: feature extractor, k-means, unit token list
    for key in ("feature", "kmeans"):
        if not units.get(key):
            raise PackError(f"units config {units_config}: '{key}' is not set")
    from espnet2_ext.units.features import feature_extractor_choices
    from espnet2_ext.units.kmeans import KMeansModel

    if str(units["feature"]).lower() not in feature_extractor_choices():
        raise PackError(
            f"units config: unknown feature {units['feature']!r} "
            f"(choose from {sorted(feature_extractor_choices())})"
        )
    km_path = _resolve_in_root(units["kmeans"], root)
    if not os.path.isfile(km_path):
        raise FileNotFoundError(
            f"units config {units_config}: kmeans = {units['kmeans']!r} "
            f"not found (looked for {km_path})"
        )
    try:
        km = KMeansModel.load(km_path)
    except Exception as e:
        raise PackError(
            f"cannot load the k-means model {km_path}: {type(e).__name__}: {e}"
        ) from e
    if (
        units.get("n_clusters") is not None
        and int(units["n_clusters"]) != km.n_clusters
    ):
        raise PackError(
            f"units config says n_clusters={units['n_clusters']} but the "
            f"k-means model {km_path} has {km.n_clusters} clusters"
        )
    units["kmeans"] = km_path
    _pack_refs(ar, units, "units", f"units config {units_config}", root)
    km_name = units["kmeans"]
    if km_path.endswith(".npy") and os.path.isfile(km_path + ".json"):
        ar.files[km_name + ".json"] = os.path.realpath(km_path + ".json")
    feat_conf = units.get("feature_conf") or {}
    ckpt = feat_conf.get("checkpoint") if isinstance(feat_conf, dict) else None
    if (
        str(units["feature"]).lower() == "hubert"
        and isinstance(ckpt, str)
        and ckpt != "random"
        and ckpt not in ar.files
    ):
        logging.warning(
            "feature_conf.checkpoint=%r is not a local file: the packed model "
            "will need to download it",
            ckpt,
        )

    # consistency: one unit token list for k-means ids, the unit LM and the model
    src_tokens = model_src_token_list(
        cfg, lambda v: ar.files.get(v) or _resolve_in_root(v, root), task
    )
    if src_tokens is None:
        raise PackError(
            f"the {what} config has no source token list ("
            + " or ".join(".".join(k) for k in task.src_token_keys)
            + ")"
        )
    check_unit_token_list(src_tokens, km.n_clusters, f"{what} source token list")
    if units.get("token_list"):
        unit_tokens = read_token_file(ar.files[units["token_list"]])
        if unit_tokens != src_tokens:
            raise PackError(
                f"units config token_list ({units['token_list']}) differs from "
                f"the {what} model's source token list"
            )
    if lm_cfg is not None and isinstance(lm_cfg.get("token_list"), list):
        if [str(t) for t in lm_cfg["token_list"]] != src_tokens:
            raise PackError(
                f"the unit LM's token list differs from the {what} model's source "
                "token list"
            )

    units_name = ar.add_doc(units_config, units)
    model_name = ar.add_file(model_file)
    cfg_name = ar.add_doc(train_config, cfg)
    for p in option:
        ar.add_file(p)

    files = {task.model_key: model_name, KMEANS_MODEL: km_name}
    yaml_files = {task.config_key: cfg_name, UNITS_CONFIG: units_name}
    if lm_cfg_name is not None:
        yaml_files[UNIT_LM_CONFIG] = lm_cfg_name
        files[UNIT_LM_FILE] = lm_name
    if isinstance(cfg.get("bpemodel"), str) and cfg["bpemodel"] in ar.files:
        files[BPEMODEL] = cfg["bpemodel"]
    meta: Dict[str, Any] = dict(
        files=files,
        yaml_files=yaml_files,
        timestamp=datetime.now().timestamp(),
        python=sys.version,
    )
    try:
        import torch

        meta["torch"] = str(torch.__version__)
    except ImportError:  # pragma: no cover
        pass
    import espnet2_ext
    from espnet2_ext.compat import espnet_version

    meta["espnet"] = espnet_version()
    meta["espnet2_ext"] = espnet2_ext.__version__
    meta["task"] = task.name
    ar.write(outpath, meta)
    size = sum(os.path.getsize(f) for f in ar.files.values()) + sum(
        map(len, ar.docs.values())
    )
    logging.info(
        "packed %d files (%.1f MB) into %s",
        len(ar.files) + len(ar.docs),
        size / 1e6,
        outpath,
    )
    return meta


def pack_model(
    asr_train_config: PathLike,
    asr_model_file: PathLike,
    units_config: PathLike,
    outpath: PathLike,
    root: PathLike = ".",
    unit_lm_train_config: Optional[PathLike] = None,
    unit_lm_file: Optional[PathLike] = None,
    option: Sequence[PathLike] = (),
) -> Dict[str, Any]:
    """Pack an ASR / speech translation model (MT task): :func:`pack` with ``asr``."""
    return pack(
        "asr",
        asr_train_config,
        asr_model_file,
        units_config,
        outpath,
        root=root,
        unit_lm_train_config=unit_lm_train_config,
        unit_lm_file=unit_lm_file,
        option=option,
    )


def pack_vc_model(
    vc_train_config: PathLike,
    vc_model_file: PathLike,
    units_config: PathLike,
    outpath: PathLike,
    root: PathLike = ".",
    unit_lm_train_config: Optional[PathLike] = None,
    unit_lm_file: Optional[PathLike] = None,
    option: Sequence[PathLike] = (),
) -> Dict[str, Any]:
    """Pack a unit-to-mel VC model (``tts: unit_vc``): :func:`pack` with ``vc``.

    Its files are stored under ESPnet's TTS names (``tts_train_config``,
    ``tts_model_file``); the unit LM of an ``entropy`` frontend and its token list
    are read from ``tts_conf.frontend_conf``.
    """
    return pack(
        "vc",
        vc_train_config,
        vc_model_file,
        units_config,
        outpath,
        root=root,
        unit_lm_train_config=unit_lm_train_config,
        unit_lm_file=unit_lm_file,
        option=option,
    )


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Pack a discrete-unit ASR model (config, checkpoint, unit LM, "
        "k-means, BPE model) or a unit-to-mel VC model into an archive that "
        "espnet_model_zoo unpacks",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    model = p.add_mutually_exclusive_group(required=True)
    model.add_argument("--asr_train_config", help="exp/asr_x/config.yaml")
    model.add_argument(
        "--vc_train_config",
        help="exp/vc_x/config.yaml (a unit_vc model: packs it under ESPnet's TTS "
        "names, task vc)",
    )
    p.add_argument("--asr_model_file", help="exp/asr_x/valid.acc.ave.pth")
    p.add_argument("--vc_model_file", help="exp/vc_x/valid.loss.ave.pth")
    p.add_argument("--units_config", required=True, help="exp/kmeans/units.yaml")
    p.add_argument("--outpath", required=True, help="output archive (.zip, .tgz, ...)")
    p.add_argument(
        "--root",
        default=".",
        help="the recipe directory: relative paths in the configs are relative to it",
    )
    p.add_argument(
        "--unit_lm_train_config",
        default=None,
        help="override the unit LM config of the frontend (frontend_conf; VC: "
        "tts_conf.frontend_conf)",
    )
    p.add_argument(
        "--unit_lm_file", default=None, help="override the frontend's lm_file"
    )
    p.add_argument(
        "--option",
        nargs="*",
        default=[],
        action="extend",
        help="extra files to include (e.g. RESULTS.md)",
    )
    p.add_argument("--log_level", default="INFO")
    return p


def main(cmd: Optional[Sequence[str]] = None) -> int:
    parser = get_parser()
    args = parser.parse_args(cmd)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    task = "vc" if args.vc_train_config else "asr"
    other = "asr" if task == "vc" else "vc"
    model_file = getattr(args, f"{task}_model_file")
    if model_file is None:
        parser.error(f"--{task}_train_config needs --{task}_model_file")
    if getattr(args, f"{other}_model_file") is not None:
        parser.error(f"--{other}_model_file given with --{task}_train_config")
    try:
        pack(
            task,
            getattr(args, f"{task}_train_config"),
            model_file,
            args.units_config,
            args.outpath,
            root=args.root,
            unit_lm_train_config=args.unit_lm_train_config,
            unit_lm_file=args.unit_lm_file,
            option=args.option,
        )
    except (FileNotFoundError, PackError) as e:
        logging.error("%s", e)
        return 1
    print(f"Generate: {args.outpath}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
