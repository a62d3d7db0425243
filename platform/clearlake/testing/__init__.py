"""Helpers that tests and benchmarks share: synthesised history, work counters."""
