#!/usr/bin/env python3
"""``espnet2.bin.tts_train`` with the espnet2_ext VC model (``--tts unit_vc``).

Usage is exactly ESPnet's: ``python -m espnet2_ext.bin.tts_train --help``.
"""

from espnet2_ext.tasks.tts import UnitVCTTSTask


def get_parser():
    return UnitVCTTSTask.get_parser()


def main(cmd=None):
    """Run ESPnet's TTS trainer."""
    UnitVCTTSTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
