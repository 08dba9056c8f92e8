"""Tests of local/synth_vctk_corpus.py (the espeak-ng corpus in the VCTK 0.92 layout).

The plan, the texts and the voice table are checked without espeak-ng; a tiny build
(3 voices x 2 shared + 1 own sentence) needs it and is skipped without it.
Resemblyzer is not run here (``--check_voices`` takes about a minute); only the
summary it prints is tested, on made-up embeddings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

LOCAL = Path(__file__).resolve().parents[1] / "local"
if str(LOCAL) not in sys.path:
    sys.path.insert(0, str(LOCAL))

import data_prep_vctk as dp  # noqa: E402
import synth_vctk_corpus as sv  # noqa: E402
import validate_data_dir as vd  # noqa: E402

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not on PATH (Debian/Ubuntu: apt-get install espeak-ng)",
)
TINY = sv.VctkCorpusOptions(
    seed=3, num_voices=3, num_heldout=1, num_shared=2, num_own=1
)
SENTENCE_RE = re.compile(r"^[A-Z][A-Za-z' ,\-]*[A-Za-z][.?]$")


# ------------------------------------------------------------------ no espeak needed


def test_voice_table() -> None:
    table = sv.VOICE_TABLE
    assert len(table) >= 12
    assert len({(v.base, v.variant) for v in table}) == len(table)
    assert len({v.variant for v in table}) == len(table)  # one setting per timbre
    genders = [v.gender for v in table]
    assert genders.count("F") == genders.count("M")
    for n in range(1, len(table) + 1):  # every prefix about as many F as M
        assert abs(genders[:n].count("F") * 2 - n) <= 2, n
    for v in table:
        assert v.base in sv.ACCENTS
        assert v.gender in ("M", "F")
        assert 0 <= v.pitch <= 99 and 80 <= v.speed <= 450


def test_plan_deterministic() -> None:
    utts, speakers = sv.plan_corpus(TINY)
    utts2, speakers2 = sv.plan_corpus(dataclasses.replace(TINY))
    assert utts == utts2 and speakers == speakers2
    assert [u.utt_id for u in utts] == [
        f"{s.spk}_{n:03d}" for s in speakers for n in (1, 2, 3)
    ]
    assert [sp.voice.heldout for sp in speakers] == [False, False, True]
    ids = [int(sp.spk[1:]) for sp in speakers]
    assert ids == sorted(ids) and all(225 <= i <= 376 for i in ids)
    assert not {280, 315} & set(ids)
    other, other_spk = sv.plan_corpus(dataclasses.replace(TINY, seed=4))
    assert [u.utt_id for u in other] != [u.utt_id for u in utts] or [
        u.text for u in other
    ] != [u.text for u in utts]
    assert [sp.voice.name for sp in other_spk] == [sp.voice.name for sp in speakers]


def test_plan_sentences() -> None:
    opts = sv.VctkCorpusOptions(seed=1, num_voices=5, num_heldout=2, num_own=30)
    utts, speakers = sv.plan_corpus(opts)
    assert len(utts) == 5 * (24 + 30)
    by_spk: dict[str, list[sv.VctkUtt]] = {}
    for u in utts:
        by_spk.setdefault(u.spk, []).append(u)
    shared = [[u.text for u in us if u.shared] for us in by_spk.values()]
    assert all(s == list(sv.SHARED_SENTENCES) for s in shared)
    own = [u.text for u in utts if not u.shared]
    assert len({sv.normalize_text(t) for t in own}) == len(own) == 5 * 30
    assert not {sv.normalize_text(t) for t in own} & {
        sv.normalize_text(t) for t in sv.SHARED_SENTENCES
    }
    for u in utts:
        assert SENTENCE_RE.match(u.text), u.text
        assert u.shared == (int(u.num) <= 24)
    # more shared sentences than the fixed list: topped up from the grammar
    more = sv.VctkCorpusOptions(num_voices=2, num_heldout=0, num_shared=30, num_own=2)
    shared, own2 = sv.corpus_sentences(more)
    assert shared[:24] == list(sv.SHARED_SENTENCES) and len(shared) == 30
    assert len(set(shared + own2)) == 34


def test_vctk_case() -> None:
    assert sv.vctk_case("DID MARY SEE THE DOG ON MONDAY", True) == (
        "Did Mary see the dog on Monday?"
    )
    assert sv.vctk_case("THE BOY COULDN'T FIND I", False) == (
        "The boy couldn't find I."
    )
    assert sv.normalize_text("Please, call Stella!") == "please call stella"


@pytest.mark.parametrize(
    "kw",
    [
        dict(num_voices=0),
        dict(num_voices=len(sv.VOICE_TABLE) + 1),
        dict(num_heldout=3, num_voices=3),
        dict(num_shared=0, num_own=0),
        dict(num_own=-1),
    ],
)
def test_options_validate(kw: dict) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(TINY, **kw).validate()


def test_speaker_info_roundtrip(tmp_path: Path) -> None:
    _, speakers = sv.plan_corpus(sv.VctkCorpusOptions())
    text = sv.speaker_info_text(speakers)
    assert text.startswith("ID  AGE  GENDER  ACCENTS  REGION COMMENTS \n")
    (tmp_path / "speaker-info.txt").write_text(text, encoding="utf-8")
    info = dp.read_speaker_info(tmp_path / "speaker-info.txt")
    assert not info.malformed
    for sp in speakers:
        row = info.rows[sp.spk]
        assert row.gender == sp.voice.gender.lower()
        assert (row.accent, row.region) == (sp.accent, sp.region)
        assert row.comment == sp.comment and sp.voice.name in row.comment


def test_mic2() -> None:
    t = np.arange(48000) / 48000
    mic1 = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    mic2 = sv.mic2_from_mic1(mic1)
    assert mic2.shape[0] == mic1.shape[0] + sv.MIC2_DELAY
    assert np.all(mic2[: sv.MIC2_DELAY] == 0)
    ratio = np.sqrt(np.mean(mic2[4800:] ** 2) / np.mean(mic1[4800:] ** 2))
    assert 0.65 < ratio < 0.75  # -3 dB at 440 Hz, above the high-pass
    y = sv.to_48k(np.zeros(160, dtype=np.float32))
    assert y.shape == (480,) and y.dtype == np.float32


def test_similarity_summary() -> None:
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 16))
    emb = {}
    for i, c in enumerate(centers):
        x = c + 0.1 * rng.normal(size=(3, 16))
        emb[f"v{i}"] = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = sv.similarity_summary(emb)
    assert s["voices"] == 3 and s["separated"]
    assert s["within_min"] > 0.9 > s["between_max"]
    assert s["between_mean"] <= s["between_max"]
    assert set(s["nearest"]) == set(emb)


# ------------------------------------------------------------------ espeak-ng builds


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@needs_espeak
def test_tiny_build_layout_resume_and_prep(tmp_path: Path) -> None:
    out = tmp_path / "vctk"
    man = sv.build_corpus(out, TINY, nj=1)
    utts, speakers = sv.plan_corpus(TINY)
    assert man["synthesized"] == 2 * len(utts) == 18
    assert (out / ".done").is_file()
    saved = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert saved["complete"] and saved["options"]["seed"] == 3
    assert saved["heldout_speakers"] == [speakers[-1].spk]
    assert saved["shared_ids"] == ["001", "002"] and saved["own_ids"] == ["003"]
    assert saved["summary"]["utterances"] == 9
    # the layout: exactly the VCTK files, nothing else
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    expect = {"speaker-info.txt", "manifest.json", ".done"}
    for u in utts:
        expect |= {u.txt_relpath(), u.wav_relpath("mic1"), u.wav_relpath("mic2")}
    assert files == expect
    u = utts[0]
    assert u.txt_relpath() == f"txt/{u.spk}/{u.spk}_001.txt"
    assert (out / u.txt_relpath()).read_text(encoding="utf-8") == u.text + "\n"
    for mic in sv.MICS:
        info = sf.info(str(out / u.wav_relpath(mic)))
        assert (info.samplerate, info.channels, info.subtype) == (48000, 1, "PCM_16")
    n1 = sf.info(str(out / u.wav_relpath("mic1"))).frames
    n2 = sf.info(str(out / u.wav_relpath("mic2"))).frames
    assert n2 == n1 + sv.MIC2_DELAY and n1 > 48000 // 2
    digest = _tree_digest(out)

    # resume: complete -> nothing; a lost file -> only it, with the same bytes
    assert sv.build_corpus(out, TINY, nj=1)["synthesized"] == 0
    (out / utts[4].wav_relpath("mic2")).unlink()
    (out / utts[5].wav_relpath("mic1")).write_bytes(b"")
    (out / utts[6].txt_relpath()).unlink()
    assert sv.build_corpus(out, TINY, nj=1)["synthesized"] == 2
    assert _tree_digest(out) == digest
    # deterministic: another directory, two processes, the same bytes
    other = tmp_path / "other"
    sv.build_corpus(other, TINY, nj=2)
    assert _tree_digest(other) == digest

    # other options are refused, unless --overwrite
    bigger = dataclasses.replace(TINY, num_own=2)
    with pytest.raises(SystemExit, match="other options"):
        sv.build_corpus(out, bigger, nj=1)
    assert sv.build_corpus(other, bigger, nj=2, overwrite=True)["synthesized"] == 24

    # the VCTK data preparation reads it
    data = tmp_path / "data"
    res = dp.prepare(
        out,
        data,
        heldout_from_manifest=True,
        num_dev=0,
        num_test_own=0,
        num_test_shared=1,
    )
    assert not res.scan.skips
    assert res.selection.shared_ids == ["001", "002"]
    assert len(res.sets["heldout"].utts) == 3
    assert len(res.sets["test"].utts) == 2 and len(res.sets["train"].utts) == 4
    assert len(res.pairs.pairs) == 2
    for name in res.written:
        assert vd.validate_data_dir(data / name).ok, name
    g = dict(vd.read_kaldi_file(data / "train" / "spk2gender").entries)
    assert g == {
        sp.spk: sp.voice.gender.lower() for sp in speakers if not sp.voice.heldout
    }
    res2 = dp.prepare(out, tmp_path / "data2", mic="mic2", num_test_shared=1)
    assert not res2.scan.skips and "heldout" not in res2.written


@needs_espeak
def test_refuses_foreign_tree(tmp_path: Path) -> None:
    (tmp_path / "txt" / "p225").mkdir(parents=True)
    with pytest.raises(SystemExit, match="no manifest.json"):
        sv.build_corpus(tmp_path, TINY, nj=1)


def test_cli_errors(tmp_path: Path) -> None:
    assert sv.main(["--out", str(tmp_path), "--num_voices", "0"]) == 2
    with pytest.raises(SystemExit):
        sv.main([])  # --out is required without --check_voices
