"""Benchmarks: each case a ratio of our time to a baseline measured in the same run."""
