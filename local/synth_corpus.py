#!/usr/bin/env python3
"""Build an offline, LibriSpeech-shaped speech corpus by synthesis with espeak-ng.

The corpus is fully determined by ``--seed`` and the size options: the same seed gives
the same sentences, voices, split assignment, file names and (espeak-ng and libFLAC
being deterministic) the same audio bytes.

Layout written under ``--out`` (the same shape as ``LibriSpeech/``)::

    <out>/SPEAKERS.TXT          speaker id | sex | subset | minutes | espeak voice
    <out>/manifest.json         options used, voices, per-split summary
    <out>/.done                 written last, when everything is complete
    <out>/<split>/<spk>/<chap>/<spk>-<chap>-<NNNN>.flac      16 kHz mono FLAC
    <out>/<split>/<spk>/<chap>/<spk>-<chap>.trans.txt        "<utt-id> TRANSCRIPT" lines

Splits:

* ``train``               seen voices, training sentences;
* ``dev`` / ``test``      seen voices, sentences never used in ``train``;
* ``test_unseen_voices``  held-out voices (never in any other split), sentences never
                          used in ``train``.

All sentence sets are pairwise disjoint. Transcripts are upper case without
punctuation except apostrophes, like LibriSpeech.

The sentences come from a small English grammar with a hand-written lexicon (below);
speakers are espeak-ng voice + variant combinations (``en-us+m3``, ``en-gb-x-rp+f2``,
...) with their own pitch, speed and word gap.

The build is resumable: an utterance whose FLAC exists and is non-empty is not
synthesized again, and a finished corpus (``.done``) is not touched. Files are written
atomically (temporary name, then rename).

Example::

    python local/synth_corpus.py --out /tmp/synth --nj 2
    python local/synth_corpus.py --out /tmp/tiny --num_sentences 30 --num_voices 4 \\
        --num_heldout_voices 1 --num_dev 3 --num_test 4 --num_test_unseen 4
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_common import check_existing, run_synth_jobs  # noqa: E402

LOG = logging.getLogger("synth_corpus")

CORPUS_FORMAT_VERSION = 1
TARGET_SAMPLE_RATE = 16000
SPLITS: tuple[str, ...] = ("train", "dev", "test", "test_unseen_voices")
ESPEAK_BIN = "espeak-ng"

# --------------------------------------------------------------------------------------
# Lexicon. Words are chosen so that the naive "A"/"AN" rule (vowel letter -> AN) is
# right (no "HOUR", "HONEST", "UNIVERSITY", "USEFUL", ...).
# --------------------------------------------------------------------------------------

NAMES: tuple[str, ...] = (
    "JOHN",
    "MARY",
    "PETER",
    "SARAH",
    "DAVID",
    "EMMA",
    "THOMAS",
    "ALICE",
    "JAMES",
    "LUCY",
    "HENRY",
    "GRACE",
    "ROBERT",
    "CLARA",
    "GEORGE",
    "ANNA",
    "WILLIAM",
    "HELEN",
    "ARTHUR",
    "MARTHA",
    "EDWARD",
    "RUTH",
    "FRANK",
    "SUSAN",
    "WALTER",
    "NORA",
    "CHARLES",
    "LAURA",
    "SAMUEL",
    "MARGARET",
    "PHILIP",
    "DOROTHY",
    "RICHARD",
    "JANE",
    "MICHAEL",
    "ROSE",
    "DANIEL",
    "EMILY",
    "OLIVER",
    "KATE",
)

# Countable nouns: people, animals and things (subjects and objects).
NOUNS: tuple[str, ...] = (
    # people
    "MAN",
    "WOMAN",
    "CHILD",
    "BOY",
    "GIRL",
    "FARMER",
    "DOCTOR",
    "TEACHER",
    "SAILOR",
    "SOLDIER",
    "KING",
    "QUEEN",
    "PRINCE",
    "PRINCESS",
    "BAKER",
    "DRIVER",
    "PAINTER",
    "WRITER",
    "SINGER",
    "STRANGER",
    "NEIGHBOR",
    "FRIEND",
    "SISTER",
    "BROTHER",
    "MOTHER",
    "FATHER",
    "UNCLE",
    "AUNT",
    "STUDENT",
    "GUARD",
    "HUNTER",
    "FISHERMAN",
    "MERCHANT",
    # animals
    "DOG",
    "CAT",
    "HORSE",
    "BIRD",
    "FOX",
    "WOLF",
    "RABBIT",
    "COW",
    "PIG",
    "GOAT",
    "DUCK",
    "GOOSE",
    "BEAR",
    "LION",
    "TIGER",
    "MONKEY",
    "ELEPHANT",
    "OWL",
    "FISH",
    "SNAKE",
    "FROG",
    "MOUSE",
    "SHEEP",
    "DONKEY",
    "PARROT",
    # things
    "BOOK",
    "LETTER",
    "KEY",
    "BOX",
    "BAG",
    "HAT",
    "COAT",
    "SHOE",
    "BOTTLE",
    "CUP",
    "PLATE",
    "KNIFE",
    "SPOON",
    "CHAIR",
    "TABLE",
    "LAMP",
    "CANDLE",
    "CLOCK",
    "WATCH",
    "RING",
    "PICTURE",
    "MAP",
    "PEN",
    "PENCIL",
    "BASKET",
    "BLANKET",
    "BUCKET",
    "ROPE",
    "STONE",
    "APPLE",
    "ORANGE",
    "CAKE",
    "PIE",
    "EGG",
    "FLOWER",
    "TREE",
    "LEAF",
    "BRANCH",
    "SEED",
    "SHELL",
    "FEATHER",
    "COIN",
    "GIFT",
    "TOY",
    "BALL",
    "DRUM",
    "GUITAR",
    "PIANO",
    "VIOLIN",
    "BICYCLE",
    "CAR",
    "TRUCK",
    "TRAIN",
    "BOAT",
    "SHIP",
    "WAGON",
    "LADDER",
    "HAMMER",
    "NAIL",
    "WHEEL",
    "WINDOW",
    "DOOR",
    "GATE",
    "FENCE",
    "TICKET",
    "NEWSPAPER",
    "MESSAGE",
    "PARCEL",
    "ENVELOPE",
    "UMBRELLA",
    "JACKET",
    "SCARF",
    "GLOVE",
    "MIRROR",
    "PILLOW",
    "KETTLE",
    "RADIO",
    "CAMERA",
    "SANDWICH",
    "POTATO",
    "TOMATO",
    "CARROT",
    "ONION",
    "LEMON",
    "BANANA",
    "BLOSSOM",
    "CRADLE",
    "SWORD",
    "SHIELD",
    "HELMET",
    "LANTERN",
    "COMPASS",
    "TELESCOPE",
    "SADDLE",
)

IRREGULAR_PLURALS: dict[str, str] = {
    "MAN": "MEN",
    "WOMAN": "WOMEN",
    "CHILD": "CHILDREN",
    "FISHERMAN": "FISHERMEN",
    "WOLF": "WOLVES",
    "GOOSE": "GEESE",
    "FISH": "FISH",
    "MOUSE": "MICE",
    "SHEEP": "SHEEP",
    "KNIFE": "KNIVES",
    "LEAF": "LEAVES",
    "SCARF": "SCARVES",
    "PIANO": "PIANOS",
    "RADIO": "RADIOS",
    "POTATO": "POTATOES",
    "TOMATO": "TOMATOES",
    "CITY": "CITIES",
    "LIBRARY": "LIBRARIES",
    "BAKERY": "BAKERIES",
    "VALLEY": "VALLEYS",
}

# Places, used after prepositions.
PLACES: tuple[str, ...] = (
    "HOUSE",
    "GARDEN",
    "KITCHEN",
    "STATION",
    "MARKET",
    "LIBRARY",
    "SCHOOL",
    "CHURCH",
    "FOREST",
    "RIVER",
    "LAKE",
    "HILL",
    "MOUNTAIN",
    "VILLAGE",
    "CITY",
    "HARBOR",
    "CASTLE",
    "FARM",
    "FIELD",
    "ROAD",
    "STREET",
    "PARK",
    "BEACH",
    "ISLAND",
    "OFFICE",
    "HOSPITAL",
    "MUSEUM",
    "THEATER",
    "BAKERY",
    "SHOP",
    "BARN",
    "CAVE",
    "VALLEY",
    "TOWER",
    "CORNER",
    "BRIDGE",
    "CHAPEL",
    "MEADOW",
    "ORCHARD",
    "COTTAGE",
    "PALACE",
    "STABLE",
    "TAVERN",
    "WAREHOUSE",
    "HALLWAY",
    "CELLAR",
    "ATTIC",
    "COURTYARD",
)

ADJECTIVES: tuple[str, ...] = (
    "OLD",
    "YOUNG",
    "BIG",
    "SMALL",
    "LITTLE",
    "TALL",
    "SHORT",
    "LONG",
    "HAPPY",
    "SAD",
    "ANGRY",
    "QUIET",
    "LOUD",
    "BRAVE",
    "CLEVER",
    "KIND",
    "GENTLE",
    "PROUD",
    "LAZY",
    "BUSY",
    "TIRED",
    "HUNGRY",
    "RICH",
    "POOR",
    "STRANGE",
    "FAMOUS",
    "FRIENDLY",
    "CAREFUL",
    "WISE",
    "FOOLISH",
    "WILD",
    "CALM",
    "DARK",
    "BRIGHT",
    "COLD",
    "WARM",
    "HOT",
    "COOL",
    "WET",
    "DRY",
    "HEAVY",
    "LIGHT",
    "SOFT",
    "HARD",
    "SHARP",
    "SMOOTH",
    "ROUGH",
    "CLEAN",
    "DIRTY",
    "EMPTY",
    "FULL",
    "NEW",
    "FRESH",
    "BROKEN",
    "SWEET",
    "BITTER",
    "SILENT",
    "NARROW",
    "WIDE",
    "DEEP",
    "SHALLOW",
    "ANCIENT",
    "ELEGANT",
    "EAGER",
    "ENORMOUS",
    "TINY",
    "HUGE",
    "GOLDEN",
    "SILVER",
    "WOODEN",
    "PRETTY",
    "UGLY",
    "SIMPLE",
    "PLAIN",
    "SPECIAL",
    "SECRET",
    "DISTANT",
    "HIDDEN",
    "RED",
    "BLUE",
    "GREEN",
    "YELLOW",
    "WHITE",
    "BLACK",
    "BROWN",
    "GREY",
    "PURPLE",
    "PINK",
    "ODD",
    "ORDINARY",
    "EXPENSIVE",
    "CHEAP",
    "IMPORTANT",
    "CURIOUS",
    "NERVOUS",
    "GENEROUS",
    "LONELY",
    "LUCKY",
    "MODERN",
    "NOBLE",
    "POLITE",
    "RUSTY",
    "SHINY",
    "SLEEPY",
    "STRONG",
    "WEAK",
    "SPLENDID",
)

# Transitive verbs: (base, past).
VERBS_T: tuple[tuple[str, str], ...] = (
    ("SEE", "SAW"),
    ("FIND", "FOUND"),
    ("TAKE", "TOOK"),
    ("BRING", "BROUGHT"),
    ("CARRY", "CARRIED"),
    ("HOLD", "HELD"),
    ("OPEN", "OPENED"),
    ("CLOSE", "CLOSED"),
    ("PAINT", "PAINTED"),
    ("BUILD", "BUILT"),
    ("BREAK", "BROKE"),
    ("FIX", "FIXED"),
    ("WASH", "WASHED"),
    ("CLEAN", "CLEANED"),
    ("SELL", "SOLD"),
    ("BUY", "BOUGHT"),
    ("LOSE", "LOST"),
    ("HIDE", "HID"),
    ("CATCH", "CAUGHT"),
    ("THROW", "THREW"),
    ("PUSH", "PUSHED"),
    ("PULL", "PULLED"),
    ("DROP", "DROPPED"),
    ("LIFT", "LIFTED"),
    ("FOLLOW", "FOLLOWED"),
    ("WATCH", "WATCHED"),
    ("VISIT", "VISITED"),
    ("REMEMBER", "REMEMBERED"),
    ("FORGET", "FORGOT"),
    ("LIKE", "LIKED"),
    ("LOVE", "LOVED"),
    ("HATE", "HATED"),
    ("HELP", "HELPED"),
    ("CALL", "CALLED"),
    ("MEET", "MET"),
    ("CHASE", "CHASED"),
    ("FEED", "FED"),
    ("DRAW", "DREW"),
    ("WRITE", "WROTE"),
    ("COOK", "COOKED"),
    ("EAT", "ATE"),
    ("BORROW", "BORROWED"),
    ("DELIVER", "DELIVERED"),
    ("PACK", "PACKED"),
    ("FILL", "FILLED"),
    ("TOUCH", "TOUCHED"),
    ("KICK", "KICKED"),
    ("CROSS", "CROSSED"),
    ("DESCRIBE", "DESCRIBED"),
    ("NOTICE", "NOTICED"),
    ("ADMIRE", "ADMIRED"),
    ("PROTECT", "PROTECTED"),
    ("SEARCH", "SEARCHED"),
    ("COUNT", "COUNTED"),
    ("MEASURE", "MEASURED"),
    ("STEAL", "STOLE"),
    ("WRAP", "WRAPPED"),
    ("BURY", "BURIED"),
    ("DRAG", "DRAGGED"),
    ("SHAKE", "SHOOK"),
    ("KEEP", "KEPT"),
    ("NEED", "NEEDED"),
    ("CHOOSE", "CHOSE"),
    ("ORDER", "ORDERED"),
    ("INVITE", "INVITED"),
    ("THANK", "THANKED"),
    ("WARN", "WARNED"),
    ("TEACH", "TAUGHT"),
    ("GREET", "GREETED"),
    ("CARVE", "CARVED"),
    ("POLISH", "POLISHED"),
    ("RESCUE", "RESCUED"),
    ("PREPARE", "PREPARED"),
    ("REPAIR", "REPAIRED"),
    ("COLLECT", "COLLECTED"),
    ("EXAMINE", "EXAMINED"),
)

# Intransitive verbs: (base, past).
VERBS_I: tuple[tuple[str, str], ...] = (
    ("SLEEP", "SLEPT"),
    ("RUN", "RAN"),
    ("WALK", "WALKED"),
    ("SING", "SANG"),
    ("DANCE", "DANCED"),
    ("LAUGH", "LAUGHED"),
    ("CRY", "CRIED"),
    ("SMILE", "SMILED"),
    ("WAIT", "WAITED"),
    ("REST", "RESTED"),
    ("SWIM", "SWAM"),
    ("JUMP", "JUMPED"),
    ("FALL", "FELL"),
    ("SHOUT", "SHOUTED"),
    ("WHISPER", "WHISPERED"),
    ("ARRIVE", "ARRIVED"),
    ("STAY", "STAYED"),
    ("TRAVEL", "TRAVELED"),
    ("WORK", "WORKED"),
    ("PLAY", "PLAYED"),
    ("SIT", "SAT"),
    ("STAND", "STOOD"),
    ("LISTEN", "LISTENED"),
    ("HURRY", "HURRIED"),
    ("WANDER", "WANDERED"),
    ("RETURN", "RETURNED"),
    ("FLY", "FLEW"),
    ("CLIMB", "CLIMBED"),
    ("DISAPPEAR", "DISAPPEARED"),
    ("SNEEZE", "SNEEZED"),
    ("COUGH", "COUGHED"),
    ("SHIVER", "SHIVERED"),
    ("YAWN", "YAWNED"),
    ("ARGUE", "ARGUED"),
    ("COMPLAIN", "COMPLAINED"),
    ("PRAY", "PRAYED"),
    ("RIDE", "RODE"),
    ("HIDE", "HID"),
    ("WAKE", "WOKE"),
    ("LEAVE", "LEFT"),
)

ADVERBS: tuple[str, ...] = (
    "QUICKLY",
    "SLOWLY",
    "QUIETLY",
    "LOUDLY",
    "HAPPILY",
    "SADLY",
    "CAREFULLY",
    "SUDDENLY",
    "GENTLY",
    "BRAVELY",
    "CALMLY",
    "EAGERLY",
    "SOFTLY",
    "PATIENTLY",
    "PROUDLY",
    "POLITELY",
    "ANGRILY",
    "NERVOUSLY",
    "SILENTLY",
    "SECRETLY",
    "BRIEFLY",
    "CHEERFULLY",
    "FOOLISHLY",
    "WISELY",
    "GLADLY",
    "ALONE",
    "TOGETHER",
    "AGAIN",
    "TWICE",
    "EARLY",
    "LATE",
    "OFTEN",
    "GRACEFULLY",
    "CLUMSILY",
    "LAZILY",
)

PREPOSITIONS: tuple[str, ...] = (
    "IN",
    "NEAR",
    "BEHIND",
    "INSIDE",
    "OUTSIDE",
    "BESIDE",
    "ACROSS",
    "AROUND",
    "THROUGH",
    "TOWARD",
    "PAST",
    "ABOVE",
    "BELOW",
    "UNDER",
    "BEYOND",
    "AT",
    "BY",
    "INTO",
    "FROM",
    "ALONG",
)

DAYS: tuple[str, ...] = (
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
)
MONTHS: tuple[str, ...] = (
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
)
NUMBERS: tuple[str, ...] = (
    "TWO",
    "THREE",
    "FOUR",
    "FIVE",
    "SIX",
    "SEVEN",
    "EIGHT",
    "NINE",
    "TEN",
    "ELEVEN",
    "TWELVE",
    "TWENTY",
    "SEVERAL",
    "MANY",
    "SOME",
)
PAST_TIMES: tuple[str, ...] = (
    "YESTERDAY",
    "LAST NIGHT",
    "LAST WEEK",
    "LAST SUMMER",
    "LAST WINTER",
    "THIS MORNING",
    "EARLY IN THE MORNING",
    "LATE AT NIGHT",
    "AFTER DINNER",
    "BEFORE BREAKFAST",
    "AFTER LUNCH",
    "IN THE EVENING",
    "AT NOON",
    "AT MIDNIGHT",
    "LONG AGO",
    "TWO DAYS AGO",
    "A FEW YEARS AGO",
    "DURING THE STORM",
)
FUTURE_TIMES: tuple[str, ...] = (
    "TOMORROW",
    "NEXT WEEK",
    "NEXT MONTH",
    "NEXT SPRING",
    "NEXT AUTUMN",
    "SOON",
    "TONIGHT",
    "LATER TODAY",
    "IN THE AFTERNOON",
    "AFTER SUPPER",
    "BEFORE SUNSET",
)

SUBJECT_PRONOUNS: tuple[tuple[str, bool], ...] = (
    ("I", False),
    ("HE", False),
    ("SHE", False),
    ("WE", True),
    ("THEY", True),
    ("YOU", True),
)
OBJECT_PRONOUNS: tuple[str, ...] = ("ME", "HIM", "HER", "US", "THEM", "IT")
DETERMINERS_SG: tuple[str, ...] = (
    "THE",
    "THE",
    "THE",
    "A",
    "THIS",
    "THAT",
    "EVERY",
    "HIS",
    "HER",
    "OUR",
    "THEIR",
    "MY",
    "YOUR",
)
DETERMINERS_PL: tuple[str, ...] = (
    "THE",
    "THE",
    "THESE",
    "THOSE",
    "HIS",
    "HER",
    "OUR",
    "THEIR",
    "MY",
    "YOUR",
)

# espeak-ng voices (language part) and variants (speaker part) available in the Debian
# espeak-ng package without mbrola.
BASE_VOICES: tuple[str, ...] = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
MALE_VARIANTS: tuple[str, ...] = ("m1", "m2", "m3", "m4", "m5", "m6", "m7")
FEMALE_VARIANTS: tuple[str, ...] = ("f1", "f2", "f3", "f4", "f5")


def plural(noun: str) -> str:
    """English plural of an upper-case noun of the lexicon."""
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun.endswith(("S", "X", "CH", "SH", "Z")):
        return noun + "ES"
    if noun.endswith("Y") and noun[-2:-1] not in ("A", "E", "I", "O", "U"):
        return noun[:-1] + "IES"
    return noun + "S"


# --------------------------------------------------------------------------------------
# Sentence grammar
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    """One sentence: the upper-case transcript and the text given to espeak-ng."""

    transcript: str
    question: bool

    @property
    def spoken(self) -> str:
        """Text handed to espeak-ng (lower case with final punctuation for prosody)."""
        return self.transcript.lower() + ("?" if self.question else ".")


@dataclass(frozen=True)
class Lexicon:
    """The open word classes a corpus draws from (closed classes are always complete).

    ``Lexicon.make(n)`` keeps ``n`` words of each open class (names, nouns, places,
    adjectives, transitive and intransitive verbs, adverbs), chosen by a fixed
    generator independent of the corpus seed so that one ``n`` always means one word
    list; ``n = 0`` keeps the whole lexicon. A smaller lexicon makes each word more
    frequent in a corpus of the same size: a model then hears each word often enough
    to learn it from a few hours of speech.
    """

    names: tuple[str, ...]
    nouns: tuple[str, ...]
    places: tuple[str, ...]
    adjectives: tuple[str, ...]
    verbs_t: tuple[tuple[str, str], ...]
    verbs_i: tuple[tuple[str, str], ...]
    adverbs: tuple[str, ...]

    @classmethod
    def make(cls, words_per_class: int) -> "Lexicon":
        if words_per_class < 0 or words_per_class == 1:
            raise ValueError(
                f"words_per_class must be 0 (all) or >= 2, got {words_per_class}"
            )
        full = dict(
            names=NAMES,
            nouns=NOUNS,
            places=PLACES,
            adjectives=ADJECTIVES,
            verbs_t=VERBS_T,
            verbs_i=VERBS_I,
            adverbs=ADVERBS,
        )
        if words_per_class == 0:
            return cls(**full)
        out = {}
        for name, words in full.items():
            rng = random.Random(f"lexicon-{name}-{words_per_class}")
            keep = sorted(
                rng.sample(range(len(words)), min(words_per_class, len(words)))
            )
            out[name] = tuple(words[i] for i in keep)
        return cls(**out)


class SentenceGenerator:
    """A small random English grammar over the lexicon above.

    Args:
        rng: the random generator (all randomness comes from it).
        lexicon: the open word classes to draw from (default: the full lexicon).
    """

    def __init__(self, rng: random.Random, lexicon: "Lexicon | None" = None) -> None:
        self.rng = rng
        self.lex = lexicon or Lexicon.make(0)

    # -- helpers -----------------------------------------------------------------------
    def _p(self, prob: float) -> bool:
        return self.rng.random() < prob

    def _c(self, seq: Sequence[Any]) -> Any:
        return self.rng.choice(seq)

    @staticmethod
    def _article(next_word: str) -> str:
        return "AN" if next_word[0] in "AEIOU" else "A"

    def _adj_phrase(self, prob: float = 0.45) -> list[str]:
        if not self._p(prob):
            return []
        if self._p(0.15):
            a, b = self.rng.sample(self.lex.adjectives, 2)
            return [a, "AND", b] if self._p(0.3) else [a, b]
        return [self._c(self.lex.adjectives)]

    def _common_np(self, allow_plural: bool = True) -> tuple[list[str], bool]:
        """Determiner + optional adjectives + noun; returns (words, is_plural)."""
        noun = self._c(self.lex.nouns)
        adjs = self._adj_phrase()
        if allow_plural and self._p(0.3):
            if self._p(0.4):
                return [self._c(NUMBERS), *adjs, plural(noun)], True
            return [self._c(DETERMINERS_PL), *adjs, plural(noun)], True
        det = self._c(DETERMINERS_SG)
        if det == "A":
            det = self._article((adjs or [noun])[0])
        return [det, *adjs, noun], False

    def subject(self) -> tuple[list[str], bool, bool]:
        """Returns (words, is_plural, is_first_person_singular)."""
        r = self.rng.random()
        if r < 0.25:
            return [self._c(self.lex.names)], False, False
        if r < 0.4:
            word, pl = self._c(SUBJECT_PRONOUNS)
            return [word], pl, word == "I"
        if r < 0.45:
            a, b = self.rng.sample(self.lex.names, 2)
            return [a, "AND", b], True, False
        words, pl = self._common_np()
        return words, pl, False

    def obj(self) -> list[str]:
        r = self.rng.random()
        if r < 0.15:
            return [self._c(self.lex.names)]
        if r < 0.25:
            return [self._c(OBJECT_PRONOUNS)]
        words, _ = self._common_np()
        return words

    def place_pp(self) -> list[str]:
        prep = self._c(PREPOSITIONS)
        adjs = self._adj_phrase(0.3)
        return [prep, "THE", *adjs, self._c(self.lex.places)]

    def past_time(self) -> list[str]:
        r = self.rng.random()
        if r < 0.2:
            return ["ON", self._c(DAYS)]
        if r < 0.3:
            return ["IN", self._c(MONTHS)]
        return self._c(PAST_TIMES).split()

    def future_time(self) -> list[str]:
        r = self.rng.random()
        if r < 0.25:
            return ["ON", self._c(DAYS)]
        if r < 0.35:
            return ["IN", self._c(MONTHS)]
        return self._c(FUTURE_TIMES).split()

    def _be_past(self, plural_: bool) -> str:
        return "WERE" if plural_ else "WAS"

    # -- templates ---------------------------------------------------------------------
    def _t_transitive(self) -> tuple[list[str], bool]:
        s, _, _ = self.subject()
        words = [*s, self._c(self.lex.verbs_t)[1], *self.obj()]
        if self._p(0.5):
            words += self.place_pp()
        if self._p(0.3):
            words += self.past_time()
        return words, False

    def _t_intransitive(self) -> tuple[list[str], bool]:
        s, _, _ = self.subject()
        words = [*s, self._c(self.lex.verbs_i)[1]]
        if self._p(0.5):
            words.append(self._c(self.lex.adverbs))
        if self._p(0.6):
            words += self.place_pp()
        if self._p(0.3):
            words += self.past_time()
        return words, False

    def _t_fronted_time(self) -> tuple[list[str], bool]:
        s, _, _ = self.subject()
        words = [*self.past_time(), *s, self._c(self.lex.verbs_t)[1], *self.obj()]
        if self._p(0.4):
            words += self.place_pp()
        return words, False

    def _t_did_question(self) -> tuple[list[str], bool]:
        s, _, _ = self.subject()
        words = ["DID", *s, self._c(self.lex.verbs_t)[0], *self.obj()]
        if self._p(0.4):
            words += self.place_pp()
        return words, True

    def _t_wh_question(self) -> tuple[list[str], bool]:
        s, _, _ = self.subject()
        wh = self._c(("WHY", "WHERE", "WHEN", "HOW"))
        if self._p(0.5):
            words = [wh, "DID", *s, self._c(self.lex.verbs_t)[0], *self.obj()]
        else:
            words = [wh, "DID", *s, self._c(self.lex.verbs_i)[0]]
            if self._p(0.5):
                words.append(self._c(self.lex.adverbs))
        return words, True

    def _t_reported(self) -> tuple[list[str], bool]:
        s, _, _ = self.subject()
        verb = self._c(("SAID", "THOUGHT", "KNEW", "HOPED", "HEARD"))
        words = [
            self._c(self.lex.names),
            verb,
            "THAT",
            *s,
            "WOULD",
            self._c(self.lex.verbs_t)[0],
            *self.obj(),
        ]
        if self._p(0.3):
            words += self.future_time()
        return words, False

    def _t_copula(self) -> tuple[list[str], bool]:
        if self._p(0.5):
            s, pl = self._common_np()
            first_sg = False
        else:
            s, pl, first_sg = self.subject()
        be = "WAS" if first_sg else self._be_past(pl)
        if self._p(0.15):
            be += "N'T"
        words = [*s, be]
        if self._p(0.3):
            words.append(self._c(("VERY", "QUITE", "RATHER", "TOO", "SO")))
        a, b = self.rng.sample(self.lex.adjectives, 2)
        words.append(a)
        if self._p(0.3):
            words += ["AND", b]
        if self._p(0.3):
            words += self.past_time()
        return words, False

    def _t_there(self) -> tuple[list[str], bool]:
        noun = self._c(self.lex.nouns)
        adjs = self._adj_phrase(0.6)
        if self._p(0.5):
            words = ["THERE", "WAS", self._article((adjs or [noun])[0]), *adjs, noun]
        else:
            words = ["THERE", "WERE", self._c(NUMBERS), *adjs, plural(noun)]
        words += self.place_pp()
        return words, False

    def _t_future(self) -> tuple[list[str], bool]:
        s, _, _ = self.subject()
        if self._p(0.5):
            words = [*s, "WILL", self._c(self.lex.verbs_i)[0]]
            if self._p(0.5):
                words += self.place_pp()
        else:
            words = [*s, "WILL", self._c(self.lex.verbs_t)[0], *self.obj()]
        words += self.future_time()
        return words, False

    def _t_because(self) -> tuple[list[str], bool]:
        s, _, _ = self.subject()
        s2, _, _ = self.subject()
        words = [
            *s,
            self._c(self.lex.verbs_t)[1],
            *self.obj(),
            self._c(("BECAUSE", "WHEN", "WHILE", "BEFORE", "AFTER")),
            *s2,
            self._c(self.lex.verbs_i)[1],
        ]
        if self._p(0.4):
            words.append(self._c(self.lex.adverbs))
        return words, False

    def _t_modal(self) -> tuple[list[str], bool]:
        s, _, _ = self.subject()
        modal = self._c(
            (
                ["WANTED", "TO"],
                ["TRIED", "TO"],
                ["FORGOT", "TO"],
                ["COULD", "NOT"],
                ["COULDN'T"],
                ["DIDN'T"],
                ["WOULD", "NEVER"],
                ["MUST"],
                ["SHOULD"],
            )
        )
        words = [*s, *modal, self._c(self.lex.verbs_t)[0], *self.obj()]
        if self._p(0.4):
            words += self.place_pp()
        return words, False

    def _t_imperative(self) -> tuple[list[str], bool]:
        words = []
        if self._p(0.4):
            words.append(self._c(("PLEASE", "NOW", "QUICKLY")))
        words += [self._c(self.lex.verbs_t)[0], *self.obj()]
        if self._p(0.6):
            words += self.place_pp()
        if self._p(0.3):
            words += self.future_time()
        return words, False

    def _t_coordination(self) -> tuple[list[str], bool]:
        s, _, _ = self.subject()
        words = [
            *s,
            self._c(self.lex.verbs_t)[1],
            *self.obj(),
            "AND",
            self._c(self.lex.verbs_i)[1],
        ]
        if self._p(0.5):
            words.append(self._c(self.lex.adverbs))
        return words, False

    def generate(self, min_words: int = 4, max_words: int = 15) -> Sentence:
        """Draw one sentence of ``min_words..max_words`` words (rejection sampling)."""
        templates = (
            (self._t_transitive, 5),
            (self._t_intransitive, 4),
            (self._t_fronted_time, 2),
            (self._t_did_question, 1),
            (self._t_wh_question, 1),
            (self._t_reported, 2),
            (self._t_copula, 2),
            (self._t_there, 2),
            (self._t_future, 2),
            (self._t_because, 2),
            (self._t_modal, 2),
            (self._t_imperative, 1),
            (self._t_coordination, 1),
        )
        funcs = [t for t, _ in templates]
        weights = [w for _, w in templates]
        for _ in range(1000):
            template = self.rng.choices(funcs, weights=weights)[0]
            words, question = template()
            if min_words <= len(words) <= max_words:
                return Sentence(" ".join(words), question)
        raise RuntimeError(
            f"cannot generate a sentence with {min_words}-{max_words} words"
        )


def generate_sentences(
    num: int,
    seed: int,
    min_words: int = 4,
    max_words: int = 15,
    words_per_class: int = 0,
) -> list[Sentence]:
    """``num`` distinct sentences, deterministic from ``seed`` (order included)."""
    if min_words < 1 or max_words < min_words:
        raise ValueError(f"bad word range {min_words}-{max_words}")
    gen = SentenceGenerator(
        random.Random(f"synth-sentences-{seed}"), Lexicon.make(words_per_class)
    )
    seen: set[str] = set()
    out: list[Sentence] = []
    attempts = 0
    while len(out) < num:
        attempts += 1
        if attempts > 50 * num + 1000:
            raise RuntimeError(
                f"could only generate {len(out)} distinct sentences of {num}"
            )
        s = gen.generate(min_words, max_words)
        if s.transcript not in seen:
            seen.add(s.transcript)
            out.append(s)
    return out


# --------------------------------------------------------------------------------------
# Voices
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """One synthetic speaker."""

    speaker_id: int
    base: str
    variant: str
    gender: str  # "M" or "F"
    pitch: int  # espeak-ng -p (0-99)
    speed: int  # espeak-ng -s (words per minute)
    gap: int  # espeak-ng -g (pause between words, units of 10 ms)
    heldout: bool

    @property
    def name(self) -> str:
        """espeak-ng voice name (``-v`` argument)."""
        return f"{self.base}+{self.variant}"

    def describe(self) -> str:
        """Human-readable description used in SPEAKERS.TXT."""
        return f"{self.name} pitch={self.pitch} speed={self.speed} gap={self.gap}"


def make_voices(num_voices: int, num_heldout: int, seed: int) -> list[Voice]:
    """Distinct speakers, alternating gender, the last ``num_heldout`` held out.

    Speaker ids are distinct integers in 100..9999, like LibriSpeech's reader ids.
    """
    if num_voices < 1:
        raise ValueError("num_voices must be >= 1")
    if not 0 <= num_heldout < num_voices:
        raise ValueError(
            f"need 0 <= num_heldout_voices < num_voices (got {num_heldout}, "
            f"{num_voices})"
        )
    max_voices = len(BASE_VOICES) * (len(MALE_VARIANTS) + len(FEMALE_VARIANTS))
    if num_voices > max_voices:
        raise ValueError(f"at most {max_voices} voices are available")
    rng = random.Random(f"synth-voices-{seed}")
    bases = list(BASE_VOICES)
    rng.shuffle(bases)
    males = list(MALE_VARIANTS)
    females = list(FEMALE_VARIANTS)
    rng.shuffle(males)
    rng.shuffle(females)
    speaker_ids = sorted(rng.sample(range(100, 10000), num_voices))
    # interleave the speaker ids so that held-out ids are not simply the largest
    rng.shuffle(speaker_ids)
    used: set[tuple[str, str]] = set()
    voices: list[Voice] = []
    counts = {"M": 0, "F": 0}
    for i in range(num_voices):
        gender = "M" if i % 2 == 0 else "F"
        pool = males if gender == "M" else females
        k = counts[gender]
        counts[gender] += 1
        # walk (variant, base) combinations so that consecutive voices differ in both
        for j in range(len(pool) * len(bases)):
            variant = pool[(k + j // len(bases)) % len(pool)]
            base = bases[(i + j) % len(bases)]
            if (base, variant) not in used:
                break
        else:  # pragma: no cover - guarded by max_voices
            raise RuntimeError("ran out of voice combinations")
        used.add((base, variant))
        if gender == "M":
            pitch = rng.randint(20, 55)
        else:
            pitch = rng.randint(45, 80)
        voices.append(
            Voice(
                speaker_id=speaker_ids[i],
                base=base,
                variant=variant,
                gender=gender,
                pitch=pitch,
                speed=rng.randint(145, 195),
                gap=rng.randint(0, 3),
                heldout=i >= num_voices - num_heldout,
            )
        )
    return voices


# --------------------------------------------------------------------------------------
# Corpus plan
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Utterance:
    """One planned utterance (everything needed to synthesize and place it)."""

    split: str
    utt_id: str
    speaker_id: int
    chapter_id: int
    transcript: str
    spoken: str
    voice: str
    pitch: int
    speed: int
    gap: int

    def relpath(self) -> str:
        """Path of the FLAC file relative to the corpus root."""
        return f"{self.split}/{self.speaker_id}/{self.chapter_id}/{self.utt_id}.flac"


@dataclass
class CorpusOptions:
    """Options that determine the corpus content (recorded in manifest.json)."""

    seed: int = 1
    num_sentences: int = 3200
    num_voices: int = 16
    num_heldout_voices: int = 4
    num_dev: int = 150
    num_test: int = 150
    num_test_unseen: int = 150
    train_voices_per_sentence: int = 1
    utts_per_chapter: int = 100
    min_words: int = 4
    max_words: int = 15
    words_per_class: int = 0

    def validate(self) -> None:
        """Raise ValueError for inconsistent options."""
        if self.num_sentences < 1:
            raise ValueError("num_sentences must be >= 1")
        if min(self.num_dev, self.num_test, self.num_test_unseen) < 0:
            raise ValueError("split sizes must be >= 0")
        held = self.num_dev + self.num_test + self.num_test_unseen
        if held >= self.num_sentences:
            raise ValueError(
                f"num_dev + num_test + num_test_unseen = {held} leaves no training "
                f"sentence out of num_sentences = {self.num_sentences}"
            )
        if self.num_test_unseen > 0 and self.num_heldout_voices < 1:
            raise ValueError("num_test_unseen > 0 needs num_heldout_voices >= 1")
        seen = self.num_voices - self.num_heldout_voices
        if seen < 1:
            raise ValueError("need at least one seen (training) voice")
        if not 1 <= self.train_voices_per_sentence <= seen:
            raise ValueError(f"train_voices_per_sentence must be in 1..{seen}")
        if self.utts_per_chapter < 1:
            raise ValueError("utts_per_chapter must be >= 1")


def plan_corpus(opts: CorpusOptions) -> tuple[list[Utterance], list[Voice]]:
    """Decide every utterance.

    Its split, speaker, chapter, id, sentence and voice settings.
    """
    opts.validate()
    sentences = generate_sentences(
        opts.num_sentences,
        opts.seed,
        opts.min_words,
        opts.max_words,
        opts.words_per_class,
    )
    voices = make_voices(opts.num_voices, opts.num_heldout_voices, opts.seed)
    seen = [v for v in voices if not v.heldout]
    heldout = [v for v in voices if v.heldout]
    rng = random.Random(f"synth-plan-{opts.seed}")
    order = list(range(len(sentences)))
    rng.shuffle(order)
    n_u, n_t, n_d = opts.num_test_unseen, opts.num_test, opts.num_dev
    pools = {
        "test_unseen_voices": order[:n_u],
        "test": order[n_u : n_u + n_t],
        "dev": order[n_u + n_t : n_u + n_t + n_d],
        "train": order[n_u + n_t + n_d :],
    }
    # (split, sentence index, voice) assignments, balanced over the voices
    assign: dict[str, list[tuple[int, Voice]]] = {}
    seen_order = list(seen)
    rng.shuffle(seen_order)
    k = opts.train_voices_per_sentence
    assign["train"] = [
        (s, seen_order[(j * k + r) % len(seen_order)])
        for j, s in enumerate(pools["train"])
        for r in range(k)
    ]
    assign["dev"] = [
        (s, seen_order[(j + 1) % len(seen_order)]) for j, s in enumerate(pools["dev"])
    ]
    assign["test"] = [
        (s, seen_order[(j + 2) % len(seen_order)]) for j, s in enumerate(pools["test"])
    ]
    assign["test_unseen_voices"] = (
        [
            (s, heldout[j % len(heldout)])
            for j, s in enumerate(pools["test_unseen_voices"])
        ]
        if heldout
        else []
    )

    # chapters: per (split, speaker) in plan order, chunks of utts_per_chapter
    groups: dict[tuple[str, int], list[tuple[int, Voice]]] = defaultdict(list)
    for split in SPLITS:
        for s, v in assign[split]:
            groups[(split, v.speaker_id)].append((s, v))
    num_chapters = sum(
        math.ceil(len(g) / opts.utts_per_chapter) for g in groups.values()
    )
    chapter_ids = sorted(rng.sample(range(10, 300000), num_chapters))
    rng.shuffle(chapter_ids)
    chapter_iter = iter(chapter_ids)
    jitter_rng = random.Random(f"synth-jitter-{opts.seed}")
    utts: list[Utterance] = []
    for split in SPLITS:
        for v in sorted(voices, key=lambda x: x.speaker_id):
            group = groups.get((split, v.speaker_id), [])
            for c0 in range(0, len(group), opts.utts_per_chapter):
                chapter = next(chapter_iter)
                for n, (s, _) in enumerate(group[c0 : c0 + opts.utts_per_chapter]):
                    sent = sentences[s]
                    # small per-utterance prosody jitter so one speaker is not monotone
                    speed = int(round(v.speed * jitter_rng.uniform(0.93, 1.07)))
                    pitch = min(99, max(0, v.pitch + jitter_rng.randint(-4, 4)))
                    utts.append(
                        Utterance(
                            split=split,
                            utt_id=f"{v.speaker_id}-{chapter}-{n:04d}",
                            speaker_id=v.speaker_id,
                            chapter_id=chapter,
                            transcript=sent.transcript,
                            spoken=sent.spoken,
                            voice=v.name,
                            pitch=pitch,
                            speed=speed,
                            gap=v.gap,
                        )
                    )
    return utts, voices


# --------------------------------------------------------------------------------------
# Synthesis
# --------------------------------------------------------------------------------------


def parse_wav_bytes(data: bytes) -> tuple[np.ndarray, int]:
    """Decode 16-bit PCM mono WAV bytes as written by ``espeak-ng --stdout``.

    espeak-ng streams to stdout with a placeholder data size, so the data chunk is
    taken to the end of the buffer.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE stream")
    pos = 12
    sample_rate = None
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body = pos + 8
        if chunk_id == b"fmt ":
            fmt_tag, channels, sample_rate, _, _, bits = struct.unpack(
                "<HHIIHH", data[body : body + 16]
            )
            if fmt_tag != 1 or channels != 1 or bits != 16:
                raise ValueError(
                    f"unsupported WAV format tag={fmt_tag} channels={channels} "
                    f"bits={bits}"
                )
        elif chunk_id == b"data":
            if sample_rate is None:
                raise ValueError("WAV data chunk before fmt chunk")
            pcm = data[body : min(len(data), body + size)]
            pcm = pcm[: len(pcm) // 2 * 2]
            return np.frombuffer(pcm, dtype="<i2"), sample_rate
        pos = body + size + (size & 1)
    raise ValueError("WAV stream without data chunk")


def synthesize(text: str, voice: str, pitch: int, speed: int, gap: int) -> np.ndarray:
    """Synthesize ``text`` with espeak-ng; returns float32 samples at 16 kHz."""
    cmd = [
        ESPEAK_BIN,
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
    proc = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"espeak-ng failed ({proc.returncode}): {' '.join(cmd)}: "
            f"{proc.stderr.decode(errors='replace')}"
        )
    pcm, sr = parse_wav_bytes(proc.stdout)
    if pcm.size == 0:
        raise RuntimeError(f"espeak-ng produced no audio: {' '.join(cmd)}")
    x = pcm.astype(np.float64) / 32768.0
    if sr != TARGET_SAMPLE_RATE:
        g = math.gcd(sr, TARGET_SAMPLE_RATE)
        x = resample_poly(x, TARGET_SAMPLE_RATE // g, sr // g)
    return np.clip(x, -1.0, 32767.0 / 32768.0).astype(np.float32)


def _write_atomic_flac(path: Path, audio: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    sf.write(str(tmp), audio, TARGET_SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    os.replace(tmp, path)


def _synth_job(args: tuple[str, Utterance]) -> tuple[str, int, bool]:
    """Worker: make one utterance's FLAC unless it exists.

    Returns (utt, samples, made).
    """
    root, utt = args
    path = Path(root) / utt.relpath()
    if path.is_file() and path.stat().st_size > 0:
        try:
            return utt.utt_id, sf.info(str(path)).frames, False
        except RuntimeError:
            LOG.warning("unreadable existing file, re-synthesizing: %s", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = synthesize(utt.spoken, utt.voice, utt.pitch, utt.speed, utt.gap)
    _write_atomic_flac(path, audio)
    return utt.utt_id, int(audio.shape[0]), True


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _summarize(
    utts: list[Utterance], voices: list[Voice], samples: dict[str, int]
) -> dict[str, Any]:
    per_split: dict[str, Any] = {}
    all_words: set[str] = set()
    train_words: set[str] = set()
    for split in SPLITS:
        su = [u for u in utts if u.split == split]
        words = {w for u in su for w in u.transcript.split()}
        all_words |= words
        if split == "train":
            train_words = words
        secs = sum(samples[u.utt_id] for u in su) / TARGET_SAMPLE_RATE
        per_split[split] = {
            "utterances": len(su),
            "hours": round(secs / 3600.0, 4),
            "speakers": len({u.speaker_id for u in su}),
            "chapters": len({u.chapter_id for u in su}),
            "vocabulary": len(words),
        }
    for split in SPLITS[1:]:
        toks = [w for u in utts if u.split == split for w in u.transcript.split()]
        oov = sum(1 for w in toks if w not in train_words)
        per_split[split]["oov_rate_vs_train"] = (
            round(oov / len(toks), 4) if toks else 0.0
        )
    total_secs = sum(samples.values()) / TARGET_SAMPLE_RATE
    return {
        "splits": per_split,
        "utterances": len(utts),
        "hours": round(total_secs / 3600.0, 4),
        "speakers": len(voices),
        "heldout_speakers": sum(v.heldout for v in voices),
        "vocabulary": len(all_words),
        "distinct_sentences": len({u.transcript for u in utts}),
    }


def _speaker_minutes(
    utts: list[Utterance], samples: dict[str, int]
) -> dict[int, float]:
    minutes: dict[int, float] = defaultdict(float)
    for u in utts:
        minutes[u.speaker_id] += samples[u.utt_id] / TARGET_SAMPLE_RATE / 60.0
    return minutes


def _speakers_txt(voices: list[Voice], minutes: dict[int, float]) -> str:
    lines = [
        "; Synthetic speakers of the espeak-ng corpus (local/synth_corpus.py).",
        "; Same column layout as LibriSpeech's SPEAKERS.TXT; NAME is the espeak-ng "
        "setting.",
        "; SUBSET: seen = train/dev/test, heldout = test_unseen_voices only.",
        ";ID  |SEX| SUBSET   |MINUTES| NAME",
    ]
    for v in sorted(voices, key=lambda x: x.speaker_id):
        subset = "heldout" if v.heldout else "seen"
        lines.append(
            f"{v.speaker_id:<5}| {v.gender} | {subset:<8} | "
            f"{minutes.get(v.speaker_id, 0.0):5.2f} | {v.describe()}"
        )
    return "\n".join(lines) + "\n"


def _options_key(opts: CorpusOptions) -> dict[str, Any]:
    return {"format_version": CORPUS_FORMAT_VERSION, **asdict(opts)}


def build_corpus(
    out: str | Path, opts: CorpusOptions, nj: int = 2, overwrite: bool = False
) -> dict[str, Any]:
    """Build (or complete) the corpus in ``out``; returns the manifest dict.

    The manifest has the options, the voices, the summary and ``synthesized``: the
    number of utterances synthesized by this call (0 when everything existed).
    """
    if shutil.which(ESPEAK_BIN) is None:
        raise SystemExit(
            f"{ESPEAK_BIN} not found on PATH (Debian/Ubuntu: apt-get install espeak-ng)"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # refuse to mix corpora built with different options in one directory
    check_existing(
        out,
        _options_key(opts),
        overwrite,
        ours=(*SPLITS, "SPEAKERS.TXT"),
        markers=SPLITS,
        what="split directories",
        log=LOG,
    )
    t0 = time.time()
    utts, voices = plan_corpus(opts)
    LOG.info(
        "planned %d utterances (%s), %d voices (%d held out)",
        len(utts),
        ", ".join(f"{s}={sum(u.split == s for u in utts)}" for s in SPLITS),
        len(voices),
        sum(v.heldout for v in voices),
    )
    done_marker = out / ".done"
    manifest_path = out / "manifest.json"
    if done_marker.is_file() and manifest_path.is_file():
        missing = [
            u
            for u in utts
            if not (out / u.relpath()).is_file()
            or (out / u.relpath()).stat().st_size == 0
        ]
        if not missing:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            LOG.info("corpus in %s is complete (.done); nothing to do", out)
            manifest["synthesized"] = 0
            return manifest
        LOG.warning(
            "%s has .done but %d audio files are missing: resuming", out, len(missing)
        )
        done_marker.unlink()

    base_manifest: dict[str, Any] = {
        "description": (
            "espeak-ng synthetic corpus in LibriSpeech layout (local/synth_corpus.py)"
        ),
        "options": _options_key(opts),
        "sample_rate": TARGET_SAMPLE_RATE,
        "splits": list(SPLITS),
        "voices": [asdict(v) | {"name": v.name} for v in voices],
        "complete": False,
    }
    _write_text_atomic(manifest_path, json.dumps(base_manifest, indent=2) + "\n")

    jobs = [(str(out), u) for u in utts]
    samples, made = run_synth_jobs(_synth_job, jobs, nj, t0, LOG)

    # transcripts per chapter, written after the audio so that a partial build never
    # has transcript lines without audio
    by_chapter: dict[tuple[str, int, int], list[Utterance]] = defaultdict(list)
    for u in utts:
        by_chapter[(u.split, u.speaker_id, u.chapter_id)].append(u)
    for (split, spk, chap), group in by_chapter.items():
        lines = "".join(
            f"{u.utt_id} {u.transcript}\n"
            for u in sorted(group, key=lambda x: x.utt_id)
        )
        _write_text_atomic(
            out / split / str(spk) / str(chap) / f"{spk}-{chap}.trans.txt", lines
        )
    _write_text_atomic(
        out / "SPEAKERS.TXT", _speakers_txt(voices, _speaker_minutes(utts, samples))
    )

    summary = _summarize(utts, voices, samples)
    manifest = base_manifest | {"summary": summary, "complete": True}
    _write_text_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
    done_marker.write_text("complete\n", encoding="utf-8")
    LOG.info(
        "synthesized %d of %d utterances in %.1fs", made, len(utts), time.time() - t0
    )
    manifest["synthesized"] = made
    return manifest


def format_summary(manifest: dict[str, Any]) -> str:
    """A short human-readable table of a corpus manifest's summary."""
    s = manifest["summary"]
    lines = [f"{'split':<20}{'utts':>7}{'hours':>8}{'spk':>5}{'vocab':>7}{'oov':>7}"]
    for split, d in s["splits"].items():
        oov = d.get("oov_rate_vs_train")
        lines.append(
            f"{split:<20}{d['utterances']:>7}{d['hours']:>8.3f}{d['speakers']:>5}"
            f"{d['vocabulary']:>7}"
            + (f"{oov:>7.3f}" if oov is not None else f"{'-':>7}")
        )
    lines.append(
        f"total: {s['utterances']} utterances, {s['hours']:.3f} h, {s['speakers']} "
        f"speakers ({s['heldout_speakers']} held out), vocabulary {s['vocabulary']}, "
        f"{s['distinct_sentences']} distinct sentences"
    )
    return "\n".join(lines)


def get_parser() -> argparse.ArgumentParser:
    """Command-line parser."""
    d = CorpusOptions()
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--out", required=True, help="output corpus root (LibriSpeech-shaped)"
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument(
        "--num_sentences",
        type=int,
        default=d.num_sentences,
        help="distinct sentences over all splits",
    )
    p.add_argument(
        "--num_voices",
        type=int,
        default=d.num_voices,
        help="speakers in total (seen + held out)",
    )
    p.add_argument(
        "--num_heldout_voices",
        type=int,
        default=d.num_heldout_voices,
        help="speakers used only in test_unseen_voices",
    )
    p.add_argument(
        "--num_dev",
        type=int,
        default=d.num_dev,
        help="dev utterances (seen voices, unseen sentences)",
    )
    p.add_argument(
        "--num_test",
        type=int,
        default=d.num_test,
        help="test utterances (seen voices, unseen sentences)",
    )
    p.add_argument(
        "--num_test_unseen",
        type=int,
        default=d.num_test_unseen,
        help="test_unseen_voices utterances",
    )
    p.add_argument(
        "--train_voices_per_sentence",
        type=int,
        default=d.train_voices_per_sentence,
        help="each training sentence is spoken by this many voices",
    )
    p.add_argument("--utts_per_chapter", type=int, default=d.utts_per_chapter)
    p.add_argument("--min_words", type=int, default=d.min_words)
    p.add_argument("--max_words", type=int, default=d.max_words)
    p.add_argument(
        "--words_per_class",
        type=int,
        default=d.words_per_class,
        help="open-class words kept per class (names, nouns, places, adjectives, "
        "verbs, adverbs); 0: the whole lexicon",
    )
    p.add_argument("--nj", type=int, default=2, help="parallel synthesis processes")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a corpus built with other options",
    )
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
    opts = CorpusOptions(
        seed=args.seed,
        num_sentences=args.num_sentences,
        num_voices=args.num_voices,
        num_heldout_voices=args.num_heldout_voices,
        num_dev=args.num_dev,
        num_test=args.num_test,
        num_test_unseen=args.num_test_unseen,
        train_voices_per_sentence=args.train_voices_per_sentence,
        utts_per_chapter=args.utts_per_chapter,
        min_words=args.min_words,
        max_words=args.max_words,
        words_per_class=args.words_per_class,
    )
    try:
        opts.validate()
    except ValueError as e:
        LOG.error("%s", e)
        return 2
    manifest = build_corpus(args.out, opts, nj=args.nj, overwrite=args.overwrite)
    print(format_summary(manifest), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
