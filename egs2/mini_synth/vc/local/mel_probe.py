#!/usr/bin/env python3
"""Where a unit-to-mel VC model's mel goes wrong: reconstruction probes.

Each held-out target reading of ``data/<set>`` (the targets of ``data/<set>/pairs``;
with ``--targets all`` the first utterances of ``data/<set>``, e.g. ``--set dev``: the
training voices, issue 25 check 1c) is converted to its own voice: its own units and
its own d-vector, so that the real mel of the same utterance is the right answer.
Then, on those utterances:

* the L1 between predicted and real log10-mel, the ratio of their per-bin standard
  deviations over time (over-smoothing in the global-variance sense), of their mean
  frame-to-frame change (sharpness in time) and of their mean change between
  neighbouring mel bins (detail along frequency: harmonics);
* Whisper tiny.en WER of Griffin-Lim from: the prediction; the real mel; the
  prediction with its deviations from the utterance mean scaled by 1.3 and 1.6 and by
  the real mel's per-bin standard deviation ratio (oracle global variance); and with
  envelope and fine structure swapped between the prediction and the real mel (the
  envelope is the mean over ``--envelope_bins`` neighbouring mel bins, the fine
  structure the rest).

Run from egs2/mini_synth/vc after ``./run.sh`` (stage 13 packs the model)::

    python local/mel_probe.py --model exp/vc_dense/packed.zip --num_utts 12
    python local/mel_probe.py --model exp/vc_dense/packed.zip --set dev --targets all

A log-mel model only (Griffin-Lim); ``local/vc_checks.py`` has the other checks.
"""

import argparse
import json
import logging
import sys
from typing import Dict, List

import numpy as np
import soundfile as sf
import torch
import torch.nn.functional as F

VARIANTS = (
    "predicted",
    "real",
    "predicted, variance x1.3",
    "predicted, variance x1.6",
    "predicted, oracle variance",
    "real envelope only",
    "real envelope + predicted fine structure",
    "predicted envelope + real fine structure",
)


