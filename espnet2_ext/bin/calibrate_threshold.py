#!/usr/bin/env python3
"""Choose the entropy threshold for a target segment rate on training units.

Reads Kaldi-style unit text (``utt_id tok tok ...``, tokens as in the shared token
list), scores a random sample of utterances with the frozen unit LM, calibrates the
threshold (``global``/``combined``: theta; ``relative``: theta_r) so that the average
rate is ``--target_rate`` segments/s, and writes a YAML fragment of ``frontend_conf``
keys that the training config is merged with, last: the rule and its threshold(s),
max_len, min_len, and the LM and how it was run (lm_train_config, lm_file, lm_window,
lm_overlap, lm_dtype), so that training and inference use exactly what the threshold
was calibrated with; plus the rate achieved.

The rule and LM options come from ``--frontend_config`` (a YAML with a
``frontend_conf`` section: the recipe's merged ``conf/frontend/entropy*.yaml``), from
the command-line options, or from their defaults; an option given both ways must agree.

Usage:
    python -m espnet2_ext.bin.calibrate_threshold --lm_train_config exp/lm/config.yaml \
        --lm_file exp/lm/valid.loss.ave.pth --units dump/units/train/units \
        --target_rate 15 --out exp/calib/rate15.yaml
"""

import argparse
import logging
import random
import sys
from pathlib import Path

import torch
import yaml

from espnet2_ext.entropy.unit_lm import add_lm_window_options

logger = logging.getLogger("calibrate_threshold")


def read_units(path: Path, token_list):
    """Kaldi-style text -> dict utt -> LongTensor of token ids (unknown -> <unk>)."""
    index = {t: i for i, t in enumerate(token_list)}
    unk = index.get("<unk>")
    out, n_unk, n_empty = {}, 0, 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if len(parts) == 1:
                n_empty += 1
                continue
            ids = []
            for tok in parts[1:]:
                i = index.get(tok, unk)
                if i is None:
                    raise ValueError(
                        f"token {tok!r} not in the token list and no <unk>"
                    )
                n_unk += tok not in index
                ids.append(i)
            out[parts[0]] = torch.tensor(ids, dtype=torch.long)
    if n_empty:
        logger.warning("%d utterance(s) with no units skipped", n_empty)
    if n_unk:
        logger.warning("%d unit token(s) not in the token list mapped to <unk>", n_unk)
    return out


# options shared with the entropy frontend (frontend_conf keys) and their defaults
DEFAULTS = {
    "rule": "global",
    "rel_threshold": None,
    "max_len": 10,
    "min_len": 1,
    "max_len_mode": "split",
    "lm_window": None,
    "lm_overlap": None,
    "lm_dtype": "float32",
    "snap_to_unit_start": False,
    "lm_dedup": False,
}
# lm_window None: the LM's longest training sequence (UnitLM.from_files); the number is
# written into the calibration file


def resolve_options(args: argparse.Namespace) -> dict:
    """The shared options: command line, else ``--frontend_config``, else the default.

    Raises:
        ValueError: an option given on the command line disagrees with the config.
    """
    conf = {}
    if args.frontend_config is not None:
        conf = (yaml.safe_load(args.frontend_config.read_text()) or {}).get(
            "frontend_conf"
        ) or {}
    out = {}
    for key, default in DEFAULTS.items():
        flag = getattr(args, key)
        if (
            flag is not None
            and key in conf
            and conf[key] != flag
            and not (key == "max_len" and flag == 0 and conf[key] is None)
        ):
            raise ValueError(
                f"--{key} {flag} disagrees with {key}: {conf[key]} in "
                f"{args.frontend_config}; give it in one place"
            )
        out[key] = flag if flag is not None else conf.get(key, default)
    out["max_len"] = out["max_len"] or None  # 0 / None: unlimited
    return out


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--lm_train_config", required=True)
    p.add_argument("--lm_file", required=True)
    p.add_argument("--units", required=True, type=Path, help="Kaldi-style unit text")
    p.add_argument(
        "--target_rate", required=True, type=float, help="segments per second"
    )
    p.add_argument("--unit_rate", type=float, default=50.0, help="units per second")
    p.add_argument(
        "--frontend_config",
        type=Path,
        default=None,
        help="YAML whose frontend_conf gives the options below (the merged entropy "
        "frontend config)",
    )
    p.add_argument(
        "--rule",
        default=None,
        choices=["global", "relative", "combined"],
        help=f"default: {DEFAULTS['rule']}",
    )
    p.add_argument(
        "--rel_threshold", type=float, default=None, help="fixed theta_r for 'combined'"
    )
    p.add_argument(
        "--max_len",
        type=int,
        default=None,
        help=f"0: unlimited; default {DEFAULTS['max_len']}",
    )
    p.add_argument(
        "--min_len", type=int, default=None, help=f"default {DEFAULTS['min_len']}"
    )
    p.add_argument(
        "--max_len_mode",
        default=None,
        choices=["split", "cut"],
        help="how min_len / max_len are held (entropy.boundaries.segment); default "
        f"{DEFAULTS['max_len_mode']}",
    )
    p.add_argument("--max_utts", type=int, default=2000, help="utterances sampled")
    p.add_argument("--batch_size", type=int, default=32)
    add_lm_window_options(p)
    p.add_argument(
        "--lm_dtype",
        default=None,
        choices=["float32", "bfloat16"],
        help=f"default {DEFAULTS['lm_dtype']}",
    )
    for key, what in (
        ("snap_to_unit_start", "starts moved to the first frame of their unit run"),
        ("lm_dedup", "the LM scores deduplicated units (implies snap_to_unit_start)"),
    ):
        p.add_argument(
            f"--{key}",
            type=lambda v: {"true": True, "false": False}[v.lower()],
            default=None,
            metavar="{true,false}",
            help=f"{what}; default {str(DEFAULTS[key]).lower()}",
        )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--out", required=True, type=Path, help="YAML with frontend_conf keys"
    )
    return p


