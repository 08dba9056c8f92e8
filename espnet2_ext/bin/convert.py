#!/usr/bin/env python3
"""Convert one utterance to another voice with a packed unit-to-mel VC model.

    python -m espnet2_ext.bin.convert --model exp/vc_dense/packed.zip \\
        --source in.wav --target-speaker ref.wav --out out.wav

The source's units (as ``transcribe`` makes them) and the Resemblyzer d-vector of the
target-speaker audio (several ``--target-speaker`` files are averaged, as the recipe's
speaker means) -> the model's features -> the vocoder they take: WORLD for a model of
the WORLD envelope (``feats_extract: world``; the source's F0, mapped to the log-F0
mean and variance of the ``--target-speaker`` audio, and its aperiodicity), else, for
a log-mel model, Griffin-Lim, or a HiFi-GAN trained on the same features
(``--vocoder_file``: ParallelWaveGAN's ``checkpoint-*.pkl`` or an ESPnet GAN-TTS
``.pth``, with its ``config.yml`` / ``config.yaml`` next to it or
``--vocoder_config``; see :func:`espnet2_ext.vc.vocoder.load_hifigan`) -> ``--out``
(16 kHz mono, 16-bit; the format follows the extension: .wav, .flac, ...). Any format
libsndfile reads, any sample rate and channel count in. See
:class:`espnet2_ext.vc_inference.VoiceConverter`.

Exit status, as ``transcribe``'s:

* 0: converted, ``--out`` written (its path is printed);
* 1: the model (or the vocoder) could not be loaded, or the source or target-speaker
  audio could not be used (missing, unreadable, too short, ...: the message says which
  and why);
* 2: bad options.

(``transcribe``'s 3, some inputs skipped, does not occur: there is one source.)
"""

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Convert an utterance to the voice of a target speaker with a "
        "packed discrete-unit VC model",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--model",
        required=True,
        help="packed VC model (espnet2_ext.bin.pack_model --vc_train_config, vc.sh "
        "stage 13) or its unpacked directory",
    )
    p.add_argument("--source", required=True, help="the speech to convert")
    p.add_argument(
        "--target-speaker",
        "--target_speaker",
        dest="target_speaker",
        required=True,
        nargs="+",
        help="audio of the target voice (several files: their d-vectors averaged)",
    )
    p.add_argument(
        "--out", required=True, help="output audio file (.wav, .flac, ...: 16 kHz)"
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:0, ...")
    p.add_argument(
        "--griffin_lim_iters",
        "--griffin-lim-iters",
        dest="griffin_lim_iters",
        type=int,
        default=32,
        help="Griffin-Lim iterations (log-mel models without --vocoder_file)",
    )
    p.add_argument(
        "--vocoder_file",
        "--vocoder-file",
        dest="vocoder_file",
        default=None,
        help="a HiFi-GAN checkpoint trained on the model's features (ParallelWaveGAN "
        "checkpoint-*.pkl or an ESPnet GAN-TTS .pth) instead of Griffin-Lim",
    )
    p.add_argument(
        "--vocoder_config",
        "--vocoder-config",
        dest="vocoder_config",
        default=None,
        help="its config (default: config.yml or config.yaml next to it)",
    )
    p.add_argument("--num_threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--min_duration", type=float, default=0.1, help="seconds")
    p.add_argument(
        "--max_duration",
        type=float,
        default=None,
        help="seconds; longer inputs are refused (from their header, undecoded). The "
        "units' extractor may be stricter for the source (Whisper: 30 s)",
    )
    p.add_argument(
        "--unpack_dir",
        default=None,
        help="where to unpack an archive (default: a temporary directory)",
    )
    p.add_argument(
        "--trust_remote_pickle",
        action="store_true",
        help="also load legacy pickled model files (runs code stored in them)",
    )
    p.add_argument(
        "--log_level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
    )
    return p


def _output_format(path: str) -> Optional[str]:
    """The libsndfile format of an output path's extension, or None if unknown."""
    import soundfile as sf

    ext = Path(path).suffix.lstrip(".").upper()
    return ext if ext and ext in sf.available_formats() else None


def write_audio(path: str, wav, sample_rate: int) -> None:
    """16-bit audio in the format of the extension, written atomically."""
    import soundfile as sf

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        sf.write(tmp, wav, sample_rate, subtype="PCM_16", format=_output_format(path))
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def main(cmd: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(cmd)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    if args.griffin_lim_iters < 1:
        logging.error("--griffin_lim_iters must be >= 1")
        return EXIT_USAGE
    if args.vocoder_config is not None and args.vocoder_file is None:
        logging.error("--vocoder_config needs --vocoder_file")
        return EXIT_USAGE
    if _output_format(args.out) is None:
        logging.error(
            "--out %s: unknown audio format (use an extension libsndfile writes: "
            ".wav, .flac, .ogg, ...)",
            args.out,
        )
        return EXIT_USAGE
    if os.path.isdir(args.out):
        logging.error("--out %s is a directory: give a file name", args.out)
        return EXIT_USAGE
    import torch

    from espnet2_ext.units.audio import AudioError
    from espnet2_ext.vc_inference import ModelLoadError, VoiceConverter

    if args.num_threads is not None:
        torch.set_num_threads(args.num_threads)
    try:
        vc = VoiceConverter(
            model=args.model,
            unpack_dir=args.unpack_dir,
            device=args.device,
            trust_pickle=args.trust_remote_pickle,
            griffin_lim_iters=args.griffin_lim_iters,
            min_duration=args.min_duration,
            max_duration=args.max_duration,
            vocoder_file=args.vocoder_file,
            vocoder_config=args.vocoder_config,
        )
    except (ModelLoadError, ValueError) as e:
        logging.error("cannot load the model: %s", e)
        return EXIT_FAILED

    try:
        dvector = vc.speaker_embedding(args.target_speaker)
    except AudioError as e:
        logging.error("cannot use the target-speaker audio: %s", e)
        return EXIT_FAILED
    try:
        wav, sr = vc(args.source, dvector=dvector)
    except AudioError as e:
        logging.error("cannot convert the source: %s", e)
        return EXIT_FAILED
    except (RuntimeError, ValueError) as e:
        logging.error(
            "conversion of %s failed: %s: %s", args.source, type(e).__name__, e
        )
        return EXIT_FAILED
    try:
        write_audio(args.out, wav, sr)
    except (OSError, RuntimeError) as e:  # soundfile's LibsndfileError: RuntimeError
        logging.error("cannot write %s: %s", args.out, e)
        return EXIT_FAILED
    logging.info("%s -> %s (%.2f s at %d Hz)", args.source, args.out, len(wav) / sr, sr)
    print(args.out)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
