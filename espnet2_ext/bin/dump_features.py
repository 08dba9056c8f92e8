#!/usr/bin/env python3
"""Extract 50 Hz frame features for one shard of a wav.scp.

    python -m espnet2_ext.bin.dump_features --wav_scp data/train/wav.scp \\
        --feature mfcc --nshard 4 --rank 0 --out_dir dump/feats/train
    python -m espnet2_ext.bin.dump_features ... --feature hubert \\
        --feature_conf checkpoint=/path/hubert_base_ls960.pt layer=9

Shard ``rank`` (0-based) is the rank-th of ``nshard`` contiguous, near-equal parts of
the wav.scp (Kaldi ``split_scp.pl``). Outputs in ``out_dir``:

* ``feats.R.ark`` / ``feats.R.scp``: Kaldi float matrices (T, D), one per utterance;
  the scp follows the wav.scp order;
* ``skipped.R.txt``: ``utt_id reason detail`` for every utterance left out;
* ``done.R``: JSON with the counts, written last.

A re-run skips a shard whose ``done.R`` matches the same inputs and options (unless
``--overwrite``). A shard interrupted mid-way has no ``done.R`` and no ``feats.R.scp``
(the scp is renamed into place only at the end), so it is redone from scratch.
Exit status: 0 on success (including skipped utterances), 1 when the shard had input
but produced nothing, 2 on usage errors.
"""

import argparse
import logging
import os
import sys
import time
from typing import List, Optional

import kaldiio
import torch

from espnet2_ext.units.extract import default_device, iter_features
from espnet2_ext.units.features import (
    build_feature_extractor,
    feature_extractor_choices,
)
from espnet2_ext.utils.shards import (
    DoneMarker,
    Tally,
    atomic_write_text,
    fingerprint,
    parse_kv,
    read_scp,
    setup_logging,
    split_shard,
)

FORMAT_VERSION = 1


def str2bool(v: str) -> bool:
    if v.lower() in ("true", "1", "yes"):
        return True
    if v.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {v!r}")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Dump 50 Hz features (MFCC or HuBERT) for one shard of a wav.scp",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--wav_scp", required=True, help="Kaldi wav.scp (paths or 'cmd |' pipes)"
    )
    p.add_argument(
        "--feature", required=True, choices=sorted(feature_extractor_choices())
    )
    p.add_argument(
        "--feature_conf",
        nargs="*",
        default=[],
        action="extend",
        help="extractor options as key=value (e.g. n_mfcc=20, checkpoint=random "
        "layer=9)",
    )
    p.add_argument("--nshard", type=int, default=1)
    p.add_argument("--rank", type=int, default=0, help="0-based shard index")
    p.add_argument("--out_dir", required=True)
    p.add_argument("--min_duration", type=float, default=0.1, help="seconds")
    p.add_argument(
        "--max_duration", type=float, default=None, help="seconds (no limit if unset)"
    )
    p.add_argument(
        "--batch_size", type=int, default=16, help="max utterances per batch"
    )
    p.add_argument(
        "--batch_seconds",
        type=float,
        default=160.0,
        help="max padded seconds per batch",
    )
    p.add_argument(
        "--device", default=None, help="cpu, cuda, cuda:1 (default: cuda if available)"
    )
    p.add_argument("--num_threads", type=int, default=None, help="torch CPU threads")
    p.add_argument(
        "--allow_pipe", type=str2bool, default=True, help="run 'cmd |' wav.scp entries"
    )
    p.add_argument(
        "--overwrite", action="store_true", help="redo the shard even if done"
    )
    p.add_argument("--log_level", default="INFO")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        conf = parse_kv(args.feature_conf)
        entries = split_shard(read_scp(args.wav_scp), args.nshard, args.rank)
    except (ValueError, OSError) as e:
        logging.error("%s", e)
        return 2
    r = args.rank
    os.makedirs(args.out_dir, exist_ok=True)
    ark = os.path.join(args.out_dir, f"feats.{r}.ark")
    scp = os.path.join(args.out_dir, f"feats.{r}.scp")
    skipped = os.path.join(args.out_dir, f"skipped.{r}.txt")
    marker = DoneMarker(
        os.path.join(args.out_dir, f"done.{r}"),
        fingerprint(
            dict(
                version=FORMAT_VERSION,
                feature=args.feature,
                conf=conf,
                entries=entries,
                min_duration=args.min_duration,
                max_duration=args.max_duration,
                nshard=args.nshard,
                rank=r,
                allow_pipe=args.allow_pipe,
            )
        ),
        outputs=[ark, scp],
    )
    if not args.overwrite and marker.is_done():
        info = marker.read() or {}
        logging.info(
            "shard %d/%d already done (in=%s out=%s skipped=%s): skipping",
            r,
            args.nshard,
            info.get("in"),
            info.get("out"),
            info.get("skipped"),
        )
        return 0
    marker.clear()
    for p in (scp, skipped):
        if os.path.exists(p):
            os.remove(p)

    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    device = args.device or default_device()
    try:
        extractor = build_feature_extractor(args.feature, **conf).to(device).eval()
    except (TypeError, ValueError, FileNotFoundError, RuntimeError) as e:
        logging.error(
            "cannot build feature extractor %r with %s: %s", args.feature, conf, e
        )
        return 2
    logging.info(
        "dump_features shard %d/%d: %d utterances, feature=%s conf=%s dim=%d device=%s",
        r,
        args.nshard,
        len(entries),
        args.feature,
        conf,
        extractor.output_size(),
        device,
    )

    tally = Tally(f"dump_features shard {r}/{args.nshard}")
    scp_lines = {}
    n_frames = 0
    t0 = time.time()
    with open(ark, "wb") as f:
        for key, feats in iter_features(
            entries,
            extractor,
            tally,
            device=device,
            batch_size=args.batch_size,
            batch_seconds=args.batch_seconds,
            min_duration=args.min_duration,
            max_duration=args.max_duration,
            allow_pipe=args.allow_pipe,
            desc=f"dump_features[{r}]",
        ):
            pos = f.tell() + len(key.encode("utf-8")) + 1
            kaldiio.save_ark(f, {key: feats})
            scp_lines[key] = f"{key} {ark}:{pos}\n"
            n_frames += feats.shape[0]
            tally.add_out()
    order = [k for k, _ in entries]
    atomic_write_text(
        scp, "".join(scp_lines[k] for k in dict.fromkeys(order) if k in scp_lines)
    )
    tally.write_skipped(skipped)
    elapsed = time.time() - t0
    logging.info("%s, %d frames, %.1f s", tally.summary(), n_frames, elapsed)
    if tally.n_in > 0 and tally.n_out == 0:
        logging.error("shard %d produced no features: not marking it done", r)
        return 1
    marker.write(
        dict(
            tally.to_dict(),
            feature=args.feature,
            conf=conf,
            dim=extractor.output_size(),
            frame_rate=extractor.frame_rate,
            frames=n_frames,
            seconds=round(elapsed, 2),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
