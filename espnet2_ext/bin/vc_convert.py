#!/usr/bin/env python3
"""Convert parallel pairs with a trained unit-to-mel VC model (vc.sh stage 10).

For each pair ``<pair-id> <source-utt> <target-utt>`` of ``--pairs``: the source
utterance's units (``--units``) and the target speaker's d-vector
(``--spk_xvector_scp``, the speaker of the target utterance in ``--utt2spk``) -> the
model's log-mel (one frame per unit) -> Griffin-Lim (``espnet2_ext.vc.vocoder``, 32
iterations), or a HiFi-GAN trained on the same features (``--vocoder_file``, with
``--vocoder_config`` or the ``config.yml`` / ``config.yaml`` next to it; see
``espnet2_ext.vc.vocoder.load_hifigan``) -> 16 kHz WAV.

A model of the WORLD envelope (``feats_extract: world``) is synthesised by WORLD
(``espnet2_ext.vc.world.WorldVocoder``) with the source's F0 and aperiodicity: the
source audio comes from ``--source_wav_scp`` (required then), and the source's log-F0
mean and variance (of its utterance) are mapped to the target speaker's, computed from
every utterance of that speaker in ``--target_wav_scp`` / ``--target_utt2spk`` (the
reference audio the d-vector means come from; without them the source's F0 is kept).
The converted waveform then has the source's length.

Writes ``<out_dir>/wav/<pair-id>.wav``, ``<out_dir>/wav.scp``, ``<out_dir>/skipped.txt``
and ``<out_dir>/convert.json``: ``in``/``out``/``skipped`` (by reason: ``no_units``,
``no_target_dvector``, ``no_source_audio``), ``units`` and ``segments`` (what the
frontend made of the units), ``tokens_per_second`` = segments / (units /
``--unit_rate``): the rate of the sequence the decoder's frontend hands on (50 for
dense at 50 Hz units), ``vocoder`` (world | griffin_lim | hifigan) and
``target_log_f0`` (WORLD: each target speaker's log-F0 mean and std).
"""

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter
from typing import Dict, List, Optional

import kaldiio
import numpy as np
import soundfile as sf
import torch


