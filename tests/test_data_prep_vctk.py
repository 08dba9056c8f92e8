"""Tests of local/data_prep_vctk.py on a miniature VCTK 0.92 tree.

The tree (tiny 48 kHz FLACs) has the real corpus's gaps: p315 has audio but no
``txt/`` folder, p280 has no mic2 files; plus a missing audio file, a zero-byte one,
an empty text, a text that is not UTF-8, a text without audio, audio without text, a
misnamed file, a stray file outside the speaker folders, and a ``speaker-info.txt``
row of a speaker without files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

LOCAL = Path(__file__).resolve().parents[1] / "local"
if str(LOCAL) not in sys.path:
    sys.path.insert(0, str(LOCAL))

import data_prep_vctk as dp  # noqa: E402
import validate_data_dir as vd  # noqa: E402

SR = 48000
SHARED = {
    "001": "Please ask Martin to call.",
    "002": "The kite got stuck in the tree.",
    "003": "We bought six fresh eggs.",
}
SEEN = ("p225", "p226", "p227", "p280")
HELDOUT = ("p360", "p361")
GENDER = {
    "p225": "F",
    "p226": "M",
    "p227": "M",
    "p280": "F",
    "p315": "M",
    "p360": "M",
    "p361": "F",
}
SPEAKER_INFO = """ID  AGE  GENDER  ACCENTS  REGION COMMENTS 
p225  23  F    English    Southern  England
p226  22  M    English    Surrey
p227  38  M    English    Cumbria
p280  25  F    Unknown  France  (mic2 files unavailable)
p315  18  M    American  New  England  (Text unavailable)
p360  19  M    American  New  Jersey
p361  19  F    American  New  Jersey
p999  30  F    Irish  Dublin
"""  # noqa: W291 - VCTK's header line ends with a space


def _flac(path: Path, n: int, empty: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if empty:
        path.write_bytes(b"")
        return
    t = np.arange(int(SR * 0.05)) / SR
    sf.write(str(path), 0.2 * np.sin(2 * np.pi * (150 + 10 * n) * t), SR, "PCM_16")


def _txt(root: Path, spk: str, num: str, text: str | bytes) -> None:
    path = root / "txt" / spk / f"{spk}_{num}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text + "\n", encoding="utf-8")


def _wav(root: Path, spk: str, num: str, mics=("mic1", "mic2"), empty=()) -> None:
    for mic in mics:
        path = root / "wav48_silence_trimmed" / spk / f"{spk}_{num}_{mic}.flac"
        _flac(path, int(num), empty=mic in empty)


def make_tree(root: Path) -> Path:
    """The miniature tree described in the module docstring."""
    root.mkdir(parents=True)
    (root / "speaker-info.txt").write_text(SPEAKER_INFO, encoding="utf-8")
    for spk in SEEN + HELDOUT:
        for num, text in SHARED.items():
            if spk == "p361" and num == "002":
                text = "A different sentence under this id."
            _txt(root, spk, num, text)
            if spk == "p280":
                _wav(root, spk, num, mics=("mic1",))  # p280: no mic2 files
            elif not (spk == "p360" and num == "003"):  # p360_003: text only
                _wav(root, spk, num)
    for spk in SEEN:
        for i in range(4, 8):
            _txt(root, spk, f"{i:03d}", f"Speaker {spk} reads sentence {i}.")
    for spk in HELDOUT:
        for i in (4, 5):
            _txt(root, spk, f"{i:03d}", f"Target {spk} reads sentence {i}.")
            _wav(root, spk, f"{i:03d}")
    _wav(root, "p225", "004")
    _wav(root, "p225", "005")
    _wav(root, "p225", "006")  # p225_007: text without audio
    _wav(root, "p226", "004")
    _wav(root, "p226", "005", mics=("mic2",))  # mic1 missing
    _wav(root, "p226", "006")
    _wav(root, "p226", "007")
    _wav(root, "p226", "008")  # audio without text
    _wav(root, "p227", "004")
    _wav(root, "p227", "005")
    _wav(root, "p227", "006", empty=("mic1",))  # zero-byte mic1
    _wav(root, "p227", "007")
    (root / "txt" / "p227" / "p227_007.txt").write_text("  \n", encoding="utf-8")
    for i in range(4, 8):
        _wav(root, "p280", f"{i:03d}", mics=("mic1",))
    for num in SHARED:  # p315: audio, no txt/p315/ at all
        _wav(root, "p315", num)
    _txt(root, "p361", "006", b"caf\xe9 au lait\n")  # Latin-1, not UTF-8
    _wav(root, "p361", "006")
    (root / "txt" / "p225" / "notes.md").write_text("not a text\n", encoding="utf-8")
    (root / "wav48_silence_trimmed" / "log.txt").write_text("trimmed\n", "utf-8")
    return root


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "VCTK-Corpus-0.92")


def _prep(tree: Path, out: Path, **kw) -> dp.PrepResult:
    args = dict(
        heldout_speakers=HELDOUT,
        num_dev=1,
        num_test_own=1,
        num_test_shared=3,
        seed=0,
    )
    args.update(kw)
    return dp.prepare(tree, out, **args)


def _read(path: Path) -> list[tuple[str, str]]:
    return vd.read_kaldi_file(path).entries


def _report(out: Path, name: str) -> dict:
    return json.loads((out / name / "prep_report.json").read_text(encoding="utf-8"))


def test_sets_counts_and_reasons(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    res = _prep(tree, out)
    assert res.written == ["train", "dev", "test", "heldout", "parallel"]
    assert res.selection.shared_ids == ["001", "002", "003"]
    assert res.selection.test_ids == ["001", "002", "003"]
    expect = {
        "train": (
            10,
            4,
            {
                "missing_audio": 2,
                "no_text": 1,
                "empty_audio": 1,
                "empty_text": 1,
                "bad_file_name": 1,
            },
        ),
        "dev": (4, 4, {}),
        "test": (19, 16, {"no_text": 3}),
        "heldout": (11, 9, {"missing_audio": 1, "invalid_utf8": 1}),
    }
    for name, (n_in, n_out, skipped) in expect.items():
        rep = _report(out, name)
        assert (rep["utterances_in"], rep["utterances_out"]) == (n_in, n_out), name
        assert rep["skipped"] == dict(sorted(skipped.items())), name
        assert rep["skipped_total"] == n_in - n_out
        vres = vd.validate_data_dir(out / name, check_audio=True)
        assert vres.ok, vres.errors
        assert not vres.warnings, vres.warnings
    top = json.loads((out / "prep_report.json").read_text(encoding="utf-8"))
    assert top["entries_in"] == 45
    assert top["unattributed"]["skipped"] == {"unexpected_location": 1}
    assert top["skipped"]["no_text"] == 4  # p315 x 3, p226_008
    # p315 has no text: every one of its entries is skipped as no_text
    p315 = [s for s in res.scan.skips if s.spk == "p315"]
    assert len(p315) == 3 and {s.reason for s in p315} == {"no_text"}
    assert all("has no txt/ folder" in s.detail for s in p315)
    # held-out speakers only in heldout; no reserved id in train or dev
    for name in ("train", "dev", "test"):
        spks = {s for _, s in _read(out / name / "utt2spk")}
        assert not spks & set(HELDOUT)
    assert {s for _, s in _read(out / "heldout" / "utt2spk")} == set(HELDOUT)
    for name in ("train", "dev"):
        assert not [u for u, _ in _read(out / name / "text") if u[-3:] in SHARED]


def test_files_format(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    _prep(tree, out)
    wav = dict(_read(out / "test" / "wav.scp"))
    text = dict(_read(out / "test" / "text"))
    assert text["p225_001"] == "Please ask Martin to call."  # cased, punctuated
    assert wav["p225_001"] == str(
        (tree / "wav48_silence_trimmed/p225/p225_001_mic1.flac").resolve()
    )
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in wav.values())
    for name in ("train", "dev", "test", "heldout", "parallel"):
        u2s = _read(out / name / "utt2spk")
        assert all(u.startswith(s + "_") for u, s in u2s)
        keys = [u for u, _ in u2s]
        assert keys == sorted(keys)
        g = dict(_read(out / name / "spk2gender"))
        assert g == {s: GENDER[s].lower() for s in g}
        assert set(g) == {s for _, s in u2s}


def test_pairs(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    res = _prep(tree, out)
    pairs = [(p, *v.split()) for p, v in _read(out / "parallel" / "pairs")]
    assert len(pairs) == 16
    assert [p for p, _, _ in pairs] == sorted(p for p, _, _ in pairs)
    for pid, src, tgt in pairs:
        assert pid == f"{src}-{tgt.split('_')[0]}"
        assert src.split("_")[0] in SEEN and tgt.split("_")[0] in HELDOUT
        assert src[-3:] == tgt[-3:]
    assert ("p225_003-p361", "p225_003", "p361_003") in pairs
    assert not [p for p in pairs if p[2] in ("p360_003", "p361_002")]
    rep = _report(out, "parallel")
    assert (rep["pairs_in"], rep["pairs_out"]) == (24, 16)
    assert rep["skipped"] == {"target_missing": 4, "text_mismatch": 4}
    assert rep["target_kind"] == "heldout"
    assert rep["utterances"] == 16
    assert vd.validate_data_dir(out / "parallel").ok
    # the parallel data dir holds every source and target
    utts = {u for u, _ in _read(out / "parallel" / "wav.scp")}
    assert utts == {s for _, s, _ in pairs} | {t for _, _, t in pairs}
    assert res.pairs.target_kind == "heldout"
    # seen targets: other seen speakers' readings of the same ids
    res2 = _prep(tree, tmp_path / "seen", pair_targets="seen")
    assert len(res2.pairs.pairs) == 12 * 3
    assert all(s.split("_")[0] != t.split("_")[0] for _, s, t in res2.pairs.pairs)


def test_mic2_p280_missing_audio_and_fallback(tree: Path, tmp_path: Path) -> None:
    res = _prep(tree, tmp_path / "m2", mic="mic2")
    skipped = [s for s in res.scan.skips if s.reason == "missing_audio"]
    assert sorted(s.spk for s in skipped) == ["p225"] + ["p280"] * 7 + ["p360"]
    p280 = [s for s in skipped if s.spk == "p280"]
    assert all("audio of mic1 (--mic_fallback uses it)" in s.detail for s in p280)
    assert "p226_005" in res.scan.utts and "p227_006" in res.scan.utts
    assert all(u.wav.endswith("_mic2.flac") for u in res.scan.utts.values())
    assert not [u for u in res.scan.utts.values() if u.spk == "p280"]

    res = _prep(tree, tmp_path / "fb", mic="mic2", mic_fallback=True)
    assert sum(s.reason == "missing_audio" for s in res.scan.skips) == 2
    p280 = [u for u in res.scan.utts.values() if u.spk == "p280"]
    assert len(p280) == 7 and all(u.mic == "mic1" for u in p280)
    used = sum(_report(tmp_path / "fb", n)["mic_fallback_used"] for n in dp.SETS)
    assert used == 7
    assert vd.validate_data_dir(tmp_path / "fb" / "train").ok


def test_speaker_info(tree: Path, tmp_path: Path) -> None:
    info = dp.read_speaker_info(tree / "speaker-info.txt")
    assert info.header.startswith("ID  AGE  GENDER  ACCENTS  REGION COMMENTS")
    assert info.rows["p280"].comment == "(mic2 files unavailable)"
    assert info.rows["p280"].region == "France"
    assert info.rows["p315"].comment == "(Text unavailable)"
    assert info.rows["p315"].region == "New England"
    assert info.gender("p226") == "m" and info.gender("p225") == "f"
    res = _prep(tree, tmp_path / "data")
    checks = res.inputs["speaker_info"]
    assert checks["rows_without_files"] == ["p999"]
    assert checks["speakers_without_row"] == []
    assert checks["speakers_without_txt_folder"] == ["p315"]


def test_speaker_without_row_is_kept(tree: Path, tmp_path: Path) -> None:
    lines = SPEAKER_INFO.splitlines(keepends=True)
    (tree / "speaker-info.txt").write_text(
        "".join(ln for ln in lines if not ln.startswith("p226")), encoding="utf-8"
    )
    out = tmp_path / "data"
    res = _prep(tree, out)
    assert res.inputs["speaker_info"]["speakers_without_row"] == ["p226"]
    assert "p226_004" in res.scan.utts or "p226_006" in res.scan.utts
    assert not (out / "train" / "spk2gender").exists()
    assert _report(out, "train")["speakers_without_gender"] == ["p226"]
    assert (out / "heldout" / "spk2gender").is_file()
    assert vd.validate_data_dir(out / "train").ok


def test_malformed_speaker_rows(tmp_path: Path) -> None:
    path = tmp_path / "speaker-info.txt"
    path.write_text(
        "ID  AGE  GENDER  ACCENTS  REGION COMMENTS \n"
        "p248  23  F    Indian  \n"
        "p250  22\n"
        "p251  26  X    Indian\n"
        "p248  24  F    Indian\n",
        encoding="utf-8",
    )
    info = dp.read_speaker_info(path)
    assert info.rows["p248"].region == "" and info.rows["p248"].age == "23"
    assert info.gender("p251") == ""
    assert [n for n, _, _ in info.malformed] == [3, 4]
    assert info.repeated == ["p248"]
    assert not dp.read_speaker_info(tmp_path / "missing.txt").found


def test_deterministic_and_rerun(tree: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _prep(tree, a)
    _prep(tree, b)
    _prep(tree, b)  # a second run over its own output: the same files
    for name in ("train", "dev", "test", "heldout", "parallel"):
        for f in ("wav.scp", "text", "utt2spk", "spk2utt", "spk2gender"):
            assert (a / name / f).read_bytes() == (b / name / f).read_bytes()
    devs = set()
    for seed in range(6):
        res = _prep(tree, tmp_path / f"s{seed}", seed=seed, num_test_shared=1)
        devs.add(tuple(sorted(res.sets["dev"].utts)))
        assert len(res.selection.test_ids) == 1
    assert len(devs) > 1  # the seed picks the dev sentences


def test_check_audio(tree: Path, tmp_path: Path) -> None:
    bad = tree / "wav48_silence_trimmed" / "p225" / "p225_004_mic1.flac"
    bad.write_bytes(b"this is not a flac file")
    res = _prep(tree, tmp_path / "a")
    assert "p225_004" in res.scan.utts
    res = _prep(tree, tmp_path / "b", check_audio=True)
    assert "p225_004" not in res.scan.utts
    assert [s.reason for s in res.scan.skips if s.item == str(bad)] == [
        "unreadable_audio"
    ]


def test_input_errors(tree: Path, tmp_path: Path) -> None:
    with pytest.raises(dp.InputError, match="did you mean"):
        dp.prepare(tree.parent, tmp_path / "x")
    with pytest.raises(dp.InputError, match="p999"):
        _prep(tree, tmp_path / "x", heldout_speakers=["p999"])
    with pytest.raises(dp.InputError, match="no training utterance"):
        _prep(tree, tmp_path / "x", heldout_speakers=SEEN + HELDOUT)
    assert not (tmp_path / "x").exists()
    with pytest.raises(dp.InputError, match="manifest.json"):
        _prep(tree, tmp_path / "x", heldout_from_manifest=True)


def test_no_heldout_pairs_with_seen(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    _prep(tree, out)
    assert (out / "heldout" / "wav.scp").is_file()
    res = _prep(tree, out, heldout_speakers=())  # the old heldout set is removed
    assert "heldout" not in res.written
    assert not (out / "heldout").exists()
    assert res.pairs.target_kind == "seen"
    assert len(res.pairs.pairs) > 0
    assert vd.validate_data_dir(out / "parallel").ok


def test_cli(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    argv = [
        "--vctk_root",
        str(tree),
        "--out",
        str(out),
        "--heldout_speakers",
        "p360 p361",
        "--num_dev",
        "1",
        "--num_test_own",
        "1",
    ]
    assert dp.main(argv) == 0
    assert set(json.loads((out / "prep_report.json").read_text())["written"]) == {
        "train",
        "dev",
        "test",
        "heldout",
        "parallel",
    }
    assert dp.main(["--vctk_root", str(tmp_path / "nothing"), "--out", str(out)]) == 1
