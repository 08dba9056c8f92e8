#!/usr/bin/env python3
"""Which encoder layer to cluster? k-means units of each layer, measured for phone
content, phone timing and (for voice conversion) how much of the mel they determine.

For each layer in ``--layers``: features of ``--num_train`` random training
utterances (``--train_scp``) and of every evaluated utterance (``--eval_scp``),
k-means with ``--n_clusters`` on the training frames, units of the evaluated set, then

* with ``--phone_ctm``: PNMI and purities (``espnet2_ext.metrics.units``; the HuBERT
  paper's measures) and the boundary F1 of the points where the unit changes against
  the phone (and ``--word_ctm``) boundaries, beside random positions and an even grid
  at the same rate (``boundary_eval``'s ``unit_change``, ``random``, ``fixed_frac``
  and its conventions: 20 ms, speech region only);
* with ``--mel_stats`` (a VC recipe's ``exp/vc_stats/train/feats_stats.npz``): a table
  unit -> mean normalised log-mel (ESPnet ``fbank`` with the VC settings of
  ``espnet2_ext.vc.vocoder.VC_FBANK``), fitted on the training utterances and applied to
  the evaluated ones; its L1 (per bin, normalised units) at unit-to-frame offsets
  0, 1 and 2 (the VC model's ``target_offset``). A speaker-blind, context-free
  predictor: lower means the units pin down more of the mel.

Usage (from ``egs2/mini_synth/asr`` after stage 1 and ``local/espeak_align.py``):
    python -m espnet2_ext.bin.layer_probe --feature whisper --layers "1 2 3 4" \\
        --train_scp data/train/wav.scp --eval_scp data/test/wav.scp \\
        --phone_ctm data/align/test/phone.ctm --word_ctm data/align/test/word.ctm \\
        --out exp/layer_probe

Writes ``results.json`` and ``layers.md`` to ``--out``.
"""

import argparse
import json
import logging
import random
import shlex
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch

from espnet2_ext.utils.shards import read_scp

logger = logging.getLogger("layer_probe")


def load_wavs(scp: Dict[str, str], keys: List[str]) -> Dict[str, torch.Tensor]:
    from espnet2_ext.units.audio import AudioError, load_audio

    out, bad = {}, []
    for k in keys:
        try:
            out[k] = load_audio(scp[k])
        except AudioError as e:
            bad.append(f"{k} ({e})")
    if bad:
        logger.warning("skipped %d unreadable utterance(s): %s", len(bad), bad[:5])
    return out


@torch.no_grad()
def extract(extractor, wavs: Dict[str, torch.Tensor]) -> Dict[str, np.ndarray]:
    out = {}
    for k, w in wavs.items():  # one utterance per call: each at its own length
        f, n = extractor(w[None], torch.tensor([w.numel()]))
        out[k] = f[0, : int(n[0])].float().numpy()
    return out


def boundary_rows(
    units: Dict[str, np.ndarray], ctms: Dict, seed: int, offset: float
) -> Dict:
    """unit_change / random / grid boundary scores (phone, word) at the change rate;
    ``offset``: seconds from ``0.02 t`` to the boundary before unit ``t``
    (``espnet2_ext.metrics.boundaries.boundary_offset``)."""
    from espnet2_ext.bin.boundary_eval import (
        fixed_starts,
        random_starts,
        score_starts,
        unit_change_starts,
    )
    from espnet2_ext.metrics.boundaries import (
        FRAME_SHIFT,
        ctm_boundaries,
        pad_times,
        restrict_times,
        speech_region,
    )

    keys = sorted(k for k in units if all(k in c for c in ctms.values()))
    if not keys:
        raise ValueError("no evaluated utterance is in every CTM")
    lengths = torch.tensor([len(units[k]) for k in keys])
    T = int(lengths.max())
    ids = torch.full((len(keys), T), -1, dtype=torch.long)
    for i, k in enumerate(keys):
        ids[i, : len(units[k])] = torch.from_numpy(units[k].astype(np.int64))
    total_s = float(lengths.sum()) * FRAME_SHIFT
    tier = "word" if "word" in ctms else "phone"
    reg = [speech_region(ctms[tier][k]) for k in keys]
    tol = 0.02
    low = torch.tensor([a + tol for a, _ in reg], dtype=torch.float64)
    high = torch.tensor([b + tol for _, b in reg], dtype=torch.float64)
    refs = {}
    for t, c in ctms.items():
        r, rl = pad_times([ctm_boundaries(c[k]) for k in keys])
        refs[t] = restrict_times(r, rl, low, high)
    change = unit_change_starts(ids, lengths)
    rate = float(change.sum()) / total_s
    starts = {
        "unit_change": change,
        "random": random_starts(lengths, T, rate, 1 / FRAME_SHIFT, seed),
        "grid": fixed_starts(lengths, T, 1 / (FRAME_SHIFT * rate), exact=True),
    }
    out: Dict = {"changes_per_s": round(rate, 2), "utterances": len(keys)}
    for name, s in starts.items():
        sc = score_starts(s, refs, (low, high), FRAME_SHIFT, offset, tol)
        out[name] = {t: round(100 * sc[t]["f1"], 1) for t in sc}
    return out