def read_table(path: str) -> Dict[str, str]:
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(maxsplit=1)
            if parts:
                out[parts[0]] = parts[1] if len(parts) > 1 else ""
    return out


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--train_config", required=True, help="the experiment's config.yaml")
    p.add_argument("--model_file", required=True)
    p.add_argument("--pairs", required=True, help="<pair-id> <source-utt> <target-utt>")
    p.add_argument("--units", required=True, help="<utt> u u u ... (the sources)")
    p.add_argument("--utt2spk", required=True, help="speaker of each target utterance")
    p.add_argument("--spk_xvector_scp", required=True, help="<spk> d-vector (Kaldi)")
    p.add_argument("--out_dir", required=True)
    p.add_argument("--unit_rate", type=float, default=50.0, help="units per second")
    p.add_argument("--griffin_lim_iters", type=int, default=32)
    p.add_argument(
        "--vocoder_file",
        default=None,
        help="a HiFi-GAN checkpoint trained on the model's features (ParallelWaveGAN "
        "checkpoint-*.pkl or an ESPnet GAN-TTS .pth) instead of Griffin-Lim",
    )
    p.add_argument(
        "--vocoder_config",
        default=None,
        help="its config (default: config.yml or config.yaml next to it)",
    )
    p.add_argument(
        "--source_wav_scp",
        default=None,
        help="WORLD models: the sources' audio (their F0 and aperiodicity)",
    )
    p.add_argument(
        "--target_wav_scp",
        default=None,
        help="WORLD models: the target speakers' reference audio (log-F0 statistics)",
    )
    p.add_argument(
        "--target_utt2spk",
        default=None,
        help="speakers of --target_wav_scp (default: --utt2spk)",
    )
    p.add_argument(
        "--f0_method",
        default=None,
        choices=("dio", "harvest"),
        help="WORLD models: the sources' and targets' F0 by this method instead of "
        "the model's feats_extract_conf (harvest: slower, sturdier on breathy voices)",
    )
    p.add_argument("--device", default="cpu")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import espnet2_ext.tasks.tts  # noqa: F401  (registers tts: unit_vc)
    from espnet2_ext.tasks.tts import UnitVCTTSTask
    from espnet2_ext.units.audio import load_audio
    from espnet2_ext.vc.vocoder import build_vocoder, vocoder_kind

    model, train_args = UnitVCTTSTask.build_model_from_file(
        args.train_config, args.model_file, args.device
    )
    model.eval()
    token_list = train_args.token_list
    tok2id = {t: i for i, t in enumerate(token_list)}
    unk = tok2id.get("<unk>", 1)
    # settings the config leaves out: the recipe's fbank (VC_FBANK)
    kind = vocoder_kind(train_args.feats_extract, args.vocoder_file)
    feats_conf = dict(train_args.feats_extract_conf or {})
    if kind == "world" and args.f0_method is not None:
        feats_conf["f0_method"] = args.f0_method
    vocoder = build_vocoder(
        args.vocoder_file,
        args.vocoder_config,
        feats_extract_conf=feats_conf,
        n_iter=args.griffin_lim_iters,
        device=args.device,
        feats_extract=train_args.feats_extract,
    )
    fs = vocoder.fs
    logging.info("vocoder: %s", kind)

    pairs = [line.split() for line in open(args.pairs, encoding="utf-8")]
    pairs = [p for p in pairs if len(p) == 3]
    units = read_table(args.units)
    utt2spk = read_table(args.utt2spk)
    spk_vec = dict(kaldiio.load_scp(args.spk_xvector_scp).items())
    src_wavs: Dict[str, str] = {}
    f0_stats: Dict[str, Optional[tuple]] = {}
    if kind == "world":
        if args.source_wav_scp is None:
            raise SystemExit("a WORLD model needs --source_wav_scp (the source's F0)")
        src_wavs = read_table(args.source_wav_scp)
        tgt_wavs = read_table(args.target_wav_scp) if args.target_wav_scp else {}
        tgt_spk = read_table(args.target_utt2spk or args.utt2spk)
        if not tgt_wavs:
            logging.warning("no --target_wav_scp: the converted F0 is the source's")

    def target_f0_stats(spk: str) -> Optional[tuple]:
        """The log-F0 (mean, std) of a target speaker's reference audio (cached)."""
        if spk not in f0_stats:
            utts = [u for u, s in tgt_spk.items() if s == spk and u in tgt_wavs]
            f0_stats[spk] = None
            if utts:
                wavs = [load_audio(tgt_wavs[u], target_sr=fs).numpy() for u in utts]
                f0_stats[spk] = vocoder.f0_stats(wavs)
                logging.info(
                    "%s: log-F0 mean %.3f std %.3f (%d utterances)",
                    spk,
                    *f0_stats[spk],
                    len(utts),
                )
            else:
                logging.warning("%s: no reference audio: source F0 kept", spk)
        return f0_stats[spk]

    wav_dir = os.path.abspath(os.path.join(args.out_dir, "wav"))
    os.makedirs(wav_dir, exist_ok=True)
    rows, skipped, reasons = [], [], Counter()
    n_units = n_segments = 0
    start = time.time()
    for pair_id, src, tgt in pairs:
        if src not in units or not units[src].split():
            reason = "no_units"
        elif utt2spk.get(tgt) not in spk_vec:
            reason = "no_target_dvector"
        elif kind == "world" and src not in src_wavs:
            reason = "no_source_audio"
        else:
            reason = None
        if reason is not None:
            skipped.append(f"{pair_id} {reason}")
            reasons[reason] += 1
            logging.warning("%s: skipped (%s)", pair_id, reason)
            continue
        ids = torch.tensor(
            [tok2id.get(u, unk) for u in units[src].split()], dtype=torch.long
        )
        spemb = torch.from_numpy(np.array(spk_vec[utt2spk[tgt]], dtype=np.float32))
        with torch.no_grad():
            out = model.inference(
                text=ids.to(args.device),
                spembs=spemb.to(args.device),
                use_teacher_forcing=False,
            )
        mel = out.get("feat_gen_denorm", out["feat_gen"])
        n_units += len(ids)
        n_segments += int(out["duration"].numel())
        if kind == "world":
            source = vocoder.analyse_source(
                load_audio(src_wavs[src], target_sr=fs).numpy()
            )
            wav = vocoder(
                mel,
                source,
                target_f0_stats=target_f0_stats(utt2spk[tgt]),
                offset=model.tts.target_offset,
            ).numpy()
        else:
            wav = vocoder(mel).numpy()
        path = os.path.join(wav_dir, f"{pair_id}.wav")
        sf.write(path, np.clip(wav, -1.0, 1.0), fs, subtype="PCM_16")
        rows.append(f"{pair_id} {path}")
    with open(os.path.join(args.out_dir, "wav.scp"), "w", encoding="utf-8") as f:
        f.write("".join(r + "\n" for r in rows))
    with open(os.path.join(args.out_dir, "skipped.txt"), "w", encoding="utf-8") as f:
        f.write("".join(r + "\n" for r in skipped))
    seconds = n_units / args.unit_rate
    info = {
        "in": len(pairs),
        "out": len(rows),
        "skipped": len(skipped),
        "skipped_by_reason": dict(reasons),
        "units": n_units,
        "segments": n_segments,
        "tokens_per_second": n_segments / seconds if seconds else None,
        "vocoder": kind,
        "target_log_f0": {k: v for k, v in f0_stats.items() if v is not None},
        "convert_seconds": round(time.time() - start, 2),
    }
    with open(os.path.join(args.out_dir, "convert.json"), "w") as f:
        json.dump(info, f, indent=2)
    logging.info(
        "%s: in=%d out=%d skipped=%d, %.1f tokens/s",
        args.pairs,
        info["in"],
        info["out"],
        info["skipped"],
        info["tokens_per_second"] or 0.0,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
