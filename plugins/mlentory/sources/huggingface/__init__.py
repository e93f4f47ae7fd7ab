"""The HuggingFace Hub source: harvest (``extraction``), FAIR4ML mapping (``properties``, ``transformation``)."""
