#!/usr/bin/env python3
"""Make Kaldi-style data dirs for voice conversion from a VCTK 0.92 tree.

Reads the real corpus (``VCTK-Corpus-0.92.zip``, unpacked) or our synthetic corpus in
the same layout (``local/synth_vctk_corpus.py``)::

    <vctk_root>/speaker-info.txt                         ID AGE GENDER ACCENTS REGION
                                                         COMMENTS (whitespace columns)
    <vctk_root>/txt/<spk>/<spk>_<NNN>.txt                the text of one utterance
    <vctk_root>/wav48_silence_trimmed/<spk>/<spk>_<NNN>_mic1.flac   48 kHz FLAC
    <vctk_root>/wav48_silence_trimmed/<spk>/<spk>_<NNN>_mic2.flac   (second mic)

Writes, under ``--out``, one data dir per set, every file sorted by id in C-locale
(byte) order:

* ``wav.scp``     ``<utt> <absolute path of the flac>`` (48 kHz; read directly,
                  ``espnet2_ext/units/audio.py::load_audio`` resamples to 16 kHz)
* ``text``        ``<utt> <text>``, as VCTK has it (cased, punctuated), whitespace
                  collapsed (a multi-line file is joined with spaces)
* ``utt2spk``, ``spk2utt``   speaker = the VCTK speaker id (``p225``); utterance id
                  = VCTK's ``<spk>_<NNN>`` (the speaker id is its prefix)
* ``spk2gender``  ``m``/``f`` from ``speaker-info.txt`` (left out, with a warning,
                  when a speaker of the set has no row there)
* ``prep_report.json``  entries in, utterances out, skipped by reason, examples

Sets:

* ``heldout``  every utterance of ``--heldout_speakers`` (and/or, with
  ``--heldout_from_manifest``, the ``heldout_speakers`` of the synthetic corpus's
  ``manifest.json``): the target voices of any-to-any conversion, in no other set;
* ``test``     per seen speaker, its readings of ``--num_test_shared`` shared sentence
  ids (the parallel sources) plus ``--num_test_own`` of its own sentences;
* ``dev``      per seen speaker, ``--num_dev`` of its own sentences;
* ``train``    the rest of the seen speakers' utterances (the reserved shared ids of
  ``test`` never occur in ``train``);
* ``parallel`` a data dir of the ``test`` sources and their targets' readings, with
  ``pairs``: ``<pair-id> <source-utt> <target-utt>``, pair id
  ``<source-utt>-<target-spk>``: a source utterance and a target speaker's reading of
  the same sentence id with the same text, so that an evaluation compares a
  conversion with the target voice's real reading. Targets (``--pair_targets``):
  ``heldout`` speakers, ``seen`` speakers (other than the source), or ``all``;
  ``auto`` = ``heldout`` when there are held-out speakers, else ``seen``.

Shared sentence ids are found from the texts, not assumed: an id is shared when at
least ``--min_shared_fraction`` of the speakers (and at least 2) read the same text
under it (compared in lower case without punctuation); that text is its reference
text, and a reading with another text is not a parallel one. In VCTK these are the
first ids (rainbow passage, elicitation paragraph); the newspaper sentences differ per
speaker. Which ids and which own sentences are picked is fixed by ``--seed``.

Nothing is dropped silently. An input entry is one utterance id found on disk (its
text and/or any of its audio files) or one file that cannot be an utterance; each has
exactly one outcome. Skip reasons:

* ``no_text``             audio without a text file (VCTK's p315 has no ``txt/``
                          folder at all; a single missing text counts the same)
* ``missing_audio``       text without the ``--mic`` file (VCTK's p280 has no mic2
                          files, a few of p362's are missing). With ``--mic_fallback``
                          the other mic's file is used instead, when it exists, and
                          counted (``mic_fallback_used``); by default it is not, so
                          that one set never mixes the two microphones
* ``empty_text``          text file empty or only whitespace
* ``invalid_utf8``        text file not UTF-8
* ``empty_audio``         zero-byte audio file (or no samples, ``--check_audio``)
* ``unreadable_audio``    (``--check_audio``) soundfile cannot open it
* ``bad_file_name``       file in a speaker folder not named ``<spk>_<NNN>.txt`` /
                          ``<spk>_<NNN>_mic<1|2>.flac`` (another speaker's prefix,
                          another extension, a leftover temporary file)
* ``unexpected_location`` file not directly in ``txt/<spk>/`` or
                          ``wav48_silence_trimmed/<spk>/``

A skip counts in the set its speaker and id would have gone to (``heldout``, ``test``
for a reserved shared id, else ``train``); a file outside any speaker folder counts in
the top-level report only (``unattributed``). ``speaker-info.txt`` problems are not
utterances; they are logged and listed in ``<out>/prep_report.json``: rows of speakers
without files (``rows_without_files``), speakers with files but no row
(``speakers_without_row``; their utterances are kept), malformed and repeated rows.
The ``parallel`` report counts pairs: ``target_missing`` (the target speaker has no
usable reading of that id) and ``text_mismatch`` (its text differs).

The real formats, as verified (sources):

* Layout and names: ``txt/p225/p225_001.txt``,
  ``wav48_silence_trimmed/p225/p225_001_mic1.flac`` / ``_mic2.flac``; 110 speakers;
  48 kHz (pytorch/audio ``torchaudio/datasets/vctk.py``, class ``VCTK_092``; the
  HuggingFace ``datasets/vctk/vctk.py`` loader: ``sampling_rate=48_000``).
* Gaps: "All the speeches from speaker p315 will be skipped due to the lack of the
  corresponding text files", "All the speeches from p280 will be skipped for
  mic_id="mic2" due to the lack of the audio files", "Some of the speeches from
  speaker p362 will be skipped due to the lack of the audio files" (torchaudio
  ``VCTK_092``); the HF loader: "p315 does not have text", "p280 does not have mic2
  files".
* ``speaker-info.txt``: header ``ID  AGE  GENDER  ACCENTS  REGION COMMENTS``, rows
  like ``p225  23  F    English    Southern  England`` (columns separated by runs of
  spaces; REGION may be several words or empty; a COMMENTS value is in parentheses,
  e.g. p280's ``(mic2 files unavailable)``, p315's ``(Text unavailable)``). The HF
  loader parses it the same way: skip the header, the comment is the ``(...)`` part,
  then ID, AGE, GENDER, ACCENTS and the rest as REGION. The 0.80 release had ids
  without ``p`` and no COMMENTS column.
* Text: one line, cased and punctuated (``Please call Stella.``; the loaders read
  the first line).

Example::

    python local/data_prep_vctk.py --vctk_root /data/VCTK-Corpus-0.92 --mic mic2 \\
        --out data --heldout_speakers "p360 p361 p362 p363"
    python local/data_prep_vctk.py --vctk_root downloads/synth_vctk --out data \\
        --heldout_from_manifest
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import random
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prep_common import (  # noqa: E402
    add_common_args,
    audio_problem,
    log_skipped,
    parse_args,
    skip_examples,
    validate_written,
    write_json_atomic,
)
from validate_data_dir import c_sorted, spk2utt_entries, write_kaldi_file  # noqa: E402

LOG = logging.getLogger("data_prep_vctk")

TXT_DIR = "txt"
WAV_DIR = "wav48_silence_trimmed"
SPEAKER_INFO = "speaker-info.txt"
MICS: tuple[str, ...] = ("mic1", "mic2")
SETS: tuple[str, ...] = ("train", "dev", "test", "heldout")
PARALLEL = "parallel"
SKIP_REASONS: tuple[str, ...] = (
    "no_text",
    "missing_audio",
    "empty_text",
    "invalid_utf8",
    "empty_audio",
    "unreadable_audio",
    "bad_file_name",
    "unexpected_location",
)
PAIR_SKIP_REASONS: tuple[str, ...] = ("target_missing", "text_mismatch")
PAIR_TARGETS: tuple[str, ...] = ("auto", "heldout", "seen", "all")
SPK_RE = re.compile(r"^[A-Za-z0-9]+$")
TXT_RE = re.compile(r"^(?P<spk>[A-Za-z0-9]+)_(?P<num>[0-9]+)\.txt$")
FLAC_RE = re.compile(r"^(?P<spk>[A-Za-z0-9]+)_(?P<num>[0-9]+)_(?P<mic>mic[12])\.flac$")
_WORD = re.compile(r"[a-z0-9']+")
REPORT_NAME = "prep_report.json"
KALDI_FILES: tuple[str, ...] = ("wav.scp", "text", "utt2spk", "spk2utt", "spk2gender")
# files a previous run or a later stage may have left; they would no longer match
STALE_FILES: tuple[str, ...] = (
    "spk2gender",
    "pairs",
    "utt2dur",
    "utt2num_samples",
    "utt2num_frames",
    "feats.scp",
    "segments",
    "reco2dur",
    "utt2lang",
    "utt2category",
)


class InputError(Exception):
    """An input problem that stops the run (no VCTK tree, unknown speaker, ...)."""


def normalize_text(text: str) -> str:
    """Lower-case words without punctuation: to compare two readings' texts."""
    return " ".join(_WORD.findall(text.lower()))


