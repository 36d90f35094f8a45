"""Numba kernels (private). Each one has a plain-NumPy reference in ``tests/reference.py``
(or, for the batched dense run, :func:`.euler.run_dense_batch_numpy`).

Kernels take only arrays, scalars and one bundle. Conventions shared by all of them:

* The network's arrays arrive as one :class:`.arrays.NetworkArrays` (a ``NamedTuple`` of
  ``J``, the CSR ``data``/``indices``/``indptr``, ``W_in``, ``W_fb``, ``W_out``, ``b``),
  built only by :func:`.arrays.network_arrays` and read inside the kernels by field name,
  so that no two weight matrices can be swapped by position. Its dtypes are the builder's
  (float64 or float32 weights, int32/int64/uint32 indices); scratch arrays take the dtype
  of the state they hold.
* Scalar settings stay separate positional arguments (our choice: few, and each kernel
  needs a different subset), always in this order right after the bundle: ``alpha``
  (``dt / tau``, a float), ``code`` (nonlinearity, see
  :data:`reservoir.nonlinearities.CODES`), ``mode`` (simulation kernels only); the noise
  scale follows the noise array. ``code`` and ``mode`` are both small integers, so their
  order is the one positional convention left: every kernel keeps it, and only
  :mod:`reservoir._simulate` and :mod:`reservoir.train` call the kernels.
* ``mode``: 0 = open loop (nothing fed back), 1 = teacher forcing (``Y[t]`` fed back),
  2 = closed loop (``z[t] = W_out phi(x[t])`` fed back).
* Recording arrays with a zero-length time axis are not written (recording off).
* The return value is -1 on success, or the index ``t`` of the first step whose update
  produced a non-finite state (the caller raises ``SimulationDivergedError``).
"""

MODE_CODES = {"open": 0, "teacher": 1, "closed": 2}
