#!/usr/bin/env python3
"""Make Kaldi-style speech translation data dirs from Common Voice v4 + CoVoST 2.

Reads the real corpus, or our synthetic corpus written in the same shape by
``local/covost_layout.py``:

* ``<cv_root>/validated.tsv`` (Common Voice v4, ``cv-corpus-4-2019-12-10``) and the
  clips it names, ``<cv_root>/clips/common_voice_en_<n>.mp3`` (48 kHz mono MP3);
* ``covost_v2.<src>_<tgt>.tsv`` (CoVoST 2 translations, e.g. ``covost_v2.en_de.tsv``).

Writes one data dir per requested split, ``<out>/<split>/``, every file sorted by
utterance id in C-locale (byte) order:

* ``wav.scp``       ``<utt> <absolute path of the mp3>``; read directly, no ffmpeg
                    pipe: ``espnet2_ext/units/audio.py::load_audio`` opens MP3 with
                    soundfile (libsndfile >= 1.1 decodes MP3 with mpg123; 1.2.2 here)
                    and resamples 48 kHz -> 16 kHz
* ``text.tc.<tgt>`` ``<utt> <translation>``, true case and punctuation, as given
* ``text.tc.<src>`` ``<utt> <source sentence>``, as given in ``validated.tsv``
* ``text``          the same as ``text.tc.<tgt>``: the target of an ST data dir, and
                    the file ``local/validate_data_dir.py`` (and Kaldi's
                    ``fix_data_dir.sh``) require
* ``utt2spk``, ``spk2utt``   speaker = Common Voice ``client_id`` (128 hex digits)
* ``prep_report.json``       rows in, utterances out, skipped by reason

Utterance ids are ``<client_id>-<clip name without .mp3>``, e.g.
``0a1b...ff-common_voice_en_19664034`` (the convention of ESPnet's Common Voice /
CoVoST 2 recipes, ``egs/commonvoice/asr1/local/data_prep.pl``): the speaker id is a
prefix of the utterance id, so Kaldi's sort order holds. Text is stripped of leading
and trailing whitespace (a Kaldi line cannot keep it) and otherwise left as given.

Split names: any ``split`` value present in the CoVoST tsv may be requested (our
synthetic corpus adds ``test_compositional`` and ``test_unseen_voices``); ``train``
means ``train`` + ``train_covost``, exactly as the official ``get_v2_split`` does.
Other values (e.g. ``dev_covost`` / ``test_covost``, CoVoST 1's extended splits, if a
file has them) are only used when asked for by name; their row counts are logged.

Nothing is dropped silently. Every CoVoST row of a requested split has exactly one
outcome; the skip reasons are:

* ``bad_path``                path empty, or with whitespace or a directory part
* ``duplicate_path``          clip already listed by an earlier CoVoST row (any split)
* ``not_in_validated``        clip not in ``validated.tsv``
* ``malformed_validated_row`` the clip's ``validated.tsv`` row has a wrong field count
* ``ambiguous_validated_row`` clip listed twice in ``validated.tsv`` with different
                              speaker or sentence (identical repeats are only logged)
* ``invalid_utf8``            bytes that are not UTF-8 in the row
* ``bad_client_id``           empty ``client_id`` or one with whitespace or a slash
* ``empty_sentence``          empty or whitespace-only source sentence
* ``empty_translation``       empty or whitespace-only translation
* ``control_char_in_text``    tab, newline or another control character in the
                              sentence or translation after unescaping
* ``missing_clip`` / ``empty_clip``  clip not on disk / zero bytes
* ``unreadable_clip``         (``--check_audio``) soundfile cannot open the clip
* ``duplicate_utt_id``        two clips give the same utterance id (same name, other
                              extension)

Rows of the tsv files with a wrong number of fields (``malformed``) cannot be given a
split; they are counted and logged per file, in the ``inputs`` part of every report.

Exit status 1, with a clear message, when an input file is missing, has the wrong
columns, or a requested split comes out empty (then nothing is written).

The real formats, as verified (with sources):

* Common Voice v4 ``validated.tsv`` columns: ``client_id path sentence up_votes
  down_votes age gender accent`` (8 columns; ``locale``/``segment`` came with later
  releases). Sources: pytorch/audio ``torchaudio/datasets/commonvoice.py`` (version
  ``cv-corpus-4-2019-12-10``: "client_id, path, sentence, up_votes, down_votes, age,
  gender, accent"), espnet/espnet ``egs/commonvoice/asr1/local/data_prep.pl`` (splits
  a line into exactly these 8 fields), the Artie Bias Corpus README (CV English rows
  of that era: 128-hex ``client_id``, ``common_voice_en_17779714.mp3``, ages like
  ``twenties``/``fourties``, genders ``male``/``female``/``other``, accents like
  ``us``, ``england``, ``indian``, ``southatlandtic``).
* ``covost_v2.<src>_<tgt>.tsv``: the official readers use only ``path``,
  ``translation`` and ``split`` from it and take ``sentence`` and ``client_id`` from
  ``validated.tsv`` (facebookresearch/covost ``get_covost_splits.py``, fairseq
  ``examples/speech_to_text/prep_covost_data.py``, the HF ``covost2`` loader, ESPnet
  ``egs2/covost2/asr1/local/process_tsv.py``, NVIDIA NeMo-Skills' covost2 prep). Two
  third-party scripts found by code search, written against the downloaded file,
  give its columns as exactly ``path translation split`` (one shows a parsed row:
  ``['common_voice_es_19764307.mp3', 'Lady Faustina, ...', 'test']``); the file
  itself was not opened here (no download), so this reader requires those three
  columns and ignores any others. Split values: ``train``, ``train_covost``,
  ``dev``, ``test``; ``get_v2_split``: train = ``train`` | ``train_covost``,
  dev/test = the value itself (CoVoST 1's ``get_v1_split`` also added
  ``dev_covost``/``test_covost``). Sizes for en_de (HF ``covost2`` card, in
  tensorflow/datasets ``docs/community_catalog/huggingface/covost2.md``): train
  289,430, dev 15,531, test 15,531.
* File names (facebookresearch/covost README): En->X ``covost_v2.en_<tgt>.tsv``
  (tgt: de ca zh-CN fa et mn tr ar sv-SE lv sl ta ja id cy), X->En
  ``covost_v2.<src>_en.tsv`` (src: fr de es ca it ru zh-CN pt fa et mn nl tr ar
  sv-SE lv sl ta ja id cy); CoVoST 1 used ``covost.<src>_en.tsv``.
* Quoting: tab-separated, header line, UTF-8, no quoting, backslash escape. The
  reference readers (covost ``get_covost_splits.py``, fairseq
  ``prep_covost_data.py``, the HF ``covost2`` loader) all call
  ``pd.read_csv(path, sep="\\t", header=0, encoding="utf-8", escapechar="\\\\",
  quoting=csv.QUOTE_NONE, na_filter=False)``, and ``get_covost_splits.py`` writes
  its split files with ``to_csv(sep="\\t", escapechar="\\\\",
  quoting=csv.QUOTE_NONE)``. So a ``"`` is an ordinary character (a sentence may
  start with one) and a backslash makes the next character literal (``\\<tab>`` is
  a tab inside a field, ``\\"`` is ``"``, ``\\\\`` a backslash). (ESPnet's
  ``process_tsv.py`` reads with pandas' defaults instead, where ``"`` starts a
  quoted field; it skips empty, i.e. NaN, translations.) This module parses with
  Python's ``csv`` module in the same mode as the reference call (same fields; a
  test checks it), but checks every row's field count, where pandas would silently
  shift a row with extra fields into the index.

Example::

    python local/data_prep_covost2.py --cv_root /data/cv-corpus-4/en \\
        --covost_tsv /data/covost/covost_v2.en_de.tsv --src_lang en --tgt_lang de \\
        --out data --splits train dev test
    python local/data_prep_covost2.py --cv_root synth_cv --covost_tsv \\
        synth_cv/covost_v2.en_de.tsv --out data \\
        --splits train dev test test_compositional test_unseen_voices
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prep_common import (  # noqa: E402
    add_common_args,
    log_skipped,
    parse_args,
    skip_examples,
    validate_written,
    write_json_atomic,
)
from validate_data_dir import c_sorted, spk2utt_entries, write_kaldi_file  # noqa: E402

LOG = logging.getLogger("data_prep_covost2")

# columns this reader needs; other columns are allowed and ignored
CV_REQUIRED: tuple[str, ...] = ("client_id", "path", "sentence")
COVOST_REQUIRED: tuple[str, ...] = ("path", "translation", "split")
# the full Common Voice v4 header, for information only
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
# the csv dialect of the official readers (pandas QUOTE_NONE + backslash escape)
TSV_FORMAT: dict[str, Any] = dict(
    delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", strict=False
)
# a requested split -> the CoVoST ``split`` values it is made of (get_v2_split)
SPLIT_ALIASES: dict[str, tuple[str, ...]] = {"train": ("train", "train_covost")}
SKIP_REASONS: tuple[str, ...] = (
    "bad_path",
    "duplicate_path",
    "not_in_validated",
    "malformed_validated_row",
    "ambiguous_validated_row",
    "invalid_utf8",
    "bad_client_id",
    "empty_sentence",
    "empty_translation",
    "control_char_in_text",
    "missing_clip",
    "empty_clip",
    "unreadable_clip",
    "duplicate_utt_id",
)
ID_PART_RE = re.compile(r"^[^\s/]+$")
SPLIT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
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
REPORT_NAME = "prep_report.json"


class InputError(Exception):
    """An input problem that stops the run (missing file, wrong columns, ...)."""


def covost_values(split: str) -> tuple[str, ...]:
    """The CoVoST ``split`` values a requested split is made of."""
    return SPLIT_ALIASES.get(split, (split,))


@dataclass
class TsvStats:
    """What reading one tsv file found, apart from its usable rows."""

    path: str
    header: list[str] = field(default_factory=list)
    rows: int = 0  # well-formed data rows
    malformed: int = 0  # data rows with a wrong field count
    blank_lines: int = 0
    malformed_items: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary."""
        return {
            "path": self.path,
            "columns": self.header,
            "rows": self.rows,
            "malformed_rows": self.malformed,
            "blank_lines": self.blank_lines,
        }