# ---------------------------------------------------------------- speaker-info.txt


@dataclass
class SpeakerRow:
    """One row of ``speaker-info.txt``."""

    spk: str
    age: str
    gender: str  # "m", "f" or "" (unknown)
    accent: str
    region: str
    comment: str
    lineno: int


@dataclass
class SpeakerInfo:
    """What ``speaker-info.txt`` says, and what was wrong with it."""

    path: str
    found: bool = False
    header: str = ""
    rows: dict[str, SpeakerRow] = field(default_factory=dict)
    malformed: list[tuple[int, str, str]] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)

    def gender(self, spk: str) -> str:
        """``m``/``f``, or ``""`` when unknown."""
        row = self.rows.get(spk)
        return row.gender if row else ""


def read_speaker_info(path: Path) -> SpeakerInfo:
    """Parse VCTK's ``speaker-info.txt`` (see the module docstring for the format).

    A missing file gives an empty result (logged); bad rows are collected, not
    raised: fewer than three columns, or a gender other than M/F (then the row is
    kept with an unknown gender).
    """
    info = SpeakerInfo(str(path))
    if not path.is_file():
        LOG.warning("%s not found: no genders (spk2gender is not written)", path)
        return info
    info.found = True
    text = path.read_bytes().decode("utf-8", errors="replace")
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if not info.header and line.split()[0].upper() == "ID":
            info.header = line
            continue
        comment = ""
        m = re.search(r"\(.*\)", line)
        if m:
            comment = m.group(0)
            line = (line[: m.start()] + line[m.end() :]).strip()
        cols = line.split()
        if len(cols) < 3:
            info.malformed.append((lineno, raw, "fewer than 3 columns"))
            continue
        spk, age, g = cols[0], cols[1], cols[2].upper()
        gender = {"M": "m", "F": "f", "MALE": "m", "FEMALE": "f"}.get(g, "")
        if not gender:
            info.malformed.append((lineno, raw, f"gender {cols[2]!r} is not M or F"))
        if spk in info.rows:
            info.repeated.append(spk)
            LOG.warning("%s:%d: speaker %s repeated; first row kept", path, lineno, spk)
            continue
        info.rows[spk] = SpeakerRow(
            spk=spk,
            age=age,
            gender=gender,
            accent=cols[3] if len(cols) > 3 else "",
            region=" ".join(cols[4:]),
            comment=comment,
            lineno=lineno,
        )
    if not info.header:
        LOG.warning("%s: no 'ID AGE GENDER ...' header line", path)
    return info


