#!/usr/bin/env python3
"""What segments each compressing experiment makes: statistics of the segmentation of
a unit dump by the frontend of each trained experiment (its own config.yaml).

For every ``--exp NAME=EXP_DIR`` whose frontend segments (``entropy_compress``,
``fixed_pool``, ``oracle_pool``), on the utterances of ``--units``:

* ``segments_per_s``: segments per second of audio (50 units per second);
* ``one_unit``: share of the segments that are one unit long;
* ``units_in_5plus``: share of the units that sit in segments of 5 units or more;
* ``mean_len``: mean segment length in units;
* ``distinct_ids``: mean number of distinct unit ids per segment;
* ``starts_at_change``: share of the starts after the first that fall where the unit
  differs from the previous one (a unit change).

Run from the recipe directory (the configs' paths are relative to it)::

    python ../../TEMPLATE/pyscripts/segment_stats.py --units dump/units/test/units \\
        --exp entropy_15=exp/bench_entropy_rate15 \\
        --exp fixed_15=exp/bench_fixed_pool3.333 --out benchmark/segment_stats
"""

import argparse
import json
import logging
import sys
from pathlib import Path

import torch
import yaml

logger = logging.getLogger("segment_stats")


def read_units(path: Path, token_list):
    index = {t: i for i, t in enumerate(token_list)}
    unk = index.get("<unk>", 1)
    seqs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) > 1:
            seqs.append([index.get(u, unk) for u in parts[1:]])
    return seqs


def stats(units: torch.Tensor, lengths: torch.Tensor, seg) -> dict:
    """Statistics of one segmentation of a padded batch (B, T)."""
    B, T = units.shape
    valid = torch.arange(T)[None, :] < lengths[:, None]
    S = int(seg.counts.max())
    sid = seg.seg_ids.clamp(min=0)
    dur = torch.zeros(B, S, dtype=torch.long).scatter_add_(1, sid, valid.long())
    has = torch.arange(S)[None, :] < seg.counts[:, None]
    d = dur[has].double()
    # distinct ids per segment: a position counts when its id differs from every
    # earlier id of the same segment (ids sorted inside each segment first)
    key = sid * (int(units.max()) + 1) + units
    key = torch.where(valid, key, torch.full_like(key, -1))
    srt = key.sort(dim=1).values
    new = torch.ones_like(srt, dtype=torch.bool)
    new[:, 1:] = srt[:, 1:] != srt[:, :-1]
    new &= srt >= 0
    change = torch.zeros_like(valid)
    change[:, 1:] = units[:, 1:] != units[:, :-1]
    later = seg.starts.clone()
    later[:, 0] = False
    n_units = float(lengths.sum())
    return {
        "utterances": B,
        "segments": int(seg.counts.sum()),
        "segments_per_s": round(float(seg.counts.sum()) / (n_units / 50.0), 2),
        "one_unit": round(float((d == 1).double().mean()), 3),
        "units_in_5plus": round(float(d[d >= 5].sum()) / n_units, 3),
        "mean_len": round(float(d.mean()), 2),
        "distinct_ids": round(float(new.sum()) / float(seg.counts.sum()), 2),
        "starts_at_change": round(
            float((later & change).sum()) / max(float(later.sum()), 1.0), 3
        ),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--units", type=Path, required=True, help="Kaldi unit dump")
    p.add_argument("--exp", action="append", required=True, help="NAME=EXP_DIR")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--out", type=Path, required=True, help="<out>.md and <out>.json")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from espnet2_ext.tasks.mt import OUR_FRONTENDS

    rows = []
    for spec in args.exp:
        name, _, exp = spec.partition("=")
        if not (Path(exp) / "config.yaml").is_file():
            logger.warning(
                "%s: no %s/config.yaml (not trained yet); skipped", name, exp
            )
            continue
        conf = yaml.safe_load((Path(exp) / "config.yaml").read_text())
        kind = conf.get("frontend")
        if kind not in ("entropy_compress", "fixed_pool", "oracle_pool"):
            logger.info("%s: frontend %s does not segment; skipped", name, kind)
            continue
        token_list = conf["src_token_list"]
        if isinstance(token_list, str):
            token_list = Path(token_list).read_text().split()
        fe = OUR_FRONTENDS[kind](
            input_size=len(token_list), **dict(conf.get("frontend_conf") or {})
        ).eval()
        seqs = read_units(args.units, token_list)
        parts = []
        with torch.no_grad():
            for i in range(0, len(seqs), args.batch_size):
                chunk = seqs[i : i + args.batch_size]
                lengths = torch.tensor([len(s) for s in chunk])
                units = torch.zeros(len(chunk), int(lengths.max()), dtype=torch.long)
                for b, s in enumerate(chunk):
                    units[b, : len(s)] = torch.tensor(s)
                parts.append((units, lengths, fe.segmentation(units, lengths)))
        # one table row over all utterances: pad every chunk to one length
        T = max(u.size(1) for u, _, _ in parts)

        def pad(x, v):
            return torch.nn.functional.pad(x, (0, T - x.size(1)), value=v)

        units = torch.cat([pad(u, 0) for u, _, _ in parts])
        lengths = torch.cat([n for _, n, _ in parts])
        from espnet2_ext.entropy.boundaries import Segmentation

        seg = Segmentation(
            seg_ids=torch.cat([pad(s.seg_ids, -1) for _, _, s in parts]),
            counts=torch.cat([s.counts for _, _, s in parts]),
            starts=torch.cat([pad(s.starts, False) for _, _, s in parts]),
            no_boundary=torch.cat([s.no_boundary for _, _, s in parts]),
        )
        row = {
            "method": name,
            "exp": exp,
            "frontend": kind,
            **stats(units, lengths, seg),
        }
        logger.info("%s", row)
        rows.append(row)
    if not rows:
        logger.error("no experiment with a segmenting frontend")
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cols = [
        "segments_per_s",
        "one_unit",
        "units_in_5plus",
        "mean_len",
        "distinct_ids",
        "starts_at_change",
    ]
    md = [
        f"Segment statistics on `{args.units}` ({rows[0]['utterances']} utterances); "
        "made by `python ../../TEMPLATE/pyscripts/segment_stats.py "
        + " ".join(sys.argv[1:] if argv is None else argv)
        + "`",
        "",
        "| method | " + " | ".join(cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    md += [
        "| " + " | ".join([r["method"]] + [str(r[c]) for c in cols]) + " |"
        for r in rows
    ]
    Path(f"{args.out}.md").write_text("\n".join(md) + "\n")
    Path(f"{args.out}.json").write_text(json.dumps(rows, indent=1) + "\n")
    logger.info("wrote %s.md and %s.json", args.out, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
