"""The transcript input of speech translation (the error-free-ASR upper bound)."""

import json

import pytest

from espnet2_ext.bin.prep_transcript_input import main, transcript_words


def test_words_are_lowercased_without_punctuation():
    assert transcript_words("At half past three, Anna doesn't sing.") == [
        "at",
        "half",
        "past",
        "three",
        "anna",
        "doesn't",
        "sing",
    ]
    assert transcript_words("Twenty-one “red” cars? Yes!") == [
        "twenty-one",
        "red",
        "cars",
        "yes",
    ]
    assert transcript_words("It’s 5 o'clock -- now.") == ["it's", "5", "o'clock", "now"]
    assert transcript_words(" ... !") == []


def _write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_sets_token_list_and_report(tmp_path, capsys):
    units = tmp_path / "units"
    _write(
        units / "train/src_transcript",
        ["a1 The cat sings.", "a2 The dog, the cat.", "a3 ..."],
    )
    _write(units / "train/text", ["a1 Die Katze singt.", "a2 X.", "a3 Y."])
    _write(units / "train/text_shape.bpe", ["a1 5", "a2 2", "a3 2"])
    _write(units / "test/src_transcript", ["b1 A bird sings."])
    _write(units / "test/text", ["b1 Ein Vogel singt."])
    out = tmp_path / "units_transcript"
    tok = tmp_path / "token_list/transcript/tokens.txt"
    assert (
        main(
            ["--unitdir", str(units), "--sets", "train", "test"]
            + ["--train_set", "train", "--outdir", str(out), "--token_list", str(tok)]
        )
        == 0
    )
    # train words by frequency, ties alphabetically, between ESPnet's symbols
    assert tok.read_text().split() == [
        "<blank>",
        "<unk>",
        "the",
        "cat",
        "dog",
        "sings",
        "<sos/eos>",
    ]
    assert (out / "train/units").read_text().splitlines() == [
        "a1 the cat sings",
        "a2 the dog the cat",
    ]
    assert (out / "train/units_shape").read_text().splitlines() == ["a1 3", "a2 4"]
    # the target files keep only the utterances written; the skip is on record
    assert (out / "train/text").read_text().splitlines() == [
        "a1 Die Katze singt.",
        "a2 X.",
    ]
    assert (out / "train/text_shape.bpe").read_text().splitlines() == ["a1 5", "a2 2"]
    assert (out / "train/units.skipped").read_text().split() == [
        "a3",
        "no_words",
        "...",
    ]
    assert (out / "test/units").read_text() == "b1 a bird sings\n"
    report = json.loads((out / "prep_report.json").read_text())
    assert report["sets"]["train"]["skipped_by_reason"] == {"no_words": 1}
    assert report["sets"]["test"] == {
        "in": 1,
        "out": 1,
        "skipped": 0,
        "skipped_by_reason": {},
        "words": 3,
        "oov": 2,  # "a" and "bird": ESPnet reads them as <unk>
    }
    printed = capsys.readouterr().out
    assert "train: in=3 out=2 skipped=1 (no_words=1)" in printed


def test_missing_transcript_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="--src_transcript"):
        main(
            ["--unitdir", str(tmp_path), "--sets", "train", "--train_set", "train"]
            + ["--outdir", str(tmp_path / "o"), "--token_list", str(tmp_path / "t")]
        )
