#!/usr/bin/env python3
"""Convert a legacy joblib/pickle k-means model to the plain ``.npy`` format.

    python -m espnet2_ext.bin.convert_kmeans --trust_remote_pickle exp/kmeans/km.pkl \\
        exp/kmeans/km.npy

Reads this package's old ``km.pkl`` (a joblib dict of centroids + metadata) or a
fitted scikit-learn ``KMeans``/``MiniBatchKMeans`` pickle (fairseq's / ESPnet's HuBERT
k-means), and writes the (K, D) float32 centroids as ``.npy`` plus the metadata as
``<out>.json``, which :meth:`espnet2_ext.units.kmeans.KMeansModel.load` reads without
unpickling anything. Reading the pickle runs code stored in it, hence the mandatory
``--trust_remote_pickle``: convert only files you trust. Point ``kmeans:`` in
``units.yaml`` (and ``--km`` of ``apply_kmeans``) at the ``.npy`` afterwards.
"""

import argparse
import logging
import os
import sys
from typing import List, Optional

from espnet2_ext.units.kmeans import KMeansModel, is_npy_file, npy_path_for


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Convert a legacy joblib/pickle k-means model to .npy centroids",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("input", help="legacy k-means model (.pkl / .joblib)")
    p.add_argument(
        "output",
        nargs="?",
        default=None,
        help="output .npy (default: the input with the suffix .npy)",
    )
    p.add_argument(
        "--trust_remote_pickle",
        action="store_true",
        help="required: unpickling the input runs code stored in it",
    )
    p.add_argument("--overwrite", action="store_true")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level="INFO", format="%(levelname)s: %(message)s")
    out = args.output or npy_path_for(args.input)
    if not out.endswith(".npy"):
        logging.error("the output must end with .npy, got %s", out)
        return 2
    if not os.path.isfile(args.input):
        logging.error("not found: %s", args.input)
        return 2
    if is_npy_file(args.input):
        logging.error(
            "%s is already a .npy centroid array: nothing to convert", args.input
        )
        return 2
    if not args.trust_remote_pickle:
        logging.error(
            "reading %s unpickles it, which runs code stored in the file; give "
            "--trust_remote_pickle if you trust it",
            args.input,
        )
        return 2
    if os.path.exists(out) and not args.overwrite:
        logging.error("%s exists (use --overwrite)", out)
        return 2
    try:
        km = KMeansModel.load(args.input, trust_pickle=True)
    except Exception as e:  # whatever the unpickling raised
        logging.error("cannot read %s: %s: %s", args.input, type(e).__name__, e)
        return 2
    km.meta.setdefault("converted_from", os.path.basename(args.input))
    km.save(out)
    logging.info("wrote %s (K=%d, dim=%d) and %s.json", out, km.n_clusters, km.dim, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
