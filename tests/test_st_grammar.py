"""Tests of local/st_grammar.py (the synchronous English -> German grammar)."""

from __future__ import annotations

import random
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

LOCAL = Path(__file__).resolve().parents[1] / "local"
if str(LOCAL) not in sys.path:
    sys.path.insert(0, str(LOCAL))

import st_grammar as g  # noqa: E402
from st_grammar import Clause, adj, adj_phrase, np, pron, verb  # noqa: E402


@pytest.fixture(scope="module")
def samples() -> dict[str, list[g.Sample]]:
    return g.build_samples(7, 2000, 150, 150, 150)


# ------------------------------------------------------------------ splits and API


def test_deterministic_and_seed_dependent() -> None:
    a = g.build_splits(3, 300, 30, 30, 30)
    b = g.build_splits(3, 300, 30, 30, 30)
    c = g.build_splits(4, 300, 30, 30, 30)
    assert a == b
    assert a["train"] != c["train"]
    assert a["test_compositional"] != c["test_compositional"]


def test_sizes_and_disjoint(samples: dict[str, list[g.Sample]]) -> None:
    sizes = {k: len(v) for k, v in samples.items()}
    assert sizes == {"train": 2000, "dev": 150, "test": 150, "test_compositional": 150}
    sources = [s.pair.en for split in samples.values() for s in split]
    assert len(sources) == len(set(sources))
    pairs = g.build_splits(7, 2000, 150, 150, 150)
    assert pairs == {k: [s.pair for s in v] for k, v in samples.items()}


def test_heldout_lemmas_seen_in_train(samples: dict[str, list[g.Sample]]) -> None:
    train = frozenset().union(*(s.lemmas for s in samples["train"]))
    for split in ("dev", "test", "test_compositional"):
        for s in samples[split]:
            assert s.lemmas <= train, (s.pair, s.lemmas - train)


def test_compositional_combos_absent_from_train(
    samples: dict[str, list[g.Sample]],
) -> None:
    held = g.HeldOut(7)
    train_combos = {k for s in samples["train"] for k in s.pair.combo}
    assert not any(held(k) for k in train_combos)
    for split in ("dev", "test"):
        assert not any(held(k) for s in samples[split] for k in s.pair.combo)
    comp = samples["test_compositional"]
    for s in comp:
        assert s.pair.combo and all(held(k) for k in s.pair.combo)
        assert not set(s.pair.combo) & train_combos
    # every held-out verb is seen in train in another clause type
    train_verbs = {k.split("+", 1)[1] for k in train_combos if "_" in k.split("+")[0]}
    for s in comp:
        assert s.pair.combo[0].split("+", 1)[1] in train_verbs


def test_three_thousand_pairs_and_ten_thousand_reachable() -> None:
    splits = g.build_splits(0, 3000, 100, 100, 100)
    assert [len(v) for v in splits.values()] == [3000, 100, 100, 100]
    ctx = g._Ctx(random.Random("distinct"), None)
    seen: dict[str, str] = {}
    while len(seen) < 10000:
        try:
            p = g.generate(ctx).pair
        except g._Reject:
            continue
        # one German reference per English source
        assert seen.setdefault(p.en, p.de) == p.de, p.en
    assert len(seen) == 10000


def test_text_form(samples: dict[str, list[g.Sample]]) -> None:
    counts = Counter(s.pair.construction for s in samples["train"])
    assert set(counts) == {name for name, _, _ in g.CONSTRUCTIONS}
    for s in samples["train"]:
        en, de = s.pair.en, s.pair.de
        for text in (en, de):
            assert not re.search(r"\d", text), text
            assert text[0].isupper() and text[-1] in ".?", text
            assert "  " not in text and " ," not in text, text
        assert en[-1] == de[-1]
        # English: a comma only after a fronted subordinate clause; German: before
        # every subordinate clause
        subfirst = s.pair.combo[0].startswith("subfirst")
        assert en.count(",") == int(subfirst), en
        subord = s.pair.combo[0].startswith(("subord", "subfirst"))
        assert de.count(",") == int(subord), de
        # "does not ... every day" would be ambiguous in scope
        words = en.lower().split()
        assert not ("not" in words and "every" in words), en


