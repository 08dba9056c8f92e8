#!/usr/bin/env python3
"""The cheap checks of issue 25 (item 1) on a VC run, from egs2/mini_synth/vc.

* ``world_vocode`` (1a): is it the vocoder? Each utterance (a held-out target reading
  of ``data/<set>/pairs``, or with ``--targets all`` the first utterances of
  ``data/<set>``: ``--set dev`` are seen voices) is reconstructed by a packed
  *log-mel* model (its own units and d-vector), and Whisper transcribes: the real mel,
  its envelope (mean over ``--envelope_bins`` mel bins) and the prediction, each by
  Griffin-Lim and by WORLD driven by the utterance's real F0 and aperiodicity (the mel
  turned into a power envelope by the pseudo-inverse of the mel basis); and WORLD
  analysis-synthesis of the audio itself (the source-filter floor)::

      python local/vc_checks.py world_vocode --model exp/vc_dense/packed.zip

* ``conditioning`` (1b): does the d-vector matter? The valid L1 (the model's
  normalised features) with each utterance's own d-vector against another speaker's
  (the mean d-vector of the next speaker of ``utt2spk``), and the norms of the
  content and speaker vectors at the decoder's input (``add`` conditioning)::

      python local/vc_checks.py conditioning --exp exp/vc_dense --set dev

* the probe on seen voices (1c): ``local/mel_probe.py --set dev --targets all``.
* ``mel_floor`` (1d): the share of log-mel values at the floor of ESPnet's fbank
  (espeak-ng's digital silence) in training audio, the per-bin standard deviation of
  the training statistics (``feats_stats.npz``), and what it would be with a floor at
  each utterance's maximum - 5 (issue 25 item 4). The floor is not log10(1e-10) = -10
  but what fbank makes of zeros: ESPnet clamps the *power* at 1e-10, so the
  magnitude is >= 1e-5 and each mel bin >= 1e-5 times the sum of its filter weights
  (about -6.2 in log10 for the recipe's fbank), measured per bin on silence::

      python local/vc_checks.py mel_floor --stats exp/vc_stats/train/feats_stats.npz

Each prints a JSON summary (``--out`` writes it too). None of them has been run at
the recipe's full size yet.
"""

import argparse
import json
import logging
import os
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mel_probe import envelope  # noqa: E402


def read_table(path: str) -> Dict[str, str]:
    from espnet2_ext.utils.shards import read_scp

    return dict(read_scp(path))


def select_utts(dset: str, targets: str, num: int) -> List[str]:
    """The probed utterances of ``data/<dset>``: the targets of its pairs (sorted)
    or, with ``targets="all"``, its utterances (sorted); the first ``num``."""
    if targets == "pairs":
        with open(f"data/{dset}/pairs", encoding="utf-8") as f:
            utts = sorted({line.split()[2] for line in f if len(line.split()) == 3})
    else:
        utts = sorted(read_table(f"data/{dset}/text"))
    return utts[:num]


def mel_to_log_sp(mel: torch.Tensor, gl, fft_size: int) -> np.ndarray:
    """Log10-mel (T, n_mels) -> natural log of a power envelope (T, fft_size/2 + 1)
    for WORLD, by the pseudo-inverse of the mel basis (``GriffinLimVocoder.linear``)."""
    if gl.n_fft != fft_size:
        raise ValueError(f"mel n_fft {gl.n_fft} != WORLD fft_size {fft_size}")
    mag = gl.linear(mel).T  # (T, n_fft // 2 + 1), >= 1e-10
    return 2.0 * np.log(mag)


