"""Compression of unit sequences: cross-attention fusion and ESPnet frontends."""
