#!/usr/bin/env python3
"""Make a Kaldi-style data dir from LibriSpeech-shaped split directories.

Input: one or more split directories laid out like LibriSpeech, e.g.
``LibriSpeech/train-clean-100`` or a split of the synthetic corpus
(``local/synth_corpus.py``)::

    <split>/<reader>/<chapter>/<reader>-<chapter>-<NNNN>.flac
    <split>/<reader>/<chapter>/<reader>-<chapter>.trans.txt
        ("<utt-id> TRANSCRIPT" lines)

Output (``--dst``), every file sorted by id in C-locale order, like ESPnet's
``egs2/librispeech/asr1/local/data_prep.sh``:

* ``wav.scp``   ``<utt> <absolute path to the flac>`` (ESPnet reads flac with soundfile)
* ``text``      ``<utt> <transcript>``
* ``utt2spk``   ``<utt> <spk>`` where spk is ``<reader>-<chapter>`` (Kaldi/ESPnet
                LibriSpeech convention; ``--spk_id reader`` uses the reader id)
* ``spk2utt``
* ``spk2gender`` when a ``SPEAKERS.TXT`` next to (or inside) the split dir gives every
                 reader's sex.

Several ``--src`` directories are merged into one data dir.

Nothing is dropped silently. Every transcript line and every audio file is an input
entry with exactly one outcome, and the skip reasons are:

* ``missing_audio``         transcript line whose audio file does not exist
* ``missing_transcript``    audio file without a transcript line
* ``empty_transcript``      transcript line without words
* ``bad_utt_id``            id with unusual characters (space, slash, ...)
* ``id_dir_mismatch``       id does not start with ``<reader>-<chapter>-`` of its dir
* ``duplicate_id``          id already taken (repeated line, or merged splits)
* ``empty_audio``           zero-byte audio file
* ``unreadable_audio``      (``--check_audio``) soundfile cannot open the file
* ``invalid_utf8``          transcript line that is not UTF-8
* ``unexpected_location``   audio/transcript file not at ``<split>/<reader>/<chapter>/``

Non-ASCII transcripts are kept (UTF-8) and reported. The run ends with
``in=N out=M skipped=K (reason=count, ...)`` and exits non-zero when nothing comes out.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prep_common import (  # noqa: E402
    add_common_args,
    audio_problem,
    log_skipped,
    parse_args,
    validate_written,
)
from validate_data_dir import c_sorted, spk2utt_entries, write_kaldi_file  # noqa: E402

LOG = logging.getLogger("data_prep_librispeech")

UTT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
TRANS_SUFFIX = ".trans.txt"
# files a previous run or a later stage may have left; they would no longer match
STALE_FILES: tuple[str, ...] = (
    "spk2gender",
    "utt2dur",
    "utt2num_samples",
    "utt2num_frames",
    "feats.scp",
    "segments",
    "reco2dur",
    "utt2lang",
    "utt2category",
)


@dataclass
class Utt:
    """One kept utterance."""

    utt_id: str
    path: str
    text: str
    spk: str
    reader: str


@dataclass
class PrepResult:
    """Everything the scan found: kept utterances and accounted-for skips."""

    utts: dict[str, Utt] = field(default_factory=dict)
    num_in: int = 0
    skipped: Counter = field(default_factory=Counter)
    skipped_items: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (reason, item, detail)
    non_ascii: list[str] = field(default_factory=list)
    genders: dict[str, str] = field(default_factory=dict)  # reader -> m/f

    @property
    def num_out(self) -> int:
        """Number of kept utterances."""
        return len(self.utts)

    def skip(self, reason: str, item: str, detail: str = "") -> None:
        """Account for one skipped input entry."""
        self.num_in += 1
        self.skipped[reason] += 1
        self.skipped_items.append((reason, item, detail))

    def keep(self, utt: Utt) -> None:
        """Account for one kept input entry."""
        self.num_in += 1
        self.utts[utt.utt_id] = utt
        if not utt.text.isascii():
            self.non_ascii.append(utt.utt_id)


def _read_trans_lines(path: Path, res: PrepResult) -> list[tuple[str, str, int]]:
    """(utt id, transcript, line number) for the usable lines of a trans.txt file."""
    out = []
    for lineno, bline in enumerate(path.read_bytes().splitlines(), 1):
        try:
            line = bline.decode("utf-8")
        except UnicodeDecodeError:
            res.skip("invalid_utf8", f"{path}:{lineno}", repr(bline[:80]))
            continue
        if not line.strip():
            continue
        parts = line.strip().split(maxsplit=1)
        text = " ".join(parts[1].split()) if len(parts) > 1 else ""
        out.append((parts[0], text, lineno))
    return out


def scan_split(
    src: str | Path,
    res: PrepResult,
    audio_ext: str = "flac",
    spk_id: str = "reader_chapter",
    check_audio: bool = False,
) -> None:
    """Add the utterances of one LibriSpeech-shaped split dir to ``res``."""
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: not a directory")
    ext = "." + audio_ext.lower().lstrip(".")
    n_before = res.num_in
    # dir (relative to src) -> (audio stem -> path, [trans files])
    found: dict[tuple[str, ...], tuple[dict[str, Path], list[Path]]] = {}
    for dirpath, dirnames, filenames in os.walk(src, followlinks=True):
        dirnames.sort()
        rel = Path(dirpath).relative_to(src).parts
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.lower().endswith(ext):
                found.setdefault(rel, ({}, []))[0][name[: -len(ext)]] = path
            elif name.endswith(TRANS_SUFFIX):
                found.setdefault(rel, ({}, []))[1].append(path)
    chapters: dict[tuple[str, str], tuple[dict[str, Path], list[Path]]] = {}
    for rel, (audio, trans) in sorted(found.items()):
        if len(rel) == 2:
            chapters[(rel[0], rel[1])] = (audio, trans)
            continue
        # misplaced: one entry per distinct id (transcript line and/or audio file)
        ids: dict[str, str] = {stem: str(p) for stem, p in audio.items()}
        for tpath in trans:
            for uid, _, lineno in _read_trans_lines(tpath, res):
                ids.setdefault(uid, f"{tpath}:{lineno}")
        for uid, where in sorted(ids.items()):
            res.skip(
                "unexpected_location",
                where,
                f"{uid!r} not at <split>/<reader>/<chapter>/",
            )

    for (reader, chapter), (audio, trans) in sorted(chapters.items()):
        prefix = f"{reader}-{chapter}-"
        spk = f"{reader}-{chapter}" if spk_id == "reader_chapter" else reader
        consumed: set[str] = set()
        for tpath in trans:
            for uid, text, lineno in _read_trans_lines(tpath, res):
                where = f"{tpath}:{lineno}"
                apath = audio.get(uid)
                if apath is not None:
                    consumed.add(uid)
                if not UTT_ID_RE.match(uid):
                    res.skip("bad_utt_id", where, f"id {uid!r} has unusual characters")
                elif not uid.startswith(prefix):
                    res.skip(
                        "id_dir_mismatch",
                        where,
                        f"id {uid!r} does not start with {prefix!r}",
                    )
                elif uid in res.utts:
                    res.skip(
                        "duplicate_id",
                        where,
                        f"id {uid!r} already taken by {res.utts[uid].path}",
                    )
                elif apath is None:
                    res.skip("missing_audio", where, f"no {uid}{ext} in {tpath.parent}")
                elif not text:
                    res.skip("empty_transcript", where, f"id {uid!r}")
                elif (bad := audio_problem(apath, check_audio)) is not None:
                    res.skip(bad[0], str(apath), bad[1])
                else:
                    res.keep(Utt(uid, os.path.abspath(apath), text, spk, reader))
        for stem, apath in sorted(audio.items()):
            if stem in consumed:
                continue
            if not UTT_ID_RE.match(stem):
                res.skip(
                    "bad_utt_id",
                    str(apath),
                    f"file name {stem!r} has unusual characters",
                )
            else:
                res.skip(
                    "missing_transcript",
                    str(apath),
                    f"no line for {stem!r} in "
                    f"{[p.name for p in trans] or 'any *.trans.txt'}",
                )
    LOG.info("%s: %d entries scanned", src, res.num_in - n_before)


def read_speakers_txt(path: Path) -> dict[str, str]:
    """Reader id -> ``m``/``f`` from a LibriSpeech ``SPEAKERS.TXT``."""
    genders: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) >= 2 and fields[0] and fields[1].lower() in ("m", "f"):
            genders[fields[0]] = fields[1].lower()
    return genders


def find_speakers_txt(src: Path) -> Path | None:
    """``SPEAKERS.TXT`` inside the split dir or next to it.

    LibriSpeech keeps it next to the split dirs.
    """
    for cand in (src / "SPEAKERS.TXT", src.parent / "SPEAKERS.TXT"):
        if cand.is_file():
            return cand
    return None


def write_data_dir(dst: str | Path, res: PrepResult, write_gender: bool = True) -> None:
    """Write wav.scp, text, utt2spk, spk2utt (and spk2gender) sorted in C order."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for name in STALE_FILES:
        if (dst / name).exists():
            LOG.info("removing stale %s", dst / name)
            (dst / name).unlink()
    order = c_sorted(list(res.utts))
    write_kaldi_file(dst / "wav.scp", [(u, res.utts[u].path) for u in order])
    write_kaldi_file(dst / "text", [(u, res.utts[u].text) for u in order])
    utt2spk = {u: res.utts[u].spk for u in order}
    write_kaldi_file(dst / "utt2spk", [(u, utt2spk[u]) for u in order])
    write_kaldi_file(dst / "spk2utt", spk2utt_entries(utt2spk))
    if write_gender and res.genders:
        spk_reader = {res.utts[u].spk: res.utts[u].reader for u in order}
        lacking = c_sorted([s for s, r in spk_reader.items() if r not in res.genders])
        if lacking:
            LOG.warning(
                "no spk2gender: %d speakers have no sex in SPEAKERS.TXT (e.g. %s)",
                len(lacking),
                lacking[:5],
            )
        else:
            write_kaldi_file(
                dst / "spk2gender",
                [(s, res.genders[spk_reader[s]]) for s in c_sorted(list(spk_reader))],
            )


