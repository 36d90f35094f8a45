"""Numba kernels (private). Each one has a plain-NumPy reference in ``tests/reference.py``.

Kernels take only arrays and scalars. Conventions shared by all of them:

* ``mode``: 0 = open loop (nothing fed back), 1 = teacher forcing (``Y[t]`` fed back),
  2 = closed loop (``z[t] = W_out phi(x[t])`` fed back).
* Recording arrays with a zero-length time axis are not written (recording off).
* The return value is -1 on success, or the index ``t`` of the first step whose update
  produced a non-finite state (the caller raises ``SimulationDivergedError``).
"""

MODE_CODES = {"open": 0, "teacher": 1, "closed": 2}
