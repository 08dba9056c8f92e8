"""Tests of local/espeak_align.py (true word/phone times through libespeak-ng)."""

from __future__ import annotations

import ctypes
import json
import logging
import shutil
import sys
from pathlib import Path

import pytest

LOCAL = Path(__file__).resolve().parents[1] / "local"
if str(LOCAL) not in sys.path:
    sys.path.insert(0, str(LOCAL))

import espeak_align as ea  # noqa: E402
import synth_corpus as sc  # noqa: E402

_LIB_ERROR = ea.espeak_library_error()
needs_lib = pytest.mark.skipif(_LIB_ERROR is not None, reason=str(_LIB_ERROR))
needs_cli = pytest.mark.skipif(
    shutil.which(sc.ESPEAK_BIN) is None,
    reason="espeak-ng is not on PATH (Debian/Ubuntu: apt-get install espeak-ng)",
)

TEXT = "the old man saw a dog near the river yesterday."


def check_alignment(al, words):
    n16 = al["num_samples_16k"]
    dur = n16 / 16000
    assert [w for w, _, _ in al["words"]] == words
    for seq in (al["words"], al["phones"]):
        assert seq
        for _, a, b in seq:
            assert 0.0 <= a < b <= dur + 1e-9
        starts = [a for _, a, _ in seq]
        assert starts == sorted(starts)
        # no overlaps
        assert all(b <= a2 + 1e-9 for (_, _, b), (_, a2, _) in zip(seq, seq[1:]))
    # words tile the speech: each ends where the next starts
    assert all(
        b == pytest.approx(a2)
        for (_, _, b), (_, a2, _) in zip(al["words"], al["words"][1:])
    )
    assert al["words"][-1][2] == pytest.approx(al["speech_end_s"])
    # every word starts at a phone start
    phone_starts = {round(a, 9) for _, a, _ in al["phones"]}
    assert all(round(a, 9) in phone_starts for _, a, _ in al["words"])
    # and the speech ends before the end pause
    assert al["speech_end_s"] < dur - 0.1


@needs_lib
def test_align_utterance_words_and_times():
    al = ea.align_utterance(TEXT, "en-us+m3", 40, 170, 2)
    check_alignment(al, TEXT[:-1].upper().split())
    assert al["sample_rate"] == 22050
    assert al["num_samples_16k"] == ea.resampled_length(al["num_samples"], 22050)
    assert 25 <= len(al["phones"]) <= 45


@needs_lib
@needs_cli
def test_same_audio_after_the_parent_drew_from_libc_rand():
    # a female variant's breath noise comes from libc's rand(), whose state the forked
    # child inherits; the child reseeds it as a fresh command line has it
    libc = ctypes.CDLL(None)
    for _ in range(5):
        libc.rand()
    r = ea.compare_with_cli("the dog saw a cat.", "en-gb-scotland+f2", 70, 150, 0)
    assert r["identical"], r


@needs_lib
@needs_cli
def test_same_audio_as_the_command_line():
    # the library path, in its fresh process, gives the CLI's samples exactly; a
    # second synthesis in one process would not (libespeak-ng keeps flutter state)
    for voice, pitch, speed, gap in (
        ("en-us+m3", 40, 170, 2),
        ("en-gb-scotland+f2", 70, 150, 0),
    ):
        r = ea.compare_with_cli("the dog saw a cat.", voice, pitch, speed, gap)
        assert r["identical"], r
        assert r["num_samples_16k_lib"] == r["num_samples_16k_cli"]


@needs_lib
def test_merged_words_are_split_by_their_phonemes():
    # espeak-ng speaks "from the" as one word with one word event
    text = "help their baker from the forest."
    al = ea.align_utterance(text, "en-us+m3", 40, 170, 2)
    check_alignment(al, ["HELP", "THEIR", "BAKER", "FROM", "THE", "FOREST"])
    assert al["num_words_split"] == 1
    _, a, b = al["words"][4]
    inside = [p for p, s, _ in al["phones"] if a - 1e-9 <= s < b - 1e-9]
    assert inside == ["D", "@2"]


