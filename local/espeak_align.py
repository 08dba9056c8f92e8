#!/usr/bin/env python3
"""True word and phone times for the espeak-ng synthetic corpus (local/synth_corpus.py).

Every utterance is synthesized again through libespeak-ng (ctypes; the C headers are
not needed) with the settings ``local/synth_corpus.py`` gave the espeak-ng command
line (voice ``base+variant``, pitch ``-p``, speed ``-s``, word gap ``-g``, the CLI's
synthesis flags ``espeakCHARS_AUTO | espeakPHONEMES | espeakENDPAUSE``), and the
library's synthesis callback reports a word event at the start of each word and a
phoneme event at the start of each phoneme, with its exact sample position.

Same audio as the corpus: libespeak-ng keeps a little wave-generator state from one
synthesis to the next (the pitch "flutter" index is a function-level static that is
never reset), so a second utterance synthesized in the same process comes out a few
milliseconds longer or shorter than the command line makes it. The command line
synthesizes one text per fresh process; so does :func:`align_utterance`: it forks a
child per utterance, and the child loads the library, synthesizes and returns the
events. The audio is then sample-for-sample the audio of ``espeak-ng --stdout``
(22050 Hz, 16 bit); :func:`compare_with_cli` checks it, and the CLI below checks every
utterance's length against its FLAC file (``--verify_audio N``, default 5, also
compares the samples of the first N utterances of each split).

Times are seconds from the start of the audio, exact to one 22050 Hz sample (the
event's ``sample`` field, from which the library derives its millisecond
``audio_position``); resampling to 16 kHz keeps times.

* word start: the start of the word's first phone. Word events are mapped to the
  words of the text by their character position, and each phoneme event belongs to
  the last word event delivered before it. (The word event's own ``sample`` is
  usually at its first phone or up to ~12 ms before it, but after a sonorant it can
  sit at the start of the previous word's last phone; it is used only for a word
  without phones.) espeak-ng speaks some word pairs as one word ("from the", "in
  the", "there were") and reports a word event for the first only; the group's
  phones are then divided between its words by each word's own phonemes
  (``espeak_TextToPhonemes``): by their counts when they add up, else at the
  spoken phone equal to the next word's first phoneme (a linking "r" in "there
  were"); an utterance where neither works is skipped (``alignment_failed``).
* word end: the next word's start (the pause that ``-g`` puts between words belongs to
  the word before it), and for the last word the speech end.
* speech end: the start of the first pause phoneme after the last phone (the silence
  that ``espeakENDPAUSE`` appends follows it), else the end of the audio.
* phone: each non-pause phoneme event (espeak-ng phoneme mnemonics such as ``oU``,
  ``I2``, ``@2``); it ends at the next phoneme event of any kind, pause phonemes
  (names starting with ``_``) included, else at the end of the audio. Pause phonemes
  are not written; zero-length phones are dropped.

Word labels are the words of the text, upper case, leading/trailing punctuation
removed (the corpus transcripts are exactly that).

Outputs of the command line, per split, in Kaldi/NIST CTM form
(``utt channel start duration token``, seconds, utterances and tokens in time order)::

    <out>/<split>/word.ctm
    <out>/<split>/phone.ctm
    <out>/<split>/skipped.txt    "<utt> <reason> <detail>" (empty when none)
    <out>/<split>/.done          JSON: corpus, options, counts; written last

Utterance ids are the corpus ids (``<spk>-<chapter>-<NNNN>``), which
``local/data_prep_librispeech.py`` keeps unchanged in the data dirs. The corpus is
re-planned from the options in its ``manifest.json`` (``plan_corpus`` is deterministic);
an utterance whose FLAC file is missing, or whose length differs from the synthesis
here by more than ``--max_length_diff`` samples, is skipped and counted. A split with a
``.done`` for the same corpus options is not redone (``--force`` redoes it).

Example::

    python local/espeak_align.py --corpus downloads/mini_synth --out data/align --nj 2
    python local/espeak_align.py --corpus /tmp/tiny --out /tmp/tiny_align --splits test
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import io
import json
import logging
import math
import multiprocessing
import os
import pickle
import subprocess
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth_corpus as sc  # noqa: E402

LOG = logging.getLogger("espeak_align")

ESPEAK_LIBRARY = "libespeak-ng.so.1"
TARGET_SAMPLE_RATE = 16000

# speak_lib.h (espeak-ng 1.51)
AUDIO_OUTPUT_SYNCHRONOUS = 2
espeakINITIALIZE_PHONEME_EVENTS = 0x0001
POS_CHARACTER = 1
espeakCHARS_AUTO = 0
espeakPHONEMES = 0x100
espeakENDPAUSE = 0x1000
# the synthesis flags of the espeak-ng command line (src/espeak-ng.c)
CLI_SYNTH_FLAGS = espeakCHARS_AUTO | espeakPHONEMES | espeakENDPAUSE
espeakRATE = 1
espeakPITCH = 3
espeakWORDGAP = 7
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_END = 5
EVENT_MSG_TERMINATED = 6
EVENT_PHONEME = 7
EVENT_SAMPLERATE = 8

PUNCTUATION = '.,;:!?"()[]{}'


class AlignmentError(RuntimeError):
    """espeak-ng could not synthesize the text, or its events do not fit the text."""


class _EventId(ctypes.Union):
    _fields_ = [
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    ]


class _Voice(ctypes.Structure):
    """``espeak_VOICE`` of speak_lib.h."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` of speak_lib.h."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


