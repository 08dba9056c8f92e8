#!/usr/bin/env python3
"""Build an offline multi-speaker corpus for voice conversion in the VCTK 0.92 layout.

Every voice is an espeak-ng setting (``local/synth_corpus.py``'s synthesis); the files
are written exactly where VCTK 0.92 (``VCTK-Corpus-0.92.zip``) has them, so that the
real corpus's data preparation (``local/data_prep_vctk.py``) reads this one unchanged::

    <out>/speaker-info.txt          ID AGE GENDER ACCENTS REGION COMMENTS, VCTK's
                                    spacing; COMMENTS holds the espeak-ng setting
    <out>/txt/pXXX/pXXX_NNN.txt     one line: the cased, punctuated text
    <out>/wav48_silence_trimmed/pXXX/pXXX_NNN_mic1.flac   48 kHz mono 16-bit FLAC
    <out>/wav48_silence_trimmed/pXXX/pXXX_NNN_mic2.flac   the same, "second mic"
    <out>/manifest.json             options, voices, held-out speakers, shared
                                    sentence ids, summary
    <out>/.done                     written last, when complete

Every voice reads the same ``--num_shared`` sentences first (ids ``001`` ..; like
VCTK's rainbow passage and elicitation paragraph, the same text under the same id for
every speaker), then ``--num_own`` sentences of its own (ids after the shared ones;
like VCTK's newspaper sentences, never read by another voice). The shared sentences are
a fixed list written for this corpus (topped up from the grammar beyond its length);
the own sentences come from the English grammar of ``local/synth_corpus.py``
(``generate_sentences``), cased and punctuated like VCTK's texts ("Did Mary see the old
dog?"). The last ``--num_heldout`` voices are the held-out targets of any-to-any
conversion: ``manifest.json`` lists them (``heldout_speakers``) for the data
preparation (``--heldout_from_manifest``); nothing marks them in the VCTK files.

Voices: :data:`VOICE_TABLE`, 16 espeak-ng settings (base voice, timbre variant, pitch,
speed) chosen with a speaker encoder (Resemblyzer) so that they are told apart; see the
comment there for the numbers. ``--num_voices`` takes the first N (every prefix of the
table is a well-separated set, alternating female and male). ``--check_voices``
measures the similarities again (needs ``resemblyzer``).

Audio: espeak-ng at 22.05 kHz, resampled to 16 kHz by ``synth_corpus.synthesize`` and
to 48 kHz here (``resample_poly``, up 3), 16-bit FLAC: content up to 8 kHz (the
recipes load it at 16 kHz). ``mic2`` is ``mic1`` through a second-order Butterworth
high-pass at 120 Hz, 3 dB quieter (gain 0.708) and 0.5 ms later (24 samples of
silence in front): a different but equally clean channel, as VCTK's second microphone.

Deterministic from ``--seed``: the same seed gives the same speaker ids, ages,
sentences, per-utterance prosody jitter, file names and (espeak-ng and libFLAC being
deterministic) audio bytes. Resumable: an audio or text file that exists and is not
empty is not made again; a complete corpus (``.done`` with the same options) is not
touched; a corpus made with other options is refused unless ``--overwrite``; a
directory with VCTK folders but no ``manifest.json`` (e.g. the real corpus) is always
refused.

Example::

    python local/synth_vctk_corpus.py --out downloads/synth_vctk --nj 2
    python local/synth_vctk_corpus.py --out /tmp/tiny --num_voices 3 --num_heldout 1 \\
        --num_shared 2 --num_own 1
    python local/synth_vctk_corpus.py --check_voices --num_voices 16
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import shutil
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import soundfile as sf
from scipy.signal import butter, resample_poly, sosfilt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_common import check_existing, run_synth_jobs  # noqa: E402
from synth_corpus import (  # noqa: E402
    DAYS,
    ESPEAK_BIN,
    MONTHS,
    NAMES,
    TARGET_SAMPLE_RATE,
    Voice,
    generate_sentences,
    synthesize,
)

LOG = logging.getLogger("synth_vctk_corpus")

FORMAT_VERSION = 1
SAMPLE_RATE = 48000
TXT_DIR = "txt"
WAV_DIR = "wav48_silence_trimmed"
MICS: tuple[str, ...] = ("mic1", "mic2")
SPEAKER_INFO = "speaker-info.txt"
# VCTK 0.92's header line, trailing space included
SPEAKER_INFO_HEADER = "ID  AGE  GENDER  ACCENTS  REGION COMMENTS "
MIC2_HIGHPASS_HZ = 120.0
MIC2_GAIN = 0.708  # -3 dB
MIC2_DELAY = 24  # samples at 48 kHz: 0.5 ms
MIC2_DESCRIPTION = (
    "mic1 through a 2nd-order Butterworth high-pass at 120 Hz, gain 0.708 (-3 dB), "
    "delayed 0.5 ms (24 samples of silence in front)"
)
# word counts of the grammar's own sentences (VCTK's newspaper sentences are short)
OWN_MIN_WORDS = 5
OWN_MAX_WORDS = 12
# VCTK speaker numbers run from 225 to 376; 280 and 315 are left out (the real
# corpus's p280 lacks mic2 and p315 lacks text: no confusion with them)
SPEAKER_NUMBERS: tuple[int, ...] = tuple(
    n for n in range(225, 377) if n not in (280, 315)
)

# --------------------------------------------------------------------------------------
# Voices
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoiceSpec:
    """One espeak-ng setting: ``-v base+variant -p pitch -s speed -g gap``."""

    base: str
    variant: str
    gender: str  # "M" or "F"
    pitch: int
    speed: int
    gap: int = 1


# How these were chosen (Resemblyzer 0.1.4, GE2E; cosine of utterance embeddings;
# 3 sentences per voice, with the per-utterance jitter below): 46 timbre variants of
# en-us at -p 50 -s 165 (robot variants not tried; croak and whisper measured, left
# out), then 37 settings of the most distinct ones with base voice, pitch and speed
# varied, then a greedy max-min pick, alternating gender, one setting per variant,
# best start. The 16 below: between voices mean 0.566, max 0.740; within a voice
# mean 0.891, min 0.845. Every prefix of the table is the greedy pick of its size.
# Checked again with --check_voices (seed 0: each voice's first 3 own sentences,
# texts other than the selection's): within mean 0.863, min 0.817; between mean
# 0.544, max 0.732. For comparison, synth_corpus.make_voices' m1..m7/f1..f5 are close
# to one another (f2-f5 0.91, m2-m6 0.87), and accent-only variants of one voice
# score 0.88-0.91.
VOICE_TABLE: tuple[VoiceSpec, ...] = (
    VoiceSpec("en-us-nyc", "Denis", "M", 35, 155),
    VoiceSpec("en-us", "Alicia", "F", 40, 170),
    VoiceSpec("en-us-nyc", "anika", "F", 50, 170),
    VoiceSpec("en-029", "david", "M", 35, 160),
    VoiceSpec("en-gb-scotland", "f1", "F", 45, 155),
    VoiceSpec("en-us", "boris", "M", 30, 145),
    VoiceSpec("en-029", "belinda", "F", 65, 150),
    VoiceSpec("en-gb-scotland", "iven", "M", 45, 150),
    VoiceSpec("en-us", "steph", "F", 60, 175),
    VoiceSpec("en-gb-x-rp", "Lee", "M", 50, 155),
    VoiceSpec("en-us", "Andrea", "F", 60, 180),
    VoiceSpec("en-gb-x-gbcwmd", "edward", "M", 45, 170),
    VoiceSpec("en-us", "f4", "F", 65, 150),
    VoiceSpec("en-us", "klatt", "M", 40, 185),
    VoiceSpec("en-gb", "f5", "F", 70, 180),
    VoiceSpec("en-gb-x-rp", "quincy", "M", 50, 175),
)
# the measurements behind VOICE_TABLE (recorded in manifest.json)
VOICE_CHECK: dict[str, Any] = {
    "encoder": "Resemblyzer 0.1.4 (GE2E), cosine of utterance embeddings",
    "selection": {
        "utterances_per_voice": 3,
        "within_mean": 0.891,
        "within_min": 0.845,
        "between_mean": 0.566,
        "between_max": 0.740,
    },
    "check_voices_seed0": {
        "utterances_per_voice": 3,
        "within_mean": 0.863,
        "within_min": 0.817,
        "between_mean": 0.544,
        "between_max": 0.732,
    },
}
# espeak-ng base voice -> (VCTK ACCENTS, REGION)
ACCENTS: dict[str, tuple[str, str]] = {
    "en-us": ("American", "Ohio"),
    "en-us-nyc": ("American", "New York"),
    "en-gb": ("English", "Southern England"),
    "en-gb-x-rp": ("English", "Oxford"),
    "en-gb-x-gbclan": ("English", "Lancaster"),
    "en-gb-x-gbcwmd": ("English", "West Midlands"),
    "en-gb-scotland": ("Scottish", "Edinburgh"),
    "en-029": ("Caribbean", "Kingston"),
}

# --------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------

# Read by every voice under the same ids (001, 002, ...), written for this corpus.
SHARED_SENTENCES: tuple[str, ...] = (
    "Please ask Martin to call me back tonight.",
    "The yellow kite got stuck in the old oak tree.",
    "We bought six fresh eggs and a loaf of bread.",
    "She keeps her violin in a blue velvet case.",
    "How far is it from here to the harbour?",
    "The children laughed when the puppy chased its tail.",
    "My brother Jack works at the post office in Leeds.",
    "Thick fog rolled over the hills before dawn.",
    "Could you pass me the salt and the pepper, please?",
    "The train to Glasgow leaves at a quarter past nine.",
    "A small grey mouse ran under the kitchen door.",
    "They painted the fence white during the summer holidays.",
    "Judge Thompson showed no sympathy for the thieves.",
    "Her voice was soft, but everyone heard each word.",
    "Rain is expected across the north on Thursday.",
    "The museum will open a new gallery in June.",
    "Put the heavy boxes beside the garage wall.",
    "Oliver found a shiny coin on the beach.",
    "Why did the farmer sell his prize-winning sheep?",
    "Fresh vegetables are cheaper at the Saturday market.",
    "The choir sang beautifully in the old chapel.",
    "Nobody knew where the missing keys had gone.",
    "Zoe enjoys jazz, yoga and quiet evenings at home.",
    "The bridge was closed after the storm last night.",
)
_PROPER = frozenset(NAMES) | frozenset(DAYS) | frozenset(MONTHS) | {"I"}
_WORD = re.compile(r"[a-z0-9']+")


def vctk_case(transcript: str, question: bool) -> str:
    """A grammar sentence (upper case, no punctuation) cased and punctuated like VCTK.

    ``"DID MARY SEE THE DOG ON MONDAY", True`` -> ``"Did Mary see the dog on
    Monday?"``: names, days, months and "I" capitalised, the first word too.
    """
    words = [
        w.capitalize() if w in _PROPER or w.startswith("I'") else w.lower()
        for w in transcript.split()
    ]
    if not words:
        raise ValueError("empty sentence")
    words[0] = words[0][0].upper() + words[0][1:]
    return " ".join(words) + ("?" if question else ".")


def normalize_text(text: str) -> str:
    """Lower case words without punctuation: to compare two readings' texts."""
    return " ".join(_WORD.findall(text.lower()))


