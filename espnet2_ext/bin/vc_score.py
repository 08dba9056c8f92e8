#!/usr/bin/env python3
"""Score converted speech of parallel pairs (vc.sh stage 11).

A system is a waveform per pair ``<pair-id> <source-utt> <target-utt>``:

* ``converted`` (``--hyp_scp``): the VC model's output for the pair;
* ``ref_target``: the target speaker's real reading of the sentence (ground truth;
  its similarity to the target is 1 and its MCD 0 by construction, its WERs and
  DNSMOS are those of real speech);
* ``ref_resynth``: the target reading through the VC model's features and vocoder:
  Griffin-Lim of its own log-mel (``--resynth griffin_lim``, the fbank of log-mel
  models) or WORLD of its own coded envelope with its own F0 and aperiodicity
  (``--resynth world``, models of ``feats_extract: world``): what a perfect predictor
  would give, the MCD floor;
* ``ref_source``: the source utterance passed through unchanged (no conversion):
  the intelligibility ceiling and the similarity to the source's voice.

Metrics (``--metrics``, any of ``whisper pocketsphinx similarity mcd dnsmos``; the
others are written as null): ``wer_whisper`` / ``wer_pocketsphinx`` (corpus WER in %
against the pair's sentence, ``--text`` of the target utterance), ``spk_cos_target``
/ ``spk_cos_source`` (Resemblyzer cosine to the target's real reading of the same
sentence / to the source utterance), ``mcd_dtw`` (dB, against the target's reading),
``dnsmos_{ovrl,sig,bak,p808}`` (``--dnsmos_mode fast``: a short clip repeated to one
9 s window instead of the reference doubling; see ``espnet2_ext.metrics.vc.dnsmos``).
All means are over the scored pairs.

Writes ``--out`` (score.json) and, next to it, ``per_pair.tsv``.
"""

import argparse
import json
import logging
import os
import sys
from typing import Callable, Dict, List, Optional

import numpy as np

