"""Tests of local/synth_corpus.py (the espeak-ng synthetic LibriSpeech-like corpus)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import struct
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

LOCAL = Path(__file__).resolve().parents[1] / "local"
if str(LOCAL) not in sys.path:
    sys.path.insert(0, str(LOCAL))

import data_prep_librispeech  # noqa: E402
import synth_corpus as sc  # noqa: E402
import validate_data_dir  # noqa: E402

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not on PATH (Debian/Ubuntu: apt-get install espeak-ng)",
)

TINY = sc.CorpusOptions(
    seed=3,
    num_sentences=30,
    num_voices=4,
    num_heldout_voices=1,
    num_dev=3,
    num_test=4,
    num_test_unseen=4,
    utts_per_chapter=5,
)
UTT_RE = re.compile(r"^(\d+)-(\d+)-(\d{4})$")
WORDS_RE = re.compile(r"^[A-Z']+( [A-Z']+)*$")


# ------------------------------------------------------------------ no espeak needed


def test_sentences_default_scale() -> None:
    opts = sc.CorpusOptions()
    sents = sc.generate_sentences(opts.num_sentences, opts.seed)
    texts = [s.transcript for s in sents]
    assert len(texts) >= 2000
    assert len(set(texts)) == len(texts)
    vocab = {w for t in texts for w in t.split()}
    assert len(vocab) >= 500
    for t in texts:
        assert 4 <= len(t.split()) <= 15, t
        assert WORDS_RE.match(t), t
    # deterministic, and the seed matters
    assert [s.transcript for s in sc.generate_sentences(50, opts.seed)] == texts[:50]
    assert [s.transcript for s in sc.generate_sentences(50, opts.seed + 1)] != texts[
        :50
    ]


def test_spoken_text_has_punctuation() -> None:
    s = sc.Sentence("DID YOU SEE IT", question=True)
    assert s.spoken == "did you see it?"
    assert sc.Sentence("HE RAN", question=False).spoken == "he ran."


def test_voices_distinct() -> None:
    voices = sc.make_voices(16, 4, seed=1)
    assert len(voices) == 16
    assert len({v.name for v in voices}) == 16
    assert len({v.speaker_id for v in voices}) == 16
    assert sum(v.heldout for v in voices) == 4
    assert {v.gender for v in voices} == {"M", "F"}
    assert {v.gender for v in voices if v.heldout} == {"M", "F"}
    for v in voices:
        assert 100 <= v.speaker_id <= 9999
        assert v.variant[0].upper() == v.gender
    assert sc.make_voices(16, 4, seed=1) == voices
    with pytest.raises(ValueError):
        sc.make_voices(3, 3, seed=1)


def test_default_plan_splits() -> None:
    utts, voices = sc.plan_corpus(sc.CorpusOptions())
    assert len(voices) >= 10
    by_split: dict[str, list[sc.Utterance]] = defaultdict(list)
    for u in utts:
        by_split[u.split].append(u)
    assert set(by_split) == set(sc.SPLITS)
    assert len({u.utt_id for u in utts}) == len(utts)
    sents = {s: {u.transcript for u in us} for s, us in by_split.items()}
    for split in ("dev", "test", "test_unseen_voices"):
        assert not sents[split] & sents["train"]
    assert not sents["dev"] & sents["test"]
    heldout = {v.speaker_id for v in voices if v.heldout}
    spk = {s: {u.speaker_id for u in us} for s, us in by_split.items()}
    assert spk["test_unseen_voices"] == heldout
    for split in ("train", "dev", "test"):
        assert not spk[split] & heldout
    assert spk["dev"] <= spk["train"] and spk["test"] <= spk["train"]
    for u in utts:
        m = UTT_RE.match(u.utt_id)
        assert m and int(m.group(1)) == u.speaker_id and int(m.group(2)) == u.chapter_id


def test_bad_options() -> None:
    with pytest.raises(ValueError):
        sc.CorpusOptions(
            num_sentences=10, num_dev=4, num_test=4, num_test_unseen=2
        ).validate()
    with pytest.raises(ValueError):
        sc.CorpusOptions(
            num_voices=4, num_heldout_voices=0, num_test_unseen=3
        ).validate()
    with pytest.raises(ValueError):
        sc.CorpusOptions(
            num_voices=4, num_heldout_voices=1, train_voices_per_sentence=4
        ).validate()
    assert sc.main(["--out", "/nonexistent/never", "--num_sentences", "5"]) == 2


def test_parse_wav_bytes_streaming_header() -> None:
    pcm = (np.arange(100, dtype="<i2") - 50).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, 22050, 44100, 2, 16)
    # espeak-ng --stdout writes placeholder sizes
    data = (
        b"RIFF"
        + struct.pack("<I", 0x7FFFF024)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
    )
    data += b"data" + struct.pack("<I", 0x7FFFF000) + pcm
    x, sr = sc.parse_wav_bytes(data)
    assert sr == 22050 and x.shape == (100,) and x[0] == -50
    with pytest.raises(ValueError):
        sc.parse_wav_bytes(b"not a wav file at all")


# ------------------------------------------------------------------ with espeak-ng


@pytest.fixture(scope="module")
def tiny_corpora(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """The same tiny corpus built twice (nj=2 and nj=1)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip(
            "espeak-ng is not on PATH (Debian/Ubuntu: apt-get install espeak-ng)"
        )
    a = tmp_path_factory.mktemp("synth_a")
    b = tmp_path_factory.mktemp("synth_b")
    manifest = sc.build_corpus(a, TINY, nj=2)
    sc.build_corpus(b, TINY, nj=1)
    return a, b, manifest