#: exit status when the target rate is outside what the rule can give on the data
UNREACHABLE = 3


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    from espnet2_ext.entropy.boundaries import check_lengths
    from espnet2_ext.entropy.calibration import (
        CalibrationError,
        calibrate_threshold,
        pad_entropies,
    )
    from espnet2_ext.entropy.unit_lm import UnitLM, UnitLMError

    try:
        opts = resolve_options(args)
        check_lengths(opts["min_len"], opts["max_len"], opts["max_len_mode"])
    except ValueError as e:
        logger.error("%s", e)
        return 2
    try:
        lm = UnitLM.from_files(
            args.lm_train_config,
            args.lm_file,
            window=opts["lm_window"],
            overlap=opts["lm_overlap"],
            dtype=opts["lm_dtype"],
        )
    except UnitLMError as e:
        if opts["lm_window"] is not None or "lm_window" not in str(e):
            raise
        # say where this tool takes the window from
        logger.error(
            "%s (here: --lm_window, or lm_window under frontend_conf of "
            "--frontend_config)",
            e,
        )
        return 1
    units = read_units(args.units, lm.token_list)
    if not units:
        logger.error("no utterances in %s", args.units)
        return 1
    keys = sorted(units)
    random.Random(args.seed).shuffle(keys)
    keys = keys[: args.max_utts]
    logger.info("scoring %d of %d utterances with the unit LM", len(keys), len(units))
    ents = []
    keys.sort(key=lambda k: len(units[k]))  # length-sorted batches: less padding
    # an LM over deduplicated units scores runs (UnitLM.run_entropy), and its starts
    # fall on a run's first frame, as in the frontend
    score = lm.run_entropy if opts["lm_dedup"] else lm.entropy
    snap = bool(opts["snap_to_unit_start"] or opts["lm_dedup"])
    for i in range(0, len(keys), args.batch_size):
        seqs = [units[k] for k in keys[i : i + args.batch_size]]
        x, lengths = pad_entropies(seqs)
        h = score(x.long(), lengths)
        ents += [h[j, : int(lengths[j])] for j in range(len(seqs))]
    h, lengths = pad_entropies(ents)
    ids = pad_entropies([units[k] for k in keys])[0].long() if snap else None
    rule = opts["rule"]
    try:
        res = calibrate_threshold(
            h,
            lengths,
            args.target_rate,
            unit_rate=args.unit_rate,
            rule=rule,
            rel_threshold=opts["rel_threshold"],
            max_len=opts["max_len"],
            min_len=opts["min_len"],
            units=ids,
            snap_to_unit_start=snap,
            max_len_mode=opts["max_len_mode"],
        )
    except CalibrationError as e:  # an unreachable rate: its own exit status
        logger.error("%s", e)
        return UNREACHABLE
    conf = {"rule": rule, "max_len": opts["max_len"], "min_len": opts["min_len"]}
    if rule == "relative":
        conf["rel_threshold"] = round(res.threshold, 6)
    else:
        conf["threshold"] = round(res.threshold, 6)
        conf["rel_threshold"] = opts["rel_threshold"] if rule == "combined" else None
    for key in ("snap_to_unit_start", "lm_dedup"):  # repeated only when set
        if opts[key]:
            conf[key] = True
    if opts["max_len_mode"] != DEFAULTS["max_len_mode"]:
        conf["max_len_mode"] = opts["max_len_mode"]
    conf.update(
        lm_train_config=str(args.lm_train_config),
        lm_file=str(args.lm_file),
        lm_window=lm.window,
        lm_overlap=lm.overlap,
        lm_dtype=opts["lm_dtype"],
    )
    report = {
        "frontend_conf": conf,
        "calibration": {
            "target_rate": args.target_rate,
            "achieved_rate": round(res.achieved_rate, 4),
            "unit_rate": args.unit_rate,
            "num_utterances": len(keys),
            "num_units": res.num_units,
            "units": str(args.units),
            "entropy_mean": round(float(h[h > 0].mean()), 4),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(yaml.safe_dump(report, sort_keys=False))
    logger.info(
        "target %.2f seg/s -> %s=%.4f, achieved %.2f seg/s; wrote %s",
        args.target_rate,
        res.param,
        res.threshold,
        res.achieved_rate,
        args.out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
