#!/usr/bin/env python3
"""Write a recipe's RESULTS.md from its experiments' score files (stage 11 output)."""

import argparse
import datetime
import json
import sys
from pathlib import Path

# RESULTS.md from this line on is kept when the file is rewritten (see bench_report)
KEEP_MARKER = "<!-- benchmark: written by espnet2_ext.bin.bench_report -->"


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--expdir", type=Path, default=Path("exp"))
    p.add_argument("--exps", nargs="+", required=True)
    p.add_argument("--exp_prefix", default="asr", help="experiment dirs are <expdir>/<prefix>_<tag>")
    p.add_argument("--test_sets", nargs="+", required=True)
    p.add_argument("--out", type=Path, default=Path("RESULTS.md"))
    p.add_argument("--command", default="", help="the command that produced the results")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    head = ["method", "tokens/s into encoder", "compression vs 50 Hz", "params (trainable)",
            "frozen unit LM params"]
    head += [f"WER {t} (%)" for t in args.test_sets]
    head += ["train time (s, epochs)", "decode time (s, all test sets)"]
    rows, missing = [], []
    for tag in args.exps:
        d = args.expdir / f"{args.exp_prefix}_{tag}"
        scores = {}
        for t in args.test_sets:
            f = d / f"decode_{t}" / "score.json"
            if f.is_file():
                scores[t] = json.loads(f.read_text())
            else:
                missing.append(str(f))
        if not scores:
            continue
        first = next(iter(scores.values()))
        train_s = (d / "train_seconds").read_text().strip() if (d / "train_seconds").is_file() else "-"
        dec = sum(s.get("decode_seconds", 0.0) for s in scores.values())
        row = [tag, f"{first.get('tokens_per_sec', float('nan')):.1f}",
               f"{first.get('compression', float('nan')):.2f}x", f"{first.get('params', 0) / 1e6:.2f} M",
               f"{first['frozen_params'] / 1e6:.2f} M" if first.get("frozen_params") else "-"]
        row += [f"{scores[t]['wer']:.2f}" if t in scores else "-" for t in args.test_sets]
        row += [train_s, f"{dec:.0f}"]
        rows.append(row)
    lines = [
        "# RESULTS", "",
        f"Produced by `espnet2_ext.bin.asr_results` on {datetime.date.today()} from `{args.expdir}`"
        + (f", after `{args.command}`" if args.command else "") + ".", "",
        "tokens/s and compression are measured on the first test set by running each model's",
        "own frontend (the <sos/eos> ESPnet prepends is not counted); times are wall-clock on",
        "the machine that ran the recipe (training: the epochs' train and valid phases).", "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    if missing:
        lines += ["", "Missing score files: " + ", ".join(missing)]
    # keep a section that another tool maintains (run_benchmark.sh's table)
    if args.out.is_file():
        old = args.out.read_text()
        if KEEP_MARKER in old:
            lines += ["", old[old.index(KEEP_MARKER):].rstrip("\n")]
    args.out.write_text("\n".join(lines) + "\n")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
