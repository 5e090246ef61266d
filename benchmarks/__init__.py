"""Benchmark harness of issue 6 (see benchmarks/README.md)."""