def report(res: PrepResult, max_log_per_reason: int = 20) -> str:
    """Log the skipped entries and the non-ASCII transcripts; returns the final line."""
    log_skipped(LOG, res.skipped_items, max_log_per_reason)
    if res.non_ascii:
        LOG.warning(
            "%d transcripts contain non-ASCII characters (kept, UTF-8): %s",
            len(res.non_ascii),
            ", ".join(
                f"{u}: {res.utts[u].text!r}" for u in res.non_ascii[:max_log_per_reason]
            ),
        )
    n_skip = sum(res.skipped.values())
    assert res.num_in == res.num_out + n_skip, (res.num_in, res.num_out, n_skip)
    reasons = ", ".join(f"{r}={n}" for r, n in sorted(res.skipped.items())) or "none"
    return (
        f"in={res.num_in} out={res.num_out} skipped={n_skip} ({reasons}); "
        f"non_ascii_kept={len(res.non_ascii)}"
    )


def prepare(
    srcs: Sequence[str | Path],
    dst: str | Path,
    audio_ext: str = "flac",
    spk_id: str = "reader_chapter",
    check_audio: bool = False,
    speakers_file: str | Path | None = None,
    max_log_per_reason: int = 20,
) -> PrepResult:
    """Scan ``srcs`` and write the data dir ``dst`` (if anything came out)."""
    res = PrepResult()
    for src in srcs:
        src = Path(src)
        scan_split(
            src, res, audio_ext=audio_ext, spk_id=spk_id, check_audio=check_audio
        )
        spk_file = Path(speakers_file) if speakers_file else find_speakers_txt(src)
        if spk_file is not None:
            LOG.info("reader sex from %s", spk_file)
            res.genders.update(read_speakers_txt(spk_file))
    summary = report(res, max_log_per_reason)
    LOG.info("%s", summary)
    if res.num_out == 0:
        return res
    write_data_dir(dst, res)
    return res