def _read_trans(root: Path, split: str) -> dict[str, str]:
    out = {}
    for t in sorted((root / split).glob("*/*/*.trans.txt")):
        for line in t.read_text(encoding="utf-8").splitlines():
            uid, text = line.split(" ", 1)
            out[uid] = text
    return out


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@needs_espeak
def test_layout(tiny_corpora: tuple[Path, Path, dict]) -> None:
    root, _, manifest = tiny_corpora
    assert (root / ".done").is_file()
    assert (root / "SPEAKERS.TXT").is_file()
    saved = json.loads((root / "manifest.json").read_text())
    assert saved["complete"] and saved["options"]["num_sentences"] == 30
    assert len(saved["voices"]) == 4
    total = 0
    for split in sc.SPLITS:
        trans = _read_trans(root, split)
        flacs = sorted((root / split).glob("*/*/*.flac"))
        assert {f.stem for f in flacs} == set(trans), split
        for f in flacs:
            spk, chap = f.parent.parent.name, f.parent.name
            m = UTT_RE.match(f.stem)
            assert m and m.group(1) == spk and m.group(2) == chap
            assert (f.parent / f"{spk}-{chap}.trans.txt").is_file()
            info = sf.info(str(f))
            assert info.samplerate == 16000 and info.channels == 1
            assert info.format == "FLAC" and info.subtype == "PCM_16"
            assert info.frames > 16000 * 0.5
        for text in trans.values():
            assert WORDS_RE.match(text) and 4 <= len(text.split()) <= 15
        assert manifest["summary"]["splits"][split]["utterances"] == len(trans)
        total += len(trans)
    assert total == 30
    assert {"train": 19, "dev": 3, "test": 4, "test_unseen_voices": 4} == {
        s: manifest["summary"]["splits"][s]["utterances"] for s in sc.SPLITS
    }
    # utts_per_chapter=5 splits the training speakers' utterances over several chapters
    assert manifest["summary"]["splits"]["train"]["chapters"] > 3
    # audio is not silence
    x, _ = sf.read(str(next((root / "train").glob("*/*/*.flac"))))
    assert np.abs(x).max() > 0.05
    speakers = [
        ln
        for ln in (root / "SPEAKERS.TXT").read_text().splitlines()
        if not ln.startswith(";")
    ]
    assert len(speakers) == 4
    assert sum("heldout" in ln for ln in speakers) == 1


@needs_espeak
def test_split_disjointness(tiny_corpora: tuple[Path, Path, dict]) -> None:
    root, _, manifest = tiny_corpora
    trans = {s: _read_trans(root, s) for s in sc.SPLITS}
    train_sents = set(trans["train"].values())
    for split in ("dev", "test", "test_unseen_voices"):
        assert not set(trans[split].values()) & train_sents, split
    spk = {s: {u.split("-")[0] for u in trans[s]} for s in sc.SPLITS}
    heldout = {str(v["speaker_id"]) for v in manifest["voices"] if v["heldout"]}
    assert spk["test_unseen_voices"] == heldout
    assert not heldout & (spk["train"] | spk["dev"] | spk["test"])
    assert (spk["dev"] | spk["test"]) <= spk["train"]


@needs_espeak
def test_deterministic(tiny_corpora: tuple[Path, Path, dict]) -> None:
    a, b, _ = tiny_corpora
    da, db = _tree_digest(a), _tree_digest(b)
    assert da.keys() == db.keys()
    # transcripts, metadata and the audio bytes themselves
    assert da == db