# ---------------------------------------------------------------------- the scan


@dataclass
class Entry:
    """One utterance id found on disk: its text file and audio files."""

    spk: str
    num: str
    txt: Path | None = None
    audio: dict[str, Path] = field(default_factory=dict)

    @property
    def utt_id(self) -> str:
        """``<spk>_<NNN>``."""
        return f"{self.spk}_{self.num}"


@dataclass
class Utt:
    """One kept utterance."""

    utt_id: str
    spk: str
    num: str
    wav: str
    text: str
    mic: str


@dataclass
class Skip:
    """One skipped input entry."""

    reason: str
    item: str
    detail: str
    spk: str | None
    num: str | None


@dataclass
class ScanResult:
    """Every entry's outcome, before the split into sets."""

    utts: dict[str, Utt] = field(default_factory=dict)
    skips: list[Skip] = field(default_factory=list)
    speakers_txt: set[str] = field(default_factory=set)
    speakers_wav: set[str] = field(default_factory=set)
    multi_line: list[str] = field(default_factory=list)

    @property
    def num_in(self) -> int:
        """Input entries."""
        return len(self.utts) + len(self.skips)

    def skip(
        self, reason: str, item: str, detail: str, spk: str | None, num: str | None
    ) -> None:
        """Account for one skipped entry."""
        assert reason in SKIP_REASONS, reason
        self.skips.append(Skip(reason, item, detail, spk, num))


def _walk(
    root: Path, name_re: re.Pattern, res: ScanResult, kind: str
) -> tuple[dict[tuple[str, str], list[tuple[str, Path]]], set[str]]:
    """Files of ``root/<spk>/``: (spk, num) -> [(mic or "txt", path)], speakers.

    Misplaced and misnamed files are recorded as skips in ``res``.
    """
    found: dict[tuple[str, str], list[tuple[str, Path]]] = defaultdict(list)
    speakers: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        rel = Path(dirpath).relative_to(root).parts
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if len(rel) != 1:
                spk = rel[0] if rel and SPK_RE.match(rel[0]) else None
                res.skip(
                    "unexpected_location",
                    str(path),
                    f"not directly in {root.name}/<spk>/",
                    spk,
                    None,
                )
                continue
            spk = rel[0]
            m = name_re.match(name)
            if not SPK_RE.match(spk):
                res.skip(
                    "bad_file_name",
                    str(path),
                    f"speaker folder {spk!r} is not a speaker id",
                    None,
                    None,
                )
            elif m is None or m.group("spk") != spk:
                res.skip(
                    "bad_file_name",
                    str(path),
                    f"not a {kind} file name of speaker {spk} "
                    f"({spk}_<NNN>{'.txt' if kind == 'text' else '_mic<1|2>.flac'})",
                    spk,
                    None,
                )
            else:
                speakers.add(spk)
                tag = m.group("mic") if kind == "audio" else "txt"
                found[(spk, m.group("num"))].append((tag, path))
    return found, speakers


