#!/usr/bin/env python3
"""How much does the unit LM know beyond the previous unit? Cross-entropy (nats per
token) on a held-out unit dump of a unigram and of a bigram interpolated with it, both
fitted on the training dump, beside the unit LM's own validation loss.

Tokens are the units of each utterance followed by an end token (what ESPnet's LM
task predicts: its loss counts the final ``<sos/eos>`` too), so the numbers compare
with the LM's ``valid.loss``. The unigram is add-one smoothed over the token list;
the bigram ``p(v | u) = l * c(u, v) / c(u) + (1 - l) * p_uni(v)`` takes the ``l`` of
``--lambdas`` that is best on the held-out dump (an upper bound for the bigram, which
makes the comparison conservative for the LM).

    python ../../TEMPLATE/pyscripts/unit_ngram.py --train dump/units/train/units \\
        --valid dump/units/dev/units --token_list dump/token_list/units/tokens.txt \\
        --lm_log exp/unit_lm/train.log* --out exp/unit_lm/ngram.json
"""

import argparse
import json
import logging
import re
import sys
from pathlib import Path

import numpy as np

logger = logging.getLogger("unit_ngram")


def read(path: Path, index):
    seqs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) > 1:
            seqs.append(np.array([index[u] for u in parts[1:]], dtype=np.int64))
    return seqs


def lm_valid_loss(log: Path):
    """The best (lowest) ``valid ... loss=`` of an ESPnet training log, or None."""
    best = None
    for line in log.read_text(errors="replace").splitlines():
        m = re.search(r"\[valid\].*?\bloss=([0-9.]+)", line)
        if m:
            v = float(m.group(1))
            best = v if best is None else min(best, v)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--train", type=Path, required=True)
    p.add_argument("--valid", type=Path, required=True)
    p.add_argument("--token_list", type=Path, required=True)
    p.add_argument(
        "--lm_log",
        type=Path,
        nargs="+",
        help="the unit LM's train.log (and the earlier pieces of a resumed training)",
    )
    p.add_argument("--lambdas", default="0.5 0.8 0.9 0.95 0.98 0.99 0.995 0.999")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    tokens = args.token_list.read_text().split()
    index = {t: i for i, t in enumerate(tokens)}
    V, eos = len(tokens), len(tokens) - 1
    train, valid = read(args.train, index), read(args.valid, index)

    def with_eos(seqs):
        # (previous, next) pairs of every utterance; the first unit follows <sos/eos>
        prev = np.concatenate([np.r_[eos, s] for s in seqs])
        nxt = np.concatenate([np.r_[s, eos] for s in seqs])
        return prev, nxt

    tp, tn = with_eos(train)
    uni = (np.bincount(tn, minlength=V) + 1.0) / (len(tn) + V)
    big = np.zeros((V, V))
    np.add.at(big, (tp, tn), 1.0)
    rows = big.sum(1, keepdims=True)
    cond = np.divide(big, rows, out=np.zeros_like(big), where=rows > 0)
    vp, vn = with_eos(valid)
    res = {
        "train_tokens": int(len(tn)),
        "valid_tokens": int(len(vn)),
        "unigram": round(float(-np.log(uni[vn]).mean()), 4),
    }
    best = None
    for lam in (float(x) for x in args.lambdas.split()):
        ce = float(-np.log(lam * cond[vp, vn] + (1 - lam) * uni[vn]).mean())
        res[f"bigram_l{lam}"] = round(ce, 4)
        if best is None or ce < best[1]:
            best = (lam, ce)
    res["bigram"] = round(best[1], 4)
    res["bigram_lambda"] = best[0]
    # how much of it is "the unit repeats": the share of next units equal to the last
    res["repeat_share"] = round(float((vp == vn).mean()), 4)
    if args.lm_log:
        losses = [v for v in map(lm_valid_loss, args.lm_log) if v is not None]
        res["unit_lm_valid_loss"] = min(losses) if losses else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    logger.info("%s", res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
