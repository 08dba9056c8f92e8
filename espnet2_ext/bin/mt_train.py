#!/usr/bin/env python3
"""``espnet2.bin.mt_train`` with the espnet2_ext frontends registered.

Usage is exactly ESPnet's: ``python -m espnet2_ext.bin.mt_train --help``.
"""

from espnet2_ext.tasks.mt import CompressMTTask


def get_parser():
    return CompressMTTask.get_parser()


def main(cmd=None):
    """Run ESPnet's MT trainer (also used for ``model: discrete_asr``)."""
    CompressMTTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