# ------------------------------------------------------------------------ (a)
def world_vocode(args: argparse.Namespace) -> dict:
    import soundfile as sf

    from espnet2_ext.metrics import vc as metrics
    from espnet2_ext.vc.world import WORLD_DEFAULTS, WorldVocoder, world_analysis
    from espnet2_ext.vc_inference import VoiceConverter

    conv = VoiceConverter(model=args.model, unpack_dir=args.unpack_dir)
    if conv.vocoder_kind != "griffin_lim":
        raise SystemExit(
            f"world_vocode needs a log-mel model vocoded by Griffin-Lim, not "
            f"{conv.vocoder_kind}"
        )
    gl = conv.vocoder
    world = WorldVocoder(**WORLD_DEFAULTS)
    wavs = read_table(args.wav_scp or f"dump/wav16k/{args.set}/wav.scp")
    texts = read_table(f"data/{args.set}/text")
    utts = select_utts(args.set, args.targets, args.num_utts)
    offset = conv.tts.target_offset
    names = (
        "real mel, Griffin-Lim",
        "real mel, WORLD (real F0)",
        "real envelope, Griffin-Lim",
        "real envelope, WORLD (real F0)",
        "predicted, Griffin-Lim",
        "predicted, WORLD (real F0)",
        "audio, WORLD analysis-synthesis",
    )
    hyps: Dict[str, List[str]] = {k: [] for k in names}
    asr = metrics.WhisperASR()
    refs = []
    for utt in utts:
        x, sr = sf.read(wavs[utt], dtype="float32")
        if x.ndim != 1 or sr != conv.sample_rate:
            raise SystemExit(f"{utt}: need mono {conv.sample_rate} Hz audio")
        src = world.analyse_source(x)
        d = conv.speaker_embedding([wavs[utt]])
        pred = conv.mel(conv.units(wavs[utt]), dvector=d)
        with torch.no_grad():
            real, _ = conv.model.feats_extract(torch.from_numpy(x)[None])
        real = real[0].float()
        # the prediction's frame t is fbank frame t + offset: keep both on the
        # fbank grid (the real mel from frame 0, the prediction from `offset`)
        env = envelope(real, args.envelope_bins)
        n = len(x)

        def gl_wav(m: torch.Tensor) -> np.ndarray:
            return gl(m, length=n).numpy()

        def world_wav(m: torch.Tensor, off: int) -> np.ndarray:
            log_sp = mel_to_log_sp(m, gl, world.feats.fft_size)
            return world.synthesize_envelope(log_sp, src, offset=off, length=n).numpy()

        out = {
            "real mel, Griffin-Lim": gl_wav(real),
            "real mel, WORLD (real F0)": world_wav(real, 0),
            "real envelope, Griffin-Lim": gl_wav(env),
            "real envelope, WORLD (real F0)": world_wav(env, 0),
            "predicted, Griffin-Lim": gl_wav(pred.float()),
            "predicted, WORLD (real F0)": world_wav(pred.float(), offset),
            "audio, WORLD analysis-synthesis": world(
                world_analysis(x, aperiodicity=False)["coded_sp"], src, length=n
            ).numpy(),
        }
        for k, w in out.items():
            w = w / max(float(np.abs(w).max()), 1e-9) * 0.9  # WORLD's gain differs
            hyps[k].append(asr.transcribe(w.astype(np.float32), conv.sample_rate))
        refs.append(texts[utt])
    wer = {k: metrics.wer(refs, h) for k, h in hyps.items()}
    for k in names:
        logging.info("%-34s Whisper WER %6.1f %%  e.g. %s", k, wer[k], hyps[k][0])
    return dict(
        check="world_vocode",
        model=args.model,
        set=args.set,
        targets=args.targets,
        utterances=len(utts),
        envelope_bins=args.envelope_bins,
        wer_whisper=wer,
    )


# ------------------------------------------------------------------------ (b)
def other_speaker_dvectors(
    utts: List[str], utt2spk: Dict[str, str], dvec: Dict[str, np.ndarray]
) -> Dict[str, np.ndarray]:
    """For each utterance, the mean d-vector (renormalised) of the next speaker in
    sorted order (cyclic) among the speakers of ``utts``."""
    spks = sorted({utt2spk[u] for u in utts})
    if len(spks) < 2:
        raise SystemExit("conditioning needs utterances of at least two speakers")
    means = {}
    for s in spks:
        m = np.mean([dvec[u] for u in dvec if utt2spk.get(u) == s], axis=0)
        means[s] = m / max(float(np.linalg.norm(m)), 1e-12)
    nxt = {s: spks[(i + 1) % len(spks)] for i, s in enumerate(spks)}
    return {u: means[nxt[utt2spk[u]]] for u in utts}