def test_sizes_not_met() -> None:
    with pytest.raises(ValueError):
        g.build_splits(0, 0, 1, 0, 0)
    with pytest.raises(ValueError):
        g.build_splits(0, -1, 1, 1, 1)


def test_lexicon() -> None:
    assert g.lexicon_size() >= 500
    counts = g.lexicon_counts()
    assert counts["nouns"] >= 150 and counts["verbs"] >= 100
    assert counts["adjectives"] >= 60 and counts["names"] >= 30
    # English a/an by the first letter must be right
    for word in [n.en_sg for n in g.NOUNS] + [a.en for a in g.ADJECTIVES]:
        assert not re.match(r"(uni|use|eu|one|hour|hon|heir)", word), word
    # German nouns capitalised, names without s / x / z (genitive "Annas")
    for n in g.NOUNS:
        assert n.de_sg[0].isupper() and (not n.de_pl or n.de_pl[0].isupper())
        assert n.gender in "mfn"
    assert not [n for n in g.NAMES if n.de[-1] in "sxzß"]
    # every verb frame finds an object / a place
    for v in g.VERBS:
        for frame, tags in v.frames:
            if frame in ("tr", "ditr", "dat", "prep"):
                assert "person" in tags or g._by_tags(g.NOUNS, tags), (v.key, frame)
            if frame == "loc":
                assert g._by_tags(g._PLACES_LOC, tags) or {"geo", "home"} & set(tags)
            if frame == "dir":
                assert g._by_tags(g._PLACES_DIR, tags) or {"geo", "home"} & set(tags)


# ------------------------------------------------------------------ hand-checked German


def _r(c: Clause) -> tuple[str, str]:
    return g.render(c)


def _tr(subj: g.NP, key: str, obj: g.NP, **kw) -> Clause:
    return Clause(subj, verb(key), "tr", obj=obj, **kw)


SHE, HE, ME = pron("3sgf"), pron("3sgm"), pron("1sg")
HER_BROTHER = np("brother", "poss", poss="3sgf")


def test_verb_second_after_adverbial() -> None:
    c = _tr(np("teacher"), "buy", np("book", "indef"), time=g.time_phrase("tomorrow"))
    assert _r(c) == (
        "The teacher buys a book tomorrow.",
        "Der Lehrer kauft morgen ein Buch.",
    )
    c = Clause(**{**c.__dict__, "time_fronted": True})
    assert _r(c) == (
        "Tomorrow the teacher buys a book.",
        "Morgen kauft der Lehrer ein Buch.",
    )
    c = _tr(SHE, "buy", np("car"), tense="past", time=g.time_phrase("yesterday"))
    c = Clause(**{**c.__dict__, "time_fronted": True})
    assert _r(c) == (
        "Yesterday she bought the car.",
        "Gestern hat sie das Auto gekauft.",
    )
    # pronoun object before the time adverb in the middle field
    c = _tr(np("teacher"), "call", HE, time=g.time_phrase("today"))
    assert _r(c)[1] == "Der Lehrer ruft ihn heute an."