@needs_espeak
def test_resume_and_idempotent(
    tiny_corpora: tuple[Path, Path, dict], tmp_path: Path
) -> None:
    src, _, _ = tiny_corpora
    root = tmp_path / "corpus"
    shutil.copytree(src, root)
    again = sc.build_corpus(root, TINY, nj=1)
    assert again["synthesized"] == 0
    flacs = sorted(root.rglob("*.flac"))
    victim = flacs[3]
    before = {f: f.stat().st_mtime_ns for f in flacs if f != victim}
    victim.unlink()
    resumed = sc.build_corpus(root, TINY, nj=1)
    assert resumed["synthesized"] == 1
    assert victim.is_file() and (root / ".done").is_file()
    assert {f: f.stat().st_mtime_ns for f in before} == before
    assert _tree_digest(root) == _tree_digest(src)
    # an empty (e.g. interrupted) file is synthesized again
    victim.write_bytes(b"")
    (root / ".done").unlink()
    assert sc.build_corpus(root, TINY, nj=1)["synthesized"] == 1
    assert _tree_digest(root) == _tree_digest(src)


@needs_espeak
def test_other_options_refused(
    tiny_corpora: tuple[Path, Path, dict], tmp_path: Path
) -> None:
    src, _, _ = tiny_corpora
    root = tmp_path / "corpus"
    shutil.copytree(src, root)
    other = dataclasses.replace(TINY, seed=4)
    with pytest.raises(SystemExit):
        sc.build_corpus(root, other, nj=1)


@needs_espeak
def test_cli_and_data_prep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    rc = sc.main(
        [
            "--out",
            str(out),
            "--seed",
            "7",
            "--num_sentences",
            "12",
            "--num_voices",
            "3",
            "--num_heldout_voices",
            "1",
            "--num_dev",
            "2",
            "--num_test",
            "2",
            "--num_test_unseen",
            "2",
            "--nj",
            "1",
            "--log_level",
            "WARNING",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "test_unseen_voices" in printed and "vocabulary" in printed
    # the LibriSpeech data preparation runs unchanged on the synthetic tree
    dst = tmp_path / "data" / "train"
    assert (
        data_prep_librispeech.main(
            ["--src", str(out / "train"), "--dst", str(dst), "--check_audio"]
        )
        == 0
    )
    res = validate_data_dir.validate_data_dir(dst)
    assert res.ok, res.errors
    assert res.num_utts == 6
    assert (dst / "spk2gender").is_file()


@needs_espeak
def test_unlabeled_set_for_lm_pretraining(
    tiny_corpora: tuple[Path, Path, dict], tmp_path: Path
) -> None:
    """local/synth_unlabeled.py: new sentences and voices beside a corpus, none of
    them a sentence of any split or a held-out voice; deterministic, resumable, and
    shaped for the LibriSpeech data preparation."""
    import synth_unlabeled as su

    ref, _, manifest = tiny_corpora
    out = tmp_path / "unlab"
    m = su.build_unlabeled(out, ref, num_sentences=12, num_voices=5, seed=4, nj=2)
    assert m["complete"] and m["summary"]["utterances"] == 12
    trans = _read_trans(out, "train")
    assert len(trans) == 12 and len(set(trans.values())) == 12
    ref_sentences = {t for split in sc.SPLITS for t in _read_trans(ref, split).values()}
    assert not set(trans.values()) & ref_sentences
    heldout = {v["name"] for v in manifest["voices"] if v["heldout"]}
    voices = {v["name"] for v in m["voices"]}
    assert len(voices) == 5 and not voices & heldout
    # resumable: a lost file is made again, byte for byte
    digest = _tree_digest(out)
    lost = next(out.rglob("*.flac"))
    lost.unlink()
    (out / ".done").unlink()
    su.build_unlabeled(out, ref, num_sentences=12, num_voices=5, seed=4, nj=1)
    assert _tree_digest(out) == digest
    # other options in the same folder are refused, not mixed
    with pytest.raises(SystemExit):
        su.build_unlabeled(out, ref, num_sentences=13, num_voices=5, seed=4)
    # an unfinished reference is refused with a clear message
    with pytest.raises(SystemExit, match="not a complete"):
        su.build_unlabeled(tmp_path / "x", tmp_path / "nothing", 3, 2, 0)
    data_prep_librispeech.main(
        ["--src", str(out / "train"), "--dst", str(tmp_path / "d")]
    )
    assert len((tmp_path / "d/wav.scp").read_text().splitlines()) == 12