def conditioning(args: argparse.Namespace) -> dict:
    import kaldiio

    import espnet2_ext.tasks.tts  # noqa: F401
    from espnet2_ext.tasks.tts import UnitVCTTSTask
    from espnet2_ext.units.audio import load_audio

    exp = args.exp
    model, train_args = UnitVCTTSTask.build_model_from_file(
        os.path.join(exp, "config.yaml"), os.path.join(exp, args.model_file), "cpu"
    )
    model.eval()
    vc = model.tts
    tok2id = {t: i for i, t in enumerate(train_args.token_list)}
    unk = tok2id.get("<unk>", 1)
    units = read_table(args.units or f"dump/units/{args.set}/units")
    wavs = read_table(args.wav_scp or f"dump/wav16k/{args.set}/wav.scp")
    utt2spk = read_table(f"data/{args.set}/utt2spk")
    xvec = args.xvector_scp or f"dump/dvector/{args.set}/xvector.scp"
    dvec = {k: np.array(v, dtype=np.float32) for k, v in kaldiio.load_scp(xvec).items()}
    utts = [u for u in sorted(units) if u in wavs and u in dvec and u in utt2spk]
    utts = utts[: args.num_utts]
    other = other_speaker_dvectors(utts, utt2spk, dvec)
    l1 = {"own": [], "other": []}
    norms = []
    with torch.no_grad():
        for utt in utts:
            ids = torch.tensor([[tok2id.get(u, unk) for u in units[utt].split()]])
            n = torch.tensor([ids.size(1)])
            x = load_audio(wavs[utt], target_sr=16000, min_duration=0.0)[None]
            feats, flen = model.feats_extract(x, torch.tensor([x.size(1)]))
            if model.normalize is not None:
                feats, flen = model.normalize(feats, flen)
            for key, d in (("own", dvec[utt]), ("other", other[utt])):
                spembs = torch.from_numpy(np.array(d, dtype=np.float32))[None]
                pred, lengths, _ = vc.generate(ids, n, spembs=spembs)
                target, mask, _ = vc.align_target(feats, flen, lengths)
                m = mask[:, :, None].float()
                err = ((pred - target).abs() * m).sum() / (m.sum() * pred.size(-1))
                l1[key].append(float(err))
            if vc.spk_embed_dim is not None and vc.spk_embed_integration_type == "add":
                spembs = torch.from_numpy(dvec[utt])[None]
                norms.append(vc.conditioning_norms(ids, n, spembs))
    result = dict(
        check="conditioning",
        exp=exp,
        set=args.set,
        utterances=len(utts),
        frontend=vc.frontend_type,
        condition_norm=bool(getattr(vc, "condition_norm", False)),
        l1_own_dvector=float(np.mean(l1["own"])),
        l1_other_speaker_dvector=float(np.mean(l1["other"])),
    )
    if norms:
        for k in ("content", "speaker", "ratio"):
            result[f"norm_{k}"] = float(np.mean([d[k] for d in norms]))
    return result


# ------------------------------------------------------------------------ (d)
def floor_stats(mels: List[np.ndarray], floor: np.ndarray) -> dict:
    """Shares of log10-mel values and frames at ``floor`` ((n_mels,), the fbank of
    silence) in (T_i, n_mels) mels, and the per-bin std over all frames as they are
    and with each utterance floored at its maximum - 5."""
    allm = np.concatenate(mels, axis=0)
    at = allm <= np.asarray(floor)[None, :] + 1e-4
    lifted = np.concatenate([np.maximum(m, m.max() - 5.0) for m in mels], axis=0)
    std, std_lifted = allm.std(0), lifted.std(0)
    return dict(
        frames=int(allm.shape[0]),
        share_values_at_floor=float(at.mean()),
        share_frames_all_bins_at_floor=float(at.all(1).mean()),
        share_frames_half_bins_at_floor=float((at.mean(1) >= 0.5).mean()),
        share_at_floor_per_bin_max=float(at.mean(0).max()),
        per_bin_std_sampled=_summary(std),
        per_bin_std_floor_max_minus_5=_summary(std_lifted),
    )