def test_subordinate_verb_final() -> None:
    sad = Clause(HE, verb("be"), "cop", pred=adj_phrase(adj("sad")))
    bought = _tr(SHE, "buy", np("car"), tense="perfect")
    assert g.render_complex(sad, g.CONJUNCTIONS["because"], bought) == (
        "He is sad because she has bought the car.",
        "Er ist traurig, weil sie das Auto gekauft hat.",
    )
    drove = Clause(
        SHE, verb("drive"), "dir", "past", comp=g.dir_phrase(g.geo("Vienna"))
    )
    assert g.render_complex(sad, g.CONJUNCTIONS["although"], drove) == (
        "He is sad although she drove to Vienna.",
        "Er ist traurig, obwohl sie nach Wien gefahren ist.",
    )
    # subordinate clause first: the main clause starts with its verb
    assert g.render_complex(sad, g.CONJUNCTIONS["because"], bought, first=True) == (
        "Because she has bought the car, he is sad.",
        "Weil sie das Auto gekauft hat, ist er traurig.",
    )
    know = Clause(ME, verb("know_that"), "matrix")
    arrived = Clause(
        np("train"),
        verb("arrive"),
        "loc",
        "perfect",
        comp=g.loc_phrase(np("station")),
    )
    assert g.render_complex(know, g.CONJUNCTIONS["that"], arrived) == (
        "I know that the train has arrived at the station.",
        "Ich weiß, dass der Zug am Bahnhof angekommen ist.",
    )
    follow = Clause(np("dog"), verb("follow"), "dat", "past", obj=np("man", "indef"))
    laugh = Clause(name("Anna"), verb("laugh"), "intr")
    assert g.render_complex(laugh, g.CONJUNCTIONS["when"], follow)[1] == (
        "Anna lacht, wenn der Hund einem Mann gefolgt ist."
    )


def name(key: str) -> g.NP:
    return g.name(key)


def test_separable_verbs() -> None:
    call = _tr(SHE, "call", HER_BROTHER)
    assert _r(call) == ("She calls her brother.", "Sie ruft ihren Bruder an.")
    know = Clause(ME, verb("know_that"), "matrix")
    assert g.render_complex(know, g.CONJUNCTIONS["that"], call) == (
        "I know that she calls her brother.",
        "Ich weiß, dass sie ihren Bruder anruft.",
    )
    perfect = Clause(**{**call.__dict__, "tense": "perfect"})
    assert _r(perfect) == (
        "She has called her brother.",
        "Sie hat ihren Bruder angerufen.",
    )
    assert g.render_complex(know, g.CONJUNCTIONS["that"], perfect)[1] == (
        "Ich weiß, dass sie ihren Bruder angerufen hat."
    )
    assert g.render_question(call) == (
        "Does she call her brother?",
        "Ruft sie ihren Bruder an?",
    )
    assert _r(_tr(ME, "invite", np("friend", "poss", poss="1sg", plural=True))) == (
        "I invite my friends.",
        "Ich lade meine Freunde ein.",
    )
    # English particle after a pronoun object
    assert _r(_tr(np("father"), "pick_up", HE)) == (
        "The father picks him up.",
        "Der Vater holt ihn ab.",
    )
    assert _r(_tr(SHE, "switch_off", np("light")))[1] == "Sie schaltet das Licht aus."
    prepared = _tr(np("mother"), "prepare", np("party"), tense="past")
    assert _r(prepared)[1] == "Die Mutter hat die Party vorbereitet."
    depart = Clause(np("train"), verb("depart"), "intr", time=clock(3, 30))
    assert _r(depart) == (
        "The train departs at half past three.",
        "Der Zug fährt um halb vier ab.",
    )
    up = Clause(SHE, verb("get_up"), "intr", "past", time=clock(7, 0))
    assert _r(up) == (
        "She got up at seven o'clock.",
        "Sie ist um sieben Uhr aufgestanden.",
    )


def clock(h: int, m: int) -> g.Phrase:
    en, de = g.clock_phrase(h, m)
    return g.Phrase(en, tuple(de.split()))


