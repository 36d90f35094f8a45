"""Benchmark reservoir against JAX, SciPy and reservoirpy: a thin wrapper of
:func:`reservoir.benchmark.main` (also ``reservoir benchmark`` and
``python -m reservoir.benchmark``).

    python scripts/benchmark.py [--quick] [--only dense,force] [--mode one-core|two-core|both]
                                [--blas-override both|set|unset] [--repeats 3] [--json FILE]

See ``python scripts/benchmark.py --help`` and the docstring of :mod:`reservoir.benchmark`.
"""

import sys

from reservoir.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