def get_parser() -> argparse.ArgumentParser:
    """Command-line parser."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--src", nargs="+", required=True, help="LibriSpeech-shaped split dirs (merged)"
    )
    p.add_argument("--dst", required=True, help="output Kaldi-style data dir")
    p.add_argument("--audio_ext", default="flac", help="audio file extension")
    p.add_argument(
        "--spk_id",
        default="reader_chapter",
        choices=("reader_chapter", "reader"),
        help="speaker id in utt2spk",
    )
    p.add_argument(
        "--speakers_file",
        default=None,
        help="SPEAKERS.TXT (default: found next to each src)",
    )
    add_common_args(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (non-zero when nothing comes out)."""
    args = parse_args(get_parser(), argv)
    try:
        res = prepare(
            args.src,
            args.dst,
            audio_ext=args.audio_ext,
            spk_id=args.spk_id,
            check_audio=args.check_audio,
            speakers_file=args.speakers_file,
            max_log_per_reason=args.max_log_per_reason,
        )
    except (OSError, ValueError) as e:
        LOG.error("%s", e)
        return 1
    if res.num_out == 0:
        hint = ""
        if res.skipped.get("unexpected_location"):
            hint = (
                " (files are not at <split>/<reader>/<chapter>/: pass the split "
                "dir, e.g. LibriSpeech/train-clean-100)"
            )
        LOG.error(
            "no utterances from %s%s; %s not written",
            " ".join(args.src),
            hint,
            args.dst,
        )
        return 1
    return validate_written([args.dst], LOG)


if __name__ == "__main__":
    sys.exit(main())
