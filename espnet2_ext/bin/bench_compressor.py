#!/usr/bin/env python3
"""Benchmark the compressor on this machine, side by side in one run.

On a batch of 32 utterances x 1000 units it measures

* the vectorised cross-attention compressor against a naive per-segment loop that
  computes the same outputs (``vectorised_vs_reference_speedup``, target >= 20);
* the whole ``entropy_compress`` frontend (unit LM + boundaries + fusion) as a fraction
  of one forward of a 12-layer Transformer encoder (d=256) on the dense 1000-unit batch
  (``frontend_vs_dense_encoder``, target <= 0.25).

Models are randomly initialised with the shapes of the shipped configs; the threshold
is calibrated to ``--target_rate`` on the batch's own entropies so that the segment
structure is that of a real operating point. Inference mode (no gradients).

The throw-away unit LM has no training shape file, so its window is given here:
``--lm_window`` (default ``--length`` + 1, the whole utterance with its ``<sos>``, as
the recipes' LM scores utterances up to the longest one it was trained on).

Usage: python -m espnet2_ext.bin.bench_compressor [--batch 32 --length 1000]
(``make bench``; ``make bench BENCH_ARGS="--batch 2 --length 200 --repeat 1"`` for a
quick check that it runs)
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import yaml

REPO = Path(__file__).resolve().parents[2]


def _time(fn, repeat: int) -> float:
    fn()  # warm-up
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--length", type=int, default=1000)
    p.add_argument("--vocab", type=int, default=500, help="k-means clusters K")
    p.add_argument(
        "--target_rate", type=float, default=15.0, help="segments per second"
    )
    p.add_argument("--max_len", type=int, default=10)
    p.add_argument("--lm_config", default=str(REPO / "conf" / "unit_lm.yaml"))
    p.add_argument(
        "--lm_window",
        type=int,
        default=None,
        help="unit LM context in tokens (default: --length + 1, whole utterances)",
    )
    p.add_argument("--d_model", type=int, default=256)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--reference_repeat", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from espnet2_ext.compat import TransformerEncoder
    from espnet2_ext.compress.frontend import EntropyCompressFrontend
    from espnet2_ext.compress.fusion import reference_compress
    from espnet2_ext.entropy.calibration import calibrate_threshold
    from espnet2_ext.entropy.unit_lm import write_lm_experiment

    torch.manual_seed(args.seed)
    token_list = (
        ["<blank>", "<unk>"] + [str(i) for i in range(args.vocab)] + ["<sos/eos>"]
    )
    V = len(token_list)
    lm_cfg = yaml.safe_load(Path(args.lm_config).read_text())
    B, T = args.batch, args.length
    # units with the run structure of real 50 Hz units: runs of 1-6 repeats
    runs = torch.randint(2, V - 1, (B, T))
    rep = torch.randint(1, 7, (B, T))
    units = (
        torch.repeat_interleave(runs.flatten(), rep.flatten())
        .view(-1)[: B * T]
        .view(B, T)
    )
    lengths = torch.full((B,), T, dtype=torch.long)
    src = torch.cat(
        [torch.full((B, 1), V - 1), units], 1
    )  # <sos> + units, as the MT model gives
    src_lengths = lengths + 1

    with tempfile.TemporaryDirectory() as tmp, torch.inference_mode():
        cfg, ckpt = write_lm_experiment(
            tmp, token_list, lm_cfg["lm_conf"], lm=lm_cfg["lm"]
        )
        fe = EntropyCompressFrontend(
            V,
            cfg,
            ckpt,
            token_list=token_list,
            threshold=0.0,
            max_len=args.max_len,
            lm_window=args.lm_window or T + 1,
            d_model=args.d_model,
        ).eval()
        h = fe.unit_lm.entropy(units, lengths)
        cal = calibrate_threshold(h, lengths, args.target_rate, max_len=args.max_len)
        fe.threshold = cal.threshold
        _, seg = fe.segment(units, lengths)
        comp = fe.compressor
        n_seg = int(seg.counts.sum())
        print(
            f"batch {B} x {T} units, vocab {V}, {n_seg} segments "
            f"({cal.achieved_rate:.2f}/s at 50 units/s, threshold {cal.threshold:.3f})"
        )

        # check both paths agree before timing them
        out_v = comp(units, lengths, seg.seg_ids, seg.counts)[0]
        t0 = time.perf_counter()
        out_r = reference_compress(comp, units, lengths, seg.seg_ids, seg.counts)[0]
        t_ref_first = time.perf_counter() - t0
        diff = float((out_v - out_r).abs().max())
        print(f"max |vectorised - reference| = {diff:.2e}")

        t_vec = _time(
            lambda: comp(units, lengths, seg.seg_ids, seg.counts), args.repeat
        )
        if args.reference_repeat > 1:
            t_ref = _time(
                lambda: reference_compress(
                    comp, units, lengths, seg.seg_ids, seg.counts
                ),
                args.reference_repeat - 1,
            )
        else:
            t_ref = t_ref_first
        print(
            f"compressor: vectorised {t_vec * 1e3:.1f} ms, per-segment loop "
            f"{t_ref * 1e3:.1f} ms"
        )

        enc = TransformerEncoder(
            input_size=args.d_model,
            output_size=256,
            attention_heads=4,
            linear_units=2048,
            num_blocks=12,
            input_layer="linear",
            dropout_rate=0.0,
        ).eval()
        dense_in = torch.randn(B, T, args.d_model)
        t_enc = _time(lambda: enc(dense_in, lengths), args.repeat)
        t_lm = _time(lambda: fe.unit_lm.entropy(units, lengths), args.repeat)
        t_fe = _time(lambda: fe(src, src_lengths), args.repeat)
        print(
            f"dense 12-layer encoder (d=256, ffn 2048): {t_enc * 1e3:.1f} ms; frontend "
            f"{t_fe * 1e3:.1f} ms (of which unit LM {t_lm * 1e3:.1f} ms)"
        )
        n_params = sum(p.numel() for p in fe.parameters())
        n_lm = sum(p.numel() for p in fe.unit_lm.parameters())
        print(
            f"params: compressor {n_params / 1e6:.2f} M, unit LM {n_lm / 1e6:.2f} M "
            f"(frozen), encoder {sum(p.numel() for p in enc.parameters()) / 1e6:.2f} "
            "M"
        )
        print(f"vectorised_vs_reference_speedup: {t_ref / t_vec:.1f}")
        print(f"frontend_vs_dense_encoder: {t_fe / t_enc:.3f}")


if __name__ == "__main__":
    main()