# --------------------------------------------------------------------------------------
# Plan
# --------------------------------------------------------------------------------------


@dataclass
class VctkCorpusOptions:
    """Options that determine the corpus content (recorded in manifest.json)."""

    seed: int = 0
    num_voices: int = 16
    num_heldout: int = 3
    num_shared: int = 24
    num_own: int = 76

    def validate(self) -> None:
        """Raise ValueError for inconsistent options."""
        if not 1 <= self.num_voices <= len(VOICE_TABLE):
            raise ValueError(f"num_voices must be in 1..{len(VOICE_TABLE)}")
        if not 0 <= self.num_heldout < self.num_voices:
            raise ValueError(
                f"need 0 <= num_heldout < num_voices (got {self.num_heldout}, "
                f"{self.num_voices}): at least one voice must be seen in training"
            )
        if self.num_shared < 0 or self.num_own < 0:
            raise ValueError("num_shared and num_own must be >= 0")
        if self.num_shared + self.num_own < 1:
            raise ValueError("every voice needs at least one sentence")
        if self.num_shared + self.num_own > 999:
            raise ValueError("at most 999 sentences per voice (3-digit VCTK ids)")


@dataclass(frozen=True)
class Speaker:
    """One corpus speaker: a VCTK-style id and row, and its espeak-ng voice."""

    spk: str  # "p226"
    voice: Voice
    age: int
    accent: str
    region: str

    @property
    def comment(self) -> str:
        """The COMMENTS column: the espeak-ng setting, in parentheses as in VCTK."""
        v = self.voice
        return f"(espeak-ng {v.name} -p {v.pitch} -s {v.speed} -g {v.gap})"

    def info_line(self) -> str:
        """The ``speaker-info.txt`` row (VCTK's spacing: two spaces between columns,
        four after the gender, region words two apart)."""
        g = self.voice.gender
        region = "  ".join(self.region.split())
        return f"{self.spk}  {self.age}  {g}    {self.accent}  {region}  {self.comment}"


