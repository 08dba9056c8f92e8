#!/usr/bin/env python3
"""Do the entropy boundaries mean something? Boundary precision/recall/F1 of the
segmentation rules against true word and phone boundaries (CTM), at matched rates.

For each target rate R (segments/s) every method is run on the evaluated units:

* ``global``, ``relative``, ``combined`` (entropy rules; suffix ``_min2``:
  ``min_len=2``),
  each with the threshold calibrated on the evaluated data itself to R
  (``espnet2_ext.entropy.calibrate_threshold``), ``max_len`` splitting as in the
  frontend;
* ``fixed``: windows of ``n = round(50 / R)`` units (the ``fixed_pool`` baseline; its
  rate is 50/n, not exactly R);
* ``fixed_frac``: a boundary at every ``round(k * 50 / R)``, k = 1, 2, ... (rate R);
* ``random``: ``round(T R / 50) - 1`` boundaries per utterance at uniformly random
  distinct positions (fixed ``--seed``).
With ``--lm_dedup true`` the LM is one trained on deduplicated units (the frontend's
``lm_dedup``): the entropy rules see each run's entropy at every frame of the run
(``UnitLM.run_entropy``) and their starts move to the run's first frame, as in the
frontend and its calibration.

* ``unit_change``: a boundary wherever the unit differs from the previous one (the
  segmentation that deduplication makes, at its own rate: one row, target "-"); how
  well the units' own changes line up with phones and words, which bounds what a rule
  over the units can find (compare ``random``/``fixed_frac`` at a similar rate)

Boundary times, the reference boundary sets and the matching are those of
``espnet2_ext.metrics.boundaries`` (unit t -> ``0.02 t + offset`` s, midway between
frame centres, ``offset`` from ``--feature``: 0.0025 s for MFCC/HuBERT frames, -0.01
s for Whisper frames; utterance starts not counted, one-to-one matching within
``--tolerance``). With ``--region speech`` (default) only boundaries in ``(speech
start + tolerance, speech end + tolerance]`` count, speech start/end being the first
word's start and the last word's end: the boundaries that rules and ``max_len`` put
into the leading/trailing silence are neither hits nor false alarms. ``--region all``
counts every boundary.

Outputs in ``--out``: ``results.json`` (everything), ``boundary_f1.md`` (table),
``boundary_f1.png`` (F1 against measured segments/s, word and phone panels).
Utterances of the unit dump that a given CTM lacks are skipped and counted, as are
those whose CTM runs past the end of their units (another corpus).

Usage:
    python -m espnet2_ext.bin.boundary_eval --units dump/units/test/units \\
        --lm_train_config exp/unit_lm/config.yaml \\
        --lm_file exp/unit_lm/valid.loss.ave.pth \\
        --word_ctm data/alignments/test/word.ctm \\
        --phone_ctm data/alignments/test/phone.ctm \\
        --feature whisper --target_rates "25 15 8" --out exp/boundary_eval/test
"""

import argparse
import json
import logging
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from espnet2_ext.entropy.unit_lm import add_lm_window_options

logger = logging.getLogger("boundary_eval")

ENTROPY_RULES = ("global", "relative", "combined")
DEFAULT_METHODS = (
    "global global_min2 relative relative_min2 combined combined_min2 "
    "fixed fixed_frac random unit_change"
)
#: methods that ignore the target rate (one row each, at their own rate)
RATE_FREE = ("unit_change",)
TIERS = ("word", "phone")


def parse_method(name: str) -> Tuple[str, int]:
    """``global_min2`` -> (``global``, 2); ``fixed`` -> (``fixed``, 1)."""
    base, _, suffix = name.partition("_min")
    if suffix:
        if base not in ENTROPY_RULES or not suffix.isdigit() or int(suffix) < 1:
            raise ValueError(f"bad method {name!r}: _min<N> only after {ENTROPY_RULES}")
        return base, int(suffix)
    if name not in ENTROPY_RULES + ("fixed", "fixed_frac", "random") + RATE_FREE:
        raise ValueError(f"unknown method {name!r}")
    return name, 1


