"""Tests of local/data_prep_covost2.py and local/covost_layout.py.

A miniature Common Voice v4 + CoVoST 2 tree (``validated.tsv``, ``clips/*.mp3``,
``covost_v2.en_de.tsv``) is written with ``covost_layout`` and given the bad rows a
real download has.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

LOCAL = Path(__file__).resolve().parents[1] / "local"
if str(LOCAL) not in sys.path:
    sys.path.insert(0, str(LOCAL))

import covost_layout as cl  # noqa: E402
import data_prep_covost2 as dp  # noqa: E402
import validate_data_dir as vd  # noqa: E402

SR = 16000
SECONDS = 0.3
VOICE_A = "en-us+m3"
VOICE_B = "en-gb-scotland+f2"
SPK_A = cl.client_id_for(VOICE_A)
SPK_B = cl.client_id_for(VOICE_B)
SPLITS = ["train", "dev", "test", "test_compositional"]


def _tone(n: int) -> np.ndarray:
    t = np.arange(int(SR * SECONDS)) / SR
    return 0.3 * np.sin(2 * np.pi * (200.0 + 40.0 * n) * t)


def _name(n: int) -> str:
    return cl.clip_name(1000 + n)


def _utt(spk: str, n: int) -> str:
    return f"{spk}-common_voice_en_{1000 + n}"


# clip number -> (voice, gender, sentence); None: no validated.tsv row
CV = {
    1: (VOICE_A, "M", "The cat sat on the mat."),
    2: (VOICE_B, "F", '"Hello," she said.'),
    3: (VOICE_A, "M", 'A path like C:\\temp is "quoted".'),
    4: (VOICE_B, "F", "A tab\there."),
    5: (VOICE_A, "M", "No translation for this one."),
    6: (VOICE_B, "F", "Only blanks as translation."),
    7: (VOICE_A, "M", "My clip is gone."),
    8: None,
    9: (VOICE_A, "M", "   "),
    10: (VOICE_B, "F", "A good test sentence."),
    11: (VOICE_A, "M", "A translation on two lines."),
    12: (VOICE_B, "F", "A good dev sentence."),
    13: (VOICE_A, "M", "Green dogs read old books."),
    14: (VOICE_B, "F", "My clip is empty."),
    15: (VOICE_A, "M", "Listed twice, differently."),
}
# (clip number, translation, split) in file order
COVOST = [
    (1, "Die Katze saß auf der Matte.", "train"),
    (2, "„Hallo“, sagte sie.", "train_covost"),
    (3, 'Ein Pfad wie C:\\temp ist "zitiert".', "dev"),
    (4, "Ein Tab hier.", "dev"),
    (5, "", "test"),
    (6, "   ", "test"),
    (7, "Mein Clip ist weg.", "test"),
    (8, "Nicht in validated.tsv.", "train"),
    (9, "Leerer Satz.", "train"),
    (10, "Ein guter Testsatz.", "test"),
    (11, "Eine Übersetzung\nauf zwei Zeilen.", "test"),
    (1, "Die Katze, noch einmal.", "dev"),  # duplicate path
    (12, "Ein guter Dev-Satz.", "dev"),
    (13, "Grüne Hunde lesen alte Bücher.", "test_compositional"),
    (14, "Mein Clip ist leer.", "train"),
    (15, "Zweimal aufgeführt.", "train"),
    (16, "Nicht gewünscht.", "dev_covost"),  # a split value nobody asks for
]
EXPECTED = {
    "train": dict(
        rows_in=6,
        out=[_utt(SPK_A, 1), _utt(SPK_B, 2)],
        skipped={
            "not_in_validated": 1,
            "empty_sentence": 1,
            "empty_clip": 1,
            "ambiguous_validated_row": 1,
        },
        by_value={"train": 5, "train_covost": 1},
    ),
    "dev": dict(
        rows_in=4,
        out=[_utt(SPK_A, 3), _utt(SPK_B, 12)],
        skipped={"control_char_in_text": 1, "duplicate_path": 1},
        by_value={"dev": 4},
    ),
    "test": dict(
        rows_in=5,
        out=[_utt(SPK_B, 10)],
        skipped={"empty_translation": 2, "missing_clip": 1, "control_char_in_text": 1},
        by_value={"test": 5},
    ),
    "test_compositional": dict(
        rows_in=1,
        out=[_utt(SPK_A, 13)],
        skipped={},
        by_value={"test_compositional": 1},
    ),
}


def _cv_rows() -> list[dict]:
    rows = [
        cl.cv_row(voice, _name(n), sentence, gender=gender)
        for n, spec in CV.items()
        if spec is not None
        for voice, gender, sentence in [spec]
    ]
    # repeats: identical (only logged) and conflicting (its clip is not used)
    rows.append(dict(rows[11]))
    rows.append(dict(rows[-2], sentence="Listed twice, another sentence."))
    return rows


def _build_tree(root: Path) -> Path:
    cl.write_covost_tree(
        root,
        _cv_rows(),
        [{"path": _name(n), "translation": t, "split": s} for n, t, s in COVOST],
    )
    for n in list(CV) + [16]:
        if n == 7:  # missing clip
            continue
        if n == 14:  # zero-byte clip
            (root / "clips" / _name(n)).write_bytes(b"")
            continue
        cl.write_clip(root / "clips" / _name(n), _tone(n))
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The miniature tree, with two malformed rows appended to the CoVoST tsv."""
    root = _build_tree(tmp_path_factory.mktemp("cv") / "en")
    with open(root / "covost_v2.en_de.tsv", "a", encoding="utf-8") as f:
        f.write("common_voice_en_999.mp3\tzwei Felder\n")
        f.write("common_voice_en_998.mp3\tvier\tFelder\ttrain\n")
    return root


