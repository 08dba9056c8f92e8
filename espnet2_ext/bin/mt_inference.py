#!/usr/bin/env python3
"""``espnet2.bin.mt_inference`` with the espnet2_ext frontends registered.

Usage is ESPnet's (``python -m espnet2_ext.bin.mt_inference --help``), except that
checkpoints are read with ``torch.load(weights_only=True)`` and must fit the model
built from the config (ESPnet: ``strict=False``, and ``weights_only=False`` under
``ESPNET_ALLOW_UNSAFE_TORCH_LOAD=1``); give
``--trust_remote_pickle`` to allow ``weights_only=False`` for a checkpoint you trust.
"""

import sys
from typing import List, Optional

import espnet2_ext  # noqa: F401  (registers the frontends)
from espnet2_ext.compat import mt_inference_get_parser as get_parser  # noqa: F401
from espnet2_ext.compat import mt_inference_main as _espnet_main
from espnet2_ext.utils.checkpoint import use_safe_espnet_loaders

TRUST_FLAG = "--trust_remote_pickle"


def main(cmd: Optional[List[str]] = None) -> None:
    """ESPnet's ``mt_inference.main`` with the safe checkpoint loaders."""
    argv = list(sys.argv[1:] if cmd is None else cmd)
    trust = TRUST_FLAG in argv
    argv = [a for a in argv if a != TRUST_FLAG]
    use_safe_espnet_loaders(trust_pickle=trust)
    _espnet_main(argv)


if __name__ == "__main__":
    main()