@dataclass(frozen=True)
class VctkUtt:
    """One planned utterance."""

    spk: str
    num: str  # "001"
    text: str
    shared: bool
    voice: str
    pitch: int
    speed: int
    gap: int

    @property
    def utt_id(self) -> str:
        """VCTK's utterance id, ``p226_001``."""
        return f"{self.spk}_{self.num}"

    def txt_relpath(self) -> str:
        """``txt/p226/p226_001.txt``."""
        return f"{TXT_DIR}/{self.spk}/{self.utt_id}.txt"

    def wav_relpath(self, mic: str) -> str:
        """``wav48_silence_trimmed/p226/p226_001_<mic>.flac``."""
        return f"{WAV_DIR}/{self.spk}/{self.utt_id}_{mic}.flac"


def make_speakers(opts: VctkCorpusOptions) -> list[Speaker]:
    """The first ``num_voices`` voices of the table, with seeded ids and ages.

    Ids ascend in table order, so the held-out voices (the last ones) have the
    largest ids, as in the usual VCTK test speakers.
    """
    opts.validate()
    rng = random.Random(f"synth-vctk-speakers-{opts.seed}")
    numbers = sorted(rng.sample(SPEAKER_NUMBERS, opts.num_voices))
    speakers = []
    for i, (spec, n) in enumerate(zip(VOICE_TABLE, numbers)):
        accent, region = ACCENTS[spec.base]
        speakers.append(
            Speaker(
                spk=f"p{n}",
                voice=Voice(
                    speaker_id=n,
                    base=spec.base,
                    variant=spec.variant,
                    gender=spec.gender,
                    pitch=spec.pitch,
                    speed=spec.speed,
                    gap=spec.gap,
                    heldout=i >= opts.num_voices - opts.num_heldout,
                ),
                age=rng.randint(18, 38),
                accent=accent,
                region=region,
            )
        )
    return speakers


