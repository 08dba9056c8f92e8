#!/usr/bin/env python3
"""Merge YAML configs: shared defaults, then per-corpus overrides, then generated ones.

Later files win; mappings merge key by key (so a recipe's ``conf/`` holds only what
differs), lists and scalars are replaced. A mapping with the key ``_replace_: true``
replaces the one before it as a whole instead (the key itself is dropped): e.g. a
recipe's ``feats_extract: world`` with ``feats_extract_conf: {_replace_: true, ...}``,
whose settings are not the shared fbank's. ``--set key.sub=value`` edits come last.
A file may hold its keys under a top-level section (e.g. the calibration output keeps
``frontend_conf:``); ``--nest`` puts a whole file under one such section. ``--get key``
prints one value of the merged config (JSON) instead of writing it, for shell scripts.
The merged config, which is the one a run actually uses, is written with a header
naming its sources, so that it can be saved with the experiment.

Usage:
    python -m espnet2_ext.bin.merge_config --out exp/asr_x/train.yaml \
        ../../../conf/asr.yaml conf/asr.yaml exp/unit_lm/calib/rate15.yaml \
        --set frontend_conf.max_len=10
"""

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from omegaconf import DictConfig, OmegaConf

REPLACE = "_replace_"


def _drop_replaced(merged: DictConfig, new: DictConfig) -> None:
    """Remove from ``merged`` every mapping that ``new`` replaces (one marked
    ``_replace_: true``, at any depth) and the marker from ``new``."""
    for key in list(new.keys()):
        value = new[key]
        if not isinstance(value, DictConfig):
            continue
        if value.get(REPLACE, False) is True:
            del value[REPLACE]
            if key in merged:
                del merged[key]
        elif key in merged and isinstance(merged[key], DictConfig):
            _drop_replaced(merged[key], value)
        else:  # nothing to replace below: only strip the markers
            _drop_replaced(OmegaConf.create({}), value)


def merge(
    paths: Sequence[Path], sets: Sequence[str] = (), drop: Sequence[str] = ()
) -> dict:
    """Merge YAML files in order and apply dotted ``key=value`` edits."""
    merged = OmegaConf.create({})
    for p in paths:
        if not Path(p).is_file():
            raise FileNotFoundError(f"config not found: {p}")
        c = OmegaConf.load(p)
        if c is None or not isinstance(OmegaConf.to_container(c), dict):
            raise ValueError(f"{p} is not a YAML mapping")
        for key in drop:
            if key in c:
                del c[key]
        _drop_replaced(merged, c)
        merged = OmegaConf.merge(merged, c)
    if sets:
        merged = OmegaConf.merge(merged, OmegaConf.from_dotlist(list(sets)))
    return OmegaConf.to_container(merged, resolve=True)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("configs", nargs="+", type=Path, help="YAML files, later ones win")
    p.add_argument("--out", default=None, help="output YAML; '-' writes to stdout")
    p.add_argument(
        "--get",
        default=None,
        help="instead of writing the merged config, print the value of this dotted "
        "key of it as JSON (null when absent), for shell scripts",
    )
    p.add_argument(
        "--set", dest="sets", action="append", default=[], help="key.sub=value"
    )
    p.add_argument(
        "--drop",
        action="append",
        default=[],
        help="top-level key to ignore in every file (e.g. 'calibration')",
    )
    p.add_argument(
        "--nest",
        default=None,
        help="put the merged result under this top-level key (e.g. 'tts_conf': a "
        "frontend or calibration file, written for the MT task's top level, nested "
        "for the VC model's tts_conf)",
    )
    return p


def main(argv: Optional[List[str]] = None) -> int:
    parser = get_parser()
    args = parser.parse_args(argv)
    if (args.out is None) == (args.get is None):
        parser.error("give exactly one of --out and --get")
    conf = merge(args.configs, args.sets, args.drop)
    if args.get is not None:
        value = conf
        for part in args.get.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        print(json.dumps(value, sort_keys=True))
        return 0
    if args.nest:
        conf = {args.nest: conf}
    header = (
        "# merged by espnet2_ext.bin.merge_config from (later wins):\n"
        + "".join(f"#   {p}\n" for p in args.configs)
        + "".join(f"#   --set {s}\n" for s in args.sets)
        + (f"#   nested under {args.nest}\n" if args.nest else "")
    )
    text = header + OmegaConf.to_yaml(OmegaConf.create(conf))
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
