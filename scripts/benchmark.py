"""Benchmark the simulation per network size and write results/benchmark.md.

Same as `stdp-mnist bench`; run `python scripts/benchmark.py --help` for options.
"""

import sys

from stdp_mnist.cli import main

if __name__ == "__main__":
    main(["bench", *sys.argv[1:]], prog_name="scripts/benchmark.py")
