"""What the simulate docs promise for a batched trial (issue 13, item 5): it agrees with
the trial run alone to rounding, not bit for bit."""

import numpy as np

import reservoir as rs


def test_batched_trial_agrees_with_the_trial_alone_to_rounding():
    rng = np.random.default_rng(0)
    net = rs.random_network(150, 0.5, 1, 1, rng=1)            # contracting: g < 1
    U = rng.uniform(-1, 1, (3, 200, 1))
    alone = rs.simulate(net, U[1], mode="open").x
    batch = rs.simulate(net, U, mode="open").x[1]
    # one step: |difference| within the error bound of the two dot products (N eps) of
    # alpha * sum_j |J_ij r_j| (Higham, Accuracy and Stability, eq. 3.5)
    r = np.tanh(alone[:-1])
    bound = 2 * 150 * np.finfo(float).eps * net.alpha * (np.abs(net.dense_J()) @ np.abs(r.T)).T
    step = np.abs(rs.simulate(net, U[1:2, :1], x0=alone[None, 0], mode="open").x_final
                  - rs.simulate(net, U[1, :1], x0=alone[0], mode="open").x_final)
    assert np.all(step <= bound[0] + 1e-300)
    # and in a contracting network the difference stays at the rounding level
    assert np.max(np.abs(batch - alone)) <= 1e-13 * max(1.0, np.max(np.abs(alone)))
