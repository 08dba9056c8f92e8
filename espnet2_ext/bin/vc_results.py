#!/usr/bin/env python3
"""The VC results block of a recipe's README.md and the rate plot (vc.sh stage 12).

Reads ``<expdir>/<prefix>_<tag>/eval/score.json`` of every experiment and of the
reference systems (``<prefix>_ref_target``, ``_ref_resynth``, ``_ref_source``, see
``espnet2_ext.bin.vc_score``), writes ESPnet's RESULTS block (environment, the
command, one table; ``espnet2_ext.bin.asr_results``' block writer, the rest of
README.md is kept) and a PNG of intelligibility (Whisper WER) and speaker similarity
(cosine to the target) against the tokens per second the decoder's frontend made,
with the references as horizontal lines.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

from espnet2_ext.bin.asr_results import environment, write_block

REFERENCES = ("ref_target", "ref_resynth", "ref_source")
COLS = (
    ("tokens/s", "tokens_per_second", "{:.1f}"),
    ("WER whisper (%)", "wer_whisper", "{:.1f}"),
    ("WER pocketsphinx (%)", "wer_pocketsphinx", "{:.1f}"),
    ("cos target", "spk_cos_target", "{:.3f}"),
    ("cos source", "spk_cos_source", "{:.3f}"),
    ("MCD-DTW (dB)", "mcd_dtw", "{:.2f}"),
    ("DNSMOS OVRL", "dnsmos_ovrl", "{:.2f}"),
)
REF_NOTES = {
    "ref_target": "ground truth: the target's real reading",
    "ref_resynth": "Griffin-Lim of the target's own mel (MCD floor)",
    "ref_source": "source passed through (no conversion)",
}


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--expdir", required=True)
    p.add_argument("--exps", nargs="+", required=True)
    p.add_argument("--exp_prefix", default="vc")
    p.add_argument("--out", default="README.md")
    p.add_argument("--plot", default=None, help="PNG path (none: no plot)")
    p.add_argument("--command", default="")
    return p


def load(expdir: Path, prefix: str, names: List[str]) -> Dict[str, Optional[dict]]:
    out = {}
    for name in names:
        f = expdir / f"{prefix}_{name}" / "eval" / "score.json"
        out[name] = json.loads(f.read_text()) if f.is_file() else None
    return out


def value(score: Optional[dict], key: str) -> Optional[float]:
    if score is None:
        return None
    if key == "tokens_per_second":
        return score.get(key)
    return score["metrics"].get(key)


def table(scores: Dict[str, Optional[dict]]) -> List[str]:
    head = ["system", "pairs"] + [c[0] for c in COLS]
    out = ["|" + "|".join(head) + "|", "|---" * len(head) + "|"]
    for name, s in scores.items():
        cells = [name, "-" if s is None else str(s["scored"])]
        for _, key, fmt in COLS:
            v = value(s, key)
            cells.append("-" if v is None else fmt.format(v))
        out.append("|" + "|".join(cells) + "|")
    return out


def plot(scores: Dict[str, Optional[dict]], exps: List[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    panels = (
        ("wer_whisper", "Whisper WER (%)"),
        ("spk_cos_target", "cosine to the target voice"),
    )
    for ax, (key, label) in zip(axes, panels):
        for name in exps:
            x, y = value(scores[name], "tokens_per_second"), value(scores[name], key)
            if x is None or y is None:
                continue
            ax.plot(x, y, "o", color="C0")
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4))
        for i, ref in enumerate(REFERENCES):
            y = value(scores.get(ref), key)
            if y is not None:
                ax.axhline(y, ls="--", color=f"C{i + 1}", label=ref)
        ax.set_xlabel("tokens/s into the decoder")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    expdir = Path(args.expdir)
    scores = load(expdir, args.exp_prefix, list(REFERENCES) + list(args.exps))
    modes = {s["dnsmos_mode"] for s in scores.values() if s and s.get("dnsmos_mode")}
    block = environment() + [
        "",
        "## Voice conversion: parallel pairs",
        f"- command: `{args.command}`" if args.command else "- command: -",
        "- references: " + "; ".join(f"`{k}` = {v}" for k, v in REF_NOTES.items()),
        f"- DNSMOS mode: {', '.join(sorted(modes)) or 'not computed'}",
        "",
        *table(scores),
    ]
    if args.plot:
        plot(scores, list(args.exps), Path(args.plot))
        block += ["", f"![intelligibility and similarity vs tokens/s]({args.plot})"]
    write_block(
        Path(args.out), block, writer="espnet2_ext.bin.vc_results (vc.sh stage 12)"
    )
    missing = [k for k, v in scores.items() if v is None]
    print("\n".join(table(scores)))
    if missing:
        print(f"no score.json for: {' '.join(missing)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
