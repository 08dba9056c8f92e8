"""prep_dedup_bpe: dedup + unit->character map + sentencepiece, on a tiny unit dump."""

import itertools
import json

import numpy as np
import pytest

from espnet2_ext.bin.prep_dedup_bpe import CHAR_OFFSET, main


def _random_units(rng, n_utts, num_units=12):
    """Unit sequences with runs of repeats (like 50 Hz k-means units)."""
    seqs = []
    for _ in range(n_utts):
        runs = rng.integers(0, num_units, size=int(rng.integers(5, 30)))
        reps = rng.integers(1, 4, size=len(runs))
        seqs.append([int(u) for u, r in zip(runs, reps) for _ in range(r)])
    return seqs


def _write_set(d, seqs, prefix, empty=()):
    d.mkdir(parents=True)
    keys = [f"{prefix}{i:03d}" for i in range(len(seqs))] + list(empty)
    with open(d / "units", "w") as fu, open(d / "units_shape", "w") as fs:
        for k, s in zip(keys, seqs):
            fu.write(f"{k} {' '.join(map(str, s))}\n")
            fs.write(f"{k} {len(s)}\n")
        for k in empty:
            fu.write(f"{k}\n")
            fs.write(f"{k} 0\n")
    (d / "text").write_text("".join(f"{k} word {i}\n" for i, k in enumerate(keys)))
    (d / "text_shape.bpe").write_text(
        "".join(f"{k} {i % 7 + 1}\n" for i, k in enumerate(keys))
    )
    return keys


def _dedup(seq):
    return [u for u, _ in itertools.groupby(seq)]


def _args(tmp_path, nbpe=40, sets=("train", "dev")):
    return [
        "--unitdir",
        str(tmp_path / "units"),
        "--sets",
        *sets,
        "--train_set",
        "train",
        "--nbpe",
        str(nbpe),
        "--outdir",
        str(tmp_path / "out"),
        "--token_list_dir",
        str(tmp_path / "tl"),
        "--num_threads",
        "1",
    ]


@pytest.fixture
def unitdir(tmp_path):
    rng = np.random.default_rng(0)
    data = {
        "train": _random_units(rng, 60),
        "dev": _random_units(rng, 10),
    }
    keys = {
        "train": _write_set(
            tmp_path / "units" / "train", data["train"], "tr", empty=["tr_empty"]
        ),
        "dev": _write_set(tmp_path / "units" / "dev", data["dev"], "dv"),
    }
    return data, keys


def test_prep_dedup_bpe_roundtrip_tokens_and_rates(tmp_path, unitdir, capsys):
    data, keys = unitdir
    assert main(_args(tmp_path)) == 0
    out, tl = tmp_path / "out", tmp_path / "tl"
    tokens = (tl / "tokens.txt").read_text().split("\n")[:-1]
    assert tokens[:2] == ["<blank>", "<unk>"] and tokens[-1] == "<sos/eos>"
    assert (
        len(tokens) == len(set(tokens)) == 40
    )  # 40 pieces - <unk>,<s>,</s> + 3 ESPnet tokens
    assert (tl / "bpe.model").exists()

    used_train = []
    for s in ("train", "dev"):
        lines = (out / s / "units").read_text().splitlines()
        shapes = dict(
            ln.split() for ln in (out / s / "units_shape").read_text().splitlines()
        )
        got_keys = [ln.split()[0] for ln in lines]
        assert (
            got_keys == keys[s][: len(data[s])]
        )  # order kept, empty utterance dropped
        for line, seq in zip(lines, data[s]):
            k, *pieces = line.split()
            assert int(shapes[k]) == len(pieces)
            assert all(p in tokens for p in pieces)  # no unknown pieces here
            ids = [ord(c) - CHAR_OFFSET for c in "".join(pieces)]
            assert ids == _dedup(seq)
            if s == "train":
                used_train += pieces
        # text files restricted to the written utterances
        for name in ("text", "text_shape.bpe"):
            assert [
                ln.split()[0] for ln in (out / s / name).read_text().splitlines()
            ] == got_keys

    # token order: by frequency in the encoded train set
    freq = {t: used_train.count(t) for t in tokens[2:-1]}
    counts = [freq[t] for t in tokens[2:-1]]
    assert counts == sorted(counts, reverse=True)

    # the empty utterance is skipped and reported
    assert (out / "train" / "units.skipped").read_text().split() == [
        "tr_empty",
        "empty",
        "no",
        "units",
    ]
    rates = json.loads((out / "rates.json").read_text())
    tr = rates["sets"]["train"]
    assert (
        tr["in"] == 61 and tr["out"] == 60 and tr["skipped_by_reason"] == {"empty": 1}
    )
    assert rates["sets"]["dev"]["skipped"] == 0
    for s in ("train", "dev"):
        r = rates["sets"][s]
        assert r["units"] == sum(map(len, data[s]))
        assert r["dedup_units"] == sum(len(_dedup(x)) for x in data[s])
        assert r["rate_units"] == pytest.approx(50.0)
        assert r["rate_bpe"] < r["rate_dedup"] <= r["rate_units"]
    summary = capsys.readouterr().out.splitlines()
    assert (
        len(summary) == 2
        and summary[0].startswith("train:")
        and "skipped=1" in summary[0]
    )


def test_prep_dedup_bpe_bad_unit_raises(tmp_path, unitdir):
    p = tmp_path / "units" / "dev" / "units"
    lines = p.read_text().splitlines()
    lines[3] = lines[3] + " abc"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"dev/units:4: bad unit 'abc'"):
        main(_args(tmp_path))
    lines[3] = lines[3].replace(" abc", " 20000")
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"bad unit '20000'"):
        main(_args(tmp_path))


def test_prep_dedup_bpe_nbpe_too_large(tmp_path, unitdir):
    with pytest.raises(ValueError, match=r"--nbpe 5000 is too large.*smaller --nbpe"):
        main(_args(tmp_path, nbpe=5000))


def test_prep_dedup_bpe_nbpe_below_number_of_units(tmp_path, unitdir):
    # 12 distinct units (+ sentencepiece's <unk>) cannot fit 8 pieces: the error
    # says to go larger, not smaller
    with pytest.raises(
        ValueError, match=r"--nbpe 8 is too small.*larger --nbpe \(at least 1[0-9]"
    ):
        main(_args(tmp_path, nbpe=8))


def test_prep_dedup_bpe_unit_unseen_in_train_is_counted(tmp_path, unitdir):
    p = tmp_path / "units" / "dev" / "units"
    lines = p.read_text().splitlines()
    lines[0] += " 999 999"
    p.write_text("\n".join(lines) + "\n")
    assert main(_args(tmp_path)) == 0
    rates = json.loads((tmp_path / "out" / "rates.json").read_text())
    assert (
        rates["sets"]["dev"]["unknown_pieces"] == 1
        and rates["sets"]["train"]["unknown_pieces"] == 0
    )
    pieces = (
        (tmp_path / "out" / "dev" / "units").read_text().splitlines()[0].split()[1:]
    )
    assert (
        ord("".join(pieces)[-1]) - CHAR_OFFSET == 999
    )  # written as the character itself