def test_events_to_alignment_by_hand():
    # "ab cd ef." at 1000 Hz: word events for "ab" and "cd" (which speaks "cd ef" as
    # one word: phones x y | z), pauses between
    W, P = ea.EVENT_WORD, ea.EVENT_PHONEME
    events = [
        (W, 1, 2, 0, 0, ""),
        (P, 1, 0, 0, 10, "a"),
        (P, 1, 0, 0, 50, "b"),
        (P, 1, 0, 0, 90, "_"),
        (W, 4, 2, 0, 100, ""),
        (P, 4, 0, 0, 100, "x"),
        (P, 4, 0, 0, 120, "y"),
        (P, 4, 0, 0, 150, "z"),
        (P, 4, 0, 0, 200, "_:"),
    ]
    al = ea.events_to_alignment(
        "ab cd ef.", 1000, 300, events, [["a", "b"], ["x", "y"], ["z"]]
    )
    assert al["words"] == [("AB", 0.01, 0.1), ("CD", 0.1, 0.15), ("EF", 0.15, 0.2)]
    assert al["phones"] == [
        ("a", 0.01, 0.05),
        ("b", 0.05, 0.09),
        ("x", 0.1, 0.12),
        ("y", 0.12, 0.15),
        ("z", 0.15, 0.2),
    ]
    assert al["speech_end_s"] == 0.2 and al["num_words_split"] == 1
    # counts 1 + 1 do not add up to 3 phones: "ef" starts at its own first phoneme
    al = ea.events_to_alignment("ab cd ef.", 1000, 300, events, [["a"], ["x"], ["z"]])
    assert [a for _, a, _ in al["words"]] == [0.01, 0.1, 0.15]
    with pytest.raises(ea.AlignmentError):  # ... unless no spoken phone is "q"
        ea.events_to_alignment("ab cd ef.", 1000, 300, events, [["a"], ["x"], ["q"]])


def test_split_group():
    split = ea._split_group
    # own counts add up: they decide
    assert split(
        ["f", "r", "V", "m", "D", "@2"], [["f", "r", "0", "m"], ["D", "@2"]]
    ) == [0, 4]
    # a linking r at the junction: the next word starts at its own first phoneme
    assert split(["D", "e@", "r", "w", "3:"], [["D", "'e@"], ["w", "3:"]]) == [0, 3]
    assert split(["I", "n", "D", "I2", ";"], [["'I", "n"], ["D", "@2"]]) == [0, 2]
    assert split(["a", "b", "x"], [["a"], ["c"]]) is None
    assert split([], [["a"], ["b"]]) is None


@needs_lib
@needs_cli
def test_corpus_ctm_and_resume(tmp_path, caplog):
    opts = sc.CorpusOptions(
        seed=5,
        num_sentences=8,
        num_voices=2,
        num_heldout_voices=1,
        num_dev=1,
        num_test=1,
        num_test_unseen=1,
        utts_per_chapter=4,
    )
    corpus = tmp_path / "corpus"
    sc.build_corpus(corpus, opts, nj=1)
    out = tmp_path / "align"
    assert ea.main(["--corpus", str(corpus), "--out", str(out), "--nj", "2"]) == 0
    utts, _ = sc.plan_corpus(opts)
    for split in sc.SPLITS:
        ids = sorted(u.utt_id for u in utts if u.split == split)
        done = json.loads((out / split / ".done").read_text())
        assert done["in"] == len(ids) and done["out"] + done["skipped"] == len(ids)
        assert done["max_abs_length_diff_samples"] == 0
        assert done["audio_max_abs_diff"] == 0  # first 5 compared sample by sample
        words = (out / split / "word.ctm").read_text().splitlines()
        ctm_ids = sorted({line.split()[0] for line in words})
        assert set(ctm_ids) <= set(ids) and len(ctm_ids) == done["out"]
        trans = {u.utt_id: u.transcript for u in utts}
        for utt in ctm_ids:
            got = [ln.split()[4] for ln in words if ln.split()[0] == utt]
            assert got == trans[utt].split()
        assert (out / split / "phone.ctm").stat().st_size > 0
    # done splits are not redone; --splits selects
    caplog.clear()
    caplog.set_level(logging.INFO, logger="espeak_align")
    assert (
        ea.main(["--corpus", str(corpus), "--out", str(out), "--splits", "test"]) == 0
    )
    assert "test: done before" in caplog.text
