#!/usr/bin/env python3
"""Fit k-means on a random, seeded subset of dumped frame features.

    python -m espnet2_ext.bin.learn_kmeans \\
        --feats_scp dump/feats/train/feats.0.scp dump/feats/train/feats.1.scp \\
        --n_clusters 500 --max_frames 1000000 --seed 0 --out exp/kmeans/km.npy

Frame sampling: a seeded ``--portion`` of the utterances is read (1.0: all), and of
their frames at most ``--max_frames`` are kept, drawn uniformly without replacement
(seeded). The same inputs, options and seed give the same model.

Outputs: the model (``.npy``: the centroids as a plain array, with a ``.json`` of
metadata beside it; no pickle) and ``<out>.done`` (JSON: counts, metadata) written last;
a re-run with the same inputs and options skips the fit unless ``--overwrite``.
"""

import argparse
import logging
import sys
from typing import List, Optional

import kaldiio
import numpy as np

from espnet2_ext.units.kmeans import FrameSampler, fit_kmeans
from espnet2_ext.utils.shards import (
    DoneMarker,
    Tally,
    fingerprint,
    progress,
    read_scps,
    setup_logging,
)


def load_feats(value: str, fd_dict: Optional[dict] = None) -> np.ndarray:
    """A feats.scp value (``foo.ark:123``, a ``.npy`` path, or a kaldi matrix file)."""
    if value.endswith(".npy"):
        return np.load(value, allow_pickle=False)
    return kaldiio.load_mat(value, fd_dict=fd_dict)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Fit k-means on a seeded random subset of frames",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--feats_scp", nargs="+", required=True, help="one or more feats scp files"
    )
    p.add_argument("--n_clusters", type=int, default=500)
    p.add_argument(
        "--max_frames",
        type=int,
        default=1000000,
        help="frames used for fitting (<= 0: all)",
    )
    p.add_argument(
        "--portion", type=float, default=1.0, help="fraction of utterances read"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="model path (.npy)")
    p.add_argument("--backend", default="auto", choices=["auto", "sklearn", "faiss"])
    p.add_argument(
        "--batch_size", type=int, default=10000, help="MiniBatchKMeans batch size"
    )
    p.add_argument("--max_iter", type=int, default=100)
    p.add_argument("--n_init", type=int, default=20)
    p.add_argument("--init", default="k-means++", choices=["k-means++", "random"])
    p.add_argument("--max_no_improvement", type=int, default=100)
    p.add_argument("--reassignment_ratio", type=float, default=0.0)
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--log_level", default="INFO")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    setup_logging(args.log_level)
    if not 0.0 < args.portion <= 1.0:
        logging.error("--portion must be in (0, 1], got %s", args.portion)
        return 2
    if not args.out.endswith(".npy"):
        logging.error(
            "--out must end with .npy (k-means models are plain centroid arrays; "
            "the joblib/pickle format is no longer written), got %s",
            args.out,
        )
        return 2
    try:
        entries = read_scps(args.feats_scp)
    except OSError as e:
        logging.error("%s", e)
        return 2
    max_frames = args.max_frames if args.max_frames and args.max_frames > 0 else None
    opts = {
        k: v
        for k, v in vars(args).items()
        if k not in ("overwrite", "log_level", "out", "feats_scp")
    }
    marker = DoneMarker(
        args.out + ".done", fingerprint(dict(opts, entries=entries)), [args.out]
    )
    if not args.overwrite and marker.is_done():
        logging.info(
            "%s already fitted with these inputs and options: skipping", args.out
        )
        return 0
    marker.clear()

    rng = np.random.default_rng(args.seed)
    n = len(entries)
    if args.portion < 1.0 and n > 0:
        m = max(1, int(round(n * args.portion)))
        chosen = np.sort(rng.choice(n, size=m, replace=False))
    else:
        chosen = np.arange(n)
    logging.info(
        "learn_kmeans: %d utterances listed, reading %d (portion %.3f), "
        "max_frames=%s, seed=%d",
        n,
        len(chosen),
        args.portion,
        max_frames,
        args.seed,
    )
    tally = Tally("learn_kmeans")
    sampler = FrameSampler(max_frames=max_frames, seed=args.seed + 1)
    dim = None
    fd_dict: dict = {}
    try:
        for i in progress(
            chosen.tolist(), total=len(chosen), desc="read features", unit="utt"
        ):
            key, value = entries[i]
            tally.add_in()
            try:
                x = load_feats(value, fd_dict)
            except Exception as e:  # kaldiio/numpy raise many kinds
                tally.skip(key, "unreadable", str(e))
                continue
            if x.ndim != 2 or x.shape[0] == 0:
                tally.skip(key, "empty", f"shape {x.shape}")
                continue
            if dim is None:
                dim = x.shape[1]
            elif x.shape[1] != dim:
                logging.error(
                    "%s: feature dim %d != %d of earlier utterances",
                    key,
                    x.shape[1],
                    dim,
                )
                return 1
            if not np.isfinite(x).all():
                tally.skip(key, "non_finite_features")
                continue
            sampler.add(x)
            tally.add_out()
    finally:
        for fd in fd_dict.values():
            fd.close()
    logging.info("%s; %d frames seen", tally.summary(), sampler.n_seen)
    if tally.n_out == 0:
        logging.error("no usable features")
        return 1
    feats = sampler.result()
    logging.info("fitting on %d frames of dim %d", feats.shape[0], feats.shape[1])
    try:
        model = fit_kmeans(
            feats,
            args.n_clusters,
            seed=args.seed,
            backend=args.backend,
            max_iter=args.max_iter,
            batch_size=args.batch_size,
            n_init=args.n_init,
            init=args.init,
            max_no_improvement=args.max_no_improvement,
            reassignment_ratio=args.reassignment_ratio,
        )
    except (ValueError, ImportError) as e:
        logging.error("%s", e)
        return 1
    model.meta.update(
        feats_scp=list(args.feats_scp),
        portion=args.portion,
        max_frames=max_frames,
        n_frames_seen=int(sampler.n_seen),
    )
    model.save(args.out)
    marker.write(dict(tally.to_dict(), **model.meta))
    logging.info("wrote %s (K=%d, dim=%d)", args.out, model.n_clusters, model.dim)
    return 0


if __name__ == "__main__":
    sys.exit(main())