def _summary(v: np.ndarray) -> Dict[str, float]:
    return dict(min=float(v.min()), median=float(np.median(v)), max=float(v.max()))


def stats_std(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Per-bin mean and std of ESPnet's ``collect_stats`` file (count, sum,
    sum_square)."""
    s = np.load(path)
    count = float(s["count"])
    mean = s["sum"] / count
    var = np.maximum(s["sum_square"] / count - mean**2, 0.0)
    return mean, np.sqrt(var)


def mel_floor(args: argparse.Namespace) -> dict:
    from espnet2_ext.compat import LogMelFbank
    from espnet2_ext.units.audio import load_audio
    from espnet2_ext.vc.vocoder import VC_FBANK

    keys = ("fs", "n_fft", "hop_length", "n_mels", "fmin", "fmax")
    fbank = LogMelFbank(**{k: VC_FBANK[k] for k in keys})
    wavs = read_table(args.wav_scp or f"dump/wav16k/{args.set}/wav.scp")
    mels = []
    with torch.no_grad():
        silence, _ = fbank(torch.zeros(1, 16000), torch.tensor([16000]))
        floor = silence[0].max(0).values.numpy().astype(np.float64)
        for utt in sorted(wavs)[: args.num_utts]:
            x = load_audio(wavs[utt], target_sr=16000, min_duration=0.0)[None]
            mel, _ = fbank(x, torch.tensor([x.size(1)]))
            mels.append(mel[0].numpy().astype(np.float64))
    result = dict(check="mel_floor", set=args.set, utterances=len(mels))
    result.update(floor_stats(mels, floor))
    result["floor_log10"] = _summary(floor)
    if args.stats:
        mean, std = stats_std(args.stats)
        result["stats_file"] = args.stats
        result["per_bin_std_stats"] = _summary(std)
        result["per_bin_mean_stats"] = _summary(mean)
    return result


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sub = p.add_subparsers(dest="check", required=True)
    a = sub.add_parser("world_vocode", help="(1a) Griffin-Lim against WORLD")
    a.add_argument("--model", required=True, help="packed log-mel VC model")
    a.add_argument("--envelope_bins", type=int, default=5)
    a.add_argument("--unpack_dir", default=None)
    b = sub.add_parser("conditioning", help="(1b) own against other d-vector")
    b.add_argument("--exp", required=True, help="exp/vc_<tag> (config.yaml)")
    b.add_argument("--model_file", default="valid.loss.ave.pth")
    b.add_argument("--units", default=None, help="default dump/units/<set>/units")
    b.add_argument("--xvector_scp", default=None)
    d = sub.add_parser("mel_floor", help="(1d) digital silence and statistics")
    d.add_argument("--stats", default=None, help="exp/vc_stats/train/feats_stats.npz")
    for s, dset, num in ((a, "parallel", 12), (b, "dev", 40), (d, "train", 200)):
        s.add_argument("--set", default=dset, help="data/<set>")
        s.add_argument("--wav_scp", default=None, help="default dump/wav16k/<set>")
        s.add_argument("--num_utts", type=int, default=num)
        s.add_argument("--out", default=None, help="also write the JSON here")
    a.add_argument(
        "--targets",
        default="pairs",
        choices=("pairs", "all"),
        help="pairs: the targets of data/<set>/pairs; all: data/<set>'s utterances",
    )
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    run = dict(
        world_vocode=world_vocode, conditioning=conditioning, mel_floor=mel_floor
    )
    result = run[args.check](args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
