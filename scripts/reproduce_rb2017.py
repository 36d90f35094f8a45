"""Reproduce the local-dynamics results of Rivkind & Barak (2017), theory beside simulation.

    python scripts/reproduce_rb2017.py [--out DIR] [--quick] [--threads N]

A thin wrapper of :func:`reservoir.reproduce.rb2017.main` (the figures and the JSON file are
described there); progress and the summary line are shown on stderr.
"""

import logging
import os

# One thread for BLAS unless the caller says otherwise (set before NumPy loads its BLAS;
# ``--threads`` sets the count the run uses)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from reservoir.reproduce import rb2017  # noqa: E402

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rb2017.main()