def iter_tsv(
    path: Path, required: Sequence[str], what: str, stats: TsvStats
) -> Iterator[tuple[int, dict[str, str] | None, list[str]]]:
    """Yield (first line number, row as a dict or None if malformed, fields).

    The header is checked first: a missing file or a header without the ``required``
    columns raises :class:`InputError`. A row with a wrong field count comes as
    ``None`` (and is counted in ``stats``). Bytes that are not UTF-8 come through as
    surrogate escapes, to be skipped per row.
    """
    if not path.is_file():
        raise InputError(f"{what} not found: {path}")
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        reader = csv.reader(f, **TSV_FORMAT)
        header = next(reader, None)
        if header is None:
            raise InputError(f"{what} {path} is empty (no header line)")
        missing = [c for c in required if c not in header]
        dups = [c for c, n in Counter(header).items() if n > 1]
        if missing or dups:
            problem = f"missing {missing}" if missing else f"repeated {dups}"
            raise InputError(
                f"{what} {path} has the wrong columns ({problem}): header is "
                f"{header}; expected at least {list(required)}, tab-separated"
            )
        stats.header = list(header)
        start = reader.line_num + 1
        for fields in reader:
            lineno, start = start, reader.line_num + 1
            if not fields:
                stats.blank_lines += 1
            elif len(fields) != len(header):
                stats.malformed += 1
                stats.malformed_items.append(
                    (lineno, f"{len(fields)} fields, the header has {len(header)}")
                )
                yield lineno, None, fields
            else:
                stats.rows += 1
                yield lineno, dict(zip(header, fields)), fields