def score_entropies(
    lm,
    units: Dict[str, torch.Tensor],
    keys: Sequence[str],
    batch_size: int,
    lm_dedup: bool = False,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Entropies of the listed utterances, in the order of ``keys``.

    Returns:
        entropy (B, T) float and lengths (B,) long.
    """
    from espnet2_ext.entropy.calibration import pad_entropies

    order = sorted(range(len(keys)), key=lambda i: len(units[keys[i]]))  # less padding
    ents: List[Optional[torch.Tensor]] = [None] * len(keys)
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        x, lengths = pad_entropies([units[keys[j]] for j in idx])
        h = (lm.run_entropy if lm_dedup else lm.entropy)(x.long(), lengths)
        for row, j in enumerate(idx):
            ents[j] = h[row, : int(lengths[row])]
    return pad_entropies(ents)


def _valid(lengths: torch.Tensor, T: int) -> torch.Tensor:
    return torch.arange(T)[None, :] < lengths[:, None]


def fixed_starts(
    lengths: torch.Tensor, T: int, period: float, exact: bool
) -> torch.Tensor:
    """Starts of fixed windows. (B,) lengths -> (B, T) bool.

    ``exact=False``: every ``round(period)`` units; ``exact=True``: at
    ``round(k * period)``, k = 0, 1, ... (fractional period, rate unit_rate/period).
    """
    t = torch.arange(T)
    if not exact:
        n = max(1, int(round(period)))
        mask = t % n == 0
    else:
        k = torch.arange(int(T / period) + 2, dtype=torch.float64)
        pos = torch.round(k * period).long()
        mask = torch.zeros(T, dtype=torch.bool)
        mask[pos[pos < T]] = True
    return mask[None, :].expand(lengths.size(0), T) & _valid(lengths, T)


def random_starts(
    lengths: torch.Tensor, T: int, rate: float, unit_rate: float, seed: int
) -> torch.Tensor:
    """``round(len * rate / unit_rate)`` segments per utterance (at least 1), their
    starts after t = 0 drawn uniformly without replacement. (B,) -> (B, T) bool."""
    g = torch.Generator().manual_seed(seed)
    B = lengths.size(0)
    n_seg = torch.round(lengths.double() * rate / unit_rate).long().clamp(min=1)
    n_bnd = torch.minimum(n_seg - 1, (lengths - 1).clamp(min=0))  # (B,)
    scores = torch.rand(B, T, generator=g, dtype=torch.float64)
    eligible = _valid(lengths, T)
    eligible[:, 0] = False
    scores = scores.masked_fill(~eligible, -1.0)
    rank = scores.argsort(dim=1, descending=True).argsort(dim=1)  # 0 = highest score
    starts = (rank < n_bnd[:, None]) & eligible
    starts[:, 0] = lengths > 0
    return starts


def unit_change_starts(ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Starts of the runs of equal consecutive units. (B, T) ids, (B,) -> (B, T) bool
    (t = 0 always starts; padding False)."""
    T = ids.size(1)
    starts = _valid(lengths, T).clone()
    starts[:, 1:] &= ids[:, 1:] != ids[:, :-1]
    return starts


def method_starts(
    method: str,
    entropy: torch.Tensor,
    lengths: torch.Tensor,
    rate: float,
    unit_rate: float,
    max_len: Optional[int],
    rel_threshold: float,
    seed: int,
    units: Optional[torch.Tensor] = None,
) -> Tuple[torch.Tensor, Dict]:
    """Segment starts of one method at one target rate.

    Args:
        entropy: (B, T) nats; lengths: (B,).
        units: (B, T) unit ids: the entropy rules' starts move to the first frame of
            their unit run (an LM over deduplicated units); None: they stay.

    Returns:
        starts (B, T) bool and details (threshold for the entropy rules).

    Raises:
        espnet2_ext.entropy.CalibrationError: the rate is out of a rule's reach.
    """
    from espnet2_ext.entropy import calibrate_threshold, segment

    base, min_len = parse_method(method)
    T = entropy.size(1)
    if base == "fixed":
        n = max(1, int(round(unit_rate / rate)))
        return fixed_starts(lengths, T, unit_rate / rate, exact=False), {"window": n}
    if base == "fixed_frac":
        return fixed_starts(lengths, T, unit_rate / rate, exact=True), {
            "period": unit_rate / rate
        }
    if base == "random":
        return random_starts(lengths, T, rate, unit_rate, seed), {"seed": seed}
    rel = rel_threshold if base == "combined" else None
    param = "rel_threshold" if base == "relative" else "threshold"
    fixed: Dict = dict(rule=base, max_len=max_len, min_len=min_len)
    if units is not None:
        fixed.update(units=units, snap_to_unit_start=True)
    if base == "combined":
        fixed["rel_threshold"] = rel
    # bisection for min_len 1, a sweep of the reachable set for min_len > 1 (the rate is
    # not monotonic there): espnet2_ext.entropy.calibration, as the recipes calibrate
    cal = calibrate_threshold(entropy, lengths, rate, unit_rate=unit_rate, **fixed)
    theta = cal.threshold
    how = "bisection" if min_len == 1 else "sweep"
    seg = segment(entropy, lengths, warn=False, **{param: theta}, **fixed)
    return seg.starts, {
        param: round(theta, 6),
        **({"snap_to_unit_start": True} if units is not None else {}),
        **({"rel_threshold": rel} if base == "combined" else {}),
        "min_len": min_len,
        "max_len": max_len,
        "calibration": how,
    }


def score_starts(
    starts: torch.Tensor,
    refs: Dict[str, Tuple[torch.Tensor, torch.Tensor]],
    region: Tuple[torch.Tensor, torch.Tensor],
    frame_shift: float,
    offset: float,
    tolerance: float,
    chunk: int = 256,
) -> Dict[str, Dict]:
    """Scores of segment starts against each tier's reference boundaries.

    Args:
        starts: (B, T) bool.
        refs: tier -> (times (B, M), lengths (B,)), already restricted to the region.
        region: (low (B,), high (B,)) seconds; hypothesis boundaries count in
            (low, high].
    """
    from espnet2_ext.metrics.boundaries import (
        BoundaryScores,
        match_boundaries,
        restrict_times,
        starts_to_times,
    )

    counts = {tier: [0, 0, 0] for tier in refs}
    for i in range(0, starts.size(0), chunk):  # bounds the (B, N, M) distance tensor
        h, hl = starts_to_times(starts[i : i + chunk], frame_shift, offset)
        h, hl = restrict_times(
            h, hl, region[0][i : i + chunk], region[1][i : i + chunk]
        )
        for tier, (r, rl) in refs.items():
            hits = match_boundaries(
                h, hl, r[i : i + chunk], rl[i : i + chunk], tolerance
            )
            c = counts[tier]
            c[0] += int(hits.sum())
            c[1] += int(hl.sum())
            c[2] += int(rl[i : i + chunk].sum())
    return {t: BoundaryScores.from_counts(*c).as_dict() for t, c in counts.items()}


def write_table(path: Path, res: Dict) -> None:
    """Markdown table of the results."""
    tiers = res["tiers"]
    head = ["method", "target seg/s", "seg/s", "threshold"]
    for t in tiers:
        head += [f"{t} P", f"{t} R", f"{t} F1", f"{t} R-val"]
    lines = [
        f"Boundary detection against true {' and '.join(tiers)} boundaries "
        f"(tolerance {res['config']['tolerance'] * 1000:.0f} ms, region "
        f"{res['config']['region']}; {res['counts']['out']} utterances, "
        f"{res['total_seconds']:.1f} s of units).",
        "",
        "Reference boundaries per second: "
        + ", ".join(f"{t} {res['reference'][t]['per_second']:.2f}" for t in tiers)
        + ".",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for row in res["rows"]:
        thr = row["details"].get("threshold", row["details"].get("rel_threshold"))
        cells = [
            row["method"],
            "-" if row["target_rate"] is None else f"{row['target_rate']:g}",
            f"{row['rate']:.2f}",
            f"{thr:.3f}" if thr is not None else "-",
        ]
        for t in tiers:
            s = row[t]
            cells += [
                f"{100 * s['precision']:.1f}",
                f"{100 * s['recall']:.1f}",
                f"{100 * s['f1']:.1f}",
                f"{100 * s['r_value']:.1f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    if res["failed"]:
        lines += ["", "Not reachable (calibration error):", ""]
        lines += [
            f"- {f['method']} at {f['target_rate']:g}/s: {f['error']}"
            for f in res["failed"]
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_plot(path: Path, res: Dict) -> None:
    """F1 against measured segments/s, one line per method, a panel per tier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tiers = res["tiers"]
    fig, axes = plt.subplots(
        1, len(tiers), figsize=(4.6 * len(tiers), 3.6), squeeze=False
    )
    methods = list(dict.fromkeys(r["method"] for r in res["rows"]))
    for ax, tier in zip(axes[0], tiers):
        for m in methods:
            rows = sorted(
                (r for r in res["rows"] if r["method"] == m), key=lambda r: r["rate"]
            )
            style = "--" if m in ("fixed", "fixed_frac", "random") else "-"
            ax.plot(
                [r["rate"] for r in rows],
                [100 * r[tier]["f1"] for r in rows],
                style,
                marker="o",
                ms=3,
                lw=1.2,
                label=m,
            )
        ax.axvline(res["reference"][tier]["per_second"], color="gray", ls=":", lw=1)
        ax.set_title(
            f"{tier} boundaries (tol {res['config']['tolerance'] * 1000:.0f} ms)"
        )
        ax.set_xlabel("segments / s")
        ax.set_ylabel("F1 (%)")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--units", required=True, type=Path, help="Kaldi-style unit dump (utt u u ...)"
    )
    p.add_argument("--lm_train_config", required=True)
    p.add_argument("--lm_file", required=True)
    p.add_argument("--word_ctm", type=Path, help="reference word CTM")
    p.add_argument("--phone_ctm", type=Path, help="reference phone CTM")
    p.add_argument("--target_rates", default="25 15 8", help="segments per second")
    p.add_argument("--methods", default=DEFAULT_METHODS)
    p.add_argument(
        "--max_len", type=int, default=10, help="entropy rules; 0: unlimited"
    )
    p.add_argument(
        "--rel_threshold", type=float, default=0.0, help="theta_r of 'combined'"
    )
    p.add_argument("--tolerance", type=float, default=0.02, help="seconds")
    p.add_argument("--unit_rate", type=float, default=50.0, help="units per second")
    p.add_argument(
        "--feature",
        choices=["mfcc", "hubert", "whisper"],
        help="the extractor the units come from; sets --boundary_offset from where "
        "its frames are centred (mfcc, hubert: 0.0025 s; whisper: -0.01 s)",
    )
    p.add_argument(
        "--boundary_offset",
        type=float,
        help="seconds added to t / unit_rate for a segment starting at unit t "
        "(default: from --feature)",
    )
    p.add_argument("--region", default="speech", choices=["speech", "all"])
    p.add_argument("--max_utts", type=int, default=0, help="0: all utterances")
    p.add_argument("--batch_size", type=int, default=32)
    add_lm_window_options(p)
    p.add_argument(
        "--lm_dedup",
        type=lambda v: {"true": True, "false": False}[v.lower()],
        default=False,
        metavar="{true,false}",
        help="the LM was trained on deduplicated units (the frontend's lm_dedup)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, type=Path)
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    from espnet2_ext.bin.calibrate_threshold import read_units
    from espnet2_ext.entropy import CalibrationError
    from espnet2_ext.entropy.unit_lm import UnitLM
    from espnet2_ext.metrics.boundaries import (
        boundary_offset,
        ctm_boundaries,
        pad_times,
        read_ctm,
        restrict_times,
        speech_region,
    )
    from espnet2_ext.units.features import frame_centre

    t0 = time.time()
    ctm_paths = {
        t: p for t, p in (("word", args.word_ctm), ("phone", args.phone_ctm)) if p
    }
    if not ctm_paths:
        logger.error("give --word_ctm and/or --phone_ctm")
        return 2
    if args.boundary_offset is None:
        if args.feature is None:
            logger.error(
                "give --feature (mfcc | hubert | whisper: where the unit frames are "
                "centred) or --boundary_offset"
            )
            return 2
        args.boundary_offset = boundary_offset(
            frame_centre(args.feature), 1.0 / args.unit_rate
        )
    logger.info(
        "boundary before unit t at t / %g + %g s", args.unit_rate, args.boundary_offset
    )
    rates = [float(r) for r in args.target_rates.split()]
    methods = args.methods.split()
    for m in methods:
        parse_method(m)
    lm = UnitLM.from_files(
        args.lm_train_config,
        args.lm_file,
        window=args.lm_window,
        overlap=args.lm_overlap,
    )
    units = read_units(args.units, lm.token_list)
    keys = sorted(units)
    if args.max_utts and len(keys) > args.max_utts:
        random.Random(args.seed).shuffle(keys)
        keys = sorted(keys[: args.max_utts])
    ctms = {t: read_ctm(p) for t, p in ctm_paths.items()}

    # utterances: in the unit dump (after --max_utts), kept when every CTM has them
    skipped: Counter = Counter()
    kept: List[str] = []
    shift = 1.0 / args.unit_rate
    for k in keys:
        missing = [t for t in ctm_paths if not ctms[t].get(k)]
        if missing:
            skipped[f"missing_{missing[0]}_ctm"] += 1
            continue
        end = max(speech_region(ctms[t][k])[1] for t in ctm_paths)
        if end > len(units[k]) * shift + 0.1:
            skipped["ctm_beyond_units"] += 1
            continue
        kept.append(k)
    n_in = len(keys)
    extra = {t: len(set(c) - set(units)) for t, c in ctms.items()}
    logger.info(
        "utterances: in=%d out=%d skipped=%d%s; CTM utterances without units: %s",
        n_in,
        len(kept),
        n_in - len(kept),
        (
            f" ({', '.join(f'{r}={c}' for r, c in sorted(skipped.items()))})"
            if skipped
            else ""
        ),
        ", ".join(f"{t}={n}" for t, n in extra.items()),
    )
    if not kept:
        logger.error("no utterance to evaluate")
        return 1

    entropy, lengths = score_entropies(lm, units, kept, args.batch_size, args.lm_dedup)
    ids = torch.nn.utils.rnn.pad_sequence(
        [torch.as_tensor(units[k]).long() for k in kept], batch_first=True
    )
    total_s = float(lengths.sum()) * shift
    region_tier = "word" if "word" in ctm_paths else "phone"
    reg = [speech_region(ctms[region_tier][k]) for k in kept]
    if args.region == "speech":
        low = torch.tensor([a + args.tolerance for a, _ in reg], dtype=torch.float64)
        high = torch.tensor([b + args.tolerance for _, b in reg], dtype=torch.float64)
    else:
        low = torch.full((len(kept),), -1.0, dtype=torch.float64)
        high = torch.full((len(kept),), float("inf"), dtype=torch.float64)
    refs, reference = {}, {}
    for t in ctm_paths:
        r, rl = pad_times([ctm_boundaries(ctms[t][k]) for k in kept])
        refs[t] = restrict_times(r, rl, low, high)
        n_ref = int(refs[t][1].sum())
        reference[t] = {"boundaries": n_ref, "per_second": n_ref / total_s}

    max_len = args.max_len or None
    rows, failed = [], []

    def add_row(m: str, rate: Optional[float], starts: torch.Tensor, details: Dict):
        scores = score_starts(
            starts, refs, (low, high), shift, args.boundary_offset, args.tolerance
        )
        measured = float(starts.sum()) / total_s
        rows.append(
            {
                "method": m,
                "target_rate": rate,
                "rate": measured,
                "details": details,
                **scores,
            }
        )
        logger.info(
            "%-15s target %5s/s: %5.2f seg/s  %s",
            m,
            "-" if rate is None else f"{rate:.1f}",
            measured,
            "  ".join(
                f"{t} P/R/F1 {100 * s['precision']:.1f}/{100 * s['recall']:.1f}/"
                f"{100 * s['f1']:.1f}"
                for t, s in scores.items()
            ),
        )

    for rate in rates:
        for m in methods:
            if m in RATE_FREE:
                continue
            try:
                starts, details = method_starts(
                    m,
                    entropy,
                    lengths,
                    rate,
                    args.unit_rate,
                    max_len,
                    args.rel_threshold,
                    args.seed,
                    units=ids if args.lm_dedup else None,
                )
            except CalibrationError as e:
                logger.warning("%s at %g/s: %s", m, rate, e)
                failed.append({"method": m, "target_rate": rate, "error": str(e)})
                continue
            add_row(m, rate, starts, details)
    if "unit_change" in methods:
        add_row("unit_change", None, unit_change_starts(ids, lengths), {})
    res = {
        "config": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
        },
        "counts": {
            "in": n_in,
            "out": len(kept),
            "skipped": n_in - len(kept),
            "skipped_reasons": dict(skipped),
            "ctm_utterances_without_units": extra,
        },
        "tiers": list(ctm_paths),
        "total_seconds": total_s,
        "reference": reference,
        "rows": rows,
        "failed": failed,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps(res, indent=2) + "\n", encoding="utf-8"
    )
    write_table(args.out / "boundary_f1.md", res)
    if rows:
        write_plot(args.out / "boundary_f1.png", res)
    logger.info(
        "wrote %s/{results.json,boundary_f1.md,boundary_f1.png} (%d rows, "
        "%d not reachable) in %.1fs",
        args.out,
        len(rows),
        len(failed),
        time.time() - t0,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
