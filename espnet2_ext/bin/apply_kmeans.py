#!/usr/bin/env python3
"""Assign each frame to its nearest k-means centroid; write Kaldi-text unit sequences.

    python -m espnet2_ext.bin.apply_kmeans --feats_scp dump/feats/train/feats.0.scp \\
        --km exp/kmeans/km.npy --out dump/units/train/units.0.txt

    # or straight from audio, without storing features (e.g. HuBERT on a large corpus):
    python -m espnet2_ext.bin.apply_kmeans --wav_scp data/train/wav.scp \\
        --feature hubert --feature_conf checkpoint=/x/hubert_base_ls960.pt layer=9 \\
        --km exp/kmeans/km.npy --nshard 8 --rank 3 --out dump/units/train/units.3.txt

Output lines: ``utt_id 12 7 7 431 ...`` (0-based k-means ids, one per 50 Hz frame, no
deduplication). With ``--feats_scp`` the lines follow the scp order; with ``--wav_scp``
they follow the wav.scp order too. ``--nshard/--rank`` (0-based) split the input list
like ``dump_features`` does (default: the whole list).

Also written: ``<out>.skipped`` (``utt_id reason detail``) and ``<out>.done`` (JSON
counts), the latter last; ``<out>`` itself is renamed into place only when complete.
A re-run with the same inputs and options skips the job unless ``--overwrite``.
"""

import argparse
import logging
import os
import sys
from typing import Iterator, List, Optional, Tuple

import numpy as np
import torch

from espnet2_ext.bin.dump_features import str2bool
from espnet2_ext.bin.learn_kmeans import load_feats
from espnet2_ext.units.extract import default_device, iter_features
from espnet2_ext.units.features import (
    build_feature_extractor,
    feature_extractor_choices,
)
from espnet2_ext.units.kmeans import KMeansModel
from espnet2_ext.utils.shards import (
    DoneMarker,
    Tally,
    file_sha1,
    fingerprint,
    parse_kv,
    progress,
    read_scp,
    read_scps,
    setup_logging,
    split_shard,
)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Apply k-means to features (or audio) and write unit id sequences",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--feats_scp", nargs="+", help="feats scp file(s) from dump_features"
    )
    src.add_argument("--wav_scp", help="extract features on the fly from this wav.scp")
    p.add_argument(
        "--feature", choices=sorted(feature_extractor_choices()), help="with --wav_scp"
    )
    p.add_argument(
        "--feature_conf", nargs="*", default=[], action="extend", help="key=value"
    )
    p.add_argument("--km", required=True, help="k-means model (.npy) from learn_kmeans")
    p.add_argument(
        "--trust_remote_pickle",
        action="store_true",
        help="also read a legacy joblib/pickle --km (runs code stored in the file)",
    )
    p.add_argument("--out", required=True, help="output text file, e.g. units.R.txt")
    p.add_argument("--nshard", type=int, default=1)
    p.add_argument("--rank", type=int, default=0, help="0-based shard index")
    p.add_argument("--device", default=None)
    p.add_argument("--num_threads", type=int, default=None)
    p.add_argument("--min_duration", type=float, default=0.1, help="with --wav_scp")
    p.add_argument("--max_duration", type=float, default=None, help="with --wav_scp")
    p.add_argument("--batch_size", type=int, default=16, help="with --wav_scp")
    p.add_argument("--batch_seconds", type=float, default=160.0, help="with --wav_scp")
    p.add_argument("--allow_pipe", type=str2bool, default=True, help="with --wav_scp")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--log_level", default="INFO")
    return p