def mel_table_l1(
    units: Dict[str, np.ndarray],
    mels: Dict[str, np.ndarray],
    train: List[str],
    evaluated: List[str],
    n_clusters: int,
    offsets=(0, 1, 2),
) -> Dict[str, float]:
    """L1 of the unit -> mean mel table (fitted on ``train``) on ``evaluated``."""
    out = {}
    for off in offsets:

        def pairs(k):
            u, m = units[k], mels[k]
            n = min(len(u), len(m) - off)
            return u[:n], m[off : off + n]

        D = next(iter(mels.values())).shape[1]
        S, C = np.zeros((n_clusters, D)), np.zeros(n_clusters)
        for k in train:
            u, m = pairs(k)
            np.add.at(S, u, m)
            np.add.at(C, u, 1.0)
        table = S / np.maximum(C, 1.0)[:, None]
        err = np.concatenate(
            [np.abs(table[u] - m).mean(1) for u, m in map(pairs, evaluated)]
        )
        out[f"offset{off}"] = round(float(err.mean()), 4)
    return out


def normalised_mels(wavs: Dict[str, torch.Tensor], stats: Path) -> Dict:
    from espnet2_ext.compat import LogMelFbank
    from espnet2_ext.vc.vocoder import VC_FBANK

    st = np.load(stats)
    count = float(st["count"])
    mean = st["sum"] / count
    sd = np.sqrt(np.maximum(st["sum_square"] / count - mean**2, 1e-10))
    fbank = LogMelFbank(**VC_FBANK)
    out = {}
    with torch.no_grad():
        for k, w in wavs.items():
            m, _ = fbank(w[None], torch.tensor([w.numel()]))
            out[k] = (m[0].numpy() - mean) / sd
    return out