@dataclass
class CovostRow:
    """One row of the CoVoST tsv that belongs to a requested split."""

    lineno: int
    path: str
    translation: str
    value: str  # the tsv's split value


@dataclass
class CvEntry:
    """The ``validated.tsv`` facts about one clip."""

    client_id: str
    sentence: str
    lineno: int
    ambiguous: bool = False


@dataclass
class Utt:
    """One kept utterance."""

    utt_id: str
    wav: str
    src_text: str
    tgt_text: str
    spk: str
    value: str


@dataclass
class SplitResult:
    """Everything one split's scan found: kept utterances and accounted-for skips."""

    name: str
    values: tuple[str, ...]
    utts: dict[str, Utt] = field(default_factory=dict)
    num_in: int = 0
    in_by_value: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    skipped_items: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (reason, item, detail)

    @property
    def num_out(self) -> int:
        """Number of kept utterances."""
        return len(self.utts)

    def skip(self, reason: str, item: str, detail: str = "") -> None:
        """Account for one skipped row."""
        assert reason in SKIP_REASONS, reason
        self.skipped[reason] += 1
        self.skipped_items.append((reason, item, detail))

    def keep(self, utt: Utt) -> None:
        """Account for one kept row."""
        self.utts[utt.utt_id] = utt

    def out_by_value(self) -> dict[str, int]:
        """Kept utterances per CoVoST split value."""
        return dict(sorted(Counter(u.value for u in self.utts.values()).items()))

    def summary(self) -> str:
        """One line: in, out, skipped by reason."""
        n_skip = sum(self.skipped.values())
        assert self.num_in == self.num_out + n_skip, (self.num_in, self.num_out)
        reasons = ", ".join(f"{r}={n}" for r, n in sorted(self.skipped.items()))
        values = ", ".join(f"{v}={n}" for v, n in sorted(self.in_by_value.items()))
        return (
            f"{self.name}: in={self.num_in} ({values or 'none'}) out={self.num_out} "
            f"skipped={n_skip} ({reasons or 'none'})"
        )