def _read_text(path: Path) -> tuple[str | None, str, bool]:
    """(text or None, reason if None, multi-line) of one VCTK text file."""
    data = path.read_bytes()
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return None, f"invalid_utf8: {e}", False
    lines = [ln for ln in decoded.splitlines() if ln.strip()]
    text = " ".join(" ".join(lines).split())
    if not text:
        return None, "empty_text: empty or only whitespace", False
    return text, "", len(lines) > 1


def scan_tree(
    vctk_root: Path,
    mic: str = "mic1",
    mic_fallback: bool = False,
    check_audio: bool = False,
) -> ScanResult:
    """Find every entry of a VCTK tree and decide whether it is kept."""
    if mic not in MICS:
        raise InputError(f"--mic must be one of {MICS}, got {mic!r}")
    txt_root, wav_root = vctk_root / TXT_DIR, vctk_root / WAV_DIR
    if not txt_root.is_dir() or not wav_root.is_dir():
        hint = ""
        inner = vctk_root / "VCTK-Corpus-0.92"
        if inner.is_dir():
            hint = f" (did you mean --vctk_root {inner}?)"
        raise InputError(
            f"{vctk_root} is not a VCTK 0.92 tree: it needs {TXT_DIR}/ and "
            f"{WAV_DIR}/{hint}"
        )
    res = ScanResult()
    texts, res.speakers_txt = _walk(txt_root, TXT_RE, res, "text")
    audio, res.speakers_wav = _walk(wav_root, FLAC_RE, res, "audio")
    entries: dict[tuple[str, str], Entry] = {}
    for key in sorted(set(texts) | set(audio)):
        e = Entry(*key)
        for _, path in texts.get(key, []):
            e.txt = path
        for m, path in audio.get(key, []):
            e.audio[m] = path
        entries[key] = e
    other = {"mic1": "mic2", "mic2": "mic1"}[mic]
    for (spk, num), e in entries.items():
        if e.txt is None:
            where = next(iter(e.audio.values()))
            detail = (
                f"speaker {spk} has no {TXT_DIR}/ folder"
                if spk not in res.speakers_txt
                else f"no {TXT_DIR}/{spk}/{e.utt_id}.txt"
            )
            res.skip("no_text", str(where), detail, spk, num)
            continue
        text, why, multi = _read_text(e.txt)
        if text is None:
            reason = why.split(":", 1)[0]
            res.skip(reason, str(e.txt), why, spk, num)
            continue
        used = mic
        apath = e.audio.get(mic)
        if apath is None:
            if mic_fallback and other in e.audio:
                apath, used = e.audio[other], other
            else:
                have = ", ".join(sorted(e.audio)) or "no mic"
                hint = " (--mic_fallback uses it)" if e.audio else ""
                res.skip(
                    "missing_audio",
                    str(e.txt),
                    f"no {e.utt_id}_{mic}.flac; audio of {have}{hint}",
                    spk,
                    num,
                )
                continue
        bad = audio_problem(apath, check_audio)
        if bad is not None:
            res.skip(bad[0], str(apath), bad[1], spk, num)
            continue
        if multi:
            res.multi_line.append(e.utt_id)
        res.utts[e.utt_id] = Utt(e.utt_id, spk, num, os.path.abspath(apath), text, used)
    return res


# ---------------------------------------------------------------------- the sets


@dataclass
class SetResult:
    """One output set: kept utterances and the skips counted in it."""

    name: str
    utts: dict[str, Utt] = field(default_factory=dict)
    skips: list[Skip] = field(default_factory=list)

    @property
    def num_in(self) -> int:
        """Entries counted in this set."""
        return len(self.utts) + len(self.skips)

    @property
    def skipped(self) -> Counter:
        """Reason -> count."""
        return Counter(s.reason for s in self.skips)

    def summary(self, mic: str) -> str:
        """One line: in, out, skipped by reason (``mic``: the one asked for)."""
        fb = sum(u.mic != mic for u in self.utts.values())
        return (
            f"{self.name}: in={self.num_in} out={len(self.utts)} "
            f"skipped={len(self.skips)} ({_reasons(self.skipped)}); "
            f"speakers={len({u.spk for u in self.utts.values()})}"
            + (f"; other mic used for {fb}" if fb else "")
        )


def _reasons(counts: Counter) -> str:
    return ", ".join(f"{r}={n}" for r, n in sorted(counts.items())) or "none"


@dataclass
class PairResult:
    """The parallel test pairs and the candidates that did not make one."""

    pairs: list[tuple[str, str, str]] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    target_kind: str = ""

    @property
    def num_in(self) -> int:
        """Candidate (source, target speaker) pairs."""
        return len(self.pairs) + len(self.skips)


@dataclass
class Selection:
    """How the sets were chosen (recorded in the reports)."""

    heldout: list[str]
    shared_ids: list[str]
    reference_text: dict[str, str]
    test_ids: list[str]
    seed: int