def corpus_sentences(opts: VctkCorpusOptions) -> tuple[list[str], list[str]]:
    """(shared texts, own texts): ``num_shared`` read by every voice, then
    ``num_own`` per voice, all distinct (compared without case and punctuation).

    The shared ones are :data:`SHARED_SENTENCES` in order, topped up from the
    grammar when ``num_shared`` is larger; the own ones come from the grammar
    (``generate_sentences(..., seed)``), in the order it gives them.
    """
    shared = list(SHARED_SENTENCES[: opts.num_shared])
    need = opts.num_shared - len(shared) + opts.num_own * opts.num_voices
    taken = {normalize_text(t) for t in SHARED_SENTENCES}
    grammar: list[str] = []
    if need > 0:
        for s in generate_sentences(
            need + len(SHARED_SENTENCES), opts.seed, OWN_MIN_WORDS, OWN_MAX_WORDS
        ):
            text = vctk_case(s.transcript, s.question)
            if normalize_text(text) not in taken:
                taken.add(normalize_text(text))
                grammar.append(text)
    if len(grammar) < need:  # pragma: no cover - the grammar has millions
        raise RuntimeError(f"only {len(grammar)} distinct sentences of {need}")
    top_up = opts.num_shared - len(shared)
    return shared + grammar[:top_up], grammar[top_up:need]