METRICS = ("whisper", "pocketsphinx", "similarity", "mcd", "dnsmos")
SYSTEMS = ("converted", "ref_target", "ref_resynth", "ref_source")
KEYS = (
    "wer_whisper",
    "wer_pocketsphinx",
    "spk_cos_target",
    "spk_cos_source",
    "mcd_dtw",
    "dnsmos_ovrl",
    "dnsmos_sig",
    "dnsmos_bak",
    "dnsmos_p808",
)


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
    p.add_argument("--system", required=True, choices=SYSTEMS)
    p.add_argument("--name", default=None, help="the system's name in score.json")
    p.add_argument("--pairs", required=True)
    p.add_argument("--wav_scp", required=True, help="sources and targets (any rate)")
    p.add_argument("--text", required=True, help="texts of the target utterances")
    p.add_argument("--hyp_scp", default=None, help="converted: <pair-id> <wav>")
    p.add_argument("--convert_info", default=None, help="convert.json (tokens/s)")
    p.add_argument("--metrics", nargs="+", default=list(METRICS), choices=METRICS)
    p.add_argument("--dnsmos_mode", default="fast", choices=("fast", "full"))
    p.add_argument(
        "--max_pairs",
        type=int,
        default=0,
        help="score this many pairs, evenly spread over the list (0: all); the "
        "others count as skipped",
    )
    p.add_argument(
        "--resynth",
        default="griffin_lim",
        choices=("griffin_lim", "world"),
        help="ref_resynth: the vocoder (and features) of the VC models scored",
    )
    p.add_argument(
        "--resynth_conf",
        default=None,
        help="--resynth world: the models' feats_extract_conf as JSON (default: "
        "espnet2_ext.vc.world.WORLD_DEFAULTS)",
    )
    p.add_argument("--out", required=True)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from espnet2_ext.metrics import vc as M
    from espnet2_ext.units.audio import AudioError, load_audio

    sr = M.SAMPLE_RATE
    if args.system == "converted" and not args.hyp_scp:
        raise SystemExit("--system converted needs --hyp_scp")
    pairs = [line.split() for line in open(args.pairs, encoding="utf-8")]
    pairs = [p for p in pairs if len(p) == 3]
    n_in = len(pairs)
    if 0 < args.max_pairs < n_in:
        # evenly spread over the (source-sorted) list: every source voice and sentence
        idx = np.unique(np.linspace(0, n_in - 1, args.max_pairs).round().astype(int))
        pairs = [pairs[i] for i in idx]
    wavs, texts = read_table(args.wav_scp), read_table(args.text)
    hyps = read_table(args.hyp_scp) if args.hyp_scp else {}
    cache: Dict[str, np.ndarray] = {}

    def audio(entry: str) -> np.ndarray:
        if entry not in cache:
            cache[entry] = load_audio(entry, target_sr=sr, min_duration=0.0).numpy()
        return cache[entry]

    resynth: Optional[Callable[[np.ndarray], np.ndarray]] = None
    if args.system == "ref_resynth" and args.resynth == "world":
        from espnet2_ext.vc.world import WORLD_DEFAULTS, WorldVocoder

        conf = json.loads(args.resynth_conf) if args.resynth_conf else {}
        world = WorldVocoder.from_feats_extract_conf(dict(WORLD_DEFAULTS, **conf))

        def _world_resynth(x: np.ndarray) -> np.ndarray:
            ana = world.analyse_source(x)
            return world(ana["coded_sp"], ana, length=x.shape[0]).numpy()

        resynth = _world_resynth
    elif args.system == "ref_resynth":
        import torch

        from espnet2_ext.compat import LogMelFbank
        from espnet2_ext.vc.vocoder import VC_FBANK, GriffinLimVocoder

        fb_keys = ("fs", "n_fft", "hop_length", "n_mels", "fmin", "fmax")
        fbank = LogMelFbank(**{k: VC_FBANK[k] for k in fb_keys})
        vocoder = GriffinLimVocoder()

        def _resynth(x: np.ndarray) -> np.ndarray:
            t = torch.from_numpy(x.astype(np.float32))[None]
            mel, _ = fbank(t, torch.tensor([t.shape[1]]))
            return vocoder(mel[0], length=x.shape[0]).numpy()

        resynth = _resynth

    whisper = M.WhisperASR() if "whisper" in args.metrics else None
    sphinx = M.PocketsphinxASR() if "pocketsphinx" in args.metrics else None
    spk = M.SpeakerSimilarity() if "similarity" in args.metrics else None
    emb_cache: Dict[str, np.ndarray] = {}

    def embed(key: str, x: np.ndarray) -> np.ndarray:
        if key not in emb_cache:
            emb_cache[key] = spk.embed(x, sr)
        return emb_cache[key]

    rows, refs, hyp_w, hyp_s, skipped = [], [], [], [], {}
    for pair_id, src, tgt in pairs:
        try:
            if args.system == "converted":
                if pair_id not in hyps:
                    skipped[pair_id] = "not_converted"
                    continue
                hyp = audio(hyps[pair_id])
            elif args.system == "ref_source":
                hyp = audio(wavs[src])
            else:
                hyp = audio(wavs[tgt])
                if resynth is not None:
                    hyp = resynth(hyp)
            ref = audio(wavs[tgt])
            source = audio(wavs[src]) if spk is not None else None
        except (KeyError, AudioError) as e:
            skipped[pair_id] = f"audio:{type(e).__name__}"
            logging.warning("%s: skipped (%s)", pair_id, e)
            continue
        row = {"pair": pair_id, "text": texts.get(tgt, "")}
        if whisper is not None:
            row["hyp_whisper"] = whisper.transcribe(hyp, sr)
        if sphinx is not None:
            row["hyp_pocketsphinx"] = sphinx.transcribe(hyp, sr)
        if spk is not None:
            e = spk.embed(hyp, sr)
            row["spk_cos_target"] = M.cosine_similarity(e, embed(tgt, ref))
            row["spk_cos_source"] = M.cosine_similarity(e, embed(src, source))
        if "mcd" in args.metrics:
            row["mcd_dtw"] = M.mcd_dtw(ref, hyp, sr)
        if "dnsmos" in args.metrics:
            d = M.dnsmos(hyp, sr, fast=args.dnsmos_mode == "fast")
            row.update({f"dnsmos_{k.split('_')[0].lower()}": v for k, v in d.items()})
        rows.append(row)
        refs.append(row["text"])
        hyp_w.append(row.get("hyp_whisper", ""))
        hyp_s.append(row.get("hyp_pocketsphinx", ""))

    metrics: Dict[str, Optional[float]] = {k: None for k in KEYS}
    if rows and any(r.split() for r in refs):
        if whisper is not None:
            metrics["wer_whisper"] = M.wer(refs, hyp_w)
        if sphinx is not None:
            metrics["wer_pocketsphinx"] = M.wer(refs, hyp_s)
    for k in KEYS[2:]:
        vals = [r[k] for r in rows if k in r]
        if vals:
            metrics[k] = float(np.mean(vals))
    tps = None
    if args.convert_info and os.path.isfile(args.convert_info):
        with open(args.convert_info) as f:
            tps = json.load(f).get("tokens_per_second")
    score = {
        "system": args.name or args.system,
        "kind": "converted" if args.system == "converted" else "reference",
        "reference": None if args.system == "converted" else args.system,
        "pairs": n_in,
        "scored": len(rows),
        "skipped": n_in - len(rows),
        "skipped_pairs": skipped,
        "not_selected": n_in - len(pairs),  # --max_pairs
        "metrics": metrics,
        "metrics_computed": [m for m in METRICS if m in args.metrics],
        "dnsmos_mode": args.dnsmos_mode if "dnsmos" in args.metrics else None,
        "tokens_per_second": tps,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(score, f, indent=2)
    cols = ["pair", "text", "hyp_whisper", "hyp_pocketsphinx", *KEYS[2:]]
    tsv = os.path.join(os.path.dirname(os.path.abspath(args.out)), "per_pair.tsv")
    with open(tsv, "w", encoding="utf-8") as f:
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join(str(r.get(c, "")) for c in cols) + "\n")
    logging.info(
        "%s: in=%d out=%d skipped=%d %s",
        score["system"],
        n_in,
        len(rows),
        n_in - len(rows),
        " ".join(f"{k}={v:.3g}" for k, v in metrics.items() if v is not None),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