def find_shared_ids(
    utts: dict[str, Utt], min_fraction: float
) -> tuple[list[str], dict[str, str]]:
    """Ids whose majority text is read by >= max(2, min_fraction x speakers).

    Returns (shared ids in order, id -> normalized reference text).
    """
    speakers = {u.spk for u in utts.values()}
    need = max(2, math.ceil(min_fraction * len(speakers)))
    by_num: dict[str, Counter] = defaultdict(Counter)
    for u in utts.values():
        by_num[u.num][normalize_text(u.text)] += 1
    shared: list[str] = []
    ref: dict[str, str] = {}
    for num in sorted(by_num):
        text, n = sorted(by_num[num].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if n >= need:
            shared.append(num)
            ref[num] = text
    return shared, ref


def _rank(seed: int, key: str) -> str:
    return hashlib.sha256(f"vctk-prep-{seed}:{key}".encode("utf-8")).hexdigest()


def split_sets(
    scan: ScanResult,
    heldout: Sequence[str],
    num_dev: int = 2,
    num_test_own: int = 2,
    num_test_shared: int = 4,
    min_shared_fraction: float = 0.5,
    seed: int = 0,
) -> tuple[dict[str, SetResult], list[Skip], Selection]:
    """Assign every kept utterance and every skip to a set.

    Returns (set name -> result, unattributed skips, the selection made).
    """
    held = set(heldout)
    shared, ref = find_shared_ids(scan.utts, min_shared_fraction)
    k = min(num_test_shared, len(shared))
    if k < num_test_shared:
        LOG.warning(
            "only %d shared sentence ids (%s); %d asked for the parallel test",
            len(shared),
            " ".join(shared) or "none",
            num_test_shared,
        )
    test_ids = sorted(random.Random(f"vctk-prep-ids-{seed}").sample(shared, k))
    sets = {name: SetResult(name) for name in SETS}
    own: dict[str, list[Utt]] = defaultdict(list)
    for uid in c_sorted(list(scan.utts)):
        u = scan.utts[uid]
        if u.spk in held:
            sets["heldout"].utts[uid] = u
        elif u.num in test_ids and normalize_text(u.text) == ref[u.num]:
            sets["test"].utts[uid] = u
        elif u.num in ref:
            sets["train"].utts[uid] = u
        else:
            own[u.spk].append(u)
    for spk in c_sorted(list(own)):
        pool = sorted(own[spk], key=lambda u: _rank(seed, u.utt_id))
        if len(pool) <= num_dev + num_test_own:
            LOG.warning(
                "speaker %s has %d own sentences: dev and test take %d of them",
                spk,
                len(pool),
                min(len(pool), num_dev + num_test_own),
            )
        for i, u in enumerate(pool):
            name = (
                "dev" if i < num_dev else "test" if i < num_dev + num_test_own else ""
            )
            sets[name or "train"].utts[u.utt_id] = u
    unattributed: list[Skip] = []
    for s in scan.skips:
        if s.spk is None:
            unattributed.append(s)
        elif s.spk in held:
            sets["heldout"].skips.append(s)
        elif s.num is not None and s.num in test_ids:
            sets["test"].skips.append(s)
        else:
            sets["train"].skips.append(s)
    sel = Selection(
        heldout=c_sorted(list(held)),
        shared_ids=shared,
        reference_text=ref,
        test_ids=test_ids,
        seed=seed,
    )
    return sets, unattributed, sel


def make_pairs(
    scan: ScanResult, sets: dict[str, SetResult], sel: Selection, targets: str
) -> PairResult:
    """Pairs of each parallel test source with its targets' readings of its id."""
    if targets not in PAIR_TARGETS:
        raise InputError(f"--pair_targets must be one of {PAIR_TARGETS}")
    seen = c_sorted(
        list({u.spk for u in scan.utts.values() if u.spk not in sel.heldout})
    )
    kind = targets
    if kind == "auto":
        kind = "heldout" if sel.heldout else "seen"
    cand = {
        "heldout": sel.heldout,
        "seen": seen,
        "all": c_sorted(sel.heldout + seen),
    }[kind]
    res = PairResult(targets=cand, target_kind=kind)
    for uid, u in sorted(sets["test"].utts.items()):
        if u.num not in sel.test_ids:
            continue
        for tspk in cand:
            if tspk == u.spk:
                continue
            tid = f"{tspk}_{u.num}"
            pid = f"{uid}-{tspk}"
            t = scan.utts.get(tid)
            if t is None:
                res.skips.append(
                    Skip(
                        "target_missing",
                        pid,
                        f"{tspk} has no usable {tid}",
                        u.spk,
                        u.num,
                    )
                )
            elif normalize_text(t.text) != normalize_text(u.text):
                res.skips.append(
                    Skip(
                        "text_mismatch",
                        pid,
                        f"{tid} reads {t.text!r}, {uid} reads {u.text!r}",
                        u.spk,
                        u.num,
                    )
                )
            else:
                res.pairs.append((pid, uid, tid))
    res.pairs.sort()
    return res


# ---------------------------------------------------------------------- writing


def _entries(skips: Sequence[Skip]) -> list[tuple[str, str, str]]:
    """(reason, item, detail) of each skip (prep_common's skip log and examples)."""
    return [(s.reason, s.item, s.detail) for s in skips]


def _clear(dst: Path) -> None:
    """Remove what this script (or a later stage) may have written in ``dst``."""
    for name in (*KALDI_FILES, *STALE_FILES, REPORT_NAME):
        p = dst / name
        if p.is_file():
            LOG.info("removing %s (set now empty)", p)
            p.unlink()
    if dst.is_dir() and not any(dst.iterdir()):
        dst.rmdir()


def write_data_dir(
    dst: Path, utts: dict[str, Utt], info: SpeakerInfo
) -> tuple[list[str], list[str]]:
    """wav.scp, text, utt2spk, spk2utt (and spk2gender), sorted in C order.

    Returns (files written, speakers without a gender).
    """
    dst.mkdir(parents=True, exist_ok=True)
    for name in STALE_FILES:
        if (dst / name).is_file():
            LOG.info("removing stale %s", dst / name)
            (dst / name).unlink()
    order = c_sorted(list(utts))
    write_kaldi_file(dst / "wav.scp", [(k, utts[k].wav) for k in order])
    write_kaldi_file(dst / "text", [(k, utts[k].text) for k in order])
    utt2spk = {k: utts[k].spk for k in order}
    write_kaldi_file(dst / "utt2spk", [(k, utt2spk[k]) for k in order])
    write_kaldi_file(dst / "spk2utt", spk2utt_entries(utt2spk))
    files = ["wav.scp", "text", "utt2spk", "spk2utt"]
    spks = c_sorted(list(set(utt2spk.values())))
    lacking = [s for s in spks if not info.gender(s)]
    if lacking:
        LOG.warning(
            "%s: no spk2gender: %d speakers have no gender in %s (%s)",
            dst,
            len(lacking),
            SPEAKER_INFO,
            " ".join(lacking[:10]),
        )
    else:
        write_kaldi_file(dst / "spk2gender", [(s, info.gender(s)) for s in spks])
        files.append("spk2gender")
    return files, lacking


@dataclass
class PrepResult:
    """Everything :func:`prepare` found and wrote."""

    scan: ScanResult
    info: SpeakerInfo
    sets: dict[str, SetResult]
    unattributed: list[Skip]
    selection: Selection
    pairs: PairResult
    written: list[str]
    inputs: dict[str, Any]


def log_skips(name: str, skips: Sequence[Skip], max_log_per_reason: int = 20) -> None:
    """Log skipped entries, at most ``max_log_per_reason`` per reason."""
    log_skipped(LOG, _entries(skips), max_log_per_reason, name=name)


def _speaker_checks(scan: ScanResult, info: SpeakerInfo) -> dict[str, Any]:
    with_files = scan.speakers_txt | scan.speakers_wav
    rows_without = c_sorted([s for s in info.rows if s not in with_files])
    without_row = c_sorted([s for s in with_files if s not in info.rows])
    if info.found:
        for s in rows_without:
            LOG.warning("%s: speaker %s has a row but no files", SPEAKER_INFO, s)
        for s in without_row:
            LOG.warning(
                "speaker %s has files but no row in %s (kept, gender unknown)",
                s,
                SPEAKER_INFO,
            )
    for lineno, raw, why in info.malformed:
        LOG.warning("%s:%d: malformed row (%s): %r", info.path, lineno, why, raw)
    return {
        "path": info.path,
        "found": info.found,
        "header": info.header,
        "rows": len(info.rows),
        "rows_without_files": rows_without,
        "speakers_without_row": (
            without_row if info.found else c_sorted(list(with_files))
        ),
        "malformed_rows": [f"{n}: {why}: {raw}" for n, raw, why in info.malformed],
        "repeated_rows": info.repeated,
        "comments": {s: r.comment for s, r in sorted(info.rows.items()) if r.comment},
        "speakers_without_txt_folder": c_sorted(
            list(scan.speakers_wav - scan.speakers_txt)
        ),
        "speakers_without_audio_folder": c_sorted(
            list(scan.speakers_txt - scan.speakers_wav)
        ),
    }


def read_manifest_heldout(vctk_root: Path) -> list[str]:
    """``heldout_speakers`` of a synthetic corpus's ``manifest.json``."""
    path = vctk_root / "manifest.json"
    if not path.is_file():
        raise InputError(f"--heldout_from_manifest: {path} not found")
    value = json.loads(path.read_text(encoding="utf-8")).get("heldout_speakers")
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise InputError(f"{path}: no list 'heldout_speakers'")
    return value


def prepare(
    vctk_root: str | Path,
    out: str | Path,
    mic: str = "mic1",
    mic_fallback: bool = False,
    heldout_speakers: Sequence[str] = (),
    heldout_from_manifest: bool = False,
    num_dev: int = 2,
    num_test_own: int = 2,
    num_test_shared: int = 4,
    min_shared_fraction: float = 0.5,
    pair_targets: str = "auto",
    seed: int = 0,
    check_audio: bool = False,
    max_log_per_reason: int = 20,
) -> PrepResult:
    """Scan a VCTK tree and write ``<out>/<set>/`` for every non-empty set.

    Raises:
        InputError: not a VCTK tree, an unknown held-out speaker, or an empty
            ``train`` set (then nothing is written).
    """
    vctk_root, out = Path(vctk_root), Path(out)
    if min(num_dev, num_test_own, num_test_shared) < 0:
        raise InputError("--num_dev, --num_test_own, --num_test_shared must be >= 0")
    if not 0.0 < min_shared_fraction <= 1.0:
        raise InputError("--min_shared_fraction must be in (0, 1]")
    held = list(dict.fromkeys(heldout_speakers))
    if heldout_from_manifest:
        held = list(dict.fromkeys(held + read_manifest_heldout(vctk_root)))
    info = read_speaker_info(vctk_root / SPEAKER_INFO)
    scan = scan_tree(vctk_root, mic, mic_fallback, check_audio)
    known = scan.speakers_txt | scan.speakers_wav
    unknown = [s for s in held if s not in known]
    if unknown:
        raise InputError(
            f"held-out speaker(s) without any file in {vctk_root}: {' '.join(unknown)}"
        )
    sets, unattributed, sel = split_sets(
        scan,
        held,
        num_dev=num_dev,
        num_test_own=num_test_own,
        num_test_shared=num_test_shared,
        min_shared_fraction=min_shared_fraction,
        seed=seed,
    )
    pairs = make_pairs(scan, sets, sel, pair_targets)
    assert scan.num_in == sum(s.num_in for s in sets.values()) + len(unattributed)
    speaker_checks = _speaker_checks(scan, info)
    for name in SETS:
        log_skips(name, sets[name].skips, max_log_per_reason)
    log_skips("(no set)", unattributed, max_log_per_reason)
    log_skips(PARALLEL, pairs.skips, max_log_per_reason)
    if scan.multi_line:
        LOG.warning(
            "%d texts had several lines (joined with spaces): %s",
            len(scan.multi_line),
            " ".join(scan.multi_line[:10]),
        )
    for name in SETS:
        line = sets[name].summary(mic)
        LOG.info("%s", line)
        print(line, flush=True)
    pline = (
        f"{PARALLEL}: pairs in={pairs.num_in} out={len(pairs.pairs)} "
        f"skipped={len(pairs.skips)} "
        f"({_reasons(Counter(s.reason for s in pairs.skips))}); "
        f"targets={pairs.target_kind} ({' '.join(pairs.targets) or 'none'}); "
        f"test ids {' '.join(sel.test_ids) or 'none'}"
    )
    LOG.info("%s", pline)
    print(pline, flush=True)
    if unattributed:
        LOG.warning("%d entries outside any speaker folder", len(unattributed))
    if not sets["train"].utts:
        raise InputError(f"no training utterance from {vctk_root}; nothing written")

    inputs = {
        "vctk_root": os.path.abspath(vctk_root),
        "mic": mic,
        "mic_fallback": mic_fallback,
        "check_audio": check_audio,
        "seed": seed,
        "heldout_speakers": sel.heldout,
        "shared_ids": sel.shared_ids,
        "test_ids": sel.test_ids,
        "num_dev": num_dev,
        "num_test_own": num_test_own,
        "num_test_shared": num_test_shared,
        "min_shared_fraction": min_shared_fraction,
        "speaker_info": speaker_checks,
    }
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for name in SETS:
        res = sets[name]
        dst = out / name
        if not res.utts:
            LOG.warning("%s: no utterances, %s not written", name, dst)
            if dst.is_dir():
                _clear(dst)
            continue
        files, lacking = write_data_dir(dst, res.utts, info)
        fallback = sorted(u.utt_id for u in res.utts.values() if u.mic != mic)
        report = {
            "set": name,
            "utterances_in": res.num_in,
            "utterances_out": len(res.utts),
            "skipped_total": len(res.skips),
            "skipped": dict(sorted(res.skipped.items())),
            "skipped_examples": skip_examples(_entries(res.skips)),
            "speakers": c_sorted(list({u.spk for u in res.utts.values()})),
            "speakers_without_gender": lacking,
            "mic_fallback_used": len(fallback),
            "mic_fallback_examples": fallback[:10],
            "files": sorted(files + [REPORT_NAME]),
            "inputs": inputs,
        }
        write_json_atomic(dst / REPORT_NAME, report)
        written.append(name)
    dst = out / PARALLEL
    if pairs.pairs:
        pu = {}
        for _, s, t in pairs.pairs:
            pu[s], pu[t] = scan.utts[s], scan.utts[t]
        files, lacking = write_data_dir(dst, pu, info)
        write_kaldi_file(dst / "pairs", [(p, f"{s} {t}") for p, s, t in pairs.pairs])
        report = {
            "set": PARALLEL,
            "pairs_in": pairs.num_in,
            "pairs_out": len(pairs.pairs),
            "skipped_total": len(pairs.skips),
            "skipped": dict(Counter(s.reason for s in pairs.skips)),
            "skipped_examples": skip_examples(_entries(pairs.skips)),
            "utterances": len(pu),
            "target_kind": pairs.target_kind,
            "target_speakers": pairs.targets,
            "test_ids": sel.test_ids,
            "reference_texts": {n: sel.reference_text[n] for n in sel.test_ids},
            "speakers_without_gender": lacking,
            "files": sorted(files + ["pairs", REPORT_NAME]),
            "inputs": inputs,
        }
        write_json_atomic(dst / REPORT_NAME, report)
        written.append(PARALLEL)
    else:
        LOG.warning("%s: no pairs, %s not written", PARALLEL, dst)
        if dst.is_dir():
            _clear(dst)
    top = {
        "entries_in": scan.num_in,
        "utterances_kept": len(scan.utts),
        "skipped_total": len(scan.skips),
        "skipped": dict(sorted(Counter(s.reason for s in scan.skips).items())),
        "sets": {
            n: {
                "in": sets[n].num_in,
                "out": len(sets[n].utts),
                "skipped": dict(sorted(sets[n].skipped.items())),
            }
            for n in SETS
        },
        "unattributed": {
            "count": len(unattributed),
            "skipped": dict(Counter(s.reason for s in unattributed)),
            "examples": skip_examples(_entries(unattributed)),
        },
        "parallel_pairs": len(pairs.pairs),
        "multi_line_texts": scan.multi_line,
        "written": written,
        "inputs": inputs,
    }
    write_json_atomic(out / REPORT_NAME, top)
    return PrepResult(scan, info, sets, unattributed, sel, pairs, written, inputs)


def _speaker_list(values: Sequence[str]) -> list[str]:
    """``["p360 p361", "p362,p363"]`` -> ``["p360", "p361", "p362", "p363"]``."""
    return [s for v in values for s in re.split(r"[\s,]+", v) if s]


def get_parser() -> argparse.ArgumentParser:
    """Command-line parser."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--vctk_root",
        required=True,
        help="VCTK 0.92 root (speaker-info.txt, txt/, wav48_silence_trimmed/)",
    )
    p.add_argument("--out", default="data", help="output: <out>/<set>/ per set")
    p.add_argument("--mic", default="mic1", choices=MICS, help="which microphone")
    p.add_argument(
        "--mic_fallback",
        action="store_true",
        help="use the other mic's file when the --mic one is missing (counted)",
    )
    p.add_argument(
        "--heldout_speakers",
        nargs="*",
        default=[],
        help='held-out target speakers, e.g. "p360 p361 p362" (own set)',
    )
    p.add_argument(
        "--heldout_from_manifest",
        action="store_true",
        help="also hold out <vctk_root>/manifest.json's heldout_speakers "
        "(the synthetic corpus)",
    )
    p.add_argument("--num_dev", type=int, default=2, help="own sentences per speaker")
    p.add_argument(
        "--num_test_own", type=int, default=2, help="own sentences per speaker"
    )
    p.add_argument(
        "--num_test_shared",
        type=int,
        default=4,
        help="shared sentence ids reserved for the (parallel) test",
    )
    p.add_argument("--min_shared_fraction", type=float, default=0.5)
    p.add_argument("--pair_targets", default="auto", choices=PAIR_TARGETS)
    p.add_argument("--seed", type=int, default=0, help="which ids / sentences")
    add_common_args(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (non-zero on input errors)."""
    args = parse_args(get_parser(), argv)
    try:
        res = prepare(
            args.vctk_root,
            args.out,
            mic=args.mic,
            mic_fallback=args.mic_fallback,
            heldout_speakers=_speaker_list(args.heldout_speakers),
            heldout_from_manifest=args.heldout_from_manifest,
            num_dev=args.num_dev,
            num_test_own=args.num_test_own,
            num_test_shared=args.num_test_shared,
            min_shared_fraction=args.min_shared_fraction,
            pair_targets=args.pair_targets,
            seed=args.seed,
            check_audio=args.check_audio,
            max_log_per_reason=args.max_log_per_reason,
        )
    except (InputError, OSError) as e:
        LOG.error("%s", e)
        return 1
    return validate_written((Path(args.out) / name for name in res.written), LOG)


if __name__ == "__main__":
    sys.exit(main())
