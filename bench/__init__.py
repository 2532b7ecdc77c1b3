"""Benchmarks: `python bench/delivery.py` (see bench/README.md)."""