@dataclass
class PrepResult:
    """All requested splits plus what reading the inputs found."""

    splits: dict[str, SplitResult]
    covost: TsvStats
    validated: TsvStats
    covost_by_value: Counter
    validated_repeats: int
    src_lang: str
    tgt_lang: str
    clips_dir: str

    def inputs(self) -> dict[str, Any]:
        """JSON-friendly description of the inputs (shared by every report)."""
        return {
            "covost_tsv": self.covost.as_dict(),
            "covost_rows_by_split_value": dict(sorted(self.covost_by_value.items())),
            "validated_tsv": self.validated.as_dict(),
            "validated_repeated_paths": self.validated_repeats,
            "clips_dir": self.clips_dir,
        }


def _bad_utf8(*texts: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for t in texts for ch in t)


def _control_chars(text: str) -> list[str]:
    return sorted(
        {
            f"U+{ord(ch):04X}"
            for ch in text
            if unicodedata.category(ch) in ("Cc", "Zl", "Zp")
        }
    )


def _clip_problem(path: Path, check_audio: bool) -> tuple[str, str] | None:
    """None if the clip is usable, else (reason, detail)."""
    try:
        size = path.stat().st_size
    except OSError as e:
        return "missing_clip", f"{path}: {e.strerror or e}"
    if size == 0:
        return "empty_clip", f"{path}: zero-byte file"
    if check_audio:
        import soundfile as sf

        try:
            info = sf.info(str(path))
        except Exception as e:  # noqa: BLE001 - soundfile raises several types
            return "unreadable_clip", f"{path}: {e}"
        if info.frames == 0:
            return "empty_clip", f"{path}: no samples"
    return None


def read_covost(
    path: Path, wanted_values: set[str]
) -> tuple[list[CovostRow], dict[str, int], TsvStats, Counter]:
    """Rows of the requested split values, first line of every path, stats, and the
    number of rows per split value."""
    stats = TsvStats(str(path))
    rows: list[CovostRow] = []
    first_line: dict[str, int] = {}
    by_value: Counter = Counter()
    for lineno, row, _ in iter_tsv(path, COVOST_REQUIRED, "CoVoST tsv", stats):
        if row is None:
            continue
        p = row["path"].strip()
        value = row["split"].strip()
        by_value[value] += 1
        first_line.setdefault(p, lineno)
        if value in wanted_values:
            rows.append(CovostRow(lineno, p, row["translation"], value))
    return rows, first_line, stats, by_value


def read_validated(
    path: Path, needed: set[str]
) -> tuple[dict[str, CvEntry], set[str], TsvStats, int]:
    """``validated.tsv`` entries of the ``needed`` clips (streamed: the real file is
    large), clips whose row is malformed, stats, and the number of repeated paths."""
    stats = TsvStats(str(path))
    entries: dict[str, CvEntry] = {}
    malformed_paths: set[str] = set()
    repeats = 0
    what = "Common Voice validated.tsv"
    for lineno, row, fields in iter_tsv(path, CV_REQUIRED, what, stats):
        if row is None:  # a malformed row: its path field, if it is where expected
            i = stats.header.index("path")
            if i < len(fields) and fields[i].strip() in needed:
                malformed_paths.add(fields[i].strip())
            continue
        p = row["path"].strip()
        if p not in needed:
            continue
        client_id = sys.intern(row["client_id"].strip())
        sentence = row["sentence"]
        old = entries.get(p)
        if old is None:
            entries[p] = CvEntry(client_id, sentence, lineno)
            continue
        repeats += 1
        same = (old.client_id, old.sentence) == (client_id, sentence)
        if not same:
            old.ambiguous = True
        LOG.warning(
            "%s:%d: clip %s repeated (first at line %d)%s",
            path,
            lineno,
            p,
            old.lineno,
            "" if same else ", with another speaker or sentence: not used",
        )
    return entries, malformed_paths, stats, repeats


