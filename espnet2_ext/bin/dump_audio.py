#!/usr/bin/env python3
"""Write a wav.scp's audio as mono 16-bit WAV files at one sample rate.

ESPnet's TTS data loader (``sound``) reads files at their own rate, while the VC
model's target (``feats_extract: fbank``, fs 16000, hop 320) must be computed at the
rate of the units (16 kHz). VCTK is 48 kHz FLAC: this makes the 16 kHz copies
(``espnet2_ext.units.audio.load_audio``: channels averaged, windowed-sinc resampling).

Writes ``<out_dir>/wav/<utt>.wav``, ``<out_dir>/wav.scp`` (absolute paths, in the input
order), ``<out_dir>/skipped.txt`` (``<utt> <reason>``) and ``<out_dir>/dump_audio.json``
(``in``, ``out``, ``skipped``, ``skipped_by_reason``). An existing file is kept
(a rerun only writes what is missing).
"""

import argparse
import json
import logging
import os
import sys
from collections import Counter
from typing import List, Optional

import numpy as np
import soundfile as sf

from espnet2_ext.units.audio import AudioError, load_audio


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--wav_scp", required=True)
    p.add_argument("--out_dir", required=True)
    p.add_argument("--fs", type=int, default=16000, help="output sample rate")
    p.add_argument("--min_duration", type=float, default=0.1, help="seconds")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    wav_dir = os.path.abspath(os.path.join(args.out_dir, "wav"))
    os.makedirs(wav_dir, exist_ok=True)
    rows, skipped, reasons = [], [], Counter()
    n_in = 0
    with open(args.wav_scp, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            n_in += 1
            key, entry = line.rstrip("\n").split(maxsplit=1)
            path = os.path.join(wav_dir, f"{key}.wav")
            if not os.path.isfile(path):
                try:
                    wav = load_audio(
                        entry, target_sr=args.fs, min_duration=args.min_duration
                    ).numpy()
                except AudioError as e:
                    reason = getattr(e, "reason", type(e).__name__)
                    skipped.append(f"{key} {reason}")
                    reasons[reason] += 1
                    logging.warning("%s: skipped (%s)", key, e)
                    continue
                pcm = np.clip(wav, -1.0, 1.0)
                sf.write(path, pcm, args.fs, subtype="PCM_16")
            rows.append(f"{key} {path}")
    with open(os.path.join(args.out_dir, "wav.scp"), "w", encoding="utf-8") as f:
        f.write("".join(r + "\n" for r in rows))
    with open(os.path.join(args.out_dir, "skipped.txt"), "w", encoding="utf-8") as f:
        f.write("".join(r + "\n" for r in skipped))
    info = dict(
        n_in=n_in, out=len(rows), skipped=len(skipped), skipped_by_reason=reasons
    )
    info["in"] = info.pop("n_in")
    with open(os.path.join(args.out_dir, "dump_audio.json"), "w") as f:
        json.dump(info, f, indent=2)
    logging.info(
        "%s: in=%d out=%d skipped=%d", args.wav_scp, n_in, len(rows), len(skipped)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
