#!/usr/bin/env python3
"""Build an offline English speech -> German text corpus in the shape of CoVoST 2.

The sentence pairs come from the synchronous grammar of ``local/st_grammar.py``; the
English side is read by espeak-ng voices (``local/synth_corpus.py``'s voices and
synthesis); the files are written in the layout of Common Voice v4 + CoVoST 2 by
``local/covost_layout.py``, so that the real corpus's data preparation
(``local/data_prep_covost2.py``) reads this one unchanged::

    <out>/validated.tsv                 Common Voice v4 columns
    <out>/clips/common_voice_en_<n>.mp3 48 kHz mono MP3
    <out>/covost_v2.en_de.tsv           path, translation, split
    <out>/manifest.json                 options, voices, per-split summary
    <out>/.done                         written last, when everything is complete

Splits (the ``split`` column):

* ``train``               seen voices, one voice per pair;
* ``dev`` / ``test``      seen voices, pairs never in ``train``;
* ``test_compositional``  seen voices, pairs whose combination (see st_grammar) never
                          occurs in ``train`` though each of their words does;
* ``test_unseen_voices``  the ``test`` pairs read by the held-out voices.

Deterministic from ``--seed``: the same seed gives the same pairs, voices, split
assignment and file names (and, espeak-ng being deterministic, the same audio).
Resumable: a clip that exists and is not empty is not synthesized again; a complete
corpus (``.done`` with the same options) is not touched; a corpus made with other
options is refused unless ``--overwrite``.

Example::

    python local/synth_st_corpus.py --out downloads/mini_synth_st --nj 2
    python local/synth_st_corpus.py --out /tmp/tiny --num_train 20 --num_dev 3 \\
        --num_test 3 --num_test_compositional 3 --num_voices 3 --num_heldout_voices 1
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from covost_layout import (  # noqa: E402
    INPUT_SAMPLE_RATE,
    clip_name,
    cv_row,
    write_clip,
    write_covost_tree,
)
from st_grammar import build_splits  # noqa: E402
from synth_common import check_existing, run_synth_jobs  # noqa: E402
from synth_corpus import ESPEAK_BIN, Voice, make_voices, synthesize  # noqa: E402

LOG = logging.getLogger("synth_st_corpus")

FORMAT_VERSION = 1
SPLITS: tuple[str, ...] = (
    "train",
    "dev",
    "test",
    "test_compositional",
    "test_unseen_voices",
)
FIRST_CLIP = 17000000  # clip numbers like Common Voice v4's English ones


@dataclass
class STCorpusOptions:
    """Options that determine the corpus content (recorded in manifest.json)."""

    seed: int = 0
    num_train: int = 4000
    num_dev: int = 150
    num_test: int = 150
    num_test_compositional: int = 150
    num_voices: int = 12
    num_heldout_voices: int = 4

    def validate(self) -> None:
        """Raise ValueError for inconsistent options."""
        if self.num_train < 1:
            raise ValueError("num_train must be >= 1")
        if min(self.num_dev, self.num_test, self.num_test_compositional) < 0:
            raise ValueError("split sizes must be >= 0")
        if self.num_heldout_voices < 0 or self.num_voices - self.num_heldout_voices < 1:
            raise ValueError("need at least one seen (training) voice")


@dataclass(frozen=True)
class Clip:
    """One planned utterance: a pair read by a voice, and where it goes."""

    split: str
    path: str  # clip file name
    en: str
    de: str
    voice: str
    gender: str
    pitch: int
    speed: int
    gap: int


def plan_corpus(opts: STCorpusOptions) -> tuple[list[Clip], list[Voice]]:
    """Every clip: its split, pair, voice (prosody jittered per clip) and name."""
    opts.validate()
    splits = build_splits(
        opts.seed,
        opts.num_train,
        opts.num_dev,
        opts.num_test,
        opts.num_test_compositional,
    )
    voices = make_voices(opts.num_voices, opts.num_heldout_voices, opts.seed)
    seen = [v for v in voices if not v.heldout]
    heldout = [v for v in voices if v.heldout]
    rng = random.Random(f"synth-st-plan-{opts.seed}")
    seen_order = list(seen)
    rng.shuffle(seen_order)
    assign: list[tuple[str, Any, Voice]] = []
    for offset, split in enumerate(("train", "dev", "test", "test_compositional")):
        for j, pair in enumerate(splits[split]):
            assign.append((split, pair, seen_order[(j + offset) % len(seen_order)]))
    if heldout:
        for j, pair in enumerate(splits["test"]):
            assign.append(("test_unseen_voices", pair, heldout[j % len(heldout)]))
    elif splits["test"]:
        LOG.warning("no held-out voice: test_unseen_voices is empty")
    jitter = random.Random(f"synth-st-jitter-{opts.seed}")
    clips = []
    for i, (split, pair, v) in enumerate(assign):
        clips.append(
            Clip(
                split=split,
                path=clip_name(FIRST_CLIP + i),
                en=pair.en,
                de=pair.de,
                voice=v.name,
                gender=v.gender,
                pitch=min(99, max(0, v.pitch + jitter.randint(-4, 4))),
                speed=int(round(v.speed * jitter.uniform(0.93, 1.07))),
                gap=v.gap,
            )
        )
    return clips, voices


def _synth_job(args: tuple[str, Clip]) -> tuple[str, int, bool]:
    """Worker: make one clip unless it exists; returns (path, samples at 16 kHz,
    made)."""
    root, clip = args
    path = Path(root) / "clips" / clip.path
    if path.is_file() and path.stat().st_size > 0:
        try:
            info = sf.info(str(path))
            return (
                clip.path,
                round(info.frames * INPUT_SAMPLE_RATE / info.samplerate),
                False,
            )
        except RuntimeError:
            LOG.warning("unreadable existing clip, synthesizing again: %s", path)
    audio = synthesize(clip.en, clip.voice, clip.pitch, clip.speed, clip.gap)
    write_clip(path, audio)
    return clip.path, int(audio.shape[0]), True


def _summary(clips: list[Clip], samples: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split in SPLITS:
        group = [c for c in clips if c.split == split]
        out[split] = {
            "utterances": len(group),
            "hours": sum(samples.get(c.path, 0) for c in group)
            / INPUT_SAMPLE_RATE
            / 3600.0,
            "speakers": len({c.voice for c in group}),
            "en_words": sum(len(c.en.split()) for c in group),
            "de_words": sum(len(c.de.split()) for c in group),
        }
    return out


def build_corpus(
    out: str | Path, opts: STCorpusOptions, nj: int = 2, overwrite: bool = False
) -> dict[str, Any]:
    """Build (or complete) the corpus in ``out``; returns the manifest dict (with
    ``synthesized``: the clips this call made)."""
    if shutil.which(ESPEAK_BIN) is None:
        raise SystemExit(
            f"{ESPEAK_BIN} not found on PATH (Debian/Ubuntu: apt-get install espeak-ng)"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    key = {"format_version": FORMAT_VERSION, **asdict(opts)}
    # a corpus made with other options: refused, or with overwrite, out is emptied
    check_existing(out, key, overwrite, ours=None, log=LOG)
    (out / "clips").mkdir(exist_ok=True)
    manifest_path, done = out / "manifest.json", out / ".done"
    t0 = time.time()
    clips, voices = plan_corpus(opts)
    LOG.info(
        "planned %d clips (%s), %d voices (%d held out)",
        len(clips),
        ", ".join(f"{s}={sum(c.split == s for c in clips)}" for s in SPLITS),
        len(voices),
        sum(v.heldout for v in voices),
    )
    if done.is_file() and manifest_path.is_file():
        if all((out / "clips" / c.path).is_file() for c in clips):
            LOG.info("corpus in %s is complete (.done); nothing to do", out)
            return json.loads(manifest_path.read_text(encoding="utf-8")) | {
                "synthesized": 0
            }
        LOG.warning("%s has .done but clips are missing: resuming", out)
        done.unlink()
    manifest: dict[str, Any] = {
        "description": "espeak-ng English speech -> German text, CoVoST 2 layout "
        "(local/synth_st_corpus.py)",
        "options": key,
        "voices": [asdict(v) | {"name": v.name} for v in voices],
        "complete": False,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    jobs = [(str(out), c) for c in clips]
    samples, made = run_synth_jobs(_synth_job, jobs, nj, t0, LOG)
    # the tsv files after the audio: a partial build never lists a clip it lacks
    write_covost_tree(
        out,
        [cv_row(c.voice, c.path, c.en, gender=c.gender) for c in clips],
        [{"path": c.path, "translation": c.de, "split": c.split} for c in clips],
    )
    manifest |= {"summary": _summary(clips, samples), "complete": True}
    tmp = manifest_path.with_name(".manifest.json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, manifest_path)
    done.write_text("complete\n", encoding="utf-8")
    LOG.info("synthesized %d of %d clips in %.1fs", made, len(clips), time.time() - t0)
    return manifest | {"synthesized": made}


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    d = STCorpusOptions()
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--num_train", type=int, default=d.num_train)
    p.add_argument("--num_dev", type=int, default=d.num_dev)
    p.add_argument("--num_test", type=int, default=d.num_test)
    p.add_argument(
        "--num_test_compositional", type=int, default=d.num_test_compositional
    )
    p.add_argument("--num_voices", type=int, default=d.num_voices)
    p.add_argument("--num_heldout_voices", type=int, default=d.num_heldout_voices)
    p.add_argument("--nj", type=int, default=2, help="parallel espeak-ng jobs")
    p.add_argument("--overwrite", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    opts = STCorpusOptions(
        seed=args.seed,
        num_train=args.num_train,
        num_dev=args.num_dev,
        num_test=args.num_test,
        num_test_compositional=args.num_test_compositional,
        num_voices=args.num_voices,
        num_heldout_voices=args.num_heldout_voices,
    )
    try:
        manifest = build_corpus(args.out, opts, nj=args.nj, overwrite=args.overwrite)
    except ValueError as e:
        LOG.error("%s", e)
        return 1
    for split, d in manifest["summary"].items():
        LOG.info(
            "%-20s %6d utterances %7.3f h %3d voices",
            split,
            d["utterances"],
            d["hours"],
            d["speakers"],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
