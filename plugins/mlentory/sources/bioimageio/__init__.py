"""The AI4Life / BioImage Model Zoo: its client and hook, harvest, and property mapping."""
