"""Tests of local/data_prep_librispeech.py and local/validate_data_dir.py."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

LOCAL = Path(__file__).resolve().parents[1] / "local"
if str(LOCAL) not in sys.path:
    sys.path.insert(0, str(LOCAL))

import data_prep_librispeech as dp  # noqa: E402
import validate_data_dir as vd  # noqa: E402


def _flac(path: Path, seconds: float = 0.1, freq: float = 220.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(16000 * seconds)) / 16000.0
    sf.write(
        str(path),
        0.3 * np.sin(2 * np.pi * freq * t),
        16000,
        format="FLAC",
        subtype="PCM_16",
    )
    return path


def _trans(path: Path, lines: list[bytes | str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(
        (ln if isinstance(ln, bytes) else ln.encode("utf-8")) + b"\n" for ln in lines
    )
    path.write_bytes(data)


@pytest.fixture()
def libri(tmp_path: Path) -> Path:
    """A miniature LibriSpeech tree with one example of every kind of bad input."""
    root = tmp_path / "LibriSpeech"
    (root).mkdir()
    (root / "SPEAKERS.TXT").write_text(
        "; LibriSpeech-like speaker list\n"
        ";ID  |SEX| SUBSET           |MINUTES| NAME\n"
        "19   | F | train-clean-100  | 25.19 | Kara\n"
        "103  | M | train-clean-100  | 25.03 | Tom\n"
        "1272 | M | dev-clean        |  8.08 | John\n",
        encoding="utf-8",
    )
    tr = root / "train-clean-100"
    c = tr / "19" / "198"
    for n in ("0000", "0001", "0002", "0003", "0009"):
        _flac(c / f"19-198-{n}.flac")
    _flac(c / "19-198-0004 copy.flac")  # bad id (space), no transcript
    _flac(c / "20-198-0008.flac")  # id does not match its dir
    (c / "19-198-0005.flac").write_bytes(b"")  # zero-byte audio
    _trans(
        c / "19-198.trans.txt",
        [
            "19-198-0000 NORTHANGER ABBEY",
            "19-198-0001 CHAPTER ONE",
            "19-198-0002",  # empty transcript
            "19-198-0006 THIS AUDIO IS MISSING",  # missing audio
            "19-198-0001 CHAPTER ONE AGAIN",  # duplicate line
            "19-198-0005 EMPTY FILE",  # zero-byte audio
            "19-198-00/7 SLASH IN ID",  # bad id
            "20-198-0008 WRONG DIR",  # id/dir mismatch
            "19-198-0009 CAFÉ   NAÏVE",  # non-ASCII, extra spaces
            b"19-198-0010 \xff\xfe BROKEN",  # not UTF-8
            "",  # blank line: not an entry
        ],
    )
    c2 = tr / "103" / "1240"
    for n in ("0000", "0001"):
        _flac(c2 / f"103-1240-{n}.flac")
    _trans(c2 / "103-1240.trans.txt", ["103-1240-0001 SECOND", "103-1240-0000 FIRST"])
    _flac(tr / "stray.flac")  # not at <split>/<reader>/<chapter>/
    dev = root / "dev-clean"
    _flac(dev / "1272" / "128104" / "1272-128104-0000.flac")
    _trans(
        dev / "1272" / "128104" / "1272-128104.trans.txt",
        ["1272-128104-0000 MISTER QUILTER"],
    )
    _flac(dev / "19" / "198" / "19-198-0000.flac")  # same id as in train
    _trans(
        dev / "19" / "198" / "19-198.trans.txt", ["19-198-0000 DUPLICATE ACROSS SPLITS"]
    )
    return root


def _read(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_bad_inputs_accounted(
    libri: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dst = tmp_path / "data" / "train"
    with caplog.at_level(logging.INFO):
        rc = dp.main(["--src", str(libri / "train-clean-100"), "--dst", str(dst)])
    assert rc == 0
    assert "in=15 out=5 skipped=10" in caplog.text
    for reason in (
        "bad_utt_id=2",
        "duplicate_id=1",
        "empty_audio=1",
        "empty_transcript=1",
        "id_dir_mismatch=1",
        "invalid_utf8=1",
        "missing_audio=1",
        "missing_transcript=1",
        "unexpected_location=1",
    ):
        assert reason in caplog.text, reason
    assert "non-ASCII" in caplog.text and "19-198-0009" in caplog.text

    ids = [
        "103-1240-0000",
        "103-1240-0001",
        "19-198-0000",
        "19-198-0001",
        "19-198-0009",
    ]
    assert [
        ln.split()[0] for ln in _read(dst / "wav.scp")
    ] == ids  # C order: "103" < "19"
    assert _read(dst / "text") == [
        "103-1240-0000 FIRST",
        "103-1240-0001 SECOND",
        "19-198-0000 NORTHANGER ABBEY",
        "19-198-0001 CHAPTER ONE",
        "19-198-0009 CAFÉ NAÏVE",
    ]
    for line in _read(dst / "wav.scp"):
        uid, path = line.split(" ", 1)
        assert (
            os.path.isabs(path)
            and path.endswith(f"/{uid}.flac")
            and os.path.isfile(path)
        )
    assert _read(dst / "utt2spk")[0] == "103-1240-0000 103-1240"
    assert _read(dst / "spk2utt") == [
        "103-1240 103-1240-0000 103-1240-0001",
        "19-198 19-198-0000 19-198-0001 19-198-0009",
    ]
    assert _read(dst / "spk2gender") == ["103-1240 m", "19-198 f"]
    assert vd.validate_data_dir(dst).ok


def test_prepare_result_and_espnet_reader(libri: Path, tmp_path: Path) -> None:
    dst = tmp_path / "d"
    res = dp.prepare([libri / "train-clean-100"], dst)
    assert res.num_in == res.num_out + sum(res.skipped.values())
    assert res.non_ascii == ["19-198-0009"]
    reasons = {(r, Path(item.split(":")[0]).name) for r, item, _ in res.skipped_items}
    assert ("missing_audio", "19-198.trans.txt") in reasons
    assert ("missing_transcript", "19-198-0003.flac") in reasons
    assert ("empty_audio", "19-198-0005.flac") in reasons
    assert ("unexpected_location", "stray.flac") in reasons
    # ESPnet reads the result as it is
    pytest.importorskip("espnet2")
    from espnet2_ext.compat import SoundScpReader, read_2columns_text

    reader = SoundScpReader(str(dst / "wav.scp"), multi_columns=False)
    rate, wav = reader["19-198-0000"]
    assert rate == 16000 and wav.shape == (1600,)
    assert read_2columns_text(dst / "text")["19-198-0009"] == "CAFÉ NAÏVE"


def test_merge_splits_and_reader_speakers(
    libri: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dst = tmp_path / "merged"
    with caplog.at_level(logging.INFO):
        rc = dp.main(
            [
                "--src",
                str(libri / "train-clean-100"),
                str(libri / "dev-clean"),
                "--dst",
                str(dst),
                "--spk_id",
                "reader",
            ]
        )
    assert rc == 0
    assert "in=17 out=6 skipped=11" in caplog.text
    assert "duplicate_id=2" in caplog.text
    text = dict(ln.split(" ", 1) for ln in _read(dst / "text"))
    assert text["19-198-0000"] == "NORTHANGER ABBEY"  # the first split wins
    assert "1272-128104-0000" in text
    assert _read(dst / "spk2utt")[1] == "1272 1272-128104-0000"
    assert _read(dst / "spk2gender") == ["103 m", "1272 m", "19 f"]
    res = vd.validate_data_dir(dst)
    assert res.ok and not res.warnings and res.num_spks == 3


def test_check_audio_catches_corrupt_file(libri: Path, tmp_path: Path) -> None:
    bad = libri / "train-clean-100" / "103" / "1240" / "103-1240-0001.flac"
    bad.write_bytes(b"fLaC but not really a flac file")
    res = dp.prepare([libri / "train-clean-100"], tmp_path / "a", check_audio=True)
    assert res.skipped["unreadable_audio"] == 1 and res.num_out == 4
    res = dp.prepare([libri / "train-clean-100"], tmp_path / "b", check_audio=False)
    assert res.num_out == 5


def test_nothing_out_is_an_error(
    libri: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dst = tmp_path / "none"
    # the corpus root instead of a split: every file is one level too deep
    with caplog.at_level(logging.INFO):
        assert dp.main(["--src", str(libri), "--dst", str(dst)]) == 1
    assert "out=0" in caplog.text and "unexpected_location" in caplog.text
    assert not dst.exists()
    empty = tmp_path / "empty_split"
    empty.mkdir()
    assert dp.main(["--src", str(empty), "--dst", str(dst)]) == 1
    assert dp.main(["--src", str(tmp_path / "does_not_exist"), "--dst", str(dst)]) == 1


def test_rerun_removes_stale_files(libri: Path, tmp_path: Path) -> None:
    dst = tmp_path / "d"
    dst.mkdir()
    (dst / "utt2dur").write_text("old-utt 1.0\n")
    assert dp.main(["--src", str(libri / "train-clean-100"), "--dst", str(dst)]) == 0
    assert not (dst / "utt2dur").exists()
    assert vd.validate_data_dir(dst).ok


# ------------------------------------------------------------------ validate / fix


def _write(d: Path, name: str, lines: list[str]) -> None:
    (d / name).write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")


@pytest.fixture()
def broken_dir(tmp_path: Path) -> Path:
    """A data dir with several kinds of damage."""
    d = tmp_path / "broken"
    d.mkdir()
    wav = {
        u: _flac(tmp_path / "wav" / f"{u}.flac")
        for u in ("a-1", "a-2", "a-3", "b-1", "b-2")
    }
    os.unlink(wav["b-2"])  # audio gone
    _write(
        d,
        "wav.scp",
        [
            f"a-2 {wav['a-2']}",
            f"a-1 {wav['a-1']}",
            f"a-3 {wav['a-3']}",
            f"b-1 {wav['b-1']}",
            f"b-2 {wav['b-2']}",
            "c-1 /nonexistent/c-1.flac",
        ],
    )
    _write(
        d, "text", ["a-1 HELLO", "a-2 WORLD", "a-3", "b-1 FOO", "b-2 BAR"]
    )  # c-1 missing, a-3 empty
    _write(
        d, "utt2spk", ["a-1 a", "a-2 a", "a-2 a", "a-3 a", "b-1 b", "b-2 b", "c-1 c"]
    )  # duplicate
    _write(d, "spk2utt", ["a a-1 a-2 a-3", "b b-1"])  # b-2 and c missing
    _write(d, "spk2gender", ["a f", "b m", "c m"])
    return d


def test_validate_reports_problems(broken_dir: Path) -> None:
    res = vd.validate_data_dir(broken_dir)
    assert not res.ok
    joined = "\n".join(res.errors)
    assert "wav.scp: not sorted" in joined
    assert "utt2spk: 1 duplicate ids" in joined
    assert "text and wav.scp differ" in joined and "c-1" in joined
    assert "empty transcripts" in joined and "a-3" in joined
    assert "spk2utt" in joined
    assert "audio files do not exist" in joined and "b-2" in joined
    assert vd.main([str(broken_dir)]) == 1


def test_fix_keeps_intersection(broken_dir: Path) -> None:
    res = vd.fix_data_dir(broken_dir)
    assert res.kept == 3
    assert res.validation is not None and res.validation.ok, res.validation.errors
    dropped = {(item, reason) for item, reason in res.dropped_items}
    assert ("a-2", "utt2spk: duplicate id (first kept)") in dropped
    assert ("c-1", "missing from text") in dropped
    assert ("a-3", "empty transcript") in dropped
    assert ("b-2", "audio file missing") in dropped
    assert ("c", "spk2gender: speaker has no utterances") in dropped
    assert _read(broken_dir / "text") == ["a-1 HELLO", "a-2 WORLD", "b-1 FOO"]
    assert _read(broken_dir / "spk2utt") == ["a a-1 a-2", "b b-1"]
    assert [ln.split()[0] for ln in _read(broken_dir / "wav.scp")] == [
        ln.split()[0] for ln in _read(broken_dir / "text")
    ]
    assert (broken_dir / ".backup" / "wav.scp").is_file()
    assert vd.main([str(broken_dir)]) == 0


def test_fix_cli(broken_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert vd.main(["--fix", str(broken_dir)]) == 0
    assert "dropped" in caplog.text and "audio file missing" in caplog.text
    assert _read(broken_dir / "spk2gender") == ["a f", "b m"]


def test_validate_missing_files_and_segments(tmp_path: Path) -> None:
    d = tmp_path / "x"
    d.mkdir()
    _write(d, "text", ["u1 HI"])
    res = vd.validate_data_dir(d)
    assert not res.ok and "missing files: wav.scp, utt2spk, spk2utt" in res.errors[0]
    _write(d, "segments", ["u1 r1 0.0 1.0"])
    assert any("segments" in e for e in vd.validate_data_dir(d).errors)
    with pytest.raises(ValueError):
        vd.fix_data_dir(d)