def write_table(path: Path, res: Dict) -> None:
    lines = [
        "| layer | PNMI | phone purity | changes/s | phone F1 change / random / "
        "grid | word F1 change / random / grid | mel table L1 (offset 0/1/2) |",
        "|---|---|---|---|---|---|---|",
    ]
    for layer, r in res["layers"].items():
        b = r.get("boundaries") or {}

        def f1(tier):
            if not b or tier not in b.get("unit_change", {}):
                return "-"
            return " / ".join(
                f"{b[m][tier]:.1f}" for m in ("unit_change", "random", "grid")
            )

        u = r.get("units")
        mel = r.get("mel_table_l1")
        cells = [
            layer,
            f"{u['pnmi']:.3f}" if u else "-",
            f"{u['phone_purity']:.3f}" if u else "-",
            str(b.get("changes_per_s", "-")),
            f1("phone"),
            f1("word"),
            " / ".join(f"{v:.3f}" for v in mel.values()) if mel else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--feature", default="whisper", help="feature extractor name")
    p.add_argument("--feature_conf", default="{}", help="YAML mapping (not layer)")
    p.add_argument("--layers", default="1 2 3 4", help="1-based layers to probe")
    p.add_argument("--train_scp", type=Path, required=True)
    p.add_argument("--num_train", type=int, default=200)
    p.add_argument("--eval_scp", type=Path, required=True)
    p.add_argument("--max_eval", type=int, default=0, help="0: all")
    p.add_argument("--n_clusters", type=int, default=500)
    p.add_argument(
        "--kmeans_iter",
        type=int,
        default=20,
        help="k-means iterations (the recipe: 100)",
    )
    p.add_argument(
        "--kmeans_init", type=int, default=1, help="k-means restarts (the recipe: 20)"
    )
    p.add_argument("--phone_ctm", type=Path)
    p.add_argument("--word_ctm", type=Path)
    p.add_argument("--mel_stats", type=Path, help="feats_stats.npz of the VC mels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    import yaml

    from espnet2_ext.metrics.boundaries import boundary_offset, read_ctm
    from espnet2_ext.metrics.units import unit_phone_scores, utterance_labels
    from espnet2_ext.units.features import build_feature_extractor, frame_centre
    from espnet2_ext.units.kmeans import fit_kmeans

    conf = yaml.safe_load(args.feature_conf) or {}
    if "layer" in conf:
        logger.error("give the layers with --layers, not in --feature_conf")
        return 2
    if not (args.phone_ctm or args.mel_stats):
        logger.error("nothing to measure: give --phone_ctm and/or --mel_stats")
        return 2
    layers = [int(x) for x in args.layers.split()]
    train_scp, eval_scp = dict(read_scp(args.train_scp)), dict(read_scp(args.eval_scp))
    train_keys = sorted(train_scp)
    random.Random(args.seed).shuffle(train_keys)
    train_keys = sorted(train_keys[: args.num_train])
    eval_keys = sorted(eval_scp)
    if args.max_eval and len(eval_keys) > args.max_eval:
        random.Random(args.seed).shuffle(eval_keys)
        eval_keys = sorted(eval_keys[: args.max_eval])
    tr_w = load_wavs(train_scp, train_keys)
    ev_w = load_wavs(eval_scp, eval_keys)
    ctms = {}
    for tier, p in (("phone", args.phone_ctm), ("word", args.word_ctm)):
        if p:
            ctms[tier] = read_ctm(p)
    missing = {t: sum(k not in c for k in ev_w) for t, c in ctms.items()}
    if ctms and all(n == len(ev_w) for n in missing.values()):
        logger.error("none of the %d evaluated utterances is in the CTM", len(ev_w))
        return 1
    if any(missing.values()):
        logger.warning("evaluated utterances without a CTM (skipped): %s", missing)
    mels_tr = normalised_mels(tr_w, args.mel_stats) if args.mel_stats else None
    mels_ev = normalised_mels(ev_w, args.mel_stats) if args.mel_stats else None
    logger.info(
        "train utterances: %d of %d requested; evaluated: %d of %d",
        len(tr_w),
        len(train_keys),
        len(ev_w),
        len(eval_keys),
    )
    res: Dict = {
        "feature": args.feature,
        "feature_conf": conf,
        "n_clusters": args.n_clusters,
        "kmeans": {"iter": args.kmeans_iter, "init": args.kmeans_init},
        "num_train": len(tr_w),
        "num_eval": len(ev_w),
        "command": "python -m espnet2_ext.bin.layer_probe "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "layers": {},
    }
    for layer in layers:
        t0 = time.time()
        ext = build_feature_extractor(args.feature, **conf, layer=layer).eval()
        ftr, fev = extract(ext, tr_w), extract(ext, ev_w)
        km = fit_kmeans(
            np.concatenate(list(ftr.values())),
            args.n_clusters,
            seed=args.seed,
            max_iter=args.kmeans_iter,
            n_init=args.kmeans_init,
        )
        units = {k: km.predict(v) for k, v in {**ftr, **fev}.items()}
        ev_units = {k: units[k] for k in fev}
        row: Dict = {}
        if "phone" in ctms:
            u, p, missing = utterance_labels(
                ev_units, ctms["phone"], frame_centre(args.feature)
            )
            row["units"] = unit_phone_scores(u, p).as_dict()
            row["units"]["utterances_without_ctm"] = len(missing)
        if ctms:
            row["boundaries"] = boundary_rows(
                ev_units, ctms, args.seed, boundary_offset(frame_centre(args.feature))
            )
        if mels_tr is not None:
            row["mel_table_l1"] = mel_table_l1(
                units, {**mels_tr, **mels_ev}, list(ftr), list(fev), args.n_clusters
            )
        row["seconds"] = round(time.time() - t0, 1)
        res["layers"][str(layer)] = row
        logger.info("layer %d: %s", layer, json.dumps(row))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(res, indent=1) + "\n")
    write_table(args.out / "layers.md", res)
    print((args.out / "layers.md").read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