def scan(
    cv_root: Path,
    covost_tsv: Path,
    splits: Sequence[str],
    src_lang: str = "en",
    tgt_lang: str = "de",
    validated_tsv: Path | None = None,
    check_audio: bool = False,
) -> PrepResult:
    """Read the inputs and decide every row's outcome (nothing is written)."""
    cv_root = Path(cv_root)
    covost_tsv = Path(covost_tsv)
    validated_tsv = Path(validated_tsv) if validated_tsv else cv_root / "validated.tsv"
    clips_dir = cv_root / "clips"
    if not cv_root.is_dir():
        raise InputError(f"--cv_root {cv_root}: not a directory")
    if not clips_dir.is_dir():
        raise InputError(f"clips dir not found: {clips_dir} (expected <cv_root>/clips)")
    for split in splits:
        if not SPLIT_NAME_RE.match(split):
            raise InputError(f"split name {split!r} cannot be a data dir name")
    expected_name = f"covost_v2.{src_lang}_{tgt_lang}.tsv"
    if covost_tsv.name != expected_name:
        LOG.warning(
            "CoVoST tsv is named %s, not %s: is it the %s -> %s direction?",
            covost_tsv.name,
            expected_name,
            src_lang,
            tgt_lang,
        )
    value_to_splits: dict[str, list[str]] = {}
    for split in splits:
        for v in covost_values(split):
            value_to_splits.setdefault(v, []).append(split)
    rows, first_line, cstats, by_value = read_covost(covost_tsv, set(value_to_splits))
    LOG.info(
        "%s: %d rows (%s); %d malformed",
        covost_tsv,
        cstats.rows,
        ", ".join(f"{v}={n}" for v, n in sorted(by_value.items())),
        cstats.malformed,
    )
    needed = {r.path for r in rows}
    cv, cv_malformed, vstats, repeats = read_validated(validated_tsv, needed)
    LOG.info(
        "%s: %d rows, %d malformed; %d of the %d clips asked for are listed",
        validated_tsv,
        vstats.rows,
        vstats.malformed,
        len(cv),
        len(needed),
    )
    if tuple(vstats.header) != CV_V4_COLUMNS:
        LOG.info(
            "%s: columns %s are not Common Voice v4's %s (another release?); only "
            "client_id, path and sentence are used",
            validated_tsv,
            vstats.header,
            list(CV_V4_COLUMNS),
        )
    for stats in (cstats, vstats):
        for lineno, detail in stats.malformed_items[:20]:
            LOG.warning("%s:%d: malformed row: %s", stats.path, lineno, detail)
        if stats.malformed > 20:
            LOG.warning("%s: %d malformed rows in all", stats.path, stats.malformed)
    unused = {v: n for v, n in by_value.items() if v not in value_to_splits}
    if unused:
        LOG.info(
            "split values not requested (rows not used): %s",
            ", ".join(f"{v}={n}" for v, n in sorted(unused.items())),
        )

    results = {s: SplitResult(s, covost_values(s)) for s in splits}
    for row in rows:
        outcome = _decide(row, first_line, cv, cv_malformed, clips_dir, check_audio)
        for split in value_to_splits[row.value]:
            res = results[split]
            res.num_in += 1
            res.in_by_value[row.value] += 1
            where = f"{covost_tsv}:{row.lineno}"
            if isinstance(outcome, tuple):
                res.skip(outcome[0], where, outcome[1])
            elif outcome.utt_id in res.utts:
                res.skip(
                    "duplicate_utt_id",
                    where,
                    f"{outcome.utt_id} already from {res.utts[outcome.utt_id].wav}",
                )
            else:
                res.keep(outcome)
    return PrepResult(
        splits=results,
        covost=cstats,
        validated=vstats,
        covost_by_value=by_value,
        validated_repeats=repeats,
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        clips_dir=os.path.abspath(clips_dir),
    )