def _iter_dumped(entries, tally: Tally) -> Iterator[Tuple[str, np.ndarray]]:
    fd_dict: dict = {}
    seen = set()
    try:
        for key, value in progress(
            entries, total=len(entries), desc="apply_kmeans", unit="utt"
        ):
            tally.add_in()
            if key in seen:
                tally.skip(key, "duplicate_id")
                continue
            seen.add(key)
            try:
                x = load_feats(value, fd_dict)
            except Exception as e:
                tally.skip(key, "unreadable", f"{value}: {e}")
                continue
            if x.ndim != 2 or x.shape[0] == 0:
                tally.skip(key, "empty", f"shape {x.shape}")
                continue
            if not np.isfinite(x).all():
                tally.skip(key, "non_finite_features")
                continue
            yield key, x
    finally:
        for fd in fd_dict.values():
            fd.close()


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    setup_logging(args.log_level)
    if args.wav_scp and not args.feature:
        logging.error("--wav_scp needs --feature")
        return 2
    try:
        conf = parse_kv(args.feature_conf)
        all_entries = (
            read_scp(args.wav_scp) if args.wav_scp else read_scps(args.feats_scp)
        )
        entries = split_shard(all_entries, args.nshard, args.rank)
        km = KMeansModel.load(args.km, trust_pickle=args.trust_remote_pickle)
    except (ValueError, OSError) as e:
        logging.error("%s", e)
        return 2
    opts = {
        k: v
        for k, v in vars(args).items()
        if k
        not in (
            "overwrite",
            "log_level",
            "out",
            "device",
            "num_threads",
            "feats_scp",
            "wav_scp",
            "km",
            "trust_remote_pickle",
        )
    }
    if not args.wav_scp:  # extraction options do not matter for dumped features
        for k in (
            "feature",
            "feature_conf",
            "min_duration",
            "max_duration",
            "batch_size",
            "batch_seconds",
            "allow_pipe",
        ):
            opts.pop(k, None)
    opts.update(feature_conf=conf, entries=entries, km_sha1=file_sha1(args.km))
    marker = DoneMarker(args.out + ".done", fingerprint(opts), [args.out])
    if not args.overwrite and marker.is_done():
        info = marker.read() or {}
        logging.info(
            "%s already done (in=%s out=%s skipped=%s): skipping",
            args.out,
            info.get("in"),
            info.get("out"),
            info.get("skipped"),
        )
        return 0
    marker.clear()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    device = args.device or default_device()
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)

    tally = Tally(f"apply_kmeans {os.path.basename(args.out)}")
    if args.wav_scp:
        try:
            extractor = build_feature_extractor(args.feature, **conf).to(device).eval()
        except (TypeError, ValueError, FileNotFoundError, RuntimeError) as e:
            logging.error(
                "cannot build feature extractor %r with %s: %s", args.feature, conf, e
            )
            return 2
        if extractor.output_size() != km.dim:
            logging.error(
                "feature dim %d != k-means dim %d", extractor.output_size(), km.dim
            )
            return 2
        stream = iter_features(
            entries,
            extractor,
            tally,
            device=device,
            batch_size=args.batch_size,
            batch_seconds=args.batch_seconds,
            min_duration=args.min_duration,
            max_duration=args.max_duration,
            allow_pipe=args.allow_pipe,
            desc="apply_kmeans",
        )
    else:
        stream = _iter_dumped(entries, tally)
    logging.info(
        "apply_kmeans: %d inputs (shard %d/%d), K=%d dim=%d -> %s",
        len(entries),
        args.rank,
        args.nshard,
        km.n_clusters,
        km.dim,
        args.out,
    )

    # dumped features arrive in scp order and are written as they come; on-the-fly
    # extraction runs length-sorted, so its lines are buffered and written in wav.scp
    # order
    buffered = {} if args.wav_scp else None
    n_frames = 0
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for key, feats in stream:
            if feats.shape[1] != km.dim:
                logging.error(
                    "%s: feature dim %d != k-means dim %d", key, feats.shape[1], km.dim
                )
                return 1
            ids = km.predict(feats, device=device)
            line = key + " " + " ".join(map(str, ids.tolist())) + "\n"
            if buffered is None:
                f.write(line)
            else:
                buffered[key] = line
            n_frames += len(ids)
            tally.add_out()
        if buffered is not None:
            for key in dict.fromkeys(k for k, _ in entries):
                if key in buffered:
                    f.write(buffered[key])
    os.replace(tmp, args.out)
    tally.write_skipped(args.out + ".skipped")
    logging.info("%s, %d frames", tally.summary(), n_frames)
    if tally.n_in > 0 and tally.n_out == 0:
        logging.error("%s: no output: not marking it done", args.out)
        return 1
    marker.write(dict(tally.to_dict(), n_clusters=km.n_clusters, frames=n_frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
