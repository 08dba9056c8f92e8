#!/usr/bin/env python3
"""Oracle segment starts for the ``oracle_pool`` frontend: the true phone or word
starts of a CTM (``local/espeak_align.py``) as unit positions.

A boundary at time ``tau`` becomes the start of the unit ``t`` whose boundary time
``0.02 t + offset`` is nearest (``offset`` from the units' extractor, see
``espnet2_ext.metrics.boundaries.boundary_offset``: -0.01 s for Whisper frames,
0.0025 s for MFCC/HuBERT). The boundaries are every token's start and end (the
reference boundaries the boundary F1 is scored against, plus the first token's start),
so a pause or the trailing silence is a segment of its own. Boundaries at or before
unit 0 and at or past the last unit are dropped; those that round to the same unit
are one. ``--tier word``: words, ``--tier phone``: phones (every word starts with one).

Writes ``utt t1 t2 ...`` for every utterance of the unit dumps that the CTM has, and
reports how many went in, came out and were skipped (no CTM entry).

    python local/oracle_starts.py --tier phone --feature whisper \\
        --ctm data/align/{train,dev,test,test_unseen_voices}/phone.ctm \\
        --units dump/units/{train,dev,test,test_unseen_voices}/units \\
        --out dump/oracle/phone/starts
"""

import argparse
import logging
import sys
from pathlib import Path

from espnet2_ext.metrics.boundaries import boundary_offset, read_ctm
from espnet2_ext.units.features import frame_centre

logger = logging.getLogger("oracle_starts")


def unit_starts(entries, num_units: int, offset: float, shift: float = 0.02):
    """Sorted distinct unit positions in (0, num_units) of the CTM entries' starts and
    ends."""
    out = set()
    for time in [a for a, _, _ in entries] + [b for _, b, _ in entries]:
        t = round((time - offset) / shift)
        if 0 < t < num_units:
            out.add(t)
    return sorted(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--tier", choices=["phone", "word"], required=True)
    p.add_argument("--feature", choices=["mfcc", "hubert", "whisper"], required=True)
    p.add_argument("--ctm", nargs="+", type=Path, required=True)
    p.add_argument("--units", nargs="+", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    ctm = {}
    for f in args.ctm:
        ctm.update(read_ctm(f))
    offset = boundary_offset(frame_centre(args.feature))
    lines, n_in, skipped, n_starts, n_units = [], 0, 0, 0, 0
    for f in args.units:
        for line in f.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if not parts:
                continue
            n_in += 1
            if parts[0] not in ctm:
                skipped += 1
                continue
            st = unit_starts(ctm[parts[0]], len(parts) - 1, offset)
            n_starts += len(st) + 1
            n_units += len(parts) - 1
            lines.append(" ".join([parts[0]] + [str(t) for t in st]))
    if not lines:
        logger.error("no utterance of the unit dumps is in the CTMs")
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    logger.info(
        "%s starts: in=%d out=%d skipped=%d (no CTM entry); %.2f segments/s",
        args.tier,
        n_in,
        len(lines),
        skipped,
        n_starts / (n_units * 0.02),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