@pytest.mark.parametrize(
    "phrase, case, neg, german",
    [
        # weak (after der / dieser)
        (np("man", adjective="old"), "nom", False, "der alte Mann"),
        (np("man", adjective="old"), "acc", False, "den alten Mann"),
        (np("man", adjective="old"), "dat", False, "dem alten Mann"),
        (np("man", adjective="old"), "gen", False, "des alten Mannes"),
        (np("car", "this", adjective="red"), "nom", False, "dieses rote Auto"),
        (np("woman", adjective="young"), "dat", False, "der jungen Frau"),
        (
            np("child", plural=True, adjective="small"),
            "dat",
            False,
            "den kleinen Kindern",
        ),
        # mixed (after ein / kein / possessives)
        (np("woman", "indef", adjective="young"), "nom", False, "eine junge Frau"),
        (np("woman", "indef", adjective="young"), "gen", False, "einer jungen Frau"),
        (np("car", "indef", adjective="expensive"), "acc", False, "ein teures Auto"),
        (np("car", "indef", adjective="expensive"), "dat", False, "einem teuren Auto"),
        (np("dog", "indef", adjective="big"), "nom", False, "ein großer Hund"),
        (np("tower", "indef", adjective="high"), "nom", False, "ein hoher Turm"),
        (np("forest", "indef", adjective="dark"), "acc", False, "einen dunklen Wald"),
        (
            np("coat", "poss", poss="1sg", adjective="old"),
            "acc",
            False,
            "meinen alten Mantel",
        ),
        (
            np("book", "poss", poss="1pl", plural=True, adjective="new"),
            "dat",
            False,
            "unseren neuen Büchern",
        ),
        (np("book", "indef", adjective="new"), "acc", True, "kein neues Buch"),
        (np("dog", "indef"), "acc", True, "keinen Hund"),
        (np("child", "indef"), "dat", True, "keinem Kind"),
        (
            np("book", "bare", plural=True, adjective="old"),
            "acc",
            True,
            "keine alten Bücher",
        ),
        # strong (no article)
        (np("water", "bare", adjective="cold"), "acc", False, "kaltes Wasser"),
        (np("water", "bare", adjective="cold"), "dat", False, "kaltem Wasser"),
        (np("milk", "bare", adjective="cold"), "dat", False, "kalter Milch"),
        (np("coffee", "bare", adjective="hot"), "nom", False, "heißer Kaffee"),
        (np("book", "bare", plural=True, adjective="old"), "nom", False, "alte Bücher"),
        (
            np("book", "bare", plural=True, adjective="old"),
            "dat",
            False,
            "alten Büchern",
        ),
        (
            np("book", "bare", plural=True, adjective="old"),
            "gen",
            False,
            "alter Bücher",
        ),
        (
            np("car", "def", adjective="old", owner=g.name("Anna")),
            "acc",
            False,
            "Annas altes Auto",
        ),
        (
            np("dog", "def", adjective="old", owner=g.name("Anna")),
            "dat",
            False,
            "Annas altem Hund",
        ),
        (
            np("book", "num", plural=True, count=3, adjective="old"),
            "acc",
            False,
            "drei alte Bücher",
        ),
        (np("friend", "num", plural=True, count=2), "dat", False, "zwei Freunden"),
        (np("ball", "num", count=1), "acc", False, "einen Ball"),
        # n-declension, genitive -s / -es, dative plural without -n after -n / -s
        (np("boy"), "acc", False, "den Jungen"),
        (np("student", "indef"), "dat", False, "einem Studenten"),
        (np("car", owner=np("boy")), "nom", False, "das Auto des Jungen"),
        (np("car", owner=np("teacher")), "nom", False, "das Auto des Lehrers"),
        (np("car", owner=np("man", "indef")), "nom", False, "das Auto eines Mannes"),
        (
            np("car", owner=np("teacher", plural=True)),
            "nom",
            False,
            "das Auto der Lehrer",
        ),
        (
            np("car", owner=np("sister", "poss", poss="1sg")),
            "acc",
            False,
            "das Auto meiner Schwester",
        ),
        (np("woman", plural=True), "dat", False, "den Frauen"),
        (np("car", plural=True), "dat", False, "den Autos"),
    ],
)
def test_declension(phrase: g.NP, case: str, neg: bool, german: str) -> None:
    assert " ".join(g.de_np(phrase, case, neg=neg)) == german


