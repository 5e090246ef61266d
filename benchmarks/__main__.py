import sys

from benchmarks.run import main

sys.exit(1 if main().mismatches else 0)
