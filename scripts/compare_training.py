"""Readout-only training (ridge, FORCE) against BPTT on the same tasks: figures and JSON.

    python scripts/compare_training.py [--out DIR] [--quick] [--tasks xor and_ or_]
                                       [--inits orthogonal normal] [--n-networks K]
                                       [--dtype float32]

A thin wrapper of :func:`reservoir.reproduce.training_comparison.main` (the figures and the
JSON file are described there); the tables and progress are shown on stderr.
"""

import logging

from reservoir.reproduce import training_comparison

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    training_comparison.main()
