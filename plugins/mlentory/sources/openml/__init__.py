"""OpenML: its client and hook, harvesting, and its mapping onto FAIR4ML."""