def envelope(mel: torch.Tensor, bins: int) -> torch.Tensor:
    """(T, n_mels) log-mel -> its mean over ``bins`` neighbouring mel bins (along
    frequency, in each frame; the edge bins repeated). ``bins`` is odd."""
    if bins < 1 or bins % 2 == 0:
        raise ValueError(f"envelope_bins must be odd and >= 1, got {bins}")
    # (1, T, n_mels): the frames are the channels, the pooling runs over the bins
    x = F.pad(mel[None], (bins // 2, bins // 2), mode="replicate")
    return F.avg_pool1d(x, bins, 1)[0]


def mel_stats(pred: torch.Tensor, real: torch.Tensor) -> Dict[str, float]:
    """The probe's numbers for one utterance's (T, n_mels) predicted and real mel:
    L1, the real / predicted per-bin standard deviation over time (mean over bins),
    and predicted / real mean absolute change from frame to frame and from bin to
    bin."""
    ratio = real.std(0) / pred.std(0).clamp_min(1e-4)
    return dict(
        l1=(pred - real).abs().mean().item(),
        std_ratio=ratio.mean().item(),
        time_delta=(
            pred.diff(dim=0).abs().mean() / real.diff(dim=0).abs().mean()
        ).item(),
        bin_delta=(
            pred.diff(dim=1).abs().mean() / real.diff(dim=1).abs().mean()
        ).item(),
    )


def mel_variants(
    pred: torch.Tensor, real: torch.Tensor, bins: int
) -> Dict[str, torch.Tensor]:
    """The mels given to the vocoder (:data:`VARIANTS`): the prediction, the real mel,
    the prediction's deviations from its mean over time scaled by 1.3, 1.6 and by the
    real / predicted standard deviation of each bin (oracle variance), and envelope
    (:func:`envelope`) and fine structure (the rest) swapped between the two."""
    mu = pred.mean(0, keepdim=True)
    ratio = real.std(0, keepdim=True) / pred.std(0, keepdim=True).clamp_min(1e-4)
    env_p, env_r = envelope(pred, bins), envelope(real, bins)
    out = {
        "predicted": pred,
        "real": real,
        "predicted, variance x1.3": mu + (pred - mu) * 1.3,
        "predicted, variance x1.6": mu + (pred - mu) * 1.6,
        "predicted, oracle variance": mu + (pred - mu) * ratio,
        "real envelope only": env_r,
        "real envelope + predicted fine structure": env_r + pred - env_p,
        "predicted envelope + real fine structure": env_p + real - env_r,
    }
    assert tuple(out) == VARIANTS
    return out


def main(argv: List[str] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="packed VC model (vc.sh stage 13)")
    p.add_argument("--set", default="parallel", help="data/<set> with pairs and text")
    p.add_argument("--wav_scp", default=None, help="default dump/wav16k/<set>/wav.scp")
    p.add_argument("--num_utts", type=int, default=12)
    p.add_argument(
        "--targets",
        default="pairs",
        choices=("pairs", "all"),
        help="pairs: the targets of data/<set>/pairs; all: data/<set>'s utterances",
    )
    p.add_argument("--envelope_bins", type=int, default=5)
    p.add_argument("--unpack_dir", default=None)
    p.add_argument("--out", default=None, help="write the results as JSON here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from espnet2_ext.metrics import vc as metrics
    from espnet2_ext.utils.shards import read_scp
    from espnet2_ext.vc_inference import VoiceConverter

    wavs = dict(read_scp(args.wav_scp or f"dump/wav16k/{args.set}/wav.scp"))
    texts = dict(read_scp(f"data/{args.set}/text"))
    if args.targets == "pairs":
        with open(f"data/{args.set}/pairs", encoding="utf-8") as f:
            targets = sorted({line.split()[2] for line in f if line.strip()})
    else:
        targets = sorted(texts)
    missing = [u for u in targets if u not in wavs or u not in texts]
    if missing:
        logging.error(
            "no audio or text for %d targets, e.g. %s", len(missing), missing[0]
        )
        return 1
    targets = targets[: args.num_utts]
    conv = VoiceConverter(
        model=args.model, unpack_dir=args.unpack_dir, trust_pickle=True
    )
    if conv.vocoder_kind != "griffin_lim":
        logging.error(
            "a log-mel model with Griffin-Lim only, not %s", conv.vocoder_kind
        )
        return 1
    asr = metrics.WhisperASR()

    variants: Dict[str, List[torch.Tensor]] = {k: [] for k in VARIANTS}
    stats = {k: [] for k in ("l1", "std_ratio", "time_delta", "bin_delta")}
    refs = []
    for utt in targets:
        x, sr = sf.read(wavs[utt], dtype="float32")
        if x.ndim != 1 or sr != conv.sample_rate:
            logging.error("%s: need mono %d Hz audio", utt, conv.sample_rate)
            return 1
        pred = conv.mel(
            conv.units(wavs[utt]), dvector=conv.speaker_embedding([wavs[utt]])
        )
        with torch.no_grad():
            real, _ = conv.model.feats_extract(torch.from_numpy(x)[None])
        n = min(pred.shape[0], real.shape[1])
        pred, real = pred[:n].float(), real[0, :n].float()
        refs.append(texts[utt])
        for k, v in mel_stats(pred, real).items():
            stats[k].append(v)
        for k, v in mel_variants(pred, real, args.envelope_bins).items():
            variants[k].append(v)

    result = dict(
        model=args.model,
        set=args.set,
        targets=args.targets,
        utterances=len(targets),
        envelope_bins=args.envelope_bins,
        envelope_over="mel bins",  # the files before this key: over frames (a bug)
        mel=dict(
            l1_log10=float(np.mean(stats["l1"])),
            std_ratio_real_over_predicted=float(np.mean(stats["std_ratio"])),
            time_delta_predicted_over_real=float(np.mean(stats["time_delta"])),
            bin_delta_predicted_over_real=float(np.mean(stats["bin_delta"])),
        ),
        wer_whisper={},
    )
    for name, mels in variants.items():
        hyps = [asr.transcribe(conv.vocode(m)) for m in mels]
        result["wer_whisper"][name] = metrics.wer(refs, hyps)
        logging.info(
            "%-42s Whisper WER %6.1f %%  e.g. %s",
            name,
            result["wer_whisper"][name],
            hyps[0],
        )
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
