"""Small helpers shared by the tests."""

import pytest


def assert_rejects(func, base: dict, override: dict, exc, word: str):
    """Call ``func(**{**base, **override})`` and expect ``exc`` with ``word`` in the message
    (the name of the offending argument)."""
    kwargs = dict(base)
    kwargs.update(override)
    with pytest.raises(exc, match=word):
        func(**kwargs)


def closed_loop_states_numpy(net, U):
    """States (B, T, N) of the closed loop from x = 0 under inputs ``U`` (B, T, M), by the
    plain NumPy batch loop ``euler.run_dense_batch_numpy`` (dense ``J``, tanh); asserts it
    ran without divergence."""
    import numpy as np
    from reservoir._kernels import euler
    B, T, _ = U.shape
    N, K = net.N, net.n_outputs
    X = np.zeros((B, N))
    out = np.empty((B, T, N))
    status = euler.run_dense_batch_numpy(
        net.J.T, np.ascontiguousarray(net.W_in.T), np.ascontiguousarray(net.W_fb.T),
        np.ascontiguousarray(net.W_out.T), net.b, net.alpha, 0, 2, X, U,
        np.empty((B, 0, K)), np.empty((B, 0, N)), 0.0, out, np.empty((B, 0, N)),
        np.empty((B, 0, K)))
    assert status == -1
    return out
