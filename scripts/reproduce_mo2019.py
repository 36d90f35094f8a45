"""Reproduce the stability figures of Mastrogiuseppe & Ostojic (2019), theory beside simulation.

    python scripts/reproduce_mo2019.py [--out DIR] [--quick] [--threads N]

A thin wrapper of :func:`reservoir.reproduce.mo2019.main` (the figures and the JSON file are
described there); progress and the summary line are shown on stderr.
"""

import logging
import os

# One thread for BLAS unless the caller says otherwise (set before NumPy loads its BLAS;
# ``--threads`` sets the count the run uses)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from reservoir.reproduce import mo2019  # noqa: E402

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    mo2019.main()