def test_genitive_in_sentences() -> None:
    key = np("key", owner=np("teacher"), saxon=True)
    assert _r(_tr(SHE, "find", key)) == (
        "She finds the teacher's key.",
        "Sie findet den Schlüssel des Lehrers.",
    )
    car = np("car", adjective="old", owner=np("man", adjective="old"))
    assert _r(_tr(SHE, "wash", car)) == (
        "She washes the old car of the old man.",
        "Sie wäscht das alte Auto des alten Mannes.",
    )
    anna = np("dog", adjective="old", owner=g.name("Anna"), saxon=True)
    assert _r(_tr(HE, "see", anna)) == (
        "He sees Anna's old dog.",
        "Er sieht Annas alten Hund.",
    )
    garden = g.loc_phrase(np("garden", owner=np("neighbour"), saxon=True))
    assert _r(Clause(SHE, verb("work"), "loc", comp=garden)) == (
        "She works in the neighbour's garden.",
        "Sie arbeitet im Garten des Nachbarn.",
    )


def test_negation() -> None:
    def neg(c: Clause) -> Clause:
        return Clause(**{**c.__dict__, "neg": True})

    assert _r(neg(_tr(SHE, "buy", np("book", "indef")))) == (
        "She does not buy a book.",
        "Sie kauft kein Buch.",
    )
    assert _r(neg(_tr(SHE, "buy", np("book")))) == (
        "She does not buy the book.",
        "Sie kauft das Buch nicht.",
    )
    assert _r(neg(_tr(SHE, "drink", np("water", "bare")))) == (
        "She does not drink water.",
        "Sie trinkt kein Wasser.",
    )
    assert _r(neg(_tr(SHE, "call", HER_BROTHER, tense="past"))) == (
        "She did not call her brother.",
        "Sie hat ihren Bruder nicht angerufen.",
    )
    assert _r(neg(_tr(SHE, "call", HER_BROTHER)))[1] == (
        "Sie ruft ihren Bruder nicht an."
    )
    assert _r(neg(_tr(HE, "see", SHE)))[1] == "Er sieht sie nicht."
    station = g.dir_phrase(np("station"))
    assert _r(neg(Clause(HE, verb("go"), "dir", comp=station))) == (
        "He does not go to the station.",
        "Er geht nicht zum Bahnhof.",
    )
    berlin = g.dir_phrase(g.geo("Berlin"))
    assert _r(neg(Clause(SHE, verb("travel"), "dir", "perfect", comp=berlin))) == (
        "She has not travelled to Berlin.",
        "Sie ist nicht nach Berlin gereist.",
    )
    help_ = Clause(SHE, verb("help"), "dat", obj=np("child", "indef"))
    assert _r(neg(help_))[1] == "Sie hilft keinem Kind."
    give = Clause(SHE, verb("give"), "ditr", iobj=np("child"), obj=np("ball", "indef"))
    assert _r(neg(give))[1] == "Sie gibt dem Kind keinen Ball."
    wait = Clause(HE, verb("wait_for"), "prep", obj=np("bus"))
    assert _r(neg(wait)) == (
        "He does not wait for the bus.",
        "Er wartet nicht auf den Bus.",
    )
    old = Clause(np("car"), verb("be"), "cop", pred=adj_phrase(adj("old")))
    assert _r(neg(old)) == ("The car is not old.", "Das Auto ist nicht alt.")


