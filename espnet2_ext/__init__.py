"""espnet2_ext: entropy-based compression of discrete speech units for ESPnet.

Importing the package registers its frontends (``entropy_compress``, ``fixed_pool``)
in ESPnet's MT-task frontend choices.
"""

__version__ = "0.1.0"

from espnet2_ext import tasks  # noqa: E402,F401  (registration side effect)
