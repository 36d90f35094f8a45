"""The stationary state variance of the simulated noise (issue 13, item 9).

A leaky unit with no recurrence, input or feedback under Euler-Maruyama follows
x[t+1] = (1 - a) x[t] + sigma sqrt(a) xi[t] (a = dt / tau), an AR(1) process whose
stationary variance is sigma**2 / (2 - a), not the flow's sigma**2 / 2.
"""

import numpy as np
import pytest

import reservoir as rs


def _silent_network(N, dt):
    """J = 0, no input, feedback or bias: every unit is an independent leaky integrator."""
    return rs.Network(J=np.zeros((N, N)), W_in=np.zeros((N, 1)), W_fb=np.zeros((N, 1)),
                      W_out=np.zeros((1, N)), b=np.zeros(N), tau=1.0, dt=dt)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.1])
def test_stationary_noise_variance_is_sigma2_over_2_minus_alpha(alpha):
    sigma, N, T = 0.3, 400, 4000
    burn = int(np.ceil(40 / alpha))  # (1 - alpha)**(2 burn) < 1e-16 of the start
    traj = rs.simulate(_silent_network(N, alpha), n_steps=burn + T, mode="open",
                       noise_std=sigma, rng=1, record=("x",))
    x = traj.x[burn:]
    v_hat = np.mean(x ** 2)  # the mean is 0 by symmetry: no estimate of it needed
    v = sigma ** 2 / (2 - alpha)
    # standard error of the mean of x^2 for N independent Gaussian AR(1) series of length T
    # with coefficient rho = 1 - alpha: Var(x^2) = 2 v^2, lag-k correlation of x^2 = rho^(2k)
    rho2 = (1 - alpha) ** 2
    se = v * np.sqrt(2 * (1 + rho2) / (1 - rho2) / (N * T))
    assert abs(v_hat - v) < 5 * se, (v_hat, v, se)
    # the continuous-time value sigma^2 / 2 is rejected at every alpha tested
    assert abs(v_hat - sigma ** 2 / 2) > 10 * se
    # the lag-1 autocorrelation is that of the AR(1) map too
    r1 = np.mean(x[1:] * x[:-1]) / v_hat
    assert abs(r1 - (1 - alpha)) < 0.01
