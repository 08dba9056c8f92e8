"""An intermediate layer of a CTranslate2 Whisper encoder.

CTranslate2's ``Whisper.encode`` returns only the last encoder layer. A CTranslate2
model counts its encoder blocks by the variables ``encoder/layer_<i>/...`` present in
``model.bin``, so a copy of the model without the blocks ``>= k`` is the encoder cut
after block ``k``: it returns block ``k``'s output through the encoder's final layer
norm (Whisper's ``ln_post``, a per-frame normalisation and affine map). The decoder is
kept untouched (the model type needs it; it is never run for features).

``model.bin`` (binary version 6, as ``ctranslate2.specs.ModelSpec`` writes it, all
integers little-endian)::

    u32 version, str spec name, u32 spec revision, u32 number of variables,
    per variable: str name, u8 rank, u32 dims[rank], u8 dtype id, u32 nbytes, data,
    u32 number of aliases, per alias: str alias, str variable name

where ``str`` is ``u16 length`` (with the trailing NUL), the UTF-8 bytes, a NUL.
"""

import logging
import os
import re
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, List, Optional, Tuple, Union

from espnet2_ext.utils.shards import file_sha1

SUPPORTED_VERSIONS = (5, 6)
_LAYER = re.compile(r"^encoder/layer_(\d+)/")


@dataclass
class CT2Variable:
    name: str
    dims: Tuple[int, ...]
    dtype_id: int
    data: bytes


@dataclass
class CT2Model:
    version: int
    spec: str
    revision: int
    variables: List[CT2Variable]
    aliases: List[Tuple[str, str]]


def _read(f: BinaryIO, fmt: str):
    size = struct.calcsize("<" + fmt)
    buf = f.read(size)
    if len(buf) != size:
        raise ValueError("truncated CTranslate2 model.bin")
    return struct.unpack("<" + fmt, buf)


def _read_str(f: BinaryIO) -> str:
    (n,) = _read(f, "H")
    raw = f.read(n)
    if len(raw) != n or not raw.endswith(b"\0"):
        raise ValueError("malformed string in CTranslate2 model.bin")
    return raw[:-1].decode("utf-8")


def _write_str(f: BinaryIO, s: str) -> None:
    raw = s.encode("utf-8")
    f.write(struct.pack("<H", len(raw) + 1) + raw + b"\0")


def read_ct2_model(path: Union[str, Path]) -> CT2Model:
    """Parse a CTranslate2 ``model.bin`` (binary versions 5 and 6)."""
    with open(path, "rb") as f:
        (version,) = _read(f, "I")
        if version not in SUPPORTED_VERSIONS:
            raise ValueError(
                f"{path}: CTranslate2 binary version {version}, this reader knows "
                f"{SUPPORTED_VERSIONS}"
            )
        spec = _read_str(f)
        (revision,) = _read(f, "I")
        (n,) = _read(f, "I")
        variables = []
        for _ in range(n):
            name = _read_str(f)
            (rank,) = _read(f, "B")
            dims = _read(f, "I" * rank) if rank else ()
            dtype_id, nbytes = _read(f, "B") + _read(f, "I")
            data = f.read(nbytes)
            if len(data) != nbytes:
                raise ValueError(f"{path}: truncated variable {name}")
            variables.append(CT2Variable(name, tuple(dims), dtype_id, data))
        (na,) = _read(f, "I")
        aliases = [(_read_str(f), _read_str(f)) for _ in range(na)]
        if f.read(1):
            raise ValueError(f"{path}: trailing bytes after the aliases")
    return CT2Model(version, spec, revision, variables, aliases)


def write_ct2_model(model: CT2Model, path: Union[str, Path]) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<I", model.version))
        _write_str(f, model.spec)
        f.write(struct.pack("<II", model.revision, len(model.variables)))
        for v in model.variables:
            _write_str(f, v.name)
            f.write(struct.pack("<B", len(v.dims)))
            f.write(struct.pack("<" + "I" * len(v.dims), *v.dims))
            f.write(struct.pack("<BI", v.dtype_id, len(v.data)))
            f.write(v.data)
        f.write(struct.pack("<I", len(model.aliases)))
        for alias, target in model.aliases:
            _write_str(f, alias)
            _write_str(f, target)


def encoder_num_layers(model: CT2Model) -> int:
    found = {int(m.group(1)) for v in model.variables if (m := _LAYER.match(v.name))}
    return max(found) + 1 if found else 0


def truncate_encoder(model: CT2Model, num_layers: int) -> CT2Model:
    """The model with encoder blocks ``0 .. num_layers - 1`` only.

    Raises:
        ValueError: not a Whisper model, or ``num_layers`` not in [1, encoder layers].
    """
    if model.spec != "WhisperSpec":
        raise ValueError(f"expected a CTranslate2 WhisperSpec model, got {model.spec}")
    total = encoder_num_layers(model)
    if not 1 <= num_layers <= total:
        raise ValueError(
            f"layer must be in [1, {total}] for this model, got {num_layers}"
        )

    def dropped(name: str) -> bool:
        m = _LAYER.match(name)
        return bool(m) and int(m.group(1)) >= num_layers

    variables = [v for v in model.variables if not dropped(v.name)]
    aliases = [(a, t) for a, t in model.aliases if not (dropped(a) or dropped(t))]
    return CT2Model(model.version, model.spec, model.revision, variables, aliases)


def default_cache_dir() -> Path:
    root = os.environ.get("ESPNET2_EXT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
        "espnet2_ext",
    )
    return Path(root) / "whisper_layers"


def whisper_layer_model_dir(
    model_dir: Union[str, Path],
    layer: int,
    cache_dir: Optional[Union[str, Path]] = None,
) -> str:
    """Directory of ``model_dir`` cut after encoder block ``layer`` (1-based).

    Written once under ``cache_dir`` (default ``$ESPNET2_EXT_CACHE``, else
    ``~/.cache/espnet2_ext``, ``/whisper_layers``), keyed by the SHA-1 of the source
    ``model.bin`` and the layer; the other files of ``model_dir`` (config, vocabulary)
    are copied beside it. The full depth returns ``model_dir`` itself.
    """
    src = Path(model_dir)
    src_bin = src / "model.bin"
    if not src_bin.is_file():
        raise ValueError(f"no model.bin in {src}")
    model = read_ct2_model(src_bin)
    if layer == encoder_num_layers(model):
        truncate_encoder(model, layer)  # checks the spec
        return str(src)
    cut = truncate_encoder(model, layer)
    dst = Path(cache_dir or default_cache_dir()) / f"{file_sha1(src_bin)[:16]}_L{layer}"
    if (dst / "model.bin").is_file():
        return str(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dst.name + ".", dir=dst.parent))
    try:
        for p in src.iterdir():
            if p.is_file() and p.name != "model.bin":
                shutil.copy2(p, tmp / p.name)
        write_ct2_model(cut, tmp / "model.bin")
        try:
            os.replace(tmp, dst)  # atomic; another process may have won the race
        except OSError:
            if not (dst / "model.bin").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    logging.info("Whisper encoder cut after block %d: %s", layer, dst)
    return str(dst)