def test_objects_and_prepositions() -> None:
    give = Clause(SHE, verb("give"), "ditr", iobj=np("child"), obj=np("ball", "indef"))
    assert _r(give) == (
        "She gives the child a ball.",
        "Sie gibt dem Kind einen Ball.",
    )
    show = Clause(SHE, verb("show"), "ditr", "perfect", iobj=HE, obj=np("picture"))
    assert _r(show) == (
        "She has shown him the picture.",
        "Sie hat ihm das Bild gezeigt.",
    )
    assert _r(Clause(SHE, verb("listen_to"), "dat", obj=np("teacher"))) == (
        "She listens to the teacher.",
        "Sie hört dem Lehrer zu.",
    )
    cases = [
        (g.loc_phrase(np("garden")), "in the garden", "im Garten"),
        (g.dir_phrase(np("garden")), "into the garden", "in den Garten"),
        (g.loc_phrase(np("kitchen")), "in the kitchen", "in der Küche"),
        (g.dir_phrase(np("cinema")), "to the cinema", "ins Kino"),
        (g.dir_phrase(np("school")), "to the school", "zur Schule"),
        (g.loc_phrase(np("market")), "at the market", "auf dem Markt"),
        (
            g.loc_phrase(np("street", "poss", poss="3pl")),
            "in their street",
            "auf ihrer Straße",
        ),
        (
            g.dir_phrase(np("village", "indef", adjective="small")),
            "to a small village",
            "in ein kleines Dorf",
        ),
        (g.loc_phrase(g.HOME), "at home", "zu Hause"),
        (g.dir_phrase(g.HOME), "home", "nach Hause"),
        (g.loc_phrase(g.geo("Munich")), "in Munich", "in München"),
        (
            g.pp_phrase("with", np("friend", "poss", poss="3sgf", plural=True)),
            "with her friends",
            "mit ihren Freunden",
        ),
        (g.pp_phrase("for", HER_BROTHER), "for her brother", "für ihren Bruder"),
        (
            g.pp_phrase("without", np("umbrella", "poss", poss="3sgm")),
            "without his umbrella",
            "ohne seinen Regenschirm",
        ),
    ]
    for phrase, en, de in cases:
        assert (phrase.en, " ".join(phrase.de)) == (en, de)
    go = Clause(
        SHE,
        verb("go"),
        "dir",
        comp=g.dir_phrase(np("station")),
        pp=g.pp_phrase("with", np("friend", "poss", poss="3sgf", plural=True)),
    )
    assert _r(go) == (
        "She goes to the station with her friends.",
        "Sie geht mit ihren Freunden zum Bahnhof.",
    )
    buy = _tr(SHE, "buy", np("book", "indef"), pp=g.pp_phrase("for", HER_BROTHER))
    assert _r(buy)[1] == "Sie kauft ein Buch für ihren Bruder."
    assert _r(Clause(HE, verb("wait_for"), "prep", obj=SHE))[1] == "Er wartet auf sie."
    dream = Clause(ME, verb("dream_of"), "prep", obj=np("journey"))
    assert _r(dream)[1] == "Ich träume von der Reise."
    think = Clause(ME, verb("think_of"), "prep", obj=np("dog"))
    assert _r(think)[1] == "Ich denke an den Hund."


