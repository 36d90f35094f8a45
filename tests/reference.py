"""Plain-NumPy reference implementations the Numba kernels are tested against.

Written for clarity, one time step at a time, with no shared code from the package
besides the network container.
"""

import numpy as np

PHI = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: np.exp(-np.logaddexp(0.0, -x)),  # 1 / (1 + exp(-x)), stable
}


def simulate_reference(net, U, x0, mode, Y=None, noise=None, noise_std=0.0):
    """One trial: U (T, M), x0 (N,), Y (T, K); noise (T, N) standard normal or None.

    Returns x (T, N), r (T, N), z (T, K), x_final (N,).
    """
    J = net.J.toarray() if net.is_sparse else np.asarray(net.J)
    phi = PHI[net.phi]
    a = net.dt / net.tau
    T = U.shape[0]
    x = np.array(x0, dtype=float)
    xs, rs, zs = [], [], []
    for t in range(T):
        r = phi(x)
        z = net.W_out @ r
        xs.append(x.copy())
        rs.append(r)
        zs.append(z)
        if mode == "closed":
            f = z
        elif mode == "teacher":
            f = Y[t]
        else:
            f = np.zeros(net.n_outputs)
        x = (1 - a) * x + a * (J @ r + net.W_in @ U[t] + net.W_fb @ f + net.b)
        if noise is not None:
            x = x + noise_std * np.sqrt(a) * noise[t]
    return np.array(xs), np.array(rs), np.array(zs), x


def force_reference(net, U, Y, x0, reg, update_every):
    """Textbook FORCE (Sussillo & Abbott ordering) with explicit N x N algebra."""
    J = net.J.toarray() if net.is_sparse else np.asarray(net.J)
    phi = PHI[net.phi]
    a = net.dt / net.tau
    N = net.N
    W = np.array(net.W_out, dtype=float)
    P = np.eye(N) / reg
    x = np.array(x0, dtype=float)
    e_minus, e_plus = [], []
    for t in range(U.shape[0]):
        r = phi(x)
        z = W @ r
        if t > 0 and t % update_every == 0:
            Pr = P @ r
            P = P - np.outer(Pr, Pr) / (1 + r @ Pr)
            e = z - Y[t]
            W = W - np.outer(e, P @ r)
            e_minus.append(e)
            e_plus.append(W @ r - Y[t])
        x = (1 - a) * x + a * (J @ r + net.W_in @ U[t] + net.W_fb @ z + net.b)
    return W, P, x, np.array(e_minus), np.array(e_plus)