def espeak_library_error() -> str | None:
    """None if libespeak-ng can be loaded, else why not."""
    try:
        ctypes.CDLL(ESPEAK_LIBRARY)
    except OSError as e:
        return (
            f"cannot load {ESPEAK_LIBRARY} ({e}); Debian/Ubuntu: "
            "apt-get install espeak-ng"
        )
    return None


def _synthesize_here(
    text: str, voice: str, pitch: int, speed: int, gap: int
) -> dict[str, Any]:
    """Synthesize in this process; returns the 16-bit PCM and the events.

    Only valid in a process that has synthesized nothing before (see the module
    docstring); :func:`synthesize_events` runs it in a fresh child.

    Returns:
        dict with ``sample_rate``, ``pcm`` (bytes, int16 little-endian),
        ``events``: list of (type, text_position, length, audio_position_ms, sample,
        phoneme name or ""), and ``word_phonemes``: each word's phonemes on its own.
    """
    # The breath noise of the female variants (+f1..+f5) comes from libc's rand(), whose
    # state a forked child inherits: a parent that has drawn from it (a library, a test
    # runner's worker) would change the noise. srand(1) is the state of a program that
    # never seeded it, as the espeak-ng command line is.
    ctypes.CDLL(None).srand(1)
    lib = ctypes.CDLL(ESPEAK_LIBRARY)
    lib.espeak_Initialize.argtypes = [
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
    ]
    lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_Voice)]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
    lib.espeak_TextToPhonemes.argtypes = [
        ctypes.POINTER(ctypes.c_void_p),
        ctypes.c_int,
        ctypes.c_int,
    ]
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    rate = lib.espeak_Initialize(
        AUDIO_OUTPUT_SYNCHRONOUS, 0, None, espeakINITIALIZE_PHONEME_EVENTS
    )
    if rate <= 0:
        raise AlignmentError(f"espeak_Initialize failed ({rate})")
    chunks: list[bytes] = []
    events: list[tuple[int, int, int, int, int, str]] = []

    def callback(wav, num_samples, ev):  # noqa: ANN001 - ctypes callback
        if wav and num_samples > 0:
            chunks.append(ctypes.string_at(wav, 2 * num_samples))
        i = 0
        while ev[i].type != EVENT_LIST_TERMINATED:
            e = ev[i]
            name = (
                e.id.string.decode("utf-8", "replace")
                if e.type == EVENT_PHONEME
                else ""
            )
            events.append(
                (e.type, e.text_position, e.length, e.audio_position, e.sample, name)
            )
            i += 1
        return 0

    cb = _CALLBACK(callback)  # kept alive until synthesis returns
    lib.espeak_SetSynthCallback(cb)
    # as the command line: by name, else by language (e.g. "en-gb+m1", which is a
    # language code and not a voice name)
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        select = _Voice(languages=voice.encode())
        if lib.espeak_SetVoiceByProperties(ctypes.byref(select)) != 0:
            raise AlignmentError(f"espeak-ng has no voice {voice!r}")
    # the command line's order: voice, then rate, pitch, word gap
    for param, value in (
        (espeakRATE, speed),
        (espeakPITCH, pitch),
        (espeakWORDGAP, gap),
    ):
        if lib.espeak_SetParameter(param, int(value), 0) != 0:
            raise AlignmentError(f"espeak_SetParameter({param}, {value}) failed")
    data = text.encode("utf-8")
    err = lib.espeak_Synth(
        data, len(data) + 1, 0, POS_CHARACTER, 0, CLI_SYNTH_FLAGS, None, None
    )
    if err != 0:
        raise AlignmentError(f"espeak_Synth failed ({err}) for {text!r}")
    # each word's phonemes on its own (after the synthesis, which they cannot change):
    # they split the words that espeak-ng speaks as one ("from the", "there were")
    word_phonemes = []
    for label, _, _ in word_spans(text):
        buf = ctypes.create_string_buffer(label.lower().encode("utf-8"))
        ptr = ctypes.c_void_p(ctypes.addressof(buf))
        ph = lib.espeak_TextToPhonemes(
            ctypes.byref(ptr), espeakCHARS_AUTO, ord("|") << 8
        )
        names = (ph or b"").decode("utf-8", "replace").split("|")
        word_phonemes.append([x for x in names if x and not x.startswith("_")])
    return {
        "sample_rate": int(rate),
        "pcm": b"".join(chunks),
        "events": events,
        "word_phonemes": word_phonemes,
    }


