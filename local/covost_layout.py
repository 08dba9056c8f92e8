#!/usr/bin/env python3
"""Write a corpus in the exact shape of Common Voice v4 + CoVoST 2.

Used to give our synthetic speech translation corpus the layout of the real one, so
that one reader (``local/data_prep_covost2.py``, and the official
``get_covost_splits.py``) reads both. Writes under ``root``::

    <root>/validated.tsv                Common Voice v4 columns: client_id path
                                        sentence up_votes down_votes age gender accent
    <root>/covost_v2.<src>_<tgt>.tsv    CoVoST 2 columns: path translation split
    <root>/clips/common_voice_en_<n>.mp3   48 kHz mono MP3 (:func:`write_clip`)

The tsv files are written like the real ones: UTF-8, tab-separated, a header line,
no quoting (a ``"`` is written as is); only a backslash, tab, newline or carriage
return inside a value is escaped with a backslash, which is exactly what the official
reader (``pd.read_csv(sep="\\t", escapechar="\\\\", quoting=csv.QUOTE_NONE,
na_filter=False)``) undoes. The formats and their sources are listed in
``local/data_prep_covost2.py``.

Realistic values: :func:`client_id_for` gives a 128-hex-digit ``client_id`` (the
length of Common Voice's SHA-512 ids) derived from a voice name, :func:`clip_name`
the ``common_voice_en_<n>.mp3`` names, :func:`cv_row` a whole ``validated.tsv`` row
with votes, age, gender and accent in Common Voice's vocabulary.

Example::

    from covost_layout import clip_name, cv_row, write_clip, write_covost_tree

    name = clip_name(19664034)
    write_clip(root / "clips" / name, audio_16k)  # float array at 16 kHz
    write_covost_tree(
        root,
        [cv_row("en-us+m3", name, "The cat sat.", gender="M", accent="us")],
        [{"path": name, "translation": "Die Katze saß.", "split": "train"}],
    )
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

CV_V4_COLUMNS: tuple[str, ...] = (
    "client_id",
    "path",
    "sentence",
    "up_votes",
    "down_votes",
    "age",
    "gender",
    "accent",
)
CV_REQUIRED: tuple[str, ...] = ("client_id", "path", "sentence")
CV_DEFAULTS: dict[str, str] = {
    "up_votes": "2",
    "down_votes": "0",
    "age": "",
    "gender": "",
    "accent": "",
}
COVOST_V2_COLUMNS: tuple[str, ...] = ("path", "translation", "split")
CLIP_SAMPLE_RATE = 48000
INPUT_SAMPLE_RATE = 16000
# Common Voice v4 vocabularies (as spelled in the release, "fourties" included)
AGES: tuple[str, ...] = (
    "teens",
    "twenties",
    "thirties",
    "fourties",
    "fifties",
    "sixties",
    "seventies",
)
GENDERS: dict[str, str] = {"M": "male", "F": "female", "": ""}
# espeak-ng English voices (local/synth_corpus.py) -> Common Voice accent
ESPEAK_ACCENTS: dict[str, str] = {
    "en-us": "us",
    "en-us-nyc": "us",
    "en-gb": "england",
    "en-gb-x-rp": "england",
    "en-gb-x-gbclan": "england",
    "en-gb-x-gbcwmd": "england",
    "en-gb-scotland": "scotland",
    "en-029": "other",
}
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\\t", "\n": "\\\n", "\r": "\\\r"})


def client_id_for(voice: str) -> str:
    """A Common Voice-like ``client_id`` (128 hex digits), the same for a voice."""
    return hashlib.sha512(f"synthetic-voice:{voice}".encode("utf-8")).hexdigest()


def clip_name(n: int, lang: str = "en") -> str:
    """``common_voice_<lang>_<n>.mp3``, the Common Voice clip name."""
    if n < 0:
        raise ValueError(f"clip number must be >= 0, got {n}")
    return f"common_voice_{lang}_{n}.mp3"


def accent_for_espeak_voice(voice: str) -> str:
    """Common Voice accent of an espeak-ng voice (``en-gb-scotland+f2``), or ``""``."""
    return ESPEAK_ACCENTS.get(voice.split("+", 1)[0], "")


def _pick(key: str, n: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:4], "big") % n


def cv_row(
    voice: str,
    path: str,
    sentence: str,
    gender: str = "",
    accent: str | None = None,
    age: str | None = None,
) -> dict[str, str]:
    """A ``validated.tsv`` row for a clip of ``voice``.

    ``gender`` is ``"M"``/``"F"``/``""`` (written ``male``/``female``/empty);
    ``accent`` defaults to the accent of an espeak-ng voice name, ``age`` to one
    chosen from the voice (a speaker keeps one age, as in Common Voice). Votes are
    those of a validated clip (at least 2 up votes, more up than down), chosen from
    the clip name.
    """
    if gender not in GENDERS:
        raise ValueError(f"gender must be M, F or empty, got {gender!r}")
    up = 2 + _pick(f"up:{path}", 2)
    down = _pick(f"down:{path}", 2) if up == 3 else 0
    return {
        "client_id": client_id_for(voice),
        "path": path,
        "sentence": sentence,
        "up_votes": str(up),
        "down_votes": str(down),
        "age": AGES[_pick(f"age:{voice}", len(AGES))] if age is None else age,
        "gender": GENDERS[gender],
        "accent": accent_for_espeak_voice(voice) if accent is None else accent,
    }


def escape_field(value: Any) -> str:
    """A tsv value as the real files hold it: backslash, tab, newline and CR
    escaped with a backslash, everything else (``"`` included) as is."""
    return str(value).translate(_ESCAPES)


def _write_tsv(
    path: Path,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    required: Sequence[str],
    defaults: Mapping[str, str],
) -> None:
    lines = ["\t".join(columns)]
    for i, row in enumerate(rows):
        unknown = sorted(set(row) - set(columns))
        missing = [c for c in required if c not in row]
        if unknown or missing:
            raise ValueError(
                f"{path.name} row {i}: unknown columns {unknown}, missing {missing} "
                f"(columns: {list(columns)})"
            )
        lines.append(
            "\t".join(escape_field(row.get(c, defaults.get(c, ""))) for c in columns)
        )
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


def write_covost_tree(
    root: Path,
    cv_rows: list[dict],
    covost_rows: list[dict],
    src_lang: str = "en",
    tgt_lang: str = "de",
) -> None:
    """Write ``<root>/validated.tsv`` and ``<root>/covost_v2.<src>_<tgt>.tsv``.

    ``cv_rows`` need ``client_id``, ``path`` and ``sentence`` (the other Common Voice
    columns default to 2 up votes, 0 down votes, empty age/gender/accent);
    ``covost_rows`` need ``path``, ``translation`` and ``split``. Rows are written
    in the order given and as given (empty values and repeats too: the real files
    have them, and the reader has to cope); an unknown column is an error. The clips
    (:func:`write_clip`) go to ``<root>/clips/``, created here.
    """
    root = Path(root)
    (root / "clips").mkdir(parents=True, exist_ok=True)
    _write_tsv(root / "validated.tsv", CV_V4_COLUMNS, cv_rows, CV_REQUIRED, CV_DEFAULTS)
    _write_tsv(
        root / f"covost_v2.{src_lang}_{tgt_lang}.tsv",
        COVOST_V2_COLUMNS,
        covost_rows,
        COVOST_V2_COLUMNS,
        {},
    )


def write_clip(path: Path, audio_16k: np.ndarray) -> None:
    """Write 16 kHz mono audio as a 48 kHz mono MP3, like a Common Voice clip.

    Resampled 16k -> 48k with ``scipy.signal.resample_poly`` (up 3) and clipped to
    [-1, 1]; written atomically (temporary name, then rename) by soundfile
    (libsndfile's LAME encoder; libsndfile keeps the exact length: 3 x the input).
    """
    x = np.asarray(audio_16k, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"audio_16k must be a non-empty 1-D array, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("audio_16k has NaN or inf samples")
    y = resample_poly(x, CLIP_SAMPLE_RATE // INPUT_SAMPLE_RATE, 1)
    y = np.clip(y, -1.0, 1.0).astype(np.float32)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sf.write(str(tmp), y, CLIP_SAMPLE_RATE, format="MP3", subtype="MPEG_LAYER_III")
    os.replace(tmp, path)
