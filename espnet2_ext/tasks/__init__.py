"""ESPnet task registration (importing this module registers our classes)."""

from espnet2_ext.tasks.mt import CompressMTTask  # noqa: F401
