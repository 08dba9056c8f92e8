"""Voice conversion: the unit-to-mel model (``tts: unit_vc``) and the vocoder."""
