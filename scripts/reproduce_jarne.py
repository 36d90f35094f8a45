"""Reproduce Jarne's spectra and dynamics of BPTT-trained networks (figures and JSON).

    python scripts/reproduce_jarne.py [--out DIR] [--quick] [--threads N]

A thin wrapper of :func:`reservoir.reproduce.jarne.main` (the figures and the JSON file are
described there); progress and the summary line are shown on stderr.
"""

import logging
import os

# One thread for BLAS unless the caller says otherwise (set before NumPy loads its BLAS;
# ``--threads`` sets the count the run uses)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from reservoir.reproduce import jarne  # noqa: E402

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    jarne.main()