def plan_corpus(opts: VctkCorpusOptions) -> tuple[list[VctkUtt], list[Speaker]]:
    """Every utterance: speaker, id, text and prosody (jittered per utterance)."""
    opts.validate()
    speakers = make_speakers(opts)
    shared, own = corpus_sentences(opts)
    jitter = random.Random(f"synth-vctk-jitter-{opts.seed}")
    utts: list[VctkUtt] = []
    for k, sp in enumerate(speakers):
        texts = [(t, True) for t in shared]
        texts += [(t, False) for t in own[k * opts.num_own : (k + 1) * opts.num_own]]
        v = sp.voice
        for i, (text, is_shared) in enumerate(texts, 1):
            utts.append(
                VctkUtt(
                    spk=sp.spk,
                    num=f"{i:03d}",
                    text=text,
                    shared=is_shared,
                    voice=v.name,
                    pitch=min(99, max(0, v.pitch + jitter.randint(-4, 4))),
                    speed=int(round(v.speed * jitter.uniform(0.93, 1.07))),
                    gap=v.gap,
                )
            )
    return utts, speakers


# --------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------


def to_48k(audio_16k: np.ndarray) -> np.ndarray:
    """16 kHz float audio -> 48 kHz (``resample_poly``, up 3), clipped to [-1, 1)."""
    y = resample_poly(np.asarray(audio_16k, dtype=np.float64), 3, 1)
    return np.clip(y, -1.0, 32767.0 / 32768.0).astype(np.float32)


def mic2_from_mic1(mic1: np.ndarray) -> np.ndarray:
    """The second channel: high-pass, -3 dB and 0.5 ms later (see the docstring)."""
    sos = butter(2, MIC2_HIGHPASS_HZ, btype="highpass", fs=SAMPLE_RATE, output="sos")
    y = sosfilt(sos, np.asarray(mic1, dtype=np.float64)) * MIC2_GAIN
    y = np.concatenate([np.zeros(MIC2_DELAY), y])
    return np.clip(y, -1.0, 32767.0 / 32768.0).astype(np.float32)


