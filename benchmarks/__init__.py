"""Benchmark harness (see benchmarks/README.md)."""