def _in_fresh_process(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in a forked child and return its (picklable) result.

    The child starts from this process's memory; this process never synthesizes, so
    the child's libespeak-ng state is the state of a fresh command line run.
    """
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        status = 1
        try:
            os.close(rfd)
            try:
                payload = ("ok", fn(*args))
            except BaseException as e:  # noqa: BLE001 - reported to the parent
                payload = (
                    "error",
                    f"{type(e).__name__}: {e}\n{traceback.format_exc()}",
                )
            with os.fdopen(wfd, "wb") as f:
                pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        finally:
            os._exit(status)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as f:
        data = f.read()
    _, wait_status = os.waitpid(pid, 0)
    if not data:
        raise AlignmentError(
            f"espeak-ng child process died (wait status {wait_status})"
        )
    kind, value = pickle.loads(data)
    if kind != "ok":
        raise AlignmentError(value)
    return value


def synthesize_events(
    text: str, voice: str, pitch: int, speed: int, gap: int
) -> dict[str, Any]:
    """Synthesize ``text`` through libespeak-ng in a fresh child process.

    Returns:
        dict with ``sample_rate`` (22050), ``pcm`` (np.int16 (N,)), ``events``
        (list of (type, text_position, length, audio_position_ms, sample, name)) and
        ``word_phonemes`` (list of phoneme-name lists, one per word of the text).
    """
    out = _in_fresh_process(
        _synthesize_here, text, voice, int(pitch), int(speed), int(gap)
    )
    out["pcm"] = np.frombuffer(out["pcm"], dtype="<i2")
    return out


def resampled_length(num_samples: int, sample_rate: int) -> int:
    """Length after ``scipy.signal.resample_poly`` to 16 kHz (ceil(N * up / down))."""
    g = math.gcd(sample_rate, TARGET_SAMPLE_RATE)
    up, down = TARGET_SAMPLE_RATE // g, sample_rate // g
    return -(-num_samples * up // down)


def to_16k(pcm: np.ndarray, sample_rate: int) -> np.ndarray:
    """int16 (N,) at ``sample_rate`` -> float32 at 16 kHz, as synth_corpus does it."""
    from scipy.signal import resample_poly

    x = pcm.astype(np.float64) / 32768.0
    if sample_rate != TARGET_SAMPLE_RATE:
        g = math.gcd(sample_rate, TARGET_SAMPLE_RATE)
        x = resample_poly(x, TARGET_SAMPLE_RATE // g, sample_rate // g)
    return np.clip(x, -1.0, 32767.0 / 32768.0).astype(np.float32)


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Whitespace-separated words of ``text``: (label, char start, char end).

    The label is upper case without leading/trailing punctuation; character
    positions are 0-based and cover the word with its punctuation.
    """
    spans = []
    pos = 0
    for tok in text.split():
        start = text.index(tok, pos)
        pos = start + len(tok)
        label = tok.strip(PUNCTUATION).upper()
        if label:
            spans.append((label, start, pos))
    return spans


def events_to_alignment(
    text: str,
    sample_rate: int,
    num_samples: int,
    events: Sequence[tuple],
    word_phonemes: Sequence[Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Word and phone intervals from the events of one synthesis.

    The callback delivers each word event before the phoneme events of that word, so
    every phoneme event belongs to the last word event delivered before it. A word
    starts where its first phone starts; the word event's own sample is used only for
    a word without phones. (The word event's sample is usually at, or up to ~12 ms
    before, its first phone, but after a sonorant it can sit at the start of the
    previous word's last phone, e.g. "barn in" in en-gb-scotland.)

    espeak-ng speaks some word pairs as one word ("from the", "in the", "there were")
    and reports one word event, for the first word. The group's phones are then
    divided in the order of its words by the number of phonemes each word has on its
    own (``word_phonemes``, from ``espeak_TextToPhonemes``); when those counts do not
    add up to the group's phones, an :class:`AlignmentError` is raised.

    Args:
        text: the text given to espeak-ng.
        sample_rate: the synthesis rate (22050).
        num_samples: audio length at ``sample_rate``.
        events: (type, text_position (1-based), length, audio_position_ms, sample,
            name) tuples in the order the callback delivered them.
        word_phonemes: each word's phonemes on its own (needed only when a word has
            no word event).

    Returns:
        dict(words=[(word, start_s, end_s)], phones=[(phone, start_s, end_s)],
        speech_end_s, num_events_unmatched, num_words_split).

    Raises:
        AlignmentError: a word got no word event and could not be placed, or the
            word starts are not in text order.
    """
    spans = word_spans(text)
    event_sample: list[int | None] = [None] * len(spans)
    unmatched = 0
    current = 0  # phonemes before any word event belong to the first word
    phon: list[tuple[int, str, int]] = []  # (sample, name, word) of every phoneme event
    for etype, tpos, _length, _ms, sample, name in events:
        if etype == EVENT_WORD:
            c = tpos - 1
            k = next((i for i, (_, a, b) in enumerate(spans) if a <= c < b), None)
            if k is None:
                unmatched += 1
            else:
                current = k
                if event_sample[k] is None:
                    event_sample[k] = sample
        elif etype == EVENT_PHONEME:
            phon.append((sample, name, current))
    if spans and event_sample[0] is None:
        raise AlignmentError(f"no word event for the first word in {text!r}")
    phon.sort(key=lambda x: x[0])  # stable: events at one sample keep their order
    # non-pause phones (zero-length ones included): (name, start, end, word)
    all_phones: list[tuple[str, int, int, int]] = []
    for i, (s, name, w) in enumerate(phon):
        if name and not name.startswith("_"):
            end = phon[i + 1][0] if i + 1 < len(phon) else num_samples
            all_phones.append((name, s, end, w))
    phones = [p[:3] for p in all_phones if p[2] > p[1]]
    last_phone_end = phones[-1][2] if phones else num_samples
    pause_after = [s for s, n, _ in phon if n.startswith("_") and s >= last_phone_end]
    speech_end = min(pause_after) if pause_after else num_samples
    starts, num_split = _word_starts(text, event_sample, all_phones, word_phonemes)
    if any(b < a for a, b in zip(starts, starts[1:])):
        raise AlignmentError(f"word starts out of text order in {text!r}: {starts}")
    ends = starts[1:] + [max(speech_end, starts[-1])] if starts else []
    sr = float(sample_rate)
    return {
        "words": [
            (spans[i][0], starts[i] / sr, ends[i] / sr) for i in range(len(spans))
        ],
        "phones": [(n, a / sr, b / sr) for n, a, b in phones],
        "speech_end_s": speech_end / sr,
        "num_events_unmatched": unmatched,
        "num_words_split": num_split,
    }


def _word_starts(
    text: str,
    event_sample: Sequence[int | None],
    all_phones: Sequence[tuple[str, int, int, int]],
    word_phonemes: Sequence[Sequence[str]] | None,
) -> tuple[list[int], int]:
    """Start sample of every word, and how many words had no event of their own.

    A word with an event k and the event-less words k+1..m-1 after it form a group;
    the group's phones (those delivered after event k) are divided between its words
    by :func:`_split_group`.
    """
    n_words = len(event_sample)
    starts: list[int] = []
    num_split = 0
    k = 0
    while k < n_words:
        m = k + 1
        while m < n_words and event_sample[m] is None:
            m += 1
        grp = [p for p in all_phones if p[3] == k]
        if m == k + 1:
            first = grp[0][1] if grp else event_sample[k]
            starts.append(int(first))  # type: ignore[arg-type]
        else:
            if word_phonemes is None or len(word_phonemes) != n_words:
                raise AlignmentError(f"words without a word event in {text!r}")
            own = [word_phonemes[j] for j in range(k, m)]
            first = _split_group([p[0] for p in grp], own)
            if first is None:
                raise AlignmentError(
                    f"cannot split the merged words {text.split()[k:m]} of {text!r}: "
                    f"own phonemes {own} vs {[p[0] for p in grp]} spoken"
                )
            starts += [grp[i][1] for i in first]
            num_split += m - k - 1
        k = m
    return starts, num_split


def _split_group(
    spoken: Sequence[str], own: Sequence[Sequence[str]]
) -> list[int] | None:
    """Index of each word's first phone in a group of words spoken as one.

    Args:
        spoken: the group's phone names as spoken.
        own: each word's phonemes on its own (stress marks allowed).

    Returns:
        One index per word (the first is 0), or None when the group cannot be split.
        When the words' own phoneme counts add up to the spoken phones, the counts
        decide. Otherwise (espeak-ng inserted or dropped a phone at a word junction,
        e.g. a linking "r" in "there were") each later word starts at the spoken
        phone that equals its own first phoneme, the one nearest to where the counts
        put it, at least one phone after the previous word's start.
    """
    counts = [len(o) for o in own]
    if not spoken or min(counts) < 1:
        return None
    if sum(counts) == len(spoken):
        return [sum(counts[:j]) for j in range(len(own))]
    firsts = [0]
    for j in range(1, len(own)):
        name = own[j][0].lstrip("',%=")
        expect = firsts[-1] + counts[j - 1]
        cand = [i for i in range(firsts[-1] + 1, len(spoken)) if spoken[i] == name]
        if not cand:
            return None
        firsts.append(min(cand, key=lambda i: (abs(i - expect), i)))
    return firsts


def align_utterance(
    spoken_text: str,
    voice: str,
    pitch: int,
    speed: int,
    gap: int,
    return_audio: bool = False,
) -> dict[str, Any]:
    """Word and phone times of ``spoken_text`` as espeak-ng speaks it.

    Args:
        spoken_text: the text given to espeak-ng (``Utterance.spoken`` in the corpus).
        voice: espeak-ng voice, ``base+variant`` (e.g. ``en-us+m3``).
        pitch, speed, gap: the command line's ``-p``, ``-s`` and ``-g``.
        return_audio: also return ``audio_16k`` (float32 (N,), as synth_corpus writes
            it) and ``pcm`` (int16 at ``sample_rate``).

    Returns:
        dict(words=[(WORD, start_s, end_s)], phones=[(phone, start_s, end_s)],
        num_samples_16k, num_samples, sample_rate, speech_end_s,
        num_events_unmatched, num_words_split[, audio_16k, pcm]).
    """
    syn = synthesize_events(spoken_text, voice, pitch, speed, gap)
    pcm, rate = syn["pcm"], syn["sample_rate"]
    out = events_to_alignment(
        spoken_text, rate, int(pcm.shape[0]), syn["events"], syn["word_phonemes"]
    )
    out["num_samples"] = int(pcm.shape[0])
    out["sample_rate"] = rate
    out["num_samples_16k"] = resampled_length(int(pcm.shape[0]), rate)
    if return_audio:
        out["pcm"] = pcm
        out["audio_16k"] = to_16k(pcm, rate)
    return out


def compare_with_cli(
    text: str, voice: str, pitch: int, speed: int, gap: int
) -> dict[str, Any]:
    """Synthesize with the library (fresh process) and with the espeak-ng command line
    (``synth_corpus``'s arguments) and compare the 22050 Hz samples.

    Returns:
        dict(num_samples_lib, num_samples_cli, identical, max_abs_diff (over the common
        length), num_samples_16k_lib, num_samples_16k_cli).
    """
    lib = synthesize_events(text, voice, pitch, speed, gap)["pcm"]
    cmd = [
        sc.ESPEAK_BIN,
        "-v",
        voice,
        "-p",
        str(pitch),
        "-s",
        str(speed),
        "-g",
        str(gap),
        "--stdout",
        text,
    ]
    proc = subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    cli, rate = sc.parse_wav_bytes(proc.stdout)
    n = min(len(lib), len(cli))
    diff = np.abs(lib[:n].astype(np.int32) - cli[:n].astype(np.int32))
    return {
        "num_samples_lib": int(len(lib)),
        "num_samples_cli": int(len(cli)),
        "identical": bool(len(lib) == len(cli) and not diff.any()),
        "max_abs_diff": int(diff.max()) if n else 0,
        "num_samples_16k_lib": resampled_length(len(lib), rate),
        "num_samples_16k_cli": resampled_length(len(cli), rate),
    }


# --------------------------------------------------------------------------------------
# Corpus command line
# --------------------------------------------------------------------------------------


def _flac_int16(data: np.ndarray) -> np.ndarray:
    """float32 audio -> the int16 samples soundfile writes into a PCM_16 FLAC."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, data, TARGET_SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    buf.seek(0)
    return sf.read(buf, dtype="int16")[0]


def _align_job(args: tuple[str, sc.Utterance, int, bool]) -> dict[str, Any]:
    """Worker: align one utterance and check it against its FLAC file."""
    import soundfile as sf

    root, utt, max_diff, verify = args
    res: dict[str, Any] = {"utt": utt.utt_id}
    path = Path(root) / utt.relpath()
    try:
        flac_len = sf.info(str(path)).frames
    except Exception as e:  # noqa: BLE001 - missing or unreadable
        reason = "missing_audio" if not path.is_file() else "unreadable_audio"
        return res | {"skip": reason, "detail": f"{path}: {e}"}
    try:
        al = align_utterance(
            utt.spoken, utt.voice, utt.pitch, utt.speed, utt.gap, return_audio=verify
        )
    except AlignmentError as e:
        return res | {"skip": "alignment_failed", "detail": str(e).splitlines()[0]}
    diff = al["num_samples_16k"] - flac_len
    res["length_diff"] = diff
    if abs(diff) > max_diff:
        return res | {
            "skip": "length_mismatch",
            "detail": f"synthesis {al['num_samples_16k']} vs flac {flac_len} samples",
        }
    words = [w for w, _, _ in al["words"]]
    if words != utt.transcript.split():
        return res | {
            "skip": "word_mismatch",
            "detail": f"{words} vs {utt.transcript!r}",
        }
    if verify:
        ref = sf.read(str(path), dtype="int16")[0]
        mine = _flac_int16(al["audio_16k"])
        n = min(len(ref), len(mine))
        res["audio_max_abs_diff"] = int(
            np.abs(ref[:n].astype(np.int32) - mine[:n].astype(np.int32)).max()
        )
    res["words"] = al["words"]
    res["phones"] = al["phones"]
    res["unmatched_events"] = al["num_events_unmatched"]
    return res


def _ctm_lines(utt: str, items: Sequence[tuple[str, float, float]]) -> str:
    return "".join(f"{utt} 1 {a:.4f} {b - a:.4f} {tok}\n" for tok, a, b in items)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_manifest_options(corpus: Path) -> tuple[sc.CorpusOptions, dict[str, Any]]:
    """The CorpusOptions recorded in ``<corpus>/manifest.json`` (and the raw dict)."""
    manifest = corpus / "manifest.json"
    if not manifest.is_file():
        raise SystemExit(
            f"{manifest} not found: not a corpus made by local/synth_corpus.py"
        )
    raw = dict(json.loads(manifest.read_text(encoding="utf-8"))["options"])
    version = raw.pop("format_version", None)
    if version != sc.CORPUS_FORMAT_VERSION:
        LOG.warning(
            "corpus format version %s differs from synth_corpus's %s: the re-planned "
            "utterances may not match (length checks will tell)",
            version,
            sc.CORPUS_FORMAT_VERSION,
        )
    known = {f.name for f in dataclasses.fields(sc.CorpusOptions)}
    unknown = sorted(set(raw) - known)
    if unknown:
        LOG.warning(
            "manifest options %s are unknown to this synth_corpus and ignored: the "
            "re-planned utterances may not match (length checks will tell)",
            unknown,
        )
    return sc.CorpusOptions(**{k: v for k, v in raw.items() if k in known}), raw


def align_split(
    corpus: Path,
    out: Path,
    split: str,
    utts: list[sc.Utterance],
    options: dict[str, Any],
    nj: int = 2,
    max_length_diff: int = 0,
    verify_audio: int = 0,
    force: bool = False,
) -> dict[str, Any]:
    """Write ``<out>/<split>/{word,phone}.ctm``; returns the split's report."""
    sdir = out / split
    done = sdir / ".done"
    key = {"corpus": str(corpus.resolve()), "options": options}
    if done.is_file() and not force:
        old = json.loads(done.read_text(encoding="utf-8"))
        if {k: old.get(k) for k in key} == key:
            LOG.info(
                "%s: done before (in=%d out=%d skipped=%d), skipping (--force redoes)",
                split,
                old["in"],
                old["out"],
                old["skipped"],
            )
            return old | {"redone": False}
        LOG.warning(
            "%s: %s was made for another corpus or options: redoing", split, done
        )
    sdir.mkdir(parents=True, exist_ok=True)
    done.unlink(missing_ok=True)
    t0 = time.time()
    jobs = [
        (str(corpus), u, max_length_diff, i < verify_audio) for i, u in enumerate(utts)
    ]
    if nj <= 1:
        results = [_align_job(j) for j in jobs]
    else:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(nj) as pool:
            results = list(pool.imap(_align_job, jobs, chunksize=8))
    results.sort(key=lambda r: r["utt"])
    skipped = [r for r in results if "skip" in r]
    kept = [r for r in results if "skip" not in r]
    reasons = Counter(r["skip"] for r in skipped)
    for r in skipped[:20]:
        LOG.warning("%s: skipped %s: %s (%s)", split, r["utt"], r["skip"], r["detail"])
    _write_atomic(
        sdir / "word.ctm", "".join(_ctm_lines(r["utt"], r["words"]) for r in kept)
    )
    _write_atomic(
        sdir / "phone.ctm", "".join(_ctm_lines(r["utt"], r["phones"]) for r in kept)
    )
    _write_atomic(
        sdir / "skipped.txt",
        "".join(f"{r['utt']} {r['skip']} {r['detail']}\n" for r in skipped),
    )
    diffs = [abs(r["length_diff"]) for r in results if "length_diff" in r]
    audio = [r["audio_max_abs_diff"] for r in kept if "audio_max_abs_diff" in r]
    report = key | {
        "split": split,
        "in": len(utts),
        "out": len(kept),
        "skipped": len(skipped),
        "skipped_reasons": dict(reasons),
        "words": sum(len(r["words"]) for r in kept),
        "phones": sum(len(r["phones"]) for r in kept),
        "max_abs_length_diff_samples": max(diffs) if diffs else None,
        "num_length_exact": sum(d == 0 for d in diffs),
        "audio_verified": len(audio),
        "audio_max_abs_diff": max(audio) if audio else None,
        "unmatched_word_events": sum(r["unmatched_events"] for r in kept),
        "seconds": round(time.time() - t0, 2),
    }
    _write_atomic(done, json.dumps(report, indent=2) + "\n")
    LOG.info(
        "%s: in=%d out=%d skipped=%d%s; %d words, %d phones; "
        "length vs flac: %d/%d exact, "
        "max |diff| %s samples%s; %.1fs",
        split,
        report["in"],
        report["out"],
        report["skipped"],
        (
            f" ({', '.join(f'{k}={v}' for k, v in sorted(reasons.items()))})"
            if reasons
            else ""
        ),
        report["words"],
        report["phones"],
        report["num_length_exact"],
        len(diffs),
        report["max_abs_length_diff_samples"],
        (
            f"; audio of {len(audio)} utts vs flac: "
            f"max |diff| {report['audio_max_abs_diff']}"
            if audio
            else ""
        ),
        report["seconds"],
    )
    return report | {"redone": True}


def get_parser() -> argparse.ArgumentParser:
    """Command-line parser."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--corpus",
        required=True,
        type=Path,
        help="corpus made by local/synth_corpus.py",
    )
    p.add_argument(
        "--out", required=True, type=Path, help="output dir (<out>/<split>/*.ctm)"
    )
    p.add_argument(
        "--splits",
        default=" ".join(sc.SPLITS),
        help="splits to align (space separated)",
    )
    p.add_argument("--nj", type=int, default=2, help="parallel processes")
    p.add_argument(
        "--max_length_diff",
        type=int,
        default=0,
        help="largest |synthesis - flac| length (16 kHz samples) accepted",
    )
    p.add_argument(
        "--verify_audio",
        type=int,
        default=5,
        help="also compare the samples of the first N utterances of each split "
        "with their FLAC files",
    )
    p.add_argument("--force", action="store_true", help="redo splits that are done")
    p.add_argument(
        "--log_level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    err = espeak_library_error()
    if err:
        LOG.error("%s", err)
        return 1
    opts, raw = read_manifest_options(args.corpus)
    utts, _ = sc.plan_corpus(opts)
    splits = args.splits.split()
    unknown = [s for s in splits if s not in sc.SPLITS]
    if unknown:
        LOG.error("unknown split(s) %s; the corpus has %s", unknown, list(sc.SPLITS))
        return 2
    total_in = total_out = 0
    for split in splits:
        su = [u for u in utts if u.split == split]
        if not su:
            LOG.info("%s: no utterances planned, nothing to do", split)
            continue
        rep = align_split(
            args.corpus,
            args.out,
            split,
            su,
            raw,
            nj=args.nj,
            max_length_diff=args.max_length_diff,
            verify_audio=args.verify_audio,
            force=args.force,
        )
        total_in += rep["in"]
        total_out += rep["out"]
    LOG.info(
        "all splits: in=%d out=%d skipped=%d", total_in, total_out, total_in - total_out
    )
    return 0 if total_out > 0 or total_in == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
