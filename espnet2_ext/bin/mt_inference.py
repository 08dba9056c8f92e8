#!/usr/bin/env python3
"""``espnet2.bin.mt_inference`` with the espnet2_ext frontends registered.

Usage is exactly ESPnet's: ``python -m espnet2_ext.bin.mt_inference --help``.
"""

import espnet2_ext  # noqa: F401  (registers the frontends)
from espnet2.bin.mt_inference import get_parser, main  # noqa: F401

if __name__ == "__main__":
    main()