@pytest.fixture(scope="module")
def prepared(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    out = tmp_path_factory.mktemp("data")
    prep = dp.prepare(tree, tree / "covost_v2.en_de.tsv", out, splits=SPLITS)
    return prep, out


def _read(path: Path) -> list[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [tuple(ln.split(" ", 1)) for ln in lines]  # type: ignore[misc]


def test_counts_and_reasons(prepared: tuple) -> None:
    prep, out = prepared
    for split, exp in EXPECTED.items():
        res = prep.splits[split]
        assert res.num_in == exp["rows_in"], split
        assert sorted(res.utts) == sorted(exp["out"]), split
        assert dict(res.skipped) == exp["skipped"], split
        assert dict(res.in_by_value) == exp["by_value"], split
        assert res.num_in == res.num_out + sum(res.skipped.values())
        rep = json.loads((out / split / "prep_report.json").read_text("utf-8"))
        assert rep["rows_in"] == exp["rows_in"]
        assert rep["utterances_out"] == len(exp["out"])
        assert rep["skipped"] == exp["skipped"]
        assert rep["skipped_total"] == sum(exp["skipped"].values())
        assert rep["inputs"]["covost_tsv"]["malformed_rows"] == 2
        assert rep["inputs"]["covost_rows_by_split_value"]["dev_covost"] == 1
        assert rep["inputs"]["validated_repeated_paths"] == 2
    # a row with 2 fields and one with 4: counted, not used
    assert prep.covost.malformed == 2
    assert prep.covost.rows == len(COVOST)


def test_train_includes_train_covost(prepared: tuple) -> None:
    prep, out = prepared
    train = prep.splits["train"]
    assert train.values == ("train", "train_covost")
    assert train.out_by_value() == {"train": 1, "train_covost": 1}
    assert _utt(SPK_B, 2) in dict(_read(out / "train" / "wav.scp"))


def test_kaldi_dirs(prepared: tuple, tree: Path) -> None:
    _, out = prepared
    d = out / "dev"
    names = sorted(p.name for p in d.iterdir())
    assert names == sorted(
        [
            "wav.scp",
            "text",
            "text.tc.de",
            "text.tc.en",
            "utt2spk",
            "spk2utt",
            "prep_report.json",
        ]
    )
    wav = dict(_read(d / "wav.scp"))
    ids = [k for k, _ in _read(d / "wav.scp")]
    assert ids == sorted(ids, key=lambda s: s.encode("utf-8"))  # LC_ALL=C order
    assert wav[_utt(SPK_A, 3)] == str((tree / "clips" / _name(3)).resolve())
    tgt = dict(_read(d / "text.tc.de"))
    src = dict(_read(d / "text.tc.en"))
    # the backslash and quotes are unescaped as the official reader does
    assert src[_utt(SPK_A, 3)] == 'A path like C:\\temp is "quoted".'
    assert tgt[_utt(SPK_A, 3)] == 'Ein Pfad wie C:\\temp ist "zitiert".'
    assert dict(_read(d / "text")) == tgt
    assert _read(d / "utt2spk") == [(_utt(SPK_A, 3), SPK_A), (_utt(SPK_B, 12), SPK_B)]
    assert len(SPK_A) == 128
    assert dict(_read(out / "train" / "text.tc.de"))[_utt(SPK_B, 2)] == (
        "„Hallo“, sagte sie."
    )
    assert dict(_read(out / "train" / "text.tc.en"))[_utt(SPK_B, 2)] == (
        '"Hello," she said.'
    )
    s2u = dict(_read(out / "train" / "spk2utt"))
    assert s2u == {SPK_A: _utt(SPK_A, 1), SPK_B: _utt(SPK_B, 2)}
    for split in EXPECTED:
        res = vd.validate_data_dir(out / split, check_audio=True)
        assert res.ok, res.errors
        assert not res.warnings, res.warnings  # speaker ids prefix utterance ids


def test_load_audio_from_wav_scp(prepared: tuple) -> None:
    from espnet2_ext.units.audio import load_audio

    _, out = prepared
    wav = load_audio(dict(_read(out / "test" / "wav.scp"))[_utt(SPK_B, 10)])
    ref = _tone(10)
    assert str(wav.dtype) == "torch.float32" and wav.ndim == 1
    assert wav.shape[0] == ref.shape[0]  # 16 kHz, the length of the 16 kHz source
    x = wav.numpy().astype(np.float64)
    corr = float(np.dot(x, ref) / np.linalg.norm(x) / np.linalg.norm(ref))
    assert corr > 0.95


def test_official_reader_reads_the_written_tsv(tmp_path: Path) -> None:
    """The pandas call of get_covost_splits.py / fairseq gives back what was written
    (quotes, backslashes, an escaped tab and newline included)."""
    pd = pytest.importorskip("pandas")
    root = tmp_path / "en"
    cv_rows = _cv_rows()
    cov_rows = [{"path": _name(n), "translation": t, "split": s} for n, t, s in COVOST]
    cl.write_covost_tree(root, cv_rows, cov_rows)

    def load(path: Path):
        return pd.read_csv(
            path,
            sep="\t",
            header=0,
            encoding="utf-8",
            escapechar="\\",
            quoting=csv.QUOTE_NONE,
            na_filter=False,
        )

    cv = load(root / "validated.tsv")
    assert list(cv.columns) == list(cl.CV_V4_COLUMNS)
    assert cv.astype(str).to_dict("records") == cv_rows
    cov = load(root / "covost_v2.en_de.tsv")
    assert list(cov.columns) == ["path", "translation", "split"]
    assert cov.astype(str).to_dict("records") == cov_rows
    # a '"' is written as is, like in the real files; a backslash is escaped
    raw = (root / "validated.tsv").read_text("utf-8")
    assert '\t"Hello," she said.\t' in raw
    assert "C:\\\\temp" in raw and "A tab\\\there." in raw
    # and our reader parses exactly the same fields
    stats = dp.TsvStats("x")
    ours = [r for _, r, _ in dp.iter_tsv(root / "validated.tsv", ("path",), "x", stats)]
    assert ours == cv_rows


def test_main_cli(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "data"
    (out / "dev").mkdir(parents=True)
    (out / "dev" / "utt2dur").write_text("stale 1.0\n")
    (out / "dev" / "text.lc.rm.en").write_text("stale x\n")
    rc = dp.main(
        [
            "--cv_root",
            str(tree),
            "--covost_tsv",
            str(tree / "covost_v2.en_de.tsv"),
            "--src_lang",
            "en",
            "--tgt_lang",
            "de",
            "--out",
            str(out),
            "--splits",
            "train",
            "dev",
            "--check_audio",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "train: in=6 (train=5, train_covost=1) out=2 skipped=4" in printed
    assert "dev: in=4 (dev=4) out=2 skipped=2" in printed
    assert not (out / "dev" / "utt2dur").exists()
    assert not (out / "dev" / "text.lc.rm.en").exists()
    assert not (out / "test").exists()


def test_other_skip_reasons(tmp_path: Path) -> None:
    """unreadable_clip (--check_audio), invalid_utf8, bad_path, bad_client_id,
    malformed_validated_row, and a clips/ dir that is missing."""
    root = tmp_path / "en"
    names = [_name(n) for n in range(1, 6)]
    cv_rows = [cl.cv_row(VOICE_A, nm, f"Sentence {i}.") for i, nm in enumerate(names)]
    cv_rows[3]["client_id"] = "has space"
    cv_rows[4]["up_votes"] = "2\t0"  # a 9th field once its backslash is removed
    cl.write_covost_tree(
        root,
        cv_rows,
        [{"path": nm, "translation": f"Satz {nm}.", "split": "dev"} for nm in names]
        + [{"path": "sub/dir.mp3", "translation": "Pfad.", "split": "dev"}],
    )
    for nm in names:
        cl.write_clip(root / "clips" / nm, _tone(1))
    (root / "clips" / names[1]).write_bytes(b"not an mp3 at all" * 10)
    tsv = root / "validated.tsv"
    tsv.write_bytes(tsv.read_bytes().replace(b"Sentence 2.", b"Sentence \xe9."))
    tsv.write_bytes(tsv.read_bytes().replace(b"2\\\t0", b"2\t0"))
    cov = root / "covost_v2.en_de.tsv"
    prep = dp.prepare(root, cov, tmp_path / "d", ["dev"], check_audio=True)
    assert dict(prep.splits["dev"].skipped) == {
        "unreadable_clip": 1,
        "invalid_utf8": 1,
        "bad_client_id": 1,
        "malformed_validated_row": 1,
        "bad_path": 1,
    }
    assert sorted(prep.splits["dev"].utts) == [_utt(SPK_A, 1)]
    assert prep.validated.malformed == 1
    (root / "clips").rename(root / "clips.away")
    with pytest.raises(dp.InputError, match="clips dir not found"):
        dp.prepare(root, cov, tmp_path / "d", ["dev"])


def _run_main(tree: Path, out: Path, *extra: str) -> int:
    args = ["--cv_root", str(tree), "--out", str(out)]
    if "--covost_tsv" not in extra:
        args += ["--covost_tsv", str(tree / "covost_v2.en_de.tsv")]
    return dp.main(args + list(extra))


def test_errors(tree: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "data"
    # missing CoVoST tsv
    assert _run_main(tree, out, "--covost_tsv", str(tmp_path / "nope.tsv")) == 1
    assert "CoVoST tsv not found" in caplog.text
    # missing validated.tsv
    bare = tmp_path / "bare"
    (bare / "clips").mkdir(parents=True)
    caplog.clear()
    assert _run_main(bare, out, "--covost_tsv", str(tree / "covost_v2.en_de.tsv")) == 1
    assert "validated.tsv not found" in caplog.text
    # wrong columns (a CoVoST tsv without 'translation')
    bad = tmp_path / "covost_v2.en_de.tsv"
    bad.write_text("path\tsentence\tsplit\nx.mp3\tHi.\ttrain\n", encoding="utf-8")
    caplog.clear()
    assert _run_main(tree, out, "--covost_tsv", str(bad)) == 1
    assert "wrong columns (missing ['translation'])" in caplog.text
    # a requested split that is not in the tsv: nothing is written
    caplog.clear()
    assert _run_main(tree, out, "--splits", "dev", "nosuch") == 1
    assert "nosuch (no rows with split value nosuch)" in caplog.text
    assert "train_covost=1" in caplog.text  # the values present are listed
    assert not out.exists()
    # a split whose rows are all skipped
    with pytest.raises(dp.InputError, match="all 1 rows skipped"):
        dp.prepare(tree, tree / "covost_v2.en_de.tsv", out, ["dev_covost"])


def test_layout_values(tmp_path: Path) -> None:
    cid = cl.client_id_for("en-us+m3")
    assert cid == cl.client_id_for("en-us+m3") != cl.client_id_for("en-us+m4")
    assert len(cid) == 128 and int(cid, 16) >= 0
    assert cl.clip_name(19664034) == "common_voice_en_19664034.mp3"
    row = cl.cv_row("en-gb-scotland+f2", "common_voice_en_1.mp3", "Hi.", gender="F")
    assert list(row) == list(cl.CV_V4_COLUMNS)
    assert row["gender"] == "female" and row["accent"] == "scotland"
    assert row["age"] in cl.AGES
    assert int(row["up_votes"]) >= 2 and int(row["up_votes"]) > int(row["down_votes"])
    with pytest.raises(ValueError, match="unknown columns"):
        cl.write_covost_tree(tmp_path, [dict(row, locale="en")], [])
    path = tmp_path / "clips" / "common_voice_en_1.mp3"
    cl.write_clip(path, _tone(1))
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.format) == (48000, 1, "MP3")
    assert info.frames == 3 * _tone(1).shape[0]