def _decide(
    row: CovostRow,
    first_line: dict[str, int],
    cv: dict[str, CvEntry],
    cv_malformed: set[str],
    clips_dir: Path,
    check_audio: bool,
) -> Utt | tuple[str, str]:
    """The kept utterance of one CoVoST row, or (reason, detail) of its skip."""
    p = row.path
    if not p or not ID_PART_RE.match(p) or p in (".", ".."):
        return "bad_path", f"clip name {p!r} (empty, whitespace or directory part)"
    if first_line[p] != row.lineno:
        return "duplicate_path", f"{p} already at line {first_line[p]}"
    entry = cv.get(p)
    if entry is None:
        if p in cv_malformed:
            return "malformed_validated_row", f"{p}: its validated.tsv row is malformed"
        return "not_in_validated", f"{p} is not in validated.tsv"
    if entry.ambiguous:
        return "ambiguous_validated_row", f"{p} is in validated.tsv twice, differently"
    if _bad_utf8(p, entry.client_id, entry.sentence, row.translation):
        return "invalid_utf8", f"{p}: bytes that are not UTF-8"
    if not entry.client_id or not ID_PART_RE.match(entry.client_id):
        return "bad_client_id", f"{p}: client_id {entry.client_id!r}"
    src_text = entry.sentence.strip()
    tgt_text = row.translation.strip()
    if not src_text:
        return "empty_sentence", f"{p}: sentence {entry.sentence!r}"
    if not tgt_text:
        return "empty_translation", f"{p}: translation {row.translation!r}"
    bad = {
        name: _control_chars(t)
        for name, t in (("sentence", src_text), ("translation", tgt_text))
    }
    if any(bad.values()):
        detail = "; ".join(f"{k} has {', '.join(v)}" for k, v in bad.items() if v)
        return "control_char_in_text", f"{p}: {detail}"
    clip = clips_dir / p
    problem = _clip_problem(clip, check_audio)
    if problem is not None:
        return problem
    stem = p[: -len(".mp3")] if p.lower().endswith(".mp3") else os.path.splitext(p)[0]
    return Utt(
        utt_id=f"{entry.client_id}-{stem}",
        wav=os.path.abspath(clip),
        src_text=src_text,
        tgt_text=tgt_text,
        spk=entry.client_id,
        value=row.value,
    )


def report(res: SplitResult, max_log_per_reason: int = 20) -> str:
    """Log one split's skipped rows; returns its summary line."""
    log_skipped(LOG, res.skipped_items, max_log_per_reason, name=res.name)
    return res.summary()


def report_dict(prep: PrepResult, res: SplitResult, files: list[str]) -> dict:
    """The content of ``<out>/<split>/prep_report.json``."""
    return {
        "split": res.name,
        "covost_split_values": list(res.values),
        "src_lang": prep.src_lang,
        "tgt_lang": prep.tgt_lang,
        "rows_in": res.num_in,
        "rows_in_by_split_value": dict(sorted(res.in_by_value.items())),
        "utterances_out": res.num_out,
        "utterances_out_by_split_value": res.out_by_value(),
        "speakers": len({u.spk for u in res.utts.values()}),
        "skipped_total": sum(res.skipped.values()),
        "skipped": dict(sorted(res.skipped.items())),
        "skipped_examples": skip_examples(res.skipped_items),
        "files": files,
        "text": f"text.tc.{prep.tgt_lang} (target translation)",
        "inputs": prep.inputs(),
    }


