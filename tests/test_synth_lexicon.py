"""The synthetic corpus' reduced lexicon (words_per_class): fixed word lists, more
repetitions per word, sentences still distinct and deterministic."""

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "local"))
import synth_corpus as sc  # noqa: E402


def test_lexicon_make_sizes_and_stability():
    full = sc.Lexicon.make(0)
    assert full.nouns == sc.NOUNS and full.verbs_t == sc.VERBS_T
    small = sc.Lexicon.make(20)
    assert all(
        len(getattr(small, f)) == 20
        for f in ("names", "nouns", "places", "adjectives", "verbs_t")
    )
    assert set(small.nouns) <= set(sc.NOUNS)
    assert sc.Lexicon.make(20) == small  # independent of any corpus seed
    with pytest.raises(ValueError):
        sc.Lexicon.make(1)


def test_small_lexicon_sentences():
    a = sc.generate_sentences(600, seed=3, words_per_class=20)
    assert a == sc.generate_sentences(600, seed=3, words_per_class=20)
    assert len({s.transcript for s in a}) == 600
    words = Counter(w for s in a for w in s.transcript.split())
    full = Counter(
        w for s in sc.generate_sentences(600, seed=3) for w in s.transcript.split()
    )
    assert len(words) < len(full)
    small = sc.Lexicon.make(20)
    assert {w for w in words if w in sc.NAMES} <= set(small.names)
