#!/usr/bin/env python3
"""The VC results block of a recipe's README.md and the rate plot (vc.sh stage 12).

Reads ``<expdir>/<prefix>_<tag>/eval/score.json`` of every experiment and of the
reference systems (``<prefix>_ref_target``, ``_ref_resynth``, ``_ref_source``, see
``espnet2_ext.bin.vc_score``), writes ESPnet's RESULTS block (environment, the
command, one table; ``espnet2_ext.bin.asr_results``' block writer, the rest of
README.md is kept) and a PNG of intelligibility (Whisper WER) and speaker similarity
(cosine to the target) against the tokens per second the decoder's frontend made,
with the references as horizontal lines. With ``--spectrogram`` (and ``--pairs``,
``--wav_scp``), also a PNG of log-mel spectrograms of one parallel pair: the source,
the target's real reading, and the conversions of ``dense`` and of the first
``entropy*`` experiment (the first pair that every one of them converted), linked
under the table.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

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
    "ref_resynth": "the target's own features through the models' vocoder (WORLD: "
    "its envelope, F0 and aperiodicity; log-mel: Griffin-Lim) (MCD floor)",
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
    p.add_argument(
        "--spectrogram",
        default=None,
        help="PNG of the spectrograms of one pair (source, target, dense, entropy)",
    )
    p.add_argument("--pairs", default=None, help="<pair-id> <source-utt> <target-utt>")
    p.add_argument("--wav_scp", default=None, help="audio of the sources and targets")
    p.add_argument(
        "--convert_dir",
        default="convert_parallel",
        help="the conversions: <expdir>/<prefix>_<tag>/<convert_dir>/wav.scp",
    )
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


def read_scp(path: Path) -> Dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out


def spectrogram_panels(
    expdir: Path,
    prefix: str,
    exps: List[str],
    pairs: Path,
    wav_scp: Path,
    convert_dir: str,
) -> List[Tuple[str, str]]:
    """(title, audio entry) of the panels: source, target, ``dense`` and the first
    ``entropy*`` experiment's conversions (those of them in ``exps``), for the first
    pair that every shown experiment converted; [] if there is none."""
    shown = [e for e in exps if e == "dense"][:1]
    shown += [e for e in exps if e.startswith("entropy")][:1]
    converted = {}
    for tag in shown:
        scp = expdir / f"{prefix}_{tag}" / convert_dir / "wav.scp"
        converted[tag] = read_scp(scp) if scp.is_file() else {}
    wavs = read_scp(wav_scp)
    for line in pairs.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1] not in wavs or parts[2] not in wavs:
            continue
        pair, src, tgt = parts
        if all(pair in converted[t] for t in shown):
            return [
                (f"source {src}", wavs[src]),
                (f"target's reading {tgt}", wavs[tgt]),
            ] + [(f"{t} conversion of {pair}", converted[t][pair]) for t in shown]
    return []


def plot_spectrograms(panels: List[Tuple[str, str]], path: Path) -> None:
    """One log-mel spectrogram (16 kHz, 80 bins, 10 ms hop) per panel, stacked."""
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from espnet2_ext.units.audio import load_audio

    sr = 16000
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(10, 1.9 * len(panels)), squeeze=False
    )
    for ax, (title, entry) in zip(axes[:, 0], panels):
        x = load_audio(entry, target_sr=sr, min_duration=0.0).numpy()
        mel = librosa.feature.melspectrogram(
            y=x, sr=sr, n_fft=1024, hop_length=160, n_mels=80, fmin=0, fmax=8000
        )
        db = librosa.power_to_db(mel, ref=np.max, top_db=80.0)
        ax.imshow(
            db,
            origin="lower",
            aspect="auto",
            extent=(0, len(x) / sr, 0, 80),
            cmap="magma",
        )
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("mel bin")
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
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
    if args.spectrogram:
        if not (args.pairs and args.wav_scp):
            raise SystemExit("--spectrogram needs --pairs and --wav_scp")
        panels = spectrogram_panels(
            expdir,
            args.exp_prefix,
            list(args.exps),
            Path(args.pairs),
            Path(args.wav_scp),
            args.convert_dir,
        )
        if panels:
            plot_spectrograms(panels, Path(args.spectrogram))
            block += [
                "",
                f"![log-mel spectrograms: {', '.join(t for t, _ in panels)}]"
                f"({args.spectrogram})",
            ]
        else:
            print("no pair converted by every shown experiment", file=sys.stderr)
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