def _nonempty(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _write_flac(path: Path, audio: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sf.write(str(tmp), audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    os.replace(tmp, path)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def _frames(path: Path) -> int | None:
    try:
        return int(sf.info(str(path)).frames)
    except RuntimeError:
        LOG.warning("unreadable existing file, making it again: %s", path)
        return None


def _synth_job(args: tuple[str, VctkUtt]) -> tuple[str, int, int]:
    """Worker: make one utterance's two FLAC files unless they exist.

    Returns (utt id, mic1 samples at 48 kHz, files made).
    """
    root, utt = args
    p1 = Path(root) / utt.wav_relpath("mic1")
    p2 = Path(root) / utt.wav_relpath("mic2")
    n1 = _frames(p1) if _nonempty(p1) else None
    have2 = _nonempty(p2) and _frames(p2) is not None
    if n1 is not None and have2:
        return utt.utt_id, n1, 0
    made = 0
    if n1 is None:
        audio16 = synthesize(utt.text, utt.voice, utt.pitch, utt.speed, utt.gap)
        _write_flac(p1, to_48k(audio16))
        made += 1
    if not have2:
        # from the 16-bit file, not the float audio: a resumed build that finds mic1
        # on disk makes the same mic2 bytes as a build that has just written it
        mic1, sr = sf.read(str(p1), dtype="float32")
        if sr != SAMPLE_RATE:
            raise RuntimeError(f"{p1}: {sr} Hz, expected {SAMPLE_RATE}")
        _write_flac(p2, mic2_from_mic1(mic1))
        made += 1
        n1 = int(mic1.shape[0])
    elif n1 is None:
        n1 = int(sf.info(str(p1)).frames)
    return utt.utt_id, n1, made


# --------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------


def _options_key(opts: VctkCorpusOptions) -> dict[str, Any]:
    return {"format_version": FORMAT_VERSION, **asdict(opts)}


def _summary(
    utts: list[VctkUtt], speakers: list[Speaker], samples: dict[str, int]
) -> dict[str, Any]:
    per_spk: dict[str, Any] = {}
    for sp in speakers:
        mine = [u for u in utts if u.spk == sp.spk]
        per_spk[sp.spk] = {
            "utterances": len(mine),
            "minutes": round(
                sum(samples[u.utt_id] for u in mine) / SAMPLE_RATE / 60, 3
            ),
        }
    return {
        "utterances": len(utts),
        "audio_files": len(utts) * len(MICS),
        "hours_per_mic": round(sum(samples.values()) / SAMPLE_RATE / 3600.0, 4),
        "speakers": len(speakers),
        "heldout_speakers": sum(sp.voice.heldout for sp in speakers),
        "shared_sentences": len({u.text for u in utts if u.shared}),
        "own_sentences": len({u.text for u in utts if not u.shared}),
        "per_speaker": per_spk,
    }


def speaker_info_text(speakers: Sequence[Speaker]) -> str:
    """The whole ``speaker-info.txt``: VCTK 0.92's header, one row per speaker."""
    rows = [sp.info_line() for sp in sorted(speakers, key=lambda s: s.spk)]
    return "\n".join([SPEAKER_INFO_HEADER, *rows]) + "\n"


def build_corpus(
    out: str | Path, opts: VctkCorpusOptions, nj: int = 2, overwrite: bool = False
) -> dict[str, Any]:
    """Build (or complete) the corpus in ``out``; returns the manifest dict, with
    ``synthesized``: the audio files this call made (0 when everything existed)."""
    if shutil.which(ESPEAK_BIN) is None:
        raise SystemExit(
            f"{ESPEAK_BIN} not found on PATH (Debian/Ubuntu: apt-get install espeak-ng)"
        )
    opts.validate()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # refuse a corpus made with other options (unless overwrite) or not ours
    check_existing(
        out,
        _options_key(opts),
        overwrite,
        ours=(TXT_DIR, WAV_DIR, SPEAKER_INFO),
        what="VCTK files (the real corpus?)",
        log=LOG,
    )
    t0 = time.time()
    utts, speakers = plan_corpus(opts)
    heldout = [sp.spk for sp in speakers if sp.voice.heldout]
    LOG.info(
        "planned %d utterances: %d voices (held out: %s) x (%d shared + %d own)",
        len(utts),
        len(speakers),
        " ".join(heldout) or "none",
        opts.num_shared,
        opts.num_own,
    )
    manifest_path, done = out / "manifest.json", out / ".done"

    def complete() -> bool:
        return all(
            _nonempty(out / u.txt_relpath())
            and all(_nonempty(out / u.wav_relpath(m)) for m in MICS)
            for u in utts
        )

    if done.is_file() and manifest_path.is_file():
        if complete():
            LOG.info("corpus in %s is complete (.done); nothing to do", out)
            return json.loads(manifest_path.read_text(encoding="utf-8")) | {
                "synthesized": 0
            }
        LOG.warning("%s has .done but files are missing: resuming", out)
        done.unlink()
    manifest: dict[str, Any] = {
        "description": "espeak-ng multi-speaker corpus in the VCTK 0.92 layout "
        "(local/synth_vctk_corpus.py)",
        "options": _options_key(opts),
        "sample_rate": SAMPLE_RATE,
        "mics": {
            "mic1": "espeak-ng, 16 kHz resampled to 48 kHz",
            "mic2": MIC2_DESCRIPTION,
        },
        "heldout_speakers": heldout,
        "voice_check": VOICE_CHECK,
        "shared_ids": [f"{i:03d}" for i in range(1, opts.num_shared + 1)],
        "own_ids": [
            f"{i:03d}"
            for i in range(opts.num_shared + 1, opts.num_shared + opts.num_own + 1)
        ],
        "speakers": [
            {
                "spk": sp.spk,
                "espeak_voice": sp.voice.name,
                "gender": sp.voice.gender,
                "pitch": sp.voice.pitch,
                "speed": sp.voice.speed,
                "gap": sp.voice.gap,
                "age": sp.age,
                "accent": sp.accent,
                "region": sp.region,
                "heldout": sp.voice.heldout,
            }
            for sp in speakers
        ],
        "complete": False,
    }
    _write_text(manifest_path, json.dumps(manifest, indent=2) + "\n")

    jobs = [(str(out), u) for u in utts]
    samples, made = run_synth_jobs(_synth_job, jobs, nj, t0, LOG)
    # the texts after the audio: a partial build never has a text without its audio
    for u in utts:
        path = out / u.txt_relpath()
        line = u.text + "\n"
        if not _nonempty(path) or path.read_text(encoding="utf-8") != line:
            _write_text(path, line)
    _write_text(out / SPEAKER_INFO, speaker_info_text(speakers))
    manifest |= {"summary": _summary(utts, speakers, samples), "complete": True}
    _write_text(manifest_path, json.dumps(manifest, indent=2) + "\n")
    done.write_text("complete\n", encoding="utf-8")
    LOG.info(
        "made %d audio files for %d utterances in %.1fs",
        made,
        len(utts),
        time.time() - t0,
    )
    return manifest | {"synthesized": made}


# --------------------------------------------------------------------------------------
# Voice check
# --------------------------------------------------------------------------------------


def similarity_summary(emb: dict[str, np.ndarray]) -> dict[str, Any]:
    """Within- and between-voice cosine summary of utterance embeddings.

    Args:
        emb: voice -> (n_utts, D) unit-norm embeddings (n_utts >= 2).

    Returns:
        ``within_mean``, ``within_min`` (mean cosine of a voice's utterance pairs),
        ``between_mean``, ``between_max`` (mean cosine over the utterance pairs of
        two voices), ``nearest``: per voice, its most similar other voice, and
        ``separated``: whether the largest between-voice value is below the smallest
        within-voice one.
    """
    keys = list(emb)
    n = len(keys)
    m = np.zeros((n, n))
    for i, a in enumerate(keys):
        for j, b in enumerate(keys):
            s = emb[a] @ emb[b].T
            if i == j:
                k = s.shape[0]
                m[i, j] = s[np.triu_indices(k, 1)].mean() if k > 1 else np.nan
            else:
                m[i, j] = s.mean()
    within = np.diag(m)
    off = m[~np.eye(n, dtype=bool)] if n > 1 else np.array([np.nan])
    nearest = {}
    for i, a in enumerate(keys):
        row = m[i].copy()
        row[i] = -np.inf
        j = int(np.argmax(row)) if n > 1 else i
        nearest[a] = {"voice": keys[j], "cosine": round(float(row[j]), 3)}
    return {
        "voices": n,
        "within_mean": round(float(np.nanmean(within)), 3),
        "within_min": round(float(np.nanmin(within)), 3),
        "between_mean": round(float(np.nanmean(off)), 3),
        "between_max": round(float(np.nanmax(off)), 3),
        "separated": bool(np.nanmax(off) < np.nanmin(within)),
        "nearest": nearest if n > 1 else {},
    }


def check_voices(opts: VctkCorpusOptions, num_utts: int = 3) -> dict[str, Any]:
    """Embed ``num_utts`` planned utterances per voice with Resemblyzer; summarise.

    The utterances are each voice's first own sentences (its shared ones when it
    has too few), synthesized in memory with their planned prosody; nothing is
    written. Needs ``resemblyzer`` (``pip install --no-deps resemblyzer
    webrtcvad-wheels``). About 0.5 s per utterance on one CPU core.
    """
    try:
        with warnings.catch_warnings():  # scipy.ndimage.morphology is deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            from resemblyzer import VoiceEncoder, preprocess_wav
    except ImportError as e:
        raise SystemExit(
            "--check_voices needs resemblyzer: pip install --no-deps resemblyzer "
            "webrtcvad-wheels"
        ) from e
    assert TARGET_SAMPLE_RATE == 16000  # synthesize()'s rate is Resemblyzer's
    encoder = VoiceEncoder(device="cpu", verbose=False)
    utts, speakers = plan_corpus(opts)
    emb: dict[str, np.ndarray] = {}
    for sp in speakers:
        mine = [u for u in utts if u.spk == sp.spk]
        chosen = ([u for u in mine if not u.shared] + [u for u in mine if u.shared])[
            :num_utts
        ]
        vecs = []
        for u in chosen:
            audio = synthesize(u.text, u.voice, u.pitch, u.speed, u.gap)
            vecs.append(encoder.embed_utterance(preprocess_wav(audio)))
        emb[f"{sp.spk} {sp.voice.name}"] = np.stack(vecs)
    return similarity_summary(emb)


def get_parser() -> argparse.ArgumentParser:
    """Command-line parser."""
    d = VctkCorpusOptions()
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", type=Path, help="corpus root (VCTK-Corpus-0.92 layout)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument(
        "--num_voices",
        type=int,
        default=d.num_voices,
        help=f"voices in all, the first N of the table (at most {len(VOICE_TABLE)})",
    )
    p.add_argument(
        "--num_heldout",
        type=int,
        default=d.num_heldout,
        help="the last voices: held-out targets, listed in manifest.json",
    )
    p.add_argument(
        "--num_shared",
        type=int,
        default=d.num_shared,
        help="sentences every voice reads (ids 001..)",
    )
    p.add_argument(
        "--num_own",
        type=int,
        default=d.num_own,
        help="sentences of each voice's own (ids after the shared ones)",
    )
    p.add_argument("--nj", type=int, default=2, help="parallel espeak-ng jobs")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument(
        "--check_voices",
        action="store_true",
        help="measure the voices' Resemblyzer similarities (no corpus is written)",
    )
    p.add_argument(
        "--check_utts", type=int, default=3, help="utterances per voice to embed"
    )
    p.add_argument(
        "--log_level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = get_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    opts = VctkCorpusOptions(
        seed=args.seed,
        num_voices=args.num_voices,
        num_heldout=args.num_heldout,
        num_shared=args.num_shared,
        num_own=args.num_own,
    )
    try:
        opts.validate()
    except ValueError as e:
        LOG.error("%s", e)
        return 2
    if args.check_voices:
        if args.check_utts < 2:
            LOG.error("--check_utts must be >= 2 (within-voice pairs)")
            return 2
        print(json.dumps(check_voices(opts, args.check_utts), indent=2), flush=True)
        return 0
    if args.out is None:
        parser.error("--out is required (unless --check_voices)")
    manifest = build_corpus(args.out, opts, nj=args.nj, overwrite=args.overwrite)
    s = manifest["summary"]
    LOG.info(
        "%s: %d speakers (%d held out: %s), %d utterances x %d mics, %.3f h per mic",
        args.out,
        s["speakers"],
        s["heldout_speakers"],
        " ".join(manifest["heldout_speakers"]) or "none",
        s["utterances"],
        len(MICS),
        s["hours_per_mic"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
