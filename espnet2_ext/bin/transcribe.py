#!/usr/bin/env python3
"""Transcribe audio files with a packed discrete-unit ASR model (``translate``: the
same with a speech translation model; both share this module).

    python -m espnet2_ext.bin.transcribe --model exp/asr_x/packed.zip a.wav b.flac ...
    python -m espnet2_ext.bin.transcribe --model unpacked_dir/ --output hyp.tsv *.wav

Prints one ``path<TAB>text`` line per file, in the order given (to ``--output`` if
set). Any format libsndfile reads, any sample rate and channel count (resampled to
16 kHz, mixed down). Files that cannot be used (missing, empty, unreadable, headerless,
too short, too long for ``--max_duration`` or for the units' extractor -- Whisper
encodes at most 30 s -- NaN samples, ...) are skipped with a warning naming the reason;
a long file is refused from its header, before it is decoded. One bad file never stops
the others, and a summary of the skipped files by reason is logged at the end.

Exit status, for scripts that call it:

* 0: every file was transcribed;
* 1: no file could be transcribed, or the model could not be loaded;
* 2: bad options;
* 3: some files were transcribed and some skipped (the lines written are valid; the
  log says which files were skipped and why).
"""

import argparse
import logging
import sys
from typing import List, Optional, Sequence

from espnet2_ext.utils.shards import Tally

REASON_DECODE = "decode_failed"
REASON_FEATURES = "feature_extraction_failed"
EXIT_PARTIAL = 3


# what differs between the entry points: their description and decoding defaults.
# A speech translation model has no CTC (conf/st.yaml) and its output length is not
# bounded by its input's (conf/decode_st.yaml).
TASKS = {
    "transcribe": dict(
        description="Transcribe audio files with a packed discrete-unit ASR model",
        ctc_weight=0.3,
        maxlenratio=3.0,
    ),
    "translate": dict(
        description="Translate audio files with a packed discrete-unit speech "
        "translation model (path<TAB>translation lines)",
        ctc_weight=0.0,
        maxlenratio=1.5,
    ),
}


def get_parser(task: str = "transcribe") -> argparse.ArgumentParser:
    defaults = TASKS[task]
    p = argparse.ArgumentParser(
        description=defaults["description"],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--model",
        required=True,
        help="packed model (archive from espnet2_ext.bin.pack_model) or its "
        "unpacked directory",
    )
    p.add_argument("audio", nargs="+", help="audio files")
    p.add_argument(
        "--output",
        default=None,
        help="write the path<TAB>text lines here " "instead of standard output",
    )
    p.add_argument("--beam_size", type=int, default=10)
    p.add_argument(
        "--ctc_weight",
        type=float,
        default=defaults["ctc_weight"],
        help="ignored (0) for a model without CTC",
    )
    p.add_argument(
        "--maxlenratio",
        type=float,
        default=defaults["maxlenratio"],
        help="max output length / encoder length (> 0)",
    )
    p.add_argument("--minlenratio", type=float, default=0.0)
    p.add_argument("--penalty", type=float, default=0.0)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:0, ...")
    p.add_argument(
        "--num_threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's); 1 is fastest for small models",
    )
    p.add_argument(
        "--batch_size", type=int, default=8, help="files per feature-extraction batch"
    )
    p.add_argument("--min_duration", type=float, default=0.1, help="seconds")
    p.add_argument(
        "--max_duration",
        type=float,
        default=None,
        help="seconds; longer files are skipped (from their header, undecoded). The "
        "units' extractor may be stricter (Whisper: 30 s)",
    )
    p.add_argument(
        "--unpack_dir",
        default=None,
        help="where to unpack an archive (default: a temporary directory); "
        "members with absolute or '..' paths, outside links or special files "
        "are refused",
    )
    p.add_argument(
        "--trust_remote_pickle",
        action="store_true",
        help="also load legacy pickled model files (joblib k-means, checkpoints "
        "that torch.load(weights_only=True) refuses): runs code stored in them, "
        "only for models you trust",
    )
    p.add_argument(
        "--log_level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
    )
    return p


def transcribe_files(s2t, paths: Sequence[str], tally: Tally, batch_size: int = 8):
    """Yield ``(path, text)`` in input order; unusable files go to ``tally.skip``."""
    import torch

    from espnet2_ext.units.audio import AudioError

    for start in range(0, len(paths), batch_size):
        chunk = paths[start : start + batch_size]
        wavs: List[Optional[torch.Tensor]] = []
        for path in chunk:
            tally.add_in()
            try:
                wavs.append(s2t.load_waveform(path))
            except AudioError as e:
                tally.skip(path, e.reason, e.detail)
                wavs.append(None)
        ok = [i for i, w in enumerate(wavs) if w is not None]
        try:
            units = dict(zip(ok, s2t.units_batch([wavs[i] for i in ok])))
        except Exception:  # retry one by one to find the culprit
            units = {}
            for i in ok:
                try:
                    units[i] = s2t.units_batch([wavs[i]])[0]
                except AudioError as e:
                    tally.skip(chunk[i], e.reason, e.detail)
                except Exception as e:  # one bad file must not stop the others
                    first = (str(e).splitlines() or [""])[0]
                    tally.skip(
                        chunk[i], REASON_FEATURES, f"{type(e).__name__}: {first}"
                    )
        for i in sorted(units):
            try:
                text = s2t.units_to_text(units[i])
            except Exception as e:  # one bad utterance must not stop the others
                tally.skip(chunk[i], REASON_DECODE, f"{type(e).__name__}: {e}")
                continue
            tally.add_out()
            yield chunk[i], text


def main(cmd: Optional[Sequence[str]] = None, task: str = "transcribe") -> int:
    """The command line of ``transcribe`` (``task="transcribe"``) or ``translate``."""
    args = get_parser(task).parse_args(cmd)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    if args.maxlenratio <= 0:
        logging.error("--maxlenratio must be > 0")
        return 2
    import torch

    from espnet2_ext.asr_inference import ModelLoadError, Speech2Text

    if args.num_threads is not None:
        torch.set_num_threads(args.num_threads)

    try:
        s2t = Speech2Text(
            model=args.model,
            unpack_dir=args.unpack_dir,
            device=args.device,
            trust_pickle=args.trust_remote_pickle,
            beam_size=args.beam_size,
            ctc_weight=args.ctc_weight,
            maxlenratio=args.maxlenratio,
            minlenratio=args.minlenratio,
            penalty=args.penalty,
            min_duration=args.min_duration,
            max_duration=args.max_duration,
            feature_batch_size=args.batch_size,
        )
    except (ModelLoadError, ValueError) as e:
        logging.error("cannot load the model: %s", e)
        return 1

    tally = Tally(task)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        for path, text in transcribe_files(s2t, args.audio, tally, args.batch_size):
            out.write(f"{path}\t{text}\n")
            out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    logging.info("%s", tally.summary())
    if tally.n_skipped:  # a warning: shown at the default log level
        logging.warning(
            "skipped %d of %d files: %s",
            tally.n_skipped,
            tally.n_in,
            ", ".join(f"{r}={n}" for r, n in sorted(tally.skipped.items())),
        )
    if tally.n_out == 0:
        logging.error("no file could be %sd", task)
        return 1
    return EXIT_PARTIAL if tally.n_skipped else 0


if __name__ == "__main__":
    sys.exit(main())
