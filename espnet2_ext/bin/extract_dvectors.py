#!/usr/bin/env python3
"""Resemblyzer d-vectors (256-dim speaker embeddings) for a Kaldi wav.scp.

    python -m espnet2_ext.bin.extract_dvectors --wav_scp data/train/wav.scp \\
        --utt2spk data/train/utt2spk --out_dir dump/xvector/train

Written the way ESPnet's TTS task reads speaker embeddings (``spembs``): Kaldi float
vectors in an ark with an scp index, read by kaldiio. Outputs in ``out_dir``:

* ``xvector.ark`` / ``xvector.scp``: one vector per utterance, in wav.scp order
  (``--train_data_path_and_name_and_type out_dir/xvector.scp,spembs,kaldi_ark``);
* ``spk_xvector.ark`` / ``spk_xvector.scp`` (with ``--utt2spk``, unless
  ``--spk_average false``): one vector per speaker, the mean of its utterances'
  vectors renormalised to unit length (Resemblyzer's speaker embedding);
* ``skipped.txt``: ``utt_id reason detail`` for every utterance left out;
* ``dvectors.json``: the counts (in / out / skipped by reason, speakers), written last.

Each utterance is loaded with :func:`espnet2_ext.units.audio.load_audio` (mono, 16
kHz) and embedded exactly as the VC speaker-similarity metric does
(:meth:`espnet2_ext.metrics.vc.SpeakerSimilarity.embed`: level normalisation, WebRTC
VAD silence trimming, mean of 1.6 s windows, unit L2 norm), so that the conditioning
of the model and its evaluation use one embedding. Exit status: 0 on success
(including skipped utterances), 1 when there was input but no output, 2 on usage
errors.
"""

import argparse
import json
import logging
import os
import time
from collections import defaultdict
from typing import Dict, List, Optional

import numpy as np

from espnet2_ext.units.audio import AudioError, load_audio
from espnet2_ext.utils.shards import (
    Tally,
    atomic_write_text,
    progress,
    read_scp,
    setup_logging,
)

REASON_DUPLICATE = "duplicate_id"
REASON_EMBED = "embedding_failed"
REASON_NON_FINITE = "non_finite"
REASON_NO_SPEAKER = "no_speaker"  # not in utt2spk: no speaker average, vector kept


def str2bool(v: str) -> bool:
    if v.lower() in ("true", "1", "yes"):
        return True
    if v.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {v!r}")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Resemblyzer d-vectors of a wav.scp as Kaldi xvector.scp",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--wav_scp", required=True, help="Kaldi wav.scp")
    p.add_argument("--out_dir", required=True)
    p.add_argument(
        "--utt2spk", default=None, help="Kaldi utt2spk (for the speaker averages)"
    )
    p.add_argument(
        "--spk_average",
        type=str2bool,
        default=True,
        help="write spk_xvector.{ark,scp} (needs --utt2spk)",
    )
    p.add_argument("--device", default="cpu", help="torch device of the encoder")
    p.add_argument("--min_duration", type=float, default=0.1, help="seconds")
    p.add_argument(
        "--max_duration", type=float, default=None, help="seconds (no limit if unset)"
    )
    p.add_argument(
        "--allow_pipe", type=str2bool, default=True, help="run 'cmd |' wav.scp entries"
    )
    p.add_argument("--log_level", default="INFO")
    return p


def speaker_means(
    vectors: Dict[str, np.ndarray], utt2spk: Dict[str, str]
) -> Dict[str, np.ndarray]:
    """Per-speaker mean of unit vectors, renormalised (speakers sorted by id)."""
    groups: Dict[str, List[np.ndarray]] = defaultdict(list)
    for utt, vec in vectors.items():
        if utt in utt2spk:
            groups[utt2spk[utt]].append(vec)
    out = {}
    for spk in sorted(groups):
        mean = np.mean(np.stack(groups[spk]), axis=0)
        norm = float(np.linalg.norm(mean))
        out[spk] = (mean / norm if norm > 0 else mean).astype(np.float32)
    return out


def write_vectors(vectors: Dict[str, np.ndarray], ark: str, scp: str) -> None:
    """Kaldi float-vector ark + scp (kaldiio), in the dict's order."""
    import kaldiio

    with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}") as writer:
        for key, vec in vectors.items():
            writer(key, vec)


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        entries = read_scp(args.wav_scp)
        utt2spk = dict(read_scp(args.utt2spk)) if args.utt2spk else {}
    except OSError as e:
        logging.error("%s", e)
        return 2
    averaging = bool(args.utt2spk) and args.spk_average
    if args.spk_average and not args.utt2spk:
        logging.info("no --utt2spk: per-utterance vectors only")
    os.makedirs(args.out_dir, exist_ok=True)
    info_path = os.path.join(args.out_dir, "dvectors.json")
    if os.path.exists(info_path):  # written last: present only for a finished run
        os.remove(info_path)

    from espnet2_ext.metrics.vc import SpeakerSimilarity

    encoder = SpeakerSimilarity(device=args.device)
    tally = Tally("extract_dvectors")
    vectors: Dict[str, np.ndarray] = {}
    seen = set()
    t0 = time.time()
    for key, value in progress(entries, total=len(entries), desc="extract_dvectors"):
        tally.add_in()
        if key in seen:
            tally.skip(key, REASON_DUPLICATE, "utterance id seen before")
            continue
        seen.add(key)
        try:
            wav = load_audio(
                value,
                min_duration=args.min_duration,
                max_duration=args.max_duration,
                allow_pipe=args.allow_pipe,
            )
        except AudioError as e:
            tally.skip(key, e.reason, e.detail)
            continue
        try:
            vec = encoder.embed(wav.numpy(), 16000)
        except (ValueError, RuntimeError) as e:
            tally.skip(key, REASON_EMBED, str(e).splitlines()[0])
            continue
        if not np.all(np.isfinite(vec)):
            tally.skip(key, REASON_NON_FINITE, "NaN/inf in the embedding")
            continue
        vectors[key] = vec.astype(np.float32)
        tally.add_out()

    write_vectors(
        vectors,
        os.path.join(args.out_dir, "xvector.ark"),
        os.path.join(args.out_dir, "xvector.scp"),
    )
    dim = next(iter(vectors.values())).shape[0] if vectors else None
    info = dict(tally.to_dict(), dim=dim, seconds=round(time.time() - t0, 1))
    if averaging:
        missing = [k for k in vectors if k not in utt2spk]
        for k in missing:
            logging.warning("%s: %s (not in %s)", k, REASON_NO_SPEAKER, args.utt2spk)
        spk = speaker_means(vectors, utt2spk)
        write_vectors(
            spk,
            os.path.join(args.out_dir, "spk_xvector.ark"),
            os.path.join(args.out_dir, "spk_xvector.scp"),
        )
        info.update(speakers=len(spk), utts_without_speaker=len(missing))
    tally.write_skipped(os.path.join(args.out_dir, "skipped.txt"))
    atomic_write_text(info_path, json.dumps(info, indent=2) + "\n")
    logging.info(
        "%s%s -> %s",
        tally.summary(),
        f", speakers={info['speakers']}" if averaging else "",
        args.out_dir,
    )
    return 1 if tally.n_in and not tally.n_out else 0


if __name__ == "__main__":
    raise SystemExit(main())
