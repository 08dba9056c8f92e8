#!/usr/bin/env python3
"""Draw, for one utterance, its spectrogram, the unit LM's entropy curve, the threshold
and the segment boundaries (with the unit ids where they fit) into a PNG.

From audio (needs the recipe's ``exp/kmeans/units.yaml`` to turn it into units):
    python -m espnet2_ext.bin.plot_entropy --audio a.flac \
        --units_config exp/kmeans/units.yaml \
        --lm_train_config exp/unit_lm/config.yaml \
        --lm_file exp/unit_lm/valid.loss.ave.pth \
        --calibration exp/unit_lm/calib/rate15.yaml --out entropy.png
From a unit dump line (no spectrogram unless --audio is also given):
    python -m espnet2_ext.bin.plot_entropy --units_text dump/units/test/units \
        --utt <id> --feature whisper ...

The threshold comes from ``--threshold`` or from a calibration YAML (stage 7).
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import yaml

from espnet2_ext.entropy.unit_lm import add_lm_window_options

logger = logging.getLogger("plot_entropy")


def units_from_audio(audio: str, units_config: Path):
    """Audio file -> (waveform (N,) at 16 kHz, k-means unit ids (T,))."""
    from espnet2_ext.units.audio import load_audio
    from espnet2_ext.units.features import build_feature_extractor
    from espnet2_ext.units.kmeans import KMeansModel

    conf = yaml.safe_load(units_config.read_text())
    base = units_config.parent
    km_path = Path(conf["kmeans"])
    if not km_path.is_file():  # recipe-relative path: try next to the recipe dir
        km_path = base.parent.parent / conf["kmeans"]
    wav = load_audio(audio)
    fe = build_feature_extractor(
        conf["feature"], **(conf.get("feature_conf") or {})
    ).eval()
    with torch.no_grad():
        feats, flen = fe(wav[None], torch.tensor([wav.numel()]))
    units = KMeansModel.load(str(km_path)).predict(feats[0, : int(flen[0])])
    return wav.numpy(), units


def plot_times(
    T: int, starts: np.ndarray, unit_rate: float, frame_centre: float
) -> tuple:
    """Where the figure puts things, in seconds: the entropy of each unit (T,) at its
    frame centre, and each segment start after the first (its boundary) midway
    between the centres of the frames before and after it."""
    from espnet2_ext.metrics.boundaries import boundary_offset

    b = np.nonzero(starts)[0]
    b = b[b > 0]
    return (
        np.arange(T) / unit_rate + frame_centre,
        b / unit_rate + boundary_offset(frame_centre, 1.0 / unit_rate),
    )


def plot(
    out: Path,
    entropy: np.ndarray,
    starts: np.ndarray,
    labels: list,
    threshold: Optional[float],
    wav: Optional[np.ndarray] = None,
    unit_rate: float = 50.0,
    title: str = "",
    words: Optional[list] = None,
    frame_centre: float = 0.0125,
) -> None:
    """Write the figure. entropy, starts: (T,); labels: T unit strings;
    words: optional true word intervals ``[(start_s, end_s, word)]`` (a CTM);
    frame_centre: seconds from ``t / unit_rate`` to the centre of frame ``t``
    (``espnet2_ext.units.features.frame_centre``): the entropy of unit ``t`` is drawn
    there, a segment start before unit ``t`` midway between two frame centres."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    T = len(entropy)
    t, b_times = plot_times(T, starts, unit_rate, frame_centre)
    n_seg = int(np.count_nonzero(starts))
    rows = 2 if wav is not None else 1
    fig, axes = plt.subplots(
        rows, 1, figsize=(max(8.0, T / 25), 3.2 * rows), sharex=True, squeeze=False
    )
    axes = axes[:, 0]
    if wav is not None:
        axes[0].specgram(wav, NFFT=400, Fs=16000, noverlap=240, cmap="magma")
        axes[0].set_ylabel("Hz")
        axes[0].set_title(title or "spectrogram")
    ax = axes[-1]
    ax.plot(t, entropy, color="tab:blue", lw=1.2, label="entropy H_t (nats)")
    if threshold is not None:
        ax.axhline(
            threshold,
            color="tab:red",
            ls="--",
            lw=1,
            label=f"threshold {threshold:.2f}",
        )
    for i, x_b in enumerate(b_times):
        for a in axes:
            a.axvline(
                x_b,
                color="white" if (wav is not None and a is axes[0]) else "gray",
                lw=0.6,
                alpha=0.8,
                label="segment start" if (i == 0 and a is ax) else None,
            )
    if words:
        top = axes[0]
        for i, (a, _, w) in enumerate(words):
            for x in axes:
                x.axvline(
                    a,
                    color="tab:green",
                    lw=1.4,
                    alpha=0.9,
                    ls=":",
                    label="true word start" if (i == 0 and x is ax) else None,
                )
            top.text(
                a + 0.005,
                0.98,
                w.lower(),
                transform=top.get_xaxis_transform(),
                fontsize=7,
                va="top",
                ha="left",
                color="white" if wav is not None else "tab:green",
            )
    if T <= 400:  # unit ids fit: write them under the curve
        ymin = float(entropy.min()) - 0.05 * (
            float(entropy.max()) - float(entropy.min()) + 1e-6
        )
        for k in range(T):
            ax.text(
                t[k],
                ymin,
                labels[k],
                fontsize=5,
                rotation=90,
                ha="center",
                va="top",
                color="dimgray",
            )
        ax.set_ylim(bottom=ymin - 0.15 * (float(entropy.max()) - ymin + 1e-6))
    ax.set_xlabel(
        f"time (s); {T} units, {n_seg} segments ({n_seg / (T / unit_rate):.1f}/s)"
    )
    ax.set_ylabel("nats")
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--lm_train_config", required=True)
    p.add_argument("--lm_file", required=True)
    p.add_argument("--audio", help="audio file (any rate/channels)")
    p.add_argument(
        "--units_config", type=Path, help="exp/kmeans/units.yaml (with --audio)"
    )
    p.add_argument(
        "--units_text", type=Path, help="Kaldi-style unit dump (instead of --audio)"
    )
    p.add_argument("--utt", help="utterance id in --units_text (default: the first)")
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument(
        "--calibration", type=Path, help="rate<R>.yaml from the calibration stage"
    )
    p.add_argument(
        "--max_len", type=int, default=None, help="default: from --calibration, else 10"
    )
    p.add_argument("--unit_rate", type=float, default=50.0)
    p.add_argument(
        "--feature",
        choices=["mfcc", "hubert", "whisper"],
        help="the extractor the units come from (where its frames are centred); "
        "default: from --units_config, required without it",
    )
    add_lm_window_options(p)
    p.add_argument(
        "--word_ctm",
        type=Path,
        help="true word times (CTM, e.g. from local/espeak_align.py) to draw",
    )
    p.add_argument("--out", required=True, type=Path)
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    from espnet2_ext.entropy.boundaries import segment
    from espnet2_ext.entropy.unit_lm import UnitLM

    fconf = {}
    if args.calibration:
        fconf = yaml.safe_load(args.calibration.read_text())["frontend_conf"]
    rule = fconf.get("rule", "global")
    threshold = args.threshold if args.threshold is not None else fconf.get("threshold")
    rel = fconf.get("rel_threshold")
    max_len = args.max_len if args.max_len is not None else fconf.get("max_len", 10)
    min_len = fconf.get("min_len", 1)
    if threshold is None and rule != "relative":
        raise SystemExit("give --threshold or --calibration")
    feature = args.feature
    if feature is None and args.units_config:
        feature = yaml.safe_load(args.units_config.read_text())["feature"]
    if feature is None:
        raise SystemExit(
            "give --feature (mfcc | hubert | whisper: where the unit frames are "
            "centred) or --units_config"
        )
    from espnet2_ext.units.features import frame_centre

    lm = UnitLM.from_files(
        args.lm_train_config,
        args.lm_file,
        window=args.lm_window,
        overlap=args.lm_overlap,
    )
    wav = None
    title = ""
    if args.units_text:
        line = None
        for ln in args.units_text.read_text(encoding="utf-8").splitlines():
            parts = ln.split()
            if parts and (args.utt is None or parts[0] == args.utt):
                line = parts
                break
        if line is None:
            raise SystemExit(f"utterance {args.utt!r} not in {args.units_text}")
        labels, title = line[1:], line[0]
        if args.audio:
            from espnet2_ext.units.audio import load_audio

            wav = load_audio(args.audio).numpy()
    elif args.audio and args.units_config:
        wav, km_units = units_from_audio(args.audio, args.units_config)
        labels, title = [str(int(u)) for u in km_units], Path(args.audio).name
    else:
        raise SystemExit("give --audio with --units_config, or --units_text")
    index = {tok: i for i, tok in enumerate(lm.token_list)}
    ids = torch.tensor([[index.get(u, index["<unk>"]) for u in labels]])
    lengths = torch.tensor([ids.size(1)])
    h = lm.entropy(ids, lengths)
    seg = segment(
        h,
        lengths,
        rule=rule,
        threshold=threshold,
        rel_threshold=rel,
        max_len=max_len,
        min_len=min_len,
        warn=False,
    )
    words = None
    if args.word_ctm:
        from espnet2_ext.metrics.boundaries import read_ctm

        words = read_ctm(args.word_ctm).get(title)
        if words is None:
            logger.warning(
                "%s has no entry for %s: no word boundaries drawn", args.word_ctm, title
            )
    plot(
        args.out,
        h[0].numpy(),
        seg.starts[0].numpy(),
        labels,
        threshold if rule != "relative" else None,
        wav,
        args.unit_rate,
        title,
        words,
        frame_centre(feature),
    )
    logger.info(
        "wrote %s (%d units, %d segments)", args.out, ids.size(1), int(seg.counts[0])
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
