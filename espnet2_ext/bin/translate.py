#!/usr/bin/env python3
"""Translate audio files with a packed discrete-unit speech translation model.

    python -m espnet2_ext.bin.translate --model exp/st_entropy_rate15/packed.zip a.wav
    python -m espnet2_ext.bin.translate --model unpacked_dir/ --output hyp.tsv *.wav

Prints one ``path<TAB>translation`` line per file, in the order given. The audio ->
units path (:mod:`espnet2_ext.units.speech2units`), the model loading and decoding
(:class:`espnet2_ext.asr_inference.Speech2Text`), the options, the skipped files and
the exit status are those of :mod:`espnet2_ext.bin.transcribe`, which this entry point
runs with the translation defaults: ``--ctc_weight 0`` (the models have no CTC) and
``--maxlenratio 1.5``.

Exit status: 0 every file translated; 1 none, or the model could not be loaded; 2 bad
options; 3 some files translated and some skipped (the log says which and why).
"""

import sys
from typing import Optional, Sequence

from espnet2_ext.bin.transcribe import main as _main


def main(cmd: Optional[Sequence[str]] = None) -> int:
    return _main(cmd, task="translate")


if __name__ == "__main__":
    sys.exit(main())
