#!/usr/bin/env python3
"""Synthesize extra speech for unit LM pre-training beside a synth_corpus.py corpus.

The paper pre-trains its unit LM on large-scale unlabeled speech; this makes the
offline stand-in. Given the labeled corpus (``--reference``, built by
``local/synth_corpus.py``), it writes a LibriSpeech-shaped ``train`` split under
``--out`` with:

* **new sentences** from the same grammar and lexicon (the reference's
  ``words_per_class``, ``min_words`` and ``max_words``), none of them a sentence of any
  reference split, so that no dev or test sentence reaches the LM;
* **new voices**: espeak-ng voice + variant combinations with their own pitch, speed and
  gap, none of them a held-out voice of the reference, so that ``test_unseen_voices``
  stays unseen.

Transcripts are written too (the LibriSpeech layout has them), but the recipes use this
speech only for the unit LM: its units never reach an ASR training. The build is
resumable and deterministic from ``--seed`` like synth_corpus.py's.

Example::

    python local/synth_unlabeled.py --reference downloads/mini_synth \\
        --out downloads/mini_synth_unlab --num_sentences 18000 --nj 2
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_common import check_existing, run_synth_jobs  # noqa: E402
from synth_corpus import (  # noqa: E402
    BASE_VOICES,
    ESPEAK_BIN,
    FEMALE_VARIANTS,
    MALE_VARIANTS,
    TARGET_SAMPLE_RATE,
    Utterance,
    Voice,
    _speaker_minutes,
    _speakers_txt,
    _synth_job,
    _write_text_atomic,
    generate_sentences,
    make_voices,
)

LOG = logging.getLogger("synth_unlabeled")
FORMAT_VERSION = 1


def reference_info(reference: Path) -> tuple[dict[str, Any], set[str], set[str]]:
    """The reference corpus's options, all its transcripts, its held-out voice names."""
    manifest_path = reference / "manifest.json"
    if not (reference / ".done").is_file() or not manifest_path.is_file():
        raise SystemExit(
            f"{reference} is not a complete synth_corpus.py corpus (no .done / "
            "manifest.json): build it first"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    sentences = {
        line.split(" ", 1)[1].strip()
        for trans in reference.glob("*/*/*/*.trans.txt")
        for line in trans.read_text(encoding="utf-8").splitlines()
        if " " in line
    }
    if not sentences:
        raise SystemExit(f"{reference}: no transcripts found")
    heldout = {v["name"] for v in manifest["voices"] if v["heldout"]}
    return manifest["options"], sentences, heldout


def plan_unlabeled(
    ref_options: dict[str, Any],
    ref_sentences: set[str],
    ref_heldout: set[str],
    num_sentences: int,
    num_voices: int,
    seed: int,
    utts_per_chapter: int = 100,
) -> tuple[list[Utterance], list[Voice]]:
    """Every utterance of the extra set: new sentences spread over new voices."""
    if num_sentences < 1:
        raise ValueError("num_sentences must be >= 1")
    # over-generate, then drop the reference's sentences (the grammar's space is large,
    # so a few percent margin is plenty; a shortfall is an error, not a silent cut)
    pool = generate_sentences(
        num_sentences + len(ref_sentences),
        seed,
        ref_options["min_words"],
        ref_options["max_words"],
        ref_options["words_per_class"],
    )
    sentences = [s for s in pool if s.transcript not in ref_sentences][:num_sentences]
    if len(sentences) < num_sentences:
        raise RuntimeError(
            f"only {len(sentences)} sentences outside the reference of {num_sentences}"
        )
    # make_voices alternates genders: as many of each as the smaller pool allows
    most = 2 * len(BASE_VOICES) * min(len(MALE_VARIANTS), len(FEMALE_VARIANTS))
    candidates = make_voices(most, 0, seed)
    voices = [v for v in candidates if v.name not in ref_heldout][:num_voices]
    if len(voices) < num_voices:
        raise ValueError(f"at most {len(voices)} voices outside the held-out ones")
    rng = random.Random(f"synth-unlab-plan-{seed}")
    jitter = random.Random(f"synth-unlab-jitter-{seed}")
    by_voice: dict[int, list[int]] = defaultdict(list)
    for i in range(len(sentences)):
        by_voice[voices[i % len(voices)].speaker_id].append(i)
    chapter_ids = iter(rng.sample(range(300001, 900000), len(sentences)))
    utts: list[Utterance] = []
    for v in sorted(voices, key=lambda x: x.speaker_id):
        idx = by_voice[v.speaker_id]
        for c0 in range(0, len(idx), utts_per_chapter):
            chapter = next(chapter_ids)
            for n, s in enumerate(idx[c0 : c0 + utts_per_chapter]):
                utts.append(
                    Utterance(
                        split="train",
                        utt_id=f"{v.speaker_id}-{chapter}-{n:04d}",
                        speaker_id=v.speaker_id,
                        chapter_id=chapter,
                        transcript=sentences[s].transcript,
                        spoken=sentences[s].spoken,
                        voice=v.name,
                        pitch=min(99, max(0, v.pitch + jitter.randint(-4, 4))),
                        speed=int(round(v.speed * jitter.uniform(0.93, 1.07))),
                        gap=v.gap,
                    )
                )
    return utts, voices


def build_unlabeled(
    out: Path,
    reference: Path,
    num_sentences: int,
    num_voices: int,
    seed: int,
    nj: int = 2,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Build (or complete) the extra set in ``out``; returns its manifest."""
    if shutil.which(ESPEAK_BIN) is None:
        raise SystemExit(f"{ESPEAK_BIN} not found on PATH (apt-get install espeak-ng)")
    ref_options, ref_sentences, ref_heldout = reference_info(reference)
    key = {
        "format_version": FORMAT_VERSION,
        "reference_options": ref_options,
        "num_sentences": num_sentences,
        "num_voices": num_voices,
        "seed": seed,
    }
    out.mkdir(parents=True, exist_ok=True)
    check_existing(
        out, key, overwrite, ours=("train", "SPEAKERS.TXT"), markers=("train",),
        what="split directories", log=LOG,
    )  # fmt: skip
    t0 = time.time()
    utts, voices = plan_unlabeled(
        ref_options, ref_sentences, ref_heldout, num_sentences, num_voices, seed
    )
    done = out / ".done"
    manifest_path = out / "manifest.json"
    if done.is_file() and all((out / u.relpath()).is_file() for u in utts):
        LOG.info("extra set in %s is complete (.done); nothing to do", out)
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    done.unlink(missing_ok=True)
    manifest: dict[str, Any] = {
        "description": "espeak-ng speech for unit LM pre-training "
        "(local/synth_unlabeled.py); no sentence or held-out voice of the reference",
        "options": key,
        "reference": str(reference),
        "sample_rate": TARGET_SAMPLE_RATE,
        "voices": [asdict(v) | {"name": v.name} for v in voices],
        "complete": False,
    }
    _write_text_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
    samples, made = run_synth_jobs(
        _synth_job, [(str(out), u) for u in utts], nj, t0, LOG
    )
    by_chapter: dict[tuple[int, int], list[Utterance]] = defaultdict(list)
    for u in utts:
        by_chapter[(u.speaker_id, u.chapter_id)].append(u)
    for (spk, chap), group in by_chapter.items():
        _write_text_atomic(
            out / "train" / str(spk) / str(chap) / f"{spk}-{chap}.trans.txt",
            "".join(f"{u.utt_id} {u.transcript}\n" for u in group),
        )
    _write_text_atomic(
        out / "SPEAKERS.TXT", _speakers_txt(voices, _speaker_minutes(utts, samples))
    )
    hours = sum(samples.values()) / TARGET_SAMPLE_RATE / 3600
    manifest |= {
        "complete": True,
        "summary": {"utterances": len(utts), "hours": round(hours, 3)},
    }
    _write_text_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
    done.write_text("complete\n", encoding="utf-8")
    LOG.info(
        "%d utterances (%d synthesized now), %.2f h, %d voices in %.0f s -> %s",
        len(utts), made, hours, len(voices), time.time() - t0, out,
    )  # fmt: skip
    return manifest


def get_parser() -> argparse.ArgumentParser:
    """Command-line parser."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--reference", required=True, help="the labeled synth_corpus.py corpus"
    )
    p.add_argument("--out", required=True, help="output root (LibriSpeech-shaped)")
    p.add_argument("--num_sentences", type=int, default=18000)
    p.add_argument("--num_voices", type=int, default=24)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--nj", type=int, default=2, help="parallel synthesis processes")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--log_level", default="INFO")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    m = build_unlabeled(
        Path(args.out), Path(args.reference), args.num_sentences, args.num_voices,
        args.seed, nj=args.nj, overwrite=args.overwrite,
    )  # fmt: skip
    print(f"{m['summary']['utterances']} utterances, {m['summary']['hours']} h")
    return 0


if __name__ == "__main__":
    sys.exit(main())