def write_split(dst: Path, prep: PrepResult, res: SplitResult) -> list[str]:
    """Write one split's data dir (sorted in C order); returns the file names."""
    dst.mkdir(parents=True, exist_ok=True)
    src_name = f"text.tc.{prep.src_lang}"
    tgt_name = f"text.tc.{prep.tgt_lang}"
    for p in sorted(dst.iterdir()):
        stale_text = p.name.startswith("text.") and p.name not in (src_name, tgt_name)
        if p.is_file() and (p.name in STALE_FILES or stale_text):
            LOG.info("removing stale %s", p)
            p.unlink()
    order = c_sorted(list(res.utts))
    u = res.utts
    write_kaldi_file(dst / "wav.scp", [(k, u[k].wav) for k in order])
    write_kaldi_file(dst / tgt_name, [(k, u[k].tgt_text) for k in order])
    write_kaldi_file(dst / src_name, [(k, u[k].src_text) for k in order])
    write_kaldi_file(dst / "text", [(k, u[k].tgt_text) for k in order])
    utt2spk = {k: u[k].spk for k in order}
    write_kaldi_file(dst / "utt2spk", [(k, utt2spk[k]) for k in order])
    write_kaldi_file(dst / "spk2utt", spk2utt_entries(utt2spk))
    if order != sorted(order, key=lambda k: (utt2spk[k], k)):
        LOG.warning(
            "%s: sorting by speaker and by utterance gives different orders (Kaldi "
            "wants one order; client_ids of different lengths?)",
            dst,
        )
    files = sorted(
        ["wav.scp", tgt_name, src_name, "text", "utt2spk", "spk2utt", REPORT_NAME]
    )
    write_json_atomic(dst / REPORT_NAME, report_dict(prep, res, files))
    return files


def prepare(
    cv_root: str | Path,
    covost_tsv: str | Path,
    out: str | Path,
    splits: Sequence[str] = ("train", "dev", "test"),
    src_lang: str = "en",
    tgt_lang: str = "de",
    validated_tsv: str | Path | None = None,
    check_audio: bool = False,
    max_log_per_reason: int = 20,
) -> PrepResult:
    """Scan the inputs and write ``<out>/<split>/`` for every requested split.

    Raises:
        InputError: a missing input, wrong columns, or an empty requested split
            (then nothing is written).
    """
    splits = list(dict.fromkeys(splits))
    if not splits:
        raise InputError("no splits requested")
    prep = scan(
        Path(cv_root),
        Path(covost_tsv),
        splits,
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        validated_tsv=Path(validated_tsv) if validated_tsv else None,
        check_audio=check_audio,
    )
    empty: list[str] = []
    for split, res in prep.splits.items():
        line = report(res, max_log_per_reason)
        LOG.info("%s", line)
        print(line, flush=True)
        if res.num_out == 0:
            empty.append(split)
    if empty:
        present = ", ".join(f"{v}={n}" for v, n in sorted(prep.covost_by_value.items()))
        details = []
        for split in empty:
            res = prep.splits[split]
            why = (
                f"all {res.num_in} rows skipped"
                if res.num_in
                else f"no rows with split value {' or '.join(res.values)}"
            )
            details.append(f"{split} ({why})")
        raise InputError(
            f"requested split(s) empty: {'; '.join(details)}; split values in "
            f"{covost_tsv}: {present or 'none'}; nothing written"
        )
    for split, res in prep.splits.items():
        write_split(Path(out) / split, prep, res)
    return prep


def get_parser() -> argparse.ArgumentParser:
    """Command-line parser."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--cv_root",
        required=True,
        help="Common Voice v4 language dir (validated.tsv, clips/)",
    )
    p.add_argument(
        "--covost_tsv", required=True, help="covost_v2.<src>_<tgt>.tsv (translations)"
    )
    p.add_argument("--src_lang", default="en", help="source (speech) language")
    p.add_argument("--tgt_lang", default="de", help="target (text) language")
    p.add_argument("--out", default="data", help="output: <out>/<split>/ per split")
    p.add_argument(
        "--splits",
        nargs="+",
        default=["train", "dev", "test"],
        help="split values of the CoVoST tsv; train = train + train_covost",
    )
    p.add_argument(
        "--validated_tsv",
        default=None,
        help="Common Voice tsv to join (default: <cv_root>/validated.tsv)",
    )
    add_common_args(p, check_audio_help="open every clip with soundfile (slower)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (non-zero on input errors)."""
    args = parse_args(get_parser(), argv)
    try:
        prep = prepare(
            args.cv_root,
            args.covost_tsv,
            args.out,
            splits=args.splits,
            src_lang=args.src_lang,
            tgt_lang=args.tgt_lang,
            validated_tsv=args.validated_tsv,
            check_audio=args.check_audio,
            max_log_per_reason=args.max_log_per_reason,
        )
    except (InputError, OSError) as e:
        LOG.error("%s", e)
        return 1
    return validate_written((Path(args.out) / split for split in prep.splits), LOG)


if __name__ == "__main__":
    sys.exit(main())
