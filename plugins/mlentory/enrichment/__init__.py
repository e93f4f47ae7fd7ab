"""Identification of entities shared by every source: licenses (SPDX), languages, arXiv articles."""