def test_numbers_dates_clock() -> None:
    assert g.date_phrase(21, 3) == (
        "on the twenty-first of March",
        "am einundzwanzigsten März",
    )
    assert g.date_phrase(3, 5)[1] == "am dritten Mai"
    assert g.date_phrase(1, 1)[1] == "am ersten Januar"
    assert g.date_phrase(7, 7)[1] == "am siebten Juli"
    assert g.date_phrase(31, 12) == (
        "on the thirty-first of December",
        "am einunddreißigsten Dezember",
    )
    with pytest.raises(ValueError):
        g.date_phrase(30, 2)
    expected = {
        (3, 30): ("at half past three", "um halb vier"),
        (4, 45): ("at a quarter to five", "um Viertel vor fünf"),
        (6, 15): ("at a quarter past six", "um Viertel nach sechs"),
        (7, 0): ("at seven o'clock", "um sieben Uhr"),
        (1, 0): ("at one o'clock", "um ein Uhr"),
        (12, 30): ("at half past twelve", "um halb eins"),
        (12, 45): ("at a quarter to one", "um Viertel vor eins"),
        (8, 40): ("at twenty to nine", "um zwanzig vor neun"),
        (1, 5): ("at five past one", "um fünf nach eins"),
    }
    for (h, m), phrase in expected.items():
        assert g.clock_phrase(h, m) == phrase
    assert g.de_number(1) == "eins" and g.de_number(105) == "einhundertfünf"
    assert g.en_number(105) == "one hundred and five"
    assert g.de_number_before_noun(1, "m", "acc") == "einen"
    assert g.de_number_before_noun(1, "f", "dat") == "einer"
    assert g.de_ordinal(3, "en") == "dritten"
    books = _tr(SHE, "buy", np("book", "num", plural=True, count=21))
    assert _r(books) == (
        "She buys twenty-one books.",
        "Sie kauft einundzwanzig Bücher.",
    )
    birthday = Clause(
        np("birthday", "poss", poss="3sgf"),
        verb("be"),
        "cop",
        pred=g.Phrase(*_split(g.date_phrase(5, 4))),
    )
    assert _r(birthday) == (
        "Her birthday is on the fifth of April.",
        "Ihr Geburtstag ist am fünften April.",
    )
    age = Clause(np("child"), verb("be"), "cop", "past", pred=g.age_phrase(1))
    assert _r(age) == ("The child was one year old.", "Das Kind war ein Jahr alt.")
    assert g.age_phrase(21).de == ("einundzwanzig", "Jahre", "alt")


def _split(pair: tuple[str, str]) -> tuple[str, tuple[str, ...]]:
    return pair[0], tuple(pair[1].split())


def test_verb_forms_and_questions() -> None:
    assert g.de_present(verb("read"), "3sg") == "liest"
    assert g.de_present(verb("read"), "1sg") == "lese"
    assert g.de_present(verb("invite"), "3sg") == "lädt"
    assert g.de_present(verb("know_that"), "1sg") == "weiß"
    assert g.de_present(verb("smile"), "1sg") == "lächle"
    assert g.de_present(verb("feed"), "1sg") == "füttere"
    assert g.de_present(verb("work"), "1sg") == "arbeite"
    assert g.de_present(verb("eat"), "1pl") == "essen"
    why = g.render_question(
        _tr(np("teacher"), "buy", np("book"), tense="perfect"), ("why", "warum")
    )
    assert why == (
        "Why has the teacher bought the book?",
        "Warum hat der Lehrer das Buch gekauft?",
    )
    where = Clause(np("teacher"), verb("work"), "intr")
    assert g.render_question(where, ("where", "wo"))[1] == "Wo arbeitet der Lehrer?"
    # "read" has the same past and base form: no simple past with "I"
    c = g._fix_tense(_tr(ME, "read", np("book"), tense="past"))
    assert c.tense == "perfect"
    assert _r(c) == ("I have read the book.", "Ich habe das Buch gelesen.")
    assert _r(_tr(HE, "read", np("book"), tense="past"))[0] == "He read the book."
    manner = Clause(
        SHE, verb("open"), "tr", "past", obj=np("door"), manner=g.adverb("slowly")
    )
    assert _r(manner) == (
        "She opened the door slowly.",
        "Sie hat die Tür langsam geöffnet.",
    )
    often = _tr(SHE, "buy", np("book", "bare", plural=True), freq=g.adverb("often"))
    assert _r(often) == ("She often buys books.", "Sie kauft oft Bücher.")


def test_cli_prints(capsys: pytest.CaptureFixture[str]) -> None:
    args = "--seed 0 --num_train 300 --num_dev 10 --num_test 10"
    assert g.main((args + " --num_test_compositional 10 --print 2").split()) == 0
    out = capsys.readouterr().out
    assert "== train: 300 pairs" in out and "== test_compositional: 10 pairs" in out
