"""What the data preparation scripts share (``local/data_prep_librispeech.py``,
``local/data_prep_covost2.py``, ``local/data_prep_vctk.py``).

* :func:`add_common_args`, :func:`parse_args`: the options every one of them has
  (``--check_audio``, ``--max_log_per_reason``, ``--log_level``) and the logging
  set-up at ``--log_level``.
* :func:`audio_problem`: why an audio file is skipped (missing, empty, unreadable).
* :func:`log_skipped`: the log of skipped input entries, at most
  ``--max_log_per_reason`` per reason.
* :func:`skip_examples`, :func:`write_json_atomic`: the report json's examples of
  each skip reason, and its atomic writing.
* :func:`validate_written`: the final check of the data dirs written
  (``validate_data_dir``), which gives the exit status.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_data_dir import log_validation, validate_data_dir  # noqa: E402

LOG = logging.getLogger("prep_common")

LOG_FORMAT = "%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s"


def add_common_args(
    p: argparse.ArgumentParser,
    check_audio_help: str = "open every audio file with soundfile (slower)",
) -> None:
    """Add ``--check_audio``, ``--max_log_per_reason`` and ``--log_level``."""
    p.add_argument("--check_audio", action="store_true", help=check_audio_help)
    p.add_argument("--max_log_per_reason", type=int, default=20)
    p.add_argument(
        "--log_level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )


def parse_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """Parse ``argv`` and set up logging at ``--log_level``."""
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format=LOG_FORMAT)
    return args


def audio_problem(path: Path, check_audio: bool) -> tuple[str, str] | None:
    """None if the audio file is usable, else (reason, detail): ``missing_audio``,
    ``empty_audio`` (zero bytes; with ``check_audio`` also no samples) or, with
    ``check_audio``, ``unreadable_audio`` (soundfile cannot open it)."""
    try:
        size = path.stat().st_size
    except OSError as e:
        return "missing_audio", str(e)
    if size == 0:
        return "empty_audio", "zero-byte file"
    if check_audio:
        import soundfile as sf

        try:
            info = sf.info(str(path))
        except Exception as e:  # noqa: BLE001 - soundfile raises several types
            return "unreadable_audio", str(e)
        if info.frames == 0:
            return "empty_audio", "no samples"
    return None


def log_skipped(
    log: logging.Logger,
    skips: Sequence[tuple[str, str, str]],
    max_log_per_reason: int = 20,
    name: str = "",
) -> None:
    """Log skipped entries ``(reason, item, detail)``, at most ``max_log_per_reason``
    per reason, then one line with the reason's count; ``name``: a prefix (the set)."""
    prefix = f"{name}: " if name else ""
    total = Counter(reason for reason, _, _ in skips)
    shown: Counter = Counter()
    for reason, item, detail in skips:
        shown[reason] += 1
        if shown[reason] <= max_log_per_reason:
            log.warning("%sskipped [%s] %s: %s", prefix, reason, item, detail)
        elif shown[reason] == max_log_per_reason + 1:
            log.warning(
                "%sskipped [%s]: further entries of this reason not shown (%d in all)",
                prefix,
                reason,
                total[reason],
            )


def skip_examples(
    skips: Iterable[tuple[str, str, str]], per_reason: int = 5
) -> dict[str, list[str]]:
    """Reason -> the first ``per_reason`` ``"item: detail"`` (for the report json)."""
    out: dict[str, list[str]] = {}
    for reason, item, detail in skips:
        if len(out.setdefault(reason, [])) < per_reason:
            out[reason].append(f"{item}: {detail}")
    return out


def write_json_atomic(path: Path, obj: dict) -> None:
    """Write ``obj`` as indented UTF-8 json (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", "utf-8")
    os.replace(tmp, path)


def validate_written(dirs: Iterable[str | Path], log: logging.Logger = LOG) -> int:
    """Validate every written data dir (without opening the audio) and log the
    result; returns the exit status: 1 if one of them is not valid, else 0."""
    status = 0
    for dst in dirs:
        vres = validate_data_dir(dst, check_audio=False)
        log_validation(vres)
        if not vres.ok:
            status = 1
            continue
        log.info(
            "wrote %s: %d utterances, %d speakers",
            dst,
            vres.num_utts,
            vres.num_spks,
            stacklevel=2,  # the caller's module and line
        )
    return status
